/* SPDX-License-Identifier: MIT */
/*
 * time.c - the pvclock: every vCPU's vcpu_time_info and the wall clock in
 * shared_info, written with Xen's version protocol (odd while updating).
 *
 * A guest computes system time as
 *   system_time + (((tsc - tsc_timestamp) << shift) * mul >> 32)
 * (a negative shift shifts right).  The environment re-anchors the clock
 * periodically so the guest's extrapolation never drifts far.
 */
#include <string.h>

#include "hv.h"
#include "pvclock.h"

#define NS_PER_S 1000000000ull

void hv_time_scale(uint64_t tsc_hz, uint32_t *mul, int8_t *shift)
{
    uint64_t hz = tsc_hz ? tsc_hz : NS_PER_S;
    int s = 0;

    /* bring the rate into (1e9, 2e9] so that mul = 2^32 * 1e9 / hz fits in
     * 32 bits with its top bit set, as Xen's set_time_scale() does */
    while (hz > 2 * NS_PER_S) {
        hz >>= 1;
        s--;
    }
    while (hz <= NS_PER_S) {
        hz <<= 1;
        s++;
    }
    *mul = (uint32_t)((NS_PER_S << 32) / hz);
    *shift = (int8_t)s;
}

uint64_t hv_tsc_to_ns(uint64_t delta, uint32_t mul, int8_t shift)
{
    return pvclock_scale(delta, mul, shift);
}

static void publish_vcpu(struct vcpu_time_info *t, const struct hv *hv)
{
    uint32_t v = t->version;

    /* odd: readers retry until the update is complete */
    __atomic_store_n(&t->version, (v + 1) | 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    t->tsc_timestamp = hv->tsc_base;
    t->system_time = hv->sys_base;
    t->tsc_to_system_mul = hv->tsc_mul;
    t->tsc_shift = hv->tsc_shift;
    t->flags = hv->tsc_stable ? XEN_PVCLOCK_TSC_STABLE_BIT : 0;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&t->version, ((v + 1) | 1) + 1, __ATOMIC_RELAXED);
}

void hv_time_publish(struct hv *hv, struct hv_domain *d)
{
    struct shared_info *s = d->shinfo_pg.va;
    uint32_t v;

    if (!s) {
        return;
    }
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        publish_vcpu(&s->vcpu_info[i].time, hv);
    }
    v = s->wc_version;
    __atomic_store_n(&s->wc_version, (v + 1) | 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    s->wc_sec = hv->wc_sec;
    s->wc_nsec = hv->wc_nsec;
    s->xen_wc_sec_hi = hv->wc_sec_hi;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&s->wc_version, ((v + 1) | 1) + 1, __ATOMIC_RELAXED);
}

void hv_time_anchor(struct hv *hv, uint64_t tsc_hz, bool stable, uint64_t tsc,
                    uint64_t mono_ns, uint64_t wall_ns)
{
    uint64_t sys = mono_ns - hv->boot_ns;
    uint64_t epoch0 = wall_ns - sys; /* epoch ns at system time 0 */

    hv->tsc_hz = tsc_hz;
    hv->tsc_stable = stable;
    hv_time_scale(tsc_hz, &hv->tsc_mul, &hv->tsc_shift);
    hv->tsc_base = tsc;
    hv->sys_base = sys;
    hv->wc_sec = (uint32_t)(epoch0 / NS_PER_S);
    hv->wc_sec_hi = (uint32_t)((epoch0 / NS_PER_S) >> 32);
    hv->wc_nsec = (uint32_t)(epoch0 % NS_PER_S);
    for (struct hv_domain *d = hv->domains; d; d = d->next) {
        hv_time_publish(hv, d);
    }
}
