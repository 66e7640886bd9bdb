/* Dies by the named signal: TERM and KILL via raise(), SEGV by a real invalid write.
 * The exit status seen by the parent must be the same natively and in a view (143/139/137). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: killself TERM|SEGV|KILL\n"); return 2; }
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);   /* no core files in the test directory */
    printf("about to die by SIG%s\n", argv[1]);
    fflush(stdout);
    if (strcmp(argv[1], "TERM") == 0) raise(SIGTERM);
    else if (strcmp(argv[1], "KILL") == 0) raise(SIGKILL);
    else if (strcmp(argv[1], "SEGV") == 0) *(volatile int *)8 = 1;
    printf("still alive\n");
    return 1;
}
