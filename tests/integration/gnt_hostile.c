/* SPDX-License-Identifier: MIT */
/*
 * gnt_hostile.c - a domain's end of gnt_hostile.sh: grants attacked with
 * raw syscalls and raw protocol messages, not only through the libraries.
 *
 * `gnt_hostile serve` obeys commands, one a line on stdin, and answers each
 * with key=value lines and a line "end", so the script can drive several
 * domains in turn.  A granter writes its grant table directly
 * (pv_grant_table) and gets backed pages from /dev/xen/gntalloc (the
 * preload library's); a grantee maps through GNTTABOP_map_grant_ref
 * (pv_hypercall) and through raw PV_MSG_GNTDEV_MAP messages on a
 * connection of its own, receiving the memory's descriptor itself.
 *
 * Statuses are GNTST_* numbers; a reply's ret and a syscall's failure are
 * -errno.  A hypercall that fails as a whole prints -1000 + its error.
 *
 * Granter commands:
 *   alloc NAME DOM rw|ro COUNT   gntalloc COUNT pages for DOM, write
 *                                "NAME-page-I" at each page's start;
 *                                prints ref (and ref_1 ...), frame
 *   table                        entries: the table's current size
 *   forge NAME REF DOM [ro]      write entry REF (NAME's first frame) for
 *                                DOM: domid and frame, barrier, flags
 *   revoke REF                   end access as a guest does (cmpxchg)
 *   setdom REF DOM               rewrite the entry's domid, flags kept
 *   entry REF                    flags, domid, frame, busy (reading or
 *                                writing set)
 *   flip REF DOM2                a thread flips the entry's type, readonly
 *                                bit and domid (grantee <-> DOM2) with
 *                                atomic XORs, keeping the hypervisor's bits
 *   unflip                       stop, restore the entry; prints flipped
 *   peek NAME                    at0 and at256 of NAME's first page
 * Grantee commands:
 *   hc DOM REF [ro]              map by hypercall (then unmap): hc
 *   raw DOM REF [ro]             map by PV_MSG_GNTDEV_MAP (then unmap):
 *                                raw_ret, raw
 *   cross DOM REF                unmap a raw handle by hypercall and the
 *                                other way round
 *   churn DOM REF N              N maps and unmaps, both ways, ro and rw
 *   maptrack DOM REF1 REF2       exhaust the maptrack with REF1, then REF2
 *   hold DOM REF                 gntdev: map, close the descriptor, use it
 *   read | write TEXT | release  the held page (at byte 256); munmap
 *   ro-attack DOM REF            a read-only grant's descriptor, attacked
 *   rw-fd DOM REF                a read-write grant's descriptor: its size
 *                                and seals
 *   limit DOM                    the gntalloc limit
 *   malformed DOM REF            malformed grant messages, then version
 *   quit
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xen_abi.h"
#include <xen/sys/gntalloc.h>
#include <xen/sys/gntdev.h>

#include "client.h"
#include "procvisor/procvisor.h"

#define PAGE      4096u
#define HOST_ADDR 0x80000000ull /* a guest-physical address to map at */
#define MAX_ALLOC 16

static pv_handle *hv;        /* hypercalls */
static struct pvc raw;       /* raw grant messages; owns what they map */
static grant_entry_v1_t *gt; /* this domain's grant table */
static unsigned int gt_nr;

static void out(const char *key, long long v)
{
    printf("%s=%lld\n", key, v);
}

static void out_s(const char *key, const char *v)
{
    printf("%s=%s\n", key, v);
}

static int neg_errno(int rc)
{
    return rc < 0 ? -errno : 0;
}

/* ---- mapping, both ways ---- */

static int hc_map(uint32_t dom, uint32_t ref, bool ro, uint32_t *handle)
{
    struct gnttab_map_grant_ref op;
    long r;

    memset(&op, 0, sizeof(op));
    op.host_addr = HOST_ADDR;
    op.flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0);
    op.ref = ref;
    op.dom = (domid_t)dom;
    r = pv_hypercall(hv, __HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref,
                     (unsigned long)&op, 1, 0, 0);
    if (r) {
        return -1000 + (int)r;
    }
    *handle = op.handle;
    return op.status;
}

static int hc_unmap(uint32_t handle)
{
    struct gnttab_unmap_grant_ref op;
    long r;

    memset(&op, 0, sizeof(op));
    op.handle = handle;
    r = pv_hypercall(hv, __HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref,
                     (unsigned long)&op, 1, 0, 0);
    return r ? -1000 + (int)r : op.status;
}

struct raw_map {
    int64_t ret;
    int status; /* of the one slot, or INT_MIN when the reply had none */
    uint32_t handle, pgoff;
    int fd;
};

/* the raw connection's descriptor cache, mirrored as proto.h says */
static int raw_fdcache[PV_GNTMAP_BATCH];
static bool raw_fdcache_init;

/* One grant by a raw PV_MSG_GNTDEV_MAP; domid is gntdev's u32.  The fd
 * returned is a duplicate of the cached descriptor of its memory. */
static struct raw_map raw_map_one(uint32_t dom, uint32_t ref, bool ro)
{
    struct {
        struct pv_gntmap_req h;
        struct pv_gntref r;
    } req = {{1, ro}, {dom, ref}};
    struct {
        struct pv_gntmap_rep h;
        struct pv_gntmap_slot s;
    } rep;
    struct raw_map m = {.status = INT_MIN, .fd = -1};
    int fds[2] = {-1, -1}, nfds = 2;
    size_t got = 0;

    memset(&rep, 0, sizeof(rep));
    m.ret = pvc_call_fds(&raw, PV_MSG_GNTDEV_MAP, &req, sizeof(req), &rep,
                         sizeof(rep), &got, fds, &nfds);
    if (got == sizeof(rep)) {
        m.status = rep.s.status;
        m.handle = rep.s.handle;
        m.pgoff = rep.s.pgoff;
    }
    if (!raw_fdcache_init) {
        for (unsigned int i = 0; i < PV_GNTMAP_BATCH; i++) {
            raw_fdcache[i] = -1;
        }
        raw_fdcache_init = true;
    }
    for (int i = 0; i < nfds; i++) {
        uint16_t f = rep.h.fill[i];
        if (m.ret != 0 || (uint32_t)i >= rep.h.nfds || f >= PV_GNTMAP_BATCH) {
            close(fds[i]);
            continue;
        }
        if (raw_fdcache[f] >= 0) {
            close(raw_fdcache[f]);
        }
        raw_fdcache[f] = fds[i];
    }
    if (m.ret == 0) {
        /* a success names a cached descriptor of its memory */
        if (got == sizeof(rep) && rep.s.fd_idx < PV_GNTMAP_BATCH &&
            raw_fdcache[rep.s.fd_idx] >= 0) {
            m.fd = dup(raw_fdcache[rep.s.fd_idx]);
        } else {
            m.ret = -EPROTO;
        }
    }
    return m;
}

static int64_t raw_unmap(uint32_t handle)
{
    struct {
        struct pv_gntunmap_req h;
        uint32_t handle;
    } req = {{1, 0}, handle};

    return pvc_call(&raw, PV_MSG_GNTDEV_UNMAP, &req, sizeof(req), NULL, 0, NULL,
                    NULL);
}

static void cmd_hc(uint32_t dom, uint32_t ref, bool ro)
{
    uint32_t h = 0;
    int st = hc_map(dom, ref, ro, &h);

    out("hc", st);
    if (st == GNTST_okay) {
        out("hc_unmap", hc_unmap(h));
    }
}

static void cmd_raw(uint32_t dom, uint32_t ref, bool ro)
{
    struct raw_map m = raw_map_one(dom, ref, ro);

    out("raw_ret", m.ret);
    if (m.status == INT_MIN) {
        out_s("raw", "none");
    } else {
        out("raw", m.status);
    }
    if (m.ret == 0) {
        out("raw_fd", m.fd >= 0);
        out("raw_unmap", raw_unmap(m.handle));
    }
    if (m.fd >= 0) {
        close(m.fd);
    }
}

/* ---- the granter ---- */

struct alloc {
    char name[32];
    uint8_t *va;
    uint32_t count;
    uint32_t ref0;
};
static struct alloc allocs[MAX_ALLOC];
static int nallocs;
static int gntalloc_fd = -1;

static struct alloc *alloc_named(const char *name)
{
    for (int i = 0; i < nallocs; i++) {
        if (strcmp(allocs[i].name, name) == 0) {
            return &allocs[i];
        }
    }
    return NULL;
}

static void cmd_alloc(const char *name, uint32_t dom, bool rw, uint32_t count)
{
    struct ioctl_gntalloc_alloc_gref *op;
    struct alloc *a;
    void *va;

    if (nallocs == MAX_ALLOC || count == 0 || count > 64) {
        out("alloc", -EINVAL);
        return;
    }
    if (gntalloc_fd < 0) {
        gntalloc_fd = open("/dev/xen/gntalloc", O_RDWR);
    }
    op = calloc(1, sizeof(*op) + count * sizeof(uint32_t));
    op->domid = (uint16_t)dom;
    op->flags = rw ? GNTALLOC_FLAG_WRITABLE : 0;
    op->count = count;
    if (ioctl(gntalloc_fd, IOCTL_GNTALLOC_ALLOC_GREF, op) < 0) {
        out("alloc", -errno);
        free(op);
        return;
    }
    va = mmap(NULL, count * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
              gntalloc_fd, (off_t)op->index);
    if (va == MAP_FAILED) {
        out("alloc_mmap", -errno);
        free(op);
        return;
    }
    a = &allocs[nallocs++];
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->va = va;
    a->count = count;
    a->ref0 = op->gref_ids[0];
    for (uint32_t i = 0; i < count; i++) {
        snprintf((char *)a->va + i * PAGE, 32, "%s-page-%u", name, i);
    }
    out("alloc", 0);
    out("ref", op->gref_ids[0]);
    for (uint32_t i = 1; i < count && i < 4; i++) {
        char key[16];
        snprintf(key, sizeof(key), "ref_%u", i);
        out(key, op->gref_ids[i]);
    }
    out("frame", op->gref_ids[0] < gt_nr ? gt[op->gref_ids[0]].frame : 0);
    free(op);
}

static void cmd_table(void)
{
    struct gnttab_query_size q;
    long r;

    memset(&q, 0, sizeof(q));
    q.dom = DOMID_SELF;
    r = pv_hypercall(hv, __HYPERVISOR_grant_table_op, GNTTABOP_query_size,
                     (unsigned long)&q, 1, 0, 0);
    out("query", r ? r : q.status);
    out("entries", (long long)q.nr_frames * (PAGE / sizeof(*gt)));
    out("mapped_entries", gt_nr);
}

static bool ref_ok(uint32_t ref)
{
    if (ref >= gt_nr) {
        out("bad_ref", ref);
        return false;
    }
    return true;
}

/* A guest creates a grant: domid and frame, a write barrier, flags. */
static void cmd_forge(const char *name, uint32_t ref, uint32_t dom, bool ro)
{
    struct alloc *a = alloc_named(name);
    grant_entry_v1_t *e;

    if (!a || !ref_ok(ref)) {
        out("forged", -EINVAL);
        return;
    }
    e = &gt[ref];
    __atomic_store_n(&e->domid, (domid_t)dom, __ATOMIC_RELAXED);
    __atomic_store_n(&e->frame, gt[a->ref0].frame, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&e->flags,
                     (uint16_t)(GTF_permit_access | (ro ? GTF_readonly : 0)),
                     __ATOMIC_RELEASE);
    out("forged", ref);
}

/* Linux's gnttab_end_foreign_access_ref_v1. */
static void cmd_revoke(uint32_t ref)
{
    uint16_t f;

    if (!ref_ok(ref)) {
        return;
    }
    f = __atomic_load_n(&gt[ref].flags, __ATOMIC_ACQUIRE);
    do {
        if (f & (GTF_reading | GTF_writing)) {
            out("revoke", -EBUSY);
            return;
        }
    } while (!__atomic_compare_exchange_n(&gt[ref].flags, &f, 0, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    out("revoke", 0);
}

/* flags (low half) and domid (high half), as Xen's union grant_combo */
static uint32_t *combo(uint32_t ref)
{
    return (uint32_t *)&gt[ref];
}

static void cmd_setdom(uint32_t ref, uint32_t dom)
{
    uint32_t old, want;

    if (!ref_ok(ref)) {
        return;
    }
    old = __atomic_load_n(combo(ref), __ATOMIC_ACQUIRE);
    do {
        want = (old & 0xffffu) | (dom << 16);
    } while (!__atomic_compare_exchange_n(combo(ref), &old, want, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    out("setdom", 0);
}

static void cmd_entry(uint32_t ref)
{
    uint32_t w;

    if (!ref_ok(ref)) {
        return;
    }
    w = __atomic_load_n(combo(ref), __ATOMIC_ACQUIRE);
    out("flags", w & 0xffffu);
    out("domid", w >> 16);
    out("frame", __atomic_load_n(&gt[ref].frame, __ATOMIC_ACQUIRE));
    out("busy", (w & (GTF_reading | GTF_writing)) != 0);
}

static struct {
    pthread_t thread;
    bool running;
    int stop;
    uint32_t ref, dom, dom2;
    unsigned long flips;
} flipper;

/*
 * A hostile granter: the entry's type, its readonly bit and its grantee
 * change all the time, in a random order so that every combination
 * occurs.  XOR keeps whatever the hypervisor set (GTF_reading,
 * GTF_writing), so a pin it forgets to clear would show.
 */
static void *flip_loop(void *arg)
{
    uint32_t *w = combo(flipper.ref);
    const uint32_t masks[4] = {
        GTF_permit_access,
        GTF_readonly,
        (flipper.dom ^ flipper.dom2) << 16,
        GTF_permit_access | ((flipper.dom ^ flipper.dom2) << 16),
    };
    uint32_t x = 2463534242u; /* xorshift32 */
    unsigned long n = 0;

    (void)arg;
    while (!__atomic_load_n(&flipper.stop, __ATOMIC_RELAXED)) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        __atomic_fetch_xor(w, masks[x & 3], __ATOMIC_SEQ_CST);
        n++;
    }
    flipper.flips = n;
    return NULL;
}

static void cmd_flip(uint32_t ref, uint32_t dom2)
{
    if (!ref_ok(ref) || flipper.running) {
        out("flipping", 0);
        return;
    }
    flipper.ref = ref;
    flipper.dom = __atomic_load_n(combo(ref), __ATOMIC_ACQUIRE) >> 16;
    flipper.dom2 = dom2;
    flipper.stop = 0;
    flipper.running =
        pthread_create(&flipper.thread, NULL, flip_loop, NULL) == 0;
    out("flipping", flipper.running);
}

static void cmd_unflip(void)
{
    uint32_t *w, old, want;

    if (!flipper.running) {
        out("flipped", 0);
        return;
    }
    __atomic_store_n(&flipper.stop, 1, __ATOMIC_RELAXED);
    pthread_join(flipper.thread, NULL);
    flipper.running = false;
    /* a read-write grant to the grantee again, the hypervisor's bits kept */
    w = combo(flipper.ref);
    old = __atomic_load_n(w, __ATOMIC_ACQUIRE);
    do {
        want = (old & (GTF_reading | GTF_writing)) | GTF_permit_access |
               (flipper.dom << 16);
    } while (!__atomic_compare_exchange_n(w, &old, want, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    out("flipped", flipper.flips > 1000);
}

static void cmd_peek(const char *name)
{
    struct alloc *a = alloc_named(name);
    char buf[32];

    if (!a) {
        out("peek", -EINVAL);
        return;
    }
    memcpy(buf, a->va, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = 0;
    out_s("at0", buf);
    memcpy(buf, a->va + 256, sizeof(buf) - 1);
    out_s("at256", buf);
}

/* ---- the grantee ---- */

/*
 * Maps and unmaps while the granter flips the entry: each map is okay or
 * general_error, nothing else, and each successful one unmaps.
 */
static void cmd_churn(uint32_t dom, uint32_t ref, unsigned int n)
{
    unsigned int okay[4] = {0}, error = 0, other = 0, unmap_bad = 0;

    for (unsigned int i = 0; i < n; i++) {
        bool ro = i & 1;
        int st;
        if (i & 2) {
            struct raw_map m = raw_map_one(dom, ref, ro);
            if (m.ret == 0 && m.status == GNTST_okay && m.fd >= 0) {
                st = GNTST_okay;
                unmap_bad += raw_unmap(m.handle) != 0;
            } else if (m.ret == -EINVAL && m.status == GNTST_general_error) {
                st = GNTST_general_error;
            } else {
                st = INT_MIN;
            }
            if (m.fd >= 0) {
                close(m.fd);
            }
        } else {
            uint32_t h = 0;
            st = hc_map(dom, ref, ro, &h);
            if (st == GNTST_okay) {
                unmap_bad += hc_unmap(h) != GNTST_okay;
            }
        }
        if (st == GNTST_okay) {
            okay[i & 3]++;
        } else if (st == GNTST_general_error) {
            error++;
        } else {
            if (other++ == 0) {
                fprintf(stderr, "churn: map %u gave %d\n", i, st);
            }
        }
    }
    unsigned int ok = okay[0] + okay[1] + okay[2] + okay[3];
    out("churn_total", ok + error + other);
    out("churn_okay", ok);
    out("churn_okay_hc_rw", okay[0]);
    out("churn_okay_hc_ro", okay[1]);
    out("churn_okay_raw_rw", okay[2]);
    out("churn_okay_raw_ro", okay[3]);
    out("churn_error", error);
    out("churn_other", other);
    out("churn_unmap_bad", unmap_bad);
}

/* A handle is released only the way it was made. */
static void cmd_cross(uint32_t dom, uint32_t ref)
{
    struct raw_map m = raw_map_one(dom, ref, false);
    uint32_t h = 0;
    int st;

    out("cross_raw", m.ret);
    if (m.ret == 0) {
        out("cross_hc_unmap_raw", hc_unmap(m.handle));
        out("cross_raw_unmap", raw_unmap(m.handle));
        close(m.fd);
    }
    st = hc_map(dom, ref, false, &h);
    out("cross_hc", st);
    if (st == GNTST_okay) {
        out("cross_raw_unmap_hc", raw_unmap(h));
        out("cross_hc_unmap", hc_unmap(h));
    }
    out("cross_hc_unmap_bogus", hc_unmap(0xffffffffu));
}

/*
 * A domain created with --max-maptrack 1 has 256 handles.  One grant
 * takes 128 read-only and 128 writable pins (Xen's 8-bit counters refuse
 * a pin once bit 7 is set), so it alone can use them all.
 */
static void cmd_maptrack(uint32_t dom, uint32_t ref1, uint32_t ref2)
{
    static uint32_t handles[600];
    unsigned int n = 0, ro_ok = 0, ro_held = 0, rw_ok = 0, fill = 0, bad = 0;
    uint32_t h;
    int st;

    for (int i = 0; i < 128; i++) {
        if (hc_map(dom, ref1, true, &h) == GNTST_okay) {
            handles[n++] = h;
            ro_ok++;
        }
    }
    st = hc_map(dom, ref1, true, &h);
    if (st == GNTST_okay) {
        handles[n++] = h;
        ro_held++;
    }
    out("ro_pin_129", st);
    /* one read-only pin goes, so the 129th writable pin finds a handle */
    ro_held += ro_ok;
    if (n > 0 && hc_unmap(handles[--n]) == GNTST_okay) {
        ro_held--;
    }
    for (int i = 0; i < 128; i++) {
        if (hc_map(dom, ref1, false, &h) == GNTST_okay) {
            handles[n++] = h;
            rw_ok++;
        }
    }
    st = hc_map(dom, ref1, false, &h);
    if (st == GNTST_okay) {
        handles[n++] = h;
        rw_ok++;
    }
    out("rw_pin_129", st);
    if (hc_map(dom, ref1, true, &h) == GNTST_okay) {
        handles[n++] = h;
        ro_held++;
    }
    out("ro_okay", ro_ok);
    out("rw_okay", rw_ok);
    out("one_page_okay", ro_held + rw_ok);
    /* whatever the pins left: another grant fills the rest */
    while (n < 256 && fill < 300 &&
           (st = hc_map(dom, ref2, false, &h)) == GNTST_okay) {
        handles[n++] = h;
        fill++;
    }
    out("handles", n);
    st = hc_map(dom, ref2, false, &h);
    if (st == GNTST_okay) {
        handles[n++] = h;
    }
    out("map_257", st);
    if (n > 0) {
        out("unmap_one", hc_unmap(handles[--n]));
    }
    st = hc_map(dom, ref2, false, &h);
    if (st == GNTST_okay) {
        handles[n++] = h;
    }
    out("map_again", st);
    st = hc_map(dom, ref2, true, &h);
    if (st == GNTST_okay) {
        handles[n++] = h;
    }
    out("map_again_full", st);
    for (unsigned int i = 0; i < n; i++) {
        bad += hc_unmap(handles[i]) != GNTST_okay;
    }
    out("unmap_all_bad", bad);
}

/* gntdev through the device, with a descriptor closed under a mapping */
static uint8_t *held;

static void cmd_hold(uint32_t dom, uint32_t ref)
{
    struct ioctl_gntdev_map_grant_ref op;
    int fd = open("/dev/xen/gntdev", O_RDWR);
    char buf[32];

    memset(&op, 0, sizeof(op));
    op.count = 1;
    op.refs[0].domid = dom;
    op.refs[0].ref = ref;
    out("hold_ioctl", neg_errno(ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, &op)));
    held = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                (off_t)op.index);
    out("hold_mmap", held == MAP_FAILED ? -errno : 0);
    out("hold_close", neg_errno(close(fd)));
    if (held == MAP_FAILED) {
        held = NULL;
        return;
    }
    memcpy(buf, held, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = 0;
    out_s("at0", buf);
    memcpy(held + 256, "from-b", 7);
    out("wrote", 1);
}

static void cmd_read(void)
{
    char buf[32];

    if (!held) {
        out_s("at256", "none");
        return;
    }
    memcpy(buf, held + 256, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = 0;
    out_s("at256", buf);
}

static void cmd_write(const char *text)
{
    if (!held) {
        out("wrote", 0);
        return;
    }
    snprintf((char *)held + 256, 32, "%s", text);
    out("wrote", 1);
}

static void cmd_release(void)
{
    out("release", held ? neg_errno(munmap(held, PAGE)) : -EINVAL);
    held = NULL;
}

/* A read-only grant arrives as a descriptor nothing can make writable. */
static void cmd_ro_attack(uint32_t dom, uint32_t ref)
{
    struct raw_map m = raw_map_one(dom, ref, true);
    off_t off = (off_t)m.pgoff * PAGE;
    char path[64], c = 'X';
    struct stat st;
    uint8_t *p;
    int fd2;

    out("ro_ret", m.ret);
    out("ro", m.status);
    if (m.ret != 0 || m.fd < 0) {
        return;
    }
    out("ro_size", fstat(m.fd, &st) == 0 ? (long long)st.st_size : -errno);
    int seals = fcntl(m.fd, F_GET_SEALS);
    out("ro_sealed", seals >= 0 && (seals & F_SEAL_FUTURE_WRITE) &&
                         (seals & F_SEAL_SHRINK) && (seals & F_SEAL_GROW));

    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, off);
    out("mmap_rw", p == MAP_FAILED ? -errno : 0);
    if (p != MAP_FAILED) {
        munmap(p, PAGE);
    }
    p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, m.fd, off);
    out("mmap_ro", p == MAP_FAILED ? -errno : 0);
    /* a private writable mapping is allowed: its writes stay its own */
    uint8_t *priv =
        mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, m.fd, off);
    out("mmap_private", priv == MAP_FAILED ? -errno : 0);
    if (priv != MAP_FAILED) {
        priv[0] = 'P';
        munmap(priv, PAGE);
    }
    if (p != MAP_FAILED) {
        out("ro_content", strcmp((const char *)p, "s6-page-0") == 0);
        out("mprotect_rw",
            neg_errno(mprotect(p, PAGE, PROT_READ | PROT_WRITE)));
    }

    snprintf(path, sizeof(path), "/proc/self/fd/%d", m.fd);
    fd2 = open(path, O_RDWR);
    out("reopen", fd2 < 0 ? -errno : 0);
    if (fd2 >= 0) {
        void *q =
            mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, off);
        out("reopen_mmap_rw", q == MAP_FAILED ? -errno : 0);
        if (q != MAP_FAILED) {
            munmap(q, PAGE);
        }
        out("reopen_pwrite", pwrite(fd2, &c, 1, off) < 0 ? -errno : 1);
        close(fd2);
    }
    lseek(m.fd, off, SEEK_SET);
    out("write", write(m.fd, &c, 1) < 0 ? -errno : 1);
    out("pwrite", pwrite(m.fd, &c, 1, off) < 0 ? -errno : 1);
    out("ftruncate_shrink", neg_errno(ftruncate(m.fd, 0)));
    out("ftruncate_grow", neg_errno(ftruncate(m.fd, 64 * PAGE)));
    out("punch",
        neg_errno(fallocate(m.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                            off, PAGE)));
    out("add_seal", neg_errno(fcntl(m.fd, F_ADD_SEALS, F_SEAL_WRITE)));
    if (p != MAP_FAILED) {
        out("ro_intact", strcmp((const char *)p, "s6-page-0") == 0);
        munmap(p, PAGE);
    }
    out("ro_unmap", raw_unmap(m.handle));
    close(m.fd);

    /* and a writable map of it is refused */
    m = raw_map_one(dom, ref, false);
    out("rw_ret", m.ret);
    out("rw", m.status);
    if (m.fd >= 0) {
        close(m.fd);
    }
}

/* A read-write grant's descriptor covers its allocation only, sealed
 * against resizing. */
static void cmd_rw_fd(uint32_t dom, uint32_t ref)
{
    struct raw_map m = raw_map_one(dom, ref, false);
    struct stat st = {0};
    int seals;

    out("rwfd_ret", m.ret);
    if (m.ret != 0 || m.fd < 0) {
        return;
    }
    out("rwfd_size", fstat(m.fd, &st) == 0 ? (long long)st.st_size : -errno);
    seals = fcntl(m.fd, F_GET_SEALS);
    out("rwfd_seals", seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
                                        (F_SEAL_SHRINK | F_SEAL_GROW));
    out("rwfd_ftruncate_shrink", neg_errno(ftruncate(m.fd, 0)));
    out("rwfd_ftruncate_grow",
        neg_errno(ftruncate(m.fd, st.st_size + (off_t)PAGE)));
    out("rwfd_fallocate_grow",
        neg_errno(fallocate(m.fd, 0, st.st_size, (off_t)PAGE)));
    out("rwfd_unmap", raw_unmap(m.handle));
    close(m.fd);
}

/* The daemon's gntalloc limit: 1024 pages per domain. */
static void cmd_limit(uint32_t dom)
{
    const uint32_t limit = 1024;
    struct ioctl_gntalloc_alloc_gref *op =
        calloc(1, sizeof(*op) + limit * sizeof(uint32_t));
    struct ioctl_gntalloc_dealloc_gref de;
    struct pv_gntalloc_req req = {(uint16_t)dom, GNTALLOC_FLAG_WRITABLE, 0};
    int fd = open("/dev/xen/gntalloc", O_RDWR);
    uint64_t v[5] = {XENVER_version};
    uint8_t *p;

    op->domid = (uint16_t)dom;
    op->flags = GNTALLOC_FLAG_WRITABLE;
    op->count = 0xffffffffu;
    out("huge", neg_errno(ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op)));
    req.count = 0xffffffffu;
    out("huge_raw", pvc_call(&raw, PV_MSG_GNTALLOC, &req, sizeof(req), NULL, 0,
                             NULL, NULL));
    req.count = limit + 1;
    out("over_raw", pvc_call(&raw, PV_MSG_GNTALLOC, &req, sizeof(req), NULL, 0,
                             NULL, NULL));
    out("alive", pvc_hypercall(&raw, 0, __HYPERVISOR_xen_version, v));

    op->count = limit;
    out("full", neg_errno(ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op)));
    p = mmap(NULL, limit * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             (off_t)op->index);
    out("full_mmap", p == MAP_FAILED ? -errno : 0);
    if (p != MAP_FAILED) {
        p[0] = 1;
        p[limit * PAGE - 1] = 1;
    }
    de.index = op->index;
    de.count = limit;
    op->count = 1;
    out("one_more", neg_errno(ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op)));
    req.count = 1;
    out("one_more_raw", pvc_call(&raw, PV_MSG_GNTALLOC, &req, sizeof(req), NULL,
                                 0, NULL, NULL));
    out("dealloc", neg_errno(ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &de)));
    /* the mapping still holds the pages, as in Linux */
    op->count = 1;
    out("while_mapped", neg_errno(ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op)));
    if (p != MAP_FAILED) {
        out("munmap", neg_errno(munmap(p, limit * PAGE)));
    }
    op->count = limit;
    out("again", neg_errno(ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op)));
    close(fd);
    out("alive_after", pvc_hypercall(&raw, 0, __HYPERVISOR_xen_version, v));
    free(op);
}

/* A malformed message on a fresh connection closes that connection only:
 * its reply is a transport error, and so is the next call on it. */
static void malformed(const char *key, uint16_t type, const void *p, size_t n)
{
    uint64_t v[5] = {XENVER_version};
    char k[64];
    struct pvc c;
    int fd = pvc_domain_socket();

    if (fd < 0 || pvc_init(&c, fd)) {
        out(key, -9999);
        return;
    }
    out(key, pvc_call(&c, type, p, n, NULL, 0, NULL, NULL));
    snprintf(k, sizeof(k), "%s_next", key);
    out(k, pvc_hypercall(&c, 0, __HYPERVISOR_xen_version, v));
    pvc_fini(&c);
}

static void cmd_malformed(uint32_t dom, uint32_t ref)
{
    struct {
        struct pv_gntmap_req h;
        struct pv_gntref r[PV_GNTMAP_BATCH + 1];
    } map;
    struct {
        struct pv_gntcopy_req h;
        struct pv_gntcopy_seg s;
    } copy;
    struct {
        struct pv_gntunmap_req h;
        uint32_t handles[2];
    } unmap = {{10, 0}, {0, 1}};
    uint64_t v[5] = {XENVER_version};
    struct pvc c;
    int fd;

    memset(&map, 0, sizeof(map));
    for (unsigned int i = 0; i <= PV_GNTMAP_BATCH; i++) {
        map.r[i].domid = dom;
        map.r[i].ref = ref;
    }
    map.h.count = 0;
    malformed("map_count0", PV_MSG_GNTDEV_MAP, &map,
              sizeof(map.h) + sizeof(map.r[0]));
    map.h.count = PV_GNTMAP_BATCH + 1;
    malformed("map_count65", PV_MSG_GNTDEV_MAP, &map, sizeof(map));
    malformed("map_count65_in_64", PV_MSG_GNTDEV_MAP, &map,
              sizeof(map.h) + PV_GNTMAP_BATCH * sizeof(map.r[0]));
    map.h.count = 2;
    malformed("map_len_mismatch", PV_MSG_GNTDEV_MAP, &map,
              sizeof(map.h) + 3 * sizeof(map.r[0]));

    memset(&copy, 0, sizeof(copy));
    copy.h.count = 1;
    copy.s.src_gref = 1;
    copy.s.len = PAGE + 1;
    copy.s.src_dom = (uint16_t)dom;
    copy.s.src_ref = ref;
    malformed("copy_len4097", PV_MSG_GNTDEV_COPY, &copy, sizeof(copy));

    malformed("unmap_count", PV_MSG_GNTDEV_UNMAP, &unmap, sizeof(unmap));

    /* the daemon still serves: this process's other connections, and a
     * new one */
    out("version_handle",
        pv_hypercall(hv, __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0));
    out("version_raw", pvc_hypercall(&raw, 0, __HYPERVISOR_xen_version, v));
    fd = pvc_domain_socket();
    if (fd >= 0 && pvc_init(&c, fd) == 0) {
        out("version_new", pvc_hypercall(&c, 0, __HYPERVISOR_xen_version, v));
        pvc_fini(&c);
    } else {
        out("version_new", -9999);
    }
}

/* ---- the command loop ---- */

static uint32_t num(const char *s)
{
    return s ? (uint32_t)strtoul(s, NULL, 0) : UINT32_MAX;
}

static void dispatch(int argc, char **argv)
{
    const char *c = argv[0];
    bool ro = argc > 3 && strcmp(argv[3], "ro") == 0;

    if (strcmp(c, "alloc") == 0 && argc == 5) {
        cmd_alloc(argv[1], num(argv[2]), strcmp(argv[3], "rw") == 0,
                  num(argv[4]));
    } else if (strcmp(c, "table") == 0) {
        cmd_table();
    } else if (strcmp(c, "forge") == 0 && argc >= 4) {
        cmd_forge(argv[1], num(argv[2]), num(argv[3]),
                  argc > 4 && strcmp(argv[4], "ro") == 0);
    } else if (strcmp(c, "revoke") == 0 && argc == 2) {
        cmd_revoke(num(argv[1]));
    } else if (strcmp(c, "setdom") == 0 && argc == 3) {
        cmd_setdom(num(argv[1]), num(argv[2]));
    } else if (strcmp(c, "entry") == 0 && argc == 2) {
        cmd_entry(num(argv[1]));
    } else if (strcmp(c, "flip") == 0 && argc == 3) {
        cmd_flip(num(argv[1]), num(argv[2]));
    } else if (strcmp(c, "unflip") == 0) {
        cmd_unflip();
    } else if (strcmp(c, "peek") == 0 && argc == 2) {
        cmd_peek(argv[1]);
    } else if (strcmp(c, "hc") == 0 && argc >= 3) {
        cmd_hc(num(argv[1]), num(argv[2]), ro);
    } else if (strcmp(c, "raw") == 0 && argc >= 3) {
        cmd_raw(num(argv[1]), num(argv[2]), ro);
    } else if (strcmp(c, "cross") == 0 && argc == 3) {
        cmd_cross(num(argv[1]), num(argv[2]));
    } else if (strcmp(c, "churn") == 0 && argc == 4) {
        cmd_churn(num(argv[1]), num(argv[2]), num(argv[3]));
    } else if (strcmp(c, "maptrack") == 0 && argc == 4) {
        cmd_maptrack(num(argv[1]), num(argv[2]), num(argv[3]));
    } else if (strcmp(c, "hold") == 0 && argc == 3) {
        cmd_hold(num(argv[1]), num(argv[2]));
    } else if (strcmp(c, "read") == 0) {
        cmd_read();
    } else if (strcmp(c, "write") == 0 && argc == 2) {
        cmd_write(argv[1]);
    } else if (strcmp(c, "release") == 0) {
        cmd_release();
    } else if (strcmp(c, "ro-attack") == 0 && argc == 3) {
        cmd_ro_attack(num(argv[1]), num(argv[2]));
    } else if (strcmp(c, "rw-fd") == 0 && argc == 3) {
        cmd_rw_fd(num(argv[1]), num(argv[2]));
    } else if (strcmp(c, "limit") == 0 && argc == 2) {
        cmd_limit(num(argv[1]));
    } else if (strcmp(c, "malformed") == 0 && argc == 3) {
        cmd_malformed(num(argv[1]), num(argv[2]));
    } else {
        out_s("unknown", c);
    }
}

int main(int argc, char **argv)
{
    char line[256];
    int fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2 || strcmp(argv[1], "serve") != 0) {
        fprintf(stderr, "usage: gnt_hostile serve (commands on stdin)\n");
        return 2;
    }
    hv = pv_open();
    fd = pvc_domain_socket();
    if (!hv || fd < 0 || pvc_init(&raw, fd)) {
        fprintf(stderr, "gnt_hostile: cannot reach the hypervisor\n");
        return 1;
    }
    gt = pv_grant_table(hv, &gt_nr);
    if (!gt) {
        fprintf(stderr, "gnt_hostile: no grant table: %s\n", strerror(errno));
        return 1;
    }
    while (fgets(line, sizeof(line), stdin)) {
        char *args[8], *save = NULL;
        int n = 0;
        for (char *t = strtok_r(line, " \t\n", &save); t && n < 8;
             t = strtok_r(NULL, " \t\n", &save)) {
            args[n++] = t;
        }
        if (n == 0) {
            continue;
        }
        if (strcmp(args[0], "quit") == 0) {
            break;
        }
        dispatch(n, args);
        printf("end\n");
    }
    if (flipper.running) {
        cmd_unflip();
    }
    pv_close(hv);
    pvc_fini(&raw);
    return 0;
}
