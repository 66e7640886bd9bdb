/*
 * The floor of one seccomp ptrace stop on this machine, without the JVM: a child whose filter
 * returns SECCOMP_RET_TRACE for getppid calls it N times; the tracer does what the daemon must do
 * at least (waitpid, PTRACE_GETREGS, read 256 bytes of the tracee's memory, PTRACE_CONT).
 *
 *   cc -O2 -o /tmp/ptrace-roundtrip bench/ptrace-roundtrip.c && /tmp/ptrace-roundtrip [N]
 *
 * Prints wall time per stop and the tracer's own CPU time per stop with tracer and tracee on the
 * same CPU, on two different CPUs, and where the scheduler puts them. No assertion on any time.
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

static double self_cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

/* one run: returns 0, prints a line */
static int run(const char *label, int n, int tracer_cpu, int tracee_cpu) {
    pid_t c = fork();
    if (c < 0) return 1;
    if (c == 0) {
        pin(tracee_cpu);
        raise(SIGSTOP);
        struct sock_filter f[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {4, f};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
        for (int i = 0; i < n; i++) syscall(SYS_getppid);
        _exit(0);
    }
    cpu_set_t all;
    sched_getaffinity(0, sizeof all, &all);
    pin(tracer_cpu);
    int st;
    waitpid(c, &st, WSTOPPED);
    ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL);
    kill(c, SIGCONT);
    double t0 = 0, cpu0 = 0;
    int stops = 0;
    struct user_regs_struct r;
    static char buf[256];
    for (;;) {
        pid_t p = waitpid(-1, &st, __WALL);
        if (p < 0 || WIFEXITED(st) || WIFSIGNALED(st)) break;
        if ((st >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
            if (stops++ == 0) {
                t0 = now_ns();
                cpu0 = self_cpu_us();
            }
            ptrace(PTRACE_GETREGS, c, 0, &r);
            struct iovec l = {buf, sizeof buf}, rem = {(void *) (r.rsp - 512), sizeof buf};
            process_vm_readv(c, &l, 1, &rem, 1, 0);
            ptrace(PTRACE_CONT, c, 0, 0);
        } else {
            int sig = WIFSTOPPED(st) && WSTOPSIG(st) != SIGSTOP && WSTOPSIG(st) != SIGCONT ? WSTOPSIG(st) : 0;
            ptrace(PTRACE_CONT, c, 0, sig);
        }
    }
    double wall = (now_ns() - t0) / 1000 / (stops - 1);
    double cpu = (self_cpu_us() - cpu0) / (stops - 1);
    sched_setaffinity(0, sizeof all, &all);
    printf("%-28s %7.2f us/stop wall, tracer cpu %5.2f us/stop (%d stops)\n", label, wall, cpu, stops);
    return 0;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    if (n < 2) n = 2;
    run("same CPU (0, 0)", n, 0, 0);
    if (sysconf(_SC_NPROCESSORS_ONLN) > 1) run("different CPUs (0, 1)", n, 0, 1);
    run("unpinned", n, -1, -1);
    return 0;
}
