/* SPDX-License-Identifier: MIT */
/*
 * bench.h - what every benchmark uses: the clock and the median of its
 * batches, pinning a process to a cpu, and the vchan-style ring floor
 * (bench_grant.c's ring over grants and bench_xs.c's libxenvchan are both
 * measured against it).
 */
#ifndef PROCVISOR_BENCH_H
#define PROCVISOR_BENCH_H

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of n samples (sorts them). */
static inline double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Pin the calling process to cpu (nothing if cpu < 0). */
static inline void bench_pin(int cpu)
{
    cpu_set_t s;

    if (cpu < 0) {
        return;
    }
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof(s), &s);
}

/*
 * ---- a vchan-style ring, over any memory and any wake-up ----
 *
 * A single-producer single-consumer byte ring of RING_MSG messages in
 * RING_BYTES of data after one control page; a side sleeps only when the
 * ring is empty (consumer) or full (producer), after announcing it in the
 * control page, and the other side notifies only then, as libxenvchan
 * does.  RING_BYTES is libxenvchan's ring of order 16.
 */
#define RING_PAGES 16 /* 64 KiB of data */
#define RING_BYTES (RING_PAGES * 4096u)
#define RING_MSG   4096u

struct ring_ctl {
    volatile uint64_t prod, cons;
    volatile uint32_t cons_waiting, prod_waiting;
    volatile uint32_t ready;
};

struct waker {
    void (*notify)(struct waker *w);
    void (*wait)(struct waker *w);
    void *ctx; /* the benchmark's handle, e.g. its xenevtchn_handle */
    int port;
    int efd_tx, efd_rx; /* the floor's eventfds */
};

static inline void efd_notify(struct waker *w)
{
    uint64_t one = 1;
    if (write(w->efd_tx, &one, sizeof(one)) < 0) {
        perror("eventfd write");
    }
}

static inline void efd_wait(struct waker *w)
{
    uint64_t v;
    if (read(w->efd_rx, &v, sizeof(v)) < 0) {
        perror("eventfd read");
    }
}

static inline void ring_produce(struct ring_ctl *c, uint8_t *data,
                                struct waker *w, uint64_t total)
{
    static uint8_t msg[RING_MSG];

    memset(msg, 0x5a, sizeof(msg));
    for (uint64_t sent = 0; sent < total; sent += RING_MSG) {
        while (c->prod - __atomic_load_n(&c->cons, __ATOMIC_ACQUIRE) +
                   RING_MSG >
               RING_BYTES) {
            __atomic_store_n(&c->prod_waiting, 1, __ATOMIC_SEQ_CST);
            if (c->prod - __atomic_load_n(&c->cons, __ATOMIC_SEQ_CST) +
                    RING_MSG <=
                RING_BYTES) {
                __atomic_store_n(&c->prod_waiting, 0, __ATOMIC_RELAXED);
                break;
            }
            w->wait(w);
            __atomic_store_n(&c->prod_waiting, 0, __ATOMIC_RELAXED);
        }
        memcpy(data + (c->prod % RING_BYTES), msg, RING_MSG);
        __atomic_store_n(&c->prod, c->prod + RING_MSG, __ATOMIC_RELEASE);
        if (__atomic_load_n(&c->cons_waiting, __ATOMIC_SEQ_CST)) {
            w->notify(w);
        }
    }
}

static inline uint64_t ring_consume(struct ring_ctl *c, uint8_t *data,
                                    struct waker *w, uint64_t total)
{
    static uint8_t msg[RING_MSG];
    uint64_t sum = 0;

    for (uint64_t got = 0; got < total; got += RING_MSG) {
        while (__atomic_load_n(&c->prod, __ATOMIC_ACQUIRE) == c->cons) {
            __atomic_store_n(&c->cons_waiting, 1, __ATOMIC_SEQ_CST);
            if (__atomic_load_n(&c->prod, __ATOMIC_SEQ_CST) != c->cons) {
                __atomic_store_n(&c->cons_waiting, 0, __ATOMIC_RELAXED);
                break;
            }
            w->wait(w);
            __atomic_store_n(&c->cons_waiting, 0, __ATOMIC_RELAXED);
        }
        memcpy(msg, data + (c->cons % RING_BYTES), RING_MSG);
        sum += msg[got / RING_MSG % RING_MSG];
        __atomic_store_n(&c->cons, c->cons + RING_MSG, __ATOMIC_RELEASE);
        if (__atomic_load_n(&c->prod_waiting, __ATOMIC_SEQ_CST)) {
            w->notify(w);
        }
    }
    return sum;
}

/*
 * The ring's floor: the same ring code over a plain shared memfd between
 * two processes woken by eventfds.  A forked producer (pinned to cpu)
 * streams bytes to the caller, which consumes them; returns GB/s.
 */
static inline double ring_floor(int cpu, uint64_t bytes)
{
    size_t len = (RING_PAGES + 1) * 4096;
    int mfd = memfd_create("ring", 0);
    int e1 = eventfd(0, 0), e2 = eventfd(0, 0);
    uint8_t *mem;
    pid_t pid;

    if (mfd < 0 || e1 < 0 || e2 < 0 || ftruncate(mfd, (off_t)len) < 0) {
        perror("ring floor setup");
        exit(1);
    }
    mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (mem == MAP_FAILED) {
        perror("ring floor mmap");
        exit(1);
    }
    pid = fork();
    if (pid == 0) {
        struct waker w = {
            .notify = efd_notify, .wait = efd_wait, .efd_tx = e1, .efd_rx = e2};
        bench_pin(cpu);
        ring_produce((struct ring_ctl *)mem, mem + 4096, &w, bytes);
        _exit(0);
    }
    struct waker w = {
        .notify = efd_notify, .wait = efd_wait, .efd_tx = e2, .efd_rx = e1};
    uint64_t t0 = now_ns();
    ring_consume((struct ring_ctl *)mem, mem + 4096, &w, bytes);
    double s = (double)(now_ns() - t0) / 1e9;
    waitpid(pid, NULL, 0);
    munmap(mem, len);
    close(mfd);
    close(e1);
    close(e2);
    return (double)bytes / s / 1e9;
}

#endif
