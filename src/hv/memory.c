/* SPDX-License-Identifier: MIT */
/*
 * memory.c - machine frames, the M2P and each domain's P2M, and memory_op:
 * reservations (increase/decrease/populate), the reservation queries and
 * add_to_physmap for the shared_info page.
 *
 * A frame is a number the hypervisor hands out and accounts for; frames
 * that are shared with a domain are backed by memory the environment
 * allocates (hv_page).  A PVH (translated) domain's physmap is kept here; a
 * PV domain names frames by mfn and gets mfns back, as in Xen.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "xen_abi.h"

#include "hcall.h"
#include "hv.h"

/* Largest extent order per caller: Xen's CONFIG_DOMU_MAX_ORDER, and
 * CONFIG_PAGEALLOC_MAX_ORDER for the control domain */
#define DOMU_MAX_ORDER   9
#define CTLDOM_MAX_ORDER 18

int hv_frame_alloc(struct hv *hv, struct hv_domain *d, uint64_t gpfn,
                   uint64_t *mfn)
{
    if (hv->free_frames == 0) {
        return -ENOMEM;
    }
    if (d && d->tot_pages >= d->max_pages) {
        return -ENOMEM;
    }
    for (uint64_t n = 0; n < hv->nr_frames; n++) {
        uint64_t m = hv->next_frame;
        hv->next_frame = m + 1 >= hv->nr_frames ? 1 : m + 1;
        if (hv->frames[m].owner == DOMID_INVALID) {
            hv->frames[m].owner = d ? d->id : DOMID_XEN;
            hv->frames[m].gpfn = gpfn;
            hv->free_frames--;
            if (d) {
                d->tot_pages++;
            }
            *mfn = m;
            return 0;
        }
    }
    return -ENOMEM;
}

void hv_frame_free(struct hv *hv, uint64_t mfn)
{
    if (mfn == 0 || mfn >= hv->nr_frames ||
        hv->frames[mfn].owner == DOMID_INVALID) {
        return;
    }
    hv->frames[mfn].owner = DOMID_INVALID;
    hv->frames[mfn].gpfn = HV_INVALID_GPFN;
    /* shared memory lives on in whoever else holds it */
    hv_mem_put(hv, hv->frames[mfn].mem);
    hv->frames[mfn].mem = NULL;
    hv->free_frames++;
}

/*
 * Allocate one extent of 2^order frames for d, all or nothing.  With a
 * gpfn, the frames enter the M2P there (and the P2M, which for a PV guest
 * is only the hypervisor's record).
 */
int hv_alloc_extent(struct hv *hv, struct hv_domain *d, unsigned int order,
                    uint64_t gpfn, uint64_t *first)
{
    uint64_t n = 1ull << order;

    if (d->tot_pages + n > d->max_pages || hv->free_frames < n) {
        return -ENOMEM;
    }
    /* a PV guest keeps its own P2M: Xen only records the M2P, for any
     * gpfn; the translated physmap must have room and be empty there */
    if (gpfn != HV_INVALID_GPFN && d->translated) {
        if (gpfn + n > d->p2m_size || gpfn + n < gpfn) {
            return -EINVAL;
        }
        for (uint64_t j = 0; j < n; j++) {
            if (d->p2m[gpfn + j] != HV_INVALID_MFN) {
                return -EEXIST;
            }
        }
    }
    /* the counts were checked and the core is single-threaded: no partial
     * extent is possible from here */
    for (uint64_t j = 0; j < n; j++) {
        uint64_t g = gpfn == HV_INVALID_GPFN ? gpfn : gpfn + j, mfn;
        if (hv_frame_alloc(hv, d, g, &mfn)) {
            return -ENOMEM;
        }
        if (g != HV_INVALID_GPFN && g < d->p2m_size) {
            d->p2m[g] = mfn;
        }
        if (j == 0) {
            *first = mfn;
        }
    }
    return 0;
}

/*
 * Give one page back (Xen's guest_remove_page).  A translated guest names
 * it by gpfn; a PV guest by mfn, which must be its own (-ENXIO).
 */
static int remove_page(struct hv *hv, struct hv_domain *d, uint64_t gmfn)
{
    uint64_t gpfn, mfn;

    if (d->translated) {
        gpfn = gmfn;
        if (gpfn >= d->p2m_size || d->p2m[gpfn] == HV_INVALID_MFN) {
            return -EINVAL;
        }
        mfn = d->p2m[gpfn];
    } else {
        mfn = gmfn;
        if (mfn == 0 || mfn >= hv->nr_frames) {
            return -EINVAL;
        }
        if (hv->frames[mfn].owner != d->id || mfn == d->shinfo_mfn) {
            return -ENXIO;
        }
        gpfn = hv->frames[mfn].gpfn;
    }
    if (hv->frames[mfn].mem) {
        /* shared through gntalloc: its grant must end first */
        return -EBUSY;
    }
    if (gpfn < d->p2m_size && d->p2m[gpfn] == mfn) {
        d->p2m[gpfn] = HV_INVALID_MFN;
    }
    if (mfn == d->shinfo_mfn) {
        /* the shared_info page leaves the physmap but stays allocated */
        d->shinfo_gpfn = HV_INVALID_GPFN;
        hv->frames[mfn].gpfn = HV_INVALID_GPFN;
        return 0;
    }
    hv_frame_free(hv, mfn);
    d->tot_pages--;
    return 0;
}

/* Resolve a domid argument: DOMID_SELF, the caller, or (dom0) anyone. */
static struct hv_domain *target_domain(struct hv_call *c, domid_t id, int *err)
{
    struct hv_domain *t;

    if (id == DOMID_SELF || id == c->d->id) {
        return c->d;
    }
    t = hv_domain_find(c->hv, id);
    if (!t) {
        *err = -ESRCH;
        return NULL;
    }
    if (!c->d->privileged) {
        *err = -EPERM;
        return NULL;
    }
    return t;
}

struct resv_args {
    struct xen_memory_reservation r;
    struct hv_domain *d;
    uint64_t done;
};

static uint64_t extent_addr(const struct resv_args *a, uint64_t i)
{
    return (uint64_t)(uintptr_t)a->r.extent_start.p + i * sizeof(xen_pfn_t);
}

static int put_extent(struct hv_call *c, struct resv_args *a, uint64_t i,
                      uint64_t val)
{
    xen_pfn_t v = val;

    return copy_to_guest(c->gm, extent_addr(a, i), &v, sizeof(v));
}

static int get_extent(struct hv_call *c, struct resv_args *a, uint64_t i,
                      uint64_t *val)
{
    xen_pfn_t v;
    int rc = copy_from_guest(c->gm, &v, extent_addr(a, i), sizeof(v));

    *val = v;
    return rc;
}

static void increase_reservation(struct hv_call *c, struct resv_args *a)
{
    bool report = a->r.extent_start.p != NULL && !a->d->translated;

    for (; a->done < a->r.nr_extents; a->done++) {
        uint64_t mfn;
        if (report && !guest_range_ok(c->gm, extent_addr(a, a->done),
                                      sizeof(xen_pfn_t), GM_OUT)) {
            return;
        }
        if (hv_alloc_extent(c->hv, a->d, a->r.extent_order, HV_INVALID_GPFN,
                            &mfn)) {
            return;
        }
        /* a PV guest learns the machine address of its new extent */
        if (report && put_extent(c, a, a->done, mfn)) {
            return;
        }
    }
}

static void populate_physmap(struct hv_call *c, struct resv_args *a)
{
    for (; a->done < a->r.nr_extents; a->done++) {
        uint64_t gpfn, mfn;
        if (get_extent(c, a, a->done, &gpfn)) {
            return;
        }
        if (gpfn == HV_INVALID_GPFN) {
            return; /* INVALID_GFN is no place for a page */
        }
        if (!a->d->translated && !guest_range_ok(c->gm, extent_addr(a, a->done),
                                                 sizeof(xen_pfn_t), GM_OUT)) {
            return;
        }
        if (hv_alloc_extent(c->hv, a->d, a->r.extent_order, gpfn, &mfn)) {
            return;
        }
        if (!a->d->translated) {
            put_extent(c, a, a->done, mfn);
        }
    }
}

static void decrease_reservation(struct hv_call *c, struct resv_args *a)
{
    for (; a->done < a->r.nr_extents; a->done++) {
        uint64_t gmfn;
        if (get_extent(c, a, a->done, &gmfn)) {
            return;
        }
        for (uint64_t j = 0; j < (1ull << a->r.extent_order); j++) {
            if (remove_page(c->hv, a->d, gmfn + j)) {
                return;
            }
        }
    }
}

/* Every failure of these is reported as the count of extents done. */
static int64_t memory_reservation(struct hv_call *c, unsigned int op,
                                  uint64_t start, uint64_t arg)
{
    struct resv_args a = {.done = start};
    unsigned int max_order =
        c->d->privileged ? CTLDOM_MAX_ORDER : DOMU_MAX_ORDER;
    int err = 0;

    if (copy_from_guest(c->gm, &a.r, arg, sizeof(a.r))) {
        return (int64_t)start;
    }
    /* the continuation encoding bounds nr_extents */
    if (a.r.nr_extents > (UINT_MAX >> MEMOP_EXTENT_SHIFT) ||
        start >= a.r.nr_extents) {
        return (int64_t)start;
    }
    a.d = target_domain(c, a.r.domid, &err);
    if (!a.d) {
        return (int64_t)start;
    }
    if (a.r.extent_order > max_order) {
        return (int64_t)start;
    }
    /* XENMEMF_address_bits(n) must leave room above a page */
    unsigned int bits = a.r.mem_flags & 0xff;
    if (bits != 0 && bits <= XEN_PAGE_SHIFT) {
        return (int64_t)start;
    }
    switch (op) {
    case XENMEM_increase_reservation:
        increase_reservation(c, &a);
        break;
    case XENMEM_decrease_reservation:
        decrease_reservation(c, &a);
        break;
    case XENMEM_populate_physmap:
        populate_physmap(c, &a);
        break;
    }
    return (int64_t)a.done;
}

static int64_t add_to_physmap(struct hv_call *c, uint64_t start, uint64_t arg)
{
    struct xen_add_to_physmap x;
    struct hv_domain *d;
    uint64_t old;
    int err = 0;

    if (start != (uint16_t)start) {
        return -EDOM;
    }
    if (copy_from_guest(c->gm, &x, arg, sizeof(x))) {
        return -EFAULT;
    }
    if (x.space == XENMAPSPACE_gmfn_foreign) {
        return -ENOSYS; /* only through add_to_physmap_batch */
    }
    /* Xen's order: the domain (-ESRCH), a translated one (-EACCES),
     * then XSM (-EPERM) */
    d = x.domid == DOMID_SELF ? c->d : hv_domain_find(c->hv, x.domid);
    if (!d) {
        return -ESRCH;
    }
    if (!d->translated) {
        return -EACCES; /* a PV guest has no physmap of Xen's */
    }
    d = target_domain(c, x.domid, &err);
    if (!d) {
        return err;
    }
    /* grant_table frames arrive with grant tables; gmfn moves and MMIO are
     * not offered to process domains: Xen's answer for those is -EINVAL */
    if (x.space != XENMAPSPACE_shared_info || x.idx != 0 ||
        x.gpfn >= d->p2m_size) {
        return -EINVAL;
    }
    old = d->p2m[x.gpfn];
    if (old == d->shinfo_mfn) {
        return 0;
    }
    /* whatever RAM was at gpfn goes back to the heap, as in Xen */
    if (old != HV_INVALID_MFN) {
        int rc = remove_page(c->hv, d, x.gpfn);
        if (rc) {
            return rc; /* a page shared through gntalloc stays */
        }
    }
    /* the page moves if it was mapped elsewhere */
    if (d->shinfo_gpfn != HV_INVALID_GPFN) {
        d->p2m[d->shinfo_gpfn] = HV_INVALID_MFN;
    }
    d->shinfo_gpfn = x.gpfn;
    d->p2m[x.gpfn] = d->shinfo_mfn;
    c->hv->frames[d->shinfo_mfn].gpfn = x.gpfn;
    return 0;
}

int64_t do_memory_op(struct hv_call *c, const uint64_t *a)
{
    unsigned int op = (unsigned int)(a[0] & MEMOP_CMD_MASK);
    uint64_t start = a[0] >> MEMOP_EXTENT_SHIFT;
    uint64_t arg = a[1];
    struct hv_domain *d;
    int err = 0;

    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return memory_reservation(c, op, start, arg);
    case XENMEM_add_to_physmap:
        return add_to_physmap(c, start, arg);
    case XENMEM_maximum_ram_page:
        return start ? -EINVAL : (int64_t)c->hv->nr_frames;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation: {
        struct xen_memory_domain md;
        if (start) {
            return -EINVAL;
        }
        if (copy_from_guest(c->gm, &md, arg, sizeof(md))) {
            return -EFAULT;
        }
        d = target_domain(c, md.domid, &err);
        if (!d) {
            return err;
        }
        return (int64_t)(op == XENMEM_current_reservation ? d->tot_pages
                                                          : d->max_pages);
    }
    }
    return -ENOSYS;
}
