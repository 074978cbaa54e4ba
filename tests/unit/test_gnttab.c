/* SPDX-License-Identifier: MIT */
/*
 * test_gnttab.c - unit tests for grant tables (src/hv/gnttab.c): every
 * GNTTABOP the core offers through hv_hypercall() (setup_table, query_size,
 * set/get_version, map, unmap, unmap_and_replace, copy, swap_grant_ref),
 * the pin protocol as a granter sees it in its shared entries (GTF_reading,
 * GTF_writing) and in the hypervisor's active entries, Xen's error order
 * (reference/xen-semantics.md 1.7), and the work the core does for a
 * domain's gntalloc and gntdev devices: allocations, notifications,
 * deferred ends of access (XSA-396), device maps and their isolation
 * invariant (a page reaches only the domain it was granted to), and what
 * the death of a granter or a mapper leaves behind.
 *
 * The core runs against the fake struct hv_env of harness.c: calloc'ed
 * pages counted (teardown fails a test that leaks one) and seals counted.
 * A granter writes its entries the way Linux does (domid and frame, then
 * flags) straight into its shared table, d->gt.shared.va.
 *
 * The tests at the end, marked BUG:, assert what Xen (or Linux) does where
 * gnttab.c does otherwise; they fail until gnttab.c is fixed.
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
#include <xen/sys/gntalloc.h>

#include "guest.h"
#include "hcall.h"
#include "hv.h"
#include "proto.h"

#include "harness.h"

#define ARG        0x1000u     /* where argument blocks live in guest memory */
#define FLIST      0x8000u     /* setup_table's frame_list */
#define HADDR      0x40000000u /* the host_addr a mapper names */
#define SENTINEL   0xDEADBEEFu
#define SENT64     0xA5A5A5A5A5A5A5A5ull
#define ST_UNSET   0x5555 /* a status the core never writes */
#define PER_FRAME  512u   /* grant_entry_v1 per frame */
#define RAM_GPFN   5u     /* a page of plain RAM a granter grants */
#define PERMIT     GTF_permit_access
#define RO_PERMIT  (GTF_permit_access | GTF_readonly)
#define PINNED_RO  (GTF_permit_access | GTF_reading)
#define PINNED_RW  (GTF_permit_access | GTF_reading | GTF_writing)
#define MAP_RO     (GNTMAP_host_map | GNTMAP_readonly)
#define MAP_RW     GNTMAP_host_map
#define NO_DOMAIN  999u /* a domid no domain has */
#define MAX_PINS   128u /* Xen: a counter with bit 7 set refuses a pin */
#define PAGE_BYTES 4096u

/* device owners: the connections of a domain's gntalloc/gntdev devices */
static int tok_a, tok_b, tok_c;
#define DEV_A ((void *)&tok_a)
#define DEV_B ((void *)&tok_b)
#define DEV_C ((void *)&tok_c)

/* ---- the granter's side ---- */

static grant_entry_v1_t *ent(struct hv_domain *d, uint32_t ref)
{
    return (grant_entry_v1_t *)d->gt.shared.va + ref;
}

static uint16_t eflags(struct hv_domain *d, uint32_t ref)
{
    return __atomic_load_n(&ent(d, ref)->flags, __ATOMIC_ACQUIRE);
}

/* Linux's order: domid and frame, a barrier, then the flags. */
static void grant(struct hv_domain *d, uint32_t ref, domid_t to, uint32_t frame,
                  uint16_t flags)
{
    grant_entry_v1_t *e = ent(d, ref);

    e->domid = to;
    e->frame = frame;
    __atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

/* No pin of any kind on d's ref. */
static void assert_unpinned(struct hv_domain *d, uint32_t ref)
{
    assert_int_equal(d->gt.act[ref].rd_pins, 0);
    assert_int_equal(d->gt.act[ref].wr_pins, 0);
}

/* ---- grant_table_op through hv_hypercall ---- */

/* One GNTTABOP with its block at ARG, readable and writable. */
static int64_t gntop(struct t *t, struct hv_domain *d, uint32_t cmd, void *arg,
                     size_t len, uint32_t count)
{
    gm_clear(t);
    if (arg) {
        gm_add(t, ARG, arg, len, GM_IN | GM_OUT);
    }
    return hc(t, d, __HYPERVISOR_grant_table_op, cmd, ARG, count);
}

/* GNTTABOP_setup_table with the frame list at FLIST (list_flags 0: none). */
static int64_t setup_table(struct t *t, struct hv_domain *d, domid_t dom,
                           uint32_t nr, xen_pfn_t *list, size_t list_len,
                           uint32_t list_flags, int16_t *status)
{
    struct gnttab_setup_table op = {
        .dom = dom, .nr_frames = nr, .status = ST_UNSET};
    int64_t rc;

    set_xen_guest_handle(op.frame_list, (xen_pfn_t *)(uintptr_t)FLIST);
    gm_clear(t);
    gm_add(t, ARG, &op, sizeof(op), GM_IN | GM_OUT);
    if (list_flags) {
        gm_add(t, FLIST, list, list_len, list_flags);
    }
    rc = hc(t, d, __HYPERVISOR_grant_table_op, GNTTABOP_setup_table, ARG, 1);
    /* the IN fields come back as they went */
    assert_int_equal(op.dom, dom);
    assert_int_equal(op.nr_frames, nr);
    *status = op.status;
    return rc;
}

static int16_t query_size(struct t *t, struct hv_domain *d, domid_t dom,
                          uint32_t *nr, uint32_t *max)
{
    struct gnttab_query_size op = {.dom = dom,
                                   .nr_frames = SENTINEL,
                                   .max_nr_frames = SENTINEL,
                                   .status = ST_UNSET};

    assert_int_equal(gntop(t, d, GNTTABOP_query_size, &op, sizeof(op), 1), 0);
    assert_int_equal(op.dom, dom);
    *nr = op.nr_frames;
    *max = op.max_nr_frames;
    return op.status;
}

/* GNTTABOP_map_grant_ref of one grant at HADDR. */
static int16_t map_hc(struct t *t, struct hv_domain *d, domid_t dom,
                      uint32_t ref, uint32_t flags, uint32_t *handle,
                      uint64_t *bus)
{
    struct gnttab_map_grant_ref op = {.host_addr = HADDR,
                                      .flags = flags,
                                      .ref = ref,
                                      .dom = dom,
                                      .status = ST_UNSET,
                                      .handle = SENTINEL,
                                      .dev_bus_addr = SENT64};

    assert_int_equal(gntop(t, d, GNTTABOP_map_grant_ref, &op, sizeof(op), 1),
                     0);
    assert_int_equal(op.host_addr, HADDR);
    assert_int_equal(op.flags, flags);
    assert_int_equal(op.ref, ref);
    assert_int_equal(op.dom, dom);
    if (op.status != GNTST_okay) {
        /* Xen writes only the status of a failed map */
        assert_int_equal(op.handle, SENTINEL);
        assert_true(op.dev_bus_addr == SENT64);
    }
    if (handle) {
        *handle = op.handle;
    }
    if (bus) {
        *bus = op.dev_bus_addr;
    }
    return op.status;
}

static int16_t unmap_hc(struct t *t, struct hv_domain *d, uint32_t handle,
                        uint64_t host_addr, uint64_t bus)
{
    struct gnttab_unmap_grant_ref op = {.host_addr = host_addr,
                                        .dev_bus_addr = bus,
                                        .handle = handle,
                                        .status = ST_UNSET};

    assert_int_equal(gntop(t, d, GNTTABOP_unmap_grant_ref, &op, sizeof(op), 1),
                     0);
    assert_int_equal(op.handle, handle);
    return op.status;
}

static int16_t swap_hc(struct t *t, struct hv_domain *d, uint32_t a, uint32_t b)
{
    struct gnttab_swap_grant_ref op = {
        .ref_a = a, .ref_b = b, .status = ST_UNSET};

    assert_int_equal(gntop(t, d, GNTTABOP_swap_grant_ref, &op, sizeof(op), 1),
                     0);
    assert_int_equal(op.ref_a, a);
    assert_int_equal(op.ref_b, b);
    return op.status;
}

/* ---- the devices' side ---- */

/* A device's map (gntdev): also returns the memory and page it reaches. */
static int16_t dmap(struct t *t, struct hv_domain *d, void *owner, domid_t dom,
                    uint32_t ref, uint32_t flags, uint32_t *handle,
                    struct hv_mem **mem, uint32_t *idx)
{
    uint32_t h = SENTINEL, i = SENTINEL;
    uint64_t bus = SENT64;
    struct hv_mem *m = NULL;
    int16_t st =
        hv_gnttab_map(&t->hv, d, owner, dom, ref, flags, 0, &h, &bus, &m, &i);

    if (st != GNTST_okay) {
        /* nothing is handed out on failure */
        assert_int_equal(h, SENTINEL);
        assert_true(bus == SENT64);
        assert_null(m);
        assert_int_equal(i, SENTINEL);
    }
    if (handle) {
        *handle = h;
    }
    if (mem) {
        *mem = m;
    }
    if (idx) {
        *idx = i;
    }
    return st;
}

static struct hv_galloc *galloc(struct t *t, struct hv_domain *d, void *owner,
                                domid_t to, bool writable, uint32_t count,
                                uint32_t *refs)
{
    struct hv_galloc *ga = NULL;

    assert_int_equal(
        hv_gntalloc(&t->hv, d, owner, to, writable, count, refs, &ga), 0);
    assert_non_null(ga);
    return ga;
}

static uint8_t *mpage(struct hv_mem *m, uint32_t idx)
{
    return (uint8_t *)m->pg.va + (size_t)idx * PAGE_BYTES;
}

/* The machine frame behind a gntalloc page. */
static uint64_t ga_mfn(struct hv_domain *d, const struct hv_galloc *ga,
                       uint32_t i)
{
    return d->p2m[ga->page[i].gpfn];
}

/* ---- event channels, for the notifications ---- */

static int64_t evop(struct t *t, struct hv_domain *d, uint64_t cmd, void *arg,
                    size_t len)
{
    gm_clear(t);
    gm_add(t, ARG, arg, len, GM_IN | GM_OUT);
    return hc(t, d, __HYPERVISOR_event_channel_op, cmd, ARG, 0);
}

static void clear_pending(struct hv_domain *d, uint32_t port)
{
    __atomic_and_fetch(&shinfo(d)->evtchn_pending[port / 64],
                       ~(1ull << (port % 64)), __ATOMIC_SEQ_CST);
}

/* An interdomain channel: port *pa of a, port *pb of b. */
static void bind_pair(struct t *t, struct hv_domain *a, struct hv_domain *b,
                      uint32_t *pa, uint32_t *pb)
{
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = a->id};
    struct evtchn_bind_interdomain bi = {.remote_dom = b->id};

    assert_int_equal(evop(t, b, EVTCHNOP_alloc_unbound, &au, sizeof(au)), 0);
    bi.remote_port = au.port;
    assert_int_equal(evop(t, a, EVTCHNOP_bind_interdomain, &bi, sizeof(bi)), 0);
    *pa = bi.local_port;
    *pb = au.port;
    /* binding raises the local port (Xen's conservative notification):
     * start from nothing pending */
    clear_pending(a, *pa);
    assert_false(hv_evtchn_is_pending(a, *pa));
    assert_false(hv_evtchn_is_pending(b, *pb));
}

/* ================= setup_table, query_size, versions ================= */

/* A table starts at one frame of Xen's default 64; query_size reports a
 * domU's own table, dom0 may ask about anyone's, a domU about no one
 * else's (permission_denied), an unknown domid is bad_domain, and the
 * count must be 1. */
static void test_query_size(void **state)
{
    struct t *t = *state;
    struct hv_domain_cfg c4 = cfg_of("small", 0);
    struct hv_domain *a = mkdom(t, "a", 0), *s;
    uint32_t nr, max;

    c4.max_grant_frames = 4;
    s = mkdom_cfg(t, &c4);
    assert_int_equal(a->gt.nr_frames, 1);
    assert_int_equal(query_size(t, a, DOMID_SELF, &nr, &max), GNTST_okay);
    assert_int_equal(nr, 1);
    assert_int_equal(max, HV_DEFAULT_GRANT_FRAMES);
    assert_int_equal(query_size(t, a, a->id, &nr, &max), GNTST_okay);
    assert_int_equal(nr, 1);
    assert_int_equal(query_size(t, s, DOMID_SELF, &nr, &max), GNTST_okay);
    assert_int_equal(nr, 1);
    assert_int_equal(max, 4);
    /* dom0 is privileged */
    assert_int_equal(query_size(t, t->dom0, s->id, &nr, &max), GNTST_okay);
    assert_int_equal(nr, 1);
    assert_int_equal(max, 4);
    /* a domU is not: the OUT fields stay */
    assert_int_equal(query_size(t, a, s->id, &nr, &max),
                     GNTST_permission_denied);
    assert_int_equal(nr, SENTINEL);
    assert_int_equal(max, SENTINEL);
    assert_int_equal(query_size(t, a, 0, &nr, &max), GNTST_permission_denied);
    assert_int_equal(query_size(t, a, NO_DOMAIN, &nr, &max), GNTST_bad_domain);
    assert_int_equal(nr, SENTINEL);
    assert_int_equal(query_size(t, t->dom0, NO_DOMAIN, &nr, &max),
                     GNTST_bad_domain);
    /* count must be 1 */
    struct gnttab_query_size q = {.dom = DOMID_SELF, .status = ST_UNSET};
    assert_int_equal(gntop(t, a, GNTTABOP_query_size, &q, sizeof(q), 2),
                     -EINVAL);
    assert_int_equal(gntop(t, a, GNTTABOP_query_size, &q, sizeof(q), 0),
                     -EINVAL);
    assert_int_equal(q.status, ST_UNSET);
}

/* setup_table grows the table and never shrinks it; the first nr_frames
 * frame numbers are written (MFNs, for a PV domain: the table's own
 * frames, owned by it) and no more; nr_frames above max_grant_frames is
 * general_error with nothing written; nr_frames 0 writes nothing; a count
 * other than 1 is -EINVAL. */
static void test_setup_table_pv(void **state)
{
    struct t *t = *state;
    struct hv_domain *p = mkdom(t, "pv", PV_CREATE_PV);
    xen_pfn_t list[HV_DEFAULT_GRANT_FRAMES + 4];
    uint32_t nr, max;
    int16_t st;

    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
        list[i] = SENT64;
    }
    assert_int_equal(setup_table(t, p, DOMID_SELF, 4, list, sizeof(list),
                                 GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_okay);
    assert_int_equal(p->gt.nr_frames, 4);
    for (unsigned int i = 0; i < 4; i++) {
        assert_true(list[i] == p->gt.frame_mfn[i]);
        assert_true(list[i] != 0 && list[i] < t->hv.nr_frames);
        assert_int_equal(t->hv.frames[list[i]].owner, p->id);
        for (unsigned int j = 0; j < i; j++) {
            assert_true(list[i] != list[j]);
        }
    }
    assert_true(list[4] == SENT64);
    assert_int_equal(query_size(t, p, DOMID_SELF, &nr, &max), GNTST_okay);
    assert_int_equal(nr, 4);

    /* a smaller request: okay, 2 written, the table stays at 4 */
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
        list[i] = SENT64;
    }
    assert_int_equal(setup_table(t, p, DOMID_SELF, 2, list, sizeof(list),
                                 GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_okay);
    assert_true(list[0] == p->gt.frame_mfn[0]);
    assert_true(list[1] == p->gt.frame_mfn[1]);
    assert_true(list[2] == SENT64);
    assert_int_equal(p->gt.nr_frames, 4);

    /* 0 frames: okay, nothing written */
    list[0] = SENT64;
    assert_int_equal(setup_table(t, p, DOMID_SELF, 0, list, sizeof(list),
                                 GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_okay);
    assert_true(list[0] == SENT64);

    /* over the limit: general_error, nothing written, no growth */
    assert_int_equal(setup_table(t, p, DOMID_SELF, HV_DEFAULT_GRANT_FRAMES + 1,
                                 list, sizeof(list), GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_general_error);
    assert_true(list[0] == SENT64);
    assert_int_equal(p->gt.nr_frames, 4);

    /* exactly the limit */
    assert_int_equal(setup_table(t, p, DOMID_SELF, HV_DEFAULT_GRANT_FRAMES,
                                 list, sizeof(list), GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_okay);
    assert_int_equal(p->gt.nr_frames, HV_DEFAULT_GRANT_FRAMES);
    assert_true(list[HV_DEFAULT_GRANT_FRAMES - 1] ==
                p->gt.frame_mfn[HV_DEFAULT_GRANT_FRAMES - 1]);
    assert_true(list[HV_DEFAULT_GRANT_FRAMES] == SENT64);

    /* count != 1 */
    struct gnttab_setup_table op = {.dom = DOMID_SELF, .nr_frames = 1};
    op.status = ST_UNSET;
    assert_int_equal(gntop(t, p, GNTTABOP_setup_table, &op, sizeof(op), 2),
                     -EINVAL);
    assert_int_equal(gntop(t, p, GNTTABOP_setup_table, &op, sizeof(op), 0),
                     -EINVAL);
    assert_int_equal(op.status, ST_UNSET);
}

/* A translated domain gets GFNs: its table frames are in no physmap, so
 * INVALID.  Another domain's table needs privilege (permission_denied
 * for a domU, even for a bad size), an unknown domid is bad_domain, dom0
 * may grow a domU's table; a frame list the guest cannot write is
 * bad_virt_addr, after the table grew (Xen's order). */
static void test_setup_table_pvh_and_privilege(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    xen_pfn_t list[8];
    int16_t st;

    for (size_t i = 0; i < 8; i++) {
        list[i] = SENT64;
    }
    assert_int_equal(setup_table(t, a, DOMID_SELF, 2, list, sizeof(list),
                                 GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_okay);
    assert_true(list[0] == HV_INVALID_GPFN);
    assert_true(list[1] == HV_INVALID_GPFN);
    assert_true(list[2] == SENT64);
    assert_int_equal(a->gt.nr_frames, 2);

    /* a domU on others' tables */
    list[0] = SENT64;
    assert_int_equal(
        setup_table(t, a, b->id, 3, list, sizeof(list), GM_IN | GM_OUT, &st),
        0);
    assert_int_equal(st, GNTST_permission_denied);
    assert_int_equal(b->gt.nr_frames, 1);
    assert_true(list[0] == SENT64);
    assert_int_equal(
        setup_table(t, a, 0, 3, list, sizeof(list), GM_IN | GM_OUT, &st), 0);
    assert_int_equal(st, GNTST_permission_denied);
    assert_int_equal(t->dom0->gt.nr_frames, 1);
    assert_int_equal(setup_table(t, a, NO_DOMAIN, 3, list, sizeof(list),
                                 GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_bad_domain);
    /* its own id is itself */
    assert_int_equal(
        setup_table(t, a, a->id, 3, list, sizeof(list), GM_IN | GM_OUT, &st),
        0);
    assert_int_equal(st, GNTST_okay);
    assert_int_equal(a->gt.nr_frames, 3);

    /* dom0 grows b's table */
    assert_int_equal(setup_table(t, t->dom0, b->id, 5, list, sizeof(list),
                                 GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_okay);
    assert_int_equal(b->gt.nr_frames, 5);

    /* the frame list is not writable: bad_virt_addr, the table grew */
    assert_int_equal(
        setup_table(t, b, DOMID_SELF, 6, list, sizeof(list), GM_IN, &st), 0);
    assert_int_equal(st, GNTST_bad_virt_addr);
    assert_int_equal(b->gt.nr_frames, 6);
    /* ...or not there at all */
    assert_int_equal(setup_table(t, b, DOMID_SELF, 7, NULL, 0, 0, &st), 0);
    assert_int_equal(st, GNTST_bad_virt_addr);
    assert_int_equal(b->gt.nr_frames, 7);
}

/* set_version: 1 is 0, 2 is -ENOSYS (max version 1), anything else is
 * -EINVAL; the out field always holds 1.  get_version: 1 for oneself and
 * (dom0) for others; -ESRCH for an unknown domid; -EPERM for a domU
 * asking about another. */
static void test_versions(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0);
    struct gnttab_set_version sv;
    struct gnttab_get_version gv;

    sv.version = 1;
    assert_int_equal(gntop(t, a, GNTTABOP_set_version, &sv, sizeof(sv), 1), 0);
    assert_int_equal(sv.version, 1);
    sv.version = 2;
    assert_int_equal(gntop(t, a, GNTTABOP_set_version, &sv, sizeof(sv), 1),
                     -ENOSYS);
    assert_int_equal(sv.version, 1);
    sv.version = 3;
    assert_int_equal(gntop(t, a, GNTTABOP_set_version, &sv, sizeof(sv), 1),
                     -EINVAL);
    assert_int_equal(sv.version, 1);
    sv.version = 0;
    assert_int_equal(gntop(t, a, GNTTABOP_set_version, &sv, sizeof(sv), 1),
                     -EINVAL);
    assert_int_equal(sv.version, 1);

    memset(&gv, 0, sizeof(gv));
    gv.dom = DOMID_SELF;
    gv.version = SENTINEL;
    assert_int_equal(gntop(t, a, GNTTABOP_get_version, &gv, sizeof(gv), 1), 0);
    assert_int_equal(gv.version, 1);
    assert_int_equal(gv.dom, DOMID_SELF);
    gv.dom = a->id;
    gv.version = SENTINEL;
    assert_int_equal(gntop(t, a, GNTTABOP_get_version, &gv, sizeof(gv), 1), 0);
    assert_int_equal(gv.version, 1);
    gv.dom = NO_DOMAIN;
    gv.version = SENTINEL;
    assert_int_equal(gntop(t, a, GNTTABOP_get_version, &gv, sizeof(gv), 1),
                     -ESRCH);
    assert_int_equal(gv.version, SENTINEL);
    gv.dom = 0;
    assert_int_equal(gntop(t, a, GNTTABOP_get_version, &gv, sizeof(gv), 1),
                     -EPERM);
    assert_int_equal(gv.version, SENTINEL);
    gv.dom = a->id;
    assert_int_equal(
        gntop(t, t->dom0, GNTTABOP_get_version, &gv, sizeof(gv), 1), 0);
    assert_int_equal(gv.version, 1);
}

/* The dispatcher: cmd bits at or above 12 and (int)count < 0 are -EINVAL
 * before anything else; dump_table (3) is gone (-ENOSYS), transfer (4) is
 * disabled (-EOPNOTSUPP), cache_flush (12) is Arm's and unknown commands
 * are -ENOSYS; a batch of 0 does nothing; an unreadable block is
 * -EFAULT. */
static void test_op_dispatch(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0);
    struct gnttab_query_size q = {.dom = DOMID_SELF, .status = ST_UNSET};

    assert_int_equal(
        gntop(t, a, (1u << 12) | GNTTABOP_query_size, &q, sizeof(q), 1),
        -EINVAL);
    assert_int_equal(gntop(t, a, 0x80000000u, &q, sizeof(q), 1), -EINVAL);
    assert_int_equal(q.status, ST_UNSET);
    assert_int_equal(gntop(t, a, GNTTABOP_map_grant_ref, NULL, 0, 0x80000000u),
                     -EINVAL);
    assert_int_equal(gntop(t, a, GNTTABOP_copy, NULL, 0, UINT32_MAX), -EINVAL);
    assert_int_equal(gntop(t, a, GNTTABOP_dump_table, &q, sizeof(q), 1),
                     -ENOSYS);
    assert_int_equal(gntop(t, a, GNTTABOP_transfer, &q, sizeof(q), 1),
                     -EOPNOTSUPP);
    assert_int_equal(gntop(t, a, GNTTABOP_cache_flush, &q, sizeof(q), 1),
                     -ENOSYS);
    assert_int_equal(gntop(t, a, 13, &q, sizeof(q), 1), -ENOSYS);
    assert_int_equal(gntop(t, a, 0xfff, &q, sizeof(q), 1), -ENOSYS);
    assert_int_equal(q.status, ST_UNSET);
    /* nothing to do */
    assert_int_equal(gntop(t, a, GNTTABOP_map_grant_ref, NULL, 0, 0), 0);
    assert_int_equal(gntop(t, a, GNTTABOP_unmap_grant_ref, NULL, 0, 0), 0);
    assert_int_equal(gntop(t, a, GNTTABOP_copy, NULL, 0, 0), 0);
    /* a block the guest does not have */
    assert_int_equal(gntop(t, a, GNTTABOP_map_grant_ref, NULL, 0, 1), -EFAULT);
    assert_int_equal(gntop(t, a, GNTTABOP_query_size, NULL, 0, 1), -EFAULT);
    assert_int_equal(a->gt.mt_used, 0);
}

/* ================= map and unmap ================= */

/* A writable map pins the entry (GTF_reading|GTF_writing), returns handle 0
 * and dev_bus_addr = mfn << 12, and records one writable pin by the mapper
 * in the active entry; the unmap clears both bits, leaving exactly what the
 * granter wrote, and frees the handle. */
static void test_map_unmap_rw(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint64_t mfn = a->p2m[RAM_GPFN], bus;
    uint32_t h;

    grant(a, 8, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RW, &h, &bus), GNTST_okay);
    assert_int_equal(h, 0);
    assert_true(bus == mfn << XEN_PAGE_SHIFT);
    assert_int_equal(eflags(a, 8), PINNED_RW);
    assert_int_equal(ent(a, 8)->domid, b->id);
    assert_int_equal(ent(a, 8)->frame, RAM_GPFN);
    assert_int_equal(a->gt.act[8].wr_pins, 1);
    assert_int_equal(a->gt.act[8].rd_pins, 0);
    assert_int_equal(a->gt.act[8].domid, b->id);
    assert_true(a->gt.act[8].mfn == mfn);
    assert_int_equal(b->gt.mt_used, 1);
    assert_true(b->gt.mt[h].used);
    assert_int_equal(b->gt.mt[h].rd, a->id);
    assert_int_equal(b->gt.mt[h].ref, 8);

    assert_int_equal(unmap_hc(t, b, h, HADDR, bus), GNTST_okay);
    assert_int_equal(eflags(a, 8), PERMIT);
    assert_unpinned(a, 8);
    assert_int_equal(b->gt.mt_used, 0);
    /* the handle is free now */
    assert_int_equal(unmap_hc(t, b, h, HADDR, bus), GNTST_bad_handle);
}

/* Read-only and writable pins count apart: a read-only map sets only
 * GTF_reading; a writable one adds GTF_writing; the last writable unmap
 * clears GTF_writing alone, the last unmap GTF_reading.  A read-only map
 * of a GTF_readonly entry works.  Mapping one's own grant is allowed, by
 * DOMID_SELF or by id. */
static void test_map_ro_rw_mix(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t hr, hw, hr2;

    grant(a, 8, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &hr, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 8), PINNED_RO);
    assert_int_equal(a->gt.act[8].rd_pins, 1);
    assert_int_equal(a->gt.act[8].wr_pins, 0);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RW, &hw, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 8), PINNED_RW);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &hr2, NULL), GNTST_okay);
    assert_int_equal(a->gt.act[8].rd_pins, 2);
    assert_int_equal(a->gt.act[8].wr_pins, 1);
    assert_true(hr != hw && hw != hr2 && hr != hr2);

    assert_int_equal(unmap_hc(t, b, hw, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 8), PINNED_RO);
    assert_int_equal(unmap_hc(t, b, hr, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 8), PINNED_RO);
    assert_int_equal(unmap_hc(t, b, hr2, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 8), PERMIT);
    assert_unpinned(a, 8);

    /* a read-only grant maps read-only */
    grant(a, 9, b->id, RAM_GPFN, RO_PERMIT);
    assert_int_equal(map_hc(t, b, a->id, 9, MAP_RO, &hr, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 9), RO_PERMIT | GTF_reading);
    assert_int_equal(unmap_hc(t, b, hr, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 9), RO_PERMIT);

    /* one's own grant */
    grant(a, 10, a->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, a, DOMID_SELF, 10, MAP_RW, &hw, NULL),
                     GNTST_okay);
    assert_int_equal(map_hc(t, a, a->id, 10, MAP_RO, &hr, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 10), PINNED_RW);
    assert_int_equal(a->gt.act[10].domid, a->id);
    assert_int_equal(a->gt.act[10].rd_pins, 1);
    assert_int_equal(a->gt.act[10].wr_pins, 1);
    assert_int_equal(unmap_hc(t, a, hw, 0, 0), GNTST_okay);
    assert_int_equal(unmap_hc(t, a, hr, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 10), PERMIT);
}

/* Xen's order (reference 1.7): neither host nor device map is bad_gntref
 * before anything; a PV-only flag from a translated caller is
 * general_error before the domain is looked up; an unknown or dead domain
 * is bad_domain before the ref is checked; a ref beyond the table is
 * bad_gntref before the entry is read.  Every failure leaves no handle
 * used and the entry untouched. */
static void test_map_error_order(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *p = mkdom(t, "p", PV_CREATE_PV), *dead = mkdom(t, "x", 0);
    domid_t dead_id = dead->id;

    kill_domain(t, dead);
    grant(a, 8, b->id, RAM_GPFN, PERMIT);

    /* 1. no host_map, no device_map */
    assert_int_equal(map_hc(t, b, NO_DOMAIN, UINT32_MAX, 0, NULL, NULL),
                     GNTST_bad_gntref);
    assert_int_equal(
        map_hc(t, b, NO_DOMAIN, UINT32_MAX, GNTMAP_readonly, NULL, NULL),
        GNTST_bad_gntref);
    assert_int_equal(map_hc(t, b, a->id, 8, GNTMAP_readonly, NULL, NULL),
                     GNTST_bad_gntref);
    /* 2. PV-only flags from a translated caller */
    assert_int_equal(map_hc(t, b, NO_DOMAIN, UINT32_MAX,
                            GNTMAP_host_map | GNTMAP_device_map, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(
        map_hc(t, b, NO_DOMAIN, UINT32_MAX, GNTMAP_device_map, NULL, NULL),
        GNTST_general_error);
    assert_int_equal(map_hc(t, b, a->id, 8,
                            GNTMAP_host_map | GNTMAP_application_map, NULL,
                            NULL),
                     GNTST_general_error);
    assert_int_equal(map_hc(t, b, a->id, 8,
                            GNTMAP_host_map | GNTMAP_contains_pte, NULL, NULL),
                     GNTST_general_error);
    /* ...but not from a PV one */
    assert_int_equal(
        map_hc(t, p, NO_DOMAIN, UINT32_MAX,
               GNTMAP_host_map | GNTMAP_device_map | GNTMAP_application_map,
               NULL, NULL),
        GNTST_bad_domain);
    /* 3. the domain */
    assert_int_equal(map_hc(t, b, NO_DOMAIN, UINT32_MAX, MAP_RW, NULL, NULL),
                     GNTST_bad_domain);
    assert_int_equal(map_hc(t, b, dead_id, 8, MAP_RW, NULL, NULL),
                     GNTST_bad_domain);
    assert_int_equal(map_hc(t, b, DOMID_IO, 8, MAP_RW, NULL, NULL),
                     GNTST_bad_domain);
    /* 5. the ref */
    assert_int_equal(map_hc(t, b, a->id, PER_FRAME, MAP_RW, NULL, NULL),
                     GNTST_bad_gntref);
    assert_int_equal(map_hc(t, b, a->id, UINT32_MAX, MAP_RW, NULL, NULL),
                     GNTST_bad_gntref);
    /* 6-7. the entry: not granted to the caller */
    assert_int_equal(map_hc(t, p, a->id, 8, MAP_RW, NULL, NULL),
                     GNTST_general_error);

    assert_int_equal(b->gt.mt_used, 0);
    assert_int_equal(p->gt.mt_used, 0);
    assert_int_equal(eflags(a, 8), PERMIT);
    assert_unpinned(a, 8);
}

/* Maptrack: a mapper created with max_maptrack 1 has 256 handles; the
 * 257th map is no_space even with a ref that is out of range (step 4
 * before 5), and a freed handle is reused. */
static void test_map_maptrack_exhausted(void **state)
{
    struct t *t = *state;
    struct hv_domain_cfg c = cfg_of("b", 0);
    struct hv_domain *a = mkdom(t, "a", 0), *b;
    uint32_t h, h2;

    c.max_maptrack = 1;
    b = mkdom_cfg(t, &c);
    for (uint32_t r = 8; r < 8 + 256; r++) {
        grant(a, r, b->id, RAM_GPFN, PERMIT);
    }
    grant(a, 300, b->id, RAM_GPFN, PERMIT);
    for (uint32_t i = 0; i < 256; i++) {
        assert_int_equal(map_hc(t, b, a->id, 8 + i, MAP_RO, &h, NULL),
                         GNTST_okay);
        assert_int_equal(h, i);
    }
    assert_int_equal(b->gt.mt_used, 256);
    assert_int_equal(b->gt.mt_size, 256);
    assert_int_equal(map_hc(t, b, a->id, 300, MAP_RO, NULL, NULL),
                     GNTST_no_space);
    assert_int_equal(map_hc(t, b, a->id, PER_FRAME, MAP_RO, NULL, NULL),
                     GNTST_no_space);
    assert_int_equal(eflags(a, 300), PERMIT);
    /* but the domain comes before the handle */
    assert_int_equal(map_hc(t, b, NO_DOMAIN, 300, MAP_RO, NULL, NULL),
                     GNTST_bad_domain);

    /* one handle back: bad refs are bad_gntref again, and it is reused */
    assert_int_equal(unmap_hc(t, b, 17, 0, 0), GNTST_okay);
    assert_int_equal(map_hc(t, b, a->id, PER_FRAME, MAP_RO, NULL, NULL),
                     GNTST_bad_gntref);
    assert_int_equal(map_hc(t, b, a->id, 300, MAP_RO, &h2, NULL), GNTST_okay);
    assert_int_equal(h2, 17);
    assert_int_equal(b->gt.mt_size, 256);
    for (uint32_t i = 0; i < 256; i++) {
        assert_int_equal(unmap_hc(t, b, i, 0, 0), GNTST_okay);
    }
    assert_int_equal(b->gt.mt_used, 0);
    assert_int_equal(eflags(a, 25), PERMIT);
    assert_int_equal(eflags(a, 300), PERMIT);
}

/* The ref bound is the *current* table size: ref 512 is bad_gntref while
 * the granter has one frame and maps once setup_table grew it. */
static void test_map_ref_bound_current(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    xen_pfn_t list[2];
    uint32_t h1, h2;
    int16_t st;

    grant(a, PER_FRAME - 1, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, PER_FRAME - 1, MAP_RO, &h1, NULL),
                     GNTST_okay);
    /* the entry is in the shared pages already, but not in the table */
    grant(a, PER_FRAME, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, PER_FRAME, MAP_RO, NULL, NULL),
                     GNTST_bad_gntref);
    assert_int_equal(eflags(a, PER_FRAME), PERMIT);
    assert_int_equal(setup_table(t, a, DOMID_SELF, 2, list, sizeof(list),
                                 GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(st, GNTST_okay);
    assert_int_equal(map_hc(t, b, a->id, PER_FRAME, MAP_RO, &h2, NULL),
                     GNTST_okay);
    assert_int_equal(eflags(a, PER_FRAME), PINNED_RO);
    assert_int_equal(map_hc(t, b, a->id, 2 * PER_FRAME, MAP_RO, NULL, NULL),
                     GNTST_bad_gntref);
    assert_int_equal(unmap_hc(t, b, h1, 0, 0), GNTST_okay);
    assert_int_equal(unmap_hc(t, b, h2, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, PER_FRAME), PERMIT);
}

/* _set_status refuses (general_error, never bad_gntref) an invalid entry,
 * a transfer entry, one granted to another domain, a sub-page one, and a
 * writable map of a GTF_readonly entry; each leaves the entry exactly as
 * the granter wrote it. */
static void test_map_bad_entries(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *c = mkdom(t, "c", 0);
    const struct {
        uint32_t ref;
        domid_t to;
        uint16_t flags;
        uint32_t map;
    } bad[] = {
        {8, 0, 0, MAP_RO},                           /* never written */
        {9, 0, GTF_invalid, MAP_RO},                 /* written, invalid */
        {10, 0, GTF_accept_transfer, MAP_RO},        /* a transfer */
        {11, 0, GTF_transitive, MAP_RO},             /* v2's, never map */
        {12, 1, PERMIT, MAP_RO},                     /* to c, not b */
        {13, 0, PERMIT | GTF_sub_page, MAP_RO},      /* sub-page */
        {14, 0, RO_PERMIT, MAP_RW},                  /* read-only */
        {15, 0, RO_PERMIT | GTF_sub_page, MAP_RO},   /* both */
        {16, 0, GTF_reading | GTF_writing, MAP_RO},  /* no type */
        {17, 0, GTF_invalid | GTF_readonly, MAP_RO}, /* no type */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (bad[i].ref != 8) {
            grant(a, bad[i].ref, bad[i].to ? c->id : b->id, RAM_GPFN,
                  bad[i].flags);
        }
        assert_int_equal(
            map_hc(t, b, a->id, bad[i].ref, bad[i].map, NULL, NULL),
            GNTST_general_error);
        assert_int_equal(eflags(a, bad[i].ref), bad[i].flags);
        assert_unpinned(a, bad[i].ref);
    }
    assert_int_equal(b->gt.mt_used, 0);
    /* the entry granted to c maps for c */
    uint32_t h;
    assert_int_equal(map_hc(t, c, a->id, 12, MAP_RO, &h, NULL), GNTST_okay);
    assert_int_equal(unmap_hc(t, c, h, 0, 0), GNTST_okay);
}

/* The frame is read only after the flags are set, and a frame the granter
 * does not own is bad_page: a gpfn with nothing behind it, one past the
 * physmap, frame 0; for a PV granter an MFN of another domain.  The bits
 * set for the attempt are cleared again. */
static void test_map_bad_page(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *p = mkdom(t, "p", PV_CREATE_PV);
    uint32_t h;
    uint64_t bus;

    grant(a, 8, b->id, (uint32_t)(a->p2m_size - 1), PERMIT);
    grant(a, 9, b->id, (uint32_t)a->p2m_size, PERMIT);
    grant(a, 10, b->id, UINT32_MAX, PERMIT);
    grant(p, 8, b->id, (uint32_t)a->p2m[RAM_GPFN], PERMIT); /* a's frame */
    grant(p, 9, b->id, 0, PERMIT);
    grant(p, 10, b->id, UINT32_MAX, PERMIT);
    grant(p, 11, b->id, RAM_GPFN, RO_PERMIT); /* a gpfn, not an mfn */
    for (uint32_t r = 8; r <= 10; r++) {
        assert_int_equal(map_hc(t, b, a->id, r, MAP_RW, NULL, NULL),
                         GNTST_bad_page);
        assert_int_equal(eflags(a, r), PERMIT);
        assert_unpinned(a, r);
    }
    for (uint32_t r = 8; r <= 11; r++) {
        assert_int_equal(map_hc(t, b, p->id, r, MAP_RO, NULL, NULL),
                         GNTST_bad_page);
        assert_int_equal(eflags(p, r), r == 11 ? RO_PERMIT : PERMIT);
        assert_unpinned(p, r);
    }
    assert_int_equal(b->gt.mt_used, 0);

    /* a PV granter names its own MFN */
    grant(p, 12, b->id, (uint32_t)p->p2m[RAM_GPFN], PERMIT);
    assert_int_equal(map_hc(t, b, p->id, 12, MAP_RW, &h, &bus), GNTST_okay);
    assert_true(bus == p->p2m[RAM_GPFN] << XEN_PAGE_SHIFT);
    assert_int_equal(unmap_hc(t, b, h, 0, bus), GNTST_okay);
    assert_int_equal(eflags(p, 12), PERMIT);
}

/* An entry pinned by one domain takes pins from that domain only, even if
 * the granter rewrites the entry's domid meanwhile (general_error, with
 * the entry untouched); once the first mapper unmaps, the entry is judged
 * afresh. */
static void test_map_pinned_by_other(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *c = mkdom(t, "c", 0);
    uint32_t hb, hc_;

    grant(a, 8, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &hb, NULL), GNTST_okay);
    /* the granter hands the entry to c under b's pin */
    __atomic_store_n(&ent(a, 8)->domid, c->id, __ATOMIC_RELEASE);
    assert_int_equal(map_hc(t, c, a->id, 8, MAP_RO, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(map_hc(t, c, a->id, 8, MAP_RW, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(eflags(a, 8), PINNED_RO);
    assert_int_equal(ent(a, 8)->domid, c->id);
    assert_int_equal(a->gt.act[8].domid, b->id);
    assert_int_equal(a->gt.act[8].rd_pins, 1);
    assert_int_equal(c->gt.mt_used, 0);
    /* b's own pins still count (the entry is not re-read for them) */
    uint32_t hb2;
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &hb2, NULL), GNTST_okay);
    assert_int_equal(unmap_hc(t, b, hb2, 0, 0), GNTST_okay);

    assert_int_equal(unmap_hc(t, b, hb, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 8), PERMIT);
    /* now the entry says c */
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(map_hc(t, c, a->id, 8, MAP_RW, &hc_, NULL), GNTST_okay);
    assert_int_equal(a->gt.act[8].domid, c->id);
    assert_int_equal(unmap_hc(t, c, hc_, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 8), PERMIT);
}

/* Pin counters: 128 pins of a kind, and the 129th is general_error
 * (Xen's GNTPIN_incr2oflow_mask: a counter with bit 7 set refuses); the
 * other kind still has its own 128. */
static void test_pin_overflow(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t h;

    grant(a, 8, b->id, RAM_GPFN, PERMIT);
    for (uint32_t i = 0; i < MAX_PINS; i++) {
        assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &h, NULL), GNTST_okay);
        assert_int_equal(h, i);
    }
    assert_int_equal(a->gt.act[8].rd_pins, MAX_PINS);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(a->gt.act[8].rd_pins, MAX_PINS);
    assert_int_equal(b->gt.mt_used, MAX_PINS);
    for (uint32_t i = 0; i < MAX_PINS; i++) {
        assert_int_equal(map_hc(t, b, a->id, 8, MAP_RW, NULL, NULL),
                         GNTST_okay);
    }
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RW, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(a->gt.act[8].wr_pins, MAX_PINS);
    assert_int_equal(eflags(a, 8), PINNED_RW);
    /* a pin dropped makes room for one more */
    assert_int_equal(unmap_hc(t, b, 0, 0, 0), GNTST_okay);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &h, NULL), GNTST_okay);
    assert_int_equal(h, 0);
    for (uint32_t i = 0; i < 2 * MAX_PINS; i++) {
        assert_int_equal(unmap_hc(t, b, i, 0, 0), GNTST_okay);
    }
    assert_int_equal(eflags(a, 8), PERMIT);
    assert_unpinned(a, 8);
}

/* The bounded compare-and-swap ORs Xen's bits into what it read: an entry
 * whose flags already carry GTF_reading (or GTF_writing) set by the guest
 * still maps, keeping them; the last unmap clears Xen's bits as usual. */
static void test_map_flags_preset(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t h;

    grant(a, 8, b->id, RAM_GPFN, PINNED_RO);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &h, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 8), PINNED_RO);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 8), PERMIT);

    grant(a, 9, b->id, RAM_GPFN, PINNED_RO);
    assert_int_equal(map_hc(t, b, a->id, 9, MAP_RW, &h, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 9), PINNED_RW);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 9), PERMIT);

    grant(a, 10, b->id, RAM_GPFN, PINNED_RW);
    assert_int_equal(map_hc(t, b, a->id, 10, MAP_RW, &h, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 10), PINNED_RW);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 10), PERMIT);
    /* the other bits the guest wrote stay */
    grant(a, 11, b->id, RAM_GPFN, PERMIT | GTF_PWT | GTF_PAT);
    assert_int_equal(map_hc(t, b, a->id, 11, MAP_RO, &h, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 11), PINNED_RO | GTF_PWT | GTF_PAT);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 11), PERMIT | GTF_PWT | GTF_PAT);
}

/* unmap: a handle past the table, a free one, or a device's one is
 * bad_handle; a dev_bus_addr that is not the frame's is bad_dev_addr, a
 * host_addr that is not the map's general_error, both leaving the map in
 * place; zero fields are ignored.  unmap_and_replace from a translated
 * guest cannot move a mapping (general_error), with new_addr 0 it
 * unmaps. */
static void test_unmap_errors(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *p = mkdom(t, "p", PV_CREATE_PV);
    uint32_t h, hp, hd, ga_refs[1];
    uint64_t bus, pbus;

    grant(a, 8, b->id, RAM_GPFN, PERMIT);
    grant(a, 9, p->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RW, &h, &bus), GNTST_okay);
    assert_int_equal(unmap_hc(t, b, 9999, 0, 0), GNTST_bad_handle);
    assert_int_equal(unmap_hc(t, b, b->gt.mt_size, 0, 0), GNTST_bad_handle);
    assert_int_equal(unmap_hc(t, b, UINT32_MAX, 0, 0), GNTST_bad_handle);
    assert_int_equal(unmap_hc(t, b, h + 1, 0, 0), GNTST_bad_handle);
    assert_int_equal(unmap_hc(t, a, h, 0, 0), GNTST_bad_handle);
    assert_int_equal(unmap_hc(t, b, h, HADDR + 4096, 0), GNTST_general_error);
    assert_int_equal(b->gt.mt_used, 1);
    assert_int_equal(eflags(a, 8), PINNED_RW);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_bad_handle);
    assert_int_equal(eflags(a, 8), PERMIT);

    /* a PV mapper's device map and its bus address */
    assert_int_equal(
        map_hc(t, p, a->id, 9, GNTMAP_host_map | GNTMAP_device_map, &hp, &pbus),
        GNTST_okay);
    assert_true(pbus == a->p2m[RAM_GPFN] << XEN_PAGE_SHIFT);
    assert_int_equal(unmap_hc(t, p, hp, HADDR, pbus + 4096),
                     GNTST_bad_dev_addr);
    assert_int_equal(unmap_hc(t, p, hp, HADDR, 1), GNTST_bad_dev_addr);
    assert_int_equal(p->gt.mt_used, 1);
    assert_int_equal(eflags(a, 9), PINNED_RW);
    assert_int_equal(unmap_hc(t, p, hp, HADDR, pbus), GNTST_okay);
    assert_int_equal(eflags(a, 9), PERMIT);

    /* a device's map is not the hypercall's to unmap, nor another
     * device's */
    galloc(t, a, DEV_A, b->id, true, 1, ga_refs);
    assert_int_equal(
        dmap(t, b, DEV_B, a->id, ga_refs[0], MAP_RW, &hd, NULL, NULL),
        GNTST_okay);
    assert_int_equal(unmap_hc(t, b, hd, 0, 0), GNTST_bad_handle);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_C, hd, 0, 0),
                     GNTST_bad_handle);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, hd, 0, 0), GNTST_okay);

    /* unmap_and_replace */
    struct gnttab_unmap_and_replace ur = {
        .host_addr = HADDR, .new_addr = 0x5000, .status = ST_UNSET};
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RW, &h, NULL), GNTST_okay);
    ur.handle = h;
    assert_int_equal(
        gntop(t, b, GNTTABOP_unmap_and_replace, &ur, sizeof(ur), 1), 0);
    assert_int_equal(ur.status, GNTST_general_error);
    assert_int_equal(b->gt.mt_used, 1);
    ur.new_addr = 0;
    ur.status = ST_UNSET;
    assert_int_equal(
        gntop(t, b, GNTTABOP_unmap_and_replace, &ur, sizeof(ur), 1), 0);
    assert_int_equal(ur.status, GNTST_okay);
    assert_int_equal(b->gt.mt_used, 0);
    assert_int_equal(eflags(a, 8), PERMIT);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
}

/* A batch: each op gets its own status and a failure does not stop the
 * batch. */
static void test_map_batch(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct gnttab_map_grant_ref ops[3];
    struct gnttab_unmap_grant_ref un[3];

    grant(a, 8, b->id, RAM_GPFN, PERMIT);
    grant(a, 10, b->id, RAM_GPFN + 1, RO_PERMIT);
    memset(ops, 0, sizeof(ops));
    for (int i = 0; i < 3; i++) {
        ops[i].host_addr = HADDR + (uint64_t)i * 4096;
        ops[i].flags = i == 2 ? MAP_RO : MAP_RW;
        ops[i].ref = 8 + (uint32_t)i;
        ops[i].dom = a->id;
        ops[i].handle = SENTINEL;
        ops[i].status = ST_UNSET;
    }
    assert_int_equal(gntop(t, b, GNTTABOP_map_grant_ref, ops, sizeof(ops), 3),
                     0);
    assert_int_equal(ops[0].status, GNTST_okay);
    assert_int_equal(ops[1].status, GNTST_general_error); /* ref 9: invalid */
    assert_int_equal(ops[2].status, GNTST_okay);
    assert_int_equal(ops[0].handle, 0);
    assert_int_equal(ops[1].handle, SENTINEL);
    assert_int_equal(ops[2].handle, 1);
    assert_true(ops[2].dev_bus_addr == a->p2m[RAM_GPFN + 1] << XEN_PAGE_SHIFT);

    memset(un, 0, sizeof(un));
    un[0].handle = ops[0].handle;
    un[1].handle = SENTINEL;
    un[2].handle = ops[2].handle;
    un[2].dev_bus_addr = ops[2].dev_bus_addr;
    for (int i = 0; i < 3; i++) {
        un[i].status = ST_UNSET;
    }
    assert_int_equal(gntop(t, b, GNTTABOP_unmap_grant_ref, un, sizeof(un), 3),
                     0);
    assert_int_equal(un[0].status, GNTST_okay);
    assert_int_equal(un[1].status, GNTST_bad_handle);
    assert_int_equal(un[2].status, GNTST_okay);
    assert_int_equal(eflags(a, 8), PERMIT);
    assert_int_equal(eflags(a, 10), RO_PERMIT);
}

/* ================= copy ================= */

static struct hv_copy_side gref_side(domid_t dom, uint32_t ref, uint16_t off)
{
    struct hv_copy_side s = {
        .gref = true, .ref = ref, .domid = dom, .offset = off};
    return s;
}

static struct hv_copy_side frame_side(domid_t dom, uint64_t gmfn, uint16_t off)
{
    struct hv_copy_side s = {
        .gref = false, .gmfn = gmfn, .domid = dom, .offset = off};
    return s;
}

/* The per-op checks in Xen's order: len 0 is okay with no other check at
 * all; a frame side that is not DOMID_SELF
 * (even the caller's own id) is permission_denied, before an unknown gref
 * domain (bad_domain), before offset+len > 4096 on either side
 * (bad_copy_arg); then a ref out of range is bad_gntref, an entry not
 * granted to the caller general_error, a frame with no memory behind it
 * bad_page.  None leaves a pin. */
static void test_copy_errors(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *c = mkdom(t, "c", 0);
    uint32_t ra[1], rb[1];
    struct hv_galloc *gb;
    struct hv_copy_side s, d;

    galloc(t, a, DEV_A, b->id, true, 1, ra);
    gb = galloc(t, b, DEV_B, c->id, true, 1, rb); /* b's own page */
    grant(a, 100, b->id, RAM_GPFN, PERMIT);       /* RAM, no memory */
    grant(a, 101, c->id, RAM_GPFN, PERMIT);

    /* 1. len 0 */
    s = frame_side(NO_DOMAIN, UINT64_MAX, 0xffff);
    d = gref_side(NO_DOMAIN, UINT32_MAX, 0xffff);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 0), GNTST_okay);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &d, &s, 0), GNTST_okay);
    /* 2. frame sides must say DOMID_SELF */
    s = frame_side(a->id, RAM_GPFN, 4000);
    d = gref_side(NO_DOMAIN, UINT32_MAX, 4000);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 200),
                     GNTST_permission_denied);
    /* (Xen checks the source side's domain before the destination's) */
    s = gref_side(NO_DOMAIN, UINT32_MAX, 4000);
    d = frame_side(b->id, gb->page[0].gpfn, 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 200), GNTST_bad_domain);
    s = gref_side(a->id, UINT32_MAX, 4000);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 200),
                     GNTST_permission_denied);
    s = gref_side(NO_DOMAIN, UINT32_MAX, 4000);
    /* then unknown domains */
    d = frame_side(DOMID_SELF, gb->page[0].gpfn, 4000);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 200), GNTST_bad_domain);
    s = gref_side(a->id, UINT32_MAX, 4000);
    d = gref_side(NO_DOMAIN, 0, 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 200), GNTST_bad_domain);
    /* 3. bounds, on either side, checked after both sides are claimed (Xen
     * 4.17's gnttab_copy_buf): a bad ref wins over bad bounds */
    s = gref_side(a->id, UINT32_MAX, 4000);
    d = frame_side(DOMID_SELF, gb->page[0].gpfn, 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 97), GNTST_bad_gntref);
    s = gref_side(a->id, ra[0], 4000);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 97), GNTST_bad_copy_arg);
    assert_int_equal(a->gt.act[ra[0]].rd_pins, 0); /* the pin was dropped */
    s = gref_side(a->id, ra[0], 0);
    d = frame_side(DOMID_SELF, gb->page[0].gpfn, 1);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 4096),
                     GNTST_bad_copy_arg);
    /* 4. the gref side */
    s = gref_side(a->id, PER_FRAME, 0);
    d = frame_side(DOMID_SELF, gb->page[0].gpfn, 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 16), GNTST_bad_gntref);
    s = gref_side(a->id, 101, 0); /* granted to c */
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 16),
                     GNTST_general_error);
    assert_int_equal(eflags(a, 101), PERMIT);
    s = gref_side(a->id, 100, 0); /* RAM without memory */
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 16), GNTST_bad_page);
    assert_int_equal(eflags(a, 100), PERMIT);
    assert_unpinned(a, 100);
    /* 5. the frame side: the caller's own memory only */
    s = gref_side(a->id, ra[0], 0);
    d = frame_side(DOMID_SELF, RAM_GPFN, 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 16), GNTST_bad_page);
    d = frame_side(DOMID_SELF, b->p2m_size - 1, 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 16), GNTST_bad_page);
    d = frame_side(DOMID_SELF, UINT64_MAX, 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 16), GNTST_bad_page);
    assert_int_equal(eflags(a, ra[0]), PERMIT);
    assert_unpinned(a, ra[0]);

    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    hv_gnttab_release_owned(&t->hv, b, DEV_B);
}

/* A read-only grant as the destination is general_error; the source's
 * temporary pin is dropped, and neither entry keeps a bit or a pin. */
static void test_copy_into_readonly(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t rw[1], ro[1];
    struct hv_galloc *gro;
    struct hv_copy_side s, d;

    galloc(t, a, DEV_A, b->id, true, 1, rw);
    gro = galloc(t, a, DEV_A, b->id, false, 1, ro);
    memset(mpage(gro->mem, 0), 0x11, 64);
    s = gref_side(a->id, rw[0], 0);
    d = gref_side(a->id, ro[0], 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 64),
                     GNTST_general_error);
    assert_int_equal(eflags(a, rw[0]), PERMIT);
    assert_int_equal(eflags(a, ro[0]), RO_PERMIT);
    assert_unpinned(a, rw[0]);
    assert_unpinned(a, ro[0]);
    assert_int_equal(mpage(gro->mem, 0)[0], 0x11);
    /* it reads fine */
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &d, &s, 64), GNTST_okay);
    assert_int_equal(eflags(a, ro[0]), RO_PERMIT);
    assert_unpinned(a, ro[0]);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
}

/* A copy between two gntalloc'd pages of two granters moves exactly the
 * bytes asked for and leaves no pins and no bits; through GNTTABOP_copy a
 * batch gets a status per op and the IN fields come back as they went. */
static void test_copy_between_grants(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *c = mkdom(t, "c", 0);
    uint32_t ra[1], rc_[1];
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 1, ra);
    struct hv_galloc *gc = galloc(t, c, DEV_C, b->id, true, 1, rc_);
    uint8_t *src = mpage(ga->mem, 0), *dst = mpage(gc->mem, 0);
    struct gnttab_copy ops[2];

    for (unsigned int i = 0; i < PAGE_BYTES; i++) {
        src[i] = (uint8_t)(i * 7 + 1);
    }
    memset(ops, 0, sizeof(ops));
    ops[0].source.u.ref = ra[0];
    ops[0].source.domid = a->id;
    ops[0].source.offset = 10;
    ops[0].dest.u.ref = rc_[0];
    ops[0].dest.domid = c->id;
    ops[0].dest.offset = 2000;
    ops[0].len = 100;
    ops[0].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    ops[0].status = ST_UNSET;
    ops[1] = ops[0];
    ops[1].dest.offset = 4000;
    assert_int_equal(gntop(t, b, GNTTABOP_copy, ops, sizeof(ops), 2), 0);
    assert_int_equal(ops[0].status, GNTST_okay);
    assert_int_equal(ops[1].status, GNTST_bad_copy_arg);
    assert_int_equal(ops[0].source.u.ref, ra[0]);
    assert_int_equal(ops[0].dest.offset, 2000);
    assert_int_equal(ops[0].len, 100);
    assert_memory_equal(dst + 2000, src + 10, 100);
    assert_int_equal(dst[1999], 0);
    assert_int_equal(dst[2100], 0);
    assert_int_equal(eflags(a, ra[0]), PERMIT);
    assert_int_equal(eflags(c, rc_[0]), PERMIT);
    assert_unpinned(a, ra[0]);
    assert_unpinned(c, rc_[0]);

    /* a whole page */
    struct hv_copy_side s = gref_side(a->id, ra[0], 0);
    struct hv_copy_side d = gref_side(c->id, rc_[0], 0);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, PAGE_BYTES), GNTST_okay);
    assert_memory_equal(dst, src, PAGE_BYTES);
    assert_unpinned(a, ra[0]);
    assert_unpinned(c, rc_[0]);

    /* a device's buffer (gntdev's GRANT_COPY): exactly the bytes, whatever
     * its offset and domid say; the grant side keeps its bounds */
    uint8_t buf[64];
    struct hv_copy_side l = {.local = buf, .domid = NO_DOMAIN, .offset = 100};
    memset(buf, 0, sizeof(buf));
    s = gref_side(a->id, ra[0], 30);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &l, 64), GNTST_okay);
    assert_memory_equal(buf, src + 30, 64);
    memset(buf, 0xc3, sizeof(buf));
    d = gref_side(c->id, rc_[0], 4032);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &l, &d, 64), GNTST_okay);
    assert_int_equal(dst[4031], src[4031]);
    for (unsigned int i = 4032; i < PAGE_BYTES; i++) {
        assert_int_equal(dst[i], 0xc3);
    }
    d.offset = 4033;
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &l, &d, 64), GNTST_bad_copy_arg);
    assert_unpinned(a, ra[0]);
    assert_unpinned(c, rc_[0]);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    hv_gnttab_release_owned(&t->hv, c, DEV_C);
}

/* A frame side names the caller's own memory by gpfn (translated) or MFN
 * (PV) with DOMID_SELF; the same ref as source and destination pins and
 * unpins cleanly. */
static void test_copy_own_frame(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *p = mkdom(t, "p", PV_CREATE_PV);
    uint32_t ra[1], rb[1], rp[1];
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 1, ra);
    struct hv_galloc *gb = galloc(t, b, DEV_B, a->id, true, 1, rb);
    struct hv_galloc *gp = galloc(t, p, DEV_C, a->id, true, 1, rp);
    struct hv_copy_side s, d;

    memcpy(mpage(ga->mem, 0) + 100, "grant me", 8);
    s = gref_side(a->id, ra[0], 100);
    d = frame_side(DOMID_SELF, gb->page[0].gpfn, 7);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 8), GNTST_okay);
    assert_memory_equal(mpage(gb->mem, 0) + 7, "grant me", 8);
    assert_unpinned(a, ra[0]);
    /* and back out of it */
    s = frame_side(DOMID_SELF, gb->page[0].gpfn, 7);
    d = gref_side(a->id, ra[0], 200);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 8), GNTST_okay);
    assert_memory_equal(mpage(ga->mem, 0) + 200, "grant me", 8);
    /* within one grant */
    s = gref_side(a->id, ra[0], 200);
    d = gref_side(a->id, ra[0], 300);
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, 8), GNTST_okay);
    assert_memory_equal(mpage(ga->mem, 0) + 300, "grant me", 8);
    assert_int_equal(eflags(a, ra[0]), PERMIT);
    assert_unpinned(a, ra[0]);
    /* a PV caller names an MFN; its gpfn is no frame of its */
    s = frame_side(DOMID_SELF, ga_mfn(p, gp, 0), 0);
    memcpy(mpage(gp->mem, 0), "pv", 2);
    d = frame_side(DOMID_SELF, ga_mfn(p, gp, 0), 10);
    assert_int_equal(hv_gnttab_copy(&t->hv, p, &s, &d, 2), GNTST_okay);
    assert_memory_equal(mpage(gp->mem, 0) + 10, "pv", 2);
    d = frame_side(DOMID_SELF, gp->page[0].gpfn, 10);
    assert_int_equal(hv_gnttab_copy(&t->hv, p, &s, &d, 2), GNTST_bad_page);

    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    hv_gnttab_release_owned(&t->hv, b, DEV_B);
    hv_gnttab_release_owned(&t->hv, p, DEV_C);
}

/* ================= gntalloc ================= */

/* An allocation grants count zeroed pages of one memory: refs from 8 up
 * (the reserved ones stay untouched), each entry {grantee, gpfn (a
 * translated granter) or MFN (PV), permit_access | readonly unless
 * writable}; the pages count against the domain's limit and the frames
 * point at the memory. */
static void test_gntalloc_entries(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *p = mkdom(t, "p", PV_CREATE_PV);
    uint32_t refs[3], wrefs[2], prefs[2];
    int pages0 = t->f.pages;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, false, 3, refs);
    struct hv_galloc *gw = galloc(t, a, DEV_A, b->id, true, 2, wrefs);
    struct hv_galloc *gp = galloc(t, p, DEV_C, a->id, true, 2, prefs);

    assert_int_equal(t->f.pages, pages0 + 3); /* one memory per call */
    assert_int_equal(ga->count, 3);
    assert_int_equal(ga->live, 3);
    assert_true(ga->owner == DEV_A);
    assert_true(gw->id != ga->id);
    assert_int_equal(ga->mem->owner, a->id);
    assert_int_equal(ga->mem->grantee, b->id);
    assert_true(ga->mem->readonly);
    assert_false(ga->mem->sealed);
    assert_false(gw->mem->readonly);
    assert_int_equal(ga->mem->pg.npages, 3);
    assert_int_equal(a->gt.ga_pages, 5);
    assert_int_equal(p->gt.ga_pages, 2);
    assert_true(hv_galloc_find(a, DEV_A, ga->id) == ga);
    assert_true(hv_galloc_find(a, DEV_A, gw->id) == gw);
    assert_null(hv_galloc_find(a, DEV_B, ga->id));
    assert_null(hv_galloc_find(a, DEV_A, gw->id + 100));
    for (uint32_t r = 0; r < 8; r++) {
        assert_int_equal(*(uint64_t *)ent(a, r), 0);
    }
    for (uint32_t i = 0; i < 3; i++) {
        uint64_t mfn = ga_mfn(a, ga, i);
        assert_true(refs[i] >= 8 && refs[i] < PER_FRAME);
        assert_int_equal(ga->page[i].ref, refs[i]);
        assert_int_equal(ga->page[i].state, GA_LIVE);
        assert_int_equal(ent(a, refs[i])->domid, b->id);
        assert_int_equal(ent(a, refs[i])->frame, ga->page[i].gpfn);
        assert_int_equal(eflags(a, refs[i]), RO_PERMIT);
        assert_true(a->gt.act[refs[i]].ga == ga);
        assert_int_equal(a->gt.act[refs[i]].ga_idx, i);
        assert_true(t->hv.frames[mfn].mem == ga->mem);
        assert_int_equal(t->hv.frames[mfn].mem_idx, i);
        assert_int_equal(t->hv.frames[mfn].owner, a->id);
        for (uint32_t j = 0; j < i; j++) {
            assert_true(refs[i] != refs[j]);
            assert_true(ga->page[i].gpfn != ga->page[j].gpfn);
        }
        for (uint32_t j = 0; j < 2; j++) {
            assert_true(refs[i] != wrefs[j]);
            assert_true(ga->page[i].gpfn != gw->page[j].gpfn);
        }
        for (unsigned int k = 0; k < PAGE_BYTES; k++) {
            assert_int_equal(mpage(ga->mem, i)[k], 0);
        }
    }
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(eflags(a, wrefs[i]), PERMIT);
        assert_int_equal(ent(a, wrefs[i])->frame, gw->page[i].gpfn);
        /* a PV granter names the MFN */
        assert_true(prefs[i] >= 8);
        assert_int_equal(ent(p, prefs[i])->frame, (uint32_t)ga_mfn(p, gp, i));
        assert_int_equal(ent(p, prefs[i])->domid, a->id);
        assert_int_equal(eflags(p, prefs[i]), PERMIT);
    }
    /* the grantee maps them, through the hypercall too */
    uint32_t h;
    uint64_t bus;
    assert_int_equal(map_hc(t, b, a->id, refs[1], MAP_RO, &h, &bus),
                     GNTST_okay);
    assert_true(bus == ga_mfn(a, ga, 1) << XEN_PAGE_SHIFT);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    hv_gnttab_release_owned(&t->hv, p, DEV_C);
    assert_int_equal(t->f.pages, pages0);
}

/* The limit (gntalloc's `limit`, per allocating domain): a count above it
 * is -ENOSPC before anything is allocated; allocations fill it exactly,
 * then one page more is -ENOSPC; freeing gives the room back.  count 0 is
 * refused. */
static void test_gntalloc_limit(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[8];
    int pages0 = t->f.pages;
    struct hv_galloc *ga = NULL, *g4;

    t->hv.gntalloc_limit = 4;
    assert_int_equal(hv_gntalloc(&t->hv, a, DEV_A, b->id, true, 5, refs, &ga),
                     -ENOSPC);
    assert_int_equal(
        hv_gntalloc(&t->hv, a, DEV_A, b->id, true, UINT32_MAX, refs, &ga),
        -ENOSPC);
    assert_int_equal(hv_gntalloc(&t->hv, a, DEV_A, b->id, true, 0, refs, &ga),
                     -EINVAL);
    assert_null(ga);
    assert_int_equal(t->f.pages, pages0);
    assert_int_equal(a->gt.ga_pages, 0);
    assert_null(a->gt.gallocs);
    for (uint32_t r = 0; r < PER_FRAME; r++) {
        assert_int_equal(*(uint64_t *)ent(a, r), 0);
    }

    galloc(t, a, DEV_A, b->id, true, 1, refs);
    g4 = galloc(t, a, DEV_A, b->id, true, 3, refs + 1);
    assert_int_equal(a->gt.ga_pages, 4);
    assert_int_equal(hv_gntalloc(&t->hv, a, DEV_A, b->id, true, 1, refs, &ga),
                     -ENOSPC);
    assert_null(ga);
    assert_int_equal(a->gt.ga_pages, 4);
    assert_int_equal(t->f.pages, pages0 + 2);
    /* another domain has its own room */
    galloc(t, b, DEV_B, a->id, true, 4, refs + 4);

    /* two pages back, two pages more */
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, g4->id, 1, 2), 0);
    assert_int_equal(a->gt.ga_pages, 2);
    galloc(t, a, DEV_A, b->id, false, 2, refs);
    assert_int_equal(a->gt.ga_pages, 4);
    assert_int_equal(hv_gntalloc(&t->hv, a, DEV_A, b->id, true, 1, refs, &ga),
                     -ENOSPC);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    hv_gnttab_release_owned(&t->hv, b, DEV_B);
    assert_int_equal(a->gt.ga_pages, 0);
    assert_null(a->gt.gallocs);
    assert_int_equal(t->f.pages, pages0);
}

/* A partial failure (the domain's RAM runs out on page 257 of 257) releases
 * everything the call allocated: no entry, no frame pointing at memory,
 * no memory, nothing counted. */
static void test_gntalloc_partial_failure(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t n = (uint32_t)a->max_pages, refs[DOM_KIB / 4 + 1];
    int pages0 = t->f.pages;
    struct hv_galloc *ga = NULL;

    assert_int_equal(n, DOM_KIB / 4);
    assert_int_equal(
        hv_gntalloc(&t->hv, a, DEV_A, b->id, true, n + 1, refs, &ga), -ENOMEM);
    assert_null(ga);
    assert_int_equal(t->f.pages, pages0);
    assert_int_equal(a->gt.ga_pages, 0);
    assert_null(a->gt.gallocs);
    for (uint32_t r = 0; r < PER_FRAME; r++) {
        /* ended: flags and domid 0 (the frame may stay, as in Linux) */
        assert_int_equal(eflags(a, r), 0);
        assert_int_equal(ent(a, r)->domid, 0);
        assert_null(a->gt.act[r].ga);
    }
    for (uint64_t g = 0; g < a->p2m_size; g++) {
        if (a->p2m[g] != HV_INVALID_MFN) {
            assert_null(t->hv.frames[a->p2m[g]].mem);
        }
    }
    /* all of its RAM is fine */
    ga = galloc(t, a, DEV_A, b->id, true, n, refs);
    assert_int_equal(a->gt.ga_pages, n);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    assert_int_equal(t->f.pages, pages0);
}

/* Refs beyond the first frame grow the table as Linux's gnttab_expand
 * does; a table at its max_grant_frames is -ENOSPC, with nothing left
 * allocated. */
static void test_gntalloc_table_growth(void **state)
{
    struct t *t = *state;
    struct hv_domain_cfg big = cfg_of("big", 0), one = cfg_of("one", 0);
    struct hv_domain *a, *s, *b = mkdom(t, "b", 0);
    uint32_t refs[600], nr, max;
    uint8_t seen[2 * PER_FRAME];
    struct hv_galloc *ga = NULL;
    int pages0;

    big.memory_kib = 4096;
    one.memory_kib = 4096;
    one.max_grant_frames = 1;
    a = mkdom_cfg(t, &big);
    s = mkdom_cfg(t, &one);
    pages0 = t->f.pages;
    galloc(t, a, DEV_A, b->id, true, 600, refs);
    assert_int_equal(a->gt.nr_frames, 2);
    assert_int_equal(query_size(t, a, DOMID_SELF, &nr, &max), GNTST_okay);
    assert_int_equal(nr, 2);
    memset(seen, 0, sizeof(seen));
    for (uint32_t i = 0; i < 600; i++) {
        assert_true(refs[i] >= 8 && refs[i] < 2 * PER_FRAME);
        assert_int_equal(seen[refs[i]], 0);
        seen[refs[i]] = 1;
        assert_int_equal(ent(a, refs[i])->domid, b->id);
        assert_int_equal(eflags(a, refs[i]), PERMIT);
    }
    /* the first frame holds 504 refs after the reserved 8 */
    galloc(t, s, DEV_C, b->id, false, PER_FRAME - 8, refs);
    assert_int_equal(s->gt.nr_frames, 1);
    assert_int_equal(hv_gntalloc(&t->hv, s, DEV_C, b->id, false, 1, refs, &ga),
                     -ENOSPC);
    assert_null(ga);
    assert_int_equal(s->gt.ga_pages, PER_FRAME - 8);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    hv_gnttab_release_owned(&t->hv, s, DEV_C);
    assert_int_equal(t->f.pages, pages0);
}

/* Freeing pages nobody maps ends access at once (the flags go to 0), the
 * frames are plain RAM again and the limit is given back; a range outside
 * the allocation, an unknown id or another device's record is -EINVAL;
 * pages already freed are skipped. */
static void test_gntalloc_free(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[3];
    int pages0 = t->f.pages;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, false, 3, refs);
    uint64_t id = ga->id, mfn1 = ga_mfn(a, ga, 1);

    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_B, id, 0, 3), -EINVAL);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id + 1, 0, 1), -EINVAL);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 3, 0), -EINVAL);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 1, 3), -EINVAL);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 1, UINT32_MAX),
                     -EINVAL);
    assert_int_equal(hv_gntalloc_free(&t->hv, b, DEV_A, id, 0, 3), -EINVAL);
    assert_int_equal(a->gt.ga_pages, 3);

    /* the middle page */
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 1, 1), 0);
    assert_int_equal(eflags(a, refs[1]), 0);
    assert_int_equal(eflags(a, refs[0]), RO_PERMIT);
    assert_int_equal(eflags(a, refs[2]), RO_PERMIT);
    assert_int_equal(ga->page[1].state, GA_GONE);
    assert_int_equal(ga->live, 2);
    assert_null(a->gt.act[refs[1]].ga);
    assert_null(t->hv.frames[mfn1].mem);
    assert_int_equal(a->gt.ga_pages, 2);
    /* the grantee can no longer map it */
    assert_int_equal(map_hc(t, b, a->id, refs[1], MAP_RO, NULL, NULL),
                     GNTST_general_error);
    /* all of it, the freed page again included */
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 0, 3), 0);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(eflags(a, refs[i]), 0);
        assert_null(a->gt.act[refs[i]].ga);
    }
    assert_int_equal(a->gt.ga_pages, 0);
    assert_null(a->gt.gallocs);
    assert_null(hv_galloc_find(a, DEV_A, id));
    assert_int_equal(t->f.pages, pages0);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 0, 1), -EINVAL);
}

/* XSA-396: a page the grantee still maps cannot be ended; freeing it
 * defers the end of access: the entry stays (with Xen's bits), the record
 * stays, but the limit is released at once.  The grantee's unmap ends
 * access (flags 0), the frame becomes plain RAM and the memory goes. */
static void test_gntalloc_free_deferred(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[2], more[2], h, idx;
    int pages0 = t->f.pages;
    struct hv_galloc *ga;
    struct hv_mem *mem;
    uint64_t id, mfn0;

    t->hv.gntalloc_limit = 2;
    ga = galloc(t, a, DEV_A, b->id, true, 2, refs);
    id = ga->id;
    mfn0 = ga_mfn(a, ga, 0);
    assert_int_equal(dmap(t, b, DEV_B, a->id, refs[0], MAP_RW, &h, &mem, &idx),
                     GNTST_okay);
    assert_true(mem == ga->mem);
    assert_int_equal(idx, 0);
    assert_int_equal(mem->refs, 5); /* record, two frames, the map, the pin */
    assert_int_equal(eflags(a, refs[0]), PINNED_RW);
    assert_int_equal(a->gt.act[refs[0]].wr_pins, 1);

    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 0, 2), 0);
    assert_int_equal(eflags(a, refs[1]), 0);
    assert_int_equal(eflags(a, refs[0]), PINNED_RW);
    assert_int_equal(ent(a, refs[0])->domid, b->id);
    assert_true(hv_galloc_find(a, DEV_A, id) == ga);
    assert_int_equal(ga->page[0].state, GA_DEFERRED);
    assert_int_equal(ga->page[1].state, GA_GONE);
    assert_int_equal(ga->live, 1);
    assert_true(t->hv.frames[mfn0].mem == mem);
    assert_int_equal(a->gt.ga_pages, 0);
    /* a deferred page takes no notification and is not freed twice */
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0,
                                            UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 0, 1), 0);
    assert_int_equal(eflags(a, refs[0]), PINNED_RW);
    /* nor is its ref handed out again */
    struct hv_galloc *g2 = galloc(t, a, DEV_A, b->id, true, 2, more);
    assert_true(more[0] != refs[0] && more[1] != refs[0]);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, g2->id, 0, 2), 0);

    /* the grantee still reaches the page */
    mpage(mem, 0)[5] = 0x42;
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, refs[0]), 0);
    assert_null(a->gt.act[refs[0]].ga);
    assert_unpinned(a, refs[0]);
    assert_null(t->hv.frames[mfn0].mem);
    assert_null(a->gt.gallocs);
    assert_int_equal(t->f.pages, pages0);
}

/* UNMAP_NOTIFY_CLEAR_BYTE: when the page is freed, the byte is zeroed in
 * the shared page (the grantee, who still maps it, sees it), its
 * neighbours untouched.  A second SET_UNMAP_NOTIFY replaces the first. */
static void test_gntalloc_notify_clear_byte(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[2], h, idx, pa, pb;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 2, refs);
    uint64_t id = ga->id;
    struct hv_mem *mem;

    bind_pair(t, a, b, &pa, &pb);
    assert_int_equal(dmap(t, b, DEV_B, a->id, refs[1], MAP_RW, &h, &mem, &idx),
                     GNTST_okay);
    assert_true(mem == ga->mem);
    assert_int_equal(idx, 1);
    memset(mpage(mem, 1) + 120, 0x5a, 8);
    /* page 1, byte 123; first with an event, then replaced without */
    assert_int_equal(hv_gntalloc_set_notify(
                         &t->hv, a, DEV_A, id, 1, 123,
                         UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT, pa),
                     0);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 1, 123,
                                            UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     0);
    assert_int_equal(ga->page[1].notify, UNMAP_NOTIFY_CLEAR_BYTE);
    assert_int_equal(ga->page[1].notify_off, 123);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 0, 2), 0);
    assert_int_equal(mpage(mem, 1)[123], 0);
    assert_int_equal(mpage(mem, 1)[122], 0x5a);
    assert_int_equal(mpage(mem, 1)[124], 0x5a);
    assert_false(hv_evtchn_is_pending(b, pb));
    /* it fires once */
    mpage(mem, 1)[123] = 0x77;
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h, 0, 0), GNTST_okay);
    assert_null(a->gt.gallocs);
}

/* UNMAP_NOTIFY_SEND_EVENT raises the peer's port when the page is freed
 * (after the byte is cleared), once. */
static void test_gntalloc_notify_send_event(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[2], pa, pb;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, false, 2, refs);
    uint64_t id = ga->id;

    bind_pair(t, a, b, &pa, &pb);
    assert_int_equal(hv_gntalloc_set_notify(
                         &t->hv, a, DEV_A, id, 0, 4095,
                         UNMAP_NOTIFY_SEND_EVENT | UNMAP_NOTIFY_CLEAR_BYTE, pa),
                     0);
    assert_true(hv_gnttab_notify_holds(a, pa));
    assert_false(hv_gnttab_notify_holds(a, pa + 1));
    /* page 1 has no notification */
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 1, 1), 0);
    assert_false(hv_evtchn_is_pending(b, pb));
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 0, 1), 0);
    assert_true(hv_evtchn_is_pending(b, pb));
    assert_false(hv_gnttab_notify_holds(a, pa));
    assert_int_equal(eflags(a, refs[0]), 0);
    assert_null(a->gt.gallocs);
}

/* SET_UNMAP_NOTIFY's errors, in Linux's order: a page that is not (or no
 * longer) in the allocation, an unknown record, another device's record,
 * or a byte past the page is -ENOENT; then unknown action bits, and a
 * SEND_EVENT port that is not bound (free, reserved 0, past the limit),
 * are -EINVAL.  None changes the notification. */
static void test_gntalloc_notify_errors(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[2], pa, pb;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 2, refs);
    uint64_t id = ga->id;

    bind_pair(t, a, b, &pa, &pb);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 2, 0,
                                            UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 2, 0, 4, 0),
                     -ENOENT);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id + 1, 0, 0,
                                            UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_B, id, 0, 0,
                                            UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 4096,
                                            UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0, 4, 0),
                     -EINVAL);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0,
                                            UNMAP_NOTIFY_CLEAR_BYTE | 0x80, pa),
                     -EINVAL);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0,
                                            UNMAP_NOTIFY_SEND_EVENT, pa + 5),
                     -EINVAL);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0,
                                            UNMAP_NOTIFY_SEND_EVENT, 0),
                     -EINVAL);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0,
                                            UNMAP_NOTIFY_SEND_EVENT,
                                            a->max_evtchn + 1),
                     -EINVAL);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0,
                                            UNMAP_NOTIFY_SEND_EVENT,
                                            UINT32_MAX),
                     -EINVAL);
    /* b's port is not a's */
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0,
                                            UNMAP_NOTIFY_SEND_EVENT, pb + 7),
                     -EINVAL);
    assert_int_equal(ga->page[0].notify, 0);
    assert_int_equal(ga->page[1].notify, 0);
    /* action 0 clears */
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0,
                                            UNMAP_NOTIFY_SEND_EVENT, pa),
                     0);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, id, 0, 0, 0, 0),
                     0);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 0, 2), 0);
    assert_false(hv_evtchn_is_pending(b, pb));
    /* a page gone */
    assert_null(a->gt.gallocs);
}

/* ================= device maps ================= */

/* The isolation invariant: memory granted to b reaches no one else.  If
 * the granter rewrites the entry's domid to c (or writes a second entry
 * naming the same frame for c), c's device map is general_error, with the
 * entry left as the granter wrote it, while b's entry, restored, maps.  A
 * hypercall map (which hands out no memory) follows the entry as in
 * Xen.  A frame with no memory behind it (plain RAM) is bad_page for a
 * device. */
static void test_device_map_isolation(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *c = mkdom(t, "c", 0);
    uint32_t refs[1], h;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 1, refs);
    struct hv_mem *mem;
    uint32_t r = refs[0];

    __atomic_store_n(&ent(a, r)->domid, c->id, __ATOMIC_RELEASE);
    assert_int_equal(dmap(t, c, DEV_C, a->id, r, MAP_RW, NULL, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(dmap(t, c, DEV_C, a->id, r, MAP_RO, NULL, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(eflags(a, r), PERMIT);
    assert_int_equal(ent(a, r)->domid, c->id);
    assert_unpinned(a, r);
    assert_int_equal(c->gt.mt_used, 0);
    /* b cannot either: the entry does not name it */
    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RW, NULL, NULL, NULL),
                     GNTST_general_error);
    /* the hypercall, with no memory handed out, goes by the entry */
    assert_int_equal(map_hc(t, c, a->id, r, MAP_RW, &h, NULL), GNTST_okay);
    assert_int_equal(unmap_hc(t, c, h, 0, 0), GNTST_okay);

    /* a second entry for the same frame, naming c */
    grant(a, 200, c->id, (uint32_t)ga->page[0].gpfn, PERMIT);
    assert_int_equal(dmap(t, c, DEV_C, a->id, 200, MAP_RW, NULL, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(eflags(a, 200), PERMIT);
    assert_unpinned(a, 200);

    /* restored, b maps it */
    __atomic_store_n(&ent(a, r)->domid, b->id, __ATOMIC_RELEASE);
    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RW, &h, &mem, NULL),
                     GNTST_okay);
    assert_true(mem == ga->mem);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h, 0, 0), GNTST_okay);

    /* plain RAM: nothing to hand out */
    grant(a, 8, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(dmap(t, b, DEV_B, a->id, 8, MAP_RW, NULL, NULL, NULL),
                     GNTST_bad_page);
    assert_int_equal(dmap(t, b, DEV_B, a->id, 8, MAP_RO, NULL, NULL, NULL),
                     GNTST_bad_page);
    assert_int_equal(eflags(a, 8), PERMIT);
    assert_unpinned(a, 8);
    assert_int_equal(b->gt.mt_used, 0);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
}

/* A read-only allocation is sealed (once) before the grantee's first
 * device map gets it; a writable device map of it is general_error even
 * when the granter drops GTF_readonly from the entry, and seals nothing. */
static void test_device_map_readonly_seal(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[1], h1, h2, h3;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, false, 1, refs);
    unsigned int seals0 = t->f.seals;
    uint32_t r = refs[0];
    struct hv_mem *mem;

    /* the granter makes the entry writable: the memory is not */
    __atomic_store_n(&ent(a, r)->flags, (uint16_t)PERMIT, __ATOMIC_RELEASE);
    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RW, NULL, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(t->f.seals, seals0);
    assert_false(ga->mem->sealed);
    assert_int_equal(eflags(a, r), PERMIT);
    assert_unpinned(a, r);
    __atomic_store_n(&ent(a, r)->flags, (uint16_t)RO_PERMIT, __ATOMIC_RELEASE);
    /* a hypercall map seals nothing: it hands out no memory */
    assert_int_equal(map_hc(t, b, a->id, r, MAP_RO, &h3, NULL), GNTST_okay);
    assert_int_equal(t->f.seals, seals0);

    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RO, &h1, &mem, NULL),
                     GNTST_okay);
    assert_int_equal(t->f.seals, seals0 + 1);
    assert_true(mem->sealed);
    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RO, &h2, NULL, NULL),
                     GNTST_okay);
    assert_int_equal(t->f.seals, seals0 + 1);
    assert_int_equal(a->gt.act[r].rd_pins, 3);
    assert_int_equal(a->gt.act[r].wr_pins, 0);
    /* the entry says read-only */
    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RW, NULL, NULL, NULL),
                     GNTST_general_error);
    /* and when the granter lifts that under the pins */
    __atomic_and_fetch(&ent(a, r)->flags, (uint16_t)~GTF_readonly,
                       __ATOMIC_SEQ_CST);
    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RW, NULL, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(eflags(a, r), PINNED_RO);
    assert_int_equal(a->gt.act[r].rd_pins, 3);
    assert_int_equal(a->gt.act[r].wr_pins, 0);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h1, 0, 0), GNTST_okay);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h2, 0, 0), GNTST_okay);
    assert_int_equal(unmap_hc(t, b, h3, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, r), PERMIT);
    assert_int_equal(t->f.seals, seals0 + 1);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
}

/* A read-only device map of writable memory gets a descriptor that can
 * write, so it is pinned writable (GTF_writing, a writable map record) and
 * the granter cannot make the grant read-only under it; if the entry is
 * already read-only such a map is general_error. */
static void test_device_map_writable_memory(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[1], h, hh;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 1, refs);
    uint32_t r = refs[0];

    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RO, &h, NULL, NULL),
                     GNTST_okay);
    assert_int_equal(eflags(a, r), PINNED_RW);
    assert_int_equal(a->gt.act[r].wr_pins, 1);
    assert_int_equal(a->gt.act[r].rd_pins, 0);
    assert_int_equal(b->gt.mt[h].flags & GNTMAP_readonly, 0);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, r), PERMIT);
    assert_unpinned(a, r);
    /* the hypercall's read-only map stays read-only */
    assert_int_equal(map_hc(t, b, a->id, r, MAP_RO, &hh, NULL), GNTST_okay);
    assert_int_equal(eflags(a, r), PINNED_RO);
    assert_int_equal(unmap_hc(t, b, hh, 0, 0), GNTST_okay);

    /* the granter made the entry read-only */
    __atomic_or_fetch(&ent(a, r)->flags, (uint16_t)GTF_readonly,
                      __ATOMIC_SEQ_CST);
    assert_int_equal(dmap(t, b, DEV_B, a->id, r, MAP_RO, NULL, NULL, NULL),
                     GNTST_general_error);
    assert_int_equal(eflags(a, r), RO_PERMIT);
    assert_unpinned(a, r);
    assert_int_equal(b->gt.mt_used, 0);
    assert_false(ga->mem->sealed);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
}

/* gntdev's SET_UNMAP_NOTIFY on a device's map: an unknown action is
 * -EINVAL; a handle that is not this device's or a byte past the page is
 * -ENOENT; an unbound port is -EINVAL, as is clearing a byte in a
 * read-only map.  The notification fires on unmap: the byte first, then
 * the event. */
static void test_gntdev_notify(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t rw[1], ro[1], h, hr, hh, pa, pb;
    struct hv_mem *mem;

    galloc(t, a, DEV_A, b->id, true, 1, rw);
    galloc(t, a, DEV_A, b->id, false, 1, ro);
    bind_pair(t, a, b, &pa, &pb);
    assert_int_equal(dmap(t, b, DEV_B, a->id, rw[0], MAP_RW, &h, &mem, NULL),
                     GNTST_okay);
    assert_int_equal(dmap(t, b, DEV_B, a->id, ro[0], MAP_RO, &hr, NULL, NULL),
                     GNTST_okay);
    grant(a, 300, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, 300, MAP_RW, &hh, NULL), GNTST_okay);

    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_B, h, 0, 4, 0),
                     -EINVAL);
    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_B, 9999, 0,
                                          UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_C, h, 0,
                                          UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    /* the hypercall's map is no device's */
    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_B, hh, 0,
                                          UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_B, h, 4096,
                                          UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -ENOENT);
    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_B, h, 0,
                                          UNMAP_NOTIFY_SEND_EVENT, pb + 9),
                     -EINVAL);
    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_B, hr, 0,
                                          UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     -EINVAL);
    assert_int_equal(b->gt.mt[h].notify, 0);
    /* a read-only map may still send */
    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_B, hr, 0,
                                          UNMAP_NOTIFY_SEND_EVENT, pb),
                     0);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, hr, 0, 0), GNTST_okay);
    assert_true(hv_evtchn_is_pending(a, pa));

    mpage(mem, 0)[99] = 0xab;
    mpage(mem, 0)[100] = 0xcd;
    assert_int_equal(hv_gnttab_set_notify(&t->hv, b, DEV_B, h, 100,
                                          UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     0);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h, 0, 0), GNTST_okay);
    /* the memory lives on in a's record */
    assert_int_equal(mpage(mem, 0)[100], 0);
    assert_int_equal(mpage(mem, 0)[99], 0xab);
    assert_int_equal(unmap_hc(t, b, hh, 0, 0), GNTST_okay);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
}

/* ================= the end of devices and domains ================= */

/* When a device goes, its maps are unmapped (their notifications
 * applied: the byte cleared, the event sent) and its allocations freed;
 * the same domain's hypercall maps and other devices' records stay. */
static void test_release_owned(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[2], brefs[1], h0, h1, h2, pa, pb;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 2, refs);
    uint8_t *pg0 = mpage(ga->mem, 0);

    bind_pair(t, a, b, &pa, &pb);
    assert_int_equal(dmap(t, b, DEV_B, a->id, refs[0], MAP_RW, &h0, NULL, NULL),
                     GNTST_okay);
    assert_int_equal(dmap(t, b, DEV_B, a->id, refs[1], MAP_RW, &h1, NULL, NULL),
                     GNTST_okay);
    assert_int_equal(map_hc(t, b, a->id, refs[1], MAP_RW, &h2, NULL),
                     GNTST_okay);
    assert_int_equal(hv_gnttab_set_notify(
                         &t->hv, b, DEV_B, h0, 10,
                         UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT, pb),
                     0);
    pg0[10] = 0xee;
    pg0[11] = 0xee;
    galloc(t, b, DEV_B, a->id, false, 1, brefs);
    assert_int_equal(b->gt.ga_pages, 1);
    assert_int_equal(b->gt.mt_used, 3);

    /* an owner with nothing is a no-op */
    hv_gnttab_release_owned(&t->hv, b, DEV_C);
    assert_int_equal(b->gt.mt_used, 3);

    hv_gnttab_release_owned(&t->hv, b, DEV_B);
    assert_int_equal(b->gt.mt_used, 1);
    assert_true(b->gt.mt[h2].used);
    assert_int_equal(pg0[10], 0);
    assert_int_equal(pg0[11], 0xee);
    assert_true(hv_evtchn_is_pending(a, pa));
    assert_int_equal(eflags(a, refs[0]), PERMIT);
    assert_int_equal(eflags(a, refs[1]), PINNED_RW);
    assert_int_equal(a->gt.act[refs[1]].wr_pins, 1);
    assert_null(b->gt.gallocs);
    assert_int_equal(b->gt.ga_pages, 0);
    assert_int_equal(eflags(b, brefs[0]), 0);
    assert_int_equal(a->gt.ga_pages, 2);
    assert_true(hv_galloc_find(a, DEV_A, ga->id) == ga);

    assert_int_equal(unmap_hc(t, b, h2, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, refs[1]), PERMIT);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    assert_null(a->gt.gallocs);
    assert_int_equal(eflags(a, refs[0]), 0);
    assert_int_equal(eflags(a, refs[1]), 0);
}

/* A granter dies (its last connection closes) while b maps its pages, by a
 * device and by the hypercall, one of them already freed (deferred): the
 * memory lives on in b's mappings, b unmaps them afterwards with
 * GNTST_okay, new maps of the dead domain are bad_domain, and nothing
 * leaks. */
static void test_granter_dies(void **state)
{
    struct t *t = *state;
    struct hv_domain *b = mkdom(t, "b", 0), *a;
    int pages0 = t->f.pages;
    uint32_t refs[1], drefs[1], hd, hdd, hh;
    domid_t aid;
    struct hv_mem *mem, *dmem;
    struct hv_galloc *gd;

    a = mkdom(t, "a", 0);
    aid = a->id;
    galloc(t, a, DEV_A, b->id, true, 1, refs);
    gd = galloc(t, a, DEV_A, b->id, false, 1, drefs);
    grant(a, 300, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(dmap(t, b, DEV_B, aid, refs[0], MAP_RW, &hd, &mem, NULL),
                     GNTST_okay);
    assert_int_equal(
        dmap(t, b, DEV_B, aid, drefs[0], MAP_RO, &hdd, &dmem, NULL),
        GNTST_okay);
    assert_int_equal(map_hc(t, b, aid, 300, MAP_RO, &hh, NULL), GNTST_okay);
    memcpy(mpage(mem, 0), "still here", 10);
    /* one page's end of access is deferred when the granter dies */
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, gd->id, 0, 1), 0);
    assert_int_equal(eflags(a, drefs[0]), RO_PERMIT | GTF_reading);

    kill_domain(t, a);
    assert_null(hv_domain_find(&t->hv, aid));
    assert_int_equal(b->gt.mt_used, 3);
    assert_int_equal(mem->refs, 1); /* only b's mapping */
    assert_int_equal(dmem->refs, 1);
    assert_memory_equal(mpage(mem, 0), "still here", 10);
    assert_int_equal(map_hc(t, b, aid, 300, MAP_RO, NULL, NULL),
                     GNTST_bad_domain);

    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, hd, 0, 0), GNTST_okay);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, hdd, 0, 0), GNTST_okay);
    assert_int_equal(unmap_hc(t, b, hh, HADDR, 0), GNTST_okay);
    assert_int_equal(b->gt.mt_used, 0);
    assert_int_equal(t->f.pages, pages0);
}

/* dom0's destroy of a granter that still has a connection: the domain is
 * dying at once (new maps of it are bad_domain, existing ones stay), dies
 * with its last connection, and the mapper's unmaps are GNTST_okay. */
static void test_granter_destroyed(void **state)
{
    struct t *t = *state;
    struct hv_domain *b = mkdom(t, "b", 0), *a = mkdom(t, "a", 0);
    uint32_t refs[2], h0, h1;
    unsigned int kills0 = t->f.kills;

    hv_domain_conn_get(&t->hv, a);
    galloc(t, a, DEV_A, b->id, false, 2, refs);
    assert_int_equal(dmap(t, b, DEV_B, a->id, refs[0], MAP_RO, &h0, NULL, NULL),
                     GNTST_okay);
    assert_int_equal(hv_domain_destroy(&t->hv, a), 0);
    assert_int_equal(a->state, PV_DOM_DYING);
    assert_int_equal(t->f.kills, kills0 + 1);
    assert_int_equal(dmap(t, b, DEV_B, a->id, refs[1], MAP_RO, &h1, NULL, NULL),
                     GNTST_bad_domain);
    assert_int_equal(map_hc(t, b, a->id, refs[1], MAP_RO, NULL, NULL),
                     GNTST_bad_domain);
    hv_domain_conn_put(&t->hv, a);
    assert_int_equal(a->state, PV_DOM_DEAD);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h0, 0, 0), GNTST_okay);
    assert_int_equal(b->gt.mt_used, 0);

    /* and without a connection, at once */
    struct hv_domain *c = mkdom(t, "c", 0);
    grant(c, 8, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, c->id, 8, MAP_RW, &h1, NULL), GNTST_okay);
    assert_int_equal(hv_domain_destroy(&t->hv, c), 0);
    assert_int_equal(c->state, PV_DOM_DEAD);
    assert_int_equal(unmap_hc(t, b, h1, 0, 0), GNTST_okay);
}

/* A mapper dies: its maps go with their notifications (the byte cleared,
 * the event sent to the granter), the granter's entries are unpinned, a
 * page whose end was deferred for it ends, and the others can be ended at
 * once. */
static void test_mapper_dies(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[1], drefs[1], h, hd, hh, pa, pb;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 1, refs);
    struct hv_galloc *gd = galloc(t, a, DEV_A, b->id, true, 1, drefs);
    uint8_t *pg = mpage(ga->mem, 0);
    int pages0 = t->f.pages;

    bind_pair(t, a, b, &pa, &pb);
    grant(a, 300, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(dmap(t, b, DEV_B, a->id, refs[0], MAP_RW, &h, NULL, NULL),
                     GNTST_okay);
    assert_int_equal(
        dmap(t, b, DEV_B, a->id, drefs[0], MAP_RW, &hd, NULL, NULL),
        GNTST_okay);
    /* freed while mapped: its end waits for b */
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, gd->id, 0, 1), 0);
    assert_int_equal(eflags(a, drefs[0]), PINNED_RW);
    assert_int_equal(map_hc(t, b, a->id, 300, MAP_RW, &hh, NULL), GNTST_okay);
    assert_int_equal(hv_gnttab_set_notify(
                         &t->hv, b, DEV_B, h, 1,
                         UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT, pb),
                     0);
    pg[1] = 1;
    kill_domain(t, b);
    assert_int_equal(pg[1], 0);
    assert_true(hv_evtchn_is_pending(a, pa));
    /* the deferred page ended with b's map; its memory went */
    assert_int_equal(eflags(a, drefs[0]), 0);
    assert_true(hv_galloc_find(a, DEV_A, ga->id) == ga);
    assert_true(a->gt.gallocs == ga && ga->next == NULL);
    assert_int_equal(t->f.pages, pages0 - DOM_SHARED - 1);
    assert_int_equal(eflags(a, refs[0]), PERMIT);
    assert_int_equal(eflags(a, 300), PERMIT);
    assert_unpinned(a, refs[0]);
    assert_unpinned(a, 300);
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, ga->id, 0, 1), 0);
    assert_int_equal(eflags(a, refs[0]), 0);
    assert_null(a->gt.gallocs);
}

/* ================= swap_grant_ref ================= */

/* swap_grant_ref swaps two entries of the caller's own table; a == b is a
 * no-op; either ref out of the current table is bad_gntref; either pinned
 * (or held by a gntalloc allocation) is eagain with nothing swapped; a
 * batch gets a status per op. */
/* decrease_reservation of one gpfn of d: the extents done */
static int64_t give_back(struct t *t, struct hv_domain *d, uint64_t gpfn)
{
    struct xen_memory_reservation r;
    xen_pfn_t list[1] = {gpfn};

    memset(&r, 0, sizeof(r));
    r.extent_start.p = (xen_pfn_t *)(uintptr_t)0x4000;
    r.nr_extents = 1;
    r.domid = DOMID_SELF;
    gm_clear(t);
    gm_add(t, 0x1000, &r, sizeof(r), GM_IN);
    gm_add(t, 0x4000, list, sizeof(list), GM_IN);
    return hc(t, d, __HYPERVISOR_memory_op, XENMEM_decrease_reservation, 0x1000,
              0);
}

/*
 * A pin holds the memory it pinned, not the frame number: a granter that
 * gives a pinned frame back cannot make later pins, maps or copies reach
 * whatever the frame holds next; and a page shared through gntalloc
 * cannot be given back while it is allocated.
 */
static void test_pinned_frame_given_back(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_copy_side s, d;
    uint32_t refs[1], h, h2;
    uint8_t buf[8];

    galloc(t, a, DEV_A, b->id, true, 1, refs);
    struct hv_galloc *ga = a->gt.gallocs;
    assert_int_equal(dmap(t, b, DEV_B, a->id, refs[0], MAP_RW, &h, NULL, NULL),
                     GNTST_okay);
    /* the gntalloc page stays: nothing given back */
    assert_int_equal(give_back(t, a, ga->page[0].gpfn), 0);
    assert_non_null(t->hv.frames[ga_mfn(a, ga, 0)].mem);

    /* plain RAM pinned by a hypercall map, then given back */
    grant(a, 100, b->id, RAM_GPFN, PERMIT);
    uint64_t bus;
    assert_int_equal(hv_gnttab_map(&t->hv, b, NULL, a->id, 100, MAP_RW, 0, &h2,
                                   &bus, NULL, NULL),
                     GNTST_okay);
    uint64_t mfn = a->p2m[RAM_GPFN];
    assert_int_equal(give_back(t, a, RAM_GPFN), 1);
    assert_int_equal(t->hv.frames[mfn].owner, DOMID_INVALID);
    /* the frame is someone else's now: a's own later gntalloc may even get
     * memory there; the pin still reaches no memory at all */
    s = gref_side(a->id, 100, 0);
    d = (struct hv_copy_side){.local = buf};
    assert_int_equal(hv_gnttab_copy(&t->hv, b, &s, &d, sizeof(buf)),
                     GNTST_bad_page);
    assert_int_equal(dmap(t, b, DEV_B, a->id, 100, MAP_RW, NULL, NULL, NULL),
                     GNTST_bad_page);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, NULL, h2, 0, 0), GNTST_okay);
    assert_int_equal(hv_gnttab_unmap(&t->hv, b, DEV_B, h, 0, 0), GNTST_okay);
}

/* A granter that sets Xen's bits in its own entry cannot keep a freed
 * gntalloc page (and its memory) alive: the hypervisor's pins decide. */
static void test_freed_page_ignores_guest_bits(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[1];
    int pages0 = t->f.pages;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 1, refs);
    uint64_t id = ga->id;

    ent(a, refs[0])->flags |= GTF_reading | GTF_writing;
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, id, 0, 1), 0);
    assert_null(hv_galloc_find(a, DEV_A, id));
    assert_int_equal(eflags(a, refs[0]), 0);
    assert_int_equal(t->f.pages, pages0);
}

static void test_swap(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct hv_domain *c = mkdom(t, "c", 0);
    uint32_t h, refs[1];
    xen_pfn_t list[2];
    int16_t st;

    grant(a, 10, b->id, 100, PERMIT);
    grant(a, 11, c->id, 200, RO_PERMIT);
    assert_int_equal(swap_hc(t, a, 10, 11), GNTST_okay);
    assert_int_equal(ent(a, 10)->domid, c->id);
    assert_int_equal(ent(a, 10)->frame, 200);
    assert_int_equal(eflags(a, 10), RO_PERMIT);
    assert_int_equal(ent(a, 11)->domid, b->id);
    assert_int_equal(ent(a, 11)->frame, 100);
    assert_int_equal(eflags(a, 11), PERMIT);
    assert_int_equal(swap_hc(t, a, 10, 10), GNTST_okay);
    assert_int_equal(ent(a, 10)->frame, 200);
    assert_int_equal(eflags(a, 10), RO_PERMIT);

    /* bounds: the current table */
    grant(a, PER_FRAME, b->id, 300, PERMIT);
    assert_int_equal(swap_hc(t, a, 10, PER_FRAME), GNTST_bad_gntref);
    assert_int_equal(swap_hc(t, a, PER_FRAME, 10), GNTST_bad_gntref);
    assert_int_equal(swap_hc(t, a, UINT32_MAX, UINT32_MAX), GNTST_bad_gntref);
    assert_int_equal(ent(a, 10)->frame, 200);
    assert_int_equal(setup_table(t, a, DOMID_SELF, 2, list, sizeof(list),
                                 GM_IN | GM_OUT, &st),
                     0);
    assert_int_equal(swap_hc(t, a, 10, PER_FRAME), GNTST_okay);
    assert_int_equal(ent(a, 10)->frame, 300);
    assert_int_equal(ent(a, PER_FRAME)->frame, 200);

    /* pinned */
    grant(a, 12, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, 12, MAP_RO, &h, NULL), GNTST_okay);
    assert_int_equal(swap_hc(t, a, 12, 11), GNTST_eagain);
    assert_int_equal(swap_hc(t, a, 11, 12), GNTST_eagain);
    assert_int_equal(ent(a, 12)->frame, RAM_GPFN);
    assert_int_equal(ent(a, 11)->frame, 100);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    assert_int_equal(swap_hc(t, a, 12, 11), GNTST_okay);
    assert_int_equal(ent(a, 11)->frame, RAM_GPFN);

    /* a gntalloc'd ref */
    galloc(t, a, DEV_A, b->id, true, 1, refs);
    assert_int_equal(swap_hc(t, a, refs[0], 11), GNTST_eagain);
    assert_int_equal(ent(a, refs[0])->domid, b->id);
    assert_int_equal(eflags(a, refs[0]), PERMIT);

    /* a batch */
    struct gnttab_swap_grant_ref ops[3] = {
        {.ref_a = 11, .ref_b = 12, .status = ST_UNSET},
        {.ref_a = 11, .ref_b = 2 * PER_FRAME, .status = ST_UNSET},
        {.ref_a = refs[0], .ref_b = 12, .status = ST_UNSET},
    };
    assert_int_equal(gntop(t, a, GNTTABOP_swap_grant_ref, ops, sizeof(ops), 3),
                     0);
    assert_int_equal(ops[0].status, GNTST_okay);
    assert_int_equal(ops[1].status, GNTST_bad_gntref);
    assert_int_equal(ops[2].status, GNTST_eagain);
    assert_int_equal(ent(a, 12)->frame, RAM_GPFN);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
}

/* A port a device attached, that an unmap notification will send on,
 * outlives the device (Linux holds it with evtchn_get): closing the
 * device's ports leaves it bound, an orphan, while a gntalloc page's
 * SEND_EVENT holds it; freeing the page sends the event and then closes
 * the port (the peer's goes back to unbound).  A port nothing holds
 * closes with its device at once. */
static void test_notify_holds_orphan_port(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[2], pa, pb, pa2, pb2;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 2, refs);
    int notifier, notifier2;

    bind_pair(t, a, b, &pa, &pb);
    bind_pair(t, a, b, &pa2, &pb2);
    assert_int_equal(hv_evtchn_attach(&t->hv, a, pa, DEV_C, &notifier), 0);
    assert_int_equal(hv_evtchn_attach(&t->hv, a, pa2, DEV_C, &notifier2), 0);
    /* two pages hold pa */
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, ga->id, 0, 0,
                                            UNMAP_NOTIFY_SEND_EVENT, pa),
                     0);
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, ga->id, 1, 0,
                                            UNMAP_NOTIFY_SEND_EVENT, pa),
                     0);
    assert_true(hv_gnttab_notify_holds(a, pa));
    assert_false(hv_gnttab_notify_holds(a, pa2));

    hv_evtchn_close_owned(&t->hv, a, DEV_C);
    assert_int_equal(a->evtchn[pa].state, ECS_INTERDOMAIN);
    assert_true(a->evtchn[pa].orphan);
    assert_int_equal(a->evtchn[pa2].state, ECS_FREE);
    assert_int_equal(b->evtchn[pb2].state, ECS_UNBOUND);

    /* the first page sends; the second still holds the port */
    assert_int_equal(hv_gntalloc_free(&t->hv, a, DEV_A, ga->id, 0, 1), 0);
    assert_true(hv_evtchn_is_pending(b, pb));
    assert_int_equal(a->evtchn[pa].state, ECS_INTERDOMAIN);
    clear_pending(b, pb);
    /* the second sends, then the port closes */
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    assert_true(hv_evtchn_is_pending(b, pb));
    assert_int_equal(a->evtchn[pa].state, ECS_FREE);
    assert_int_equal(b->evtchn[pb].state, ECS_UNBOUND);
    assert_null(a->gt.gallocs);
}

/* ================= where gnttab.c differs from Xen ================= */

/* BUG: Xen's swap_grant_ref treats ref_a == ref_b as a no-op right after
 * the bounds checks, before it looks at pins (common/grant_table.c:
 * "Swapping the same ref is a no-op" precedes the act->pin checks), so a
 * pinned ref swapped with itself is GNTST_okay.  gnttab.c's op_swap checks
 * the pins (and gntalloc ownership) first and answers GNTST_eagain. */
static void test_swap_same_ref_pinned(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t h, refs[1];

    grant(a, 8, b->id, RAM_GPFN, PERMIT);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &h, NULL), GNTST_okay);
    assert_int_equal(swap_hc(t, a, 8, 8), GNTST_okay);
    assert_int_equal(eflags(a, 8), PINNED_RO);
    galloc(t, a, DEV_A, b->id, true, 1, refs);
    assert_int_equal(swap_hc(t, a, refs[0], refs[0]), GNTST_okay);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
}

/* BUG: Xen's do_grant_table_op passes no count to set_version and
 * get_version (gnttab_set_version(uop), gnttab_get_version(uop)): any
 * count works as one op.  gnttab.c's op_set_version and op_get_version
 * answer -EINVAL for a count other than 1. */
static void test_version_ops_ignore_count(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0);
    struct gnttab_set_version sv = {.version = 1};
    struct gnttab_get_version gv = {.dom = DOMID_SELF, .version = SENTINEL};

    assert_int_equal(gntop(t, a, GNTTABOP_get_version, &gv, sizeof(gv), 0), 0);
    assert_int_equal(gv.version, 1);
    gv.version = SENTINEL;
    assert_int_equal(gntop(t, a, GNTTABOP_get_version, &gv, sizeof(gv), 2), 0);
    assert_int_equal(gv.version, 1);
    assert_int_equal(gntop(t, a, GNTTABOP_set_version, &sv, sizeof(sv), 0), 0);
    assert_int_equal(gntop(t, a, GNTTABOP_set_version, &sv, sizeof(sv), 2), 0);
    assert_int_equal(sv.version, 1);
}

/* get_status_frames under v1: count must be 1 (-EINVAL), an unknown
 * domain is bad_domain, another domain's needs privilege
 * (permission_denied), any frame asked for is general_error (v1 has no
 * status frames).
 * BUG: Xen answers nr_frames 0 with GNTST_okay (its only check is
 * nr_frames > nr_status_frames(gt), which is 0 under v1); gnttab.c's
 * op_get_status_frames answers GNTST_general_error for every request. */
static void test_get_status_frames(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    struct gnttab_get_status_frames op = {
        .nr_frames = 1, .dom = DOMID_SELF, .status = ST_UNSET};

    assert_int_equal(
        gntop(t, a, GNTTABOP_get_status_frames, &op, sizeof(op), 2), -EINVAL);
    assert_int_equal(op.status, ST_UNSET);
    assert_int_equal(
        gntop(t, a, GNTTABOP_get_status_frames, &op, sizeof(op), 1), 0);
    assert_int_equal(op.status, GNTST_general_error);
    op.dom = NO_DOMAIN;
    assert_int_equal(
        gntop(t, a, GNTTABOP_get_status_frames, &op, sizeof(op), 1), 0);
    assert_int_equal(op.status, GNTST_bad_domain);
    op.dom = b->id;
    assert_int_equal(
        gntop(t, a, GNTTABOP_get_status_frames, &op, sizeof(op), 1), 0);
    assert_int_equal(op.status, GNTST_permission_denied);
    /* the BUG */
    op.dom = DOMID_SELF;
    op.nr_frames = 0;
    op.status = ST_UNSET;
    assert_int_equal(
        gntop(t, a, GNTTABOP_get_status_frames, &op, sizeof(op), 1), 0);
    assert_int_equal(op.status, GNTST_okay);
}

/* BUG: a notification that is replaced no longer holds its port.  Linux
 * takes the new port with evtchn_get and drops the old one with
 * evtchn_put (gntalloc_ioctl_unmap_notify and gntdev_ioctl_notify), so an
 * orphaned port (its evtchn device closed) is unbound as soon as no
 * notification names it.  gnttab.c's hv_gntalloc_set_notify and
 * hv_gnttab_set_notify overwrite the old notification without
 * hv_evtchn_put_orphan(old port): the orphan stays bound, with its cell,
 * its count against HV_MAX_ATTACHED and the daemon's notifier (pipe), until
 * the domain dies. */
static void test_notify_replaced_releases_orphan(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t refs[1], brefs[1], pa, pb, qa, qb, h;
    struct hv_galloc *ga = galloc(t, a, DEV_A, b->id, true, 1, refs);
    int notifier, notifier2;

    galloc(t, b, DEV_B, a->id, true, 1, brefs);
    bind_pair(t, a, b, &pa, &pb);
    bind_pair(t, b, a, &qb, &qa);
    assert_int_equal(hv_evtchn_attach(&t->hv, a, pa, DEV_C, &notifier), 0);
    assert_int_equal(hv_evtchn_attach(&t->hv, a, qa, DEV_C, &notifier2), 0);
    /* a's gntalloc page holds pa; a's gntdev map holds qa */
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, ga->id, 0, 0,
                                            UNMAP_NOTIFY_SEND_EVENT, pa),
                     0);
    assert_int_equal(dmap(t, a, DEV_A, b->id, brefs[0], MAP_RW, &h, NULL, NULL),
                     GNTST_okay);
    assert_int_equal(hv_gnttab_set_notify(&t->hv, a, DEV_A, h, 0,
                                          UNMAP_NOTIFY_SEND_EVENT, qa),
                     0);
    hv_evtchn_close_owned(&t->hv, a, DEV_C);
    assert_true(a->evtchn[pa].orphan);
    assert_true(a->evtchn[qa].orphan);
    assert_int_equal(a->evtchn_attached, 2);

    /* replaced by notifications without the event */
    assert_int_equal(hv_gntalloc_set_notify(&t->hv, a, DEV_A, ga->id, 0, 0,
                                            UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     0);
    assert_int_equal(hv_gnttab_set_notify(&t->hv, a, DEV_A, h, 0,
                                          UNMAP_NOTIFY_CLEAR_BYTE, 0),
                     0);
    assert_false(hv_gnttab_notify_holds(a, pa));
    assert_false(hv_gnttab_notify_holds(a, qa));
    assert_int_equal(a->evtchn[pa].state, ECS_FREE);
    assert_int_equal(a->evtchn[qa].state, ECS_FREE);
    assert_int_equal(b->evtchn[pb].state, ECS_UNBOUND);
    assert_int_equal(a->evtchn_attached, 0);
    hv_gnttab_release_owned(&t->hv, a, DEV_A);
    hv_gnttab_release_owned(&t->hv, b, DEV_B);
}

/* BUG: Xen clears GTF_writing only when a *writable* pin goes (reference
 * 1.4, Unpin: "if the op was writable and no writable pins remain, clear
 * GTF_writing; when pin reaches 0, clear GTF_reading"; Xen's
 * unmap_common_complete and map_grant_ref's unlock_out_clear), so a
 * read-only map and unmap of an entry whose flags already carry
 * GTF_writing (written by the guest) leave GTF_writing set, and so does a
 * read-only map that fails with bad_page.  gnttab.c's unpin() and pin()
 * clear GTF_reading|GTF_writing whenever the pin count reaches 0. */
static void test_readonly_unpin_keeps_writing(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "a", 0), *b = mkdom(t, "b", 0);
    uint32_t h;

    grant(a, 8, b->id, RAM_GPFN, PERMIT | GTF_writing);
    assert_int_equal(map_hc(t, b, a->id, 8, MAP_RO, &h, NULL), GNTST_okay);
    assert_int_equal(eflags(a, 8), PINNED_RW);
    assert_int_equal(unmap_hc(t, b, h, 0, 0), GNTST_okay);
    assert_int_equal(eflags(a, 8), PERMIT | GTF_writing);
    grant(a, 9, b->id, (uint32_t)a->p2m_size, PERMIT | GTF_writing);
    assert_int_equal(map_hc(t, b, a->id, 9, MAP_RO, NULL, NULL),
                     GNTST_bad_page);
    assert_int_equal(eflags(a, 9), PERMIT | GTF_writing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TD(test_query_size),
        TD(test_setup_table_pv),
        TD(test_setup_table_pvh_and_privilege),
        TD(test_versions),
        TD(test_op_dispatch),
        TD(test_map_unmap_rw),
        TD(test_map_ro_rw_mix),
        TD(test_map_error_order),
        TD(test_map_maptrack_exhausted),
        TD(test_map_ref_bound_current),
        TD(test_map_bad_entries),
        TD(test_map_bad_page),
        TD(test_map_pinned_by_other),
        TD(test_pin_overflow),
        TD(test_map_flags_preset),
        TD(test_unmap_errors),
        TD(test_map_batch),
        TD(test_copy_errors),
        TD(test_copy_into_readonly),
        TD(test_copy_between_grants),
        TD(test_copy_own_frame),
        TD(test_gntalloc_entries),
        TD(test_gntalloc_limit),
        TD(test_gntalloc_partial_failure),
        TD(test_gntalloc_table_growth),
        TD(test_gntalloc_free),
        TD(test_gntalloc_free_deferred),
        TD(test_gntalloc_notify_clear_byte),
        TD(test_gntalloc_notify_send_event),
        TD(test_gntalloc_notify_errors),
        TD(test_device_map_isolation),
        TD(test_device_map_readonly_seal),
        TD(test_device_map_writable_memory),
        TD(test_gntdev_notify),
        TD(test_release_owned),
        TD(test_granter_dies),
        TD(test_granter_destroyed),
        TD(test_mapper_dies),
        TD(test_swap),
        TD(test_pinned_frame_given_back),
        TD(test_freed_page_ignores_guest_bits),
        TD(test_notify_holds_orphan_port),
        TD(test_swap_same_ref_pinned),
        TD(test_version_ops_ignore_count),
        TD(test_get_status_frames),
        TD(test_notify_replaced_releases_orphan),
        TD(test_readonly_unpin_keeps_writing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
