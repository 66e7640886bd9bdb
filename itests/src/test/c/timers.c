/* setitimer/SIGALRM interrupting blocking calls. The EINTR-vs-restart outcome of each call is
 * fixed by POSIX/Linux semantics, so the output is deterministic:
 *   nanosleep: always EINTR (never restarted, even with SA_RESTART), with remaining time > 0
 *   pause:     always EINTR
 *   read on an empty pipe: EINTR without SA_RESTART; restarted with SA_RESTART (the handler
 *              writes one byte, which the restarted read returns)
 *   a periodic ITIMER_REAL delivers a counted number of SIGALRMs while we sigsuspend.
 * The timer is periodic (100 ms) while a call blocks: if a slow tracer lets the first tick land
 * before the call has begun, the next tick still interrupts it. So only outcomes are printed,
 * never how many ticks it took. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;
static int pipefd[2];

static void on_alarm(int sig) {
    (void)sig;
    alarms++;
    int saved = errno;
    (void)!write(pipefd[1], "x", 1);
    errno = saved;
}

static void arm(int restart, long usec) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, usec}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm(void) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
}

static void drain(void) {
    char buf[64];
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    int fl = fcntl(pipefd[0], F_GETFL);
    fcntl(pipefd[0], F_SETFL, fl | O_NONBLOCK);
    while (read(pipefd[0], buf, sizeof buf) > 0) {}
    fcntl(pipefd[0], F_SETFL, fl);
}

int main(void) {
    if (pipe(pipefd) != 0) { perror("pipe"); return 1; }
    int eintr = 0;

    arm(0, 100000);
    struct timespec req = {30, 0}, rem = {0, 0};
    int rc = nanosleep(&req, &rem);
    disarm();
    if (rc == -1 && errno == EINTR) eintr++;
    printf("nanosleep: rc=%d errno=%s remaining>0=%d handler ran=%d\n", rc, rc ? strerrorname_np(errno) : "0",
           rem.tv_sec > 0 || rem.tv_nsec > 0, alarms > 0);

    arm(1, 100000);   /* SA_RESTART does not restart nanosleep either */
    rc = nanosleep(&req, &rem);
    disarm();
    if (rc == -1 && errno == EINTR) eintr++;
    printf("nanosleep+SA_RESTART: rc=%d errno=%s\n", rc, rc ? strerrorname_np(errno) : "0");

    arm(0, 100000);
    rc = pause();
    disarm();
    if (rc == -1 && errno == EINTR) eintr++;
    printf("pause: rc=%d errno=%s\n", rc, strerrorname_np(errno));

    int p2[2];
    if (pipe(p2) != 0) { perror("pipe"); return 1; }
    char c;
    arm(0, 100000);
    ssize_t n = read(p2[0], &c, 1);   /* nothing is ever written to p2 */
    disarm();
    if (n == -1 && errno == EINTR) eintr++;
    printf("read: n=%zd errno=%s\n", n, n < 0 ? strerrorname_np(errno) : "0");

    drain();
    arm(1, 100000);
    n = read(pipefd[0], &c, 1);       /* restarted after the handler wrote 'x' into pipefd */
    disarm();
    if (n == -1 && errno == EINTR) eintr++;
    printf("read+SA_RESTART: n=%zd byte=%c\n", n, n == 1 ? c : '?');

    /* periodic timer: 5 ticks of 20 ms, counted with SIGALRM blocked outside sigsuspend */
    drain();
    sigset_t block, old;
    sigemptyset(&block); sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, &old);
    arm(1, 20000);
    int start = alarms;
    while (alarms - start < 5) sigsuspend(&old);
    disarm();
    int ticks = alarms - start;
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("periodic: ticks=%d\n", ticks);

    printf("EINTR count=%d\n", eintr);
    return 0;
}
