/* SPDX-License-Identifier: MIT */
/*
 * iommu.c - the emulated type1 IOMMU: an AVL tree of mappings keyed by
 * IOVA, and MAP_DMA / UNMAP_DMA / translation with the checks of Linux's
 * vfio_iommu_type1.c (vfio_dma_do_map, vfio_dma_do_unmap,
 * vfio_iommu_iova_dma_valid), in the kernel's order so that a request
 * breaking two rules fails the way it fails there.
 *
 * Every range is handled by its inclusive last byte (iova + size - 1),
 * never by iova + size, which is 0 for a mapping that ends at the top of a
 * 64-bit space.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommu.h"

struct node {
    struct node *l, *r;
    int h;
    struct iommu_mapping m;
};

struct iommu {
    struct iommu_config cfg;
    uint64_t pgsize; /* lowest bit of cfg.pgsize_bitmap */
    bool v2;
    struct node *root;
    uint32_t count;
    size_t nalloc; /* live allocations: the leak check */
};

static uint64_t last_of(const struct iommu_mapping *m)
{
    return m->iova + (m->size - 1);
}

/* ---- configuration ---- */

void iommu_config_default(struct iommu_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ranges[0].start = 0;
    cfg->ranges[0].end = IOMMU_DEFAULT_LAST;
    cfg->nranges = 1;
    cfg->dma_entry_limit = IOMMU_DEFAULT_LIMIT;
    cfg->pgsize_bitmap = IOMMU_PAGE_SIZE;
}

int iommu_config_check(const struct iommu_config *cfg)
{
    uint64_t pg = cfg->pgsize_bitmap & -cfg->pgsize_bitmap;

    if (pg < IOMMU_PAGE_SIZE || !cfg->nranges ||
        cfg->nranges > IOMMU_MAX_RANGES) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < cfg->nranges; i++) {
        const struct vfio_iova_range *r = &cfg->ranges[i];

        if (r->start > r->end || (r->start & (pg - 1)) ||
            ((r->end + 1) & (pg - 1))) {
            return -EINVAL;
        }
        /* sorted, disjoint and not adjacent: the kernel's ranges are the
         * aperture minus reserved regions, never two touching pieces */
        if (i && (cfg->ranges[i - 1].end == UINT64_MAX ||
                  r->start <= cfg->ranges[i - 1].end + 1)) {
            return -EINVAL;
        }
    }
    return 0;
}

/* ---- the AVL tree ---- */

static int height(const struct node *n)
{
    return n ? n->h : 0;
}

static void fix_height(struct node *n)
{
    int hl = height(n->l), hr = height(n->r);

    n->h = 1 + (hl > hr ? hl : hr);
}

static struct node *rotate_right(struct node *y)
{
    struct node *x = y->l;

    y->l = x->r;
    x->r = y;
    fix_height(y);
    fix_height(x);
    return x;
}

static struct node *rotate_left(struct node *x)
{
    struct node *y = x->r;

    x->r = y->l;
    y->l = x;
    fix_height(x);
    fix_height(y);
    return y;
}

static struct node *balance(struct node *n)
{
    int bf;

    fix_height(n);
    bf = height(n->l) - height(n->r);
    if (bf > 1) {
        if (height(n->l->l) < height(n->l->r)) {
            n->l = rotate_left(n->l);
        }
        return rotate_right(n);
    }
    if (bf < -1) {
        if (height(n->r->r) < height(n->r->l)) {
            n->r = rotate_right(n->r);
        }
        return rotate_left(n);
    }
    return n;
}

static struct node *insert(struct node *n, struct node *x)
{
    if (!n) {
        return x;
    }
    if (x->m.iova < n->m.iova) {
        n->l = insert(n->l, x);
    } else {
        n->r = insert(n->r, x);
    }
    return balance(n);
}

static struct node *remove_min(struct node *n, struct node **min)
{
    if (!n->l) {
        *min = n;
        return n->r;
    }
    n->l = remove_min(n->l, min);
    return balance(n);
}

/* Unlinks the node keyed iova (it must exist) into *gone. */
static struct node *remove_key(struct node *n, uint64_t iova,
                               struct node **gone)
{
    if (iova < n->m.iova) {
        n->l = remove_key(n->l, iova, gone);
    } else if (iova > n->m.iova) {
        n->r = remove_key(n->r, iova, gone);
    } else {
        struct node *l = n->l, *r = n->r, *m;

        *gone = n;
        if (!r) {
            return l;
        }
        r = remove_min(r, &m);
        m->r = r;
        m->l = l;
        return balance(m);
    }
    return balance(n);
}

/* the node containing iova */
static const struct node *find(const struct node *n, uint64_t iova)
{
    while (n) {
        if (iova < n->m.iova) {
            n = n->l;
        } else if (iova > last_of(&n->m)) {
            n = n->r;
        } else {
            return n;
        }
    }
    return NULL;
}

/*
 * The first node (lowest iova) whose last byte is >= a.  Mappings are
 * disjoint and sorted, so their last bytes are sorted too.
 */
static const struct node *first_ending_at_or_after(const struct node *n,
                                                   uint64_t a)
{
    const struct node *best = NULL;

    while (n) {
        if (last_of(&n->m) >= a) {
            best = n;
            n = n->l;
        } else {
            n = n->r;
        }
    }
    return best;
}

/* the node with the lowest iova >= from */
static const struct node *lower_bound(const struct node *n, uint64_t from)
{
    const struct node *best = NULL;

    while (n) {
        if (n->m.iova >= from) {
            best = n;
            n = n->l;
        } else {
            n = n->r;
        }
    }
    return best;
}

/* the first mapping overlapping [a, b] (inclusive), or NULL */
static const struct node *first_overlap(const struct node *root, uint64_t a,
                                        uint64_t b)
{
    const struct node *n = first_ending_at_or_after(root, a);

    return n && n->m.iova <= b ? n : NULL;
}

static void free_tree(struct iommu *io, struct node *n, iommu_unmapped_fn fn,
                      void *opaque, uint64_t *sum)
{
    /* in order, so fn sees IOVA order; depth is bounded by the AVL height */
    while (n) {
        struct node *r = n->r;

        free_tree(io, n->l, fn, opaque, sum);
        *sum += n->m.size;
        if (fn) {
            fn(opaque, &n->m);
        }
        free(n);
        io->nalloc--;
        n = r;
    }
}

/* ---- the IOMMU ---- */

int iommu_new(struct iommu **out, const struct iommu_config *cfg, bool v2)
{
    struct iommu *io;

    if (iommu_config_check(cfg)) {
        return -EINVAL;
    }
    io = calloc(1, sizeof(*io));
    if (!io) {
        return -ENOMEM;
    }
    io->nalloc = 1;
    io->cfg = *cfg;
    io->pgsize = cfg->pgsize_bitmap & -cfg->pgsize_bitmap;
    io->v2 = v2;
    *out = io;
    return 0;
}

size_t iommu_free(struct iommu *io)
{
    uint64_t sum = 0;
    size_t left;

    if (!io) {
        return 0;
    }
    free_tree(io, io->root, NULL, NULL, &sum);
    io->root = NULL;
    left = io->nalloc - 1;
    free(io);
    return left;
}

bool iommu_is_v2(const struct iommu *io)
{
    return io->v2;
}

const struct iommu_config *iommu_get_config(const struct iommu *io)
{
    return &io->cfg;
}

uint32_t iommu_count(const struct iommu *io)
{
    return io->count;
}

uint32_t iommu_avail(const struct iommu *io)
{
    return io->cfg.dma_entry_limit - io->count;
}

static bool iova_valid(const struct iommu *io, uint64_t start, uint64_t last)
{
    for (uint32_t i = 0; i < io->cfg.nranges; i++) {
        if (start >= io->cfg.ranges[i].start && last <= io->cfg.ranges[i].end) {
            return true;
        }
    }
    return false;
}

int iommu_map(struct iommu *io, uint64_t iova, uint64_t vaddr, uint64_t size,
              uint32_t prot, uint64_t cookie)
{
    uint64_t iova_last, vaddr_last;
    struct node *n;

    /* vfio_dma_do_map, 6.18: size, then wraps, then the rest */
    if (!size) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(iova, size - 1, &iova_last) ||
        __builtin_add_overflow(vaddr, size - 1, &vaddr_last)) {
        return -EOVERFLOW;
    }
    if (!(prot & (IOMMU_PROT_READ | IOMMU_PROT_WRITE)) ||
        (prot & ~(uint32_t)(IOMMU_PROT_READ | IOMMU_PROT_WRITE))) {
        return -EINVAL;
    }
    if ((size | iova | vaddr) & (io->pgsize - 1)) {
        return -EINVAL;
    }
    if (first_overlap(io->root, iova, iova_last)) {
        return -EEXIST;
    }
    if (io->count >= io->cfg.dma_entry_limit) {
        return -ENOSPC;
    }
    if (!iova_valid(io, iova, iova_last)) {
        return -EINVAL;
    }
    n = calloc(1, sizeof(*n));
    if (!n) {
        return -ENOMEM;
    }
    io->nalloc++;
    n->h = 1;
    n->m.iova = iova;
    n->m.size = size;
    n->m.vaddr = vaddr;
    n->m.cookie = cookie;
    n->m.prot = prot;
    io->root = insert(io->root, n);
    io->count++;
    return 0;
}

static void drop(struct iommu *io, uint64_t key, iommu_unmapped_fn fn,
                 void *opaque)
{
    struct node *gone = NULL;

    io->root = remove_key(io->root, key, &gone);
    io->count--;
    if (fn) {
        fn(opaque, &gone->m);
    }
    free(gone);
    io->nalloc--;
}

int iommu_unmap(struct iommu *io, uint64_t iova, uint64_t size, uint32_t flags,
                uint64_t *unmapped, iommu_unmapped_fn fn, void *opaque)
{
    bool all = flags & VFIO_DMA_UNMAP_FLAG_ALL;
    uint64_t last, sum = 0;
    const struct node *n;

    if (flags & ~(uint32_t)VFIO_DMA_UNMAP_FLAG_ALL) {
        return -EINVAL;
    }
    /* vfio_dma_do_unmap, 6.18 */
    if (iova & (io->pgsize - 1)) {
        return -EINVAL;
    }
    if (all) {
        if (iova || size) {
            return -EINVAL;
        }
        *unmapped = iommu_unmap_all(io, fn, opaque);
        return 0;
    }
    if (!size || (size & (io->pgsize - 1))) {
        return -EINVAL;
    }
    if (__builtin_add_overflow(iova, size - 1, &last)) {
        return -EOVERFLOW;
    }
    if (io->v2) {
        /* no bisecting: the first and the last byte must not fall inside
         * a mapping that does not start (end) there */
        n = find(io->root, iova);
        if (n && n->m.iova != iova) {
            return -EINVAL;
        }
        n = find(io->root, last);
        if (n && last_of(&n->m) != last) {
            return -EINVAL;
        }
    }
    n = first_overlap(io->root, iova, last);
    /* v1: a request starting inside a mapping unmaps nothing, successfully
     * (the kernel's loop breaks on it); otherwise every mapping that starts
     * in the range goes whole, even past its end */
    if (n && !io->v2 && n->m.iova < iova) {
        n = NULL;
    }
    while (n && n->m.iova <= last) {
        uint64_t key = n->m.iova;

        sum += n->m.size;
        drop(io, key, fn, opaque);
        n = lower_bound(io->root, key);
    }
    *unmapped = sum;
    return 0;
}

uint64_t iommu_unmap_all(struct iommu *io, iommu_unmapped_fn fn, void *opaque)
{
    uint64_t sum = 0;

    free_tree(io, io->root, fn, opaque, &sum);
    io->root = NULL;
    io->count = 0;
    return sum;
}

static int fault(struct iommu_fault *f, uint32_t reason, uint64_t iova)
{
    if (f) {
        f->reason = reason;
        f->iova = iova;
    }
    return -EFAULT;
}

int iommu_translate(const struct iommu *io, uint64_t iova, uint64_t len,
                    bool write, struct iommu_seg *segs, size_t max,
                    size_t *nsegs, struct iommu_fault *f)
{
    uint32_t need = write ? IOMMU_PROT_WRITE : IOMMU_PROT_READ;
    uint64_t last, cur = iova;
    const struct node *n;
    size_t k = 0;

    *nsegs = 0;
    if (!len) {
        return 0;
    }
    if (__builtin_add_overflow(iova, len - 1, &last)) {
        return fault(f, IOMMU_FAULT_OVERFLOW, iova);
    }
    n = find(io->root, cur);
    for (;;) {
        uint64_t seg_last;

        if (!n || n->m.iova > cur) {
            return fault(f, IOMMU_FAULT_UNMAPPED, cur);
        }
        if (!(n->m.prot & need)) {
            return fault(f, IOMMU_FAULT_PERM, cur);
        }
        if (k == max) {
            return -E2BIG;
        }
        seg_last = last_of(&n->m) < last ? last_of(&n->m) : last;
        segs[k].iova = cur;
        segs[k].len = seg_last - cur + 1;
        segs[k].offset = cur - n->m.iova;
        segs[k].vaddr = n->m.vaddr + segs[k].offset;
        segs[k].cookie = n->m.cookie;
        segs[k].prot = n->m.prot;
        k++;
        if (seg_last == last) {
            break;
        }
        cur = seg_last + 1;
        n = lower_bound(io->root, cur);
    }
    *nsegs = k;
    return 0;
}

int iommu_lookup(const struct iommu *io, uint64_t iova,
                 struct iommu_mapping *out)
{
    const struct node *n = find(io->root, iova);

    if (!n) {
        return -ENOENT;
    }
    *out = n->m;
    return 0;
}

int iommu_next(const struct iommu *io, uint64_t from, struct iommu_mapping *out)
{
    const struct node *n = lower_bound(io->root, from);

    if (!n) {
        return -ENOENT;
    }
    *out = n->m;
    return 0;
}

static int walk(const struct node *n,
                int (*fn)(void *opaque, const struct iommu_mapping *m),
                void *opaque)
{
    while (n) {
        int rc = walk(n->l, fn, opaque);

        if (rc) {
            return rc;
        }
        rc = fn(opaque, &n->m);
        if (rc) {
            return rc;
        }
        n = n->r;
    }
    return 0;
}

int iommu_foreach(const struct iommu *io,
                  int (*fn)(void *opaque, const struct iommu_mapping *m),
                  void *opaque)
{
    return walk(io->root, fn, opaque);
}

/* ---- invariants ---- */

struct check {
    const struct iommu *io;
    uint32_t count;
    bool have_prev;
    uint64_t prev_last;
};

static int check_node(const struct node *n, struct check *c)
{
    int hl, hr;

    if (!n) {
        return 0;
    }
    if (check_node(n->l, c)) {
        return -EIO;
    }
    if (!n->m.size ||
        ((n->m.iova | n->m.size | n->m.vaddr) & (c->io->pgsize - 1))) {
        return -EIO;
    }
    if (n->m.iova + (n->m.size - 1) < n->m.iova ||
        !iova_valid(c->io, n->m.iova, last_of(&n->m))) {
        return -EIO;
    }
    if (!(n->m.prot & (IOMMU_PROT_READ | IOMMU_PROT_WRITE))) {
        return -EIO;
    }
    if (c->have_prev && n->m.iova <= c->prev_last) {
        return -EIO; /* unsorted or overlapping */
    }
    c->have_prev = true;
    c->prev_last = last_of(&n->m);
    c->count++;
    hl = height(n->l);
    hr = height(n->r);
    if (n->h != 1 + (hl > hr ? hl : hr) || hl - hr > 1 || hr - hl > 1) {
        return -EIO;
    }
    return check_node(n->r, c);
}

int iommu_check(const struct iommu *io)
{
    struct check c = {io, 0, false, 0};

    if (check_node(io->root, &c)) {
        return -EIO;
    }
    if (c.count != io->count || io->count > io->cfg.dma_entry_limit ||
        io->nalloc != (size_t)io->count + 1) {
        return -EIO;
    }
    return 0;
}
