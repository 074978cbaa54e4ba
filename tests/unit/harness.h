/* SPDX-License-Identifier: MIT */
/*
 * harness.h - the test harness shared by the hypervisor core unit tests
 * (test_core.c, test_evtchn.c).
 *
 * The core runs against a fake struct hv_env: a clock advanced by hand,
 * calloc'ed pages counted, and hooks that record how they were called (wake,
 * timers_changed, domain_kill, kick, port_notify, port_release,
 * upcall_release, log).  Guest memory is a struct guest_mem built by hand
 * over local buffers.  Helpers that assert use cmocka: include <cmocka.h>
 * in the test program.
 */
#ifndef PROCVISOR_TEST_HARNESS_H
#define PROCVISOR_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen_abi.h"

#include "guest.h"
#include "hv.h"

#define HOST_PAGES 65536u
#define DOM_KIB    1024u
#define T0         5000000000ull /* the fake CLOCK_MONOTONIC at boot */
#define MS         1000000ull
#define LOG_MAX    256u
#define LINE_MAX_  512u
#define NREG       8u
#define NOTE_MAX   16u
/* shared objects a domain holds: shared_info, start_info, the event
 * generation page and the grant table */
#define DOM_SHARED 4

/* What the fake environment saw. */
struct fake {
    uint64_t now;
    int pages; /* live pages from page_alloc */
    unsigned int seals;
    unsigned int wakes;
    void *wake_waiter;
    int64_t wake_ret;
    unsigned int timers_changed;
    unsigned int kills;
    struct hv_domain *killed;
    unsigned int kicks;
    struct hv_domain *kick_dom;
    unsigned int kick_vcpu;
    unsigned int notifies;
    void *notified[NOTE_MAX];
    unsigned int releases;
    void *released[NOTE_MAX];
    unsigned int upcall_releases;
    intptr_t upcall_released;
    unsigned int nlog;
    char log[LOG_MAX][LINE_MAX_];
};

struct t {
    struct fake f;
    struct hv hv;
    struct hv_domain *dom0;
    struct gm_region r[NREG];
    struct guest_mem gm;
};

/* Whether a logged line contains needle. */
bool log_has(const struct t *t, const char *needle);

/* fixtures: a fresh core, or one with Domain-0 (d0) in t->dom0; teardown
 * fails the test if any page the core allocated did not go back */
int setup_hv(void **state);
int setup_dom0(void **state);
int teardown(void **state);

#define TD(f) cmocka_unit_test_setup_teardown(f, setup_dom0, teardown)

/* domains: DOM_KIB of memory, 2 vCPUs, Xen's default limits */
struct hv_domain_cfg cfg_of(const char *name, uint32_t flags);
struct hv_domain *mkdom_cfg(struct t *t, const struct hv_domain_cfg *c);
struct hv_domain *mkdom(struct t *t, const char *name, uint32_t flags);
/* A domain's one connection opens and closes: it exits and is dead. */
void kill_domain(struct t *t, struct hv_domain *d);

/* guest memory and hypercalls */
void gm_clear(struct t *t);
struct gm_region *gm_add(struct t *t, uint64_t addr, void *buf, size_t len,
                         uint32_t flags);
int64_t hcv(struct t *t, struct hv_domain *d, unsigned int vcpu, void *waiter,
            uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2);
int64_t hc(struct t *t, struct hv_domain *d, uint64_t op, uint64_t a0,
           uint64_t a1, uint64_t a2);

struct shared_info *shinfo(struct hv_domain *d);
void advance(struct t *t, uint64_t ns);

#endif
