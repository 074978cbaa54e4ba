/* SPDX-License-Identifier: MIT */
/*
 * test_core.c - unit tests for the hypervisor core (src/hv): boot, domain
 * lifecycle, the hypercalls (xen_version, console_io, vm_assist, multicall,
 * sched_op, set_timer_op, vcpu_op, memory_op), timers and the pvclock.
 *
 * The core runs against the fake struct hv_env of harness.c (shared with
 * test_evtchn.c): a clock advanced by hand, calloc'ed pages, and hooks that
 * record how they were called.  Guest memory is a struct guest_mem built by
 * hand over local buffers.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xen_abi.h"

#include "guest.h"
#include "hcall.h"
#include "hv.h"
#include "proto.h"

#include "harness.h"

#define DOM_PAGES (DOM_KIB / 4u)
#define SEC       1000000000ull

static int create(struct t *t, const char *name, uint32_t flags,
                  struct hv_domain **out)
{
    struct hv_domain_cfg c = cfg_of(name, flags);

    return hv_domain_create(&t->hv, &c, out);
}

/* the bytes the hypervisor console gained since `from` */
static size_t cons_since(const struct t *t, uint64_t from, char *out,
                         size_t cap)
{
    size_t n = 0;

    for (uint64_t i = from; i < t->hv.cons_prod && n < cap; i++) {
        out[n++] = t->hv.cons_ring[i % HV_CONSOLE_RING];
    }
    return n;
}

/* ---- boot and domains ---- */

static void test_init_fini(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;

    assert_int_equal(hv->nr_frames, HOST_PAGES);
    /* mfn 0 is reserved */
    assert_int_equal(hv->free_frames, HOST_PAGES - 1);
    assert_int_equal(hv->frames[0].owner, DOMID_XEN);
    assert_int_equal(hv->frames[1].owner, DOMID_INVALID);
    assert_int_equal(hv->frames[HOST_PAGES - 1].owner, DOMID_INVALID);
    assert_int_equal(hv->frames[1].gpfn, HV_INVALID_GPFN);
    assert_int_equal(hv->next_domid, 1);
    assert_null(hv->domains);
    assert_null(hv->dead);
    assert_true(hv->console_write_all);
    assert_non_null(hv->cons_ring);
    assert_string_equal(hv->extraversion, ".0-procvisor");
    /* a 1 GHz TSC until anchored */
    assert_int_equal(hv->tsc_hz, SEC);
    assert_int_equal(hv->tsc_mul, 0x80000000u);
    assert_int_equal(hv->tsc_shift, 1);

    /* system time counts from boot */
    assert_int_equal(hv->boot_ns, T0);
    assert_int_equal(hv_now(hv), 0);
    advance(t, 123);
    assert_int_equal(hv_now(hv), 123);
    assert_int_equal(hv_next_deadline(hv), 0);

    /* a log line goes to the console ring and to the environment */
    hv_logf(hv, "hello %d", 42);
    assert_int_equal(t->f.nlog, 1);
    assert_string_equal(t->f.log[0], "hello 42");
    assert_int_equal(hv->cons_prod, strlen("(XEN) hello 42\n"));
    assert_memory_equal(hv->cons_ring, "(XEN) hello 42\n", hv->cons_prod);

    hv_fini(hv);
    assert_null(hv->frames);
    assert_null(hv->cons_ring);
    assert_int_equal(hv->nr_frames, 0);
}

static void test_dom0_create(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = NULL, *u;
    struct start_info *si;

    assert_int_equal(create(t, "Domain-0", 0, &d), 0);
    assert_non_null(d);
    assert_int_equal(d->id, 0);
    assert_true(d->privileged);
    assert_string_equal(d->name, "Domain-0");
    assert_int_equal(d->state, PV_DOM_RUNNING);
    assert_int_equal(d->reason, PV_REASON_NONE);
    assert_int_equal(d->shutdown_code, -1);
    assert_true(d->translated);
    assert_int_equal(d->max_pages, DOM_PAGES);
    assert_int_equal(d->tot_pages, DOM_PAGES);
    assert_int_equal(d->max_vcpus, 2);
    assert_int_equal(d->shinfo_gpfn, HV_INVALID_GPFN);
    assert_int_equal(d->created_ns, 0);
    /* its memory, plus the shared_info frame and its grant-table frames */
    assert_int_equal(hv->free_frames,
                     HOST_PAGES - 1 - DOM_PAGES - 1 - HV_DEFAULT_GRANT_FRAMES);
    assert_int_equal(hv->frames[d->shinfo_mfn].owner, 0);
    for (uint64_t g = 0; g < DOM_PAGES; g++) {
        uint64_t m = d->p2m[g];
        assert_true(m != HV_INVALID_MFN && m != 0 && m < HOST_PAGES);
        assert_int_equal(hv->frames[m].owner, 0);
        assert_int_equal(hv->frames[m].gpfn, g);
    }
    assert_int_equal(d->p2m[DOM_PAGES], HV_INVALID_MFN);
    assert_int_equal(d->p2m_size, DOM_PAGES + 1024);
    /* shared_info, start_info and the event channel generation page; the
     * last two sealed */
    assert_int_equal(t->f.pages, DOM_SHARED);
    assert_int_equal(t->f.seals, 2);
    assert_true(t->f.timers_changed >= 1);
    si = d->startinfo_pg.va;
    assert_string_equal(si->magic, "xen-4.17-x86_64");
    assert_int_equal(si->nr_pages, DOM_PAGES);
    assert_int_equal(si->shared_info, d->shinfo_mfn << XEN_PAGE_SHIFT);
    assert_int_equal(si->flags, SIF_PRIVILEGED | SIF_INITDOMAIN);
    /* events start masked on every vCPU it has */
    assert_int_equal(shinfo(d)->vcpu_info[0].evtchn_upcall_mask, 1);
    assert_int_equal(shinfo(d)->vcpu_info[1].evtchn_upcall_mask, 1);
    assert_int_equal(shinfo(d)->vcpu_info[2].evtchn_upcall_mask, 0);
    assert_true(log_has(t, "created d0 (Domain-0): 256 pages, 2 vcpus"));
    assert_ptr_equal(hv_domain_find(hv, 0), d);
    assert_ptr_equal(hv_domain_find_name(hv, "Domain-0"), d);
    assert_ptr_equal(hv->domains, d);
    assert_int_equal(hv->next_domid, 1);

    /* the first domU is d1, unprivileged and not yet running */
    u = mkdom(t, "alpha", 0);
    assert_int_equal(u->id, 1);
    assert_false(u->privileged);
    assert_int_equal(u->state, PV_DOM_CREATED);
    si = u->startinfo_pg.va;
    assert_int_equal(si->flags, 0);
    assert_ptr_equal(hv->domains->next, u);
    assert_int_equal(t->f.seals, 4);
}

static void test_dom0_name_only_first(void **state)
{
    struct t *t = *state;
    struct hv_domain *d = NULL;

    /* with dom0 present, "Domain-0" cannot be created again */
    assert_int_equal(create(t, "Domain-0", 0, &d), -EEXIST);
    assert_null(d);
}

static void test_domu_ids_and_names(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = NULL;
    struct hv_domain_cfg c;
    char name[80];
    uint64_t free0;
    int pages0;
    static const char *const bad[] = {
        "",      "12345",      "0",    "bad name", "bad/x", "caf\xc3\xa9",
        "tab\t", "semi;colon", "(d1)",
    };

    assert_int_equal(mkdom(t, "alpha", 0)->id, 1);
    assert_int_equal(mkdom(t, "beta", 0)->id, 2);

    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        d = NULL;
        assert_int_equal(create(t, bad[i], 0, &d), -EINVAL);
        assert_null(d);
    }
    /* too long: PV_NAME_MAX - 1 characters is the limit */
    memset(name, 'a', sizeof(name));
    name[PV_NAME_MAX] = '\0';
    assert_int_equal(create(t, name, 0, &d), -EINVAL);
    name[PV_NAME_MAX - 1] = '\0';
    assert_int_equal(mkdom(t, name, 0)->id, 3);
    /* digits are fine when the name is not only digits */
    assert_int_equal(mkdom(t, "1a", 0)->id, 4);
    assert_int_equal(mkdom(t, "A-z_0.9", 0)->id, 5);

    /* duplicates */
    assert_int_equal(create(t, "alpha", 0, &d), -EEXIST);
    assert_int_equal(create(t, "1a", 0, &d), -EEXIST);

    /* bad limits */
    free0 = hv->free_frames;
    pages0 = t->f.pages;
    c = cfg_of("gamma", 0);
    c.name = NULL;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    c = cfg_of("gamma", 0);
    c.max_vcpus = 0;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    c.max_vcpus = HV_MAX_VCPUS + 1;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    c = cfg_of("gamma", 0);
    c.max_evtchn = 0;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    c.max_evtchn = HV_MAX_EVTCHN_2L + 1;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    c = cfg_of("gamma", 0);
    c.max_grant_frames = 0;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    c = cfg_of("gamma", 0);
    c.max_maptrack = 0;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    c = cfg_of("gamma", 0);
    c.memory_kib = 3;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    c.memory_kib = (uint64_t)HOST_PAGES * 4 + 4;
    assert_int_equal(hv_domain_create(hv, &c, &d), -EINVAL);
    assert_int_equal(hv->free_frames, free0);
    assert_int_equal(t->f.pages, pages0);

    /* none of the failures used an id */
    assert_int_equal(mkdom(t, "gamma", 0)->id, 6);
}

static void test_create_out_of_memory(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = NULL;
    struct hv_domain_cfg c = cfg_of("huge", 0);
    uint64_t free0 = hv->free_frames;
    int pages0 = t->f.pages;

    /* fits the host but not what is left of it: everything is undone */
    c.memory_kib = (uint64_t)(HOST_PAGES - 1) * 4;
    assert_int_equal(hv_domain_create(hv, &c, &d), -ENOMEM);
    assert_null(d);
    assert_int_equal(hv->free_frames, free0);
    assert_int_equal(t->f.pages, pages0);
    for (uint64_t m = 1; m < HOST_PAGES; m++) {
        assert_true(hv->frames[m].owner == DOMID_INVALID ||
                    hv->frames[m].owner == 0);
    }
    assert_null(hv_domain_find_name(hv, "huge"));
    assert_null(hv->domains->next);
    d = mkdom(t, "huge", 0);
    assert_int_equal(d->tot_pages, DOM_PAGES);
}

static void test_domid_not_reused(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *a = mkdom(t, "a", 0), *b, *p;
    char name[16];

    assert_int_equal(a->id, 1);
    kill_domain(t, a);
    assert_null(hv_domain_find(hv, 1));
    assert_ptr_equal(hv->dead, a);
    assert_int_equal(hv->nr_dead, 1);

    /* the allocator comes round to 1 again: the dead record keeps it */
    hv->next_domid = 1;
    b = mkdom(t, "b", 0);
    assert_int_equal(b->id, 2);
    /* a dead domain's name may be used again, under a new id */
    assert_int_equal(mkdom(t, "a", 0)->id, 3);
    kill_domain(t, hv_domain_find(hv, 3));

    /* ids 4..66 die too: 65 deaths, the newest 64 records are kept */
    for (unsigned int i = 4; i <= 66; i++) {
        snprintf(name, sizeof(name), "dom%u", i);
        p = mkdom(t, name, 0);
        assert_int_equal(p->id, i);
        kill_domain(t, p);
    }
    assert_int_equal(hv->nr_dead, HV_DEAD_KEPT);
    for (p = hv->dead; p->next; p = p->next) {
    }
    assert_int_equal(p->id, 3); /* the oldest record kept */

    hv->next_domid = 1;
    assert_int_equal(mkdom(t, "again", 0)->id, 1);
    /* 2 is alive, 3..66 are dead records */
    assert_int_equal(mkdom(t, "next", 0)->id, 67);
}

static void test_lifecycle_exit(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    uint64_t free0 = hv->free_frames;
    struct hv_domain *d = mkdom(t, "alpha", 0), *e;
    unsigned int tc;

    assert_int_equal(hv->free_frames,
                     free0 - DOM_PAGES - 1 - HV_DEFAULT_GRANT_FRAMES);
    assert_int_equal(t->f.pages, 2 * DOM_SHARED);
    assert_int_equal(d->state, PV_DOM_CREATED);
    assert_int_equal(d->nr_conns, 0);

    hv_domain_conn_get(hv, d);
    assert_int_equal(d->state, PV_DOM_RUNNING);
    assert_int_equal(d->nr_conns, 1);
    hv_domain_conn_get(hv, d);
    assert_int_equal(d->nr_conns, 2);
    hv_domain_conn_put(hv, d);
    assert_int_equal(d->state, PV_DOM_RUNNING);
    assert_int_equal(d->nr_conns, 1);
    assert_int_equal(hv->free_frames,
                     free0 - DOM_PAGES - 1 - HV_DEFAULT_GRANT_FRAMES);

    tc = t->f.timers_changed;
    hv_domain_conn_put(hv, d);
    assert_int_equal(d->state, PV_DOM_DEAD);
    assert_int_equal(d->reason, PV_REASON_EXITED);
    assert_int_equal(d->nr_conns, 0);
    assert_int_equal(d->tot_pages, 0);
    assert_null(d->p2m);
    assert_null(d->shinfo_pg.va);
    assert_int_equal(hv->free_frames, free0);
    assert_int_equal(t->f.pages, DOM_SHARED);
    assert_null(hv_domain_find(hv, 1));
    assert_null(hv_domain_find_name(hv, "alpha"));
    assert_ptr_equal(hv->dead, d);
    assert_null(hv->domains->next);
    assert_true(t->f.timers_changed > tc);
    assert_true(log_has(t, "d1 (alpha) is dead: exited"));
    assert_string_equal(hv_reason_name(d->reason), "exited");
    assert_string_equal(hv_state_name(d->state), "dead");

    /* an extra put is ignored */
    hv_domain_conn_put(hv, d);
    assert_int_equal(d->nr_conns, 0);
    assert_int_equal(hv->nr_dead, 1);

    /* dom0 does not die when its connections go */
    hv_domain_conn_get(hv, t->dom0);
    hv_domain_conn_put(hv, t->dom0);
    assert_int_equal(t->dom0->state, PV_DOM_RUNNING);

    /* a shut-down domain keeps its reason when its processes exit */
    e = mkdom(t, "beta", 0);
    hv_domain_conn_get(hv, e);
    hv_domain_shutdown(hv, e, SHUTDOWN_crash);
    assert_int_equal(e->state, PV_DOM_SHUTDOWN);
    assert_int_equal(e->reason, SHUTDOWN_crash);
    hv_domain_conn_put(hv, e);
    assert_int_equal(e->state, PV_DOM_DEAD);
    assert_int_equal(e->reason, SHUTDOWN_crash);
    assert_int_equal(hv->free_frames, free0);
    assert_true(log_has(t, "d2 (beta) is dead: crash"));
}

static void test_destroy(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    uint64_t free0 = hv->free_frames;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    struct hv_domain *c = mkdom(t, "gamma", 0);

    /* with a connection: the environment is asked to kill it */
    hv_domain_conn_get(hv, a);
    assert_int_equal(hv_domain_destroy(hv, a), 0);
    assert_int_equal(a->state, PV_DOM_DYING);
    assert_int_equal(a->reason, PV_REASON_DESTROYED);
    assert_int_equal(t->f.kills, 1);
    assert_ptr_equal(t->f.killed, a);
    assert_ptr_equal(hv_domain_find(hv, 1), a);
    /* again: nothing more happens */
    assert_int_equal(hv_domain_destroy(hv, a), 0);
    assert_int_equal(t->f.kills, 1);
    /* a dying domain ignores a shutdown */
    hv_domain_shutdown(hv, a, SHUTDOWN_crash);
    assert_int_equal(a->state, PV_DOM_DYING);
    assert_int_equal(a->reason, PV_REASON_DESTROYED);
    /* the last connection closing finishes it */
    hv_domain_conn_put(hv, a);
    assert_int_equal(a->state, PV_DOM_DEAD);
    assert_int_equal(a->reason, PV_REASON_DESTROYED);
    assert_null(hv_domain_find(hv, 1));

    /* without connections: torn down at once */
    assert_int_equal(hv_domain_destroy(hv, b), 0);
    assert_int_equal(b->state, PV_DOM_DEAD);
    assert_int_equal(b->reason, PV_REASON_DESTROYED);
    assert_int_equal(t->f.kills, 1);

    /* a shutdown reason already latched is kept */
    hv_domain_conn_get(hv, c);
    hv_domain_shutdown(hv, c, SHUTDOWN_poweroff);
    assert_int_equal(hv_domain_destroy(hv, c), 0);
    assert_int_equal(c->state, PV_DOM_DYING);
    assert_int_equal(c->reason, SHUTDOWN_poweroff);
    assert_int_equal(t->f.kills, 2);
    assert_ptr_equal(t->f.killed, c);
    hv_domain_conn_put(hv, c);
    assert_int_equal(c->state, PV_DOM_DEAD);
    assert_int_equal(c->reason, SHUTDOWN_poweroff);

    assert_int_equal(hv->free_frames, free0);
    assert_int_equal(t->f.pages, DOM_SHARED);
    assert_int_equal(hv->nr_dead, 3);

    /* dom0 cannot be destroyed */
    assert_int_equal(hv_domain_destroy(hv, t->dom0), -EPERM);
    assert_int_equal(t->dom0->state, PV_DOM_RUNNING);
    assert_int_equal(t->dom0->reason, PV_REASON_NONE);
    assert_int_equal(t->f.kills, 2);
}

/* ---- xen_version ---- */

static void test_xenver_simple(void **state)
{
    struct t *t = *state;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    uint8_t ev[XEN_EXTRAVERSION_LEN], small[8];
    char caps[XEN_CAPABILITIES_INFO_LEN], cs[XEN_CHANGESET_INFO_LEN];
    struct xen_platform_parameters pp;
    struct xen_compile_info ci;
    uint8_t handle[16];
    struct gm_region *r;
    char expect[XEN_EXTRAVERSION_LEN] = ".0-procvisor";

    assert_int_equal(hc(t, d, __HYPERVISOR_xen_version, XENVER_version, 0, 0),
                     (4 << 16) | 17);
    assert_int_equal(hc(t, d, __HYPERVISOR_xen_version, XENVER_version, 0, 0),
                     0x40011);
    assert_int_equal(
        hc(t, t->dom0, __HYPERVISOR_xen_version, XENVER_version, 0, 0),
        0x40011);

    /* extraversion: all 16 bytes, NUL-padded */
    memset(ev, 0xFF, sizeof(ev));
    r = gm_add(t, 0x1000, ev, sizeof(ev), GM_OUT);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_extraversion, 0x1000, 0), 0);
    assert_memory_equal(ev, expect, sizeof(ev));
    assert_int_equal(r->dirty_lo, 0);
    assert_int_equal(r->dirty_hi, XEN_EXTRAVERSION_LEN);

    /* no region, or one too small: -EFAULT and nothing written */
    gm_clear(t);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_extraversion, 0x1000, 0),
        -EFAULT);
    memset(small, 0xFF, sizeof(small));
    gm_add(t, 0x1000, small, sizeof(small), GM_OUT);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_extraversion, 0x1000, 0),
        -EFAULT);
    assert_int_equal(small[0], 0xFF);

    /* capabilities: one token with a trailing space */
    gm_clear(t);
    memset(caps, 0x7F, sizeof(caps));
    gm_add(t, 0x2000, caps, sizeof(caps), GM_OUT);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_capabilities, 0x2000, 0), 0);
    assert_string_equal(caps, "xen-3.0-x86_64 ");
    for (size_t i = strlen("xen-3.0-x86_64 "); i < sizeof(caps); i++) {
        assert_int_equal(caps[i], 0);
    }

    gm_clear(t);
    memset(cs, 0x7F, sizeof(cs));
    gm_add(t, 0x3000, cs, sizeof(cs), GM_OUT);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_changeset, 0x3000, 0), 0);
    assert_string_equal(cs, "procvisor");

    gm_clear(t);
    memset(&pp, 0, sizeof(pp));
    gm_add(t, 0x4000, &pp, sizeof(pp), GM_OUT);
    assert_int_equal(hc(t, d, __HYPERVISOR_xen_version,
                        XENVER_platform_parameters, 0x4000, 0),
                     0);
    assert_int_equal(pp.virt_start, 0xFFFF800000000000ull);

    gm_clear(t);
    memset(&ci, 0x7F, sizeof(ci));
    gm_add(t, 0x5000, &ci, sizeof(ci), GM_OUT);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_compile_info, 0x5000, 0), 0);
    assert_string_equal(ci.compile_by, "procvisor");
    assert_string_equal(ci.compile_domain, "localdomain");

    gm_clear(t);
    memset(handle, 0x7F, sizeof(handle));
    gm_add(t, 0x6000, handle, sizeof(handle), GM_OUT);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_guest_handle, 0x6000, 0), 0);
    for (size_t i = 0; i < sizeof(handle); i++) {
        assert_int_equal(handle[i], 0);
    }

    /* pagesize takes no argument */
    assert_int_equal(hc(t, d, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0),
                     4096);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_pagesize, 0x6000, 0),
        -EINVAL);

    /* unknown sub-ops */
    assert_int_equal(hc(t, d, __HYPERVISOR_xen_version, 15, 0, 0), -ENOSYS);
    assert_int_equal(hc(t, d, __HYPERVISOR_xen_version, 99, 0x6000, 0),
                     -ENOSYS);
    assert_int_equal(hc(t, t->dom0, __HYPERVISOR_xen_version, 99, 0, 0),
                     -ENOSYS);
}

static int64_t get_features(struct t *t, struct hv_domain *d, uint32_t idx,
                            uint32_t *submap)
{
    struct xen_feature_info fi = {.submap_idx = idx, .submap = 0xDEADBEEF};
    int64_t rc;

    gm_clear(t);
    gm_add(t, 0x1000, &fi, sizeof(fi), GM_IN | GM_OUT);
    rc = hc(t, d, __HYPERVISOR_xen_version, XENVER_get_features, 0x1000, 0);
    assert_int_equal(fi.submap_idx, idx);
    *submap = fi.submap;
    return rc;
}

static void test_xenver_features(void **state)
{
    struct t *t = *state;
    struct hv_domain *pvh = mkdom(t, "pvh", 0);
    struct hv_domain *pv = mkdom(t, "pv", PV_CREATE_PV);
    struct xen_feature_info fi = {0};
    uint32_t m;

    /* PVH domU: HVM's set */
    assert_int_equal(get_features(t, pvh, 0, &m), 0);
    assert_int_equal(m, (1u << XENFEAT_writable_page_tables) |
                            (1u << XENFEAT_auto_translated_physmap) |
                            (1u << XENFEAT_hvm_callback_vector) |
                            (1u << XENFEAT_hvm_safe_pvclock) |
                            (1u << XENFEAT_memory_op_vnode_supported) |
                            (1u << XENFEAT_not_direct_mapped));
    assert_int_equal(m, 0x12305);
    /* PV domU: Xen 4.17's 0x220E0 */
    assert_int_equal(get_features(t, pv, 0, &m), 0);
    assert_int_equal(m, 0x220E0);
    /* dom0 (PVH here) gains XENFEAT_dom0 */
    assert_int_equal(get_features(t, t->dom0, 0, &m), 0);
    assert_int_equal(m, 0x12305 | 0x800);

    /* pae_extended_cr3 adds pae_pgdir_above_4gb */
    assert_int_equal(hc(t, pv, __HYPERVISOR_vm_assist, VMASST_CMD_enable,
                        VMASST_TYPE_pae_extended_cr3, 0),
                     0);
    assert_int_equal(get_features(t, pv, 0, &m), 0);
    assert_int_equal(m, 0x220F0);

    /* only submap 0 exists */
    assert_int_equal(get_features(t, pv, 1, &m), -EINVAL);
    assert_int_equal(m, 0xDEADBEEF);
    assert_int_equal(get_features(t, pv, 0xFFFFFFFF, &m), -EINVAL);

    /* the argument must be readable and writable */
    gm_clear(t);
    assert_int_equal(
        hc(t, pv, __HYPERVISOR_xen_version, XENVER_get_features, 0x1000, 0),
        -EFAULT);
    gm_add(t, 0x1000, &fi, sizeof(fi), GM_IN);
    assert_int_equal(
        hc(t, pv, __HYPERVISOR_xen_version, XENVER_get_features, 0x1000, 0),
        -EFAULT);
    gm_clear(t);
    gm_add(t, 0x1000, &fi, sizeof(fi), GM_OUT);
    assert_int_equal(
        hc(t, pv, __HYPERVISOR_xen_version, XENVER_get_features, 0x1000, 0),
        -EFAULT);
    assert_int_equal(fi.submap, 0);
}

static void test_xenver_features_pv_dom0(void **state)
{
    struct t *t = *state;
    struct hv_domain *d0 = mkdom(t, "Domain-0", PV_CREATE_PV);
    uint32_t m;

    assert_int_equal(d0->id, 0);
    assert_false(d0->translated);
    /* Xen 4.17's PV hardware domain: 0x220E0 + XENFEAT_dom0 */
    assert_int_equal(get_features(t, d0, 0, &m), 0);
    assert_int_equal(m, 0x228E0);
}

static void test_xenver_privileged(void **state)
{
    struct t *t = *state;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    xen_commandline_t cl;
    uint8_t vb[4 + 64];
    uint32_t len;
    const char *bid = "procvisor-4.17";

    snprintf(t->hv.commandline, sizeof(t->hv.commandline),
             "console=hvc0 loglvl=all");

    /* commandline: a domU reads "<denied>", rc 0 */
    memset(cl, 0x7F, sizeof(cl));
    gm_add(t, 0x1000, cl, sizeof(cl), GM_OUT);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_commandline, 0x1000, 0), 0);
    assert_string_equal(cl, "<denied>");
    memset(cl, 0x7F, sizeof(cl));
    assert_int_equal(
        hc(t, t->dom0, __HYPERVISOR_xen_version, XENVER_commandline, 0x1000, 0),
        0);
    assert_string_equal(cl, "console=hvc0 loglvl=all");

    /* build_id: -EPERM for a domU, whatever the argument */
    assert_int_equal(hc(t, d, __HYPERVISOR_xen_version, XENVER_build_id, 0, 0),
                     -EPERM);
    gm_clear(t);
    gm_add(t, 0x2000, vb, sizeof(vb), GM_IN | GM_OUT);
    len = 64;
    memcpy(vb, &len, sizeof(len));
    assert_int_equal(
        hc(t, d, __HYPERVISOR_xen_version, XENVER_build_id, 0x2000, 0), -EPERM);
    assert_int_equal(t->r[0].dirty_hi, 0);

    /* dom0: NULL asks the size; len 0 is invalid; too small -ENOBUFS */
    assert_int_equal(
        hc(t, t->dom0, __HYPERVISOR_xen_version, XENVER_build_id, 0, 0),
        (int64_t)strlen(bid));
    len = 0;
    memcpy(vb, &len, sizeof(len));
    assert_int_equal(
        hc(t, t->dom0, __HYPERVISOR_xen_version, XENVER_build_id, 0x2000, 0),
        -EINVAL);
    len = 4;
    memcpy(vb, &len, sizeof(len));
    assert_int_equal(
        hc(t, t->dom0, __HYPERVISOR_xen_version, XENVER_build_id, 0x2000, 0),
        -ENOBUFS);
    len = 64;
    memcpy(vb, &len, sizeof(len));
    memset(vb + 4, 0x7F, 64);
    assert_int_equal(
        hc(t, t->dom0, __HYPERVISOR_xen_version, XENVER_build_id, 0x2000, 0),
        (int64_t)strlen(bid));
    assert_memory_equal(vb + 4, bid, strlen(bid));
    assert_int_equal(vb[4 + strlen(bid)], 0x7F); /* no NUL */
    memcpy(&len, vb, sizeof(len));
    assert_int_equal(len, 64); /* len is not written back */

    /* the varbuf forms 11-14 came after 4.17: like 4.17, none */
    for (unsigned int op = 11; op <= 14; op++) {
        assert_int_equal(hc(t, d, __HYPERVISOR_xen_version, op, 0, 0), -ENOSYS);
        assert_int_equal(
            hc(t, t->dom0, __HYPERVISOR_xen_version, op, 0x2000, 0), -ENOSYS);
    }
}

/* ---- console_io ---- */

static int64_t cons_write(struct t *t, struct hv_domain *d, const void *s,
                          size_t n)
{
    gm_clear(t);
    gm_add(t, 0x10000, (void *)(uintptr_t)s, n, GM_IN);
    return hc(t, d, __HYPERVISOR_console_io, CONSOLEIO_write, n, 0x10000);
}

static void test_console_domu_write(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0), *b, *c;
    static const char raw[] = "hi\x01\x1b\tthere\x7f\x80\xff\r\n";
    char out[1024], big[256], exp[256];
    uint64_t from;
    size_t n;

    from = hv->cons_prod;
    assert_int_equal(cons_write(t, d, raw, sizeof(raw) - 1), 0);
    n = cons_since(t, from, out, sizeof(out));
    assert_int_equal(n, strlen("(d1) hi\tthere\n"));
    assert_memory_equal(out, "(d1) hi\tthere\n", n);
    /* the domain's own console keeps the filtered line */
    assert_int_equal(d->cons_prod, strlen("hi\tthere\n"));
    assert_memory_equal(d->cons_ring, "hi\tthere\n", d->cons_prod);

    /* buffered until a newline */
    from = hv->cons_prod;
    assert_int_equal(cons_write(t, d, "abc", 3), 0);
    assert_int_equal(hv->cons_prod, from);
    assert_int_equal(d->cons_line_len, 3);
    assert_int_equal(cons_write(t, d, "def\nghi", 7), 0);
    n = cons_since(t, from, out, sizeof(out));
    assert_int_equal(n, strlen("(d1) abcdef\n"));
    assert_memory_equal(out, "(d1) abcdef\n", n);
    assert_int_equal(d->cons_line_len, 3);
    assert_memory_equal(d->cons_line, "ghi", 3);

    /* count 0 needs no memory */
    gm_clear(t);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_console_io, CONSOLEIO_write, 0, 0x10000), 0);
    /* missing or short memory */
    assert_int_equal(
        hc(t, d, __HYPERVISOR_console_io, CONSOLEIO_write, 4, 0x10000),
        -EFAULT);
    gm_add(t, 0x10000, (void *)(uintptr_t) "wxyz", 4, GM_IN);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_console_io, CONSOLEIO_write, 5, 0x10000),
        -EFAULT);

    /* a line longer than the buffer is flushed at 199 characters */
    b = mkdom(t, "beta", 0);
    memset(big, 'x', 250);
    from = hv->cons_prod;
    assert_int_equal(cons_write(t, b, big, 250), 0);
    n = cons_since(t, from, out, sizeof(out));
    memcpy(exp, "(d2) ", 5);
    memset(exp + 5, 'x', 199);
    exp[204] = '\n';
    assert_int_equal(n, 205);
    assert_memory_equal(out, exp, 205);
    assert_int_equal(b->cons_line_len, 51);

    /* two lines across the 128-byte copy chunks */
    c = mkdom(t, "gamma", 0);
    memset(big, 'a', 150);
    big[150] = '\n';
    memset(big + 151, 'b', 48);
    big[199] = '\n';
    from = hv->cons_prod;
    assert_int_equal(cons_write(t, c, big, 200), 0);
    n = cons_since(t, from, out, sizeof(out));
    assert_int_equal(n, 5 + 150 + 1 + 5 + 48 + 1);
    assert_memory_equal(out, "(d3) ", 5);
    assert_memory_equal(out + 5, big, 151);
    assert_memory_equal(out + 156, "(d3) ", 5);
    assert_memory_equal(out + 161, big + 151, 49);
}

static void test_console_dom0_raw_and_read(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d0 = t->dom0;
    char out[64], rd[16];
    uint64_t from;
    size_t n;

    /* the hardware domain writes raw: no filter, prefix or buffering */
    from = hv->cons_prod;
    assert_int_equal(cons_write(t, d0,
                                "a\x01"
                                "b\r\n",
                                5),
                     0);
    assert_int_equal(cons_write(t, d0, "tail", 4), 0);
    n = cons_since(t, from, out, sizeof(out));
    assert_int_equal(n, 9);
    assert_memory_equal(out,
                        "a\x01"
                        "b\r\ntail",
                        9);
    assert_int_equal(d0->cons_prod, 9);
    assert_memory_equal(d0->cons_ring,
                        "a\x01"
                        "b\r\ntail",
                        9);

    /* read takes from the serial input, up to count */
    hv_console_input(hv, "hello", 5);
    assert_int_equal(hv->cons_in_len, 5);
    memset(rd, 0, sizeof(rd));
    gm_clear(t);
    gm_add(t, 0x2000, rd, 8, GM_OUT);
    assert_int_equal(
        hc(t, d0, __HYPERVISOR_console_io, CONSOLEIO_read, 3, 0x2000), 3);
    assert_memory_equal(rd, "hel", 3);
    assert_int_equal(hv->cons_in_len, 2);
    assert_int_equal(
        hc(t, d0, __HYPERVISOR_console_io, CONSOLEIO_read, 8, 0x2000), 2);
    assert_memory_equal(rd, "lo", 2);
    assert_int_equal(
        hc(t, d0, __HYPERVISOR_console_io, CONSOLEIO_read, 8, 0x2000), 0);
    assert_int_equal(hv->cons_in_len, 0);

    /* count above INT_MAX */
    assert_int_equal(hc(t, d0, __HYPERVISOR_console_io, CONSOLEIO_read,
                        (uint64_t)INT_MAX + 1, 0x2000),
                     -E2BIG);
    assert_int_equal(
        hc(t, d0, __HYPERVISOR_console_io, CONSOLEIO_read, INT_MAX, 0x2000), 0);

    /* a fault leaves the input in place */
    hv_console_input(hv, "xy", 2);
    gm_clear(t);
    assert_int_equal(
        hc(t, d0, __HYPERVISOR_console_io, CONSOLEIO_read, 2, 0x2000), -EFAULT);
    assert_int_equal(hv->cons_in_len, 2);

    /* a full input ring drops what does not fit */
    memset(out, 'z', sizeof(out));
    for (unsigned int i = 0; i < 20; i++) {
        hv_console_input(hv, out, sizeof(out));
    }
    assert_int_equal(hv->cons_in_len, sizeof(hv->cons_in));
    assert_memory_equal(hv->cons_in, "xy", 2);

    assert_int_equal(hc(t, d0, __HYPERVISOR_console_io, 2, 0, 0), -ENOSYS);
}

static void test_console_permissions(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct hv_domain *con = mkdom(t, "con", PV_CREATE_IS_CONSOLE);
    char rd[8];
    uint64_t from;

    assert_false(d->is_console);
    assert_true(con->is_console);
    hv_console_input(hv, "in", 2);
    gm_clear(t);
    gm_add(t, 0x2000, rd, sizeof(rd), GM_OUT);
    /* an ordinary domU may not read */
    assert_int_equal(
        hc(t, d, __HYPERVISOR_console_io, CONSOLEIO_read, 2, 0x2000), -EPERM);
    assert_int_equal(hv->cons_in_len, 2);
    /* an is_console one may */
    assert_int_equal(
        hc(t, con, __HYPERVISOR_console_io, CONSOLEIO_read, 2, 0x2000), 2);
    assert_memory_equal(rd, "in", 2);
    /* the privilege check comes before the command */
    assert_int_equal(hc(t, d, __HYPERVISOR_console_io, 7, 0, 0), -EPERM);
    assert_int_equal(hc(t, con, __HYPERVISOR_console_io, 7, 0, 0), -ENOSYS);

    /* without console_write_all a domU may not write either */
    hv->console_write_all = false;
    from = hv->cons_prod;
    assert_int_equal(cons_write(t, d, "no\n", 3), -EPERM);
    assert_int_equal(hv->cons_prod, from);
    assert_int_equal(d->cons_prod, 0);
    assert_int_equal(cons_write(t, con, "yes\n", 4), 0);
    assert_int_equal(cons_write(t, t->dom0, "d0\n", 3), 0);
    assert_int_equal(con->cons_prod, 4);
    assert_int_equal(t->dom0->cons_prod, 3);
    hv->console_write_all = true;
    assert_int_equal(cons_write(t, d, "ok\n", 3), 0);
    assert_int_equal(d->cons_prod, 3);
}

static void test_console_read_ring(void **state)
{
    const char ring[8] = {'i', 'j', 'c', 'd', 'e', 'f', 'g', 'h'};
    char out[16];

    (void)state;
    /* prod 10 in an 8-byte ring: the last 8 bytes, oldest first */
    assert_int_equal(hv_console_read(ring, 10, 8, out, sizeof(out)), 8);
    assert_memory_equal(out, "cdefghij", 8);
    /* capped to the newest bytes */
    assert_int_equal(hv_console_read(ring, 10, 8, out, 3), 3);
    assert_memory_equal(out, "hij", 3);
    /* not yet wrapped */
    assert_int_equal(hv_console_read(ring, 2, 8, out, sizeof(out)), 2);
    assert_memory_equal(out, "ij", 2);
    assert_int_equal(hv_console_read(ring, 0, 8, out, sizeof(out)), 0);
}

/* ---- vm_assist ---- */

static void test_vm_assist(void **state)
{
    struct t *t = *state;
    struct hv_domain *pvh = mkdom(t, "pvh", 0);
    struct hv_domain *pv = mkdom(t, "pv", PV_CREATE_PV);
    static const uint64_t pvh_bad[] = {0,  1,  2,  3,  4,         6,
                                       31, 32, 63, 64, UINT64_MAX};
    static const uint64_t pv_bad[] = {6, 31, 33, 63, 64, UINT64_MAX};

    /* PVH: only runstate_update_flag */
    assert_int_equal(hc(t, pvh, __HYPERVISOR_vm_assist, VMASST_CMD_enable,
                        VMASST_TYPE_runstate_update_flag, 0),
                     0);
    assert_int_equal(pvh->vm_assist, 1ull << VMASST_TYPE_runstate_update_flag);
    for (unsigned int i = 0; i < sizeof(pvh_bad) / sizeof(pvh_bad[0]); i++) {
        assert_int_equal(hc(t, pvh, __HYPERVISOR_vm_assist, VMASST_CMD_enable,
                            pvh_bad[i], 0),
                         -EINVAL);
    }
    assert_int_equal(pvh->vm_assist, 1ull << VMASST_TYPE_runstate_update_flag);
    assert_int_equal(hc(t, pvh, __HYPERVISOR_vm_assist, VMASST_CMD_disable,
                        VMASST_TYPE_runstate_update_flag, 0),
                     0);
    assert_int_equal(pvh->vm_assist, 0);

    /* 64-bit PV: 0-5 and m2p_strict */
    for (uint64_t ty = 0; ty <= 5; ty++) {
        assert_int_equal(
            hc(t, pv, __HYPERVISOR_vm_assist, VMASST_CMD_enable, ty, 0), 0);
    }
    assert_int_equal(hc(t, pv, __HYPERVISOR_vm_assist, VMASST_CMD_enable,
                        VMASST_TYPE_m2p_strict, 0),
                     0);
    assert_int_equal(pv->vm_assist, 0x3full | (1ull << 32));
    for (unsigned int i = 0; i < sizeof(pv_bad) / sizeof(pv_bad[0]); i++) {
        assert_int_equal(
            hc(t, pv, __HYPERVISOR_vm_assist, VMASST_CMD_enable, pv_bad[i], 0),
            -EINVAL);
    }
    assert_int_equal(
        hc(t, pv, __HYPERVISOR_vm_assist, VMASST_CMD_disable, 2, 0), 0);
    assert_int_equal(pv->vm_assist, 0x3bull | (1ull << 32));

    /* a bad command is -ENOSYS only once the type passed */
    assert_int_equal(hc(t, pvh, __HYPERVISOR_vm_assist, 2,
                        VMASST_TYPE_runstate_update_flag, 0),
                     -ENOSYS);
    assert_int_equal(hc(t, pvh, __HYPERVISOR_vm_assist, 2, 0, 0), -EINVAL);
    assert_int_equal(hc(t, pv, __HYPERVISOR_vm_assist, 99, 0, 0), -ENOSYS);
    assert_int_equal(hc(t, pv, __HYPERVISOR_vm_assist, 99, 40, 0), -EINVAL);
    assert_int_equal(pvh->vm_assist, 0);
}

/* ---- multicall ---- */

static void test_multicall(void **state)
{
    struct t *t = *state;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct multicall_entry mc[7];
    uint8_t ev[XEN_EXTRAVERSION_LEN];
    int tok;

    memset(mc, 0, sizeof(mc));
    memset(ev, 0xFF, sizeof(ev));
    for (unsigned int i = 0; i < 7; i++) {
        mc[i].result = 0x5555;
        mc[i].args[5] = 0x6666;
    }
    mc[0].op = __HYPERVISOR_xen_version;
    mc[0].args[0] = XENVER_version;
    mc[1].op = __HYPERVISOR_xen_version;
    mc[1].args[0] = 99;
    mc[2].op = __HYPERVISOR_multicall; /* nested */
    mc[2].args[0] = 0x10000;
    mc[2].args[1] = 1;
    mc[3].op = __HYPERVISOR_vm_assist;
    mc[3].args[0] = VMASST_CMD_enable;
    mc[3].args[1] = VMASST_TYPE_runstate_update_flag;
    mc[4].op = __HYPERVISOR_xen_version; /* writes another region */
    mc[4].args[0] = XENVER_extraversion;
    mc[4].args[1] = 0x2000;
    mc[5].op = 1000;
    mc[6].op = __HYPERVISOR_sched_op; /* does not block inside a batch */
    mc[6].args[0] = SCHEDOP_block;

    gm_add(t, 0x10000, mc, sizeof(mc), GM_IN | GM_OUT);
    gm_add(t, 0x2000, ev, sizeof(ev), GM_OUT);
    assert_int_equal(hcv(t, d, 0, &tok, __HYPERVISOR_multicall, 0x10000, 7, 0),
                     0);
    assert_int_equal((int64_t)mc[0].result, 0x40011);
    assert_int_equal((int64_t)mc[1].result, -ENOSYS);
    assert_int_equal((int64_t)mc[2].result, -EINVAL);
    assert_int_equal((int64_t)mc[3].result, 0);
    assert_int_equal(d->vm_assist, 1ull << VMASST_TYPE_runstate_update_flag);
    assert_int_equal((int64_t)mc[4].result, 0);
    assert_string_equal((char *)ev, ".0-procvisor");
    assert_int_equal((int64_t)mc[5].result, -ENOSYS);
    assert_int_equal((int64_t)mc[6].result, 0);
    assert_null(d->vcpu[0].waiter);
    assert_int_equal(t->f.wakes, 0);
    /* only the results were written */
    assert_int_equal(mc[2].op, __HYPERVISOR_multicall);
    assert_int_equal(mc[2].args[0], 0x10000);
    assert_int_equal(mc[4].args[1], 0x2000);
    assert_int_equal(mc[6].args[5], 0x6666);
    /* the batch and each entry count as hypercalls */
    assert_int_equal(d->hypercalls, 8);

    /* an empty batch */
    gm_clear(t);
    assert_int_equal(hc(t, d, __HYPERVISOR_multicall, 0x10000, 0, 0), 0);
    /* no list */
    assert_int_equal(hc(t, d, __HYPERVISOR_multicall, 0x10000, 1, 0), -EFAULT);
    /* a list cut short: Xen checks the whole list first, so none ran */
    mc[0].result = 0x5555;
    mc[1].result = 0x5555;
    gm_add(t, 0x10000, mc, sizeof(mc[0]) + 8, GM_IN | GM_OUT);
    assert_int_equal(hc(t, d, __HYPERVISOR_multicall, 0x10000, 2, 0), -EFAULT);
    assert_int_equal(mc[0].result, 0x5555);
    assert_int_equal(mc[1].result, 0x5555);
    /* a read-only list: the result cannot be written back */
    gm_clear(t);
    mc[0].result = 0x5555;
    gm_add(t, 0x10000, mc, sizeof(mc), GM_IN);
    assert_int_equal(hc(t, d, __HYPERVISOR_multicall, 0x10000, 1, 0), -EFAULT);
    assert_int_equal(mc[0].result, 0x5555);
}

/* ---- sched_op ---- */

static int64_t sched(struct t *t, struct hv_domain *d, uint64_t cmd, void *arg,
                     size_t len)
{
    gm_clear(t);
    if (arg) {
        gm_add(t, 0x3000, arg, len, GM_IN);
    }
    return hc(t, d, __HYPERVISOR_sched_op, cmd, 0x3000, 0);
}

static int64_t shutdown_(struct t *t, struct hv_domain *d, uint64_t cmd,
                         unsigned int reason)
{
    struct sched_shutdown s = {.reason = reason};

    return sched(t, d, cmd, &s, sizeof(s));
}

static void test_sched_yield_shutdown(void **state)
{
    struct t *t = *state;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct hv_domain *e = mkdom(t, "beta", 0);
    struct hv_domain *p = mkdom(t, "pv", PV_CREATE_PV);
    struct hv_domain *c = mkdom(t, "compat", 0);

    assert_int_equal(hc(t, d, __HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0), 0);
    assert_int_equal(hc(t, d, __HYPERVISOR_sched_op, 99, 0, 0), -ENOSYS);
    /* SCHEDOP_poll exists now: an unreadable argument is -EFAULT */
    assert_int_equal(hc(t, d, __HYPERVISOR_sched_op, SCHEDOP_poll, 0, 0),
                     -EFAULT);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_sched_op, SCHEDOP_pin_override, 0, 0), -EPERM);

    hv_domain_conn_get(&t->hv, d);
    assert_int_equal(shutdown_(t, d, SCHEDOP_shutdown, SHUTDOWN_poweroff), 0);
    assert_int_equal(d->state, PV_DOM_SHUTDOWN);
    assert_int_equal(d->reason, SHUTDOWN_poweroff);
    assert_true(log_has(t, "d1 (alpha) shut down: poweroff"));
    /* the first reason wins */
    assert_int_equal(shutdown_(t, d, SCHEDOP_shutdown, SHUTDOWN_reboot), 0);
    assert_int_equal(d->reason, SHUTDOWN_poweroff);
    assert_int_equal(d->state, PV_DOM_SHUTDOWN);
    assert_int_equal(d->nr_conns, 1);

    /* the argument must be readable */
    assert_int_equal(sched(t, e, SCHEDOP_shutdown, NULL, 0), -EFAULT);
    assert_int_equal(e->state, PV_DOM_CREATED);
    /* the reason is a u8, without a range check */
    assert_int_equal(shutdown_(t, e, SCHEDOP_shutdown, 0x105), 0);
    assert_int_equal(e->reason, SHUTDOWN_soft_reset);

    /* a PV domain's running timers stop */
    assert_true(p->vcpu[0].periodic.deadline != 0);
    assert_int_equal(shutdown_(t, p, SCHEDOP_shutdown, SHUTDOWN_crash), 0);
    assert_int_equal(p->vcpu[0].periodic.deadline, 0);
    assert_int_equal(p->vcpu[1].periodic.deadline, 0);

    /* the legacy form takes the reason itself */
    assert_int_equal(
        hc(t, c, __HYPERVISOR_sched_op_compat, SCHEDOP_yield, 0, 0), 0);
    assert_int_equal(hc(t, c, __HYPERVISOR_sched_op_compat, SCHEDOP_shutdown,
                        SHUTDOWN_crash, 0),
                     0);
    assert_int_equal(c->reason, SHUTDOWN_crash);
    assert_int_equal(hc(t, c, __HYPERVISOR_sched_op_compat, 99, 0, 0), -ENOSYS);
}

static void test_sched_shutdown_code(void **state)
{
    struct t *t = *state;
    struct hv_domain *d = mkdom(t, "alpha", 0);

    assert_int_equal(shutdown_(t, d, SCHEDOP_shutdown_code, SHUTDOWN_reboot),
                     0);
    assert_int_equal(d->state, PV_DOM_CREATED);
    assert_int_equal(d->reason, PV_REASON_NONE);
    assert_int_equal(d->shutdown_code, SHUTDOWN_reboot);
    /* latched once */
    assert_int_equal(shutdown_(t, d, SCHEDOP_shutdown_code, SHUTDOWN_crash), 0);
    assert_int_equal(d->shutdown_code, SHUTDOWN_reboot);
    assert_int_equal(sched(t, d, SCHEDOP_shutdown_code, NULL, 0), -EFAULT);
    /* a later shutdown uses the latched code */
    assert_int_equal(shutdown_(t, d, SCHEDOP_shutdown, SHUTDOWN_poweroff), 0);
    assert_int_equal(d->state, PV_DOM_SHUTDOWN);
    assert_int_equal(d->reason, SHUTDOWN_reboot);
}

static int64_t remote(struct t *t, struct hv_domain *d, domid_t target,
                      unsigned int reason)
{
    struct sched_remote_shutdown s = {.domain_id = target, .reason = reason};

    return sched(t, d, SCHEDOP_remote_shutdown, &s, sizeof(s));
}

static void test_sched_remote_shutdown(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);

    assert_int_equal(remote(t, t->dom0, 0x1234, SHUTDOWN_crash), -ESRCH);
    /* no DOMID_SELF here */
    assert_int_equal(remote(t, t->dom0, DOMID_SELF, SHUTDOWN_crash), -ESRCH);
    /* the lookup comes before the privilege check */
    assert_int_equal(remote(t, a, 77, SHUTDOWN_crash), -ESRCH);
    assert_int_equal(remote(t, a, b->id, SHUTDOWN_crash), -EPERM);
    assert_int_equal(remote(t, a, a->id, SHUTDOWN_crash), -EPERM);
    assert_int_equal(b->state, PV_DOM_CREATED);
    assert_int_equal(a->state, PV_DOM_CREATED);
    assert_int_equal(sched(t, t->dom0, SCHEDOP_remote_shutdown, NULL, 0),
                     -EFAULT);

    assert_int_equal(remote(t, t->dom0, b->id, SHUTDOWN_crash), 0);
    assert_int_equal(b->state, PV_DOM_SHUTDOWN);
    assert_int_equal(b->reason, SHUTDOWN_crash);
    assert_int_equal(t->dom0->state, PV_DOM_RUNNING);
    /* already shut down: still 0, reason kept */
    assert_int_equal(remote(t, t->dom0, b->id, SHUTDOWN_reboot), 0);
    assert_int_equal(b->reason, SHUTDOWN_crash);
}

static int64_t watchdog(struct t *t, struct hv_domain *d, uint32_t id,
                        uint32_t timeout)
{
    struct sched_watchdog w = {.id = id, .timeout = timeout};

    return sched(t, d, SCHEDOP_watchdog, &w, sizeof(w));
}

static void test_sched_watchdog(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct hv_domain *e = mkdom(t, "beta", 0);
    uint64_t now;

    advance(t, 3 * MS);
    now = hv_now(hv);
    assert_int_equal(watchdog(t, d, 0, 10), 1);
    assert_true(d->watchdog[0].used);
    assert_int_equal(d->watchdog[0].deadline, now + 10 * SEC);
    assert_int_equal(watchdog(t, d, 0, 20), 2);
    assert_int_equal(watchdog(t, d, 0, 5), -ENOSPC);
    assert_int_equal(watchdog(t, d, 3, 10), -EINVAL);
    assert_int_equal(watchdog(t, d, UINT32_MAX, 10), -EINVAL);
    assert_int_equal(sched(t, d, SCHEDOP_watchdog, NULL, 0), -EFAULT);

    /* timeout 0 frees the slot; a free slot is not a valid id */
    assert_int_equal(watchdog(t, d, 1, 0), 0);
    assert_false(d->watchdog[0].used);
    assert_int_equal(watchdog(t, d, 1, 0), -EINVAL);
    assert_int_equal(watchdog(t, d, 1, 5), -EINVAL);
    assert_true(d->watchdog[1].used);
    assert_int_equal(watchdog(t, d, 0, 10), 1);
    assert_int_equal(hv_next_deadline(hv), now + 10 * SEC);

    /* expiry shuts the domain down */
    advance(t, 10 * SEC - 1);
    hv_run_timers(hv);
    assert_int_equal(d->state, PV_DOM_CREATED);
    advance(t, 1);
    hv_run_timers(hv);
    assert_int_equal(d->state, PV_DOM_SHUTDOWN);
    assert_int_equal(d->reason, SHUTDOWN_watchdog);
    assert_false(d->watchdog[0].used);
    assert_true(log_has(t, "watchdog timer 1 fired for d1"));
    assert_true(log_has(t, "d1 (alpha) shut down: watchdog"));

    /* re-arming moves the deadline */
    now = hv_now(hv);
    assert_int_equal(watchdog(t, e, 0, 1), 1);
    advance(t, 900 * MS);
    assert_int_equal(watchdog(t, e, 1, 1), 0);
    assert_int_equal(e->watchdog[0].deadline, now + 900 * MS + SEC);
    advance(t, 200 * MS);
    hv_run_timers(hv);
    assert_int_equal(e->state, PV_DOM_CREATED);
    advance(t, 800 * MS);
    hv_run_timers(hv);
    assert_int_equal(e->state, PV_DOM_SHUTDOWN);
    assert_int_equal(e->reason, SHUTDOWN_watchdog);
}

static void test_sched_block(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct vcpu_info *vi = shinfo(d)->vcpu_info;
    int tok, tok2;

    gm_clear(t);
    /* an event already pending: block returns at once, events enabled */
    assert_int_equal(vi[0].evtchn_upcall_mask, 1);
    vi[0].evtchn_upcall_pending = 1;
    assert_int_equal(
        hcv(t, d, 0, &tok, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0), 0);
    assert_int_equal(vi[0].evtchn_upcall_mask, 0);
    assert_null(d->vcpu[0].waiter);
    assert_int_equal(t->f.wakes, 0);

    /* nothing pending: the caller waits */
    vi[0].evtchn_upcall_pending = 0;
    vi[0].evtchn_upcall_mask = 1;
    advance(t, 2 * MS);
    assert_int_equal(
        hcv(t, d, 0, &tok, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0),
        HCALL_BLOCKED);
    assert_int_equal(vi[0].evtchn_upcall_mask, 0);
    assert_ptr_equal(d->vcpu[0].waiter, &tok);
    assert_int_equal(d->vcpu[0].runstate, RUNSTATE_blocked);
    assert_int_equal(t->f.wakes, 0);
    /* a second block while waiting does not replace the waiter */
    assert_int_equal(
        hcv(t, d, 0, &tok2, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0), 0);
    assert_ptr_equal(d->vcpu[0].waiter, &tok);

    advance(t, 7 * MS);
    hv_vcpu_wake(hv, &d->vcpu[0]);
    assert_int_equal(t->f.wakes, 1);
    assert_ptr_equal(t->f.wake_waiter, &tok);
    assert_int_equal(t->f.wake_ret, 0);
    assert_null(d->vcpu[0].waiter);
    assert_int_equal(d->vcpu[0].runstate, RUNSTATE_running);
    assert_int_equal(d->vcpu[0].runstate_time[RUNSTATE_blocked], 7 * MS);
    assert_int_equal(d->vcpu[0].runstate_time[RUNSTATE_running], 2 * MS);
    /* nothing to wake any more */
    hv_vcpu_wake(hv, &d->vcpu[0]);
    assert_int_equal(t->f.wakes, 1);

    /* no waiter to park (e.g. inside a multicall): returns 0 */
    assert_int_equal(
        hcv(t, d, 0, NULL, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0), 0);

    /* vCPU 1, then its caller goes away */
    assert_int_equal(vi[1].evtchn_upcall_mask, 1);
    assert_int_equal(
        hcv(t, d, 1, &tok2, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0),
        HCALL_BLOCKED);
    assert_int_equal(vi[1].evtchn_upcall_mask, 0);
    assert_ptr_equal(d->vcpu[1].waiter, &tok2);
    assert_null(d->vcpu[0].waiter);
    hv_cancel_wait(hv, &tok2);
    assert_null(d->vcpu[1].waiter);
    assert_int_equal(d->vcpu[1].runstate, RUNSTATE_running);
    assert_int_equal(t->f.wakes, 1);

    /* the legacy form blocks too */
    assert_int_equal(
        hcv(t, d, 0, &tok, __HYPERVISOR_sched_op_compat, SCHEDOP_block, 0, 0),
        HCALL_BLOCKED);
    assert_ptr_equal(d->vcpu[0].waiter, &tok);
    hv_vcpu_wake(hv, &d->vcpu[0]);
    assert_int_equal(t->f.wakes, 2);
}

/* ---- timers ---- */

static int64_t vcpu_op(struct t *t, struct hv_domain *d, unsigned int caller,
                       uint64_t cmd, uint64_t vcpuid, void *arg, size_t len)
{
    gm_clear(t);
    if (arg) {
        gm_add(t, 0x4000, arg, len, GM_IN | GM_OUT);
    }
    return hcv(t, d, caller, NULL, __HYPERVISOR_vcpu_op, cmd, vcpuid, 0x4000);
}

static int64_t singleshot(struct t *t, struct hv_domain *d, unsigned int caller,
                          uint64_t vcpuid, uint64_t abs)
{
    struct vcpu_set_singleshot_timer s = {.timeout_abs_ns = abs, .flags = 0};

    return vcpu_op(t, d, caller, VCPUOP_set_singleshot_timer, vcpuid, &s,
                   sizeof(s));
}

static int64_t periodic(struct t *t, struct hv_domain *d, uint64_t vcpuid,
                        uint64_t period)
{
    struct vcpu_set_periodic_timer p = {.period_ns = period};

    return vcpu_op(t, d, 0, VCPUOP_set_periodic_timer, vcpuid, &p, sizeof(p));
}

static void test_timer_singleshot(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct hv_vcpu *v = &d->vcpu[0];
    uint64_t now;
    unsigned int tc;

    assert_int_equal(hv_next_deadline(hv), 0);
    advance(t, 10 * MS);
    now = hv_now(hv);
    tc = t->f.timers_changed;
    assert_int_equal(singleshot(t, d, 0, 0, now + 5 * MS), 0);
    assert_int_equal(v->singleshot.deadline, now + 5 * MS);
    assert_int_equal(hv_next_deadline(hv), now + 5 * MS);
    assert_true(t->f.timers_changed > tc);

    advance(t, 5 * MS - 1);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 0);
    advance(t, 1);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 1);
    assert_int_equal(v->singleshot.deadline, 0);
    /* once only */
    advance(t, 10 * MS);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 1);
    assert_int_equal(hv_next_deadline(hv), 0);
    assert_int_equal(d->vcpu[1].timer_virqs, 0);

    /* a time already past fires at the next run, flags ignored */
    now = hv_now(hv);
    assert_int_equal(singleshot(t, d, 0, 0, now - MS), 0);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 2);
    assert_int_equal(singleshot(t, d, 0, 0, 0), 0);
    assert_int_equal(v->singleshot.deadline, 1);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 3);

    /* stop */
    assert_int_equal(singleshot(t, d, 0, 0, now + MS), 0);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_stop_singleshot_timer, 0, NULL, 0),
                     0);
    assert_int_equal(v->singleshot.deadline, 0);
    advance(t, 2 * MS);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 3);

    /* only on the calling vCPU */
    assert_int_equal(singleshot(t, d, 0, 1, now + MS), -EINVAL);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_stop_singleshot_timer, 1, NULL, 0),
                     -EINVAL);
    assert_int_equal(d->vcpu[1].singleshot.deadline, 0);
    assert_int_equal(singleshot(t, d, 1, 1, now + 4 * MS), 0);
    assert_int_equal(d->vcpu[1].singleshot.deadline, now + 4 * MS);

    /* vCPU ids out of range */
    assert_int_equal(singleshot(t, d, 0, 2, now + MS), -ENOENT);
    assert_int_equal(singleshot(t, d, 0, UINT64_MAX, now + MS), -ENOENT);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_is_up, 2, NULL, 0), -ENOENT);
    /* the argument must be readable */
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_set_singleshot_timer, 0, NULL, 0),
                     -EFAULT);
    assert_int_equal(vcpu_op(t, d, 0, 99, 0, NULL, 0), -ENOSYS);
}

static void test_timer_periodic(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct hv_vcpu *v = &d->vcpu[1];
    uint64_t t0;

    assert_int_equal(periodic(t, d, 0, 0), -EINVAL);
    assert_int_equal(periodic(t, d, 0, MS - 1), -EINVAL);
    assert_int_equal(periodic(t, d, 0, (1ull << 62)), -EINVAL);
    assert_int_equal(d->vcpu[0].periodic.deadline, 0);
    assert_int_equal(periodic(t, d, 0, MS), 0);
    assert_int_equal(d->vcpu[0].periodic.period, MS);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_stop_periodic_timer, 0, NULL, 0),
                     0);
    assert_int_equal(d->vcpu[0].periodic.deadline, 0);
    assert_int_equal(d->vcpu[0].periodic.period, 0);
    assert_int_equal(periodic(t, d, 2, 10 * MS), -ENOENT);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_set_periodic_timer, 0, NULL, 0),
                     -EFAULT);

    /* any vCPU of the caller's domain */
    advance(t, 3 * MS);
    t0 = hv_now(hv);
    assert_int_equal(periodic(t, d, 1, 10 * MS), 0);
    assert_int_equal(v->periodic.deadline, t0 + 10 * MS);
    assert_int_equal(hv_next_deadline(hv), t0 + 10 * MS);

    advance(t, 10 * MS);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 1);
    assert_int_equal(v->periodic.deadline, t0 + 20 * MS);
    advance(t, 10 * MS);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 2);
    /* a late run fires once and re-bases on now */
    advance(t, 35 * MS);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 3);
    assert_int_equal(v->periodic.deadline, t0 + 65 * MS);
    advance(t, 10 * MS);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 4);
    assert_int_equal(d->vcpu[0].timer_virqs, 0);

    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_stop_periodic_timer, 1, NULL, 0),
                     0);
    advance(t, 100 * MS);
    hv_run_timers(hv);
    assert_int_equal(v->timer_virqs, 4);
    assert_int_equal(hv_next_deadline(hv), 0);
}

static void test_timer_pv_default(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d;

    advance(t, 7 * MS);
    d = mkdom(t, "pv", PV_CREATE_PV);
    /* a PV vCPU starts with a 10 ms periodic timer */
    assert_int_equal(d->created_ns, 7 * MS);
    assert_int_equal(d->vcpu[0].periodic.period, 10 * MS);
    assert_int_equal(d->vcpu[1].periodic.deadline, 17 * MS);
    assert_int_equal(hv_next_deadline(hv), 17 * MS);
    advance(t, 10 * MS);
    hv_run_timers(hv);
    assert_int_equal(d->vcpu[0].timer_virqs, 1);
    assert_int_equal(d->vcpu[1].timer_virqs, 1);
    /* teardown disarms them */
    kill_domain(t, d);
    assert_int_equal(hv_next_deadline(hv), 0);
}

static void test_set_timer_op(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct hv_domain *e = mkdom(t, "beta", 0);
    uint64_t now;

    gm_clear(t);
    advance(t, 20 * MS);
    now = hv_now(hv);
    assert_int_equal(hc(t, d, __HYPERVISOR_set_timer_op, now + 1000, 0, 0), 0);
    assert_int_equal(d->vcpu[0].singleshot.deadline, now + 1000);

    /* 2^50 ns ahead or more: Xen's workaround, now + 100 ms */
    assert_int_equal(
        hc(t, d, __HYPERVISOR_set_timer_op, now + (1ull << 51), 0, 0), 0);
    assert_int_equal(d->vcpu[0].singleshot.deadline, now + 100 * MS);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_set_timer_op, now + (1ull << 50), 0, 0), 0);
    assert_int_equal(d->vcpu[0].singleshot.deadline, now + 100 * MS);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_set_timer_op, now + (1ull << 50) - 1, 0, 0), 0);
    assert_int_equal(d->vcpu[0].singleshot.deadline, now + (1ull << 50) - 1);
    /* negative */
    assert_int_equal(hc(t, d, __HYPERVISOR_set_timer_op, 1ull << 63, 0, 0), 0);
    assert_int_equal(d->vcpu[0].singleshot.deadline, now + 100 * MS);
    /* 0 cancels */
    assert_int_equal(hc(t, d, __HYPERVISOR_set_timer_op, 0, 0, 0), 0);
    assert_int_equal(d->vcpu[0].singleshot.deadline, 0);
    /* the calling vCPU's timer */
    assert_int_equal(
        hcv(t, d, 1, NULL, __HYPERVISOR_set_timer_op, now + 2 * MS, 0, 0), 0);
    assert_int_equal(d->vcpu[1].singleshot.deadline, now + 2 * MS);
    assert_int_equal(d->vcpu[0].singleshot.deadline, 0);

    /* the earliest deadline of all domains and vCPUs */
    assert_int_equal(hc(t, d, __HYPERVISOR_set_timer_op, now + 50 * MS, 0, 0),
                     0);
    assert_int_equal(hcv(t, d, 1, NULL, __HYPERVISOR_set_timer_op, 0, 0, 0), 0);
    assert_int_equal(periodic(t, d, 1, 10 * MS), 0);
    assert_int_equal(hv_next_deadline(hv), now + 10 * MS);
    assert_int_equal(hc(t, e, __HYPERVISOR_set_timer_op, now + 5 * MS, 0, 0),
                     0);
    assert_int_equal(hv_next_deadline(hv), now + 5 * MS);
    advance(t, 5 * MS);
    hv_run_timers(hv);
    assert_int_equal(e->vcpu[0].timer_virqs, 1);
    assert_int_equal(hv_next_deadline(hv), now + 10 * MS);
    advance(t, 5 * MS);
    hv_run_timers(hv);
    assert_int_equal(d->vcpu[1].timer_virqs, 1);
    assert_int_equal(hv_next_deadline(hv), now + 20 * MS);

    /* a past time fires at the next run */
    assert_int_equal(hc(t, e, __HYPERVISOR_set_timer_op, 1, 0, 0), 0);
    hv_run_timers(hv);
    assert_int_equal(e->vcpu[0].timer_virqs, 2);
}

static void test_vcpu_up_down(void **state)
{
    struct t *t = *state;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct vcpu_runstate_info ri;

    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_is_up, 1, NULL, 0), 1);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_initialise, 1, NULL, 0), -EEXIST);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_down, 1, NULL, 0), 0);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_is_up, 1, NULL, 0), 0);
    assert_int_equal(d->state, PV_DOM_CREATED);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_up, 1, NULL, 0), 0);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_is_up, 1, NULL, 0), 1);

    advance(t, 4 * MS);
    memset(&ri, 0x7F, sizeof(ri));
    assert_int_equal(
        vcpu_op(t, d, 0, VCPUOP_get_runstate_info, 0, &ri, sizeof(ri)), 0);
    assert_int_equal(ri.state, RUNSTATE_running);
    assert_int_equal(ri.state_entry_time, 0);
    assert_int_equal(ri.time[RUNSTATE_running], 4 * MS);
    assert_int_equal(ri.time[RUNSTATE_blocked], 0);

    /* the last vCPU going down powers the domain off */
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_down, 1, NULL, 0), 0);
    assert_int_equal(vcpu_op(t, d, 0, VCPUOP_down, 0, NULL, 0), 0);
    assert_int_equal(d->state, PV_DOM_SHUTDOWN);
    assert_int_equal(d->reason, SHUTDOWN_poweroff);
}

/* ---- memory_op ---- */

static int64_t mem_domain(struct t *t, struct hv_domain *d, uint64_t cmd,
                          domid_t domid)
{
    struct xen_memory_domain md = {.domid = domid};

    gm_clear(t);
    gm_add(t, 0x1000, &md, sizeof(md), GM_IN);
    return hc(t, d, __HYPERVISOR_memory_op, cmd, 0x1000, 0);
}

/* A reservation op over `list` (at 0x4000), for `domid`. */
static int64_t resv(struct t *t, struct hv_domain *d, uint64_t cmd,
                    domid_t domid, xen_pfn_t *list, uint64_t nr,
                    unsigned int order, uint32_t list_flags)
{
    struct xen_memory_reservation r;

    memset(&r, 0, sizeof(r));
    r.extent_start.p = list ? (xen_pfn_t *)(uintptr_t)0x4000 : NULL;
    r.nr_extents = nr;
    r.extent_order = order;
    r.mem_flags = 0;
    r.domid = domid;
    gm_clear(t);
    gm_add(t, 0x1000, &r, sizeof(r), GM_IN);
    if (list && list_flags) {
        gm_add(t, 0x4000, list, nr * sizeof(*list), list_flags);
    }
    return hc(t, d, __HYPERVISOR_memory_op, cmd, 0x1000, 0);
}

static void test_memory_queries(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);

    assert_int_equal(mem_domain(t, a, XENMEM_current_reservation, DOMID_SELF),
                     DOM_PAGES);
    assert_int_equal(mem_domain(t, a, XENMEM_maximum_reservation, DOMID_SELF),
                     DOM_PAGES);
    assert_int_equal(mem_domain(t, a, XENMEM_current_reservation, a->id),
                     DOM_PAGES);
    /* a domU may not ask about others; an unknown domain is -ESRCH */
    assert_int_equal(mem_domain(t, a, XENMEM_current_reservation, b->id),
                     -EPERM);
    assert_int_equal(mem_domain(t, a, XENMEM_maximum_reservation, 0), -EPERM);
    assert_int_equal(mem_domain(t, a, XENMEM_current_reservation, 77), -ESRCH);
    assert_int_equal(mem_domain(t, t->dom0, XENMEM_current_reservation, 77),
                     -ESRCH);
    /* dom0 may */
    assert_int_equal(mem_domain(t, t->dom0, XENMEM_current_reservation, b->id),
                     DOM_PAGES);
    assert_int_equal(mem_domain(t, t->dom0, XENMEM_maximum_reservation, b->id),
                     DOM_PAGES);
    /* start_extent must be 0 */
    assert_int_equal(
        mem_domain(t, a,
                   XENMEM_current_reservation | (1u << MEMOP_EXTENT_SHIFT),
                   DOMID_SELF),
        -EINVAL);
    assert_int_equal(
        mem_domain(t, a,
                   XENMEM_maximum_reservation | (5u << MEMOP_EXTENT_SHIFT),
                   DOMID_SELF),
        -EINVAL);
    gm_clear(t);
    assert_int_equal(
        hc(t, a, __HYPERVISOR_memory_op, XENMEM_current_reservation, 0x1000, 0),
        -EFAULT);

    /* maximum_ram_page: the host's frame count, no argument */
    assert_int_equal(
        hc(t, a, __HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0, 0),
        HOST_PAGES);
    assert_int_equal(hc(t, a, __HYPERVISOR_memory_op,
                        XENMEM_maximum_ram_page | (1u << MEMOP_EXTENT_SHIFT), 0,
                        0),
                     -EINVAL);

    assert_int_equal(hc(t, a, __HYPERVISOR_memory_op, 5, 0, 0), -ENOSYS);
    assert_int_equal(hc(t, a, __HYPERVISOR_memory_op, 63, 0, 0), -ENOSYS);
}

static void test_memory_pvh_decrease_populate(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    uint64_t free0 = hv->free_frames;
    xen_pfn_t list[2] = {10, 11};
    xen_pfn_t two[2] = {10, 300};
    struct xen_memory_reservation r;

    /* at max_pages nothing can be added */
    assert_int_equal(
        resv(t, d, XENMEM_increase_reservation, DOMID_SELF, NULL, 1, 0, 0), 0);
    assert_int_equal(d->tot_pages, DOM_PAGES);
    assert_int_equal(hv->free_frames, free0);

    /* give back two pages by gpfn */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 2, 0, GM_IN),
        2);
    assert_int_equal(d->tot_pages, DOM_PAGES - 2);
    assert_int_equal(d->p2m[10], HV_INVALID_MFN);
    assert_int_equal(d->p2m[11], HV_INVALID_MFN);
    assert_true(d->p2m[12] != HV_INVALID_MFN);
    assert_int_equal(hv->free_frames, free0 + 2);
    assert_int_equal(mem_domain(t, d, XENMEM_current_reservation, DOMID_SELF),
                     DOM_PAGES - 2);
    assert_int_equal(mem_domain(t, d, XENMEM_maximum_reservation, DOMID_SELF),
                     DOM_PAGES);
    /* not there any more: stops at the first extent */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 2, 0, GM_IN),
        0);
    assert_int_equal(d->tot_pages, DOM_PAGES - 2);

    /* populate them again */
    assert_int_equal(
        resv(t, d, XENMEM_populate_physmap, DOMID_SELF, list, 2, 0, GM_IN), 2);
    assert_int_equal(d->tot_pages, DOM_PAGES);
    assert_int_equal(hv->free_frames, free0);
    assert_true(d->p2m[10] != HV_INVALID_MFN);
    assert_int_equal(hv->frames[d->p2m[10]].owner, d->id);
    assert_int_equal(hv->frames[d->p2m[10]].gpfn, 10);
    assert_int_equal(hv->frames[d->p2m[11]].gpfn, 11);
    /* a translated guest gets nothing written back */
    assert_int_equal(list[0], 10);
    /* occupied gpfns */
    assert_int_equal(
        resv(t, d, XENMEM_populate_physmap, DOMID_SELF, list, 2, 0, GM_IN), 0);

    /* the count of extents done: the second hits max_pages */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        1);
    assert_int_equal(
        resv(t, d, XENMEM_populate_physmap, DOMID_SELF, two, 2, 0, GM_IN), 1);
    assert_int_equal(d->tot_pages, DOM_PAGES);
    assert_int_equal(d->p2m[300], HV_INVALID_MFN);

    /* start_extent continues a batch */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation | (1u << MEMOP_EXTENT_SHIFT),
             DOMID_SELF, list, 2, 0, GM_IN),
        2);
    assert_true(d->p2m[10] != HV_INVALID_MFN);
    assert_int_equal(d->p2m[11], HV_INVALID_MFN);
    assert_int_equal(resv(t, d,
                          XENMEM_populate_physmap | (5u << MEMOP_EXTENT_SHIFT),
                          DOMID_SELF, list, 2, 0, GM_IN),
                     5);
    assert_int_equal(d->tot_pages, DOM_PAGES - 1);

    /* increase below max_pages: a PVH guest learns nothing */
    assert_int_equal(
        resv(t, d, XENMEM_increase_reservation, DOMID_SELF, NULL, 2, 0, 0), 1);
    assert_int_equal(d->tot_pages, DOM_PAGES);

    /* nr_extents is bounded by the continuation encoding: nothing runs,
     * even though the first extent is readable */
    memset(&r, 0, sizeof(r));
    r.extent_start.p = (xen_pfn_t *)(uintptr_t)0x4000;
    r.nr_extents = (UINT_MAX >> MEMOP_EXTENT_SHIFT) + 1;
    r.domid = DOMID_SELF;
    gm_clear(t);
    gm_add(t, 0x1000, &r, sizeof(r), GM_IN);
    gm_add(t, 0x4000, list, sizeof(list[0]), GM_IN);
    assert_int_equal(hc(t, d, __HYPERVISOR_memory_op,
                        XENMEM_decrease_reservation, 0x1000, 0),
                     0);
    assert_int_equal(d->tot_pages, DOM_PAGES);
    r.nr_extents = UINT_MAX >> MEMOP_EXTENT_SHIFT;
    assert_int_equal(hc(t, d, __HYPERVISOR_memory_op,
                        XENMEM_decrease_reservation, 0x1000, 0),
                     1);
    assert_int_equal(d->tot_pages, DOM_PAGES - 1);
    assert_int_equal(
        resv(t, d, XENMEM_populate_physmap, DOMID_SELF, list, 1, 0, GM_IN), 1);
    assert_int_equal(d->tot_pages, DOM_PAGES);

    /* missing memory */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 2, 0, 0), 0);
    gm_clear(t);
    assert_int_equal(hc(t, d, __HYPERVISOR_memory_op,
                        XENMEM_decrease_reservation, 0x1000, 0),
                     0);
    assert_int_equal(d->tot_pages, DOM_PAGES);
}

static void test_memory_extent_order(void **state)
{
    struct t *t = *state;
    struct hv_domain *d, *big;
    struct hv_domain_cfg c = cfg_of("big", 0);
    xen_pfn_t l0[1] = {0}, l2[2] = {0, 512};

    /* 512 pages: one order-9 extent */
    c.memory_kib = 2048;
    assert_int_equal(hv_domain_create(&t->hv, &c, &d), 0);
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, l0, 1, 9, GM_IN),
        1);
    assert_int_equal(d->tot_pages, 0);
    assert_int_equal(
        resv(t, d, XENMEM_populate_physmap, DOMID_SELF, l0, 1, 9, GM_IN), 1);
    assert_int_equal(d->tot_pages, 512);
    /* a domU may not go above order 9 */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, l0, 1, 10, GM_IN),
        0);
    assert_int_equal(d->tot_pages, 512);

    /* one page below max_pages: an order-1 extent is all or nothing */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, l0, 1, 0, GM_IN),
        1);
    assert_int_equal(d->tot_pages, 511);
    l0[0] = 600;
    assert_int_equal(
        resv(t, d, XENMEM_populate_physmap, DOMID_SELF, l0, 1, 1, GM_IN), 0);
    assert_int_equal(d->tot_pages, 511);
    assert_int_equal(d->p2m[600], HV_INVALID_MFN);
    assert_int_equal(d->p2m[601], HV_INVALID_MFN);
    assert_int_equal(
        resv(t, d, XENMEM_increase_reservation, DOMID_SELF, NULL, 1, 1, 0), 0);
    assert_int_equal(d->tot_pages, 511);
    l0[0] = 0;

    /* 1024 pages: order 10 is over a domU's limit, not dom0's */
    c = cfg_of("bigger", 0);
    c.memory_kib = 4096;
    assert_int_equal(hv_domain_create(&t->hv, &c, &big), 0);
    assert_int_equal(
        resv(t, big, XENMEM_decrease_reservation, DOMID_SELF, l2, 2, 9, GM_IN),
        2);
    assert_int_equal(big->tot_pages, 0);
    assert_int_equal(
        resv(t, big, XENMEM_populate_physmap, DOMID_SELF, l0, 1, 10, GM_IN), 0);
    assert_int_equal(
        resv(t, big, XENMEM_increase_reservation, DOMID_SELF, NULL, 1, 10, 0),
        0);
    assert_int_equal(big->tot_pages, 0);
    assert_int_equal(
        resv(t, t->dom0, XENMEM_populate_physmap, big->id, l0, 1, 10, GM_IN),
        1);
    assert_int_equal(big->tot_pages, 1024);
    assert_int_equal(t->hv.frames[big->p2m[1023]].owner, big->id);
}

static void test_memory_other_domain(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    xen_pfn_t list[2] = {0, 1};

    /* a domU touching another domain: start_extent (0), no change */
    assert_int_equal(
        resv(t, a, XENMEM_decrease_reservation, b->id, list, 1, 0, GM_IN), 0);
    assert_int_equal(
        resv(t, a, XENMEM_decrease_reservation, 0, list, 1, 0, GM_IN), 0);
    assert_int_equal(b->tot_pages, DOM_PAGES);
    assert_int_equal(t->dom0->tot_pages, DOM_PAGES);
    assert_int_equal(
        resv(t, a, XENMEM_increase_reservation, b->id, NULL, 1, 0, 0), 0);
    assert_int_equal(
        resv(t, a, XENMEM_populate_physmap, b->id, list, 1, 0, GM_IN), 0);
    assert_int_equal(
        resv(t, a, XENMEM_decrease_reservation | (1u << MEMOP_EXTENT_SHIFT),
             b->id, list, 2, 0, GM_IN),
        1);
    /* an unknown domain: also start_extent */
    assert_int_equal(
        resv(t, a, XENMEM_decrease_reservation, 77, list, 1, 0, GM_IN), 0);
    assert_int_equal(
        resv(t, t->dom0, XENMEM_decrease_reservation, 77, list, 1, 0, GM_IN),
        0);
    assert_int_equal(b->tot_pages, DOM_PAGES);

    /* dom0 may */
    assert_int_equal(
        resv(t, t->dom0, XENMEM_decrease_reservation, b->id, list, 1, 0, GM_IN),
        1);
    assert_int_equal(b->tot_pages, DOM_PAGES - 1);
    assert_int_equal(t->dom0->tot_pages, DOM_PAGES);
    assert_int_equal(
        resv(t, t->dom0, XENMEM_populate_physmap, b->id, list, 1, 0, GM_IN), 1);
    assert_int_equal(b->tot_pages, DOM_PAGES);
}

static void test_memory_pv(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "pv", PV_CREATE_PV);
    uint64_t free0 = hv->free_frames;
    uint64_t mfn = d->p2m[5];
    xen_pfn_t list[1];
    struct xen_add_to_physmap x = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = 300,
    };

    assert_false(d->translated);
    assert_int_equal(hv->frames[mfn].gpfn, 5);
    /* a PV guest names its pages by mfn */
    list[0] = mfn;
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        1);
    assert_int_equal(d->tot_pages, DOM_PAGES - 1);
    assert_int_equal(hv->frames[mfn].owner, DOMID_INVALID);
    assert_int_equal(d->p2m[5], HV_INVALID_MFN);
    assert_int_equal(hv->free_frames, free0 + 1);
    /* frames it does not own, or that are not RAM */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        0);
    list[0] = t->dom0->p2m[0];
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        0);
    assert_int_equal(hv->frames[t->dom0->p2m[0]].owner, 0);
    list[0] = d->shinfo_mfn;
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        0);
    assert_int_equal(hv->frames[d->shinfo_mfn].owner, d->id);
    list[0] = 0;
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        0);
    list[0] = HOST_PAGES;
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        0);
    assert_int_equal(d->tot_pages, DOM_PAGES - 1);

    /* increase needs a writable list and reports the new mfn */
    list[0] = 0;
    assert_int_equal(
        resv(t, d, XENMEM_increase_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        0);
    assert_int_equal(d->tot_pages, DOM_PAGES - 1);
    assert_int_equal(
        resv(t, d, XENMEM_increase_reservation, DOMID_SELF, list, 1, 0, GM_OUT),
        1);
    assert_int_equal(d->tot_pages, DOM_PAGES);
    assert_true(list[0] != 0 && list[0] < HOST_PAGES);
    assert_int_equal(hv->frames[list[0]].owner, d->id);
    assert_int_equal(hv->frames[list[0]].gpfn, HV_INVALID_GPFN);

    /* populate writes the mfn over the gpfn */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        1);
    list[0] = 5;
    assert_int_equal(
        resv(t, d, XENMEM_populate_physmap, DOMID_SELF, list, 1, 0, GM_IN), 0);
    assert_int_equal(resv(t, d, XENMEM_populate_physmap, DOMID_SELF, list, 1, 0,
                          GM_IN | GM_OUT),
                     1);
    assert_true(list[0] != 5);
    assert_int_equal(d->p2m[5], list[0]);
    assert_int_equal(hv->frames[list[0]].gpfn, 5);
    assert_int_equal(hv->frames[list[0]].owner, d->id);
    assert_int_equal(d->tot_pages, DOM_PAGES);
    assert_int_equal(hv->free_frames, free0);

    /* no physmap of Xen's for a PV guest */
    gm_clear(t);
    gm_add(t, 0x1000, &x, sizeof(x), GM_IN);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x1000, 0),
        -EACCES);
    assert_int_equal(d->shinfo_gpfn, HV_INVALID_GPFN);
}

static int64_t xatp(struct t *t, struct hv_domain *d, uint64_t cmd,
                    domid_t domid, unsigned int space, uint64_t idx,
                    uint64_t gpfn)
{
    struct xen_add_to_physmap x;

    memset(&x, 0, sizeof(x));
    x.domid = domid;
    x.space = space;
    x.idx = idx;
    x.gpfn = gpfn;
    gm_clear(t);
    gm_add(t, 0x1000, &x, sizeof(x), GM_IN);
    return hc(t, d, __HYPERVISOR_memory_op, cmd, 0x1000, 0);
}

static void test_memory_add_to_physmap(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint64_t free0 = hv->free_frames;
    xen_pfn_t list[1] = {5};

    assert_int_equal(xatp(t, d, XENMEM_add_to_physmap, DOMID_SELF,
                          XENMAPSPACE_shared_info, 0, 300),
                     0);
    assert_int_equal(d->shinfo_gpfn, 300);
    assert_int_equal(d->p2m[300], d->shinfo_mfn);
    assert_int_equal(hv->frames[d->shinfo_mfn].gpfn, 300);
    assert_int_equal(d->tot_pages, DOM_PAGES);
    /* again: no change */
    assert_int_equal(xatp(t, d, XENMEM_add_to_physmap, DOMID_SELF,
                          XENMAPSPACE_shared_info, 0, 300),
                     0);
    assert_int_equal(d->shinfo_gpfn, 300);

    /* errors */
    assert_int_equal(xatp(t, d, XENMEM_add_to_physmap, DOMID_SELF,
                          XENMAPSPACE_shared_info, 1, 301),
                     -EINVAL);
    assert_int_equal(xatp(t, d, XENMEM_add_to_physmap, DOMID_SELF,
                          XENMAPSPACE_grant_table, 0, 301),
                     -EINVAL);
    assert_int_equal(
        xatp(t, d, XENMEM_add_to_physmap, DOMID_SELF, XENMAPSPACE_gmfn, 0, 301),
        -EINVAL);
    assert_int_equal(xatp(t, d, XENMEM_add_to_physmap, DOMID_SELF,
                          XENMAPSPACE_shared_info, 0, d->p2m_size),
                     -EINVAL);
    assert_int_equal(xatp(t, d, XENMEM_add_to_physmap, DOMID_SELF,
                          XENMAPSPACE_gmfn_foreign, 0, 301),
                     -ENOSYS);
    assert_int_equal(
        xatp(t, d, XENMEM_add_to_physmap, 77, XENMAPSPACE_shared_info, 0, 301),
        -ESRCH);
    assert_int_equal(xatp(t, d, XENMEM_add_to_physmap, b->id,
                          XENMAPSPACE_shared_info, 0, 301),
                     -EPERM);
    assert_int_equal(b->shinfo_gpfn, HV_INVALID_GPFN);
    assert_int_equal(
        xatp(t, d,
             XENMEM_add_to_physmap | ((uint64_t)0x10000 << MEMOP_EXTENT_SHIFT),
             DOMID_SELF, XENMAPSPACE_shared_info, 0, 301),
        -EDOM);
    gm_clear(t);
    assert_int_equal(
        hc(t, d, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, 0x1000, 0),
        -EFAULT);
    assert_int_equal(d->shinfo_gpfn, 300);

    /* moving it over RAM frees that page */
    assert_int_equal(
        xatp(t, d,
             XENMEM_add_to_physmap | ((uint64_t)0xFFFF << MEMOP_EXTENT_SHIFT),
             DOMID_SELF, XENMAPSPACE_shared_info, 0, 5),
        0);
    assert_int_equal(d->shinfo_gpfn, 5);
    assert_int_equal(d->p2m[5], d->shinfo_mfn);
    assert_int_equal(d->p2m[300], HV_INVALID_MFN);
    assert_int_equal(hv->frames[d->shinfo_mfn].gpfn, 5);
    assert_int_equal(d->tot_pages, DOM_PAGES - 1);
    assert_int_equal(hv->free_frames, free0 + 1);

    /* decreasing it unmaps it but keeps the frame */
    assert_int_equal(
        resv(t, d, XENMEM_decrease_reservation, DOMID_SELF, list, 1, 0, GM_IN),
        1);
    assert_int_equal(d->shinfo_gpfn, HV_INVALID_GPFN);
    assert_int_equal(d->p2m[5], HV_INVALID_MFN);
    assert_int_equal(hv->frames[d->shinfo_mfn].owner, d->id);
    assert_int_equal(d->tot_pages, DOM_PAGES - 1);
    assert_int_equal(hv->free_frames, free0 + 1);

    /* dom0 may place another domain's */
    assert_int_equal(xatp(t, t->dom0, XENMEM_add_to_physmap, b->id,
                          XENMAPSPACE_shared_info, 0, 400),
                     0);
    assert_int_equal(b->shinfo_gpfn, 400);
    assert_int_equal(t->dom0->shinfo_gpfn, HV_INVALID_GPFN);
}

/* ---- time ---- */

static void test_time_scale(void **state)
{
    uint32_t mul;
    int8_t shift;

    (void)state;
    /* Xen's set_time_scale for 3 GHz */
    hv_time_scale(3000000000ull, &mul, &shift);
    assert_int_equal(shift, -1);
    assert_int_equal(mul, 0xAAAAAAAAu);
    assert_int_equal(hv_tsc_to_ns(3000000000ull, mul, shift), 999999999);
    assert_int_equal(hv_tsc_to_ns(3000000000ull * 3600, mul, shift),
                     3599999999161ull);
    assert_int_equal(hv_tsc_to_ns(0, mul, shift), 0);

    hv_time_scale(2500000000ull, &mul, &shift);
    assert_int_equal(shift, -1);
    assert_int_equal(mul, 0xCCCCCCCCu);
    assert_int_equal(hv_tsc_to_ns(2500000000ull, mul, shift), 999999999);

    /* the boundaries of (1e9, 2e9] */
    hv_time_scale(2000000000ull, &mul, &shift);
    assert_int_equal(shift, 0);
    assert_int_equal(mul, 0x80000000u);
    hv_time_scale(1000000000ull, &mul, &shift);
    assert_int_equal(shift, 1);
    assert_int_equal(mul, 0x80000000u);
    assert_int_equal(hv_tsc_to_ns(1000000000ull, mul, shift), 1000000000ull);

    /* slow: shifts left */
    hv_time_scale(100000000ull, &mul, &shift);
    assert_int_equal(shift, 4);
    assert_int_equal(mul, 0xA0000000u);
    assert_int_equal(hv_tsc_to_ns(100000000ull, mul, shift), 1000000000ull);

    /* 0 Hz is treated as 1 GHz */
    hv_time_scale(0, &mul, &shift);
    assert_int_equal(shift, 1);
    assert_int_equal(mul, 0x80000000u);
}

static void test_time_publish(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d = mkdom(t, "alpha", 0);
    struct shared_info *s = shinfo(d);
    const uint64_t wall = 1700000000ull * SEC + 500;

    /* published once at creation */
    assert_int_equal(s->vcpu_info[0].time.version, 2);
    assert_int_equal(s->vcpu_info[1].time.version, 2);
    assert_int_equal(s->vcpu_info[2].time.version, 0);
    assert_int_equal(s->wc_version, 2);
    assert_int_equal(s->vcpu_info[0].time.tsc_to_system_mul, 0x80000000u);
    assert_int_equal(s->vcpu_info[0].time.tsc_shift, 1);

    /* anchoring publishes to every domain */
    advance(t, 2 * SEC);
    hv_time_anchor(hv, 3000000000ull, true, 123456789, t->f.now, wall);
    for (unsigned int i = 0; i < 2; i++) {
        struct vcpu_time_info *ti = &s->vcpu_info[i].time;
        assert_int_equal(ti->version, 4);
        assert_int_equal(ti->tsc_timestamp, 123456789);
        assert_int_equal(ti->system_time, 2 * SEC);
        assert_int_equal(ti->tsc_to_system_mul, 0xAAAAAAAAu);
        assert_int_equal(ti->tsc_shift, -1);
        assert_int_equal(ti->flags, XEN_PVCLOCK_TSC_STABLE_BIT);
    }
    assert_int_equal(s->wc_version, 4);
    assert_int_equal(s->wc_sec, 1699999998u);
    assert_int_equal(s->wc_nsec, 500);
    assert_int_equal(s->xen_wc_sec_hi, 0);
    assert_int_equal(shinfo(t->dom0)->vcpu_info[0].time.version, 4);
    assert_int_equal(hv->tsc_hz, 3000000000ull);

    /* one domain only */
    hv_time_publish(hv, d);
    assert_int_equal(s->vcpu_info[0].time.version, 6);
    assert_int_equal(s->wc_version, 6);
    assert_int_equal(shinfo(t->dom0)->vcpu_info[0].time.version, 4);

    /* even afterwards, whatever it was before */
    s->vcpu_info[0].time.version = 5;
    s->wc_version = 7;
    hv_time_publish(hv, d);
    assert_int_equal(s->vcpu_info[0].time.version, 8);
    assert_int_equal(s->wc_version, 10);

    /* an unstable TSC clears the flag */
    hv_time_anchor(hv, 3000000000ull, false, 1, t->f.now, wall);
    assert_int_equal(s->vcpu_info[1].time.flags, 0);
    assert_int_equal(s->vcpu_info[1].time.version % 2, 0);
}

/* ---- the table ---- */

static void test_unknown_hypercall(void **state)
{
    struct t *t = *state;
    struct hv_domain *d = mkdom(t, "alpha", 0);

    assert_int_equal(hc(t, d, 1000, 0, 0, 0), -ENOSYS);
    assert_int_equal(hc(t, d, __HYPERVISOR_set_trap_table, 0, 0, 0), -ENOSYS);
    assert_int_equal(hc(t, d, UINT64_MAX, 0, 0, 0), -ENOSYS);
    assert_int_equal(d->hypercalls, 3);
    assert_string_equal(hv_hypercall_name(__HYPERVISOR_xen_version),
                        "xen_version");
    assert_string_equal(hv_hypercall_name(__HYPERVISOR_memory_op), "memory_op");
    assert_null(hv_hypercall_name(__HYPERVISOR_set_trap_table));
    assert_null(hv_hypercall_name(1000));
}

#define TH(f) cmocka_unit_test_setup_teardown(f, setup_hv, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TH(test_init_fini),
        TH(test_dom0_create),
        TD(test_dom0_name_only_first),
        TD(test_domu_ids_and_names),
        TD(test_create_out_of_memory),
        TD(test_domid_not_reused),
        TD(test_lifecycle_exit),
        TD(test_destroy),
        TD(test_xenver_simple),
        TD(test_xenver_features),
        TH(test_xenver_features_pv_dom0),
        TD(test_xenver_privileged),
        TD(test_console_domu_write),
        TD(test_console_dom0_raw_and_read),
        TD(test_console_permissions),
        cmocka_unit_test(test_console_read_ring),
        TD(test_vm_assist),
        TD(test_multicall),
        TD(test_sched_yield_shutdown),
        TD(test_sched_shutdown_code),
        TD(test_sched_remote_shutdown),
        TD(test_sched_watchdog),
        TD(test_sched_block),
        TD(test_timer_singleshot),
        TD(test_timer_periodic),
        TD(test_timer_pv_default),
        TD(test_set_timer_op),
        TD(test_vcpu_up_down),
        TD(test_memory_queries),
        TD(test_memory_pvh_decrease_populate),
        TD(test_memory_extent_order),
        TD(test_memory_other_domain),
        TD(test_memory_pv),
        TD(test_memory_add_to_physmap),
        cmocka_unit_test(test_time_scale),
        TD(test_time_publish),
        TD(test_unknown_hypercall),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
