/* SPDX-License-Identifier: MIT */
/*
 * grant.c - the grant messages: what gntalloc and gntdev descriptors ask
 * of the hypervisor (entries of conn.c's dispatch table), and `procvisor
 * gnttab`.  The connection that sends them owns what they create; when it
 * closes, conn_reap releases it as Linux does at close() or process death.
 *
 * Every count and index here comes from a domain: sizes are checked
 * against the payload length before anything is read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen_abi.h"
#include <xen/sys/gntalloc.h>

#include "daemon.h"

static struct hv_domain *live(struct daemon *dm, struct conn *c)
{
    struct hv_domain *d = conn_domain(dm, c);

    if (!d || d->state == PV_DOM_DYING || d->state == PV_DOM_DEAD ||
        !d->gt.shared.va) {
        return NULL;
    }
    return d;
}

void m_gntalloc(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                uint8_t *p, int *fds, int nfds)
{
    struct pv_gntalloc_req req;
    struct pv_gntalloc_rep rep = {0};
    struct hv_domain *d = live(dm, c);
    struct hv_galloc *ga;
    uint32_t *refs = (uint32_t *)(dm->tx + sizeof(rep));
    int rc, fd;

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (!d) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    if (req.flags & ~(uint16_t)GNTALLOC_FLAG_WRITABLE) {
        conn_reply_ret(dm, c, h, -EINVAL);
        return;
    }
    /* the ids must fit one reply: more is more than any limit allows */
    if (req.count > PV_GNTALLOC_MAX) {
        conn_reply_ret(dm, c, h, -ENOSPC);
        return;
    }
    rc = hv_gntalloc(&dm->hv, d, c, req.domid,
                     (req.flags & GNTALLOC_FLAG_WRITABLE) != 0, req.count, refs,
                     &ga);
    if (rc) {
        conn_reply_ret(dm, c, h, rc);
        return;
    }
    c->gnt_owner = true;
    rep.id = ga->id;
    memcpy(dm->tx, &rep, sizeof(rep));
    fd = (int)(intptr_t)ga->mem->pg.cookie;
    if (conn_reply(dm, c, h, dm->tx,
                   sizeof(rep) + (size_t)req.count * sizeof(uint32_t), &fd,
                   1) == 0) {
        return;
    }
    /* the caller never learnt of them: they go now (conn_close will too) */
    hv_gntalloc_free(&dm->hv, d, c, ga->id, 0, req.count);
}

void m_gntalloc_free(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                     uint8_t *p, int *fds, int nfds)
{
    struct pv_gntalloc_free_req req;
    struct hv_domain *d = live(dm, c);

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    conn_reply_ret(
        dm, c, h,
        d ? hv_gntalloc_free(&dm->hv, d, c, req.id, req.first, req.count)
          : -ESRCH);
}

void m_gnt_notify(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                  uint8_t *p, int *fds, int nfds)
{
    struct pv_gnt_notify_req req;
    struct hv_domain *d = live(dm, c);
    int rc;

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (!d) {
        rc = -ESRCH;
    } else if (req.id) {
        rc = hv_gntalloc_set_notify(&dm->hv, d, c, req.id, req.target, req.off,
                                    req.action, req.port);
    } else {
        rc = hv_gnttab_set_notify(&dm->hv, d, c, req.target, req.off,
                                  req.action, req.port);
    }
    conn_reply_ret(dm, c, h, rc);
}

/*
 * Where the client finds m's descriptor: its slot in the connection's
 * descriptor cache, filled now (the descriptor goes with the reply) unless
 * an earlier reply put it there.  Slots this reply already uses are kept.
 */
static uint16_t fdcache_slot(struct conn *c, struct hv_mem *m,
                             const uint64_t *used, struct pv_gntmap_rep *rep,
                             int *out)
{
    uint32_t k;

    for (k = 0; k < PV_GNTMAP_BATCH; k++) {
        if (c->fdcache[k] == m->id) {
            return (uint16_t)k;
        }
    }
    /* a reply uses at most PV_GNTMAP_BATCH - 1 other slots: one is free */
    do {
        k = c->fdcache_next++ % PV_GNTMAP_BATCH;
    } while (used[k / 64] & (1ull << (k % 64)));
    c->fdcache[k] = m->id;
    rep->fill[rep->nfds] = (uint16_t)k;
    out[rep->nfds++] = (int)(intptr_t)m->pg.cookie;
    return (uint16_t)k;
}

/*
 * gntdev's mmap: map every grant or none.  The reply names, for each, its
 * handle, and its page in a descriptor of the connection's cache.
 */
void m_gntdev_map(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                  uint8_t *p, int *fds, int nfds)
{
    struct pv_gntmap_req req;
    struct pv_gntmap_rep rep = {0};
    struct hv_domain *d = live(dm, c);
    struct pv_gntmap_slot *slot =
        (struct pv_gntmap_slot *)(dm->tx + sizeof(rep));
    struct hv_mem *mems[PV_GNTMAP_BATCH];
    uint64_t used[(PV_GNTMAP_BATCH + 63) / 64] = {0};
    int out[PV_GNTMAP_BATCH];
    uint32_t i;
    int16_t st = GNTST_okay;

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (req.count == 0 || req.count > PV_GNTMAP_BATCH ||
        h->len != sizeof(req) + req.count * sizeof(struct pv_gntref)) {
        conn_close(dm, c);
        return;
    }
    if (!d) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    if (!c->fdcache) {
        c->fdcache = calloc(PV_GNTMAP_BATCH, sizeof(*c->fdcache));
        if (!c->fdcache) {
            conn_reply_ret(dm, c, h, -ENOMEM);
            return;
        }
    }
    if (req.flags & PV_GNTMAP_RESET) {
        memset(c->fdcache, 0, PV_GNTMAP_BATCH * sizeof(*c->fdcache));
        c->fdcache_next = 0;
    }
    uint32_t flags = GNTMAP_host_map |
                     ((req.flags & PV_GNTMAP_READONLY) ? GNTMAP_readonly : 0);
    for (i = 0; i < req.count && st == GNTST_okay; i++) {
        struct pv_gntref r;
        uint64_t bus;
        uint32_t idx = 0;
        memcpy(&r, p + sizeof(req) + i * sizeof(r), sizeof(r));
        memset(&slot[i], 0, sizeof(slot[i]));
        mems[i] = NULL;
        /* gntdev passes a u32 domid: anything past domid_t is no domain */
        st = r.domid > UINT16_MAX
                 ? GNTST_bad_domain
                 : hv_gnttab_map(&dm->hv, d, c, (domid_t)r.domid, r.ref, flags,
                                 0, &slot[i].handle, &bus, &mems[i], &idx);
        slot[i].status = st;
        if (st != GNTST_okay) {
            break;
        }
        slot[i].pgoff = idx;
    }
    if (st != GNTST_okay) {
        /* any failure fails the whole mmap, with nothing left mapped */
        for (uint32_t j = 0; j < i; j++) {
            hv_gnttab_unmap(&dm->hv, d, c, slot[j].handle, 0, 0);
        }
        rep.ret = -EINVAL;
        i++; /* the failed slot's status goes back too */
    } else {
        c->gnt_owner = true;
        uint16_t k = 0;
        for (uint32_t j = 0; j < i; j++) {
            /* runs of pages of one allocation are the common case */
            if (j == 0 || mems[j] != mems[j - 1]) {
                k = fdcache_slot(c, mems[j], used, &rep, out);
                used[k / 64] |= 1ull << (k % 64);
            }
            slot[j].fd_idx = k;
            slot[j].mem = mems[j]->id;
        }
    }
    memcpy(dm->tx, &rep, sizeof(rep));
    conn_reply(dm, c, h, dm->tx, sizeof(rep) + i * sizeof(*slot), out,
               (int)rep.nfds);
}

void m_gntdev_unmap(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                    uint8_t *p, int *fds, int nfds)
{
    struct pv_gntunmap_req req;
    struct hv_domain *d = conn_domain(dm, c);
    int64_t bad = 0;

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (req.count > (PV_PAYLOAD_MAX - sizeof(req)) / sizeof(uint32_t) ||
        h->len != sizeof(req) + req.count * sizeof(uint32_t)) {
        conn_close(dm, c);
        return;
    }
    for (uint32_t i = 0; d && d->gt.shared.va && i < req.count; i++) {
        uint32_t handle;
        memcpy(&handle, p + sizeof(req) + i * sizeof(handle), sizeof(handle));
        if (hv_gnttab_unmap(&dm->hv, d, c, handle, 0, 0) != GNTST_okay) {
            bad = -ENOENT;
        }
    }
    conn_reply_ret(dm, c, h, bad);
}

/*
 * gntdev's GRANT_COPY: segments in order, each with its status.  The
 * sender's bytes for local-to-grant copies follow the segments; bytes of
 * grant-to-local copies come back after the statuses.
 */
void m_gntdev_copy(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                   uint8_t *p, int *fds, int nfds)
{
    struct pv_gntcopy_req req;
    struct hv_domain *d = live(dm, c);
    size_t in, need_in = 0, need_out = 0, st_len;
    uint8_t *data, *outp;
    struct pv_rep r = {0};

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (req.count == 0 || req.count > PV_GNTCOPY_BATCH ||
        h->len < sizeof(req) + req.count * sizeof(struct pv_gntcopy_seg)) {
        conn_close(dm, c);
        return;
    }
    in = sizeof(req) + req.count * sizeof(struct pv_gntcopy_seg);
    for (uint32_t i = 0; i < req.count; i++) {
        struct pv_gntcopy_seg s;
        memcpy(&s, p + sizeof(req) + i * sizeof(s), sizeof(s));
        if (s.len > XEN_PAGE_SIZE || (!s.src_gref && !s.dst_gref)) {
            conn_close(dm, c);
            return;
        }
        need_in += s.src_gref ? 0 : s.len;
        need_out += s.dst_gref ? 0 : s.len;
    }
    st_len = (req.count * sizeof(int16_t) + 7) & ~(size_t)7;
    if (h->len != in + need_in || need_in > PV_GNTCOPY_BYTES ||
        need_out > PV_GNTCOPY_BYTES) {
        conn_close(dm, c);
        return;
    }
    data = p + in;
    outp = dm->tx + sizeof(r) + st_len;
    memset(dm->tx, 0, sizeof(r) + st_len);
    for (uint32_t i = 0; i < req.count; i++) {
        struct pv_gntcopy_seg s;
        struct hv_copy_side src = {0}, dst = {0};
        int16_t st;
        memcpy(&s, p + sizeof(req) + i * sizeof(s), sizeof(s));
        src.gref = s.src_gref;
        src.ref = s.src_ref;
        src.domid = s.src_dom;
        src.offset = s.src_off;
        dst.gref = s.dst_gref;
        dst.ref = s.dst_ref;
        dst.domid = s.dst_dom;
        dst.offset = s.dst_off;
        if (!s.src_gref) {
            src.local = data;
            data += s.len;
        }
        if (!s.dst_gref) {
            dst.local = outp;
            memset(outp, 0, s.len);
            outp += s.len;
        }
        st = d ? hv_gnttab_copy(&dm->hv, d, &src, &dst, s.len)
               : GNTST_bad_domain;
        memcpy(dm->tx + sizeof(r) + i * sizeof(st), &st, sizeof(st));
    }
    memcpy(dm->tx, &r, sizeof(r));
    conn_reply(dm, c, h, dm->tx, (size_t)(outp - dm->tx), NULL, 0);
}

/* `procvisor gnttab DOMAIN`: entries in use, their pins and mappers. */
void ctl_gnttab(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                uint8_t *p, int *fds, int nfds)
{
    struct pv_domid_req req;
    struct hv_domain *d, *m;
    struct pv_grant_info *out =
        (struct pv_grant_info *)(dm->tx + sizeof(struct pv_rep));
    size_t max = (PV_PAYLOAD_MAX - sizeof(struct pv_rep)) / sizeof(*out);
    size_t n = 0;
    struct pv_rep r;

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    d = req.domid <= UINT16_MAX ? hv_domain_find(&dm->hv, (domid_t)req.domid)
                                : NULL;
    if (!d || !d->gt.shared.va) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    const grant_entry_v1_t *e = d->gt.shared.va;
    uint32_t entries = d->gt.nr_frames * (XEN_PAGE_SIZE / sizeof(*e));
    for (uint32_t ref = 0; ref < entries && n < max; ref++) {
        grant_entry_v1_t g;
        const struct hv_active *a = &d->gt.act[ref];
        memcpy(&g, &e[ref], sizeof(g));
        if ((g.flags & GTF_type_mask) == GTF_invalid && !a->rd_pins &&
            !a->wr_pins) {
            continue;
        }
        memset(&out[n], 0, sizeof(out[n]));
        out[n].ref = ref;
        out[n].flags = g.flags;
        out[n].domid = g.domid;
        out[n].frame = g.frame;
        out[n].rd_pins = a->rd_pins;
        out[n].wr_pins = a->wr_pins;
        out[n].mapper = DOMID_INVALID;
        if (a->rd_pins || a->wr_pins) {
            out[n].mapper = a->domid;
            m = hv_domain_find(&dm->hv, a->domid);
            for (uint32_t k = 0; m && k < m->gt.mt_size; k++) {
                const struct hv_maptrack *t = &m->gt.mt[k];
                if (t->used && t->rd == d->id && t->rd_serial == d->serial &&
                    t->ref == ref) {
                    out[n].nmaps++;
                }
            }
        }
        n++;
    }
    r.ret = (int64_t)n;
    memcpy(dm->tx, &r, sizeof(r));
    conn_reply(dm, c, h, dm->tx, sizeof(r) + n * sizeof(*out), NULL, 0);
}
