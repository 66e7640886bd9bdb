/* Signal handlers: SA_SIGINFO details (si_code, si_pid), blocked+pending signals, handler
 * masks, a signal sent by a child to its parent, sigaltstack, and SIGCHLD. Deterministic. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2, chld, on_alt;
static volatile pid_t last_sender;
static volatile int last_code;
static char altstack[64 * 1024];

static void on_info(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    if (sig == SIGUSR1) usr1++;
    if (sig == SIGUSR2) usr2++;
    last_sender = si->si_pid;
    last_code = si->si_code;
    char here;
    on_alt = (&here >= altstack && &here < altstack + sizeof altstack);
}

static void on_chld(int sig) { (void)sig; chld++; }

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_flags |= SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sc;
    memset(&sc, 0, sizeof sc);
    sc.sa_handler = on_chld;
    sc.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sc, NULL);

    kill(getpid(), SIGUSR1);
    printf("kill self: usr1=%d sender_is_me=%d code_is_SI_USER=%d\n", (int)usr1, last_sender == getpid(), last_code == SI_USER);

    raise(SIGUSR2);
    printf("raise USR2 on altstack: usr2=%d on_alt=%d code_is_SI_TKILL=%d\n", (int)usr2, (int)on_alt, last_code == SI_TKILL);

    union sigval v = {.sival_int = 7};
    sigqueue(getpid(), SIGUSR1, v);
    printf("sigqueue: usr1=%d code_is_SI_QUEUE=%d\n", (int)usr1, last_code == SI_QUEUE);

    sigset_t block, pending, old;
    sigemptyset(&block); sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);   /* standard signals coalesce */
    sigpending(&pending);
    printf("blocked: pending=%d usr1=%d\n", sigismember(&pending, SIGUSR1), (int)usr1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: usr1=%d\n", (int)usr1);

    /* a child signals its parent, then exits; SIGCHLD arrives */
    fflush(stdout);
    pid_t parent = getpid();
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t pid = fork();
    if (pid == 0) { kill(parent, SIGUSR1); _exit(0); }
    sigset_t waitfor;
    sigfillset(&waitfor); sigdelset(&waitfor, SIGUSR1);
    while (usr1 < 4) sigsuspend(&waitfor);
    sigprocmask(SIG_SETMASK, &old, NULL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    printf("from child: usr1=%d sender_is_child=%d chld>=1=%d\n", (int)usr1, last_sender == pid, chld >= 1);

    /* SIG_IGN survives exec, a handler does not */
    signal(SIGUSR2, SIG_IGN);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execlp("sh", "sh", "-c", "kill -USR2 $$; echo ignored USR2 survived exec", (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    printf("exec child: exited=%d code=%d\n", WIFEXITED(status), WEXITSTATUS(status));
    return 0;
}
