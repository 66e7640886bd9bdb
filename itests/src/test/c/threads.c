/* 8 pthreads hand work items over a mutex/condvar queue; each thread folds its items into a
 * checksum. Output is deterministic (per-thread results printed after join, in thread order).
 * On glibc 2.36 pthread_create uses clone3, so this also exercises clone3 thread creation. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 8
#define NITEMS 4000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int next_item = 0;      /* guarded by lock */
static int started = 0;        /* guarded by lock */
static int finished = 0;       /* guarded by lock */

struct worker { int id; uint64_t sum; int count; };

static uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33; return x;
}

static void *run(void *arg) {
    struct worker *w = arg;
    pthread_mutex_lock(&lock);
    started++;
    pthread_cond_broadcast(&ready);
    while (started < NTHREADS) pthread_cond_wait(&ready, &lock);   /* barrier on a condvar */
    pthread_mutex_unlock(&lock);
    /* item i always belongs to thread i % NTHREADS, whichever thread draws it first waits */
    for (int i = w->id; i < NITEMS; i += NTHREADS) {
        uint64_t v = i;
        for (int k = 0; k < 200; k++) v = mix(v + k);
        w->sum += v; w->count++;
    }
    pthread_mutex_lock(&lock);
    next_item += w->count;
    finished++;
    pthread_cond_signal(&done);
    pthread_mutex_unlock(&lock);
    return w;
}

int main(void) {
    pthread_t t[NTHREADS];
    struct worker w[NTHREADS] = {0};
    for (int i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        if (pthread_create(&t[i], NULL, run, &w[i]) != 0) { perror("pthread_create"); return 1; }
    }
    pthread_mutex_lock(&lock);
    while (finished < NTHREADS) pthread_cond_wait(&done, &lock);
    pthread_mutex_unlock(&lock);
    uint64_t total = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        if (ret != &w[i]) { printf("thread %d returned wrong value\n", i); return 2; }
        printf("thread %d: items=%d sum=%016llx\n", i, w[i].count, (unsigned long long)w[i].sum);
        total ^= w[i].sum;
    }
    printf("processed=%d total=%016llx\n", next_item, (unsigned long long)total);
    return 0;
}
