/* fork+exec chains: each level forks, the child re-execs this program one level deeper, the
 * parent waits and reports; the deepest level exits with a code the chain adds up on the way
 * back. Also fork without exec, and exec of a shell from the leaf. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int depth = argc > 1 ? atoi(argv[1]) : 6;
    if (depth == 0) {
        /* leaf: exec a shell that exits 1 */
        execlp("sh", "sh", "-c", "exit 1", (char *)NULL);
        perror("execlp");
        return 100;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 101; }
    if (pid == 0) {
        char d[16];
        snprintf(d, sizeof d, "%d", depth - 1);
        execl("/proc/self/exe", argv[0], d, (char *)NULL);
        perror("execl /proc/self/exe");
        _exit(102);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return 103; }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
    printf("depth %d: child %s code %d\n", depth, WIFEXITED(status) ? "exited" : "signalled", code);
    /* a plain fork (no exec) at each level, too */
    fflush(stdout);
    pid_t p2 = fork();
    if (p2 == 0) _exit(depth);
    waitpid(p2, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != depth) printf("depth %d: plain fork wrong\n", depth);
    return code + 1;
}
