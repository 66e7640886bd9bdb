/* posix_spawn + waitpid: exit codes, a child killed by a signal, and the parent/child pid
 * relation seen from the child (its $PPID must be our pid). */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void report(const char *what, int status) {
    if (WIFEXITED(status)) printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    else printf("%s: status %#x\n", what, status);
}

static int spawn_wait(const char *what, char *const argv[], posix_spawn_file_actions_t *fa) {
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], fa, NULL, argv, environ);
    if (rc != 0) { printf("%s: posix_spawnp failed: %s\n", what, strerror(rc)); return -1; }
    int status;
    if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return -1; }
    report(what, status);
    return 0;
}

int main(void) {
    fflush(stdout);
    char *echo[] = {"echo", "hello from a spawned echo", NULL};
    spawn_wait("echo", echo, NULL);
    char *exit7[] = {"sh", "-c", "exit 7", NULL};
    spawn_wait("exit7", exit7, NULL);
    char *selfkill[] = {"sh", "-c", "kill -USR1 $$", NULL};
    spawn_wait("selfkill", selfkill, NULL);
    char ppid_check[64];
    snprintf(ppid_check, sizeof ppid_check, "[ $PPID = %d ] && echo ppid-ok || echo ppid-bad", (int)getpid());
    char *ppid[] = {"sh", "-c", ppid_check, NULL};
    fflush(stdout);
    spawn_wait("ppid", ppid, NULL);
    /* file actions: the child's stdout goes to a file we then read back */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "spawn-out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *seq[] = {"seq", "1", "5", NULL};
    spawn_wait("seq>file", seq, &fa);
    posix_spawn_file_actions_destroy(&fa);
    FILE *f = fopen("spawn-out.txt", "r");
    char line[64]; int n = 0;
    while (f && fgets(line, sizeof line, f)) n++;
    if (f) fclose(f);
    printf("file has %d lines\n", n);
    char *missing[] = {"/nonexistent/program", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, missing[0], NULL, NULL, missing, environ);
    if (rc != 0) printf("missing: posix_spawn error %s\n", strerror(rc));
    else { int st; waitpid(pid, &st, 0); report("missing", st); }
    return 0;
}
