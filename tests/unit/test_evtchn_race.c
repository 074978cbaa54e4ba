/* SPDX-License-Identifier: MIT */
/*
 * test_evtchn_race.c - no lost wake-up when sends race with unmasks.
 *
 * Two threads play the two sides of each delivery protocol against each
 * other, as the daemon (or a peer domain) and a domain do on shared
 * memory:
 *  - the 2-level ABI in shared_info: the hypervisor's set_pending
 *    (hv_evtchn_set_pending, serialised as the daemon's one thread is)
 *    against a guest that masks, acks and unmasks the way Linux does;
 *  - a device-attached port's cell (proto.h) against its receiver.
 * Each round the sender raises one event only after the receiver has
 * taken the previous one, so a single lost wake-up stalls the test; the
 * receiver also masks and unmasks at random around the sends.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hv.h"
#include "proto.h"

#define ROUNDS   200000
#define STALL_NS (5ull * 1000 * 1000 * 1000)

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the cell protocol ---- */

struct cell_test {
    struct pv_evtchn_cell cell;
    uint64_t signals; /* the eventfd's counter */
    uint64_t taken;   /* events the receiver delivered */
    bool stalled;
};

static void cell_send(struct cell_test *t)
{
    if (!__atomic_exchange_n(&t->cell.pending, 1, __ATOMIC_SEQ_CST) &&
        !__atomic_load_n(&t->cell.masked, __ATOMIC_SEQ_CST)) {
        __atomic_add_fetch(&t->signals, 1, __ATOMIC_SEQ_CST);
    }
}

static void *cell_receiver(void *arg)
{
    struct cell_test *t = arg;
    unsigned int seed = 1;

    while (__atomic_load_n(&t->taken, __ATOMIC_SEQ_CST) < ROUNDS &&
           !__atomic_load_n(&t->stalled, __ATOMIC_SEQ_CST)) {
        /* consume the wake-up (yield while none: the test must also pass
         * on a loaded machine) */
        if (__atomic_exchange_n(&t->signals, 0, __ATOMIC_SEQ_CST) == 0) {
            sched_yield();
            continue;
        }
        /* deliver: mask, then take the pending bit */
        __atomic_store_n(&t->cell.masked, 1, __ATOMIC_SEQ_CST);
        bool got = __atomic_exchange_n(&t->cell.pending, 0, __ATOMIC_SEQ_CST);
        if (got) {
            __atomic_add_fetch(&t->taken, 1, __ATOMIC_SEQ_CST);
        }
        /* a while masked, sometimes, then unmask */
        if ((rand_r(&seed) & 7) == 0) {
            for (volatile int i = 0; i < 50; i++) {
            }
        }
        __atomic_store_n(&t->cell.masked, 0, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&t->cell.pending, __ATOMIC_SEQ_CST)) {
            __atomic_add_fetch(&t->signals, 1, __ATOMIC_SEQ_CST);
        }
    }
    return NULL;
}

static void test_cell_no_lost_wakeup(void **state)
{
    struct cell_test t;
    pthread_t th;

    (void)state;
    memset(&t, 0, sizeof(t));
    assert_int_equal(pthread_create(&th, NULL, cell_receiver, &t), 0);
    for (uint64_t k = 1; k <= ROUNDS; k++) {
        uint64_t t0 = mono_ns();
        cell_send(&t);
        while (__atomic_load_n(&t.taken, __ATOMIC_SEQ_CST) < k) {
            sched_yield();
            if (mono_ns() - t0 > STALL_NS) {
                __atomic_store_n(&t.stalled, true, __ATOMIC_SEQ_CST);
                pthread_join(th, NULL);
                fail_msg("event %llu was lost", (unsigned long long)k);
            }
        }
    }
    pthread_join(th, NULL);
    assert_int_equal(t.taken, ROUNDS);
}

/* ---- the 2-level ABI ---- */

static struct {
    struct hv hv;
    struct hv_domain *d;
    uint8_t *pages[8];
    int npages;
    /* guards the core, as the daemon's single thread does */
    pthread_mutex_t core;
    uint64_t kicks; /* the vCPU's upcall eventfd */
    uint64_t taken;
    bool stalled;
    uint32_t port;
} g;

static uint64_t env_now(void *ctx)
{
    (void)ctx;
    return mono_ns();
}

static int env_page_alloc(void *ctx, struct hv_page *pg)
{
    (void)ctx;
    pg->va = calloc(pg->npages ? pg->npages : 1, 4096);
    pg->cookie = NULL;
    return pg->va ? 0 : -1;
}

static void env_page_free(void *ctx, struct hv_page *pg)
{
    (void)ctx;
    free(pg->va);
    pg->va = NULL;
}

static int env_page_seal(void *ctx, struct hv_page *pg)
{
    (void)ctx;
    (void)pg;
    return 0;
}

static void env_nop_wake(void *ctx, void *w, int64_t ret)
{
    (void)ctx;
    (void)w;
    (void)ret;
}

static void env_nop(void *ctx)
{
    (void)ctx;
}

static void env_nop_kill(void *ctx, struct hv_domain *d)
{
    (void)ctx;
    (void)d;
}

static void env_kick(void *ctx, struct hv_domain *d, struct hv_vcpu *v)
{
    (void)ctx;
    (void)d;
    (void)v;
    __atomic_add_fetch(&g.kicks, 1, __ATOMIC_SEQ_CST);
}

/* The guest: Linux's upcall handler order, with Linux's unmask. */
static void *guest(void *arg)
{
    struct shared_info *s = g.d->shinfo_pg.va;
    struct vcpu_info *vi = &s->vcpu_info[0];
    uint32_t p = g.port;
    uint64_t bit = 1ull << (p % 64);
    uint64_t *pend = (uint64_t *)&s->evtchn_pending[p / 64];
    uint64_t *mask = (uint64_t *)&s->evtchn_mask[p / 64];
    unsigned int seed = 2;

    (void)arg;
    while (__atomic_load_n(&g.taken, __ATOMIC_SEQ_CST) < ROUNDS &&
           !__atomic_load_n(&g.stalled, __ATOMIC_SEQ_CST)) {
        if (__atomic_exchange_n(&g.kicks, 0, __ATOMIC_SEQ_CST) == 0) {
            sched_yield();
            continue;
        }
        do {
            /* 1. upcall_pending = 0 before the selector */
            __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
            /* 2. take the selector */
            uint64_t sel = __atomic_exchange_n(
                (uint64_t *)&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
            /* 3. pending & ~mask in the selected words */
            if ((sel >> (p / 64)) & 1) {
                uint64_t ready = __atomic_load_n(pend, __ATOMIC_SEQ_CST) &
                                 ~__atomic_load_n(mask, __ATOMIC_SEQ_CST);
                if (ready & bit) {
                    /* 4. mask and ack before handling */
                    __atomic_fetch_or(mask, bit, __ATOMIC_SEQ_CST);
                    __atomic_fetch_and(pend, ~bit, __ATOMIC_SEQ_CST);
                    __atomic_add_fetch(&g.taken, 1, __ATOMIC_SEQ_CST);
                    if ((rand_r(&seed) & 7) == 0) {
                        for (volatile int i = 0; i < 50; i++) {
                        }
                    }
                    /* Linux's unmask: clear the mask, then if pending,
                     * re-mark the selector and upcall itself */
                    __atomic_fetch_and(mask, ~bit, __ATOMIC_SEQ_CST);
                    if (__atomic_load_n(pend, __ATOMIC_SEQ_CST) & bit) {
                        __atomic_fetch_or((uint64_t *)&vi->evtchn_pending_sel,
                                          1ull << (p / 64), __ATOMIC_SEQ_CST);
                        if (!__atomic_exchange_n(&vi->evtchn_upcall_pending, 1,
                                                 __ATOMIC_SEQ_CST)) {
                            __atomic_add_fetch(&g.kicks, 1, __ATOMIC_SEQ_CST);
                        }
                    }
                }
            }
            /* 5. again while upcall_pending was raised meanwhile */
        } while (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    }
    return NULL;
}

static void test_2l_no_lost_wakeup(void **state)
{
    struct hv_env env = {
        .now_ns = env_now,
        .page_alloc = env_page_alloc,
        .page_free = env_page_free,
        .page_seal = env_page_seal,
        .wake = env_nop_wake,
        .timers_changed = env_nop,
        .domain_kill = env_nop_kill,
        .kick = env_kick,
    };
    struct hv_domain_cfg cfg = {
        .name = "Domain-0",
        .memory_kib = 64,
        .max_grant_frames = 1,
        .max_maptrack = 1,
        .max_evtchn = 64,
        .max_vcpus = 1,
    };
    pthread_t th;

    (void)state;
    memset(&g, 0, sizeof(g));
    pthread_mutex_init(&g.core, NULL);
    assert_int_equal(hv_init(&g.hv, &env, 1024), 0);
    assert_int_equal(hv_domain_create(&g.hv, &cfg, &g.d), 0);
    /* an IPI port: sends raise it on the domain itself */
    g.port = 5;
    g.d->evtchn[g.port].state = ECS_IPI;
    g.d->vcpu[0].upcall = 0;
    assert_int_equal(pthread_create(&th, NULL, guest, NULL), 0);
    for (uint64_t k = 1; k <= ROUNDS; k++) {
        uint64_t t0 = mono_ns();
        pthread_mutex_lock(&g.core);
        hv_evtchn_set_pending(&g.hv, g.d, g.port);
        pthread_mutex_unlock(&g.core);
        while (__atomic_load_n(&g.taken, __ATOMIC_SEQ_CST) < k) {
            sched_yield();
            if (mono_ns() - t0 > STALL_NS) {
                __atomic_store_n(&g.stalled, true, __ATOMIC_SEQ_CST);
                pthread_join(th, NULL);
                hv_fini(&g.hv);
                fail_msg("event %llu was lost", (unsigned long long)k);
            }
        }
    }
    pthread_join(th, NULL);
    assert_int_equal(g.taken, ROUNDS);
    hv_fini(&g.hv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_no_lost_wakeup),
        cmocka_unit_test(test_2l_no_lost_wakeup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
