/* What a process can observe about itself: open fds (fstat of 0..1023: type, access mode,
 * close-on-exec), uid/gid/euid/egid/groups, its relation to the parent shell (getppid must equal
 * the pid the shell passes as argv[1], getsid the shell's session passed as argv[2]),
 * /proc/self/exe, and getcwd after chdir/fchdir/chdir through a symlink. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *type_of(mode_t m) {
    switch (m & S_IFMT) {
    case S_IFREG: return "reg"; case S_IFDIR: return "dir"; case S_IFCHR: return "chr";
    case S_IFBLK: return "blk"; case S_IFIFO: return "fifo"; case S_IFSOCK: return "sock";
    case S_IFLNK: return "lnk"; default: return "?";
    }
}

static void print_cwd(const char *what) {
    char buf[PATH_MAX];
    if (getcwd(buf, sizeof buf)) printf("cwd %s: %s\n", what, buf);
    else printf("cwd %s: error\n", what);
}

int main(int argc, char **argv) {
    int nfds = 0;
    for (int fd = 0; fd < 1024; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0) continue;
        nfds++;
        int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
        const char *acc = (fl & O_ACCMODE) == O_RDONLY ? "r" : (fl & O_ACCMODE) == O_WRONLY ? "w" : "rw";
        char link[64], target[PATH_MAX] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) target[n] = 0;
        /* pipe/socket inode numbers differ from run to run: print only the kind */
        if (strncmp(target, "pipe:", 5) == 0 || strncmp(target, "socket:", 7) == 0) *strchr(target, ':') = 0;
        printf("fd %d: %s %s cloexec=%d append=%d %s\n", fd, type_of(st.st_mode), acc,
               (fdfl & FD_CLOEXEC) != 0, (fl & O_APPEND) != 0, target);
    }
    printf("open fds: %d\n", nfds);

    printf("uid=%d euid=%d gid=%d egid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
    gid_t groups[256];
    int ng = getgroups(256, groups);
    printf("groups:");
    for (int i = 0; i < ng; i++) printf(" %d", (int)groups[i]);
    printf("\n");
    if (argc > 2) {
        printf("getppid==shell pid: %s\n", getppid() == (pid_t)atoi(argv[1]) ? "yes" : "no");
        printf("getsid==shell sid: %s\n", getsid(0) == (pid_t)atoi(argv[2]) ? "yes" : "no");
    }
    printf("getpgrp==getpid: %s\n", getpgrp() == getpid() ? "yes" : "no");
    printf("gettid==getpid: %s\n", gettid() == getpid() ? "yes" : "no");

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) exe[n] = 0; else strcpy(exe, "error");
    char *real = realpath(argv[0], NULL);
    printf("/proc/self/exe==realpath(argv0): %s\n", real && strcmp(real, exe) == 0 ? "yes" : "no");
    printf("/proc/self/exe: %s\n", exe);
    free(real);

    print_cwd("start");
    mkdir("d1", 0755); mkdir("d1/d2", 0755);
    unlink("link-to-d2");
    symlink("d1/d2", "link-to-d2");
    int start = open(".", O_RDONLY | O_DIRECTORY);
    if (chdir("d1/d2") == 0) print_cwd("after chdir d1/d2");
    if (chdir("..") == 0) print_cwd("after chdir ..");
    if (fchdir(start) == 0) print_cwd("after fchdir");
    if (chdir("link-to-d2") == 0) print_cwd("after chdir symlink");
    if (chdir("/") == 0) print_cwd("after chdir /");
    if (chdir("/proc/self/cwd") == 0) print_cwd("after chdir /proc/self/cwd");
    fchdir(start);
    printf("rmdir of cwd-relative d1/d2: %d\n", rmdir("d1/d2"));
    return 0;
}
