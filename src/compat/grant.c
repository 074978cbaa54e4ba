/* SPDX-License-Identifier: MIT */
/*
 * grant.c - /dev/xen/gntalloc and /dev/xen/gntdev, as Linux's drivers
 * behave (reference/xen-semantics.md 3.1-3.2, xen-userspace-abi.md 2.8),
 * for libxengnttab.
 *
 * Each descriptor has its own connection to the hypervisor, which owns the
 * grants and mappings it makes: when the process dies, the connection
 * closes and the hypervisor unmaps, applies the unmap notifications and
 * ends access, as Linux does.  The connection lives as long as the
 * descriptor or any of its mappings (the mapping holds the device).
 *
 * gntalloc: ALLOC_GREF returns one memfd with the pages; we keep a
 * read-write "master" mapping of it and serve each mmap by duplicating
 * pages of the master (mremap with old size 0), so a read-only grant the
 * hypervisor sealed can still be mapped writable by its owner.
 *
 * gntdev: MAP_GRANT_REF only records refs; mmap asks the hypervisor to map
 * them and places each page (MAP_FIXED) from the descriptors it returns.
 *
 * Mappings are tracked here page by page, so munmap of a whole or partial
 * range, a MAP_FIXED mapping over one, or process death release what
 * Linux would release.  A forked child does not keep them (its fork
 * handler unmaps them), as a gntdev mapping is VM_DONTCOPY.
 *
 * Locking: one lock guards all grant-device state and the mapping
 * registry (grant_lock); hypervisor calls are made with it held, so the
 * registry never disagrees with the hypervisor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xen_abi.h"
#include <xen/sys/gntalloc.h>
#include <xen/sys/gntdev.h>

#include "shim.h"

_Static_assert(IOCTL_GNTALLOC_ALLOC_GREF == 0x00184705, "ioctl number");
_Static_assert(IOCTL_GNTALLOC_DEALLOC_GREF == 0x00104706, "ioctl number");
_Static_assert(IOCTL_GNTALLOC_SET_UNMAP_NOTIFY == 0x00104707, "ioctl number");
_Static_assert(IOCTL_GNTDEV_MAP_GRANT_REF == 0x00184700, "ioctl number");
_Static_assert(IOCTL_GNTDEV_UNMAP_GRANT_REF == 0x00104701, "ioctl number");
_Static_assert(IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR == 0x00184702, "ioctl number");
_Static_assert(IOCTL_GNTDEV_SET_UNMAP_NOTIFY == 0x00104707, "ioctl number");
_Static_assert(IOCTL_GNTDEV_GRANT_COPY == 0x00104708, "ioctl number");
_Static_assert(offsetof(struct ioctl_gntalloc_alloc_gref, gref_ids) == 16,
               "alloc_gref layout");
_Static_assert(sizeof(struct ioctl_gntdev_grant_copy_segment) == 24,
               "grant_copy_segment layout");
_Static_assert(offsetof(struct ioctl_gntdev_grant_copy_segment, status) == 20,
               "grant_copy_segment layout");
_Static_assert(sizeof(struct ioctl_gntdev_grant_copy) == 16,
               "grant_copy layout");

#define PAGE         4096ull
#define GNTDEV_LIMIT 65536u /* gntdev's `limit` module parameter */
#define NO_HANDLE    UINT32_MAX

/* ---- state ---- */

struct ga_alloc {   /* one ALLOC_GREF */
    uint64_t index; /* byte offset in the descriptor */
    uint64_t id;    /* the hypervisor's name for it */
    uint32_t count;
    uint32_t left; /* pages not yet freed */
    uint8_t *master;
    uint32_t *users; /* per page: 1 while listed in the fd, + 1 per mapping */
    bool *listed;
    struct ga_alloc *next;
};

struct gd_map {     /* one MAP_GRANT_REF */
    uint64_t index; /* in pages */
    uint32_t count;
    bool listed;  /* not yet UNMAP_GRANT_REF'd */
    bool mmapped; /* mmap can happen once */
    bool readonly;
    uint32_t live; /* pages still mapped */
    struct ioctl_gntdev_grant_ref *refs;
    uint32_t *handles; /* NO_HANDLE once the page is unmapped */
    uint32_t notify, notify_port;
    uint64_t notify_off; /* byte in the map */
    struct gd_map *next;
};

struct gnt_dev {
    uint64_t next_index; /* gntalloc: never reused */
    struct ga_alloc *allocs;
    struct gd_map *maps; /* gntdev: sorted by index */
    /* gntdev: the descriptor cache the hypervisor mirrors (proto.h) */
    int fdcache[PV_GNTMAP_BATCH];
    uint64_t fdcache_mem[PV_GNTMAP_BATCH]; /* which memory each one is */
    bool fdcache_reset; /* emptied: say so with the next MAP */
};

/* A range this process mapped from a grant device. */
struct gvma {
    uintptr_t start;
    uint32_t npages, nmapped;
    uint8_t *mapped;      /* per page */
    struct shim_dev *dev; /* a reference: the device lives while mapped */
    struct gd_map *map;   /* gntdev */
    uint64_t first;       /* gntalloc: byte index of the first page */
    struct gvma *next;
};

/* guards every gnt_dev, the registry below and grant hypervisor calls */
static pthread_mutex_t grant_lock = PTHREAD_MUTEX_INITIALIZER;
/* this thread holds grant_lock: an allocator that calls the (hooked)
 * munmap or mmap from inside our own malloc/free must not wait for it */
static __thread bool grant_locked;

static void grant_lock_take(void)
{
    pthread_mutex_lock(&grant_lock);
    grant_locked = true;
}

static void grant_lock_give(void)
{
    grant_locked = false;
    pthread_mutex_unlock(&grant_lock);
}
static struct gvma *vmas;
static int nr_vmas; /* read without the lock by the munmap fast path */

static int fail(int e)
{
    errno = e;
    return -1;
}

int grant_open(struct shim_dev *dev, int flags)
{
    int rc = shim_connect_domain(&dev->conn);

    if (rc) {
        return rc;
    }
    dev->gnt = calloc(1, sizeof(struct gnt_dev));
    for (unsigned int i = 0; dev->gnt && i < PV_GNTMAP_BATCH; i++) {
        dev->gnt->fdcache[i] = -1;
    }
    /* the program's descriptor is a placeholder; the connection is ours
     * and outlives it while pages are mapped */
    dev->fd = shim_real.open("/dev/null", O_RDWR | (flags & O_CLOEXEC));
    if (!dev->gnt || dev->fd < 0) {
        rc = dev->fd < 0 ? -errno : -ENOMEM;
        if (dev->fd >= 0) {
            shim_real.close(dev->fd);
        }
        free(dev->gnt);
        pvc_fini(&dev->conn);
        return rc;
    }
    return 0;
}

static void alloc_free(struct ga_alloc *a)
{
    if (a->master) {
        shim_real.munmap(a->master, a->count * PAGE);
    }
    free(a->users);
    free(a->listed);
    free(a);
}

/* Out of step with the hypervisor's mirror: empty it, and say so. */
static void fdcache_reset(struct gnt_dev *g)
{
    for (unsigned int i = 0; i < PV_GNTMAP_BATCH; i++) {
        if (g->fdcache[i] >= 0) {
            shim_real.close(g->fdcache[i]);
        }
        g->fdcache[i] = -1;
        g->fdcache_mem[i] = 0;
    }
    g->fdcache_reset = true;
}

static void map_free(struct gd_map *m)
{
    free(m->refs);
    free(m->handles);
    free(m);
}

/* The device is gone: its connection's close releases everything the
 * hypervisor holds for it. */
void grant_release(struct shim_dev *dev)
{
    struct gnt_dev *g = dev->gnt;

    if (!g) {
        return;
    }
    while (g->allocs) {
        struct ga_alloc *n = g->allocs->next;
        alloc_free(g->allocs);
        g->allocs = n;
    }
    while (g->maps) {
        struct gd_map *n = g->maps->next;
        map_free(g->maps);
        g->maps = n;
    }
    for (unsigned int i = 0; i < PV_GNTMAP_BATCH; i++) {
        if (g->fdcache[i] >= 0) {
            shim_real.close(g->fdcache[i]);
        }
    }
    free(g);
    dev->gnt = NULL;
}

/* ---- gntalloc ---- */

static struct ga_alloc *alloc_at(struct gnt_dev *g, uint64_t index,
                                 uint32_t *page)
{
    for (struct ga_alloc *a = g->allocs; a; a = a->next) {
        if (index >= a->index && index < a->index + a->count * PAGE) {
            *page = (uint32_t)((index - a->index) / PAGE);
            return a;
        }
    }
    return NULL;
}

/* Linux's find_grefs: count pages from index, contiguous in the fd's list
 * (allocations are listed in index order, so runs may span them). */
static bool grefs_listed(struct gnt_dev *g, uint64_t index, uint64_t count)
{
    if (count == 0 || (index & (PAGE - 1))) {
        return false;
    }
    for (uint64_t i = 0; i < count; i++) {
        uint32_t pg;
        struct ga_alloc *a = alloc_at(g, index + i * PAGE, &pg);
        if (!a || !a->listed[pg]) {
            return false;
        }
    }
    return true;
}

/* Tell the hypervisor a run of pages lost their last local user. */
static void pages_free(struct shim_dev *dev, struct ga_alloc *a, uint32_t first,
                       uint32_t n)
{
    struct pv_gntalloc_free_req req = {.id = a->id, .first = first, .count = n};

    pvc_call(&dev->conn, PV_MSG_GNTALLOC_FREE, &req, sizeof(req), NULL, 0, NULL,
             NULL);
    a->left -= n;
}

/* Drop a user of pages [first, first+n) of a; free those reaching 0. */
static void users_put(struct shim_dev *dev, struct ga_alloc *a, uint32_t first,
                      uint32_t n)
{
    struct gnt_dev *g = dev->gnt;
    uint32_t run = 0;

    for (uint32_t i = first; i <= first + n; i++) {
        bool zero = i < first + n && a->users[i] && --a->users[i] == 0;
        if (zero) {
            run++;
            continue;
        }
        if (run) {
            pages_free(dev, a, i - run, run);
            run = 0;
        }
    }
    if (a->left == 0) {
        struct ga_alloc **pp = &g->allocs;
        while (*pp != a) {
            pp = &(*pp)->next;
        }
        *pp = a->next;
        alloc_free(a);
    }
}

static int ga_alloc_gref(struct shim_dev *dev, uint64_t uarg)
{
    struct gnt_dev *g = dev->gnt;
    struct ioctl_gntalloc_alloc_gref op;
    struct pv_gntalloc_req req;
    struct pv_gntalloc_rep *rep;
    struct ga_alloc *a, **pp;
    size_t replen = 0;
    int fd = -1;
    int64_t r;

    if (pvc_peek_cached(&op, uarg, 16)) {
        return -EFAULT;
    }
    if (op.count == 0) {
        /* Linux allocates nothing and succeeds */
        op.index = g->next_index;
        return pvc_poke_cached(uarg + 8, &op.index, sizeof(op.index));
    }
    if (op.count > PV_GNTALLOC_MAX) {
        return -ENOSPC; /* over any limit: refused before allocating */
    }
    req.domid = op.domid;
    req.flags = op.flags;
    req.count = op.count;
    size_t cap = sizeof(*rep) + (size_t)op.count * sizeof(uint32_t);
    rep = malloc(cap);
    a = calloc(1, sizeof(*a));
    if (!rep || !a) {
        free(rep);
        free(a);
        return -ENOMEM;
    }
    r = pvc_call(&dev->conn, PV_MSG_GNTALLOC, &req, sizeof(req), rep, cap,
                 &replen, &fd);
    if (r < 0 || fd < 0 || replen != cap) {
        if (fd >= 0) {
            shim_real.close(fd);
        }
        free(rep);
        free(a);
        return r < 0 ? (int)r : -EPROTO;
    }
    a->id = rep->id;
    a->count = a->left = op.count;
    a->users = malloc(op.count * sizeof(*a->users));
    a->listed = malloc(op.count * sizeof(*a->listed));
    a->master = shim_real.mmap(NULL, op.count * PAGE, PROT_READ | PROT_WRITE,
                               MAP_SHARED, fd, 0);
    shim_real.close(fd);
    if (!a->users || !a->listed || a->master == MAP_FAILED) {
        if (a->master == MAP_FAILED) {
            a->master = NULL;
        }
        struct pv_gntalloc_free_req fr = {.id = a->id, .count = op.count};
        pvc_call(&dev->conn, PV_MSG_GNTALLOC_FREE, &fr, sizeof(fr), NULL, 0,
                 NULL, NULL);
        alloc_free(a);
        free(rep);
        return -ENOMEM;
    }
    madvise(a->master, op.count * PAGE, MADV_DONTFORK);
    for (uint32_t i = 0; i < op.count; i++) {
        a->users[i] = 1;
        a->listed[i] = true;
    }
    /* the index advances in 64 bits and is never reused */
    a->index = g->next_index;
    g->next_index += (uint64_t)op.count * PAGE;
    for (pp = &g->allocs; *pp; pp = &(*pp)->next) {
    }
    *pp = a;
    op.index = a->index;
    /* a fault copying out leaves the grants allocated until close() */
    r = pvc_poke_cached(uarg + 8, &op.index, sizeof(op.index));
    if (r == 0) {
        r = pvc_poke(uarg + 16, (uint8_t *)rep + sizeof(*rep),
                     op.count * sizeof(uint32_t));
    }
    free(rep);
    return (int)r;
}

static int ga_dealloc_gref(struct shim_dev *dev, uint64_t uarg)
{
    struct gnt_dev *g = dev->gnt;
    struct ioctl_gntalloc_dealloc_gref op;

    if (pvc_peek_cached(&op, uarg, sizeof(op))) {
        return -EFAULT;
    }
    if (!grefs_listed(g, op.index, op.count)) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < op.count; i++) {
        uint32_t pg;
        struct ga_alloc *a = alloc_at(g, op.index + i * PAGE, &pg);
        a->listed[pg] = false;
        users_put(dev, a, pg, 1);
    }
    return 0;
}

static int ga_set_notify(struct shim_dev *dev, uint64_t uarg)
{
    struct gnt_dev *g = dev->gnt;
    struct ioctl_gntalloc_unmap_notify op;
    struct pv_gnt_notify_req req;
    struct ga_alloc *a;
    uint32_t pg;

    if (pvc_peek_cached(&op, uarg, sizeof(op))) {
        return -EFAULT;
    }
    if (!grefs_listed(g, op.index & ~(PAGE - 1), 1)) {
        return -ENOENT;
    }
    a = alloc_at(g, op.index, &pg);
    req.id = a->id;
    req.target = pg;
    req.off = (uint32_t)(op.index & (PAGE - 1));
    req.action = op.action;
    req.port = op.event_channel_port;
    return (int)pvc_call(&dev->conn, PV_MSG_GNT_NOTIFY, &req, sizeof(req), NULL,
                         0, NULL, NULL);
}

/* The program closed its gntalloc descriptor: the pages leave the fd (what
 * its mappings still use lives on), as Linux's release does. */
void grant_fd_closed(struct shim_dev *dev)
{
    struct ga_alloc *a, *next;

    if (dev->kind != SHIM_GNTALLOC || !dev->gnt) {
        return;
    }
    grant_lock_take();
    for (a = dev->gnt->allocs; a; a = next) {
        uint32_t last = UINT32_MAX;
        next = a->next;
        for (uint32_t i = 0; i < a->count; i++) {
            if (a->listed[i]) {
                last = i;
            }
        }
        /* users_put frees the record only with its last page: that is the
         * last listed one, if any */
        for (uint32_t i = 0; last != UINT32_MAX && i <= last; i++) {
            if (a->listed[i]) {
                a->listed[i] = false;
                users_put(dev, a, i, 1);
            }
        }
    }
    grant_lock_give();
}

/* ---- the mapping registry ---- */

static struct gvma *vma_new(struct shim_dev *dev, uintptr_t start,
                            uint32_t npages)
{
    struct gvma *v = calloc(1, sizeof(*v));

    if (!v || !(v->mapped = malloc(npages))) {
        free(v);
        return NULL;
    }
    memset(v->mapped, 1, npages);
    v->start = start;
    v->npages = v->nmapped = npages;
    v->dev = dev;
    __atomic_add_fetch(&dev->refs, 1, __ATOMIC_ACQ_REL);
    v->next = vmas;
    vmas = v;
    __atomic_add_fetch(&nr_vmas, 1, __ATOMIC_RELEASE);
    return v;
}

static void map_unlink(struct gnt_dev *g, struct gd_map *m)
{
    struct gd_map **pp = &g->maps;

    while (*pp && *pp != m) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = m->next;
    }
    map_free(m);
}

/* Unmap the handles of a gntdev map's pages in [first, first+n). */
static void map_pages_gone(struct shim_dev *dev, struct gd_map *m,
                           uint32_t first, uint32_t n)
{
    uint32_t h[PV_GNTMAP_BATCH + 2];
    struct pv_gntunmap_req *req = (struct pv_gntunmap_req *)h;
    uint32_t k = 0;

    for (uint32_t i = first; i <= first + n; i++) {
        if (i < first + n && m->handles[i] != NO_HANDLE) {
            h[2 + k++] = m->handles[i];
            m->handles[i] = NO_HANDLE;
            m->live--;
        }
        if (k == PV_GNTMAP_BATCH || (i == first + n && k)) {
            req->count = k;
            req->pad = 0;
            /* in order with this device's later requests; the unmap
             * notification is sent after it, by the hypervisor */
            pvc_post(&dev->conn, PV_MSG_GNTDEV_UNMAP, h,
                     sizeof(*req) + k * sizeof(uint32_t));
            k = 0;
        }
    }
    if (m->live == 0 && !m->listed) {
        map_unlink(dev->gnt, m);
    }
}

/*
 * The process no longer maps [start, start+len): account for every grant
 * page in it.  gntdev unmaps page by page; a gntalloc mapping drops its
 * users only when all of it is gone, as Linux's vma close does.
 */
static void vma_forget(uintptr_t start, size_t len)
{
    uintptr_t end = start + len;
    struct gvma **pp = &vmas;

    if (end < start) {
        end = UINTPTR_MAX;
    }
    while (*pp) {
        struct gvma *v = *pp;
        uintptr_t vend = v->start + v->npages * PAGE;
        if (vend <= start || v->start >= end) {
            pp = &v->next;
            continue;
        }
        uint32_t lo =
            start > v->start ? (uint32_t)((start - v->start) / PAGE) : 0;
        uint32_t hi = end < vend
                          ? (uint32_t)((end - v->start + PAGE - 1) / PAGE)
                          : v->npages;
        for (uint32_t i = lo; i < hi; i++) {
            if (v->mapped[i]) {
                v->mapped[i] = 0;
                v->nmapped--;
            }
        }
        if (v->map) {
            /* pages already gone have no handle left: one message */
            map_pages_gone(v->dev, v->map, lo, hi - lo);
        }
        if (v->nmapped) {
            pp = &v->next;
            continue;
        }
        *pp = v->next;
        __atomic_sub_fetch(&nr_vmas, 1, __ATOMIC_RELEASE);
        if (!v->map) {
            for (uint32_t i = 0; i < v->npages; i++) {
                uint32_t pg;
                struct ga_alloc *a =
                    alloc_at(v->dev->gnt, v->first + i * PAGE, &pg);
                if (a) {
                    users_put(v->dev, a, pg, 1);
                }
            }
        }
        shim_dev_put(v->dev);
        free(v->mapped);
        free(v);
    }
}

bool grant_maps_any(void)
{
    return __atomic_load_n(&nr_vmas, __ATOMIC_ACQUIRE) != 0;
}

int grant_munmap(void *addr, size_t len)
{
    bool held = grant_locked;
    int r;

    if (!held) {
        grant_lock_take();
    }
    r = shim_real.munmap(addr, len);
    if (r == 0) {
        vma_forget((uintptr_t)addr, (len + PAGE - 1) & ~(PAGE - 1));
    }
    if (!held) {
        grant_lock_give();
    }
    return r;
}

/* A new mapping replaced whatever was at [addr, addr+len). */
void grant_replaced(void *addr, size_t len)
{
    bool held = grant_locked;

    if (!held) {
        grant_lock_take();
    }
    vma_forget((uintptr_t)addr, (len + PAGE - 1) & ~(PAGE - 1));
    if (!held) {
        grant_lock_give();
    }
}

bool grant_overlaps(void *addr, size_t len)
{
    uintptr_t s = (uintptr_t)addr, e = s + len;
    bool hit = false;

    bool held = grant_locked;
    if (!held) {
        grant_lock_take();
    }
    for (struct gvma *v = vmas; v && !hit; v = v->next) {
        hit = v->start < e && s < v->start + v->npages * PAGE;
    }
    if (!held) {
        grant_lock_give();
    }
    return hit;
}

/* Reserve (or, MAP_FIXED, claim) the address range of a new mapping. */
static void *reserve(void *addr, size_t len, int flags)
{
    if (flags & MAP_FIXED) {
        vma_forget((uintptr_t)addr, len);
        return shim_real.mmap(addr, len, PROT_NONE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    }
    return shim_real.mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                          0);
}

static void *ga_mmap(struct shim_dev *dev, void *addr, size_t len, int prot,
                     int flags, uint64_t off, int *err)
{
    struct gnt_dev *g = dev->gnt;
    uint64_t n = len / PAGE;
    uint8_t *base;

    if (!(flags & MAP_SHARED)) {
        *err = EINVAL;
        return MAP_FAILED;
    }
    if (!grefs_listed(g, off, n)) {
        *err = ENOENT;
        return MAP_FAILED;
    }
    uint32_t pg0;
    struct ga_alloc *a0 = alloc_at(g, off, &pg0);
    if (a0->count - pg0 >= n && !(flags & MAP_FIXED)) {
        /* one allocation: a duplicate of the master's pages, wherever the
         * kernel puts it -- the same memory, with the master's write access
         * even where the hypervisor sealed it */
        base =
            shim_real.mremap(a0->master + pg0 * PAGE, 0, len, MREMAP_MAYMOVE);
        if (base == MAP_FAILED || (prot != (PROT_READ | PROT_WRITE) &&
                                   mprotect(base, len, prot) < 0)) {
            *err = errno == EACCES ? EACCES : EINVAL;
            if (base != MAP_FAILED) {
                shim_real.munmap(base, len);
            }
            return MAP_FAILED;
        }
    } else {
        base = reserve(addr, len, flags);
        if (base == MAP_FAILED) {
            *err = errno;
            return MAP_FAILED;
        }
    }
    for (uint64_t i = 0; base != a0->master && i < n;) {
        uint32_t pg;
        struct ga_alloc *a = alloc_at(g, off + i * PAGE, &pg);
        uint64_t run = a->count - pg < n - i ? a->count - pg : n - i;
        if (i == 0 && run == n && !(flags & MAP_FIXED)) {
            break; /* placed above */
        }
        void *p =
            shim_real.mremap(a->master + pg * PAGE, 0, run * PAGE,
                             MREMAP_MAYMOVE | MREMAP_FIXED, base + i * PAGE);
        if (p == MAP_FAILED || (prot != (PROT_READ | PROT_WRITE) &&
                                mprotect(p, run * PAGE, prot) < 0)) {
            *err = errno == EACCES ? EACCES : EINVAL;
            shim_real.munmap(base, len);
            return MAP_FAILED;
        }
        i += run;
    }
    struct gvma *v = vma_new(dev, (uintptr_t)base, (uint32_t)n);
    if (!v) {
        shim_real.munmap(base, len);
        *err = ENOMEM;
        return MAP_FAILED;
    }
    v->first = off;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t pg;
        struct ga_alloc *a = alloc_at(g, off + i * PAGE, &pg);
        a->users[pg]++;
    }
    return base;
}

/* ---- gntdev ---- */

static struct gd_map *map_at_index(struct gnt_dev *g, uint64_t index_bytes,
                                   uint32_t count)
{
    for (struct gd_map *m = g->maps; m; m = m->next) {
        if (m->listed && m->index * PAGE == index_bytes &&
            (count == 0 || m->count == count)) {
            return m;
        }
    }
    return NULL;
}

static int gd_map_grant_ref(struct shim_dev *dev, uint64_t uarg)
{
    struct gnt_dev *g = dev->gnt;
    struct ioctl_gntdev_map_grant_ref op;
    struct gd_map *m, **pp;
    uint64_t index = 0;

    if (pvc_peek_cached(&op, uarg, 16)) {
        return -EFAULT;
    }
    if (op.count == 0 || op.count > GNTDEV_LIMIT) {
        return -EINVAL;
    }
    m = calloc(1, sizeof(*m));
    if (m) {
        m->refs = malloc(op.count * sizeof(*m->refs));
        m->handles = malloc(op.count * sizeof(*m->handles));
    }
    if (!m || !m->refs || !m->handles) {
        if (m) {
            map_free(m);
        }
        return -ENOMEM;
    }
    /* libxengnttab builds a small request on its stack: the page the
     * header came from, read without a system call */
    if (pvc_peek_cached(m->refs, uarg + 16, op.count * sizeof(*m->refs))) {
        map_free(m);
        return -EFAULT;
    }
    for (uint32_t i = 0; i < op.count; i++) {
        m->handles[i] = NO_HANDLE;
    }
    /* the first gap that fits, in page units (maps are kept sorted) */
    for (pp = &g->maps; *pp; pp = &(*pp)->next) {
        if ((*pp)->index >= index + op.count) {
            break;
        }
        index = (*pp)->index + (*pp)->count;
    }
    m->index = index;
    m->count = op.count;
    m->listed = true;
    m->next = *pp;
    *pp = m;
    op.index = index * PAGE;
    /* a fault here leaves the map added, until close() */
    return pvc_poke_cached(uarg + 8, &op.index, sizeof(op.index));
}

/* Send a map's pending notification once it has handles. */
static int map_send_notify(struct shim_dev *dev, struct gd_map *m)
{
    struct pv_gnt_notify_req req = {0};
    uint32_t pg = (uint32_t)(m->notify_off / PAGE);

    if (!m->mmapped || pg >= m->count || m->handles[pg] == NO_HANDLE) {
        return 0;
    }
    req.target = m->handles[pg];
    req.off = (uint32_t)(m->notify_off % PAGE);
    req.action = m->notify;
    req.port = m->notify_port;
    return (int)pvc_call(&dev->conn, PV_MSG_GNT_NOTIFY, &req, sizeof(req), NULL,
                         0, NULL, NULL);
}

static void *gd_mmap(struct shim_dev *dev, void *addr, size_t len, int prot,
                     int flags, uint64_t off, int *err)
{
    struct gnt_dev *g = dev->gnt;
    uint64_t n = len / PAGE;
    struct gd_map *m =
        n <= UINT32_MAX ? map_at_index(g, off, (uint32_t)n) : NULL;
    uint8_t *base;
    uint8_t buf[sizeof(struct pv_gntmap_rep) +
                PV_GNTMAP_BATCH * sizeof(struct pv_gntmap_slot)];
    struct {
        struct pv_gntmap_req h;
        struct pv_gntref r[PV_GNTMAP_BATCH];
    } req;

    if (!m || m->mmapped) {
        *err = EINVAL;
        return MAP_FAILED;
    }
    if ((prot & PROT_WRITE) && !(flags & MAP_SHARED)) {
        *err = EINVAL;
        return MAP_FAILED;
    }
    base = NULL; /* placed with the first pages */
    m->readonly = !(prot & PROT_WRITE);
    for (uint32_t done = 0; done < m->count;) {
        uint32_t k = m->count - done < PV_GNTMAP_BATCH ? m->count - done
                                                       : PV_GNTMAP_BATCH;
        struct pv_gntmap_rep *rep = (struct pv_gntmap_rep *)buf;
        struct pv_gntmap_slot *slot = (struct pv_gntmap_slot *)(rep + 1);
        int fds[PV_GNTMAP_BATCH], nfds = PV_GNTMAP_BATCH;
        size_t got = 0;
        req.h.count = k;
        req.h.flags = (m->readonly ? PV_GNTMAP_READONLY : 0) |
                      (g->fdcache_reset ? PV_GNTMAP_RESET : 0);
        for (uint32_t i = 0; i < k; i++) {
            req.r[i].domid = m->refs[done + i].domid;
            req.r[i].ref = m->refs[done + i].ref;
        }
        int64_t r = pvc_call_fds(&dev->conn, PV_MSG_GNTDEV_MAP, &req,
                                 sizeof(req.h) + k * sizeof(req.r[0]), buf,
                                 sizeof(buf), &got, fds, &nfds);
        bool slots = r == 0 && got == sizeof(*rep) + k * sizeof(*slot);
        bool ok = slots && rep->nfds == (uint32_t)nfds;
        uint64_t filled = 0;
        if (ok) {
            g->fdcache_reset = false; /* the hypervisor emptied its mirror */
        }
        for (int i = 0; i < nfds; i++) {
            /* a descriptor for the cache, in the slot the reply says */
            uint16_t f = rep->fill[i];
            if (!ok || f >= PV_GNTMAP_BATCH) {
                shim_real.close(fds[i]);
                ok = false;
                continue;
            }
            if (g->fdcache[f] >= 0) {
                shim_real.close(g->fdcache[f]);
            }
            g->fdcache[f] = fds[i];
            filled |= 1ull << f;
        }
        for (uint32_t i = 0; ok && i < k; i++) {
            uint16_t f = slot[i].fd_idx;
            if (f < PV_GNTMAP_BATCH && (filled & (1ull << f))) {
                g->fdcache_mem[f] = slot[i].mem;
            }
            /* the descriptor must be the memory the hypervisor means */
            ok = f < PV_GNTMAP_BATCH && g->fdcache[f] >= 0 &&
                 g->fdcache_mem[f] == slot[i].mem;
        }
        for (uint32_t i = 0; slots && i < k; i++) {
            /* handles the hypervisor made are ours to unmap, even now */
            m->handles[done + i] = slot[i].handle;
            m->live++;
        }
        if (!ok) {
            fdcache_reset(g);
        }
        /* place each run of pages that sit together in one descriptor:
         * a map that is one run is one mmap, where the kernel likes */
        for (uint32_t i = 0; ok && i < k;) {
            uint32_t j = i + 1;
            while (j < k && slot[j].fd_idx == slot[i].fd_idx &&
                   slot[j].pgoff == slot[i].pgoff + (j - i)) {
                j++;
            }
            int fd = g->fdcache[slot[i].fd_idx];
            off_t at = (off_t)slot[i].pgoff * (off_t)PAGE;
            if (!base && j - i == m->count) {
                if (flags & MAP_FIXED) {
                    vma_forget((uintptr_t)addr, len);
                }
                base = shim_real.mmap(addr, len, prot,
                                      MAP_SHARED | (flags & MAP_FIXED), fd, at);
                ok = base != MAP_FAILED;
                if (!ok) {
                    base = NULL;
                }
            } else {
                if (!base) {
                    base = reserve(addr, len, flags);
                    if (base == MAP_FAILED) {
                        base = NULL;
                        ok = false;
                        break;
                    }
                }
                void *p =
                    shim_real.mmap(base + (done + i) * PAGE, (j - i) * PAGE,
                                   prot, MAP_SHARED | MAP_FIXED, fd, at);
                ok = p != MAP_FAILED;
            }
            i = j;
        }
        if (!ok) {
            /* any failure is EINVAL (never EAGAIN: libxengnttab would
             * retry forever), with nothing left mapped */
            map_pages_gone(dev, m, 0, m->count);
            if (base) {
                shim_real.munmap(base, len);
            }
            *err = EINVAL;
            return MAP_FAILED;
        }
        done += k;
    }
    struct gvma *v = vma_new(dev, (uintptr_t)base, (uint32_t)n);
    if (!v) {
        map_pages_gone(dev, m, 0, m->count);
        shim_real.munmap(base, len);
        *err = ENOMEM;
        return MAP_FAILED;
    }
    v->map = m;
    m->mmapped = true;
    if (m->notify) {
        map_send_notify(dev, m);
    }
    return base;
}

static int gd_unmap_grant_ref(struct shim_dev *dev, uint64_t uarg)
{
    struct ioctl_gntdev_unmap_grant_ref op;
    struct gd_map *m;

    if (pvc_peek_cached(&op, uarg, sizeof(op))) {
        return -EFAULT;
    }
    m = map_at_index(dev->gnt, op.index, op.count);
    if (!m) {
        return -ENOENT;
    }
    /* the grants stay mapped until the last page is unmapped */
    m->listed = false;
    if (m->live == 0) {
        map_unlink(dev->gnt, m);
    }
    return 0;
}

static int gd_get_offset(struct shim_dev *dev, uint64_t uarg)
{
    struct ioctl_gntdev_get_offset_for_vaddr op;

    (void)dev;
    if (pvc_peek_cached(&op, uarg, sizeof(op))) {
        return -EFAULT;
    }
    for (struct gvma *v = vmas; v; v = v->next) {
        if (v->map && op.vaddr >= v->start &&
            op.vaddr < v->start + v->npages * PAGE) {
            op.offset = v->map->index * PAGE;
            op.count = v->map->count;
            return pvc_poke_cached(uarg + 8, &op.offset, 12);
        }
    }
    return -EINVAL;
}

static int gd_set_notify(struct shim_dev *dev, uint64_t uarg)
{
    struct ioctl_gntdev_unmap_notify op;
    struct gd_map *m;
    uint32_t old, old_port;
    uint64_t old_off;
    int rc;

    if (pvc_peek_cached(&op, uarg, sizeof(op))) {
        return -EFAULT;
    }
    if (op.action &
        ~(uint32_t)(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT)) {
        return -EINVAL;
    }
    for (m = dev->gnt->maps; m; m = m->next) {
        if (op.index >= m->index * PAGE &&
            op.index < (m->index + m->count) * PAGE) {
            break;
        }
    }
    if (!m) {
        /* (a bad port is EINVAL first in Linux; the hypervisor checks the
         * port below, when it has the map) */
        return -ENOENT;
    }
    if ((op.action & UNMAP_NOTIFY_CLEAR_BYTE) && m->mmapped && m->readonly) {
        return -EINVAL;
    }
    old = m->notify;
    old_port = m->notify_port;
    old_off = m->notify_off;
    uint32_t old_pg = (uint32_t)(old_off / PAGE);
    if (old && m->mmapped && old_pg != (op.index - m->index * PAGE) / PAGE &&
        old_pg < m->count && m->handles[old_pg] != NO_HANDLE) {
        /* one notification per map, as Linux: the old page's goes */
        struct pv_gnt_notify_req off_req = {.target = m->handles[old_pg]};
        pvc_call(&dev->conn, PV_MSG_GNT_NOTIFY, &off_req, sizeof(off_req), NULL,
                 0, NULL, NULL);
    }
    m->notify = op.action;
    m->notify_port = op.event_channel_port;
    m->notify_off = op.index - m->index * PAGE;
    rc = map_send_notify(dev, m);
    if (rc) {
        m->notify = old;
        m->notify_port = old_port;
        m->notify_off = old_off;
    }
    return rc;
}

/* GRANT_COPY: segments go in batches; each gets its status. */
static int gd_grant_copy(struct shim_dev *dev, uint64_t uarg)
{
    struct ioctl_gntdev_grant_copy op;
    uint8_t *req = malloc(PV_PAYLOAD_MAX), *rep = malloc(PV_PAYLOAD_MAX);
    struct ioctl_gntdev_grant_copy_segment segs[PV_GNTCOPY_BATCH];
    int rc = 0;

    if (!req || !rep) {
        free(req);
        free(rep);
        return -ENOMEM;
    }
    if (pvc_peek_cached(&op, uarg, sizeof(op))) {
        rc = -EFAULT;
        goto out;
    }
    for (uint32_t done = 0; done < op.count && rc == 0;) {
        struct pv_gntcopy_req *h = (struct pv_gntcopy_req *)req;
        struct pv_gntcopy_seg *ws = (struct pv_gntcopy_seg *)(h + 1);
        uint32_t k = 0;
        size_t in = 0, out = 0;
        /* as many segments as fit one message */
        while (done + k < op.count && k < PV_GNTCOPY_BATCH) {
            struct ioctl_gntdev_grant_copy_segment *s = &segs[k];
            if (pvc_peek((uint8_t *)s,
                         (uint64_t)(uintptr_t)op.segments +
                             (done + k) * sizeof(*s),
                         sizeof(*s))) {
                rc = -EFAULT;
                break;
            }
            bool sg = s->flags & GNTCOPY_source_gref;
            bool dg = s->flags & GNTCOPY_dest_gref;
            if ((!sg && !dg) ||
                (sg && s->source.foreign.offset + s->len > PAGE) ||
                (dg && s->dest.foreign.offset + s->len > PAGE) ||
                (!sg && !dg) || s->len > PAGE) {
                rc = -EINVAL;
                break;
            }
            if ((!sg && in + s->len > PV_GNTCOPY_BYTES) ||
                (!dg && out + s->len > PV_GNTCOPY_BYTES)) {
                break;
            }
            memset(&ws[k], 0, sizeof(ws[k]));
            ws[k].src_gref = sg;
            ws[k].dst_gref = dg;
            ws[k].len = s->len;
            if (sg) {
                ws[k].src_ref = s->source.foreign.ref;
                ws[k].src_off = s->source.foreign.offset;
                ws[k].src_dom = s->source.foreign.domid;
            }
            if (dg) {
                ws[k].dst_ref = s->dest.foreign.ref;
                ws[k].dst_off = s->dest.foreign.offset;
                ws[k].dst_dom = s->dest.foreign.domid;
            }
            in += sg ? 0 : s->len;
            out += dg ? 0 : s->len;
            k++;
        }
        if (k == 0) {
            break;
        }
        h->count = k;
        h->pad = 0;
        uint8_t *data = (uint8_t *)(ws + k);
        for (uint32_t i = 0; i < k && rc == 0; i++) {
            if (!ws[i].src_gref) {
                if (pvc_peek(data, (uint64_t)(uintptr_t)segs[i].source.virt,
                             ws[i].len)) {
                    rc = -EFAULT;
                }
                data += ws[i].len;
            }
        }
        if (rc) {
            break;
        }
        size_t got = 0;
        int64_t r =
            pvc_call(&dev->conn, PV_MSG_GNTDEV_COPY, req, (size_t)(data - req),
                     rep, PV_PAYLOAD_MAX, &got, NULL);
        size_t st_len = (k * sizeof(int16_t) + 7) & ~(size_t)7;
        if (r < 0 || got != sizeof(struct pv_rep) + st_len + out) {
            rc = r < 0 ? (int)r : -EPROTO;
            break;
        }
        const uint8_t *back = rep + sizeof(struct pv_rep) + st_len;
        for (uint32_t i = 0; i < k && rc == 0; i++) {
            int16_t st;
            memcpy(&st, rep + sizeof(struct pv_rep) + i * sizeof(st),
                   sizeof(st));
            if (!ws[i].dst_gref) {
                if (st == GNTST_okay &&
                    pvc_poke((uint64_t)(uintptr_t)segs[i].dest.virt, back,
                             ws[i].len)) {
                    rc = -EFAULT;
                }
                back += ws[i].len;
            }
            if (pvc_poke((uint64_t)(uintptr_t)op.segments +
                             (done + i) * sizeof(segs[0]) +
                             offsetof(struct ioctl_gntdev_grant_copy_segment,
                                      status),
                         &st, sizeof(st))) {
                rc = -EFAULT;
            }
        }
        done += k;
    }
out:
    free(req);
    free(rep);
    return rc;
}

/* ---- entry points ---- */

int grant_ioctl(struct shim_dev *dev, unsigned long req, void *arg)
{
    uint64_t a = (uint64_t)(uintptr_t)arg;
    int rc;

    grant_lock_take();
    if (dev->kind == SHIM_GNTALLOC) {
        switch (req) {
        case IOCTL_GNTALLOC_ALLOC_GREF:
            rc = ga_alloc_gref(dev, a);
            break;
        case IOCTL_GNTALLOC_DEALLOC_GREF:
            rc = ga_dealloc_gref(dev, a);
            break;
        case IOCTL_GNTALLOC_SET_UNMAP_NOTIFY:
            rc = ga_set_notify(dev, a);
            break;
        default:
            rc = -ENOTTY;
        }
    } else {
        switch (req) {
        case IOCTL_GNTDEV_MAP_GRANT_REF:
            rc = gd_map_grant_ref(dev, a);
            break;
        case IOCTL_GNTDEV_UNMAP_GRANT_REF:
            rc = gd_unmap_grant_ref(dev, a);
            break;
        case IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR:
            rc = gd_get_offset(dev, a);
            break;
        case IOCTL_GNTDEV_SET_UNMAP_NOTIFY:
            rc = gd_set_notify(dev, a);
            break;
        case IOCTL_GNTDEV_GRANT_COPY:
            rc = gd_grant_copy(dev, a);
            break;
        default:
            rc = -ENOTTY; /* SET_MAX_GRANTS was removed too */
        }
    }
    grant_lock_give();
    return rc < 0 ? fail(-rc) : rc;
}

void *grant_mmap(struct shim_dev *dev, void *addr, size_t len, int prot,
                 int flags, off_t off)
{
    void *r;
    int err = 0;

    if (len == 0 || off < 0 || (off & (off_t)(PAGE - 1))) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    len = (len + PAGE - 1) & ~(PAGE - 1);
    grant_lock_take();
    r = dev->kind == SHIM_GNTALLOC
            ? ga_mmap(dev, addr, len, prot, flags, (uint64_t)off, &err)
            : gd_mmap(dev, addr, len, prot, flags, (uint64_t)off, &err);
    grant_lock_give();
    if (r == MAP_FAILED) {
        errno = err;
    }
    return r;
}

/* In a forked child, before its devices: the parent's mappings are not
 * inherited (VM_DONTCOPY), so they go, and hold no device here. */
void grant_atfork_mappings(void)
{
    pthread_mutex_init(&grant_lock, NULL);
    grant_locked = false;
    for (struct gvma *v = vmas, *n; v; v = n) {
        n = v->next;
        shim_real.munmap((void *)v->start, v->npages * PAGE);
        /* the masters were not inherited (MADV_DONTFORK) */
        for (struct ga_alloc *a = v->dev->gnt ? v->dev->gnt->allocs : NULL; a;
             a = a->next) {
            a->master = NULL;
        }
        /* a device only a mapping held goes, with its connection: the
         * parent's grants stay the parent's */
        shim_dev_put(v->dev);
        free(v->mapped);
        free(v);
    }
    vmas = NULL;
    nr_vmas = 0;
}

/* In a forked child: the parent's grants stay the parent's; the device
 * starts empty (with the index it had reached). */
void grant_atfork_child(struct shim_dev *dev)
{
    uint64_t next = dev->gnt ? dev->gnt->next_index : 0;

    /* the masters were not inherited (MADV_DONTFORK): nothing to unmap */
    for (struct ga_alloc *a = dev->gnt ? dev->gnt->allocs : NULL; a;
         a = a->next) {
        a->master = NULL;
    }
    grant_release(dev); /* closes the parent's cached descriptors too */
    dev->gnt = calloc(1, sizeof(struct gnt_dev));
    if (dev->gnt) {
        dev->gnt->next_index = next;
        for (unsigned int i = 0; i < PV_GNTMAP_BATCH; i++) {
            dev->gnt->fdcache[i] = -1;
        }
    }
}
