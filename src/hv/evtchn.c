/* SPDX-License-Identifier: MIT */
/*
 * evtchn.c - event channels with the 2-level ABI: ports and their states,
 * interdomain/VIRQ/IPI binding, send/close/status/unmask/bind_vcpu/reset,
 * delivery into shared_info with Xen's exact order, VIRQs, and the wake-ups
 * of vCPUs blocked or polling.
 *
 * The pending and mask bitmaps and each vCPU's selector and upcall flag
 * live in the domain's shared_info page, which the domain writes too: every
 * access to them is an atomic read-modify-write, and nothing read from them
 * is trusted for the hypervisor's own bookkeeping (that is in struct
 * hv_evtchn, which the domain cannot reach).
 */
#include <errno.h>
#include <string.h>

#include "hcall.h"
#include "xen_args.h"
#include "hv.h"
#include "proto.h"

#define BITS_PER_WORD 64u

/* 4.17's virq_is_global(): the per-vCPU ones are bound once per vCPU */
static bool virq_is_global(uint32_t virq)
{
    switch (virq) {
    case VIRQ_TIMER:
    case VIRQ_DEBUG:
    case VIRQ_XENOPROF:
    case VIRQ_XENPMU:
        return false;
    }
    return true;
}

/* per-domain VIRQs: each domain owns its own, bound on vCPU 0 first */
static bool virq_is_domain(uint32_t virq)
{
    return virq == VIRQ_ARGO;
}

static struct shared_info *shinfo(struct hv_domain *d)
{
    return d->shinfo_pg.va;
}

static bool port_valid(const struct hv_domain *d, uint64_t port)
{
    return port <= d->max_evtchn && port < HV_MAX_EVTCHN_2L;
}

static bool test_and_set(uint64_t *w, unsigned int bit)
{
    uint64_t m = 1ull << bit;

    return (__atomic_fetch_or(w, m, __ATOMIC_SEQ_CST) & m) != 0;
}

static bool test_and_clear(uint64_t *w, unsigned int bit)
{
    uint64_t m = 1ull << bit;

    return (__atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST) & m) != 0;
}

static bool test(uint64_t *w, unsigned int bit)
{
    return (__atomic_load_n(w, __ATOMIC_SEQ_CST) >> bit) & 1;
}

static uint64_t *pending_word(struct hv_domain *d, uint32_t port)
{
    return (uint64_t *)&shinfo(d)->evtchn_pending[port / BITS_PER_WORD];
}

static uint64_t *mask_word(struct hv_domain *d, uint32_t port)
{
    return (uint64_t *)&shinfo(d)->evtchn_mask[port / BITS_PER_WORD];
}

/* vcpu_mark_events_pending(): upcall_pending, and on 0->1 the kick */
static void mark_events_pending(struct hv *hv, struct hv_domain *d,
                                struct hv_vcpu *v)
{
    struct vcpu_info *vi = &shinfo(d)->vcpu_info[v->id];

    if (__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST)) {
        return;
    }
    if (hv->env.kick) {
        hv->env.kick(hv->env.ctx, d, v);
    }
    hv_vcpu_wake(hv, v);
}

/* A vCPU polling this port (or polling several, so any) wakes. */
static void check_pollers(struct hv *hv, struct hv_domain *d, uint32_t port)
{
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        struct hv_vcpu *v = &d->vcpu[i];
        if (v->polling &&
            (v->poll_port < 0 || (uint32_t)v->poll_port == port)) {
            hv_vcpu_wake(hv, v);
        }
    }
}

static struct pv_evtchn_cell *cell_of(struct hv_evtchn *ch)
{
    return ch->cell.va;
}

/* The cell protocol's send (proto.h): the wake-up only for a new event on
 * an unmasked port. */
static bool cell_raise(struct hv *hv, struct hv_evtchn *ch)
{
    struct pv_evtchn_cell *cl = cell_of(ch);

    if (__atomic_exchange_n(&cl->pending, 1, __ATOMIC_SEQ_CST)) {
        return false; /* already pending: no new edge */
    }
    if (!__atomic_load_n(&cl->masked, __ATOMIC_SEQ_CST) &&
        hv->env.port_notify) {
        hv->env.port_notify(hv->env.ctx, ch->notifier);
    }
    return true;
}

bool hv_evtchn_is_pending(struct hv_domain *d, uint32_t port)
{
    struct hv_evtchn *ch = &d->evtchn[port];

    if (ch->cell.va) {
        return __atomic_load_n(&cell_of(ch)->pending, __ATOMIC_SEQ_CST) != 0;
    }
    return test(pending_word(d, port), port % BITS_PER_WORD);
}

void hv_evtchn_set_pending(struct hv *hv, struct hv_domain *d, uint32_t port)
{
    struct hv_evtchn *ch = &d->evtchn[port];
    struct hv_vcpu *v = &d->vcpu[ch->notify_vcpu];

    d->evtchn_sent++;
    /* a device's port: its own pending/mask pair, not shared_info's */
    if (ch->cell.va) {
        if (cell_raise(hv, ch)) {
            check_pollers(hv, d, port);
        }
        return;
    }
    /* 1. the pending bit; an event already pending makes no new edge */
    if (test_and_set(pending_word(d, port), port % BITS_PER_WORD)) {
        return;
    }
    /* 2. unmasked: the selector bit, then upcall_pending and the kick */
    if (!test(mask_word(d, port), port % BITS_PER_WORD) &&
        !test_and_set(
            (uint64_t *)&shinfo(d)->vcpu_info[v->id].evtchn_pending_sel,
            port / BITS_PER_WORD)) {
        mark_events_pending(hv, d, v);
    }
    /* 3. pollers wake even for a masked port */
    check_pollers(hv, d, port);
}

/* A port's binding changed: a sender's cached fast path must be refreshed
 * (the domain sees the low byte of gen in its read-only gen page). */
static void bump_gen(struct hv_domain *d, uint32_t port)
{
    uint8_t *page = d->evtchn_gen_pg.va;

    d->evtchn[port].gen++;
    if (page && port < HV_PAGE_BYTES) {
        __atomic_store_n(&page[port], (uint8_t)d->evtchn[port].gen,
                         __ATOMIC_RELEASE);
    }
}

static int get_free_port(struct hv_domain *d, uint32_t *out)
{
    if (d->state == PV_DOM_DYING || d->state == PV_DOM_DEAD) {
        return -EINVAL;
    }
    for (uint32_t p = 1; port_valid(d, p); p++) {
        if (d->evtchn[p].state == ECS_FREE) {
            *out = p;
            return 0;
        }
    }
    return -ENOSPC;
}

static void port_free(struct hv *hv, struct hv_domain *d, uint32_t port)
{
    struct hv_evtchn *ch = &d->evtchn[port];

    if (ch->notifier && hv->env.port_release) {
        hv->env.port_release(hv->env.ctx, ch->notifier);
    }
    if (ch->cell.va) {
        hv->env.page_free(hv->env.ctx, &ch->cell);
        d->evtchn_attached--;
    }
    uint32_t gen = ch->gen;
    memset(ch, 0, sizeof(*ch));
    ch->state = ECS_FREE;
    ch->gen = gen;
    bump_gen(d, port);
    test_and_clear(pending_word(d, port), port % BITS_PER_WORD);
}

/* Resolve a domid argument: DOMID_SELF, the caller, or (dom0) anyone. */
static int domain_arg(struct hv_call *c, domid_t id, struct hv_domain **out)
{
    struct hv_domain *t;

    if (id == DOMID_SELF || id == c->d->id) {
        *out = c->d;
        return 0;
    }
    t = hv_domain_find(c->hv, id);
    if (!t) {
        return -ESRCH;
    }
    if (!c->d->privileged) {
        return -EPERM;
    }
    *out = t;
    return 0;
}

static int64_t ev_alloc_unbound(struct hv_call *c,
                                struct evtchn_alloc_unbound *a)
{
    struct hv_domain *d;
    uint32_t port;
    int rc = domain_arg(c, a->dom, &d);

    if (rc) {
        return rc;
    }
    rc = get_free_port(d, &port);
    if (rc) {
        return rc;
    }
    d->evtchn[port].state = ECS_UNBOUND;
    d->evtchn[port].remote_dom =
        a->remote_dom == DOMID_SELF ? c->d->id : a->remote_dom;
    bump_gen(d, port);
    a->port = port;
    return 0;
}

static int64_t ev_bind_interdomain(struct hv_call *c,
                                   struct evtchn_bind_interdomain *b)
{
    struct hv_domain *ld = c->d, *rd;
    domid_t rdom = b->remote_dom == DOMID_SELF ? ld->id : b->remote_dom;
    struct hv_evtchn *lch, *rch;
    uint32_t lport;
    int rc;

    rd = hv_domain_find(c->hv, rdom);
    if (!rd) {
        return -ESRCH;
    }
    rc = get_free_port(ld, &lport);
    if (rc) {
        return rc;
    }
    if (!port_valid(rd, b->remote_port)) {
        return -EINVAL;
    }
    rch = &rd->evtchn[b->remote_port];
    if (rch->state != ECS_UNBOUND || rch->remote_dom != ld->id) {
        return -EINVAL;
    }
    lch = &ld->evtchn[lport];
    lch->state = ECS_INTERDOMAIN;
    lch->remote_dom = rd->id;
    lch->remote_port = b->remote_port;
    bump_gen(ld, lport);
    rch->state = ECS_INTERDOMAIN;
    rch->remote_dom = ld->id;
    rch->remote_port = lport;
    bump_gen(rd, b->remote_port);
    /* Xen makes the new local port pending at once: one early event */
    hv_evtchn_set_pending(c->hv, ld, lport);
    b->local_port = lport;
    return 0;
}

static int64_t ev_bind_virq(struct hv_call *c, struct evtchn_bind_virq *b)
{
    struct hv_domain *d = c->d;
    uint32_t port;
    int rc;

    if (b->virq >= NR_VIRQS) {
        return -EINVAL;
    }
    if ((virq_is_global(b->virq) || virq_is_domain(b->virq)) && b->vcpu != 0) {
        return -EINVAL;
    }
    if (b->vcpu >= d->max_vcpus) {
        return -ENOENT;
    }
    /* a global VIRQ belongs to the hardware domain */
    if (virq_is_global(b->virq) && !virq_is_domain(b->virq) && !d->privileged) {
        return -EBUSY;
    }
    if (d->vcpu[b->vcpu].virq_to_port[b->virq] != 0) {
        return -EEXIST;
    }
    rc = get_free_port(d, &port);
    if (rc) {
        return rc;
    }
    d->evtchn[port].state = ECS_VIRQ;
    d->evtchn[port].virq = b->virq;
    d->evtchn[port].notify_vcpu = (uint8_t)b->vcpu;
    bump_gen(d, port);
    d->vcpu[b->vcpu].virq_to_port[b->virq] = port;
    b->port = port;
    return 0;
}

static int64_t ev_bind_ipi(struct hv_call *c, struct evtchn_bind_ipi *b)
{
    struct hv_domain *d = c->d;
    uint32_t port;
    int rc;

    if (b->vcpu >= d->max_vcpus) {
        return -ENOENT;
    }
    rc = get_free_port(d, &port);
    if (rc) {
        return rc;
    }
    d->evtchn[port].state = ECS_IPI;
    d->evtchn[port].notify_vcpu = (uint8_t)b->vcpu;
    bump_gen(d, port);
    b->port = port;
    return 0;
}

int hv_evtchn_close(struct hv *hv, struct hv_domain *d, uint32_t port)
{
    struct hv_evtchn *ch;

    if (!port_valid(d, port)) {
        return -EINVAL;
    }
    ch = &d->evtchn[port];
    switch (ch->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        return -EINVAL;
    case ECS_VIRQ:
        for (unsigned int i = 0; i < d->max_vcpus; i++) {
            if (d->vcpu[i].virq_to_port[ch->virq] == port) {
                d->vcpu[i].virq_to_port[ch->virq] = 0;
            }
        }
        break;
    case ECS_INTERDOMAIN: {
        /* the peer goes back to UNBOUND, bindable by the closer again */
        struct hv_domain *rd = hv_domain_find(hv, ch->remote_dom);
        if (rd && port_valid(rd, ch->remote_port)) {
            struct hv_evtchn *rch = &rd->evtchn[ch->remote_port];
            if (rch->state == ECS_INTERDOMAIN && rch->remote_dom == d->id &&
                rch->remote_port == port) {
                rch->state = ECS_UNBOUND;
                rch->remote_dom = d->id;
                rch->remote_port = 0;
                bump_gen(rd, ch->remote_port);
            }
        }
        break;
    }
    }
    port_free(hv, d, port);
    return 0;
}

int hv_evtchn_send(struct hv *hv, struct hv_domain *d, uint32_t port)
{
    struct hv_evtchn *ch;

    if (!d->evtchn || !port_valid(d, port)) {
        return -EINVAL;
    }
    ch = &d->evtchn[port];
    switch (ch->state) {
    case ECS_INTERDOMAIN: {
        struct hv_domain *rd = hv_domain_find(hv, ch->remote_dom);
        if (rd) {
            hv_evtchn_set_pending(hv, rd, ch->remote_port);
        }
        return 0;
    }
    case ECS_IPI:
        hv_evtchn_set_pending(hv, d, port);
        return 0;
    case ECS_UNBOUND:
        return 0; /* silently dropped */
    }
    return -EINVAL;
}

static int64_t ev_status(struct hv_call *c, struct evtchn_status *s)
{
    struct hv_domain *d;
    struct hv_evtchn *ch;
    int rc;

    d = s->dom == DOMID_SELF ? c->d : hv_domain_find(c->hv, s->dom);
    if (!d) {
        return -ESRCH;
    }
    if (!port_valid(d, s->port)) {
        return -EINVAL;
    }
    rc = domain_arg(c, s->dom, &d);
    if (rc) {
        return rc;
    }
    ch = &d->evtchn[s->port];
    memset(&s->u, 0, sizeof(s->u));
    s->vcpu = ch->notify_vcpu;
    switch (ch->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        s->status = EVTCHNSTAT_closed;
        break;
    case ECS_UNBOUND:
        s->status = EVTCHNSTAT_unbound;
        s->u.unbound.dom = ch->remote_dom;
        break;
    case ECS_INTERDOMAIN:
        s->status = EVTCHNSTAT_interdomain;
        s->u.interdomain.dom = ch->remote_dom;
        s->u.interdomain.port = ch->remote_port;
        break;
    case ECS_VIRQ:
        s->status = EVTCHNSTAT_virq;
        s->u.virq = ch->virq;
        break;
    case ECS_IPI:
        s->status = EVTCHNSTAT_ipi;
        break;
    }
    return 0;
}

static int64_t ev_bind_vcpu(struct hv_call *c, struct evtchn_bind_vcpu *b)
{
    struct hv_domain *d = c->d;
    struct hv_evtchn *ch;

    if (b->vcpu >= d->max_vcpus) {
        return -ENOENT;
    }
    if (!port_valid(d, b->port)) {
        return -EINVAL;
    }
    ch = &d->evtchn[b->port];
    switch (ch->state) {
    case ECS_VIRQ:
        if (!virq_is_global(ch->virq)) {
            return -EINVAL;
        }
        break;
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
        break;
    default:
        return -EINVAL;
    }
    ch->notify_vcpu = (uint8_t)b->vcpu;
    return 0;
}

/* EVTCHNOP_unmask: the 2-level unmask, delivering what waited */
int hv_evtchn_unmask(struct hv *hv, struct hv_domain *d, uint32_t port)
{
    struct hv_vcpu *v;

    if (!port_valid(d, port)) {
        return -EINVAL;
    }
    if (d->evtchn[port].cell.va) {
        struct pv_evtchn_cell *cl = cell_of(&d->evtchn[port]);
        __atomic_store_n(&cl->masked, 0, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&cl->pending, __ATOMIC_SEQ_CST) &&
            hv->env.port_notify) {
            hv->env.port_notify(hv->env.ctx, d->evtchn[port].notifier);
        }
        return 0;
    }
    v = &d->vcpu[d->evtchn[port].notify_vcpu];
    if (test_and_clear(mask_word(d, port), port % BITS_PER_WORD) &&
        test(pending_word(d, port), port % BITS_PER_WORD) &&
        !test_and_set(
            (uint64_t *)&shinfo(d)->vcpu_info[v->id].evtchn_pending_sel,
            port / BITS_PER_WORD)) {
        mark_events_pending(hv, d, v);
    }
    return 0;
}

void hv_evtchn_reset(struct hv *hv, struct hv_domain *d)
{
    for (uint32_t p = 1; port_valid(d, p); p++) {
        if (d->evtchn[p].state != ECS_FREE) {
            hv_evtchn_close(hv, d, p);
        }
    }
}

static int64_t ev_reset(struct hv_call *c, domid_t dom)
{
    struct hv_domain *d;
    int rc = domain_arg(c, dom, &d);

    if (rc) {
        return rc;
    }
    /* another domain must be paused by its controller: ours never are */
    if (d != c->d) {
        return -EINVAL;
    }
    hv_evtchn_reset(c->hv, d);
    return 0;
}

/* One op on an argument block already copied in; *out says whether the
 * block is to be copied back (only on success, as Xen). */
static int64_t ev_op(struct hv_call *c, uint64_t cmd, union hv_evtchn_arg *u,
                     bool *out)
{
    int64_t rc;

    *out = false;
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        rc = ev_alloc_unbound(c, &u->alloc_unbound);
        *out = rc == 0;
        return rc;
    case EVTCHNOP_bind_interdomain:
        rc = ev_bind_interdomain(c, &u->bind_interdomain);
        *out = rc == 0;
        return rc;
    case EVTCHNOP_bind_virq:
        rc = ev_bind_virq(c, &u->bind_virq);
        *out = rc == 0;
        return rc;
    case EVTCHNOP_bind_ipi:
        rc = ev_bind_ipi(c, &u->bind_ipi);
        *out = rc == 0;
        return rc;
    case EVTCHNOP_bind_pirq:
        return -EINVAL; /* a process domain has no physical IRQs */
    case EVTCHNOP_close:
        if (port_valid(c->d, u->close.port) &&
            c->d->evtchn[u->close.port].owner &&
            c->d->evtchn[u->close.port].holds) {
            /* a device's unbind while an unmap notification holds the
             * port: it stays bound until that fires (Linux's evtchn_put) */
            c->d->evtchn[u->close.port].owner = NULL;
            c->d->evtchn[u->close.port].orphan = true;
            return 0;
        }
        return hv_evtchn_close(c->hv, c->d, u->close.port);
    case EVTCHNOP_send:
        return hv_evtchn_send(c->hv, c->d, u->send.port);
    case EVTCHNOP_status:
        rc = ev_status(c, &u->status);
        *out = rc == 0;
        return rc;
    case EVTCHNOP_bind_vcpu:
        return ev_bind_vcpu(c, &u->bind_vcpu);
    case EVTCHNOP_unmask:
        return hv_evtchn_unmask(c->hv, c->d, u->unmask.port);
    case EVTCHNOP_reset:
        return ev_reset(c, u->reset.dom);
    case EVTCHNOP_init_control:
    case EVTCHNOP_set_priority:
        return -ENOSYS; /* the FIFO ABI is not offered: 2-level only */
    case EVTCHNOP_expand_array:
        return -EOPNOTSUPP; /* as Xen when FIFO is not active */
    }
    return -ENOSYS;
}

int64_t do_event_channel_op(struct hv_call *c, const uint64_t *a)
{
    uint64_t cmd = (uint32_t)a[0], arg = a[1]; /* int cmd */
    union hv_evtchn_arg u;
    size_t n = xen_evtchn_arg_size(cmd);
    bool out;
    int64_t rc;

    if (n == 0) {
        return -ENOSYS;
    }
    if (copy_from_guest(c->gm, &u, arg, n)) {
        return -EFAULT;
    }
    rc = ev_op(c, cmd, &u, &out);
    if (out && copy_to_guest(c->gm, arg, &u, n)) {
        return -EFAULT;
    }
    return rc;
}

/* The legacy form (hypercall 16): {u32 cmd; union} in one block. */
int64_t do_event_channel_op_compat(struct hv_call *c, const uint64_t *a)
{
    struct evtchn_op op;
    union hv_evtchn_arg u;
    size_t n;
    bool out;
    int64_t rc;

    if (copy_from_guest(c->gm, &op, a[0], sizeof(op))) {
        return -EFAULT;
    }
    n = xen_evtchn_arg_size(op.cmd);
    if (n == 0 || n > sizeof(op.u)) {
        return -ENOSYS;
    }
    memcpy(&u, &op.u, n);
    rc = ev_op(c, op.cmd, &u, &out);
    if (out) {
        memcpy(&op.u, &u, n);
        if (copy_to_guest(c->gm, a[0], &op, sizeof(op))) {
            return -EFAULT;
        }
    }
    return rc;
}

void hv_send_vcpu_virq(struct hv *hv, struct hv_domain *d, struct hv_vcpu *v,
                       uint32_t virq)
{
    uint32_t port = v->virq_to_port[virq];

    if (port && d->evtchn[port].state == ECS_VIRQ) {
        hv_evtchn_set_pending(hv, d, port);
    }
}

void hv_send_global_virq(struct hv *hv, uint32_t virq)
{
    struct hv_domain *d0 = hv_domain_find(hv, 0);

    if (d0 && d0->evtchn) {
        hv_send_vcpu_virq(hv, d0, &d0->vcpu[0], virq);
    }
}

int hv_evtchn_attach(struct hv *hv, struct hv_domain *d, uint32_t port,
                     void *owner, void *notifier)
{
    struct hv_evtchn *ch;

    if (!d->evtchn || !port_valid(d, port)) {
        return -EINVAL;
    }
    ch = &d->evtchn[port];
    switch (ch->state) {
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
    case ECS_VIRQ:
    case ECS_IPI:
        break;
    default:
        return -EINVAL;
    }
    if (ch->notifier) {
        return -EBUSY;
    }
    if (d->evtchn_attached >= HV_MAX_ATTACHED) {
        return -ENOSPC;
    }
    int rc = hv->env.page_alloc(hv->env.ctx, &ch->cell);
    if (rc) {
        return rc;
    }
    ch->notifier = notifier;
    ch->owner = owner;
    d->evtchn_attached++;
    /* what is already pending (bind_interdomain's first event) moves from
     * shared_info into the cell, and is due */
    if (test_and_clear(pending_word(d, port), port % BITS_PER_WORD)) {
        cell_raise(hv, ch);
    }
    /* the peer's cached way of signalling this port is out of date */
    if (ch->state == ECS_INTERDOMAIN) {
        struct hv_domain *rd = hv_domain_find(hv, ch->remote_dom);
        if (rd && rd->evtchn && port_valid(rd, ch->remote_port)) {
            bump_gen(rd, ch->remote_port);
        }
    }
    return 0;
}

void hv_evtchn_close_owned(struct hv *hv, struct hv_domain *d, void *owner)
{
    if (!d->evtchn) {
        return;
    }
    for (uint32_t p = 1; port_valid(d, p); p++) {
        if (d->evtchn[p].owner != owner || d->evtchn[p].state == ECS_FREE) {
            continue;
        }
        if (hv_gnttab_notify_holds(d, p)) {
            /* an unmap notification will still send on it: Linux holds
             * the port (evtchn_get) until then */
            d->evtchn[p].owner = NULL;
            d->evtchn[p].orphan = true;
        } else {
            hv_evtchn_close(hv, d, p);
        }
    }
}

void hv_evtchn_put_orphan(struct hv *hv, struct hv_domain *d, uint32_t port)
{
    if (d->evtchn && port_valid(d, port) && d->evtchn[port].orphan &&
        !hv_gnttab_notify_holds(d, port)) {
        hv_evtchn_close(hv, d, port);
    }
}

struct hv_evtchn *hv_evtchn_peer(struct hv *hv, struct hv_domain *d,
                                 uint32_t port, uint32_t *gen)
{
    struct hv_evtchn *ch;
    struct hv_domain *rd;

    *gen = 0;
    if (!d->evtchn || !port_valid(d, port)) {
        return NULL;
    }
    ch = &d->evtchn[port];
    *gen = ch->gen;
    if (ch->state != ECS_INTERDOMAIN) {
        return NULL;
    }
    rd = hv_domain_find(hv, ch->remote_dom);
    if (!rd || !rd->evtchn || !port_valid(rd, ch->remote_port)) {
        return NULL;
    }
    return rd->evtchn[ch->remote_port].notifier ? &rd->evtchn[ch->remote_port]
                                                : NULL;
}
