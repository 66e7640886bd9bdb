/* 64 threads at once, each creating, writing, reading back and deleting files in DIR and computing
 * a checksum; all 64 are alive together (a barrier). Deterministic output, same natively and in a
 * view.
 *
 *   threads64 DIR [THREADS] [ROUNDS]
 *
 * Prints one line per thread (in thread order) and "threads N files M sum S".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;
static int rounds;
static pthread_barrier_t barrier;

struct result {
    uint64_t sum;
    int files, errors;
    int firstErrno;
};
static struct result results[1024];

static uint64_t fnv(const void *p, size_t n, uint64_t h) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void *work(void *arg) {
    int id = (int)(intptr_t)arg;
    struct result *r = &results[id];
    r->sum = 1469598103934665603ULL;
    pthread_barrier_wait(&barrier); /* all threads exist now */
    char path[4096], data[512], back[512];
    for (int i = 0; i < rounds; i++) {
        snprintf(path, sizeof path, "%s/t%02d-%03d", dir, id, i);
        int n = snprintf(data, sizeof data, "thread %d round %d payload %lu\n", id, i, (unsigned long)(id * 7919UL + i * 104729UL));
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, data, n) != n || close(fd) != 0) {
            if (!r->errors++) r->firstErrno = errno;
            continue;
        }
        fd = open(path, O_RDONLY);
        ssize_t got = fd < 0 ? -1 : read(fd, back, sizeof back);
        struct stat st;
        if (fd < 0 || got != n || memcmp(back, data, n) != 0 || fstat(fd, &st) != 0 || st.st_size != n) {
            if (!r->errors++) r->firstErrno = errno;
        }
        if (fd >= 0) close(fd);
        if (unlink(path) != 0 && !r->errors++) r->firstErrno = errno;
        r->files++;
        /* some computing between the calls */
        uint64_t h = fnv(back, got > 0 ? (size_t)got : 0, r->sum);
        for (int k = 0; k < 2000; k++) h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        r->sum = h;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: threads64 DIR [THREADS] [ROUNDS]\n");
        return 2;
    }
    dir = argv[1];
    int n = argc > 2 ? atoi(argv[2]) : 64;
    rounds = argc > 3 ? atoi(argv[3]) : 50;
    if (n < 1 || n > 1024) return 2;
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    pthread_t th[1024];
    for (int i = 0; i < n; i++) {
        int e = pthread_create(&th[i], NULL, work, (void *)(intptr_t)i);
        if (e != 0) {
            printf("pthread_create %d: %s\n", i, strerror(e));
            return 1;
        }
    }
    uint64_t total = 0;
    int files = 0, errors = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        printf("thread %02d files %d errors %d sum %016llx%s%s\n", i, results[i].files, results[i].errors,
               (unsigned long long)results[i].sum, results[i].errors ? " first error " : "",
               results[i].errors ? strerror(results[i].firstErrno) : "");
        total ^= results[i].sum;
        files += results[i].files;
        errors += results[i].errors;
    }
    printf("threads %d files %d errors %d sum %016llx\n", n, files, errors, (unsigned long long)total);
    return errors ? 1 : 0;
}
