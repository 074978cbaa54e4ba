/* SPDX-License-Identifier: MIT */
/*
 * fuzz_gntdev_ioctl.c - libFuzzer target for the preload library's
 * /dev/xen/gntalloc and /dev/xen/gntdev (src/compat/grant.c): ioctl
 * decoding, mmap and munmap, and its mapping registry, against a daemon
 * that really serves them.
 *
 * The daemon runs in this process, on a thread of its own that is the
 * only one touching it: the loop of daemon_run (epoll, conn_input,
 * conn_reap) plus a command pipe.  Devices are opened as the preload
 * library opens them, with grant_open(): through a domain token
 * (PROCVISOR_FD, from PV_MSG_TOKEN on a dom0 control connection), so each
 * device's connection is one end of a socketpair made by
 * pvc_domain_socket(), HELLO'd by pvc_init(), and the daemon's end is a
 * CONN_DOMAIN connection made by conn_new() (m_attach).  The daemon thread
 * closes the pidfds m_attach opens: they name this process, and a DESTROY
 * would kill it.  shim.c is not linked: this file is its descriptor table
 * (four slots) and shim_real.
 *
 * Everything is reset for every input: a daemon with dom0, domain A (1)
 * and domain B (2), one process connection for each domain (so a domain
 * outlives its devices), and four devices: 0 gntalloc in A, 1 gntdev in
 * B, 2 gntdev in A, 3 gntalloc in B.  After every record the daemon thread
 * handles everything queued (a barrier), so what reaches the daemon in
 * which order does not depend on scheduling, and checks the core's grant
 * bookkeeping.  The reset is most of an input's cost (about 1.5 ms: the
 * core's domains, a thread, a dozen round trips to open the devices), but
 * resetting every N inputs would carry grants, mappings and grant.c's
 * registry from one input to the next, and a crash would no longer be
 * reproducible from the input that showed it.
 *
 * Memory: argument buffers live in areas of this process (ARG, SEG,
 * DATA, and RO, which is read-only), 4 pages each followed by a PROT_NONE
 * guard page, so a read or write past an argument is -EFAULT, as from a
 * real program.  Fixed
 * mappings go into an arena of ARENA_PAGES reserved pages; an munmap of
 * arena pages (or of pages of a mapping this file placed elsewhere)
 * reserves them again instead of leaving a hole something else could
 * take, so every address handed to grant.c stays ours.
 *
 * Input: a sequence of records, a kind byte (% 10) then its fields,
 * little-endian; a short input reads as zeroes.  `dev` is a slot (% 4);
 * `place` puts an argument in ARG: < 0xf8 ends it that many bytes before
 * the guard; 0xf8 NULL, 0xf9 (void *)1, 0xfa the guard, 0xfb 8 bytes
 * before the guard (the rest faults), 0xfc a kernel address, 0xfd at the
 * end of RO (read, but no write back), else it ends at the guard.
 *    0 IOCTL   dev, req u8, place u8, len u16 (% 4097), [u32 request,]
 *              len bytes of argument.  The request is ALLOC_GREF,
 *              DEALLOC_GREF, SET_UNMAP_NOTIFY, MAP_GRANT_REF,
 *              UNMAP_GRANT_REF, GET_OFFSET_FOR_VADDR or GRANT_COPY by
 *              req % 8, or (7) the u32, which is there only then.  A
 *              GRANT_COPY's segments pointer is replaced by one into SEG
 *              (zeroed: every segment is invalid), placed as byte 8 says;
 *              a GET_OFFSET_FOR_VADDR vaddr below 2^56 is an offset in
 *              the arena.
 *    1 COPY    dev, place u8, segplace u8, nseg u8 (% 65), extra u8 (% 4),
 *              nseg x {24 bytes of ioctl_gntdev_grant_copy_segment, src
 *              u8, dst u8}: GRANT_COPY of nseg + extra segments (the
 *              extra ones zero or past the guard), ending segplace bytes
 *              before SEG's guard; a local side's pointer is DATA + 64 *
 *              sel for sel < 0xf0, then NULL, 1, the guard, a kernel
 *              address, arena page 0, arena page 1, RO, and NULL for the
 *              rest
 *    2 MMAP    dev, off u16 (pages), npages u8 (1 + % 128), prot u8 (bit 0
 *              read, 1 write), flags u8 (bit 0 MAP_FIXED at arena page pg,
 *              1 MAP_PRIVATE, 2 an unaligned offset, 3 a length short of
 *              whole pages), pg u8
 *    3 MUNMAP  which u8 (a mapping placed by the kernel, or the arena),
 *              pg u8, npages u8: grant_munmap of those pages
 *    4 REPLACE which, pg, npages: the program maps anonymous memory
 *              MAP_FIXED there (grant_overlaps, then grant_replaced)
 *    5 CLOSE   dev: the program closes the descriptor (the device lives
 *              on while mapped)
 *    6 OPEN    dev: a closed slot opens a new device
 *    7 EVTCHN  dom u8 (A or B), op u8, x u8: EVTCHNOP_alloc_unbound with
 *              remote domain x, or close of port x, by the domain's
 *              process (for SEND_EVENT notifications)
 *    8 CTL     op u8, dom u8: dom0's DESTROY or GNTTAB of domain dom % 4
 *    9 PROC    dom u8: the domain's process exits: its connection and its
 *              token close (the domain dies once its devices' connections
 *              have gone too); or, after that, one starts again (a new
 *              token, if the domain still runs)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xen_abi.h"
#include <xen/sys/gntalloc.h>
#include <xen/sys/gntdev.h>

#include "client.h"
#include "fuzz_daemon.h"
#include "shim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PG          4096ul
#define AREA_PAGES  4
#define ARENA_PAGES 256
#define NDEV        4
#define NTRACK      32

/* ---- shim.c's part ---- */

static int fz_munmap(void *addr, size_t len);

/* grant.c uses open, close, mmap, munmap and mremap of these */
struct shim_real shim_real = {
    .open = open,
    .close = close,
    .mmap = mmap,
    .munmap = fz_munmap,
    .mremap = mremap,
};

static struct shim_dev *slots[NDEV];
static const enum shim_kind slot_kind[NDEV] = {SHIM_GNTALLOC, SHIM_GNTDEV,
                                               SHIM_GNTDEV, SHIM_GNTALLOC};
static const int slot_dom[NDEV] = {1, 2, 1, 2};

struct shim_dev *shim_dev_get(int fd)
{
    for (int i = 0; i < NDEV; i++) {
        if (slots[i] && slots[i]->fd == fd) {
            __atomic_add_fetch(&slots[i]->refs, 1, __ATOMIC_ACQ_REL);
            return slots[i];
        }
    }
    return NULL;
}

/* shim.c's dev_free for a grant device */
/* shim.c's: a new connection of this process's domain (the token) */
int shim_connect_domain(struct pvc *c)
{
    int fd = pvc_domain_socket(), rc;

    if (fd < 0) {
        return fd;
    }
    rc = pvc_init(c, fd);
    if (rc) {
        close(fd);
        c->fd = -1;
    }
    return rc;
}

void shim_dev_put(struct shim_dev *dev)
{
    if (__atomic_sub_fetch(&dev->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        grant_release(dev);
        pvc_fini(&dev->conn);
        free(dev);
    }
}

/* ---- memory ---- */

/* ARG, SEG, DATA, and RO (read-only): each AREA_PAGES + a guard */
static uint8_t *areas;
static uint8_t *arena;

/* a mapping the kernel placed: ours until the end of the input */
static struct {
    uint8_t *base;
    size_t len;
} track[NTRACK];
static int ntrack;

static uint8_t *area(int i)
{
    return areas + (size_t)i * (AREA_PAGES + 1) * PG;
}

static uint8_t *guard(int i)
{
    return area(i) + AREA_PAGES * PG;
}

static bool inside(const uint8_t *p, size_t len, const uint8_t *base,
                   size_t blen)
{
    return p >= base && len <= blen && (size_t)(p - base) <= blen - len;
}

/* Keep [addr, addr+len) reserved where it is ours, else unmap it. */
static int fz_munmap(void *addr, size_t len)
{
    uint8_t *p = addr;
    size_t l = (len + PG - 1) & ~(PG - 1);
    bool ours = inside(p, l, arena, ARENA_PAGES * PG);

    for (int i = 0; i < ntrack && !ours; i++) {
        ours = inside(p, l, track[i].base, track[i].len);
    }
    if (!ours) {
        return munmap(addr, len);
    }
    return mmap(addr, l, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
                0) == MAP_FAILED
               ? -1
               : 0;
}

static void *place(int a, uint8_t how, size_t len)
{
    switch (how) {
    case 0xf8:
        return NULL;
    case 0xf9:
        return (void *)1;
    case 0xfa:
        return guard(a);
    case 0xfb:
        return guard(a) - 8;
    case 0xfc:
        return (void *)0xffff800000001000ull;
    case 0xfd:
        a = 3; /* readable, not writable */
        break;
    default:
        break;
    }
    size_t slack = how < 0xf8 ? how : 0;
    if (len + slack > AREA_PAGES * PG) {
        return area(a);
    }
    return guard(a) - slack - len;
}

static void ro_writable(bool on)
{
    if (mprotect(area(3), AREA_PAGES * PG, PROT_READ | (on ? PROT_WRITE : 0))) {
        abort();
    }
}

/* Copy an argument to where it goes, as far as that is ours. */
static void put(void *dst, const void *src, size_t len)
{
    uint8_t *d = dst;

    for (int a = 0; a < 4; a++) {
        if (d >= area(a) && d < guard(a)) {
            size_t room = (size_t)(guard(a) - d);
            if (a == 3) {
                ro_writable(true);
            }
            memcpy(d, src, len < room ? len : room);
            if (a == 3) {
                ro_writable(false);
            }
        }
    }
}

/* Before segments are placed: none but those are left anywhere. */
static void clear_segs(void)
{
    memset(area(1), 0, AREA_PAGES * PG);
    ro_writable(true);
    memset(area(3), 0, AREA_PAGES * PG);
    ro_writable(false);
}

/* ---- the daemon thread ---- */

static struct daemon dm;
static int cmd_pipe[2] = {-1, -1}, ack_pipe[2] = {-1, -1};
static char tag_cmd;
static pthread_t daemon_thread;

/* One byte through a pipe, whatever signal comes (libFuzzer's -timeout
 * is a SIGALRM every second). */
static void pipe_io(bool wr, int fd, char *c)
{
    ssize_t r;

    do {
        r = wr ? write(fd, c, 1) : read(fd, c, 1);
    } while (r < 0 && errno == EINTR);
    if (r != 1) {
        abort();
    }
}

static void handle(struct epoll_event *evs, int n, char *cmd)
{
    for (int i = 0; i < n; i++) {
        if (evs[i].data.ptr == &tag_cmd) {
            pipe_io(false, cmd_pipe[0], cmd);
            continue;
        }
        struct conn *c = evs[i].data.ptr;
        if (!c->dead) {
            conn_input(&dm, c);
        }
    }
    conn_reap(&dm);
    /* m_attach's pidfd names this process: DESTROY must not kill it */
    for (struct conn *c = dm.conns; c; c = c->next) {
        if (c->pidfd >= 0) {
            close(c->pidfd);
            c->pidfd = -1;
        }
    }
}

static void *daemon_main(void *arg)
{
    struct epoll_event evs[64];

    (void)arg;
    for (;;) {
        char cmd = 0;
        int n = epoll_wait(dm.epfd, evs, 64, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            abort();
        }
        handle(evs, n, &cmd);
        if (cmd == 's') {
            /* the barrier: everything already queued, then the answer */
            while ((n = epoll_wait(dm.epfd, evs, 64, 0)) > 0) {
                handle(evs, n, &cmd);
            }
            fz_check_core(&dm);
            char a = 'a';
            pipe_io(true, ack_pipe[1], &a);
        } else if (cmd == 'q') {
            return NULL;
        }
    }
}

static void command(char c)
{
    char a;

    pipe_io(true, cmd_pipe[1], &c);
    if (c == 's') {
        pipe_io(false, ack_pipe[0], &a);
    }
}

/* ---- domains and devices ---- */

static struct pvc ctl;
static struct pvc proc[3]; /* by domid; fd -1 when closed */
static int token[3] = {-1, -1, -1};

static int use_token(int domid)
{
    char s[16];

    if (token[domid] < 0) {
        return -1;
    }
    snprintf(s, sizeof(s), "%d", token[domid]);
    setenv(PV_ENV_FD, s, 1);
    return 0;
}

/* The domain's process starts: a token from dom0, then its connection. */
static void proc_open(int domid)
{
    struct pv_domid_req req = {.domid = (uint32_t)domid};
    int fd;

    proc[domid].fd = -1;
    if (token[domid] >= 0) {
        close(token[domid]); /* a start that failed half way */
    }
    token[domid] = -1;
    if (pvc_call(&ctl, PV_MSG_TOKEN, &req, sizeof(req), NULL, 0, NULL,
                 &token[domid]) != domid) {
        if (token[domid] >= 0) {
            close(token[domid]);
        }
        token[domid] = -1;
        return;
    }
    if (use_token(domid) || (fd = pvc_domain_socket()) < 0) {
        return;
    }
    if (pvc_init(&proc[domid], fd)) {
        close(fd);
        proc[domid].fd = -1;
    }
}

/* The process exits: its connection and the token go (the domain lives
 * on while a device's connection does). */
static void proc_close(int domid)
{
    if (proc[domid].fd >= 0) {
        pvc_fini(&proc[domid]);
    }
    proc[domid].fd = -1;
    if (token[domid] >= 0) {
        close(token[domid]);
    }
    token[domid] = -1;
}

static void dev_open(int i)
{
    struct shim_dev *dev = calloc(1, sizeof(*dev));

    if (!dev) {
        abort();
    }
    dev->kind = slot_kind[i];
    dev->refs = 1; /* the table's */
    dev->fd = -1;
    if (use_token(slot_dom[i]) || grant_open(dev, O_CLOEXEC)) {
        free(dev);
        return;
    }
    slots[i] = dev;
}

/* The program closes the descriptor: the table's reference goes. */
static void dev_close(int i)
{
    if (slots[i]) {
        close(slots[i]->fd);
        shim_dev_put(slots[i]);
        slots[i] = NULL;
    }
}

/* ---- records ---- */

static void ioctl_dev(int i, unsigned long req, void *arg)
{
    struct shim_dev *dev = slots[i] ? shim_dev_get(slots[i]->fd) : NULL;

    if (dev) {
        grant_ioctl(dev, req, arg);
        shim_dev_put(dev);
    }
}

static void rec_ioctl(struct input *in)
{
    static const unsigned long reqs[7] = {
        IOCTL_GNTALLOC_ALLOC_GREF,     IOCTL_GNTALLOC_DEALLOC_GREF,
        IOCTL_GNTDEV_SET_UNMAP_NOTIFY, IOCTL_GNTDEV_MAP_GRANT_REF,
        IOCTL_GNTDEV_UNMAP_GRANT_REF,  IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR,
        IOCTL_GNTDEV_GRANT_COPY,
    };
    int i = u8(in) % NDEV;
    uint8_t r = u8(in) % 8, how = u8(in);
    size_t len = u16(in) % (PG + 1);
    unsigned long req = r < 7 ? reqs[r] : u32(in);
    static uint8_t buf[PG];
    void *arg = place(0, how, len);

    bytes(in, buf, len);
    if (req == IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR && len >= 8 && !buf[7]) {
        /* a small vaddr is an offset in the arena */
        uint64_t v;
        memcpy(&v, buf, sizeof(v));
        v = (uint64_t)(uintptr_t)arena + v % (ARENA_PAGES * PG);
        memcpy(buf, &v, sizeof(v));
    }
    if (req == IOCTL_GNTDEV_GRANT_COPY && len >= 16) {
        /* only segments whose pointers are ours: none valid */
        void *segs = place(1, buf[8], 0);
        clear_segs();
        memcpy(buf + 8, &segs, sizeof(segs));
    }
    put(arg, buf, len);
    ioctl_dev(i, req, arg);
}

static void *local_ptr(uint8_t sel)
{
    switch (sel) {
    case 0xf0:
        return NULL;
    case 0xf1:
        return (void *)1;
    case 0xf2:
        return guard(2);
    case 0xf3:
        return (void *)0xffff800000001000ull;
    case 0xf4:
        return arena;
    case 0xf5:
        return arena + PG;
    case 0xf6:
        return area(3);
    default:
        return sel < 0xf0 ? area(2) + (size_t)sel * 64 : NULL;
    }
}

static void rec_copy(struct input *in)
{
    int i = u8(in) % NDEV;
    uint8_t how = u8(in), segplace = u8(in);
    uint32_t nseg = u8(in) % 65, extra = u8(in) % 4;
    struct ioctl_gntdev_grant_copy op = {.count = nseg + extra};
    struct ioctl_gntdev_grant_copy_segment s[64];
    void *arg = place(0, how, sizeof(op));

    for (uint32_t k = 0; k < nseg; k++) {
        bytes(in, &s[k], sizeof(s[k]));
        uint8_t src = u8(in), dst = u8(in);
        if (!(s[k].flags & GNTCOPY_source_gref)) {
            s[k].source.virt = local_ptr(src);
        }
        if (!(s[k].flags & GNTCOPY_dest_gref)) {
            s[k].dest.virt = local_ptr(dst);
        }
    }
    clear_segs();
    op.segments = place(1, segplace, nseg * sizeof(s[0]));
    put(op.segments, s, nseg * sizeof(s[0]));
    put(arg, &op, sizeof(op));
    ioctl_dev(i, IOCTL_GNTDEV_GRANT_COPY, arg);
}

/* pages [pg, pg + n) of the arena or of a mapping the kernel placed */
static uint8_t *range(uint8_t which, uint8_t pg, uint8_t n, size_t *len)
{
    uint8_t *base = arena;
    size_t pages = ARENA_PAGES;

    if (which < ntrack) {
        base = track[which].base;
        pages = track[which].len / PG;
    }
    pg %= pages;
    *len = (size_t)(n ? n : 1) * PG;
    if (*len > (pages - pg) * PG) {
        *len = (pages - pg) * PG;
    }
    return base + (size_t)pg * PG;
}

static void rec_mmap(struct input *in)
{
    int i = u8(in) % NDEV;
    uint64_t off = (uint64_t)u16(in) * PG;
    uint32_t n = 1 + u8(in) % 128;
    uint8_t p = u8(in), f = u8(in), pg = u8(in);
    int prot = ((p & 1) ? PROT_READ : 0) | ((p & 2) ? PROT_WRITE : 0);
    int flags = (f & 2) ? MAP_PRIVATE : MAP_SHARED;
    size_t len = n * PG;
    void *addr = NULL, *r;

    if ((f & 1) || ntrack == NTRACK) {
        if (pg + n > ARENA_PAGES) {
            pg = (uint8_t)(ARENA_PAGES - n);
        }
        addr = arena + (size_t)pg * PG;
        flags |= MAP_FIXED;
    }
    if (f & 4) {
        off += 512;
    }
    if (f & 8) {
        len -= 100;
    }
    if (!slots[i]) {
        return;
    }
    r = grant_mmap(slots[i], addr, len, prot, flags, (off_t)off);
    if (r == MAP_FAILED) {
        return;
    }
    if (flags & MAP_FIXED) {
        if (r != addr) {
            abort();
        }
        return;
    }
    if (inside(r, n * PG, arena, ARENA_PAGES * PG)) {
        abort(); /* the kernel does not place over a reservation */
    }
    track[ntrack].base = r;
    track[ntrack++].len = n * PG;
}

static void rec_munmap(struct input *in)
{
    uint8_t which = u8(in), pg = u8(in), n = u8(in);
    size_t len;
    uint8_t *p = range(which, pg, n, &len);

    grant_munmap(p, len);
}

static void rec_replace(struct input *in)
{
    uint8_t which = u8(in), pg = u8(in), n = u8(in);
    size_t len;
    uint8_t *p = range(which, pg, n, &len);

    /* shim.c's mremap asks first; its mmap tells afterwards */
    (void)grant_overlaps(p, len);
    if (mmap(p, len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
        abort();
    }
    if (grant_maps_any()) {
        grant_replaced(p, len);
    }
}

static void rec_evtchn(struct input *in)
{
    int d = 1 + (u8(in) & 1);
    uint8_t op = u8(in), x = u8(in);
    uint64_t a[5] = {0};
    union {
        struct evtchn_alloc_unbound au;
        struct evtchn_close cl;
    } u;

    if (proc[d].fd < 0) {
        return;
    }
    memset(&u, 0, sizeof(u));
    if (op & 1) {
        u.cl.port = x;
        a[0] = EVTCHNOP_close;
    } else {
        u.au.dom = DOMID_SELF;
        u.au.remote_dom = x % 4;
        a[0] = EVTCHNOP_alloc_unbound;
    }
    a[1] = (uint64_t)(uintptr_t)&u;
    pvc_hypercall(&proc[d], 0, __HYPERVISOR_event_channel_op, a);
}

static void rec_ctl(struct input *in)
{
    uint8_t op = u8(in);
    struct pv_domid_req req = {.domid = u8(in) % 4};
    static uint8_t rep[PV_PAYLOAD_MAX];

    pvc_call(&ctl, (op & 1) ? PV_MSG_GNTTAB : PV_MSG_DESTROY, &req, sizeof(req),
             rep, sizeof(rep), NULL, NULL);
}

static void record(struct input *in)
{
    switch (u8(in) % 10) {
    case 0:
        rec_ioctl(in);
        break;
    case 1:
        rec_copy(in);
        break;
    case 2:
        rec_mmap(in);
        break;
    case 3:
        rec_munmap(in);
        break;
    case 4:
        rec_replace(in);
        break;
    case 5:
        dev_close(u8(in) % NDEV);
        break;
    case 6: {
        int i = u8(in) % NDEV;
        if (!slots[i]) {
            dev_open(i);
        }
        break;
    }
    case 7:
        rec_evtchn(in);
        break;
    case 8:
        rec_ctl(in);
        break;
    default: {
        int d = 1 + (u8(in) & 1);
        if (proc[d].fd >= 0) {
            proc_close(d);
        } else {
            proc_open(d);
        }
        break;
    }
    }
}

/* ---- one input ---- */

static void setup_once(void)
{
    long ps = sysconf(_SC_PAGESIZE);

    if (ps != (long)PG || pipe2(cmd_pipe, O_CLOEXEC) ||
        pipe2(ack_pipe, O_CLOEXEC)) {
        abort();
    }
    areas = mmap(NULL, 4 * (AREA_PAGES + 1) * PG, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    arena = mmap(NULL, ARENA_PAGES * PG, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (areas == MAP_FAILED || arena == MAP_FAILED) {
        abort();
    }
    for (int a = 0; a < 4; a++) {
        if (mprotect(guard(a), PG, PROT_NONE)) {
            abort();
        }
    }
    ro_writable(false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    struct hv_domain_cfg cfg = {
        .name = "Domain-0",
        .memory_kib = 512,
        .max_grant_frames = 2,
        .max_maptrack = 1,
        .max_evtchn = 64,
        .max_vcpus = 1,
        .flags = PV_CREATE_PV,
    };
    struct hv_env env = daemon_env_template;
    struct hv_domain *d;
    struct conn *c;
    struct input in = {data, size};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_cmd};
    int fd, fds_before;

    if (!once) {
        setup_once();
        once = true;
    }
    fds_before = fz_count_fds();
    for (int a = 0; a < 3; a++) {
        memset(area(a), 0, AREA_PAGES * PG);
    }
    clear_segs();

    /* the daemon: built here, then only its thread touches it */
    env.ctx = &dm;
    fz_daemon_init(&dm, &env, 1024); /* host pages: loops walk them all */
    dm.hv.gntalloc_limit = 96;
    if (hv_domain_create(&dm.hv, &cfg, &d)) {
        abort();
    }
    cfg.flags = 0;
    cfg.name = "granter";
    if (hv_domain_create(&dm.hv, &cfg, &d)) {
        abort();
    }
    cfg.name = "grantee";
    if (hv_domain_create(&dm.hv, &cfg, &d) || d->id != 2) {
        abort();
    }
    fd = fz_conn(&dm, CONN_CONTROL, NULL, false, &c);
    if (fd < 0 || epoll_ctl(dm.epfd, EPOLL_CTL_ADD, cmd_pipe[0], &ev) ||
        pthread_create(&daemon_thread, NULL, daemon_main, NULL) ||
        pvc_init(&ctl, fd)) {
        abort();
    }
    for (int id = 1; id <= 2; id++) {
        proc_open(id);
        if (proc[id].fd < 0) {
            abort();
        }
    }
    for (int i = 0; i < NDEV; i++) {
        dev_open(i);
        if (!slots[i]) {
            abort();
        }
    }

    while (in.n) {
        record(&in);
        command('s');
    }

    /* everything the program maps goes, then its descriptors */
    grant_munmap(arena, ARENA_PAGES * PG);
    for (int i = 0; i < ntrack; i++) {
        grant_munmap(track[i].base, track[i].len);
    }
    for (int i = 0; i < ntrack; i++) {
        munmap(track[i].base, track[i].len);
    }
    ntrack = 0;
    for (int i = 0; i < NDEV; i++) {
        dev_close(i);
    }
    if (grant_maps_any()) {
        fprintf(stderr, "fuzz: grant.c tracks a mapping after all went\n");
        abort();
    }
    for (int id = 1; id <= 2; id++) {
        proc_close(id);
    }
    pvc_fini(&ctl);
    command('q');
    pthread_join(daemon_thread, NULL);
    fz_daemon_fini(&dm);
    unsetenv(PV_ENV_FD);
    fz_check_fds(fds_before);
    return 0;
}
