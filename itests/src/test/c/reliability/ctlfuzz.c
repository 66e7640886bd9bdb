/* Fuzzes the View-OS control channel from inside a view:
 *   syscall(1770, request, request_len, reply, reply_size), request = NUL-separated words.
 *
 *   ctlfuzz SEED COUNT [strict]
 *
 * From a fixed seed (xorshift64*), COUNT calls of these kinds:
 *   random   random bytes, 0..300 of them
 *   len      a good request with a huge length (64 KiB+1, 1 MiB, 2^40, SIZE_MAX) or a negative one
 *   reqptr   request pointer NULL, 1, 0xdeadbeef000, a kernel address, or the last bytes of a page
 *            followed by an inaccessible page (the length runs into it), with a length > 0
 *   replyptr a request that fails (unknown word) or succeeds (info, ls_service), with the reply
 *            pointer NULL, 1, 0xdeadbeef000, read-only memory or a good buffer, and the reply size
 *            0, 1, huge or negative
 *   unknown  an unknown word, maybe with arguments
 *   garbage  a known word (add_service, del_service, mov_service, fsalias, viewname, attach,
 *            shutdown, lasterror, mounts, info, ls_service) with garbage arguments; shutdown and
 *            attach only with arguments that are not numbers (they would end the view / attach a
 *            host process)
 * Rules checked for every call (a broken one prints "unexpected: ..."):
 *   - the return value is -1 or a length 0..reply_size; never anything else
 *   - a failure has one of EFAULT EINVAL ENOSYS ENOENT EEXIST EPERM EBUSY ENAMETOOLONG E2BIG
 *     (EIO means the daemon threw something it did not expect: listed as unexpected)
 *   - random bytes, unknown words, bad request pointers and bad lengths always fail
 *   - a request that cannot be read (bad pointer) fails with EFAULT; a bad length with EINVAL
 *   - a call whose reply buffer cannot be written and whose reply would not be empty does not
 *     report success with bytes it never delivered (success only with 0 bytes when reply_size 0)
 * With "strict", a success that delivered 0 bytes of a non-empty reply because the reply buffer was
 * unwritable is unexpected too (the kernel's convention would be EFAULT).
 * Prints "calls N", "ok N", "errno NAME N" per errno, "kinds ..." and "unexpected N".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CTL 1770

static uint64_t state;
static uint64_t rnd(void) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ULL;
}
static uint64_t pick(uint64_t n) { return rnd() % n; }

static long hist[4096];
static long calls, ok, unexpected;
static const char *kindNames[] = {"random", "len", "reqptr", "replyptr", "unknown", "garbage"};
static long kinds[6];

static const char *errname(int e) {
    switch (e) {
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case E2BIG: return "E2BIG";
    case EIO: return "EIO";
    case ENOMEM: return "ENOMEM";
    case ESRCH: return "ESRCH";
    default: return NULL;
    }
}

static int sane(int e) {
    return e == EFAULT || e == EINVAL || e == ENOSYS || e == ENOENT || e == EEXIST || e == EPERM
        || e == EBUSY || e == ENAMETOOLONG || e == E2BIG;
}

static void bad(long i, const char *kind, const char *why, long r, int e) {
    unexpected++;
    if (unexpected <= 20) {
        printf("unexpected: call %ld (%s): %s (rc=%ld errno=%d %s)\n", i, kind, why, r, e, strerror(e));
    }
}

/* random printable-or-not word of 0..max bytes, no NUL */
static size_t word(char *dst, size_t max) {
    size_t n = pick(max + 1);
    int style = (int)pick(4);
    for (size_t k = 0; k < n; k++) {
        unsigned char c;
        if (style == 0) c = (unsigned char)(1 + pick(255));
        else if (style == 1) c = (unsigned char)('a' + pick(26));
        else if (style == 2) c = (unsigned char)",=/.-_ :\\\"'$*"[pick(13)];
        else c = (unsigned char)(0x80 + pick(0x80));
        dst[k] = (char)c;
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: ctlfuzz SEED COUNT [strict]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    state = strtoull(argv[1], NULL, 0) * 0x9E3779B97F4A7C15ULL + 1;
    long count = atol(argv[2]);
    int strict = argc == 4 && !strcmp(argv[3], "strict");
    long page = sysconf(_SC_PAGESIZE);
    /* two pages: the second inaccessible, for requests that run off the end of readable memory */
    char *edge = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(edge + page, page, PROT_NONE);
    char *ro = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(ro, 'r', page);
    mprotect(ro, page, PROT_READ);
    static char req[70000], reply[70000];
    static const char *known[] = {"add_service", "del_service", "mov_service", "fsalias", "viewname",
                                  "attach", "shutdown", "lasterror", "mounts", "info", "ls_service"};
    static const char *badptrs[] = {NULL, (char *)1, (char *)0xdeadbeef000UL, (char *)0xffffffffff600000UL,
                                    (char *)0xffff888000000000UL};

    for (long i = 0; i < count; i++) {
        int kind = (int)pick(6);
        kinds[kind]++;
        size_t len = 0;
        const char *rq = req;
        long rqlen;
        char *rp = reply;
        long rpsize = sizeof reply;
        int mustFail = 0, expectErr = 0, replyBad = 0;
        char first[64] = "";

        switch (kind) {
        case 0: /* random bytes */
            len = pick(301);
            for (size_t k = 0; k < len; k++) req[k] = (char)rnd();
            /* a random request may happen to start with a known word: only then may it succeed */
            mustFail = 1;
            for (size_t w = 0; w < sizeof known / sizeof known[0]; w++) {
                size_t wl = strlen(known[w]);
                if (len >= wl && !memcmp(req, known[w], wl) && (len == wl || req[wl] == 0)) mustFail = 0;
            }
            rqlen = (long)len;
            break;
        case 1: { /* bad lengths */
            memcpy(req, "ls_service", 11);
            static const long lens[] = {65537, 1 << 20, 1L << 40, -1, -100, (long)0x8000000000000000UL};
            rqlen = lens[pick(6)];
            mustFail = 1;
            expectErr = rqlen > 65536 || rqlen < 0 ? EINVAL : 0;
            break;
        }
        case 2: { /* bad request pointers */
            int which = (int)pick(6);
            if (which < 5) {
                rq = badptrs[which];
                rqlen = 1 + (long)pick(64);
            } else {
                size_t tail = 1 + pick(16);
                memcpy(edge + page - tail, "info\0info\0info\0info", tail);
                rq = edge + page - tail;
                rqlen = (long)(tail + 1 + pick(100));
            }
            mustFail = 1;
            expectErr = EFAULT;
            break;
        }
        case 3: { /* bad reply buffers */
            int okreq = (int)pick(3);
            const char *q = okreq == 0 ? "nosuchword" : okreq == 1 ? "info" : "ls_service";
            len = strlen(q);
            memcpy(req, q, len);
            rqlen = (long)len;
            int which = (int)pick(5);
            rp = which == 0 ? NULL : which == 1 ? (char *)1 : which == 2 ? (char *)0xdeadbeef000UL : which == 3 ? ro : reply;
            replyBad = which < 4;
            static const long sizes[] = {0, 1, 4096, 1L << 40, -1};
            rpsize = sizes[pick(5)];
            mustFail = okreq == 0;
            if (okreq == 0) expectErr = ENOSYS;
            break;
        }
        case 4: { /* unknown words */
            do {
                len = word(req, 40);
            } while (len == 0);
            req[len] = 0;
            int known_ = 0;
            for (size_t w = 0; w < sizeof known / sizeof known[0]; w++)
                if (!strcmp(req, known[w])) known_ = 1;
            if (known_) { memcpy(req, "zzz", 4); len = 3; }
            int args = (int)pick(4);
            for (int a = 0; a < args; a++) {
                req[len++] = 0;
                len += word(req + len, 50);
            }
            rqlen = (long)len;
            mustFail = 1;
            expectErr = ENOSYS;
            break;
        }
        default: { /* known words, garbage arguments */
            const char *w = known[pick(sizeof known / sizeof known[0])];
            len = strlen(w);
            memcpy(req, w, len);
            int args = (int)pick(5);
            int numeric = !strcmp(w, "shutdown") || !strcmp(w, "attach");
            if (numeric && args == 0) args = 1;
            int big = pick(10) == 0;
            for (int a = 0; a < args; a++) {
                req[len++] = 0;
                size_t l = big ? 4096 + pick(4096) : 0;
                if (big) {
                    for (size_t k = 0; k < l; k++) req[len + k] = (char)('A' + pick(26));
                    len += l;
                } else {
                    size_t s = len;
                    len += word(req + len, 60);
                    if (numeric && len == s) req[len++] = 'x';
                }
                if (numeric) {
                    /* never a plain number: they would end the view or attach a host process */
                    req[len++] = '#';
                }
            }
            rqlen = (long)len;
            break;
        }
        }
        snprintf(first, sizeof first, "%s", kindNames[kind]);

        errno = 0;
        long r = syscall(CTL, rq, rqlen, rp, rpsize);
        int e = errno;
        calls++;
        if (r == -1) {
            if (e >= 0 && e < 4096) hist[e]++;
            if (!sane(e)) bad(i, first, "errno not in the sane set", r, e);
            if (expectErr && e != expectErr) bad(i, first, "not the errno expected", r, e);
        } else {
            ok++;
            if (mustFail) bad(i, first, "succeeded", r, e);
            if (r < 0 || (rpsize >= 0 && r > rpsize) || r > 65536) bad(i, first, "length out of range", r, e);
            if (replyBad && r > 0) bad(i, first, "claims bytes written into an unwritable reply buffer", r, e);
            if (replyBad && r == 0 && rpsize > 0 && kind == 3) {
                /* info and ls_service have a non-empty reply: 0 bytes "delivered" is silent data loss;
                 * counted, reported by the test (the kernel answers EFAULT for such a buffer) */
                hist[0]++;
                if (strict) bad(i, first, "success with 0 bytes: reply buffer unwritable, no EFAULT", r, e);
            }
        }
    }
    /* afterwards the channel still answers a good request */
    long r = syscall(CTL, "info", 4, reply, 4096);
    printf("final info rc=%ld\n", r);
    printf("calls %ld\nok %ld\n", calls, ok);
    for (int e = 1; e < 4096; e++) {
        if (hist[e]) {
            const char *n = errname(e);
            if (n) printf("errno %s %ld\n", n, hist[e]);
            else printf("errno %d %ld\n", e, hist[e]);
        }
    }
    printf("silent-reply-loss %ld\n", hist[0]);
    printf("kinds");
    for (int k = 0; k < 6; k++) printf(" %s=%ld", kindNames[k], kinds[k]);
    printf("\nunexpected %ld\n", unexpected);
    return unexpected == 0 && r > 0 ? 0 : 1;
}
