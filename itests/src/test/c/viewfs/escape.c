/*
 * escape HIDDEN_DIR MARKER SYMLINK_MADE_BEFORE SCRATCH_DIR
 *
 * Tries to read HIDDEN_DIR/data (a file containing MARKER) by every route we know of that could get
 * around a View-OS path translation. One line per attempt: "NAME: blocked|LEAKED (detail)". Each
 * attempt runs in its own child process, so one killed by the seccomp filter (i386, x32) counts as
 * blocked and does not stop the others. Run natively, the routes that can, LEAK: that proves the test
 * can fail. Exit status 0 either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *hidden, *marker, *before, *scratch;
static char file[4096], parent[4096], name[4096];

/* 0 when fd's contents hold the marker */
static int leaks_fd(int fd) {
    char buf[4096];
    if (fd < 0) return 1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0) return 1;
    buf[n] = 0;
    return strstr(buf, marker) ? 0 : 1;
}

static int leaks_path(const char *p) {
    return leaks_fd(open(p, O_RDONLY));
}

static int a_open(void) { return leaks_path(file); }

static int a_openat2(void) {
    struct open_how how = {.flags = O_RDONLY};
    return leaks_fd((int) syscall(437, AT_FDCWD, file, &how, sizeof how));
}

static int a_io_uring(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    int ring = (int) syscall(425, 4, &p);
    if (ring < 0) return 1;
    size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(0, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
    char *cq = mmap(0, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return 1;
    unsigned *tail = (unsigned *) (sq + p.sq_off.tail), *mask = (unsigned *) (sq + p.sq_off.ring_mask);
    unsigned *array = (unsigned *) (sq + p.sq_off.array);
    unsigned idx = *tail & *mask;
    memset(&sqes[idx], 0, sizeof sqes[idx]);
    sqes[idx].opcode = IORING_OP_OPENAT;
    sqes[idx].fd = AT_FDCWD;
    sqes[idx].addr = (uint64_t) (uintptr_t) file;
    sqes[idx].open_flags = O_RDONLY;
    array[idx] = idx;
    __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
    if (syscall(426, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return 1;
    unsigned *chead = (unsigned *) (cq + p.cq_off.head), *cmask = (unsigned *) (cq + p.cq_off.ring_mask);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *) (cq + p.cq_off.cqes);
    int res = cqes[*chead & *cmask].res;
    return leaks_fd(res);
}

static int a_dotdot(void) {
    char p[8192];
    snprintf(p, sizeof p, "%s/%s/../%s/./data", parent, name, name);
    if (!leaks_path(p)) return 0;
    snprintf(p, sizeof p, "%s/../%s/%s/data", parent, basename(strdup(parent)), name);
    return leaks_path(p);
}

static int a_symlink_before(void) {
    char p[8192];
    snprintf(p, sizeof p, "%s/data", before);
    return leaks_path(p);
}

static int a_symlink_inside(void) {
    char l[8192];
    snprintf(l, sizeof l, "%s/inside-link-%d", scratch, getpid());
    unlink(l);
    if (symlink(file, l) < 0) return 1;
    int r = leaks_path(l);
    unlink(l);
    return r;
}

static int a_proc_self_root(void) {
    char p[8192];
    snprintf(p, sizeof p, "/proc/self/root%s", file);
    return leaks_path(p);
}

static int a_proc_self_cwd(void) {
    char p[8192];
    if (chdir(parent) < 0) return 1;
    snprintf(p, sizeof p, "/proc/self/cwd/%s/data", name);
    return leaks_path(p);
}

static int fd_route(const char *prefix) {
    char p[8192];
    int fd = open(parent, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return 1;
    snprintf(p, sizeof p, "%s/%d/%s/data", prefix, fd, name);
    return leaks_path(p);
}

static int a_proc_self_fd(void) { return fd_route("/proc/self/fd"); }

static int a_dev_fd(void) { return fd_route("/dev/fd"); }

static int a_openat_dirfd(void) {
    char p[8192];
    int fd = open(parent, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return 1;
    snprintf(p, sizeof p, "%s/data", name);
    return leaks_fd(openat(fd, p, O_RDONLY));
}

static int a_proc_ppid_root(void) {
    char p[8192];
    snprintf(p, sizeof p, "/proc/%d/root%s", getppid(), file);
    return leaks_path(p);
}

static int a_handle(void) {
    struct { struct file_handle h; unsigned char b[128]; } fh;
    int mount_id;
    fh.h.handle_bytes = 128;
    if (syscall(303, AT_FDCWD, file, &fh.h, &mount_id, 0) < 0) return 1;
    int mfd = open(parent, O_RDONLY | O_DIRECTORY);
    return leaks_fd((int) syscall(304, mfd, &fh.h, O_RDONLY));
}

static int a_hardlink(void) {
    char l[8192];
    snprintf(l, sizeof l, "%s/hardlink-%d", scratch, getpid());
    unlink(l);
    if (link(file, l) < 0) return 1;
    int r = leaks_path(l);
    unlink(l);
    return r;
}

static int a_rename_parent(void) {
    char moved[8192], p[8192];
    snprintf(moved, sizeof moved, "%s/moved-%d", scratch, getpid());
    if (rename(hidden, moved) < 0) return 1;
    snprintf(p, sizeof p, "%s/data", moved);
    int r = leaks_path(p);
    rename(moved, hidden); /* put it back for the other attempts */
    return r;
}

static int a_i386(void) {
    /* int 0x80 takes 32-bit pointers: the path must live below 4 GiB */
    char *low = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED) return 1;
    strncpy(low, file, 8191);
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(5), "b"(low), "c"(O_RDONLY), "d"(0) : "memory");
    return leaks_fd((int) ret);
}

static int a_x32(void) {
    return leaks_fd((int) syscall(0x40000000 | 2 /* x32 open */, file, O_RDONLY));
}

struct attempt { const char *name; int (*fn)(void); };

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: escape HIDDEN_DIR MARKER SYMLINK_MADE_BEFORE SCRATCH_DIR\n");
        return 2;
    }
    hidden = argv[1]; marker = argv[2]; before = argv[3]; scratch = argv[4];
    snprintf(file, sizeof file, "%s/data", hidden);
    snprintf(parent, sizeof parent, "%s", dirname(strdup(hidden)));
    snprintf(name, sizeof name, "%s", basename(strdup(hidden)));
    struct attempt all[] = {
        {"open", a_open}, {"openat2", a_openat2}, {"io_uring", a_io_uring}, {"dotdot", a_dotdot},
        {"symlink_before", a_symlink_before}, {"symlink_inside", a_symlink_inside},
        {"proc_self_root", a_proc_self_root}, {"proc_self_cwd", a_proc_self_cwd},
        {"proc_self_fd", a_proc_self_fd}, {"dev_fd", a_dev_fd}, {"openat_dirfd", a_openat_dirfd},
        {"proc_ppid_root", a_proc_ppid_root}, {"name_to_handle_at", a_handle}, {"hardlink", a_hardlink},
        {"rename_parent", a_rename_parent}, {"i386_int80", a_i386}, {"x32", a_x32},
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            _exit(all[i].fn() == 0 ? 0 : 1);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            printf("%s: LEAKED\n", all[i].name);
        } else if (WIFSIGNALED(st)) {
            printf("%s: blocked (killed by signal %d)\n", all[i].name, WTERMSIG(st));
        } else {
            printf("%s: blocked\n", all[i].name);
        }
    }
    return 0;
}
