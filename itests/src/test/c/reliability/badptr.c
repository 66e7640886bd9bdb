/* Path-carrying system calls with bad path pointers, as raw syscalls. Run natively and in a view
 * with a mount: the output must be the same (the kernel's EFAULT / ENAMETOOLONG / ...).
 *
 *   badptr [unreal]
 *
 * Bad pointers: "one" = (char *)1, "dead" = 0xdeadbeef000, "long" = 8 KiB of 'a' without a NUL
 * (followed by an inaccessible page), "edge" = "/tm" without a NUL just before an inaccessible page.
 * Every call is aimed so that natively nothing can succeed (other arguments name a path that does
 * not exist, under /unreal: translated in a view with unreal loaded). With "unreal", the mount(2) calls use fstype "unreal" (a type the view serves itself)
 * and print only whether the errno is one of EFAULT ENAMETOOLONG EINVAL ENOENT ENODEV.
 * Prints "CALL ARG rc=R errno=NAME" per call and "calls N" at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static const char *errname(int e) {
    static char buf[32];
    switch (e) {
    case EFAULT: return "EFAULT";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case ENOTDIR: return "ENOTDIR";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case EBADF: return "EBADF";
    case ENOTSOCK: return "ENOTSOCK";
    case EISDIR: return "EISDIR";
    case ENOSYS: return "ENOSYS";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    default: snprintf(buf, sizeof buf, "%d", e); return buf;
    }
}

static int calls;
static int virtualMount;

static void show(const char *call, const char *arg, long rc, int e) {
    calls++;
    printf("%s %s rc=%ld errno=%s\n", call, arg, rc, rc == -1 ? errname(e) : "-");
}

#define T(call, arg, expr) do { errno = 0; long _r = (long)(expr); show(call, arg, _r, errno); } while (0)

int main(int argc, char **argv) {
    virtualMount = argc > 1 && !strcmp(argv[1], "unreal");
    setvbuf(stdout, NULL, _IOLBF, 0);
    long page = sysconf(_SC_PAGESIZE);
    char *area = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(area + 3 * page, page, PROT_NONE);
    char *longp = area + page - 0; /* 8 KiB up to the guard page */
    memset(area, 'a', 3 * page);
    longp = area + 3 * page - 8192;
    char *edge = area + 3 * page - 3;
    memcpy(edge, "/tm", 3);

    const char *names[] = {"one", "dead", "long", "edge"};
    const char *ptrs[] = {(const char *)1, (const char *)0xdeadbeef000UL, longp, edge};
    /* under /unreal: in a view with unreal loaded, the good argument of a two-path call is translated */
    const char *nx = "/unreal/nonexistent-reliability/x";
    const char *nxdir = "/unreal/nonexistent-reliability";
    char buf[256];
    struct stat st;
    char stx[512];
    char *const args[] = {"x", NULL};

    for (int k = 0; k < 4; k++) {
        const char *p = ptrs[k];
        const char *a = names[k];
        T("open", a, syscall(SYS_open, p, O_RDONLY));
        T("open-creat", a, syscall(SYS_open, p, O_WRONLY | O_CREAT | O_EXCL, 0600));
        T("openat", a, syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
        T("creat", a, syscall(SYS_creat, p, 0600));
        T("stat", a, syscall(SYS_stat, p, &st));
        T("lstat", a, syscall(SYS_lstat, p, &st));
        T("newfstatat", a, syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0));
        T("statx", a, syscall(SYS_statx, AT_FDCWD, p, 0, 0x7ff, stx));
        T("access", a, syscall(SYS_access, p, F_OK));
        T("faccessat", a, syscall(SYS_faccessat, AT_FDCWD, p, F_OK));
        T("readlink", a, syscall(SYS_readlink, p, buf, sizeof buf));
        T("readlinkat", a, syscall(SYS_readlinkat, AT_FDCWD, p, buf, sizeof buf));
        T("rename-old", a, syscall(SYS_rename, p, nx));
        T("rename-new", a, syscall(SYS_rename, nx, p));
        T("renameat2-new", a, syscall(SYS_renameat2, AT_FDCWD, nx, AT_FDCWD, p, 0));
        T("link-old", a, syscall(SYS_link, p, nx));
        T("link-new", a, syscall(SYS_link, nx, p));
        T("symlink-target", a, syscall(SYS_symlink, p, nx));
        T("symlink-link", a, syscall(SYS_symlink, nx, p));
        T("mkdir", a, syscall(SYS_mkdir, p, 0700));
        T("rmdir", a, syscall(SYS_rmdir, p));
        T("unlink", a, syscall(SYS_unlink, p));
        T("unlinkat", a, syscall(SYS_unlinkat, AT_FDCWD, p, 0));
        T("chdir", a, syscall(SYS_chdir, p));
        T("chmod", a, syscall(SYS_chmod, p, 0600));
        T("truncate", a, syscall(SYS_truncate, p, 0));
        T("utimensat", a, syscall(SYS_utimensat, AT_FDCWD, p, NULL, 0));
        T("statfs", a, syscall(SYS_statfs, p, buf));
        T("getxattr", a, syscall(SYS_getxattr, p, "user.x", buf, sizeof buf));
        T("execve", a, syscall(SYS_execve, p, args, NULL));
        T("umount2", a, syscall(SYS_umount2, p, 0));
        const char *fs = virtualMount ? "unreal" : "tmpfs";
        long r;
        int e;
        /* mount(2): one bad argument at a time; the target never exists, so nothing can mount */
        const char *mcase[] = {"mount-source", "mount-target", "mount-fstype"};
        for (int m = 0; m < 3; m++) {
            errno = 0;
            if (m == 0) r = syscall(SYS_mount, p, nxdir, fs, 0, NULL);
            else if (m == 1) r = syscall(SYS_mount, "none", p, fs, 0, NULL);
            else r = syscall(SYS_mount, "none", nxdir, p, 0, NULL);
            e = errno;
            if (virtualMount) {
                calls++;
                int okErr = r == -1 && (e == EFAULT || e == ENAMETOOLONG || e == EINVAL || e == ENOENT || e == ENODEV);
                printf("%s %s %s\n", mcase[m], a, okErr ? "refused" : "UNEXPECTED");
                if (!okErr) printf("  rc=%ld errno=%s\n", r, errname(e));
            } else {
                show(mcase[m], a, r, e);
            }
        }
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        T("bind-addr", a, syscall(SYS_bind, s, p, sizeof(struct sockaddr_un)));
        T("connect-addr", a, syscall(SYS_connect, s, p, sizeof(struct sockaddr_un)));
        close(s);
    }
    /* a sockaddr_un whose sun_path fills all 108 bytes without a NUL (legal: the length decides),
     * and one with an absurd length */
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    memset(un.sun_path, 'b', sizeof un.sun_path);
    un.sun_path[0] = '/';
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    T("connect-unterminated", "full", syscall(SYS_connect, s, &un, sizeof un));
    T("connect-len", "huge", syscall(SYS_connect, s, &un, 100000));
    T("connect-len", "neg", syscall(SYS_connect, s, &un, -1));
    T("bind-len", "huge", syscall(SYS_bind, s, &un, 100000));
    /* the sockaddr's last bytes run into the inaccessible page */
    memcpy(area + 3 * page - 4, "\1\0/t", 4);
    T("connect-addr", "edge", syscall(SYS_connect, s, area + 3 * page - 4, sizeof(struct sockaddr_un)));
    close(s);
    printf("calls %d\n", calls);
    return 0;
}
