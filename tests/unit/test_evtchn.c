/* SPDX-License-Identifier: MIT */
/*
 * test_evtchn.c - unit tests for event channels (src/hv/evtchn.c) and
 * SCHEDOP_poll: every EVTCHNOP through hv_hypercall(), the 2-level delivery
 * order into shared_info (pending bit, mask, selector, upcall_pending, kick),
 * VIRQs (VIRQ_TIMER from the timers, VIRQ_DOM_EXC from domain deaths),
 * blocking and polling, the device hooks (attach, close_owned, peer) and
 * what a dying domain leaves behind.
 *
 * The core runs against the fake struct hv_env of harness.c (shared with
 * test_core.c): a clock advanced by hand, calloc'ed pages, and hooks that
 * record how they were called (kick and port_notify included).  Guest memory
 * is a struct guest_mem built by hand over local buffers.
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

#define ARG      0x1000u /* where argument blocks live in guest memory */
#define PORTS    0x8000u /* SCHEDOP_poll's port list */
#define SENTINEL 0xDEADBEEFu

static bool was_released(const struct t *t, const void *notifier)
{
    unsigned int n = t->f.releases < NOTE_MAX ? t->f.releases : NOTE_MAX;

    for (unsigned int i = 0; i < n; i++) {
        if (t->f.released[i] == notifier) {
            return true;
        }
    }
    return false;
}

/* ---- event channel helpers ---- */

/* One EVTCHNOP on vCPU vcpu with its block at ARG, readable and writable. */
static int64_t evop(struct t *t, struct hv_domain *d, unsigned int vcpu,
                    uint64_t cmd, void *arg, size_t len)
{
    gm_clear(t);
    if (arg) {
        gm_add(t, ARG, arg, len, GM_IN | GM_OUT);
    }
    return hcv(t, d, vcpu, NULL, __HYPERVISOR_event_channel_op, cmd, ARG, 0);
}

static int64_t alloc_unbound(struct t *t, struct hv_domain *d, domid_t dom,
                             domid_t remote, uint32_t *port)
{
    struct evtchn_alloc_unbound a = {
        .dom = dom, .remote_dom = remote, .port = SENTINEL};
    int64_t rc = evop(t, d, 0, EVTCHNOP_alloc_unbound, &a, sizeof(a));

    /* the IN fields come back as they went */
    assert_int_equal(a.dom, dom);
    assert_int_equal(a.remote_dom, remote);
    if (rc != 0) {
        /* OUT fields are written on success only */
        assert_int_equal(a.port, SENTINEL);
    }
    if (port) {
        *port = a.port;
    }
    return rc;
}

static int64_t bind_interdomain(struct t *t, struct hv_domain *d, domid_t rdom,
                                uint32_t rport, uint32_t *lport)
{
    struct evtchn_bind_interdomain b = {
        .remote_dom = rdom, .remote_port = rport, .local_port = SENTINEL};
    int64_t rc = evop(t, d, 0, EVTCHNOP_bind_interdomain, &b, sizeof(b));

    assert_int_equal(b.remote_dom, rdom);
    assert_int_equal(b.remote_port, rport);
    if (rc != 0) {
        assert_int_equal(b.local_port, SENTINEL);
    }
    if (lport) {
        *lport = b.local_port;
    }
    return rc;
}

static int64_t bind_virq(struct t *t, struct hv_domain *d, uint32_t virq,
                         uint32_t vcpu, uint32_t *port)
{
    struct evtchn_bind_virq b = {.virq = virq, .vcpu = vcpu, .port = SENTINEL};
    int64_t rc = evop(t, d, 0, EVTCHNOP_bind_virq, &b, sizeof(b));

    if (rc != 0) {
        assert_int_equal(b.port, SENTINEL);
    }
    if (port) {
        *port = b.port;
    }
    return rc;
}

static int64_t bind_ipi(struct t *t, struct hv_domain *d, uint32_t vcpu,
                        uint32_t *port)
{
    struct evtchn_bind_ipi b = {.vcpu = vcpu, .port = SENTINEL};
    int64_t rc = evop(t, d, 0, EVTCHNOP_bind_ipi, &b, sizeof(b));

    if (rc != 0) {
        assert_int_equal(b.port, SENTINEL);
    }
    if (port) {
        *port = b.port;
    }
    return rc;
}

static int64_t ev_send(struct t *t, struct hv_domain *d, uint32_t port)
{
    struct evtchn_send s = {.port = port};

    return evop(t, d, 0, EVTCHNOP_send, &s, sizeof(s));
}

static int64_t ev_close(struct t *t, struct hv_domain *d, uint32_t port)
{
    struct evtchn_close c = {.port = port};

    return evop(t, d, 0, EVTCHNOP_close, &c, sizeof(c));
}

static int64_t ev_unmask(struct t *t, struct hv_domain *d, uint32_t port)
{
    struct evtchn_unmask u = {.port = port};

    return evop(t, d, 0, EVTCHNOP_unmask, &u, sizeof(u));
}

static int64_t bind_vcpu(struct t *t, struct hv_domain *d, uint32_t port,
                         uint32_t vcpu)
{
    struct evtchn_bind_vcpu b = {.port = port, .vcpu = vcpu};

    return evop(t, d, 0, EVTCHNOP_bind_vcpu, &b, sizeof(b));
}

static int64_t ev_reset(struct t *t, struct hv_domain *d, domid_t dom)
{
    struct evtchn_reset r = {.dom = dom};

    return evop(t, d, 0, EVTCHNOP_reset, &r, sizeof(r));
}

/* EVTCHNOP_status, decoded from the raw 24 bytes at Xen's offsets. */
struct st {
    uint32_t status, vcpu;
    uint16_t dom;  /* unbound.dom / interdomain.dom, @16 */
    uint32_t u16;  /* the u32 at 16: virq */
    uint32_t port; /* interdomain.port, @20 */
};

static int64_t ev_status(struct t *t, struct hv_domain *d, domid_t dom,
                         uint32_t port, struct st *out)
{
    uint8_t raw[24];
    int64_t rc;

    memset(raw, 0xAA, sizeof(raw));
    memcpy(raw + 0, &dom, sizeof(dom));
    memcpy(raw + 4, &port, sizeof(port));
    rc = evop(t, d, 0, EVTCHNOP_status, raw, sizeof(raw));
    /* dom and port are not written */
    assert_memory_equal(raw + 0, &dom, sizeof(dom));
    assert_memory_equal(raw + 4, &port, sizeof(port));
    if (rc != 0) {
        for (size_t i = 8; i < sizeof(raw); i++) {
            assert_int_equal(raw[i], 0xAA);
        }
    }
    memcpy(&out->status, raw + 8, 4);
    memcpy(&out->vcpu, raw + 12, 4);
    memcpy(&out->dom, raw + 16, 2);
    memcpy(&out->u16, raw + 16, 4);
    memcpy(&out->port, raw + 20, 4);
    return rc;
}

/* The status of one of d's ports, which must succeed. */
static struct st status_of(struct t *t, struct hv_domain *d, uint32_t port)
{
    struct st s;

    assert_int_equal(ev_status(t, d, DOMID_SELF, port, &s), 0);
    return s;
}

static bool pending(struct hv_domain *d, uint32_t port)
{
    return (shinfo(d)->evtchn_pending[port / 64] >> (port % 64)) & 1;
}

static bool masked(struct hv_domain *d, uint32_t port)
{
    return (shinfo(d)->evtchn_mask[port / 64] >> (port % 64)) & 1;
}

static void set_mask(struct hv_domain *d, uint32_t port)
{
    shinfo(d)->evtchn_mask[port / 64] |= 1ull << (port % 64);
}

static void clear_pending(struct hv_domain *d, uint32_t port)
{
    shinfo(d)->evtchn_pending[port / 64] &= ~(1ull << (port % 64));
}

static uint64_t sel(struct hv_domain *d, unsigned int vcpu)
{
    return shinfo(d)->vcpu_info[vcpu].evtchn_pending_sel;
}

static uint8_t upcall(struct hv_domain *d, unsigned int vcpu)
{
    return shinfo(d)->vcpu_info[vcpu].evtchn_upcall_pending;
}

static unsigned int nr_pending(struct hv_domain *d)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < 64; i++) {
        n += (unsigned int)__builtin_popcountll(shinfo(d)->evtchn_pending[i]);
    }
    return n;
}

/* The guest's upcall handler: everything acknowledged. */
static void ack_all(struct hv_domain *d)
{
    struct shared_info *s = shinfo(d);

    memset(s->evtchn_pending, 0, sizeof(s->evtchn_pending));
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        s->vcpu_info[i].evtchn_upcall_pending = 0;
        s->vcpu_info[i].evtchn_pending_sel = 0;
    }
}

static uint8_t gen_byte(struct hv_domain *d, uint32_t port)
{
    return ((uint8_t *)d->evtchn_gen_pg.va)[port];
}

/* a allocates a port for b, b binds it; both sides acknowledged */
static void connect(struct t *t, struct hv_domain *a, struct hv_domain *b,
                    uint32_t *pa, uint32_t *pb)
{
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, pa), 0);
    assert_int_equal(bind_interdomain(t, b, a->id, *pa, pb), 0);
    ack_all(a);
    ack_all(b);
}

/* ---- alloc_unbound ---- */

static void test_alloc_unbound(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t p;
    struct st s;

    /* port 0 is reserved and never handed out */
    assert_int_equal(a->evtchn[0].state, ECS_RESERVED);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(a->evtchn[1].state, ECS_UNBOUND);
    assert_int_equal(a->evtchn[1].remote_dom, b->id);
    s = status_of(t, a, 1);
    assert_int_equal(s.status, EVTCHNSTAT_unbound);
    assert_int_equal(s.dom, b->id);
    assert_int_equal(s.vcpu, 0);

    /* remote DOMID_SELF means the caller */
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, DOMID_SELF, &p), 0);
    assert_int_equal(p, 2);
    assert_int_equal(a->evtchn[2].remote_dom, a->id);
    assert_int_equal(status_of(t, a, 2).dom, a->id);
    /* the caller's own id works as DOMID_SELF */
    assert_int_equal(alloc_unbound(t, a, a->id, b->id, &p), 0);
    assert_int_equal(p, 3);

    /* another domain from a domU: -EPERM; no domain: -ESRCH */
    assert_int_equal(alloc_unbound(t, a, b->id, DOMID_SELF, NULL), -EPERM);
    assert_int_equal(alloc_unbound(t, a, 0, DOMID_SELF, NULL), -EPERM);
    assert_int_equal(alloc_unbound(t, a, 777, DOMID_SELF, NULL), -ESRCH);
    assert_int_equal(alloc_unbound(t, t->dom0, 777, DOMID_SELF, NULL), -ESRCH);
    for (uint32_t i = 1; i <= 8; i++) {
        assert_int_equal(b->evtchn[i].state, ECS_FREE);
    }

    /* dom0 allocates in another domain; SELF is dom0 itself then */
    assert_int_equal(alloc_unbound(t, t->dom0, b->id, DOMID_SELF, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(b->evtchn[1].state, ECS_UNBOUND);
    assert_int_equal(b->evtchn[1].remote_dom, 0);
    assert_int_equal(t->dom0->evtchn[1].state, ECS_FREE);
    assert_int_equal(alloc_unbound(t, t->dom0, b->id, a->id, &p), 0);
    assert_int_equal(p, 2);
    assert_int_equal(b->evtchn[2].remote_dom, a->id);

    /* the lowest free port first */
    assert_int_equal(ev_close(t, a, 2), 0);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &p), 0);
    assert_int_equal(p, 2);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &p), 0);
    assert_int_equal(p, 4);

    /* nothing was raised */
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(nr_pending(b), 0);
    assert_int_equal(t->f.kicks, 0);
    assert_int_equal(a->evtchn_sent, 0);
}

static void test_gen_page(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, g;

    /* a sealed page (the domain may only read it), one byte per port */
    assert_non_null(a->evtchn_gen_pg.va);
    assert_int_equal(gen_byte(a, 1), 0);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &pa), 0);
    g = a->evtchn[pa].gen;
    assert_int_not_equal(g, 0);
    assert_int_equal(gen_byte(a, pa), (uint8_t)g);
    /* the peer's bind changes both ends */
    assert_int_equal(bind_interdomain(t, b, a->id, pa, &pb), 0);
    assert_int_not_equal(a->evtchn[pa].gen, g);
    assert_int_equal(gen_byte(a, pa), (uint8_t)a->evtchn[pa].gen);
    assert_int_not_equal(b->evtchn[pb].gen, 0);
    assert_int_equal(gen_byte(b, pb), (uint8_t)b->evtchn[pb].gen);
    /* a close changes the closed port and the peer's */
    g = a->evtchn[pa].gen;
    uint32_t gb = b->evtchn[pb].gen;
    assert_int_equal(ev_close(t, b, pb), 0);
    assert_int_not_equal(a->evtchn[pa].gen, g);
    assert_int_not_equal(b->evtchn[pb].gen, gb);
    assert_int_equal(gen_byte(a, pa), (uint8_t)a->evtchn[pa].gen);
    assert_int_equal(gen_byte(b, pb), (uint8_t)b->evtchn[pb].gen);
    /* the gen survives the port being freed and reused */
    gb = b->evtchn[pb].gen;
    assert_int_equal(bind_interdomain(t, b, a->id, pa, &pb), 0);
    assert_int_not_equal(b->evtchn[pb].gen, gb);
    assert_int_not_equal(b->evtchn[pb].gen, 0);
}

/* ---- bind_interdomain ---- */

static void test_bind_interdomain(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, pc, q, lq, p;
    struct st s;

    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &pa), 0);
    assert_int_equal(bind_interdomain(t, b, a->id, pa, &pb), 0);
    assert_int_equal(pb, 1);
    assert_int_equal(b->evtchn[pb].state, ECS_INTERDOMAIN);
    assert_int_equal(b->evtchn[pb].remote_dom, a->id);
    assert_int_equal(b->evtchn[pb].remote_port, pa);
    assert_int_equal(a->evtchn[pa].state, ECS_INTERDOMAIN);
    assert_int_equal(a->evtchn[pa].remote_dom, b->id);
    assert_int_equal(a->evtchn[pa].remote_port, pb);
    s = status_of(t, b, pb);
    assert_int_equal(s.status, EVTCHNSTAT_interdomain);
    assert_int_equal(s.dom, a->id);
    assert_int_equal(s.port, pa);
    s = status_of(t, a, pa);
    assert_int_equal(s.status, EVTCHNSTAT_interdomain);
    assert_int_equal(s.dom, b->id);
    assert_int_equal(s.port, pb);

    /* the new local port is pending at once, with the upcall and a kick */
    assert_true(pending(b, pb));
    assert_int_equal(nr_pending(b), 1);
    assert_int_equal(sel(b, 0), 1);
    assert_int_equal(upcall(b, 0), 1);
    assert_int_equal(sel(b, 1), 0);
    assert_int_equal(upcall(b, 1), 0);
    assert_int_equal(t->f.kicks, 1);
    assert_ptr_equal(t->f.kick_dom, b);
    assert_int_equal(t->f.kick_vcpu, 0);
    assert_int_equal(b->evtchn_sent, 1);
    /* and the binder's side only */
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(upcall(a, 0), 0);
    assert_int_equal(a->evtchn_sent, 0);

    /* bound already: not UNBOUND any more */
    assert_int_equal(bind_interdomain(t, b, a->id, pa, NULL), -EINVAL);
    assert_int_equal(bind_interdomain(t, t->dom0, a->id, pa, NULL), -EINVAL);
    /* no such domain */
    assert_int_equal(bind_interdomain(t, b, 999, pa, NULL), -ESRCH);
    /* offered to someone else */
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, 0, &pc), 0);
    assert_int_equal(bind_interdomain(t, b, a->id, pc, NULL), -EINVAL);
    assert_int_equal(a->evtchn[pc].state, ECS_UNBOUND);
    /* reserved, free or out of range */
    assert_int_equal(bind_interdomain(t, b, a->id, 0, NULL), -EINVAL);
    assert_int_equal(bind_interdomain(t, b, a->id, 50, NULL), -EINVAL);
    assert_int_equal(bind_interdomain(t, b, a->id, HV_DEFAULT_EVTCHN + 1, NULL),
                     -EINVAL);
    assert_int_equal(bind_interdomain(t, b, a->id, HV_MAX_EVTCHN_2L, NULL),
                     -EINVAL);
    assert_int_equal(bind_interdomain(t, b, a->id, UINT32_MAX, NULL), -EINVAL);
    /* not an UNBOUND port: an IPI */
    assert_int_equal(bind_ipi(t, a, 0, &p), 0);
    assert_int_equal(bind_interdomain(t, b, a->id, p, NULL), -EINVAL);
    /* none of the failures took a port or raised anything */
    assert_int_equal(b->evtchn[2].state, ECS_FREE);
    assert_int_equal(t->f.kicks, 1);
    assert_int_equal(nr_pending(b), 1);

    /* dom0 binds the port offered to it */
    assert_int_equal(bind_interdomain(t, t->dom0, a->id, pc, &p), 0);
    assert_int_equal(p, 1);
    assert_true(pending(t->dom0, 1));
    assert_int_equal(t->f.kicks, 2);
    assert_ptr_equal(t->f.kick_dom, t->dom0);

    /* loopback: a domain binds its own port through DOMID_SELF */
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, DOMID_SELF, &q), 0);
    assert_int_equal(bind_interdomain(t, a, DOMID_SELF, q, &lq), 0);
    assert_int_not_equal(lq, q);
    assert_int_equal(a->evtchn[q].state, ECS_INTERDOMAIN);
    assert_int_equal(a->evtchn[q].remote_dom, a->id);
    assert_int_equal(a->evtchn[q].remote_port, lq);
    assert_int_equal(a->evtchn[lq].remote_port, q);
    assert_true(pending(a, lq));
    assert_false(pending(a, q));
    ack_all(a);
    assert_int_equal(ev_send(t, a, lq), 0);
    assert_true(pending(a, q));
    assert_false(pending(a, lq));
}

static void test_bind_enospc(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain_cfg c = cfg_of("small", 0);
    struct hv_domain *s;
    uint32_t pa, pa2, p;

    c.max_evtchn = 2; /* --max-evtchn 2: ports 1 and 2 */
    s = mkdom_cfg(t, &c);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, s->id, &pa), 0);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, s->id, &pa2), 0);
    assert_int_equal(alloc_unbound(t, s, DOMID_SELF, a->id, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(bind_interdomain(t, s, a->id, pa, &p), 0);
    assert_int_equal(p, 2);
    ack_all(s);

    /* full: every way of taking a port is -ENOSPC */
    assert_int_equal(bind_interdomain(t, s, a->id, pa2, NULL), -ENOSPC);
    assert_int_equal(a->evtchn[pa2].state, ECS_UNBOUND);
    assert_int_equal(alloc_unbound(t, s, DOMID_SELF, a->id, NULL), -ENOSPC);
    assert_int_equal(bind_ipi(t, s, 0, NULL), -ENOSPC);
    assert_int_equal(bind_virq(t, s, VIRQ_TIMER, 0, NULL), -ENOSPC);
    assert_int_equal(s->vcpu[0].virq_to_port[VIRQ_TIMER], 0);
    /* dom0 allocating in it, too */
    assert_int_equal(alloc_unbound(t, t->dom0, s->id, DOMID_SELF, NULL),
                     -ENOSPC);
    /* Xen takes the local port before it looks at the remote one */
    assert_int_equal(bind_interdomain(t, s, a->id, 4000, NULL), -ENOSPC);
    /* nothing became pending */
    assert_int_equal(nr_pending(s), 0);

    /* ports above the limit do not exist */
    struct st st;
    assert_int_equal(ev_status(t, s, DOMID_SELF, 3, &st), -EINVAL);
    assert_int_equal(ev_send(t, s, 3), -EINVAL);
    assert_int_equal(ev_close(t, s, 3), -EINVAL);

    /* a port freed is taken again */
    assert_int_equal(ev_close(t, s, 1), 0);
    assert_int_equal(bind_interdomain(t, s, a->id, pa2, &p), 0);
    assert_int_equal(p, 1);
    assert_true(pending(s, 1));
}

/* ---- send ---- */

static void test_send_interdomain(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, p;

    connect(t, a, b, &pa, &pb);
    t->f.kicks = 0;
    b->evtchn_sent = 0;

    assert_int_equal(ev_send(t, a, pa), 0);
    assert_true(pending(b, pb));
    assert_int_equal(nr_pending(b), 1);
    assert_int_equal(sel(b, 0), 1ull << (pb / 64));
    assert_int_equal(upcall(b, 0), 1);
    assert_int_equal(t->f.kicks, 1);
    assert_ptr_equal(t->f.kick_dom, b);
    assert_int_equal(t->f.kick_vcpu, 0);
    assert_int_equal(b->evtchn_sent, 1);
    /* the sender is untouched */
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(sel(a, 0), 0);
    assert_int_equal(upcall(a, 0), 0);

    /* still pending: no new edge, no kick */
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.kicks, 1);
    /* upcall acknowledged but the port still pending: still no edge */
    shinfo(b)->vcpu_info[0].evtchn_upcall_pending = 0;
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 1);
    /* the port acknowledged but the selector still set: pending again,
     * no upcall (the guest's handler is still scanning that word) */
    clear_pending(b, pb);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_true(pending(b, pb));
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 1);
    /* everything acknowledged: a new upcall and kick */
    ack_all(b);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(upcall(b, 0), 1);
    assert_int_equal(t->f.kicks, 2);
    /* the other direction */
    assert_int_equal(ev_send(t, b, pb), 0);
    assert_true(pending(a, pa));
    assert_int_equal(upcall(a, 0), 1);
    assert_int_equal(t->f.kicks, 3);
    assert_ptr_equal(t->f.kick_dom, a);

    /* a port in a higher word sets that word's selector bit */
    ack_all(a);
    ack_all(b);
    for (unsigned int i = 0; i < 68; i++) {
        assert_int_equal(alloc_unbound(t, b, DOMID_SELF, 0, NULL), 0);
    }
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &p), 0);
    assert_int_equal(bind_interdomain(t, b, a->id, p, &pb), 0);
    assert_int_equal(pb, 70);
    assert_int_equal(sel(b, 0), 1ull << 1);
    assert_int_equal(shinfo(b)->evtchn_pending[1], 1ull << (70 - 64));
    assert_int_equal(shinfo(b)->evtchn_pending[0], 0);
    ack_all(b);
    assert_int_equal(ev_send(t, a, p), 0);
    assert_int_equal(sel(b, 0), 2);
    assert_int_equal(shinfo(b)->evtchn_pending[1], 1ull << 6);
}

static void test_send_masked_unmask(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb;

    connect(t, a, b, &pa, &pb);
    t->f.kicks = 0;

    /* masked: the pending bit only */
    set_mask(b, pb);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_true(pending(b, pb));
    assert_true(masked(b, pb));
    assert_int_equal(sel(b, 0), 0);
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 0);

    /* EVTCHNOP_unmask delivers what waited */
    assert_int_equal(ev_unmask(t, b, pb), 0);
    assert_false(masked(b, pb));
    assert_true(pending(b, pb));
    assert_int_equal(sel(b, 0), 1);
    assert_int_equal(upcall(b, 0), 1);
    assert_int_equal(t->f.kicks, 1);
    assert_ptr_equal(t->f.kick_dom, b);
    /* not masked any more: nothing more happens */
    shinfo(b)->vcpu_info[0].evtchn_upcall_pending = 0;
    shinfo(b)->vcpu_info[0].evtchn_pending_sel = 0;
    assert_int_equal(ev_unmask(t, b, pb), 0);
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 1);

    /* masked and not pending: unmask only clears the mask */
    ack_all(b);
    set_mask(b, pb);
    assert_int_equal(ev_unmask(t, b, pb), 0);
    assert_false(masked(b, pb));
    assert_int_equal(sel(b, 0), 0);
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 1);

    /* the selector already set: no second upcall */
    set_mask(b, pb);
    assert_int_equal(ev_send(t, a, pa), 0);
    shinfo(b)->vcpu_info[0].evtchn_pending_sel = 1;
    assert_int_equal(ev_unmask(t, b, pb), 0);
    assert_false(masked(b, pb));
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 1);

    /* unmask raises the upcall on the port's notify vCPU */
    ack_all(b);
    assert_int_equal(bind_vcpu(t, b, pb, 1), 0);
    set_mask(b, pb);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.kicks, 1);
    assert_int_equal(ev_unmask(t, b, pb), 0);
    assert_int_equal(sel(b, 1), 1);
    assert_int_equal(upcall(b, 1), 1);
    assert_int_equal(sel(b, 0), 0);
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 2);
    assert_int_equal(t->f.kick_vcpu, 1);

    /* bad ports */
    assert_int_equal(ev_unmask(t, b, HV_DEFAULT_EVTCHN + 1), -EINVAL);
    assert_int_equal(ev_unmask(t, b, UINT32_MAX), -EINVAL);
    /* a free port may be unmasked */
    set_mask(b, 500);
    assert_int_equal(ev_unmask(t, b, 500), 0);
    assert_false(masked(b, 500));
}

static void test_send_ipi_unbound_virq(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t ipi, u, v;
    struct st s;

    /* IPI: bound to a vCPU for good, raises this domain's own port */
    assert_int_equal(bind_ipi(t, a, 2, NULL), -ENOENT);
    assert_int_equal(bind_ipi(t, a, UINT32_MAX, NULL), -ENOENT);
    assert_int_equal(bind_ipi(t, a, 1, &ipi), 0);
    assert_int_equal(ipi, 1);
    s = status_of(t, a, ipi);
    assert_int_equal(s.status, EVTCHNSTAT_ipi);
    assert_int_equal(s.vcpu, 1);
    assert_int_equal(ev_send(t, a, ipi), 0);
    assert_true(pending(a, ipi));
    assert_int_equal(sel(a, 1), 1);
    assert_int_equal(upcall(a, 1), 1);
    assert_int_equal(sel(a, 0), 0);
    assert_int_equal(upcall(a, 0), 0);
    assert_int_equal(t->f.kicks, 1);
    assert_ptr_equal(t->f.kick_dom, a);
    assert_int_equal(t->f.kick_vcpu, 1);
    assert_int_equal(nr_pending(b), 0);
    ack_all(a);

    /* UNBOUND: dropped silently */
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &u), 0);
    assert_int_equal(ev_send(t, a, u), 0);
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(nr_pending(b), 0);
    assert_int_equal(upcall(a, 0), 0);
    assert_int_equal(t->f.kicks, 1);
    assert_int_equal(a->evtchn_sent, 1);
    assert_int_equal(b->evtchn_sent, 0);

    /* VIRQ ports are not for sending */
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 0, &v), 0);
    assert_int_equal(ev_send(t, a, v), -EINVAL);
    assert_false(pending(a, v));
    /* free, reserved, out of range */
    assert_int_equal(ev_send(t, a, 100), -EINVAL);
    assert_int_equal(ev_send(t, a, 0), -EINVAL);
    assert_int_equal(ev_send(t, a, HV_DEFAULT_EVTCHN + 1), -EINVAL);
    assert_int_equal(ev_send(t, a, UINT32_MAX), -EINVAL);
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(t->f.kicks, 1);

    /* no physical IRQs in a process domain */
    struct evtchn_bind_pirq bp = {.pirq = 1, .flags = 0, .port = SENTINEL};
    assert_int_equal(evop(t, a, 0, EVTCHNOP_bind_pirq, &bp, sizeof(bp)),
                     -EINVAL);
    assert_int_equal(bp.port, SENTINEL);
}

/* ---- close ---- */

static void test_close(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, p, ipi, v;
    struct st s;

    connect(t, a, b, &pa, &pb);
    /* b closes: a's end goes back to UNBOUND, for b to bind again */
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_true(pending(b, pb));
    assert_int_equal(ev_close(t, b, pb), 0);
    assert_int_equal(b->evtchn[pb].state, ECS_FREE);
    assert_false(pending(b, pb)); /* freeing clears pending */
    assert_int_equal(status_of(t, b, pb).status, EVTCHNSTAT_closed);
    assert_int_equal(a->evtchn[pa].state, ECS_UNBOUND);
    assert_int_equal(a->evtchn[pa].remote_dom, b->id);
    s = status_of(t, a, pa);
    assert_int_equal(s.status, EVTCHNSTAT_unbound);
    assert_int_equal(s.dom, b->id);
    /* a's send is now dropped */
    ack_all(a);
    ack_all(b);
    t->f.kicks = 0;
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(nr_pending(b), 0);
    assert_int_equal(t->f.kicks, 0);
    /* a port closed twice */
    assert_int_equal(ev_close(t, b, pb), -EINVAL);
    /* bindable again, by b only */
    assert_int_equal(bind_interdomain(t, t->dom0, a->id, pa, NULL), -EINVAL);
    assert_int_equal(bind_interdomain(t, b, a->id, pa, &p), 0);
    assert_int_equal(p, pb);
    assert_int_equal(a->evtchn[pa].state, ECS_INTERDOMAIN);

    /* port 0 and ports out of range */
    assert_int_equal(ev_close(t, a, 0), -EINVAL);
    assert_int_equal(a->evtchn[0].state, ECS_RESERVED);
    assert_int_equal(ev_close(t, a, HV_DEFAULT_EVTCHN + 1), -EINVAL);
    assert_int_equal(ev_close(t, a, UINT32_MAX), -EINVAL);
    assert_int_equal(ev_close(t, a, 77), -EINVAL);

    /* the other end closes: b's end goes UNBOUND, bindable by a */
    assert_int_equal(ev_close(t, a, pa), 0);
    assert_int_equal(b->evtchn[pb].state, ECS_UNBOUND);
    assert_int_equal(b->evtchn[pb].remote_dom, a->id);
    assert_int_equal(bind_interdomain(t, a, b->id, pb, &p), 0);
    assert_int_equal(p, pa);

    /* an UNBOUND port closes */
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &p), 0);
    assert_int_equal(ev_close(t, a, p), 0);
    assert_int_equal(status_of(t, a, p).status, EVTCHNSTAT_closed);

    /* freeing resets the notify vCPU to 0 and clears pending */
    assert_int_equal(bind_ipi(t, a, 1, &ipi), 0);
    assert_int_equal(ev_send(t, a, ipi), 0);
    assert_true(pending(a, ipi));
    assert_int_equal(ev_close(t, a, ipi), 0);
    assert_false(pending(a, ipi));
    s = status_of(t, a, ipi);
    assert_int_equal(s.status, EVTCHNSTAT_closed);
    assert_int_equal(s.vcpu, 0);

    /* a VIRQ closes and may be bound again */
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 1, &v), 0);
    assert_int_equal(a->vcpu[1].virq_to_port[VIRQ_TIMER], v);
    assert_int_equal(ev_close(t, a, v), 0);
    assert_int_equal(a->vcpu[1].virq_to_port[VIRQ_TIMER], 0);
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 1, &p), 0);
    assert_int_equal(p, v);
    assert_int_equal(ev_close(t, a, p), 0);
    assert_int_equal(ev_close(t, a, p), -EINVAL);
}

/* ---- status ---- */

static void test_status(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, u, v, ipi;
    struct st s;

    /* the layout: 24 bytes, status@8, vcpu@12, u@16 */
    assert_int_equal(sizeof(struct evtchn_status), 24);
    assert_int_equal(offsetof(struct evtchn_status, status), 8);
    assert_int_equal(offsetof(struct evtchn_status, vcpu), 12);
    assert_int_equal(offsetof(struct evtchn_status, u), 16);
    assert_int_equal(offsetof(struct evtchn_status, u.interdomain.port), 20);
    assert_int_equal(EVTCHNSTAT_closed, 0);
    assert_int_equal(EVTCHNSTAT_unbound, 1);
    assert_int_equal(EVTCHNSTAT_interdomain, 2);
    assert_int_equal(EVTCHNSTAT_pirq, 3);
    assert_int_equal(EVTCHNSTAT_virq, 4);
    assert_int_equal(EVTCHNSTAT_ipi, 5);

    connect(t, a, b, &pa, &pb);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, 0, &u), 0);
    assert_int_equal(bind_virq(t, a, VIRQ_DEBUG, 1, &v), 0);
    assert_int_equal(bind_ipi(t, a, 1, &ipi), 0);

    /* reserved port 0 and a free port read as closed, u zeroed */
    s = status_of(t, a, 0);
    assert_int_equal(s.status, EVTCHNSTAT_closed);
    assert_int_equal(s.vcpu, 0);
    assert_int_equal(s.u16, 0);
    assert_int_equal(s.port, 0);
    s = status_of(t, a, 600);
    assert_int_equal(s.status, EVTCHNSTAT_closed);
    assert_int_equal(s.u16, 0);
    assert_int_equal(s.port, 0);
    /* the highest port there is */
    assert_int_equal(status_of(t, a, HV_DEFAULT_EVTCHN).status,
                     EVTCHNSTAT_closed);
    s = status_of(t, a, u);
    assert_int_equal(s.status, EVTCHNSTAT_unbound);
    assert_int_equal(s.dom, 0);
    assert_int_equal(s.port, 0);
    s = status_of(t, a, pa);
    assert_int_equal(s.status, EVTCHNSTAT_interdomain);
    assert_int_equal(s.vcpu, 0);
    assert_int_equal(s.dom, b->id);
    assert_int_equal(s.port, pb);
    s = status_of(t, a, v);
    assert_int_equal(s.status, EVTCHNSTAT_virq);
    assert_int_equal(s.vcpu, 1);
    assert_int_equal(s.u16, VIRQ_DEBUG);
    assert_int_equal(s.port, 0);
    s = status_of(t, a, ipi);
    assert_int_equal(s.status, EVTCHNSTAT_ipi);
    assert_int_equal(s.vcpu, 1);
    assert_int_equal(s.u16, 0);
    assert_int_equal(s.port, 0);

    /* by own id; dom0 may look at anyone */
    assert_int_equal(ev_status(t, a, a->id, pa, &s), 0);
    assert_int_equal(s.status, EVTCHNSTAT_interdomain);
    assert_int_equal(ev_status(t, t->dom0, a->id, ipi, &s), 0);
    assert_int_equal(s.status, EVTCHNSTAT_ipi);
    assert_int_equal(s.vcpu, 1);
    assert_int_equal(ev_status(t, t->dom0, b->id, pb, &s), 0);
    assert_int_equal(s.dom, a->id);
    assert_int_equal(s.port, pa);

    /* errors, in Xen's order: no domain, bad port, no privilege */
    assert_int_equal(ev_status(t, a, 999, 1, &s), -ESRCH);
    assert_int_equal(ev_status(t, t->dom0, 999, 1, &s), -ESRCH);
    assert_int_equal(ev_status(t, a, DOMID_SELF, HV_DEFAULT_EVTCHN + 1, &s),
                     -EINVAL);
    assert_int_equal(ev_status(t, a, DOMID_SELF, UINT32_MAX, &s), -EINVAL);
    assert_int_equal(ev_status(t, a, b->id, 5000, &s), -EINVAL);
    assert_int_equal(ev_status(t, a, b->id, pb, &s), -EPERM);
    assert_int_equal(ev_status(t, a, 0, 1, &s), -EPERM);

    /* an unreadable or unwritable block */
    gm_clear(t);
    assert_int_equal(
        hc(t, a, __HYPERVISOR_event_channel_op, EVTCHNOP_status, ARG, 0),
        -EFAULT);
    struct evtchn_status ro = {.dom = DOMID_SELF, .port = pa};
    gm_add(t, ARG, &ro, sizeof(ro), GM_IN);
    assert_int_equal(
        hc(t, a, __HYPERVISOR_event_channel_op, EVTCHNOP_status, ARG, 0),
        -EFAULT);
    /* too short */
    gm_clear(t);
    gm_add(t, ARG, &ro, sizeof(ro) - 1, GM_IN | GM_OUT);
    assert_int_equal(
        hc(t, a, __HYPERVISOR_event_channel_op, EVTCHNOP_status, ARG, 0),
        -EFAULT);
}

/* ---- bind_virq ---- */

static void test_bind_virq(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    uint32_t p0, p1, p;

    /* VIRQ_TIMER once per vCPU */
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 0, &p0), 0);
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 1, &p1), 0);
    assert_int_equal(p0, 1);
    assert_int_equal(p1, 2);
    assert_int_equal(a->vcpu[0].virq_to_port[VIRQ_TIMER], p0);
    assert_int_equal(a->vcpu[1].virq_to_port[VIRQ_TIMER], p1);
    assert_int_equal(status_of(t, a, p1).vcpu, 1);
    assert_int_equal(status_of(t, a, p1).u16, VIRQ_TIMER);
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 0, NULL), -EEXIST);
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 1, NULL), -EEXIST);
    /* other per-vCPU VIRQs, on any vCPU */
    assert_int_equal(bind_virq(t, a, VIRQ_DEBUG, 1, &p), 0);
    assert_int_equal(bind_virq(t, a, VIRQ_XENOPROF, 1, NULL), 0);
    assert_int_equal(bind_virq(t, a, VIRQ_XENPMU, 1, NULL), 0);

    /* out of range */
    assert_int_equal(bind_virq(t, a, NR_VIRQS, 0, NULL), -EINVAL);
    assert_int_equal(NR_VIRQS, 24);
    assert_int_equal(bind_virq(t, a, UINT32_MAX, 0, NULL), -EINVAL);
    /* global or per-domain VIRQs on a vCPU other than 0 */
    assert_int_equal(bind_virq(t, a, VIRQ_DOM_EXC, 1, NULL), -EINVAL);
    assert_int_equal(bind_virq(t, t->dom0, VIRQ_DOM_EXC, 1, NULL), -EINVAL);
    assert_int_equal(bind_virq(t, a, VIRQ_ARGO, 1, NULL), -EINVAL);
    /* ... which is checked before the vCPU exists */
    assert_int_equal(bind_virq(t, a, VIRQ_DOM_EXC, 99, NULL), -EINVAL);
    /* no such vCPU */
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 2, NULL), -ENOENT);
    assert_int_equal(bind_virq(t, a, VIRQ_DEBUG, UINT32_MAX, NULL), -ENOENT);
    /* a global VIRQ belongs to dom0 */
    assert_int_equal(bind_virq(t, a, VIRQ_DOM_EXC, 0, NULL), -EBUSY);
    assert_int_equal(bind_virq(t, a, VIRQ_CONSOLE, 0, NULL), -EBUSY);
    assert_int_equal(bind_virq(t, a, VIRQ_CON_RING, 0, NULL), -EBUSY);
    assert_int_equal(bind_virq(t, t->dom0, VIRQ_DOM_EXC, 0, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(t->dom0->vcpu[0].virq_to_port[VIRQ_DOM_EXC], 1);
    assert_int_equal(status_of(t, t->dom0, p).status, EVTCHNSTAT_virq);
    assert_int_equal(status_of(t, t->dom0, p).u16, VIRQ_DOM_EXC);
    assert_int_equal(bind_virq(t, t->dom0, VIRQ_DOM_EXC, 0, NULL), -EEXIST);
    /* a per-domain VIRQ: any domain, vCPU 0 */
    assert_int_equal(bind_virq(t, a, VIRQ_ARGO, 0, &p), 0);
    assert_int_equal(bind_virq(t, a, VIRQ_ARGO, 0, NULL), -EEXIST);

    /* none of the failures took a port */
    for (uint32_t i = 1; i <= 6; i++) {
        assert_int_equal(a->evtchn[i].state, ECS_VIRQ);
    }
    assert_int_equal(a->evtchn[7].state, ECS_FREE);
    assert_int_equal(t->dom0->evtchn[2].state, ECS_FREE);
    assert_int_equal(nr_pending(a), 0);
}

static void test_virq_timer(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    uint32_t p0, p1;
    uint64_t now;

    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 0, &p0), 0);
    advance(t, 10 * MS);
    now = hv_now(hv);
    gm_clear(t);
    assert_int_equal(hc(t, a, __HYPERVISOR_set_timer_op, now + 5 * MS, 0, 0),
                     0);
    advance(t, 5 * MS - 1);
    hv_run_timers(hv);
    assert_false(pending(a, p0));
    assert_int_equal(t->f.kicks, 0);
    advance(t, 1);
    hv_run_timers(hv);
    assert_int_equal(a->vcpu[0].timer_virqs, 1);
    assert_true(pending(a, p0));
    assert_int_equal(nr_pending(a), 1);
    assert_int_equal(sel(a, 0), 1);
    assert_int_equal(upcall(a, 0), 1);
    assert_int_equal(t->f.kicks, 1);
    assert_ptr_equal(t->f.kick_dom, a);
    assert_int_equal(t->f.kick_vcpu, 0);
    /* once only */
    advance(t, 20 * MS);
    hv_run_timers(hv);
    assert_int_equal(a->vcpu[0].timer_virqs, 1);
    assert_int_equal(t->f.kicks, 1);

    /* vCPU 1 without a binding: counted, nothing raised */
    ack_all(a);
    now = hv_now(hv);
    assert_int_equal(
        hcv(t, a, 1, NULL, __HYPERVISOR_set_timer_op, now + MS, 0, 0), 0);
    advance(t, MS);
    hv_run_timers(hv);
    assert_int_equal(a->vcpu[1].timer_virqs, 1);
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(t->f.kicks, 1);

    /* bound on vCPU 1: its own selector and upcall */
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 1, &p1), 0);
    now = hv_now(hv);
    assert_int_equal(
        hcv(t, a, 1, NULL, __HYPERVISOR_set_timer_op, now + MS, 0, 0), 0);
    advance(t, MS);
    hv_run_timers(hv);
    assert_true(pending(a, p1));
    assert_false(pending(a, p0));
    assert_int_equal(sel(a, 1), 1);
    assert_int_equal(upcall(a, 1), 1);
    assert_int_equal(sel(a, 0), 0);
    assert_int_equal(upcall(a, 0), 0);
    assert_int_equal(t->f.kicks, 2);
    assert_int_equal(t->f.kick_vcpu, 1);

    /* the periodic timer raises it too; masked: pending only */
    ack_all(a);
    set_mask(a, p0);
    struct vcpu_set_periodic_timer per = {.period_ns = 2 * MS};
    gm_clear(t);
    gm_add(t, ARG, &per, sizeof(per), GM_IN);
    assert_int_equal(
        hc(t, a, __HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, ARG), 0);
    advance(t, 2 * MS);
    hv_run_timers(hv);
    assert_true(pending(a, p0));
    assert_int_equal(upcall(a, 0), 0);
    assert_int_equal(t->f.kicks, 2);
    assert_int_equal(ev_unmask(t, a, p0), 0);
    assert_int_equal(upcall(a, 0), 1);
    assert_int_equal(t->f.kicks, 3);
}

static void test_virq_dom_exc(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *d0 = t->dom0;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    struct hv_domain *c = mkdom(t, "gamma", 0);
    uint32_t p;

    /* unbound: a shutdown raises nothing anywhere */
    hv_domain_conn_get(hv, c);
    hv_domain_shutdown(hv, c, SHUTDOWN_reboot);
    assert_int_equal(nr_pending(d0), 0);
    assert_int_equal(t->f.kicks, 0);

    assert_int_equal(bind_virq(t, d0, VIRQ_DOM_EXC, 0, &p), 0);
    assert_false(pending(d0, p));

    /* a domU shuts down */
    hv_domain_conn_get(hv, a);
    struct sched_shutdown sh = {.reason = SHUTDOWN_poweroff};
    gm_clear(t);
    gm_add(t, ARG, &sh, sizeof(sh), GM_IN);
    assert_int_equal(hc(t, a, __HYPERVISOR_sched_op, SCHEDOP_shutdown, ARG, 0),
                     0);
    assert_int_equal(a->state, PV_DOM_SHUTDOWN);
    assert_true(pending(d0, p));
    assert_int_equal(nr_pending(d0), 1);
    assert_int_equal(sel(d0, 0), 1);
    assert_int_equal(upcall(d0, 0), 1);
    assert_int_equal(t->f.kicks, 1);
    assert_ptr_equal(t->f.kick_dom, d0);
    assert_int_equal(t->f.kick_vcpu, 0);
    assert_int_equal(nr_pending(a), 0);

    /* and dies when its last connection closes */
    ack_all(d0);
    hv_domain_conn_put(hv, a);
    assert_int_equal(a->state, PV_DOM_DEAD);
    assert_true(pending(d0, p));
    assert_int_equal(upcall(d0, 0), 1);
    assert_int_equal(t->f.kicks, 2);

    /* a domU dying without a shutdown; the dom0 port moved to vCPU 1 */
    ack_all(d0);
    assert_int_equal(bind_vcpu(t, d0, p, 1), 0);
    hv_domain_conn_get(hv, b);
    hv_domain_conn_put(hv, b);
    assert_int_equal(b->state, PV_DOM_DEAD);
    assert_true(pending(d0, p));
    assert_int_equal(sel(d0, 1), 1);
    assert_int_equal(upcall(d0, 1), 1);
    assert_int_equal(sel(d0, 0), 0);
    assert_int_equal(upcall(d0, 0), 0);
    assert_int_equal(t->f.kicks, 3);
    assert_int_equal(t->f.kick_vcpu, 1);

    /* destroyed by dom0 */
    ack_all(d0);
    assert_int_equal(hv_domain_destroy(hv, c), 0);
    assert_int_equal(c->state, PV_DOM_DYING);
    hv_domain_conn_put(hv, c);
    assert_int_equal(c->state, PV_DOM_DEAD);
    assert_true(pending(d0, p));
    assert_int_equal(t->f.kicks, 4);

    /* closed: no more */
    ack_all(d0);
    assert_int_equal(ev_close(t, d0, p), 0);
    kill_domain(t, mkdom(t, "delta", 0));
    assert_int_equal(nr_pending(d0), 0);
    assert_int_equal(t->f.kicks, 4);
}

/* ---- bind_vcpu ---- */

static void test_bind_vcpu(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, u, ub, tmr, ipi, argo, p;

    connect(t, a, b, &pa, &pb);
    t->f.kicks = 0;
    assert_int_equal(bind_virq(t, b, VIRQ_TIMER, 0, &tmr), 0);
    assert_int_equal(bind_ipi(t, b, 0, &ipi), 0);

    /* no such vCPU: -ENOENT, before the port is looked at */
    assert_int_equal(bind_vcpu(t, b, pb, 2), -ENOENT);
    assert_int_equal(bind_vcpu(t, b, pb, UINT32_MAX), -ENOENT);
    assert_int_equal(bind_vcpu(t, b, 5000, 2), -ENOENT);
    /* per-vCPU VIRQ, IPI, free, reserved and bad ports */
    assert_int_equal(bind_vcpu(t, b, tmr, 1), -EINVAL);
    assert_int_equal(bind_vcpu(t, b, ipi, 1), -EINVAL);
    assert_int_equal(bind_vcpu(t, b, 300, 1), -EINVAL);
    assert_int_equal(bind_vcpu(t, b, 0, 1), -EINVAL);
    assert_int_equal(bind_vcpu(t, b, HV_DEFAULT_EVTCHN + 1, 1), -EINVAL);
    assert_int_equal(status_of(t, b, tmr).vcpu, 0);
    assert_int_equal(status_of(t, b, ipi).vcpu, 0);

    /* interdomain: delivery moves to that vCPU */
    assert_int_equal(bind_vcpu(t, b, pb, 1), 0);
    assert_int_equal(status_of(t, b, pb).vcpu, 1);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_true(pending(b, pb));
    assert_int_equal(sel(b, 1), 1);
    assert_int_equal(upcall(b, 1), 1);
    assert_int_equal(sel(b, 0), 0);
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 1);
    assert_ptr_equal(t->f.kick_dom, b);
    assert_int_equal(t->f.kick_vcpu, 1);
    /* and back */
    ack_all(b);
    assert_int_equal(bind_vcpu(t, b, pb, 0), 0);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(upcall(b, 0), 1);
    assert_int_equal(upcall(b, 1), 0);
    assert_int_equal(t->f.kick_vcpu, 0);

    /* UNBOUND: kept through the peer's bind */
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &u), 0);
    assert_int_equal(bind_vcpu(t, a, u, 1), 0);
    assert_int_equal(bind_interdomain(t, b, a->id, u, &ub), 0);
    assert_int_equal(status_of(t, a, u).vcpu, 1);
    ack_all(a);
    assert_int_equal(ev_send(t, b, ub), 0);
    assert_true(pending(a, u));
    assert_int_equal(upcall(a, 1), 1);
    assert_int_equal(upcall(a, 0), 0);
    /* ... and through the peer's close */
    assert_int_equal(ev_close(t, b, ub), 0);
    assert_int_equal(status_of(t, a, u).vcpu, 1);

    /* a per-domain VIRQ may move */
    assert_int_equal(bind_virq(t, a, VIRQ_ARGO, 0, &argo), 0);
    assert_int_equal(bind_vcpu(t, a, argo, 1), 0);
    assert_int_equal(status_of(t, a, argo).vcpu, 1);
    /* a global one too (dom0's) */
    assert_int_equal(bind_virq(t, t->dom0, VIRQ_CONSOLE, 0, &p), 0);
    assert_int_equal(bind_vcpu(t, t->dom0, p, 1), 0);
    assert_int_equal(status_of(t, t->dom0, p).vcpu, 1);
}

/* ---- reset ---- */

static void test_reset(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, u, ipi, tmr, p;

    connect(t, a, b, &pa, &pb);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &u), 0);
    assert_int_equal(bind_ipi(t, a, 1, &ipi), 0);
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 1, &tmr), 0);
    assert_int_equal(ev_send(t, a, ipi), 0);

    /* another domain's: dom0 may, but ours are never paused */
    assert_int_equal(ev_reset(t, b, a->id), -EPERM);
    assert_int_equal(ev_reset(t, b, 0), -EPERM);
    assert_int_equal(ev_reset(t, a, 999), -ESRCH);
    assert_int_equal(ev_reset(t, t->dom0, a->id), -EINVAL);
    assert_int_equal(a->evtchn[pa].state, ECS_INTERDOMAIN);
    assert_int_equal(a->evtchn[ipi].state, ECS_IPI);

    assert_int_equal(ev_reset(t, a, DOMID_SELF), 0);
    for (uint32_t i = 1; i <= 8; i++) {
        assert_int_equal(a->evtchn[i].state, ECS_FREE);
        assert_int_equal(status_of(t, a, i).status, EVTCHNSTAT_closed);
    }
    assert_int_equal(a->evtchn[0].state, ECS_RESERVED);
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(a->vcpu[1].virq_to_port[VIRQ_TIMER], 0);
    /* the peer goes back to UNBOUND */
    assert_int_equal(b->evtchn[pb].state, ECS_UNBOUND);
    assert_int_equal(b->evtchn[pb].remote_dom, a->id);
    /* everything may be bound again, from port 1 */
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 1, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(bind_interdomain(t, a, b->id, pb, &p), 0);
    assert_int_equal(p, 2);
    /* by the domain's own id, too */
    assert_int_equal(ev_reset(t, a, a->id), 0);
    assert_int_equal(a->evtchn[1].state, ECS_FREE);
    assert_int_equal(a->evtchn[2].state, ECS_FREE);
    assert_int_equal(b->evtchn[pb].state, ECS_UNBOUND);
    /* nothing to reset is fine */
    assert_int_equal(ev_reset(t, a, DOMID_SELF), 0);
}

/* ---- the legacy form, FIFO, unknown ops ---- */

static int64_t compat(struct t *t, struct hv_domain *d, struct evtchn_op *op,
                      uint32_t flags)
{
    gm_clear(t);
    gm_add(t, ARG, op, sizeof(*op), flags);
    return hc(t, d, __HYPERVISOR_event_channel_op_compat, ARG, 0, 0);
}

static void test_compat_op(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    struct evtchn_op op;
    uint32_t pa, pb;

    assert_int_equal(__HYPERVISOR_event_channel_op_compat, 16);
    assert_int_equal(sizeof(op), 28);
    assert_string_equal(hv_hypercall_name(__HYPERVISOR_event_channel_op_compat),
                        "event_channel_op_compat");
    assert_string_equal(hv_hypercall_name(__HYPERVISOR_event_channel_op),
                        "event_channel_op");

    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_alloc_unbound;
    op.u.alloc_unbound.dom = DOMID_SELF;
    op.u.alloc_unbound.remote_dom = b->id;
    op.u.alloc_unbound.port = SENTINEL;
    assert_int_equal(compat(t, a, &op, GM_IN | GM_OUT), 0);
    assert_int_equal(op.cmd, EVTCHNOP_alloc_unbound);
    pa = op.u.alloc_unbound.port;
    assert_int_equal(pa, 1);
    assert_int_equal(a->evtchn[pa].state, ECS_UNBOUND);

    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_bind_interdomain;
    op.u.bind_interdomain.remote_dom = a->id;
    op.u.bind_interdomain.remote_port = pa;
    assert_int_equal(compat(t, b, &op, GM_IN | GM_OUT), 0);
    pb = op.u.bind_interdomain.local_port;
    assert_int_equal(pb, 1);
    assert_true(pending(b, pb));
    ack_all(b);

    /* send carries no output: a read-only block will do */
    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_send;
    op.u.send.port = pa;
    assert_int_equal(compat(t, a, &op, GM_IN), 0);
    assert_true(pending(b, pb));
    assert_int_equal(upcall(b, 0), 1);

    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_status;
    op.u.status.dom = DOMID_SELF;
    op.u.status.port = pb;
    assert_int_equal(compat(t, b, &op, GM_IN | GM_OUT), 0);
    assert_int_equal(op.u.status.status, EVTCHNSTAT_interdomain);
    assert_int_equal(op.u.status.u.interdomain.dom, a->id);
    assert_int_equal(op.u.status.u.interdomain.port, pa);

    /* a failure writes nothing back */
    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_status;
    op.u.status.dom = DOMID_SELF;
    op.u.status.port = 5000;
    op.u.status.status = SENTINEL;
    assert_int_equal(compat(t, b, &op, GM_IN | GM_OUT), -EINVAL);
    assert_int_equal(op.u.status.status, SENTINEL);
    assert_int_equal(t->r[0].dirty_hi, 0);

    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_close;
    op.u.close.port = pb;
    assert_int_equal(compat(t, b, &op, GM_IN), 0);
    assert_int_equal(a->evtchn[pa].state, ECS_UNBOUND);
    assert_int_equal(compat(t, b, &op, GM_IN), -EINVAL);

    memset(&op, 0, sizeof(op));
    op.cmd = EVTCHNOP_bind_virq;
    op.u.bind_virq.virq = VIRQ_TIMER;
    op.u.bind_virq.vcpu = 1;
    assert_int_equal(compat(t, a, &op, GM_IN | GM_OUT), 0);
    assert_int_equal(op.u.bind_virq.port, 2);

    /* unknown commands, FIFO, and a missing block */
    memset(&op, 0, sizeof(op));
    op.cmd = 99;
    assert_int_equal(compat(t, a, &op, GM_IN | GM_OUT), -ENOSYS);
    op.cmd = EVTCHNOP_set_priority;
    assert_int_equal(compat(t, a, &op, GM_IN | GM_OUT), -ENOSYS);
    gm_clear(t);
    assert_int_equal(hc(t, a, __HYPERVISOR_event_channel_op_compat, ARG, 0, 0),
                     -EFAULT);
    /* the whole 28 bytes are read */
    gm_add(t, ARG, &op, sizeof(op) - 1, GM_IN | GM_OUT);
    assert_int_equal(hc(t, a, __HYPERVISOR_event_channel_op_compat, ARG, 0, 0),
                     -EFAULT);
}

static void test_fifo_and_unknown(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct evtchn_init_control ic = {.control_gfn = 5, .offset = 0, .vcpu = 0};
    struct evtchn_expand_array ea = {.array_gfn = 6};
    struct evtchn_set_priority sp = {.port = 1, .priority = 7};
    struct evtchn_alloc_unbound au = {.dom = DOMID_SELF, .remote_dom = 0};
    uint8_t big[64];

    /* 2-level only: the FIFO ops are not there */
    ic.link_bits = 0xAB;
    assert_int_equal(evop(t, a, 0, EVTCHNOP_init_control, &ic, sizeof(ic)),
                     -ENOSYS);
    assert_int_equal(ic.link_bits, 0xAB);
    /* FIFO is never active: Xen's answer for expand_array */
    assert_int_equal(evop(t, a, 0, EVTCHNOP_expand_array, &ea, sizeof(ea)),
                     -EOPNOTSUPP);
    assert_int_equal(evop(t, a, 0, EVTCHNOP_set_priority, &sp, sizeof(sp)),
                     -ENOSYS);
    /* unknown commands, even without a block */
    memset(big, 0, sizeof(big));
    assert_int_equal(evop(t, a, 0, 14, big, sizeof(big)), -ENOSYS);
    assert_int_equal(evop(t, a, 0, 99, NULL, 0), -ENOSYS);
    assert_int_equal(evop(t, a, 0, UINT64_MAX, NULL, 0), -ENOSYS);
    /* a known command without its block */
    assert_int_equal(evop(t, a, 0, EVTCHNOP_send, NULL, 0), -EFAULT);
    assert_int_equal(evop(t, a, 0, EVTCHNOP_alloc_unbound, &au, 7), -EFAULT);
    assert_int_equal(a->evtchn[1].state, ECS_FREE);
    assert_int_equal(a->hypercalls, 8);
}

/* ---- SCHEDOP_poll and SCHEDOP_block ---- */

static int64_t poll_ports(struct t *t, struct hv_domain *d, unsigned int vcpu,
                          void *waiter, uint32_t *ports, unsigned int nr,
                          uint64_t timeout)
{
    struct sched_poll p;

    memset(&p, 0, sizeof(p));
    set_xen_guest_handle(p.ports, (evtchn_port_t *)(uintptr_t)PORTS);
    p.nr_ports = nr;
    p.timeout = timeout;
    gm_clear(t);
    gm_add(t, ARG, &p, sizeof(p), GM_IN);
    if (ports) {
        gm_add(t, PORTS, ports, nr * sizeof(*ports), GM_IN);
    }
    return hcv(t, d, vcpu, waiter, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0);
}

static void test_poll_immediate(void **state)
{
    struct t *t = *state;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, ipi, ports[129];
    int tok;

    connect(t, a, b, &pa, &pb);
    assert_int_equal(bind_ipi(t, b, 0, &ipi), 0);
    for (unsigned int i = 0; i < 129; i++) {
        ports[i] = pb;
    }
    /* more than 128 ports */
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 129, 0), -EINVAL);
    assert_int_equal(poll_ports(t, b, 0, &tok, NULL, 129, 0), -EINVAL);
    assert_int_equal(poll_ports(t, b, 0, &tok, NULL, UINT32_MAX, 0), -EINVAL);
    /* the list must be readable */
    assert_int_equal(poll_ports(t, b, 0, &tok, NULL, 1, 0), -EFAULT);
    gm_clear(t);
    assert_int_equal(
        hcv(t, b, 0, &tok, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG, 0),
        -EFAULT);
    /* a bad port */
    ports[0] = HV_DEFAULT_EVTCHN + 1;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), -EINVAL);
    ports[0] = UINT32_MAX;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), -EINVAL);
    ports[0] = pb;
    ports[1] = 5000;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 2, 0), -EINVAL);
    assert_null(b->vcpu[0].waiter);
    assert_false(b->vcpu[0].polling);

    /* a listed port pending: at once (masked or not) */
    assert_int_equal(ev_send(t, a, pa), 0);
    ports[0] = pb;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), 0);
    ports[0] = ipi;
    ports[1] = pb;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 2, 0), 0);
    set_mask(b, pb);
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 2, 0), 0);
    /* 128 ports is the limit, not over it */
    for (unsigned int i = 0; i < 128; i++) {
        ports[i] = pb;
    }
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 128, 0), 0);
    assert_null(b->vcpu[0].waiter);
    assert_int_equal(t->f.wakes, 0);

    /* an unmasked upcall pending: at once, whatever the ports */
    ack_all(b);
    ports[0] = ipi;
    shinfo(b)->vcpu_info[0].evtchn_upcall_pending = 1;
    shinfo(b)->vcpu_info[0].evtchn_upcall_mask = 0;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), 0);
    /* unlike block, poll leaves the upcall mask alone */
    shinfo(b)->vcpu_info[0].evtchn_upcall_mask = 1;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), HCALL_BLOCKED);
    assert_int_equal(shinfo(b)->vcpu_info[0].evtchn_upcall_mask, 1);
    hv_cancel_wait(&t->hv, &tok);
    assert_null(b->vcpu[0].waiter);
    assert_false(b->vcpu[0].polling);

    /* without a waiter to park (a multicall): a spurious 0 */
    ack_all(b);
    assert_int_equal(poll_ports(t, b, 0, NULL, ports, 1, 0), 0);
    assert_null(b->vcpu[0].waiter);
}

static void test_poll_wake(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, pa2, pb2, ipi, ports[4];
    int tok, tok2;

    connect(t, a, b, &pa, &pb);
    connect(t, a, b, &pa2, &pb2);
    assert_int_equal(bind_ipi(t, b, 0, &ipi), 0);

    /* one port: sleeps until that port is raised */
    ports[0] = pb;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), HCALL_BLOCKED);
    assert_ptr_equal(b->vcpu[0].waiter, &tok);
    assert_true(b->vcpu[0].polling);
    assert_int_equal(b->vcpu[0].poll_port, (int32_t)pb);
    assert_int_equal(b->vcpu[0].runstate, RUNSTATE_blocked);
    /* a second caller on the busy vCPU does not replace it */
    assert_int_equal(poll_ports(t, b, 0, &tok2, ports, 1, 0), 0);
    assert_ptr_equal(b->vcpu[0].waiter, &tok);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 1);
    assert_ptr_equal(t->f.wake_waiter, &tok);
    assert_int_equal(t->f.wake_ret, 0);
    assert_null(b->vcpu[0].waiter);
    assert_false(b->vcpu[0].polling);
    assert_int_equal(b->vcpu[0].runstate, RUNSTATE_running);
    /* nothing left to wake */
    ack_all(b);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 1);

    /* a masked polled port wakes its poller, without an upcall */
    ack_all(b);
    t->f.kicks = 0;
    set_mask(b, pb);
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), HCALL_BLOCKED);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 2);
    assert_ptr_equal(t->f.wake_waiter, &tok);
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 0);

    /* another port, masked: a single-port poller sleeps on */
    ack_all(b);
    set_mask(b, pb2);
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), HCALL_BLOCKED);
    assert_int_equal(ev_send(t, a, pa2), 0);
    assert_true(pending(b, pb2));
    assert_int_equal(t->f.wakes, 2);
    assert_ptr_equal(b->vcpu[0].waiter, &tok);
    /* another port unmasked raises an upcall, which ends any wait */
    assert_int_equal(ev_send(t, b, ipi), 0);
    assert_int_equal(upcall(b, 0), 1);
    assert_int_equal(t->f.kicks, 1);
    assert_int_equal(t->f.wakes, 3);
    assert_null(b->vcpu[0].waiter);

    /* several ports: any port of the domain wakes it, even masked */
    ack_all(b);
    ports[0] = pb;
    ports[1] = ipi;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 2, 0), HCALL_BLOCKED);
    assert_int_equal(b->vcpu[0].poll_port, -1);
    assert_int_equal(ev_send(t, a, pa2), 0);
    assert_int_equal(t->f.wakes, 4);
    assert_ptr_equal(t->f.wake_waiter, &tok);
    assert_int_equal(upcall(b, 0), 0);

    /* the waiter is the polling vCPU's: vCPU 1's wait ends, 0's goes on */
    ack_all(b);
    ports[0] = pb;
    assert_int_equal(poll_ports(t, b, 1, &tok2, ports, 1, 0), HCALL_BLOCKED);
    ports[0] = ipi;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), HCALL_BLOCKED);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 5);
    assert_ptr_equal(t->f.wake_waiter, &tok2);
    assert_null(b->vcpu[1].waiter);
    assert_ptr_equal(b->vcpu[0].waiter, &tok);
    hv_cancel_wait(hv, &tok);
    assert_null(b->vcpu[0].waiter);
    assert_int_equal(t->f.wakes, 5);
}

static void test_poll_timeout(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, ports[2];
    uint64_t now;
    unsigned int tc;
    int tok;

    connect(t, a, b, &pa, &pb);
    advance(t, 3 * MS);
    now = hv_now(hv);
    ports[0] = pb;
    tc = t->f.timers_changed;
    assert_int_equal(hv_next_deadline(hv), 0);
    /* an absolute timeout in system time */
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, now + 10 * MS),
                     HCALL_BLOCKED);
    assert_int_equal(b->vcpu[0].poll_deadline, now + 10 * MS);
    assert_int_equal(hv_next_deadline(hv), now + 10 * MS);
    assert_true(t->f.timers_changed > tc);
    advance(t, 10 * MS - 1);
    hv_run_timers(hv);
    assert_int_equal(t->f.wakes, 0);
    assert_ptr_equal(b->vcpu[0].waiter, &tok);
    advance(t, 1);
    hv_run_timers(hv);
    assert_int_equal(t->f.wakes, 1);
    assert_ptr_equal(t->f.wake_waiter, &tok);
    assert_int_equal(t->f.wake_ret, 0);
    assert_null(b->vcpu[0].waiter);
    assert_false(b->vcpu[0].polling);
    assert_int_equal(b->vcpu[0].poll_deadline, 0);
    assert_int_equal(hv_next_deadline(hv), 0);
    assert_int_equal(b->vcpu[0].runstate_time[RUNSTATE_blocked], 10 * MS);
    assert_int_equal(nr_pending(b), 0);

    /* an event before the timeout disarms it */
    now = hv_now(hv);
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, now + 10 * MS),
                     HCALL_BLOCKED);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 2);
    assert_int_equal(b->vcpu[0].poll_deadline, 0);
    assert_int_equal(hv_next_deadline(hv), 0);
    advance(t, 20 * MS);
    hv_run_timers(hv);
    assert_int_equal(t->f.wakes, 2);

    /* no ports and no timeout: any event of the domain */
    ack_all(b);
    assert_int_equal(poll_ports(t, b, 0, &tok, NULL, 0, 0), HCALL_BLOCKED);
    assert_int_equal(b->vcpu[0].poll_port, -1);
    assert_int_equal(b->vcpu[0].poll_deadline, 0);
    advance(t, 1000 * MS);
    hv_run_timers(hv);
    assert_int_equal(t->f.wakes, 2);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 3);

    /* a timeout already past ends the wait at the next timer run */
    ack_all(b);
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 1), HCALL_BLOCKED);
    hv_run_timers(hv);
    assert_int_equal(t->f.wakes, 4);
    assert_null(b->vcpu[0].waiter);

    /* a caller gone away: the timeout goes with it */
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, hv_now(hv) + MS),
                     HCALL_BLOCKED);
    hv_cancel_wait(hv, &tok);
    assert_int_equal(b->vcpu[0].poll_deadline, 0);
    advance(t, 2 * MS);
    hv_run_timers(hv);
    assert_int_equal(t->f.wakes, 4);
}

static void test_block_woken_by_event(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    uint32_t pa, pb, tmr, ipi;
    uint64_t now;
    int tok, tok1;

    connect(t, a, b, &pa, &pb);
    /* an interdomain event */
    assert_int_equal(
        hcv(t, b, 0, &tok, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0),
        HCALL_BLOCKED);
    assert_int_equal(shinfo(b)->vcpu_info[0].evtchn_upcall_mask, 0);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 1);
    assert_ptr_equal(t->f.wake_waiter, &tok);
    assert_int_equal(t->f.wake_ret, 0);
    assert_null(b->vcpu[0].waiter);

    /* a masked port does not wake a block */
    ack_all(b);
    set_mask(b, pb);
    assert_int_equal(
        hcv(t, b, 0, &tok, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0),
        HCALL_BLOCKED);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 1);
    assert_ptr_equal(b->vcpu[0].waiter, &tok);
    /* its unmask does */
    assert_int_equal(ev_unmask(t, b, pb), 0);
    assert_int_equal(t->f.wakes, 2);
    assert_null(b->vcpu[0].waiter);

    /* an IPI to vCPU 1 wakes vCPU 1 only */
    ack_all(b);
    assert_int_equal(bind_ipi(t, b, 1, &ipi), 0);
    assert_int_equal(
        hcv(t, b, 0, &tok, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0),
        HCALL_BLOCKED);
    assert_int_equal(
        hcv(t, b, 1, &tok1, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0),
        HCALL_BLOCKED);
    assert_int_equal(ev_send(t, b, ipi), 0);
    assert_int_equal(t->f.wakes, 3);
    assert_ptr_equal(t->f.wake_waiter, &tok1);
    assert_ptr_equal(b->vcpu[0].waiter, &tok);

    /* VIRQ_TIMER through set_timer_op ends vCPU 0's block */
    assert_int_equal(bind_virq(t, b, VIRQ_TIMER, 0, &tmr), 0);
    now = hv_now(hv);
    gm_clear(t);
    assert_int_equal(hc(t, b, __HYPERVISOR_set_timer_op, now + 2 * MS, 0, 0),
                     0);
    advance(t, 2 * MS - 1);
    hv_run_timers(hv);
    assert_int_equal(t->f.wakes, 3);
    advance(t, 1);
    hv_run_timers(hv);
    assert_int_equal(t->f.wakes, 4);
    assert_ptr_equal(t->f.wake_waiter, &tok);
    assert_true(pending(b, tmr));
    assert_null(b->vcpu[0].waiter);
    assert_int_equal(b->vcpu[0].runstate, RUNSTATE_running);

    /* an upcall already pending: block returns at once */
    assert_int_equal(
        hcv(t, b, 0, &tok, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0), 0);
    assert_int_equal(t->f.wakes, 4);
}

/* ---- the device hooks ---- */

static struct pv_evtchn_cell *cell(struct hv_domain *d, uint32_t port)
{
    return d->evtchn[port].cell.va;
}

/* A domain may hand at most HV_MAX_ATTACHED ports to devices. */
static void test_attach_limit(void **state)
{
    struct t *t = *state;
    struct hv_domain_cfg c = cfg_of("many", 0);
    struct hv_domain *d;
    static int owner, notes[HV_MAX_ATTACHED + 1];
    uint32_t port = 0;

    c.max_evtchn = HV_MAX_ATTACHED + 8;
    d = mkdom_cfg(t, &c);
    for (unsigned int i = 0; i < HV_MAX_ATTACHED; i++) {
        assert_int_equal(alloc_unbound(t, d, DOMID_SELF, DOMID_SELF, &port), 0);
        assert_int_equal(hv_evtchn_attach(&t->hv, d, port, &owner, &notes[i]),
                         0);
    }
    assert_int_equal(alloc_unbound(t, d, DOMID_SELF, DOMID_SELF, &port), 0);
    assert_int_equal(
        hv_evtchn_attach(&t->hv, d, port, &owner, &notes[HV_MAX_ATTACHED]),
        -ENOSPC);
    /* closing one makes room again */
    assert_int_equal(hv_evtchn_close(&t->hv, d, 1), 0);
    assert_int_equal(
        hv_evtchn_attach(&t->hv, d, port, &owner, &notes[HV_MAX_ATTACHED]), 0);
    hv_evtchn_close_owned(&t->hv, d, &owner);
    assert_int_equal(d->evtchn_attached, 0);
}

static void test_attach(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    int own1, own2, na, nb, ni, nv, nx, tok;
    uint32_t pa, pb, ipi, tmr, u, gen, g, ports[1];
    int pages0;

    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &pa), 0);
    assert_int_equal(bind_interdomain(t, b, a->id, pa, &pb), 0);
    assert_true(pending(b, pb));
    pages0 = t->f.pages;

    /* b's new port is pending: its notifier is signalled at once, and the
     * event moves into the port's cell */
    assert_int_equal(hv_evtchn_attach(hv, b, pb, &own1, &nb), 0);
    assert_int_equal(t->f.notifies, 1);
    assert_ptr_equal(t->f.notified[0], &nb);
    assert_ptr_equal(b->evtchn[pb].notifier, &nb);
    assert_ptr_equal(b->evtchn[pb].owner, &own1);
    assert_int_equal(t->f.pages, pages0 + 1);
    assert_non_null(cell(b, pb));
    assert_int_equal(cell(b, pb)->pending, 1);
    assert_int_equal(cell(b, pb)->masked, 0);
    assert_false(pending(b, pb));
    assert_true(hv_evtchn_is_pending(b, pb));
    /* once per port */
    assert_int_equal(hv_evtchn_attach(hv, b, pb, &own2, &nx), -EBUSY);
    assert_int_equal(hv_evtchn_attach(hv, b, pb, &own1, &nx), -EBUSY);
    assert_ptr_equal(b->evtchn[pb].notifier, &nb);
    assert_ptr_equal(b->evtchn[pb].owner, &own1);
    assert_int_equal(t->f.notifies, 1);
    assert_int_equal(t->f.pages, pages0 + 1);
    /* free, reserved and bad ports */
    assert_int_equal(hv_evtchn_attach(hv, b, 9, &own1, &nx), -EINVAL);
    assert_int_equal(hv_evtchn_attach(hv, b, 0, &own1, &nx), -EINVAL);
    assert_int_equal(hv_evtchn_attach(hv, b, HV_DEFAULT_EVTCHN + 1, &own1, &nx),
                     -EINVAL);
    assert_int_equal(hv_evtchn_attach(hv, b, UINT32_MAX, &own1, &nx), -EINVAL);
    assert_int_equal(t->f.pages, pages0 + 1);

    /* a's port is not pending: no signal; the peer's view changes */
    g = b->evtchn[pb].gen;
    assert_int_equal(hv_evtchn_attach(hv, a, pa, &own1, &na), 0);
    assert_int_equal(t->f.notifies, 1);
    assert_int_equal(cell(a, pa)->pending, 0);
    assert_false(hv_evtchn_is_pending(a, pa));
    assert_int_not_equal(b->evtchn[pb].gen, g);
    assert_int_equal(gen_byte(b, pb), (uint8_t)b->evtchn[pb].gen);

    /* the peer's port, when a device took it, and the port's gen */
    assert_ptr_equal(hv_evtchn_peer(hv, b, pb, &gen), &a->evtchn[pa]);
    assert_int_equal(gen, b->evtchn[pb].gen);
    assert_ptr_equal(hv_evtchn_peer(hv, a, pa, &gen), &b->evtchn[pb]);
    assert_int_equal(gen, a->evtchn[pa].gen);
    gen = 77;
    assert_null(hv_evtchn_peer(hv, a, UINT32_MAX, &gen));
    assert_int_equal(gen, 0);

    /* the device consumed it; a new event signals the notifier once,
     * through the cell, without shared_info or an upcall */
    cell(b, pb)->pending = 0;
    ack_all(b);
    t->f.kicks = 0;
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.notifies, 2);
    assert_ptr_equal(t->f.notified[1], &nb);
    assert_int_equal(cell(b, pb)->pending, 1);
    assert_int_equal(nr_pending(b), 0);
    assert_int_equal(upcall(b, 0), 0);
    assert_int_equal(t->f.kicks, 0);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.notifies, 2);
    /* a poll sees the cell's pending */
    ports[0] = pb;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), 0);
    /* masked in the cell: pending only; EVTCHNOP_unmask then signals */
    cell(b, pb)->pending = 0;
    cell(b, pb)->masked = 1;
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(cell(b, pb)->pending, 1);
    assert_int_equal(t->f.notifies, 2);
    assert_int_equal(ev_unmask(t, b, pb), 0);
    assert_int_equal(cell(b, pb)->masked, 0);
    assert_int_equal(t->f.notifies, 3);
    assert_ptr_equal(t->f.notified[2], &nb);
    assert_int_equal(t->f.kicks, 0);
    /* a poller of the port wakes on a cell event */
    cell(b, pb)->pending = 0;
    assert_int_equal(poll_ports(t, b, 0, &tok, ports, 1, 0), HCALL_BLOCKED);
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(t->f.wakes, 1);
    assert_ptr_equal(t->f.wake_waiter, &tok);
    assert_int_equal(t->f.notifies, 4);

    /* IPI, VIRQ and UNBOUND ports may be attached too */
    assert_int_equal(bind_ipi(t, a, 0, &ipi), 0);
    assert_int_equal(bind_virq(t, a, VIRQ_TIMER, 0, &tmr), 0);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &u), 0);
    assert_int_equal(hv_evtchn_attach(hv, a, ipi, &own2, &ni), 0);
    assert_int_equal(hv_evtchn_attach(hv, a, tmr, &own2, &nv), 0);
    assert_int_equal(t->f.pages, pages0 + 4);
    assert_null(hv_evtchn_peer(hv, a, ipi, &gen));
    assert_int_equal(gen, a->evtchn[ipi].gen);
    assert_int_equal(ev_send(t, a, ipi), 0);
    assert_int_equal(t->f.notifies, 5);
    assert_ptr_equal(t->f.notified[4], &ni);

    /* close_owned closes that owner's ports only */
    assert_int_equal(t->f.releases, 0);
    hv_evtchn_close_owned(hv, a, &own2);
    assert_int_equal(t->f.releases, 2);
    assert_true(was_released(t, &ni));
    assert_true(was_released(t, &nv));
    assert_int_equal(t->f.pages, pages0 + 2);
    assert_int_equal(a->evtchn[ipi].state, ECS_FREE);
    assert_int_equal(a->evtchn[tmr].state, ECS_FREE);
    assert_null(a->evtchn[ipi].notifier);
    assert_int_equal(a->vcpu[0].virq_to_port[VIRQ_TIMER], 0);
    assert_int_equal(a->evtchn[pa].state, ECS_INTERDOMAIN);
    assert_int_equal(a->evtchn[u].state, ECS_UNBOUND);
    assert_int_equal(b->evtchn[pb].state, ECS_INTERDOMAIN);
    /* in that domain only: b's port of own1 stays */
    hv_evtchn_close_owned(hv, a, &own1);
    assert_int_equal(t->f.releases, 3);
    assert_true(was_released(t, &na));
    assert_int_equal(a->evtchn[pa].state, ECS_FREE);
    assert_int_equal(a->evtchn[u].state, ECS_UNBOUND);
    assert_int_equal(t->f.pages, pages0 + 1);
    /* b's end went UNBOUND but keeps its device */
    assert_int_equal(b->evtchn[pb].state, ECS_UNBOUND);
    assert_ptr_equal(b->evtchn[pb].notifier, &nb);
    assert_null(hv_evtchn_peer(hv, b, pb, &gen));

    /* EVTCHNOP_close lets the notifier and the cell go too */
    assert_int_equal(ev_close(t, b, pb), 0);
    assert_int_equal(t->f.releases, 4);
    assert_ptr_equal(t->f.released[3], &nb);
    assert_null(b->evtchn[pb].notifier);
    assert_null(b->evtchn[pb].owner);
    assert_null(cell(b, pb));
    assert_int_equal(t->f.pages, pages0);
    /* nothing left of own1 */
    hv_evtchn_close_owned(hv, b, &own1);
    assert_int_equal(t->f.releases, 4);

    /* hv_fini lets the notifiers still attached go (teardown checks the
     * cell page went back) */
    assert_int_equal(hv_evtchn_attach(hv, a, u, &own1, &nx), 0);
    hv_fini(hv);
    assert_int_equal(t->f.releases, 5);
    assert_ptr_equal(t->f.released[4], &nx);
    assert_int_equal(t->f.pages, 0);
}

/* ---- dying domains ---- */

static void test_dying_domain(void **state)
{
    struct t *t = *state;
    struct hv *hv = &t->hv;
    struct hv_domain *a = mkdom(t, "alpha", 0);
    struct hv_domain *b = mkdom(t, "beta", 0);
    struct hv_domain *c = mkdom(t, "gamma", 0);
    uint32_t pa, pb, pc, pb2, pa3, pe, pe_e, u;
    int own, nb;
    struct st s;

    connect(t, a, b, &pa, &pb);
    connect(t, c, b, &pc, &pb2);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, b->id, &pa3), 0);
    assert_int_equal(hv_evtchn_attach(hv, b, pb, &own, &nb), 0);
    b->vcpu[1].upcall = 42;

    /* b dies: every peer's end goes back to UNBOUND, naming b */
    kill_domain(t, b);
    assert_null(b->evtchn);
    assert_int_equal(a->evtchn[pa].state, ECS_UNBOUND);
    assert_int_equal(a->evtchn[pa].remote_dom, b->id);
    assert_int_equal(c->evtchn[pc].state, ECS_UNBOUND);
    assert_int_equal(c->evtchn[pc].remote_dom, b->id);
    s = status_of(t, a, pa);
    assert_int_equal(s.status, EVTCHNSTAT_unbound);
    assert_int_equal(s.dom, b->id);
    /* the port it was offered stays as it was */
    assert_int_equal(a->evtchn[pa3].state, ECS_UNBOUND);
    /* its notifier and upcall handle were let go */
    assert_int_equal(t->f.releases, 1);
    assert_ptr_equal(t->f.released[0], &nb);
    assert_int_equal(t->f.upcall_releases, 1);
    assert_int_equal(t->f.upcall_released, 42);
    /* a send from the survivor is a silent 0 */
    t->f.kicks = 0;
    assert_int_equal(ev_send(t, a, pa), 0);
    assert_int_equal(nr_pending(a), 0);
    assert_int_equal(t->f.kicks, 0);
    /* what was offered to it stays offered to it alone */
    assert_int_equal(bind_interdomain(t, t->dom0, a->id, pa3, NULL), -EINVAL);
    assert_int_equal(a->evtchn[pa3].remote_dom, b->id);

    /* a dying domain (destroyed, connections still open) */
    struct hv_domain *e = mkdom(t, "delta", 0);
    connect(t, a, e, &pe, &pe_e);
    hv_domain_conn_get(hv, e);
    assert_int_equal(hv_domain_destroy(hv, e), 0);
    assert_int_equal(e->state, PV_DOM_DYING);
    assert_int_equal(t->f.kills, 1);
    /* it takes no new ports */
    assert_int_equal(alloc_unbound(t, e, DOMID_SELF, a->id, NULL), -EINVAL);
    assert_int_equal(alloc_unbound(t, t->dom0, e->id, 0, NULL), -EINVAL);
    assert_int_equal(bind_ipi(t, e, 0, NULL), -EINVAL);
    assert_int_equal(bind_virq(t, e, VIRQ_TIMER, 0, NULL), -EINVAL);
    assert_int_equal(alloc_unbound(t, a, DOMID_SELF, e->id, &u), 0);
    assert_int_equal(bind_interdomain(t, e, a->id, u, NULL), -EINVAL);
    assert_int_equal(a->evtchn[u].state, ECS_UNBOUND);
    /* its bound ports still work until it is gone */
    assert_int_equal(ev_send(t, a, pe), 0);
    assert_true(pending(e, pe_e));
    hv_domain_conn_put(hv, e);
    assert_int_equal(e->state, PV_DOM_DEAD);
    assert_int_equal(a->evtchn[pe].state, ECS_UNBOUND);
    assert_int_equal(a->evtchn[pe].remote_dom, e->id);
    assert_true(log_has(t, "is dead: destroyed"));
    assert_int_equal(t->f.pages, 3 * DOM_SHARED); /* dom0, alpha, gamma */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TD(test_alloc_unbound),
        TD(test_gen_page),
        TD(test_bind_interdomain),
        TD(test_bind_enospc),
        TD(test_send_interdomain),
        TD(test_send_masked_unmask),
        TD(test_send_ipi_unbound_virq),
        TD(test_close),
        TD(test_status),
        TD(test_bind_virq),
        TD(test_virq_timer),
        TD(test_virq_dom_exc),
        TD(test_bind_vcpu),
        TD(test_reset),
        TD(test_compat_op),
        TD(test_fifo_and_unknown),
        TD(test_poll_immediate),
        TD(test_poll_wake),
        TD(test_poll_timeout),
        TD(test_block_woken_by_event),
        TD(test_attach),
        TD(test_attach_limit),
        TD(test_dying_domain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
