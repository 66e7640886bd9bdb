/* Opens COUNT files (creating them in DIR) and keeps them all open, then checks each with fstat
 * and reads it back, and closes them. Same output natively and in a view (raise `ulimit -n` first).
 *
 *   manyfiles DIR COUNT
 *
 * Prints "opened N", "fds distinct yes|no", "readback ok|bad N", "closed N".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: manyfiles DIR COUNT\n");
        return 2;
    }
    const char *dir = argv[1];
    int count = atoi(argv[2]);
    int *fds = calloc((size_t)count, sizeof *fds);
    char path[4096];
    int opened = 0;
    for (int i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/f%05d", dir, i);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) {
            printf("open %d failed: %s\n", i, strerror(errno));
            break;
        }
        char line[32];
        int n = snprintf(line, sizeof line, "%d\n", i);
        if (write(fd, line, n) != n) {
            printf("write %d failed: %s\n", i, strerror(errno));
            break;
        }
        fds[opened++] = fd;
    }
    printf("opened %d\n", opened);
    /* all distinct, all open at the same time */
    char *seen = calloc(1 << 22, 1);
    int distinct = 1;
    for (int i = 0; i < opened; i++) {
        if (fds[i] < 0 || fds[i] >= (1 << 22) || seen[fds[i]]) distinct = 0;
        else seen[fds[i]] = 1;
    }
    printf("fds distinct %s\n", distinct ? "yes" : "no");
    int bad = 0;
    for (int i = 0; i < opened; i++) {
        struct stat st;
        char buf[32], want[32];
        int n = snprintf(want, sizeof want, "%d\n", i);
        if (fstat(fds[i], &st) != 0 || st.st_size != n || pread(fds[i], buf, sizeof buf, 0) != n || memcmp(buf, want, n)) {
            bad++;
        }
    }
    printf("readback %s %d\n", bad ? "bad" : "ok", bad);
    int closed = 0;
    for (int i = 0; i < opened; i++) {
        if (close(fds[i]) == 0) closed++;
        snprintf(path, sizeof path, "%s/f%05d", dir, i);
        unlink(path);
    }
    printf("closed %d\n", closed);
    return opened == count && !bad && closed == opened ? 0 : 1;
}
