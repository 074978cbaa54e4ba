/* SPDX-License-Identifier: MIT */
/*
 * api_probe.c - uses libprocvisor's public API from inside a domain:
 * start_info, shared_info, the pvclock, SCHEDOP_block and the read-only
 * protection of start_info.  Prints key=value lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "xen_abi.h"

#include "procvisor/procvisor.h"

static uint64_t realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    pv_handle *h = pv_open();
    const struct start_info *si;
    struct shared_info *s;

    if (!h) {
        perror("pv_open");
        return 1;
    }
    printf("domid=%d\n", pv_domid(h));
    si = pv_start_info(h);
    s = pv_shared_info(h);
    if (!si || !s) {
        perror("map");
        return 1;
    }
    printf("magic=%s\n", si->magic);
    printf("si_flags=%#x\n", si->flags);
    printf("nr_pages=%lu\n", (unsigned long)si->nr_pages);
    printf("shared_info_maddr_nonzero=%d\n", si->shared_info != 0);

    /* start_info is read-only, and cannot be made writable */
    printf("start_info_mprotect_rw=%d\n",
           mprotect((void *)si, 4096, PROT_READ | PROT_WRITE) == 0 ? 0
                                                                   : -errno);

    /* pvclock: system time + wall clock offset against CLOCK_REALTIME */
    uint32_t wv;
    uint64_t epoch0, t1, t2, now;
    do {
        wv = __atomic_load_n(&s->wc_version, __ATOMIC_ACQUIRE);
        epoch0 =
            ((uint64_t)s->xen_wc_sec_hi << 32 | s->wc_sec) * 1000000000ull +
            s->wc_nsec;
    } while ((wv & 1) ||
             wv != __atomic_load_n(&s->wc_version, __ATOMIC_ACQUIRE));
    t1 = pv_system_time(h, 0);
    now = realtime_ns();
    t2 = pv_system_time(h, 0);
    int64_t skew = (int64_t)(epoch0 + t1) - (int64_t)now;
    printf("time_version_even=%d\n", (s->vcpu_info[0].time.version & 1) == 0);
    printf("tsc_mul_nonzero=%d\n", s->vcpu_info[0].time.tsc_to_system_mul != 0);
    printf("clock_monotonic=%d\n", t2 >= t1);
    printf("clock_skew_ok=%d\n", skew < 2000000 && skew > -2000000);
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        printf("clock_skew_ns=%" PRId64 "\n", skew);
    }

    /* SCHEDOP_block with an event pending returns at once and unmasks */
    s->vcpu_info[0].evtchn_upcall_mask = 1;
    s->vcpu_info[0].evtchn_upcall_pending = 1;
    printf("block=%ld\n",
           pv_hypercall(h, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0));
    printf("upcall_mask_after_block=%d\n", s->vcpu_info[0].evtchn_upcall_mask);
    s->vcpu_info[0].evtchn_upcall_pending = 0;

    pv_close(h);
    return 0;
}
