/* vfork: the parent is suspended until the child execs or _exits; memory is shared until then. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    volatile int shared = 0;
    int status;
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0) { shared = 42; _exit(5); }
    waitpid(pid, &status, 0);
    printf("vfork+_exit: exited=%d code=%d shared=%d\n", WIFEXITED(status), WEXITSTATUS(status), shared);

    pid = vfork();
    if (pid == 0) { execlp("sh", "sh", "-c", "echo vfork child says hi; exit 3", (char *)NULL); _exit(127); }
    waitpid(pid, &status, 0);
    printf("vfork+exec: exited=%d code=%d\n", WIFEXITED(status), WEXITSTATUS(status));

    pid = vfork();
    if (pid == 0) { execlp("/nonexistent", "x", (char *)NULL); _exit(127); }
    waitpid(pid, &status, 0);
    printf("vfork+failed exec: code=%d\n", WEXITSTATUS(status));
    return 0;
}
