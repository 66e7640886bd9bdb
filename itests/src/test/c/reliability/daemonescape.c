/* Calls a process inside a view may aim at its daemon (the tracer).
 *
 *   daemonescape DAEMONPID refused     every call the view must refuse with EPERM: ptrace ATTACH and
 *                                      SEIZE, process_vm_readv/writev, kill SIGKILL/SIGTERM/SIGSTOP
 *                                      (and signal 0), tkill/tgkill of every daemon thread,
 *                                      rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_open.
 *                                      Prints "NAME errno=E" per call and "refused N of M".
 *   daemonescape DAEMONPID pidfd-proc   pidfd_send_signal(open("/proc/DAEMON"), SIGKILL): a /proc/PID
 *                                      directory fd is a pidfd for pidfd_send_signal (Linux >= 5.3)
 *   daemonescape DAEMONPID sigio        fcntl(pipe, F_SETOWN, DAEMON) + O_ASYNC + F_SETSIG SIGKILL,
 *                                      then a write into the pipe: the kernel signals the owner
 *   daemonescape DAEMONPID prlimit      prlimit64(DAEMON, RLIMIT_CPU, 1 s): the kernel SIGKILLs the
 *                                      daemon once it has used its (hard) CPU limit
 *   daemonescape DAEMONPID sched        setpriority(PRIO_PROCESS, DAEMON, 19), sched_setaffinity(DAEMON,
 *                                      one CPU), sched_setscheduler(DAEMON, SCHED_IDLE), ioprio_set
 *                                      (idle class): each slows every view process down; prints
 *                                      "refused N of 4" (EPERM expected) and restores nothing
 *   daemonescape DAEMONPID seccomp      the view's own filter stays: Seccomp: 2 before and after
 *                                      adding a filter of our own; openat2 (437) stays ENOSYS after
 *                                      a child tried SECCOMP_SET_MODE_STRICT and prctl(SET_SECCOMP)
 *
 * Each attack prints "tried NAME rc=R errno=E" and then, one second later, "alive" if this process
 * still runs (a dead daemon takes the whole view with it: PTRACE_O_EXITKILL).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static int tried, refused;

static void check(const char *name, long rc) {
    int e = errno;
    tried++;
    if (rc == -1 && e == EPERM) {
        refused++;
    }
    printf("%s rc=%ld errno=%s\n", name, rc, rc == -1 ? strerror(e) : "-");
    fflush(stdout);
}

static int refusedAll(pid_t d) {
    char buf[64];
    struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};

    errno = 0; check("ptrace(PTRACE_ATTACH)", syscall(SYS_ptrace, 16 /* ATTACH */, d, 0, 0));
    errno = 0; check("ptrace(PTRACE_SEIZE)", syscall(SYS_ptrace, 0x4206 /* SEIZE */, d, 0, 0));
    errno = 0; check("ptrace(PTRACE_INTERRUPT)", syscall(SYS_ptrace, 0x4207, d, 0, 0));
    errno = 0; check("process_vm_readv", syscall(SYS_process_vm_readv, d, &local, 1, &remote, 1, 0));
    errno = 0; check("process_vm_writev", syscall(SYS_process_vm_writev, d, &local, 1, &remote, 1, 0));
    errno = 0; check("kill(SIGKILL)", syscall(SYS_kill, d, SIGKILL));
    errno = 0; check("kill(SIGTERM)", syscall(SYS_kill, d, SIGTERM));
    errno = 0; check("kill(SIGSTOP)", syscall(SYS_kill, d, SIGSTOP));
    errno = 0; check("kill(0)", syscall(SYS_kill, d, 0));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGKILL;
    si.si_code = SI_QUEUE;
    errno = 0; check("rt_sigqueueinfo(SIGKILL)", syscall(SYS_rt_sigqueueinfo, d, SIGKILL, &si));
    errno = 0; check("pidfd_open", syscall(SYS_pidfd_open, d, 0));

    /* every thread of the daemon */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", d);
    DIR *dir = opendir(path);
    int threads = 0, thrRefused = 0, thrTried = 0;
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.') continue;
            pid_t tid = atoi(de->d_name);
            threads++;
            int before = refused;
            errno = 0; tried++; if (syscall(SYS_tgkill, d, tid, SIGKILL) == -1 && errno == EPERM) refused++;
            errno = 0; tried++; if (syscall(SYS_tkill, tid, SIGKILL) == -1 && errno == EPERM) refused++;
            errno = 0; tried++; if (syscall(SYS_tgkill, d, tid, SIGSTOP) == -1 && errno == EPERM) refused++;
            si.si_signo = SIGTERM;
            errno = 0; tried++; if (syscall(SYS_rt_tgsigqueueinfo, d, tid, SIGTERM, &si) == -1 && errno == EPERM) refused++;
            errno = 0; tried++; if (syscall(SYS_ptrace, 0x4206, tid, 0, 0) == -1 && errno == EPERM) refused++;
            errno = 0; tried++; if (syscall(SYS_pidfd_open, tid, 0) == -1 && errno == EPERM) refused++;
            thrTried += 6;
            thrRefused += refused - before;
        }
        closedir(dir);
    }
    printf("daemon threads=%d thread calls=%d refused=%d\n", threads, thrTried, thrRefused);
    printf("refused %d of %d\n", refused, tried);
    return refused == tried && threads > 0 ? 0 : 1;
}

static void alive(void) {
    /* a dead daemon means the view's processes are killed (EXITKILL) within a moment */
    for (int i = 0; i < 10; i++) usleep(100000);
    printf("alive\n");
    fflush(stdout);
}

static int seccompStays(void) {
    char line[256];
    int before = -1, after = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) sscanf(line, "Seccomp: %d", &before);
    if (f) fclose(f);

    /* a child asks for strict mode (it is then killed at its next call that is not read/write/exit:
     * the filter mode does not allow switching to strict: EINVAL) and for SET_SECCOMP via prctl */
    pid_t c = fork();
    if (c == 0) {
        long r1 = syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL);
        int e1 = errno;
        long r2 = prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
        int e2 = errno;
        long r3 = prctl(PR_SET_SECCOMP, 0 /* disabled */, 0, 0, 0);
        int e3 = errno;
        char msg[256];
        int n = snprintf(msg, sizeof msg, "strict rc=%ld errno=%s; prctl strict rc=%ld errno=%s; prctl off rc=%ld errno=%s\n",
                r1, r1 ? strerror(e1) : "-", r2, r2 ? strerror(e2) : "-", r3, r3 ? strerror(e3) : "-");
        write(1, msg, n);
        long o = syscall(437 /* openat2 */, AT_FDCWD, "/", (void *)0, 0);
        n = snprintf(msg, sizeof msg, "child openat2 rc=%ld errno=%s\n", o, o < 0 ? strerror(errno) : "-");
        write(1, msg, n);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("child status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));

    /* our own filter on top (allow everything): filters stack, the view's stays */
    struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog prog = {1, allow};
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    printf("own filter rc=%ld\n", r);
    f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) sscanf(line, "Seccomp: %d", &after);
    if (f) fclose(f);
    long o = syscall(437, AT_FDCWD, "/", (void *)0, 0);
    printf("Seccomp before=%d after=%d; openat2 rc=%ld errno=%s\n", before, after, o, o < 0 ? strerror(errno) : "-");
    return before == 2 && after == 2 && o == -1 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: daemonescape DAEMONPID refused|pidfd-proc|sigio|prlimit|sched|seccomp\n");
        return 2;
    }
    pid_t d = atoi(argv[1]);
    const char *what = argv[2];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(what, "refused")) {
        return refusedAll(d);
    }
    if (!strcmp(what, "sched")) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        struct sched_param sp = {0};
        errno = 0; check("setpriority(19)", setpriority(PRIO_PROCESS, (id_t)d, 19));
        errno = 0; check("sched_setaffinity(cpu 0)", syscall(SYS_sched_setaffinity, d, sizeof one, &one));
        errno = 0; check("sched_setscheduler(SCHED_IDLE)", syscall(SYS_sched_setscheduler, d, SCHED_IDLE, &sp));
        errno = 0; check("ioprio_set(IDLE)", syscall(SYS_ioprio_set, 1 /* WHO_PROCESS */, d, 3 << 13 /* CLASS_IDLE */));
        printf("refused %d of %d\n", refused, tried);
        return 0;
    }
    if (!strcmp(what, "seccomp")) {
        return seccompStays();
    }
    long rc = -1;
    errno = 0;
    if (!strcmp(what, "pidfd-proc")) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d", d);
        int fd = open(path, O_RDONLY | O_DIRECTORY);
        printf("open %s fd=%d\n", path, fd);
        rc = syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
    } else if (!strcmp(what, "sigio")) {
        int p[2];
        if (pipe(p) != 0) return 3;
        long a = fcntl(p[0], F_SETOWN, d);
        int ea = errno;
        long b = fcntl(p[0], F_SETSIG, SIGKILL);
        long c = fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK);
        printf("F_SETOWN rc=%ld F_SETSIG rc=%ld F_SETFL rc=%ld\n", a, b, c);
        if (write(p[1], "x", 1) != 1) printf("write failed\n");
        rc = a; /* the call that aims at the daemon */
        errno = ea;
    } else if (!strcmp(what, "prlimit")) {
        struct rlimit lim = {1, 1};
        rc = syscall(SYS_prlimit64, d, RLIMIT_CPU, &lim, NULL);
    } else {
        fprintf(stderr, "unknown attack %s\n", what);
        return 2;
    }
    printf("tried %s rc=%ld errno=%s\n", what, rc, rc == -1 ? strerror(errno) : "-");
    fflush(stdout);
    alive();
    return 0;
}
