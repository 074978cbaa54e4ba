/* SPDX-License-Identifier: MIT */
/*
 * gnttab.c - grant tables (v1): the shared table, the pin protocol,
 * grant_table_op, maptrack, and the work of Linux's gntalloc and gntdev
 * drivers that the hypervisor does for a process domain's devices.
 *
 * The table lives in pages shared by the domain and the hypervisor, so a
 * domain grants a page by writing an entry.  Everything read from it is
 * read once, into a local, then checked; flags+domid change only by a
 * 32-bit compare-and-swap, as in Xen, and a granter that keeps rewriting
 * its entry makes a map fail after a bounded number of attempts instead of
 * holding the hypervisor (reference/xen-semantics.md 1.4).
 *
 * Memory: a page can be mapped only when memory is behind its frame, which
 * gntalloc provides: one memfd (struct hv_mem) per ALLOC_GREF call, granted
 * to one domain with one access mode.  Only that domain (and the owner)
 * may map it, and a read-only one is sealed before anyone else maps it, so
 * the descriptor a mapper receives gives exactly what the grant allows.
 * Frames without memory (the domain's other RAM is accounting only) can be
 * granted and pinned, but mapping them answers GNTST_bad_page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen_abi.h"
#include <xen/sys/gntalloc.h>

#include "hcall.h"
#include "proto.h"
#include "hv.h"

#define ENTRIES_PER_FRAME (XEN_PAGE_SIZE / sizeof(grant_entry_v1_t))
#define MT_PER_FRAME      256u /* Xen's maptrack entries per frame */
#define PIN_MAX           128u /* a counter with bit 7 set refuses pins */
#define CMPXCHG_TRIES     5    /* then the entry is "unstable" */
#define RESERVED_REFS     GNTTAB_NR_RESERVED_ENTRIES
#define NO_ENTRY          UINT32_MAX

static unsigned int nr_entries(const struct hv_domain *d)
{
    return d->gt.nr_frames * (unsigned int)ENTRIES_PER_FRAME;
}

/* flags (low 16) and domid (high 16) as Xen's union grant_combo */
static uint32_t *entry_word(struct hv_domain *d, uint32_t ref)
{
    return (uint32_t *)((grant_entry_v1_t *)d->gt.shared.va + ref);
}

static uint32_t entry_frame(struct hv_domain *d, uint32_t ref)
{
    grant_entry_v1_t *e = (grant_entry_v1_t *)d->gt.shared.va + ref;

    return __atomic_load_n(&e->frame, __ATOMIC_ACQUIRE);
}

/* Clear Xen's bits in an entry's flags: an atomic 16-bit AND. */
static void entry_clear(struct hv_domain *d, uint32_t ref, uint16_t bits)
{
    grant_entry_v1_t *e = (grant_entry_v1_t *)d->gt.shared.va + ref;

    __atomic_and_fetch(&e->flags, (uint16_t)~bits, __ATOMIC_SEQ_CST);
}

static struct hv_domain *live_domain(struct hv *hv, domid_t id,
                                     struct hv_domain *self)
{
    struct hv_domain *d;

    if (id == DOMID_SELF) {
        return self;
    }
    d = hv_domain_find(hv, id);
    if (!d || d->state == PV_DOM_DYING || d->state == PV_DOM_DEAD ||
        !d->gt.shared.va) {
        return NULL;
    }
    return d;
}

/* ---- memory ---- */

static struct hv_mem *mem_new(struct hv *hv, uint32_t npages)
{
    struct hv_mem *m;

    if (hv->nr_mems >= HV_MAX_MEMS) {
        return NULL;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        return NULL;
    }
    m->pg.npages = npages;
    if (hv->env.page_alloc(hv->env.ctx, &m->pg)) {
        free(m);
        return NULL;
    }
    m->refs = 1;
    m->id = ++hv->next_mem_id;
    hv->nr_mems++;
    return m;
}

void hv_mem_put(struct hv *hv, struct hv_mem *m)
{
    if (m && --m->refs == 0) {
        hv->env.page_free(hv->env.ctx, &m->pg);
        free(m);
        hv->nr_mems--;
    }
}

static uint8_t *mem_page(struct hv_mem *m, uint32_t idx)
{
    return (uint8_t *)m->pg.va + (size_t)idx * XEN_PAGE_SIZE;
}

/* ---- table setup ---- */

static int grow_table(struct hv_domain *d, unsigned int frames)
{
    struct hv_active *a;
    size_t old = nr_entries(d), want = (size_t)frames * ENTRIES_PER_FRAME;

    if (frames <= d->gt.nr_frames) {
        return 0;
    }
    if (frames > d->max_grant_frames) {
        return -EINVAL;
    }
    a = realloc(d->gt.act, want * sizeof(*a));
    if (!a) {
        return -ENOMEM;
    }
    memset(a + old, 0, (want - old) * sizeof(*a));
    d->gt.act = a;
    d->gt.nr_frames = frames;
    return 0;
}

int hv_gnttab_init(struct hv *hv, struct hv_domain *d)
{
    struct hv_gnttab *gt = &d->gt;
    int rc;

    gt->shared.npages = d->max_grant_frames;
    rc = hv->env.page_alloc(hv->env.ctx, &gt->shared);
    if (rc) {
        return rc;
    }
    gt->frame_mfn = malloc(d->max_grant_frames * sizeof(uint64_t));
    gt->frame_gpfn = malloc(d->max_grant_frames * sizeof(uint64_t));
    if (!gt->frame_mfn || !gt->frame_gpfn) {
        rc = -ENOMEM;
        goto fail;
    }
    /* the table's frames are the hypervisor's pages shared with the
     * domain: they have machine numbers but are not its RAM */
    for (unsigned int i = 0; i < d->max_grant_frames; i++) {
        gt->frame_gpfn[i] = HV_INVALID_GPFN;
        rc = hv_frame_alloc(hv, NULL, HV_INVALID_GPFN, &gt->frame_mfn[i]);
        if (rc) {
            for (unsigned int j = 0; j < i; j++) {
                hv_frame_free(hv, gt->frame_mfn[j]);
            }
            goto fail;
        }
        hv->frames[gt->frame_mfn[i]].owner = d->id;
    }
    gt->mt_free = NO_ENTRY;
    gt->ref_cursor = RESERVED_REFS;
    rc = grow_table(d, 1); /* Xen's table starts with one frame */
    if (rc == 0) {
        return 0;
    }
fail:
    free(gt->frame_mfn);
    free(gt->frame_gpfn);
    hv->env.page_free(hv->env.ctx, &gt->shared);
    memset(gt, 0, sizeof(*gt));
    return rc;
}

/* ---- maptrack ---- */

static int mt_get(struct hv_domain *d, uint32_t *handle)
{
    struct hv_gnttab *gt = &d->gt;
    uint64_t limit = (uint64_t)d->max_maptrack * MT_PER_FRAME;

    if (gt->mt_free == NO_ENTRY) {
        /* grow by a frame's worth at a time, lazily, as Xen does */
        uint32_t n = gt->mt_size, grow = MT_PER_FRAME;
        struct hv_maptrack *mt;
        if (n >= limit) {
            return -ENOSPC;
        }
        if (n + grow > limit) {
            grow = (uint32_t)(limit - n);
        }
        mt = realloc(gt->mt, (size_t)(n + grow) * sizeof(*mt));
        if (!mt) {
            return -ENOMEM;
        }
        memset(mt + n, 0, grow * sizeof(*mt));
        /* push in reverse so the lowest handle comes out first */
        for (uint32_t i = n + grow; i-- > n;) {
            mt[i].next_free = gt->mt_free;
            gt->mt_free = i;
        }
        gt->mt = mt;
        gt->mt_size = n + grow;
    }
    *handle = gt->mt_free;
    gt->mt_free = gt->mt[*handle].next_free;
    memset(&gt->mt[*handle], 0, sizeof(gt->mt[*handle]));
    gt->mt[*handle].used = true;
    gt->mt_used++;
    return 0;
}

static void mt_put(struct hv_domain *d, uint32_t handle)
{
    struct hv_gnttab *gt = &d->gt;

    gt->mt[handle].used = false;
    gt->mt[handle].next_free = gt->mt_free;
    gt->mt_free = handle;
    gt->mt_used--;
}

/* ---- the pin protocol ---- */

/*
 * Xen's _set_status for v1: on the first pin (or the first writable one),
 * check the entry's type and grantee and set GTF_reading (and
 * GTF_writing) with a compare-and-swap, retrying a bounded number of
 * times against a granter that keeps rewriting it.
 */
static int16_t set_status(struct hv_domain *rd, uint32_t ref, domid_t ld,
                          bool readonly, bool mapping, bool pinned)
{
    uint32_t *w = entry_word(rd, ref);
    uint32_t old = __atomic_load_n(w, __ATOMIC_ACQUIRE);

    for (int i = 0; i < CMPXCHG_TRIES; i++) {
        uint16_t flags = (uint16_t)old, domid = (uint16_t)(old >> 16);
        uint16_t nf;
        if (!pinned) {
            uint16_t type = flags & GTF_type_mask;
            if (type != GTF_permit_access ||
                (mapping && (flags & GTF_sub_page)) || domid != ld) {
                return GNTST_general_error;
            }
        }
        nf = flags | GTF_reading;
        if (!readonly) {
            if (flags & GTF_readonly) {
                return GNTST_general_error;
            }
            nf |= GTF_writing;
        }
        if (nf == flags) {
            return GNTST_okay;
        }
        uint32_t want = (old & 0xffff0000u) | nf;
        if (__atomic_compare_exchange_n(w, &old, want, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            return GNTST_okay;
        }
        /* old now holds what the granter wrote meanwhile */
    }
    return GNTST_general_error; /* unstable */
}

static void end_deferred(struct hv *hv, struct hv_domain *rd, uint32_t ref);

/* Drop one pin; clear the entry's bits as the last ones go. */
static void unpin(struct hv *hv, struct hv_domain *rd, uint32_t ref,
                  bool readonly)
{
    struct hv_active *a = &rd->gt.act[ref];

    if (readonly) {
        if (a->rd_pins) {
            a->rd_pins--;
        }
    } else if (a->wr_pins) {
        a->wr_pins--;
        if (a->wr_pins == 0) {
            entry_clear(rd, ref, GTF_writing);
        }
    }
    if (a->rd_pins == 0 && a->wr_pins == 0) {
        /* GTF_writing goes only with a writable pin (above): a guest's
         * own bit stays, as in Xen */
        entry_clear(rd, ref, GTF_reading);
        hv_mem_put(hv, a->mem);
        a->mem = NULL;
        if (a->ga) {
            end_deferred(hv, rd, ref);
        }
    }
}

/*
 * Pin rd's ref for ld, as map and copy do: the checks of
 * reference/xen-semantics.md 1.4 and 1.7 steps 6-7, then the frame, which
 * is read only after the flags are set.
 */
static int16_t pin(struct hv *hv, struct hv_domain *rd, uint32_t ref,
                   domid_t ld, bool readonly, bool mapping, uint64_t *mfn_out)
{
    struct hv_active *a = &rd->gt.act[ref];
    bool pinned = a->rd_pins || a->wr_pins;
    int16_t st;
    uint64_t frame, mfn;

    if (pinned && a->domid != ld) {
        return GNTST_general_error;
    }
    if ((readonly ? a->rd_pins : a->wr_pins) >= PIN_MAX) {
        return GNTST_general_error;
    }
    if (!pinned || (!readonly && a->wr_pins == 0)) {
        st = set_status(rd, ref, ld, readonly, mapping, pinned);
        if (st != GNTST_okay) {
            return st;
        }
    }
    if (!pinned) {
        frame = entry_frame(rd, ref);
        if (rd->translated) {
            mfn = frame < rd->p2m_size ? rd->p2m[frame] : HV_INVALID_MFN;
        } else {
            mfn = frame;
        }
        if (mfn == HV_INVALID_MFN || mfn == 0 || mfn >= hv->nr_frames ||
            hv->frames[mfn].owner != rd->id) {
            /* undo what set_status did, as Xen's unlock_out_clear */
            entry_clear(rd, ref,
                        (uint16_t)(GTF_reading | (readonly ? 0 : GTF_writing)));
            return GNTST_bad_page;
        }
        a->mfn = mfn;
        a->domid = ld;
        a->mem = hv->frames[mfn].mem;
        a->mem_idx = hv->frames[mfn].mem_idx;
        if (a->mem) {
            a->mem->refs++;
        }
    } else if (hv->frames[a->mfn].owner != rd->id) {
        /* the granter gave the frame back while it was pinned */
        return GNTST_bad_page;
    }
    if (readonly) {
        a->rd_pins++;
    } else {
        a->wr_pins++;
    }
    *mfn_out = a->mfn;
    return GNTST_okay;
}

/* ---- map and unmap ---- */

int16_t hv_gnttab_map(struct hv *hv, struct hv_domain *d, void *owner,
                      domid_t dom, uint32_t ref, uint32_t flags,
                      uint64_t host_addr, uint32_t *handle, uint64_t *bus,
                      struct hv_mem **mem_out, uint32_t *idx_out)
{
    struct hv_domain *rd;
    struct hv_maptrack *m;
    bool ro = (flags & GNTMAP_readonly) != 0;
    uint64_t mfn;
    uint32_t h;
    int16_t st;

    if (!(flags & (GNTMAP_host_map | GNTMAP_device_map))) {
        return GNTST_bad_gntref;
    }
    if (d->translated && (flags & (GNTMAP_device_map | GNTMAP_application_map |
                                   GNTMAP_contains_pte))) {
        return GNTST_general_error;
    }
    rd = live_domain(hv, dom, d);
    if (!rd) {
        return GNTST_bad_domain;
    }
    if (mt_get(d, &h)) {
        return GNTST_no_space;
    }
    if (ref >= nr_entries(rd)) {
        st = GNTST_bad_gntref;
        goto fail;
    }
    st = pin(hv, rd, ref, d->id, ro, true, &mfn);
    if (st != GNTST_okay) {
        goto fail;
    }
    struct hv_active *act = &rd->gt.act[ref];
    if (owner) {
        /*
         * A device wants the memory.  Beyond Xen's checks: the memory must
         * have been granted to this domain (or be its own), in the mode the
         * map asks for, so the descriptor it gets gives no more than the
         * grant does.
         */
        struct hv_mem *mem = act->mem;
        bool own = rd == d;
        if (!mem) {
            st = GNTST_bad_page;
        } else if (!own && mem->grantee != d->id) {
            st = GNTST_general_error;
        } else if (!own && mem->readonly != ro &&
                   (mem->readonly || (*entry_word(rd, ref) & GTF_readonly))) {
            st = GNTST_general_error;
        } else if (!own && mem->readonly && !mem->sealed) {
            if (hv->env.page_seal(hv->env.ctx, &mem->pg)) {
                st = GNTST_general_error;
            } else {
                mem->sealed = true;
            }
        } else if (!own && ro && !mem->readonly) {
            /* the descriptor it gets can write, whatever it maps: pin it
             * writable, so the entry says so and the granter cannot make
             * the grant read-only under it */
            uint64_t wmfn;
            st = pin(hv, rd, ref, d->id, false, true, &wmfn);
            if (st == GNTST_okay) {
                unpin(hv, rd, ref, true);
                ro = false;
                flags &= ~(uint32_t)GNTMAP_readonly;
            } else {
                st = GNTST_general_error;
            }
        }
        if (st != GNTST_okay) {
            unpin(hv, rd, ref, ro);
            goto fail;
        }
    }
    m = &d->gt.mt[h];
    m->flags = flags;
    m->rd = rd->id;
    m->rd_serial = rd->serial;
    m->ref = ref;
    m->mfn = mfn;
    m->host_addr = host_addr;
    m->owner = owner;
    if (act->mem) {
        m->mem = act->mem;
        m->mem_idx = act->mem_idx;
        m->mem->refs++;
    }
    *handle = h;
    *bus = mfn << XEN_PAGE_SHIFT;
    if (mem_out) {
        *mem_out = m->mem;
        *idx_out = m->mem_idx;
    }
    return GNTST_okay;
fail:
    mt_put(d, h);
    return st;
}

/* An unmap notification takes (and gives back) a hold on its port. */
static void port_hold(struct hv_domain *d, uint32_t port)
{
    if (d->evtchn && port <= d->max_evtchn) {
        d->evtchn[port].holds++;
    }
}

static void port_unhold(struct hv *hv, struct hv_domain *d, uint32_t port)
{
    if (d->evtchn && port <= d->max_evtchn && d->evtchn[port].holds) {
        d->evtchn[port].holds--;
        hv_evtchn_put_orphan(hv, d, port);
    }
}

/* The mapping goes: notifications first (gntdev's order: the byte is
 * cleared before the page leaves, the event sent after), then the pin. */
static void mt_release(struct hv *hv, struct hv_domain *d, uint32_t h)
{
    struct hv_maptrack *m = &d->gt.mt[h];
    struct hv_domain *rd = hv_domain_find(hv, m->rd);
    bool ro = (m->flags & GNTMAP_readonly) != 0;

    if ((m->notify & UNMAP_NOTIFY_CLEAR_BYTE) && m->mem && !ro) {
        __atomic_store_n(mem_page(m->mem, m->mem_idx) + m->notify_off, 0,
                         __ATOMIC_SEQ_CST);
    }
    /* a granter that died meanwhile keeps nothing to unpin (the memory
     * lived on through this mapping's reference) */
    if (rd && rd->serial == m->rd_serial && rd->gt.act &&
        m->ref < nr_entries(rd)) {
        unpin(hv, rd, m->ref, ro);
    }
    uint8_t notify = m->notify;
    m->notify = 0;
    hv_mem_put(hv, m->mem);
    mt_put(d, h);
    if (notify & UNMAP_NOTIFY_SEND_EVENT) {
        hv_evtchn_send(hv, d, m->notify_port);
        port_unhold(hv, d, m->notify_port);
    }
}

bool hv_gnttab_notify_holds(struct hv_domain *d, uint32_t port)
{
    return d->evtchn && port <= d->max_evtchn && d->evtchn[port].holds > 0;
}

int16_t hv_gnttab_unmap(struct hv *hv, struct hv_domain *d, void *owner,
                        uint32_t handle, uint64_t host_addr, uint64_t bus)
{
    struct hv_maptrack *m;

    if (handle >= d->gt.mt_size || !d->gt.mt[handle].used ||
        d->gt.mt[handle].owner != owner) {
        return GNTST_bad_handle;
    }
    m = &d->gt.mt[handle];
    if (bus && bus != (m->mfn << XEN_PAGE_SHIFT)) {
        return GNTST_bad_dev_addr;
    }
    if (host_addr && host_addr != m->host_addr) {
        return GNTST_general_error; /* not what that handle mapped there */
    }
    mt_release(hv, d, handle);
    return GNTST_okay;
}

/* Is port one the domain has bound (Linux's evtchn_get succeeds)? */
static bool port_bound(struct hv_domain *d, uint32_t port)
{
    return d->evtchn && port > 0 && port <= d->max_evtchn &&
           d->evtchn[port].state != ECS_FREE &&
           d->evtchn[port].state != ECS_RESERVED;
}

int hv_gnttab_set_notify(struct hv *hv, struct hv_domain *d, void *owner,
                         uint32_t handle, uint32_t off, uint32_t action,
                         uint32_t port)
{
    struct hv_maptrack *m;

    if (action &
        ~(uint32_t)(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT)) {
        return -EINVAL;
    }
    if (handle >= d->gt.mt_size || !d->gt.mt[handle].used ||
        d->gt.mt[handle].owner != owner || off >= XEN_PAGE_SIZE) {
        return -ENOENT;
    }
    m = &d->gt.mt[handle];
    if ((action & UNMAP_NOTIFY_SEND_EVENT) && !port_bound(d, port)) {
        return -EINVAL;
    }
    if ((action & UNMAP_NOTIFY_CLEAR_BYTE) && (m->flags & GNTMAP_readonly)) {
        return -EINVAL;
    }
    uint8_t old = m->notify;
    uint32_t old_port = m->notify_port;
    m->notify = (uint8_t)action;
    m->notify_off = (uint16_t)off;
    m->notify_port = port;
    if (action & UNMAP_NOTIFY_SEND_EVENT) {
        port_hold(d, port);
    }
    if (old & UNMAP_NOTIFY_SEND_EVENT) {
        /* Linux's evtchn_put of the port it replaced */
        port_unhold(hv, d, old_port);
    }
    return 0;
}

/* ---- copy ---- */

/* Resolve one side of a copy to bytes, pinning a gref side. */
static int16_t copy_side(struct hv *hv, struct hv_domain *d,
                         const struct hv_copy_side *s, bool dest,
                         struct hv_domain **rd_out, uint8_t **p)
{
    struct hv_domain *rd;
    uint64_t mfn;
    int16_t st;

    *rd_out = NULL;
    if (s->local) {
        *p = s->local;
        return GNTST_okay;
    }
    if (!s->gref) {
        if (s->domid != DOMID_SELF) {
            return GNTST_permission_denied;
        }
        /* the caller's own frame: gpfn when translated, mfn when PV */
        mfn = d->translated
                  ? (s->gmfn < d->p2m_size ? d->p2m[s->gmfn] : HV_INVALID_MFN)
                  : s->gmfn;
        if (mfn == HV_INVALID_MFN || mfn == 0 || mfn >= hv->nr_frames ||
            hv->frames[mfn].owner != d->id || !hv->frames[mfn].mem) {
            return GNTST_bad_page;
        }
        *p = mem_page(hv->frames[mfn].mem, hv->frames[mfn].mem_idx);
        return GNTST_okay;
    }
    rd = live_domain(hv, s->domid, d);
    if (!rd) {
        return GNTST_bad_domain;
    }
    if (s->ref >= nr_entries(rd)) {
        return GNTST_bad_gntref;
    }
    /* a source pins read-only; a dest pins writable (a read-only grant as
     * dest fails in set_status) */
    st = pin(hv, rd, s->ref, d->id, !dest, false, &mfn);
    if (st != GNTST_okay) {
        return st;
    }
    /* the memory pinned, not whatever the frame holds now */
    struct hv_active *a = &rd->gt.act[s->ref];
    if (!a->mem) {
        unpin(hv, rd, s->ref, !dest);
        return GNTST_bad_page;
    }
    *rd_out = rd;
    *p = mem_page(a->mem, a->mem_idx);
    return GNTST_okay;
}

/* Xen's gnttab_copy_lock_domain: a frame side must be the caller's. */
static int16_t copy_domain(struct hv *hv, struct hv_domain *d,
                           const struct hv_copy_side *s)
{
    if (s->local) {
        return GNTST_okay;
    }
    if (!s->gref) {
        return s->domid == DOMID_SELF ? GNTST_okay : GNTST_permission_denied;
    }
    return live_domain(hv, s->domid, d) ? GNTST_okay : GNTST_bad_domain;
}

/* Xen 4.17's order: each side's domain, then claim (pin) the source and
 * the destination, and only then the bounds (gnttab_copy_buf). */
int16_t hv_gnttab_copy(struct hv *hv, struct hv_domain *d,
                       const struct hv_copy_side *src,
                       const struct hv_copy_side *dst, uint16_t len)
{
    struct hv_domain *srd, *drd;
    uint8_t *sp, *dp;
    int16_t st;

    if (len == 0) {
        return GNTST_okay;
    }
    st = copy_domain(hv, d, src);
    if (st == GNTST_okay) {
        st = copy_domain(hv, d, dst);
    }
    if (st != GNTST_okay) {
        return st;
    }
    st = copy_side(hv, d, src, false, &srd, &sp);
    if (st != GNTST_okay) {
        return st;
    }
    st = copy_side(hv, d, dst, true, &drd, &dp);
    if (st == GNTST_okay) {
        if ((!src->local && (uint32_t)src->offset + len > XEN_PAGE_SIZE) ||
            (!dst->local && (uint32_t)dst->offset + len > XEN_PAGE_SIZE)) {
            st = GNTST_bad_copy_arg;
        } else {
            /* a device's buffer is exactly the bytes: no offset into it */
            memmove(dp + (dst->local ? 0 : dst->offset),
                    sp + (src->local ? 0 : src->offset), len);
        }
        if (drd) {
            unpin(hv, drd, dst->ref, false);
        }
    }
    if (srd) {
        unpin(hv, srd, src->ref, true);
    }
    return st;
}

/* ---- gntalloc ---- */

/* A free ref of d's table, growing it when full (Linux's gnttab_expand). */
static int ref_alloc(struct hv_domain *d, uint32_t *out)
{
    for (;;) {
        uint32_t n = nr_entries(d);
        for (uint32_t i = 0; i < n - RESERVED_REFS; i++) {
            uint32_t r = d->gt.ref_cursor;
            d->gt.ref_cursor = r + 1 >= n ? RESERVED_REFS : r + 1;
            if (r < RESERVED_REFS) {
                continue;
            }
            struct hv_active *a = &d->gt.act[r];
            uint32_t w = __atomic_load_n(entry_word(d, r), __ATOMIC_ACQUIRE);
            if (!a->ga && !a->rd_pins && !a->wr_pins && (w & 0xffff) == 0) {
                *out = r;
                return 0;
            }
        }
        if (d->gt.nr_frames >= d->max_grant_frames ||
            grow_table(d, d->gt.nr_frames + 1)) {
            return -ENOSPC;
        }
        d->gt.ref_cursor = n;
    }
}

/* A page of the domain's RAM nobody shares yet: Linux's alloc_page. */
static int ram_alloc(struct hv *hv, struct hv_domain *d, uint64_t *gpfn)
{
    for (uint64_t i = 0; i < d->p2m_size; i++) {
        uint64_t g = d->gt.gpfn_cursor;
        d->gt.gpfn_cursor = g + 1 >= d->p2m_size ? 0 : g + 1;
        uint64_t mfn = d->p2m[g];
        if (mfn != HV_INVALID_MFN && mfn < hv->nr_frames && mfn != 0 &&
            mfn != d->shinfo_mfn && hv->frames[mfn].owner == d->id &&
            !hv->frames[mfn].mem) {
            *gpfn = g;
            return 0;
        }
    }
    return -ENOMEM;
}

static void write_entry(struct hv_domain *d, uint32_t ref, domid_t domid,
                        uint32_t frame, bool readonly)
{
    grant_entry_v1_t *e = (grant_entry_v1_t *)d->gt.shared.va + ref;

    /* Linux's order: domid and frame, a barrier, then the flags */
    __atomic_store_n(&e->domid, domid, __ATOMIC_RELAXED);
    __atomic_store_n(&e->frame, frame, __ATOMIC_RELAXED);
    __atomic_store_n(
        &e->flags,
        (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
        __ATOMIC_RELEASE);
}

/*
 * End access to a gntalloc entry (Linux's end_foreign_access_ref) unless the
 * hypervisor has it pinned.  The hypervisor's own pins decide, not the
 * entry's bits: a domain that sets GTF_reading in its own entry cannot keep
 * a freed page (and its memory in the daemon) alive forever.
 */
static bool end_access(struct hv_domain *d, uint32_t ref)
{
    grant_entry_v1_t *e = (grant_entry_v1_t *)d->gt.shared.va + ref;
    const struct hv_active *a = &d->gt.act[ref];

    if (a->rd_pins || a->wr_pins) {
        return false;
    }
    __atomic_store_n(&e->flags, 0, __ATOMIC_SEQ_CST);
    return true;
}

static void galloc_unlink(struct hv *hv, struct hv_domain *d,
                          struct hv_galloc *ga)
{
    struct hv_galloc **pp = &d->gt.gallocs;

    while (*pp && *pp != ga) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = ga->next;
    }
    hv_mem_put(hv, ga->mem);
    free(ga);
}

/* The page's grant has ended: the frame is plain RAM again. */
static void page_gone(struct hv *hv, struct hv_domain *d, struct hv_galloc *ga,
                      uint32_t i)
{
    uint64_t g = ga->page[i].gpfn;
    uint64_t mfn = g < d->p2m_size ? d->p2m[g] : HV_INVALID_MFN;

    if (ga->page[i].state == GA_GONE) {
        return;
    }
    ga->page[i].state = GA_GONE;
    d->gt.act[ga->page[i].ref].ga = NULL;
    if (mfn != HV_INVALID_MFN && mfn < hv->nr_frames &&
        hv->frames[mfn].mem == ga->mem) {
        hv->frames[mfn].mem = NULL;
        hv_mem_put(hv, ga->mem);
    }
    if (--ga->live == 0) {
        galloc_unlink(hv, d, ga);
    }
}

/* A deferred end of access: the last pin went away. */
static void end_deferred(struct hv *hv, struct hv_domain *rd, uint32_t ref)
{
    struct hv_active *a = &rd->gt.act[ref];
    struct hv_galloc *ga = a->ga;
    uint32_t i = a->ga_idx;

    if (ga->page[i].state == GA_DEFERRED && end_access(rd, ref)) {
        page_gone(hv, rd, ga, i);
    }
}

int hv_gntalloc(struct hv *hv, struct hv_domain *d, void *owner,
                domid_t grantee, bool writable, uint32_t count, uint32_t *refs,
                struct hv_galloc **out)
{
    struct hv_galloc *ga;
    struct hv_mem *mem;
    uint32_t limit = hv->gntalloc_limit;
    int rc = 0;

    /* the fixed driver's order: oversized counts before any allocation,
     * then the limit without wrapping */
    if (count == 0) {
        return -EINVAL; /* nothing to map: mmap of 0 pages is refused too */
    }
    if (count > limit) {
        return -ENOSPC;
    }
    if (d->gt.ga_pages > limit || count > limit - d->gt.ga_pages) {
        return -ENOSPC;
    }
    ga = calloc(1, sizeof(*ga) + (size_t)count * sizeof(ga->page[0]));
    if (!ga) {
        return -ENOMEM;
    }
    mem = mem_new(hv, count);
    if (!mem) {
        free(ga);
        return -ENOMEM;
    }
    mem->owner = d->id;
    mem->grantee = grantee;
    mem->readonly = !writable;
    ga->mem = mem; /* the record's reference */
    ga->owner = owner;
    ga->count = count;
    ga->id = ++d->gt.ga_next_id;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t g, mfn;
        rc = ram_alloc(hv, d, &g);
        if (rc == 0) {
            rc = ref_alloc(d, &refs[i]);
        }
        if (rc) {
            break;
        }
        mfn = d->p2m[g];
        hv->frames[mfn].mem = mem;
        hv->frames[mfn].mem_idx = i;
        mem->refs++;
        ga->page[i].gpfn = g;
        ga->page[i].ref = refs[i];
        ga->page[i].state = GA_LIVE;
        ga->live++;
        d->gt.act[refs[i]].ga = ga;
        d->gt.act[refs[i]].ga_idx = i;
        write_entry(d, refs[i], grantee, (uint32_t)(d->translated ? g : mfn),
                    !writable);
    }
    if (rc) {
        /* a partial failure releases everything this call allocated: no
         * other domain could have mapped any of it yet */
        for (uint32_t i = 0; i < count; i++) {
            if (ga->page[i].state == GA_LIVE) {
                uint64_t mfn = d->p2m[ga->page[i].gpfn];
                __atomic_store_n(entry_word(d, ga->page[i].ref), 0,
                                 __ATOMIC_SEQ_CST);
                d->gt.act[ga->page[i].ref].ga = NULL;
                hv->frames[mfn].mem = NULL;
                mem->refs--;
            }
        }
        hv_mem_put(hv, mem);
        free(ga);
        return rc;
    }
    d->gt.ga_pages += count;
    ga->next = d->gt.gallocs;
    d->gt.gallocs = ga;
    *out = ga;
    return 0;
}

struct hv_galloc *hv_galloc_find(struct hv_domain *d, void *owner, uint64_t id)
{
    for (struct hv_galloc *ga = d->gt.gallocs; ga; ga = ga->next) {
        if (ga->id == id && ga->owner == owner) {
            return ga;
        }
    }
    return NULL;
}

/*
 * The last local user of a page went: notify (clear the byte, then send
 * the event) and end access.  A page the grantee still maps is deferred,
 * as after XSA-396: it stops counting against the limit now and goes when
 * the grantee unmaps it.
 */
static void galloc_page_free(struct hv *hv, struct hv_domain *d,
                             struct hv_galloc *ga, uint32_t i)
{
    if (ga->page[i].state != GA_LIVE) {
        return;
    }
    if (ga->page[i].notify & UNMAP_NOTIFY_CLEAR_BYTE) {
        __atomic_store_n(mem_page(ga->mem, i) + ga->page[i].notify_off, 0,
                         __ATOMIC_SEQ_CST);
    }
    uint8_t notify = ga->page[i].notify;
    ga->page[i].notify = 0;
    if (notify & UNMAP_NOTIFY_SEND_EVENT) {
        hv_evtchn_send(hv, d, ga->page[i].notify_port);
        port_unhold(hv, d, ga->page[i].notify_port);
    }
    ga->page[i].state = GA_DEFERRED;
    d->gt.ga_pages--;
    if (end_access(d, ga->page[i].ref)) {
        page_gone(hv, d, ga, i);
    }
}

int hv_gntalloc_free(struct hv *hv, struct hv_domain *d, void *owner,
                     uint64_t id, uint32_t first, uint32_t count)
{
    struct hv_galloc *ga = hv_galloc_find(d, owner, id);

    if (!ga || first >= ga->count || count > ga->count - first) {
        return -EINVAL;
    }
    ga->live++; /* keep the record while walking it */
    for (uint32_t i = first; i < first + count; i++) {
        galloc_page_free(hv, d, ga, i);
    }
    if (--ga->live == 0) {
        galloc_unlink(hv, d, ga);
    }
    return 0;
}

int hv_gntalloc_set_notify(struct hv *hv, struct hv_domain *d, void *owner,
                           uint64_t id, uint32_t page, uint32_t off,
                           uint32_t action, uint32_t port)
{
    struct hv_galloc *ga = hv_galloc_find(d, owner, id);

    if (!ga || page >= ga->count || ga->page[page].state != GA_LIVE ||
        off >= XEN_PAGE_SIZE) {
        return -ENOENT;
    }
    if (action &
        ~(uint32_t)(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT)) {
        return -EINVAL;
    }
    if ((action & UNMAP_NOTIFY_SEND_EVENT) && !port_bound(d, port)) {
        return -EINVAL;
    }
    uint8_t old = ga->page[page].notify;
    uint32_t old_port = ga->page[page].notify_port;
    ga->page[page].notify = (uint8_t)action;
    ga->page[page].notify_off = (uint16_t)off;
    ga->page[page].notify_port = port;
    if (action & UNMAP_NOTIFY_SEND_EVENT) {
        port_hold(d, port);
    }
    if (old & UNMAP_NOTIFY_SEND_EVENT) {
        port_unhold(hv, d, old_port);
    }
    return 0;
}

void hv_gnttab_release_owned(struct hv *hv, struct hv_domain *d, void *owner)
{
    struct hv_galloc *ga, *next;

    if (!d->gt.shared.va) {
        return;
    }
    for (uint32_t h = 0; h < d->gt.mt_size; h++) {
        if (d->gt.mt[h].used && d->gt.mt[h].owner == owner) {
            mt_release(hv, d, h);
        }
    }
    for (ga = d->gt.gallocs; ga; ga = next) {
        next = ga->next;
        if (ga->owner == owner) {
            hv_gntalloc_free(hv, d, owner, ga->id, 0, ga->count);
        }
    }
}

/* ---- the domain's end ---- */

void hv_gnttab_teardown(struct hv *hv, struct hv_domain *d)
{
    struct hv_galloc *ga, *next;

    if (!d->gt.shared.va) {
        return;
    }
    /* its own mappings go first, with their notifications */
    for (uint32_t h = 0; h < d->gt.mt_size; h++) {
        if (d->gt.mt[h].used) {
            mt_release(hv, d, h);
        }
    }
    /* its grants: whatever others still map lives on in their mappings'
     * references to the memory, and their unmaps find no granter */
    for (ga = d->gt.gallocs; ga; ga = next) {
        next = ga->next;
        if (ga->live) {
            ga->live = 1;
            for (uint32_t i = 0; i < ga->count; i++) {
                if (ga->page[i].state == GA_LIVE) {
                    d->gt.ga_pages--;
                }
                ga->page[i].state = GA_GONE;
            }
        }
        galloc_unlink(hv, d, ga);
    }
    d->gt.gallocs = NULL;
    /* the memory behind its frames goes with the frames (hv_frame_free) */
    hv_gnttab_fini(hv, d);
}

void hv_gnttab_fini(struct hv *hv, struct hv_domain *d)
{
    struct hv_gnttab *gt = &d->gt;

    for (size_t i = 0; gt->act && i < nr_entries(d); i++) {
        hv_mem_put(hv, gt->act[i].mem);
    }
    if (gt->shared.va) {
        hv->env.page_free(hv->env.ctx, &gt->shared);
    }
    free(gt->frame_mfn);
    free(gt->frame_gpfn);
    free(gt->act);
    free(gt->mt);
    while (gt->gallocs) {
        struct hv_galloc *n = gt->gallocs->next;
        hv_mem_put(hv, gt->gallocs->mem);
        free(gt->gallocs);
        gt->gallocs = n;
    }
    memset(gt, 0, sizeof(*gt));
}

/* ---- grant_table_op ---- */

/* Resolve a domid argument: the caller, or another only for dom0. */
static int16_t target(struct hv_call *c, domid_t id, struct hv_domain **out)
{
    struct hv_domain *d = live_domain(c->hv, id, c->d);

    if (!d) {
        return GNTST_bad_domain;
    }
    if (d != c->d && !c->d->privileged) {
        return GNTST_permission_denied;
    }
    *out = d;
    return GNTST_okay;
}

static int64_t op_setup_table(struct hv_call *c, uint64_t arg, uint32_t count)
{
    struct gnttab_setup_table op;
    struct hv_domain *d;

    if (count != 1) {
        return -EINVAL;
    }
    if (copy_from_guest(c->gm, &op, arg, sizeof(op))) {
        return -EFAULT;
    }
    op.status = target(c, op.dom, &d);
    if (op.status == GNTST_okay) {
        if (op.nr_frames > d->max_grant_frames || grow_table(d, op.nr_frames)) {
            op.status = GNTST_general_error;
        }
    }
    if (op.status == GNTST_okay) {
        for (uint32_t i = 0; i < op.nr_frames; i++) {
            xen_pfn_t f = d->translated ? (xen_pfn_t)d->gt.frame_gpfn[i]
                                        : (xen_pfn_t)d->gt.frame_mfn[i];
            if (copy_to_guest(c->gm,
                              (uint64_t)(uintptr_t)op.frame_list.p +
                                  i * sizeof(xen_pfn_t),
                              &f, sizeof(f))) {
                op.status = GNTST_bad_virt_addr;
                break;
            }
        }
    }
    return copy_to_guest(c->gm, arg, &op, sizeof(op)) ? -EFAULT : 0;
}

static int64_t op_query_size(struct hv_call *c, uint64_t arg, uint32_t count)
{
    struct gnttab_query_size op;
    struct hv_domain *d;

    if (count != 1) {
        return -EINVAL;
    }
    if (copy_from_guest(c->gm, &op, arg, sizeof(op))) {
        return -EFAULT;
    }
    op.status = target(c, op.dom, &d);
    if (op.status == GNTST_okay) {
        op.nr_frames = d->gt.nr_frames;
        op.max_nr_frames = d->max_grant_frames;
    }
    return copy_to_guest(c->gm, arg, &op, sizeof(op)) ? -EFAULT : 0;
}

static int64_t op_map(struct hv_call *c, uint64_t arg, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        struct gnttab_map_grant_ref op;
        uint64_t a = arg + (uint64_t)i * sizeof(op);
        if (copy_from_guest(c->gm, &op, a, sizeof(op))) {
            return -EFAULT;
        }
        op.status = hv_gnttab_map(c->hv, c->d, NULL, op.dom, op.ref, op.flags,
                                  op.host_addr, &op.handle, &op.dev_bus_addr,
                                  NULL, NULL);
        if (copy_to_guest(c->gm, a, &op, sizeof(op))) {
            return -EFAULT;
        }
    }
    return 0;
}

static int64_t op_unmap(struct hv_call *c, uint64_t arg, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        struct gnttab_unmap_grant_ref op;
        uint64_t a = arg + (uint64_t)i * sizeof(op);
        if (copy_from_guest(c->gm, &op, a, sizeof(op))) {
            return -EFAULT;
        }
        op.status = hv_gnttab_unmap(c->hv, c->d, NULL, op.handle, op.host_addr,
                                    op.dev_bus_addr);
        if (copy_to_guest(c->gm, a, &op, sizeof(op))) {
            return -EFAULT;
        }
    }
    return 0;
}

static int64_t op_unmap_and_replace(struct hv_call *c, uint64_t arg,
                                    uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        struct gnttab_unmap_and_replace op;
        uint64_t a = arg + (uint64_t)i * sizeof(op);
        if (copy_from_guest(c->gm, &op, a, sizeof(op))) {
            return -EFAULT;
        }
        /* a translated guest has no linear mapping to move there */
        if (c->d->translated && op.new_addr) {
            op.status = GNTST_general_error;
        } else {
            op.status =
                hv_gnttab_unmap(c->hv, c->d, NULL, op.handle, op.host_addr, 0);
        }
        if (copy_to_guest(c->gm, a, &op, sizeof(op))) {
            return -EFAULT;
        }
    }
    return 0;
}

static void copy_ptr_side(struct hv_copy_side *s, const void *ptr, bool gref)
{
    const struct gnttab_copy_ptr *p = ptr;

    memset(s, 0, sizeof(*s));
    s->gref = gref;
    if (gref) {
        s->ref = p->u.ref;
    } else {
        s->gmfn = p->u.gmfn;
    }
    s->domid = p->domid;
    s->offset = p->offset;
}

static int64_t op_copy(struct hv_call *c, uint64_t arg, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        struct gnttab_copy op;
        struct hv_copy_side s, d;
        uint64_t a = arg + (uint64_t)i * sizeof(op);
        if (copy_from_guest(c->gm, &op, a, sizeof(op))) {
            return -EFAULT;
        }
        copy_ptr_side(&s, &op.source, op.flags & GNTCOPY_source_gref);
        copy_ptr_side(&d, &op.dest, op.flags & GNTCOPY_dest_gref);
        op.status = hv_gnttab_copy(c->hv, c->d, &s, &d, op.len);
        if (copy_to_guest(c->gm, a + offsetof(struct gnttab_copy, status),
                          &op.status, sizeof(op.status))) {
            return -EFAULT;
        }
    }
    return 0;
}

static int64_t op_set_version(struct hv_call *c, uint64_t arg, uint32_t count)
{
    struct gnttab_set_version op;
    int64_t rc = 0;

    (void)count; /* not looked at, as in Xen */
    if (copy_from_guest(c->gm, &op, arg, sizeof(op))) {
        return -EFAULT;
    }
    if (op.version != 1 && op.version != 2) {
        rc = -EINVAL;
    } else if (op.version == 2) {
        rc = -ENOSYS; /* domains are created with max_grant_version 1 */
    }
    op.version = 1;
    if (copy_to_guest(c->gm, arg, &op, sizeof(op))) {
        return -EFAULT;
    }
    return rc;
}

static int64_t op_get_version(struct hv_call *c, uint64_t arg, uint32_t count)
{
    struct gnttab_get_version op;
    struct hv_domain *d;

    (void)count; /* not looked at, as in Xen */
    if (copy_from_guest(c->gm, &op, arg, sizeof(op))) {
        return -EFAULT;
    }
    d = live_domain(c->hv, op.dom, c->d);
    if (!d) {
        return -ESRCH;
    }
    if (d != c->d && !c->d->privileged) {
        return -EPERM;
    }
    op.version = 1;
    return copy_to_guest(c->gm, arg, &op, sizeof(op)) ? -EFAULT : 0;
}

static int64_t op_get_status_frames(struct hv_call *c, uint64_t arg,
                                    uint32_t count)
{
    struct gnttab_get_status_frames op;
    struct hv_domain *d;

    if (count != 1) {
        return -EINVAL;
    }
    if (copy_from_guest(c->gm, &op, arg, sizeof(op))) {
        return -EFAULT;
    }
    op.status = target(c, op.dom, &d);
    if (op.status == GNTST_okay && op.nr_frames > 0) {
        op.status = GNTST_general_error; /* v1 has no status frames */
    }
    return copy_to_guest(c->gm, arg, &op, sizeof(op)) ? -EFAULT : 0;
}

static int64_t op_swap(struct hv_call *c, uint64_t arg, uint32_t count)
{
    struct hv_domain *d = c->d;

    for (uint32_t i = 0; i < count; i++) {
        struct gnttab_swap_grant_ref op;
        uint64_t a = arg + (uint64_t)i * sizeof(op);
        if (copy_from_guest(c->gm, &op, a, sizeof(op))) {
            return -EFAULT;
        }
        if (op.ref_a >= nr_entries(d) || op.ref_b >= nr_entries(d)) {
            op.status = GNTST_bad_gntref;
        } else if (op.ref_a == op.ref_b) {
            op.status = GNTST_okay; /* a no-op, before any pin check */
        } else if (d->gt.act[op.ref_a].rd_pins || d->gt.act[op.ref_a].wr_pins ||
                   d->gt.act[op.ref_b].rd_pins || d->gt.act[op.ref_b].wr_pins ||
                   d->gt.act[op.ref_a].ga || d->gt.act[op.ref_b].ga) {
            op.status = GNTST_eagain;
        } else {
            grant_entry_v1_t *e = d->gt.shared.va, t;
            memcpy(&t, &e[op.ref_a], sizeof(t));
            memcpy(&e[op.ref_a], &e[op.ref_b], sizeof(t));
            memcpy(&e[op.ref_b], &t, sizeof(t));
            op.status = GNTST_okay;
        }
        if (copy_to_guest(c->gm, a, &op, sizeof(op))) {
            return -EFAULT;
        }
    }
    return 0;
}

typedef int64_t (*gnt_fn)(struct hv_call *c, uint64_t arg, uint32_t count);

/* one entry per GNTTABOP_*; a gap is -ENOSYS (dump_table was removed) */
static const gnt_fn gnt_table[] = {
    [GNTTABOP_map_grant_ref] = op_map,
    [GNTTABOP_unmap_grant_ref] = op_unmap,
    [GNTTABOP_setup_table] = op_setup_table,
    [GNTTABOP_copy] = op_copy,
    [GNTTABOP_query_size] = op_query_size,
    [GNTTABOP_unmap_and_replace] = op_unmap_and_replace,
    [GNTTABOP_set_version] = op_set_version,
    [GNTTABOP_get_status_frames] = op_get_status_frames,
    [GNTTABOP_get_version] = op_get_version,
    [GNTTABOP_swap_grant_ref] = op_swap,
};

int64_t do_grant_table_op(struct hv_call *c, const uint64_t *a)
{
    uint32_t cmd = (uint32_t)a[0], count = (uint32_t)a[2];

    if ((int32_t)count < 0 || (cmd >> 12)) {
        return -EINVAL;
    }
    if (!c->d->gt.shared.va) {
        return -ENOSYS;
    }
    if (cmd == GNTTABOP_transfer) {
        return -EOPNOTSUPP; /* as with Xen's gnttab=no-transfer */
    }
    if (cmd >= sizeof(gnt_table) / sizeof(gnt_table[0]) || !gnt_table[cmd]) {
        return -ENOSYS;
    }
    return gnt_table[cmd](c, a[1], count);
}
