/* SPDX-License-Identifier: MIT */
/*
 * fuzz_vfio_ioctl.c - libFuzzer target for the preload library's VFIO
 * descriptors (src/compat/vfio.c): the ioctl argument decoding, region
 * access on the device model's socket, mmap of regions and the sysfs
 * paths, against peers whose every answer is the input's.
 *
 * No daemon: each connection vfio.c opens (shim_connect_domain, here) is
 * one end of a socketpair whose other end this file holds.  A call that
 * waits for an answer finds it already queued: before each call the
 * input says what the peer answers (any ret, cookie, declared and real
 * length, bytes and descriptors, a wrong seq or type, or a closed peer),
 * and after it the requests are read back and dropped, their descriptors
 * closed.  The device model's socket (a stream or SEQPACKET, as the
 * input says) is the same with vfio-user replies, whose id is the one the
 * next request will carry (counted from the requests read back) unless
 * the input breaks it, and which may be preceded by a command of the
 * server's.  shim.c is not linked: this file is its descriptor table
 * (NSLOT slots) and shim_real.
 *
 * What must hold, whatever the peers say: no crash or sanitizer report;
 * nothing written to the argument past its argsz (the bytes after it are
 * a canary checked after every ioctl) or into read-only memory; no
 * descriptor leaked once every slot is closed (fz_check_fds).
 *
 * Memory: the argument lives in ARG (AREA_PAGES pages followed by a
 * PROT_NONE guard page); `place` ends it that many bytes before the guard
 * (< 0xf8), or is NULL (0xf8), the guard (0xf9), in the read-only area
 * RO (0xfa: read but never written back), or a kernel address (0xfb).
 * SHM is AREA_PAGES pages of a memfd mapped shared (and its descriptor
 * stays open), ANON plain anonymous memory: MAP_DMA's vaddr points into
 * either, or anywhere.
 *
 * Input: records, a kind byte (% 6) then its fields, little-endian; a
 * short input reads as zeroes.  A reply spec is: ctl u8 (bit 0 wrong seq,
 * 1 wrong type, 2 a bare pv_rep, 3 rep.len off by one, 4 the peer
 * closes instead, 5 HELLO refused on a new connection), ret as s16,
 * cookie u8, nfds u8 (% 4) and a kind byte per descriptor (% 5: a stream
 * and a SEQPACKET socket whose peers become a device's, a SEQPACKET
 * connection with its HELLO answered, a memfd of 8 pages, an eventfd),
 * nbytes u16 (% 2049), the bytes.
 *    0 OPEN    which u8 (0 /dev/vfio/vfio, else group which - 1),
 *              reply spec
 *    1 IOCTL   slot u8, req u8, place u8, len u16 (% 4097), argsz u32,
 *              len bytes of argument (argsz is written over its first 4),
 *              sel u8, reply spec.  req picks a VFIO request by kind or
 *              (>= 0xf0) a raw one (0x3B64 + u8).  SET_CONTAINER's int is
 *              slot sel's descriptor (sel < NSLOT) or sel - 8;
 *              MAP_DMA's vaddr is SHM (sel & 3 == 0), ANON (1), or as
 *              given; SET_IRQS/IOEVENTFD entries whose low byte is < 4
 *              become -1, an eventfd, another, or a closed number.
 *    2 RW      slot u8, flags u8 (bit 0 write, 1 preadv/pwritev in 2
 *              vectors, 2 a count over max_data_xfer_size), region u8,
 *              addr u16, count u16 (% 4097), place u8, nrep u8 (% 4),
 *              then per reply: ctl u8 (bit 0 wrong id, 1 error, 2 a server
 *              command first, 3 count + 1, 4 wrong region, 5 EOF,
 *              6 length off), errno u8, count u16, bytes (count of them,
 *              for a read)
 *    3 MMAP    slot u8, region u8, page u8, npages u8 (1 + % 16), flags u8
 *              (bit 0 MAP_PRIVATE, 1 unaligned), reply spec
 *    4 CLOSE   slot u8
 *    5 SYSFS   path u8 (% NPATHS), op u8 (% 7: readlink, open, fopen,
 *              stat, lstat, access, opendir + readdir), reply spec
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "client.h"
#include "fuzz_daemon.h"
#include "shim.h"
#include "sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PG         4096ul
#define AREA_PAGES 4
#define NSLOT      6
#define CANARY     0xa5
#define MAX_PAIRS  8

/* ---- shim.c's part ---- */

struct shim_real shim_real = {
    .open = open,
    .close = close,
    .read = read,
    .ioctl = ioctl,
    .fcntl = fcntl,
    .mmap = mmap,
    .munmap = munmap,
    .dup3 = dup3,
    .opendir = opendir,
    .readdir = readdir,
    .closedir = closedir,
};

struct slot {
    struct shim_dev *dev;
    int peer;    /* the connection's other end */
    int dm_peer; /* a device: the device model's end */
    bool dm_stream;
    uint16_t dm_id; /* the id of the last request read back */
    uint32_t xfer;  /* what vfio.c will send per message (as it decides) */
};
static struct slot slots[NSLOT];

/* socketpairs made for one reply, until the shim adopts them */
static struct pair {
    int mine, peer; /* mine: closed after the record (the shim has a dup) */
    bool stream, conn;
} pairs[MAX_PAIRS];
static int npairs;

/* the answer the next connection vfio.c opens finds queued */
static uint8_t next_reply[PV_MSG_MAX];
static size_t next_reply_len;
static int next_fds[4], next_nfds;
static bool next_close, next_bad_hello;
static uint32_t next_xfer; /* a GET_DEVICE_FD answer's max_data_xfer_size */
static int new_peer = -1;  /* that connection's other end */

struct shim_dev *shim_dev_get(int fd)
{
    for (int i = 0; i < NSLOT; i++) {
        if (slots[i].dev && slots[i].dev->fd == fd) {
            __atomic_add_fetch(&slots[i].dev->refs, 1, __ATOMIC_ACQ_REL);
            return slots[i].dev;
        }
    }
    return NULL;
}

/* shim.c's dev_free for a VFIO device (the program's descriptor is closed
 * by whoever drops it) */
void shim_dev_put(struct shim_dev *dev)
{
    if (__atomic_sub_fetch(&dev->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        vfio_release(dev);
        pvc_fini(&dev->conn);
        free(dev);
    }
}

static ino_t ino_of(int fd)
{
    struct stat st;

    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

int shim_dev_install(struct shim_dev *dev)
{
    for (int i = 0; i < NSLOT; i++) {
        if (slots[i].dev) {
            continue;
        }
        slots[i] = (struct slot){.dev = dev, .peer = -1, .dm_peer = -1};
        if (dev->kind != SHIM_VFIO_DEVICE) {
            slots[i].peer = new_peer;
            new_peer = -1;
            return dev->fd;
        }
        /* adopt the peers of the two descriptors it was given */
        for (int p = 0; p < npairs; p++) {
            ino_t ino = ino_of(pairs[p].mine);
            if (pairs[p].peer >= 0 && ino == ino_of(dev->fd)) {
                slots[i].dm_peer = pairs[p].peer;
                slots[i].dm_stream = pairs[p].stream;
                slots[i].xfer = next_xfer;
                if (!pairs[p].stream && next_xfer > 64 * 1024) {
                    slots[i].xfer = 64 * 1024;
                }
                pairs[p].peer = -1;
            } else if (pairs[p].peer >= 0 && ino == ino_of(dev->conn.fd)) {
                slots[i].peer = pairs[p].peer;
                pairs[p].peer = -1;
            }
        }
        return dev->fd;
    }
    return -EMFILE;
}

/* A HELLO answer (seq 1) queued on a new connection's peer. */
static void queue_hello(int peer, bool bad)
{
    struct {
        struct pv_hdr h;
        struct pv_hello_rep r;
    } m = {.r = {.ret = bad ? -EPERM : 0, .domid = 1, .max_vcpus = 1}};
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};

    pv_hdr_init(&m.h, PV_MSG_HELLO, PV_F_REPLY, sizeof(m.r), 1);
    pv_send(peer, &iov, 1, NULL, 0, MSG_DONTWAIT);
}

int shim_connect_domain(struct pvc *c)
{
    int sv[2], rc;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        abort();
    }
    queue_hello(sv[1], next_bad_hello);
    if (next_close) {
        shutdown(sv[1], SHUT_WR); /* answers HELLO, then nothing */
    } else if (next_reply_len) {
        struct iovec iov = {.iov_base = next_reply, .iov_len = next_reply_len};
        pv_send(sv[1], &iov, 1, next_fds, next_nfds, MSG_DONTWAIT);
    }
    rc = pvc_init(c, sv[0]);
    if (rc) {
        close(sv[0]);
        close(sv[1]);
        c->fd = -1;
        return rc;
    }
    if (new_peer >= 0) {
        close(new_peer); /* an earlier one nobody adopted */
    }
    new_peer = sv[1];
    return 0;
}

/* ---- memory ---- */

static uint8_t *arg_area, *ro_area, *shm_area, *anon_area;
static int shm_fd = -1;

static uint8_t *guard(void)
{
    return arg_area + AREA_PAGES * PG;
}

static void *place(uint8_t how, size_t len)
{
    switch (how) {
    case 0xf8:
        return NULL;
    case 0xf9:
        return guard();
    case 0xfa:
        return ro_area;
    case 0xfb:
        return (void *)0xffff800000001000ull;
    default:
        break;
    }
    size_t slack = how < 0xf8 ? how : 0;
    if (len + slack > AREA_PAGES * PG) {
        return arg_area;
    }
    return guard() - slack - len;
}

/* ---- the peers ---- */

/* A descriptor for a reply, of kind k; socket pairs are remembered.  The
 * second descriptor of GET_DEVICE_FD's answer is a connection vfio.c says
 * HELLO on at once: its answer is queued whatever the kind (what is not
 * a SEQPACKET socket is refused before, unanswered it would hang). */
static int make_fd(uint8_t k, int index)
{
    int sv[2], fd;

    switch (k % 5) {
    case 0:
    case 1:
    case 2:
        if (npairs == MAX_PAIRS ||
            socketpair(AF_UNIX,
                       (k % 5 == 0 ? SOCK_STREAM : SOCK_SEQPACKET) |
                           SOCK_CLOEXEC,
                       0, sv) < 0) {
            return eventfd(0, EFD_CLOEXEC);
        }
        if (k % 5 == 2 || index == 1) {
            queue_hello(sv[1], next_bad_hello);
        }
        pairs[npairs++] = (struct pair){sv[0], sv[1], k % 5 == 0, k % 5 == 2};
        return sv[0];
    case 3:
        fd = memfd_create("region", MFD_CLOEXEC);
        if (fd >= 0 && ftruncate(fd, 8 * PG)) {
            abort();
        }
        return fd;
    default:
        return eventfd(0, EFD_CLOEXEC);
    }
}

/*
 * Read a reply spec and build its datagram into next_reply (seq being the
 * seq the request will carry); descriptors into next_fds.
 */
static void reply_spec(struct input *in, uint32_t seq)
{
    uint8_t ctl = u8(in);
    struct pv_vfio_rep rep = {.ret = (int16_t)u16(in), .cookie = u8(in)};
    int nfds = u8(in) % 4;
    struct pv_hdr h;
    size_t nbytes, plen;

    next_bad_hello = (ctl & 32) != 0;
    for (int i = 0; i < nfds; i++) {
        next_fds[i] = make_fd(u8(in), i);
    }
    next_nfds = nfds;
    nbytes = u16(in) % 2049;
    rep.len = (uint32_t)nbytes + ((ctl & 8) ? 1 : 0);
    plen = (ctl & 4) ? sizeof(struct pv_rep) : sizeof(rep) + nbytes;
    pv_hdr_init(&h, (ctl & 2) ? PV_MSG_HELLO : PV_MSG_VFIO, PV_F_REPLY,
                (uint32_t)plen, (ctl & 1) ? seq + 7 : seq);
    memcpy(next_reply, &h, sizeof(h));
    memcpy(next_reply + sizeof(h), &rep,
           plen < sizeof(rep) ? plen : sizeof(rep));
    bytes(in, next_reply + sizeof(h) + sizeof(rep), nbytes);
    next_reply_len = sizeof(h) + plen;
    next_close = (ctl & 16) != 0;
    /* vfio.c's rule for the device's transfer size */
    next_xfer = 1u << 20;
    if (nbytes >= 8) {
        uint32_t x;
        memcpy(&x, next_reply + sizeof(h) + sizeof(rep), sizeof(x));
        if (x >= 8 && x < (1u << 20)) {
            next_xfer = x;
        }
    }
}

/* Queue the spec'ed reply on a connection's peer (or close that). */
static void queue_reply(struct slot *s)
{
    if (s->peer < 0) {
        return;
    }
    if (next_close) {
        close(s->peer);
        s->peer = -1;
        return;
    }
    struct iovec iov = {.iov_base = next_reply, .iov_len = next_reply_len};
    pv_send(s->peer, &iov, 1, next_fds, next_nfds, MSG_DONTWAIT);
}

static void reply_done(void)
{
    for (int i = 0; i < next_nfds; i++) {
        close(next_fds[i]);
    }
    next_nfds = 0;
    next_reply_len = 0;
    next_close = next_bad_hello = false;
}

/* Drop what is queued on fd (requests on a peer, unread replies on the
 * shim's end), closing descriptors.  A stream peer of a device model:
 * count the requests' ids. */
static void drain(int fd)
{
    fz_drain(fd);
}

static void drain_dm(struct slot *s)
{
    static uint8_t b[PV_MSG_MAX + 1];
    size_t have = 0;

    if (s->dm_peer < 0) {
        return;
    }
    for (;;) {
        ssize_t r = recv(s->dm_peer, b + have, sizeof(b) - have, MSG_DONTWAIT);
        if (r <= 0) {
            break;
        }
        have += (size_t)r;
        /* every message the shim sends starts a datagram or follows the
         * last in the stream: walk their headers */
        size_t pos = 0;
        while (have - pos >= 16) {
            uint16_t id;
            uint32_t msize, flags;
            memcpy(&id, b + pos, 2);
            memcpy(&msize, b + pos + 4, 4);
            memcpy(&flags, b + pos + 8, 4);
            if (!s->dm_stream) {
                msize = (uint32_t)(have - pos);
            }
            if (msize < 16 || msize > have - pos) {
                break;
            }
            if ((flags & 0xf) == 0) {
                s->dm_id = id; /* a command of the shim's */
            }
            pos += msize;
        }
        memmove(b, b + pos, have - pos);
        have -= pos;
        if (have == sizeof(b)) {
            have = 0;
        }
    }
}

/* Queue a vfio-user reply to the next request on the device model's
 * socket. */
static void dm_reply(struct slot *s, struct input *in, uint16_t id,
                     uint16_t cmd, uint32_t region, uint64_t off)
{
    static uint8_t m[64 + 4096];
    uint8_t ctl = u8(in), err = u8(in);
    uint16_t count = u16(in) % 4097;
    struct {
        uint16_t id, cmd;
        uint32_t size, flags, error;
    } h = {(ctl & 1) ? (uint16_t)(id + 3) : id, cmd, 0, 1, 0};
    struct {
        uint64_t offset;
        uint32_t region, count;
    } a = {off, (ctl & 16) ? region + 1 : region, count + ((ctl & 8) ? 1 : 0)};
    size_t len = 16;

    if (s->dm_peer < 0) {
        return;
    }
    if (ctl & 32) {
        shutdown(s->dm_peer, SHUT_WR);
        return;
    }
    if (ctl & 4) {
        /* the server's own DMA_READ first */
        uint32_t cmdm[4 + 4] = {0};
        uint16_t w[2] = {0x55, 11};
        memcpy(cmdm, w, 4);
        cmdm[1] = 32;
        struct iovec iov = {.iov_base = cmdm, .iov_len = 32};
        pv_send(s->dm_peer, &iov, 1, NULL, 0, MSG_DONTWAIT);
    }
    if (ctl & 2) {
        h.flags |= 0x20;
        h.error = err;
    } else {
        memcpy(m + 16, &a, sizeof(a));
        len += sizeof(a);
        if (cmd == 9) {
            bytes(in, m + len, count);
            len += count;
        }
    }
    /* a size short of what follows (longer would leave a stream waiting
     * for bytes that never come) */
    h.size = (uint32_t)len - ((ctl & 64) ? 1 : 0);
    memcpy(m, &h, sizeof(h));
    struct iovec iov = {.iov_base = m, .iov_len = len};
    pv_send(s->dm_peer, &iov, 1, NULL, 0, MSG_DONTWAIT);
}

/* ---- the records ---- */

static const unsigned long reqs[] = {
    VFIO_GET_API_VERSION,
    VFIO_CHECK_EXTENSION,
    VFIO_SET_IOMMU,
    VFIO_GROUP_GET_STATUS,
    VFIO_GROUP_SET_CONTAINER,
    VFIO_GROUP_UNSET_CONTAINER,
    VFIO_GROUP_GET_DEVICE_FD,
    VFIO_DEVICE_GET_INFO,
    VFIO_DEVICE_GET_REGION_INFO,
    VFIO_DEVICE_GET_IRQ_INFO,
    VFIO_DEVICE_SET_IRQS,
    VFIO_DEVICE_RESET,
    VFIO_IOMMU_GET_INFO,
    VFIO_IOMMU_MAP_DMA,
    VFIO_IOMMU_UNMAP_DMA,
    VFIO_DEVICE_GET_GFX_DMABUF,
    VFIO_DEVICE_IOEVENTFD,
    VFIO_DEVICE_FEATURE,
    FIONBIO,
    FIOCLEX,
    0x5401, /* TCGETS: not VFIO's */
};
#define NREQS (sizeof(reqs) / sizeof(reqs[0]))

static int efd[2] = {-1, -1};
static bool trace; /* FZ_TRACE=1: say what each record got */

#define TRACE(...)                                                             \
    do {                                                                       \
        if (trace) {                                                           \
            fprintf(stderr, __VA_ARGS__);                                      \
        }                                                                      \
    } while (0)

static void op_open(struct input *in)
{
    uint8_t which = u8(in);
    char path[32];
    bool mine;
    int fd;

    reply_spec(in, 1 + 1);
    if (which == 0) {
        snprintf(path, sizeof(path), "/dev/vfio/vfio");
    } else {
        snprintf(path, sizeof(path), "/dev/vfio/%u", which - 1u);
    }
    fd = vfio_open(path, O_RDWR, &mine);
    TRACE("open %s: %d (%s)\n", path, fd, fd < 0 ? strerror(errno) : "");
    if (!mine) {
        abort();
    }
    if (fd >= 0) {
        struct shim_dev *d = shim_dev_get(fd); /* it is in the table */
        if (!d) {
            abort();
        }
        shim_dev_put(d);
    }
    reply_done();
}

/* Fill [p, p+n) up to the guard with canaries, or check they are there. */
static void canary(uint8_t *p, size_t n, bool check)
{
    size_t room = p < guard() ? (size_t)(guard() - p) : 0;

    if (n > room) {
        n = room;
    }
    for (size_t i = 0; i < n; i++) {
        if (check && p[i] != CANARY) {
            fprintf(stderr, "fuzz: written past argsz at +%zu\n", i);
            abort();
        }
        if (!check) {
            p[i] = CANARY;
        }
    }
}

static void op_ioctl(struct input *in)
{
    struct slot *s = &slots[u8(in) % NSLOT];
    uint8_t rq = u8(in), how = u8(in);
    size_t len = u16(in) % 4097;
    uint32_t argsz = u32(in);
    static uint8_t arg[4096 + 8];
    unsigned long req;
    uint8_t sel;
    uint8_t *p;

    bytes(in, arg, len);
    if (len >= 4) {
        memcpy(arg, &argsz, 4);
    }
    sel = u8(in);
    req = rq >= 0xf0 ? VFIO_GET_API_VERSION + u8(in) : reqs[rq % NREQS];
    if (!s->dev) {
        reply_spec(in, 0);
        reply_done();
        return;
    }
    reply_spec(in, s->dev->conn.seq + 1);
    if (req == VFIO_GROUP_SET_CONTAINER && len >= 4) {
        int32_t v = sel < NSLOT && slots[sel].dev ? slots[sel].dev->fd
                                                  : (int32_t)sel - 8;
        memcpy(arg, &v, 4);
    }
    if (req == VFIO_IOMMU_MAP_DMA && len >= 16) {
        uint64_t va;
        memcpy(&va, arg + 8, 8);
        if ((sel & 3) == 0) {
            va = (uint64_t)(uintptr_t)shm_area + (va % (AREA_PAGES * PG));
        } else if ((sel & 3) == 1) {
            va = (uint64_t)(uintptr_t)anon_area + (va % (AREA_PAGES * PG));
        }
        memcpy(arg + 8, &va, 8);
    }
    if (req == VFIO_DEVICE_SET_IRQS || req == VFIO_DEVICE_IOEVENTFD) {
        for (size_t o = req == VFIO_DEVICE_SET_IRQS ? 20 : 24; o + 4 <= len;
             o += 4) {
            int32_t v;
            memcpy(&v, arg + o, 4);
            switch (v & 0xff) {
            case 0:
                v = -1;
                break;
            case 1:
                v = efd[0];
                break;
            case 2:
                v = efd[1];
                break;
            case 3:
                v = 999;
                break;
            default:
                continue;
            }
            memcpy(arg + o, &v, 4);
        }
    }
    p = place(how, len);
    bool ours = p && p >= arg_area && p < guard();
    uint32_t eff = 0; /* the argsz vfio.c reads */
    uint8_t head[4] = {0};
    if (ours) {
        /* the argument, then canaries up to the guard (argsz itself
         * stays, whatever it says) */
        canary(p, (size_t)-1, false);
        memcpy(p, arg, len);
        size_t room = (size_t)(guard() - p);
        memcpy(head, p, room < 4 ? room : 4);
        if (room >= 4) {
            memcpy(&eff, p, 4);
        }
        if (eff < len) {
            size_t from = eff > 4 ? eff : 4;
            if (from < len) {
                canary(p + from, len - from, false);
            }
        }
    }
    queue_reply(s);
    int r = vfio_ioctl(s->dev, req, p);
    TRACE("  arg at guard-%ld len %zu argsz %u\n",
          p ? (long)(guard() - p) : -1L, len, eff);
    TRACE("ioctl %#lx on kind %d: %d (%s)\n", req, s->dev->kind, r,
          r < 0 ? strerror(errno) : "");
    if (ours && eff < (size_t)(guard() - p)) {
        /* nothing past argsz */
        for (uint32_t i = eff; i < 4 && i < (size_t)(guard() - p); i++) {
            if (p[i] != head[i]) {
                fprintf(stderr, "fuzz: written past argsz at +%u\n", i);
                abort();
            }
        }
        canary(p + (eff > 4 ? eff : 4), (size_t)-1, true);
    }
    reply_done();
    drain(s->peer);
    drain(s->dev->conn.fd);
}

static void op_rw(struct input *in)
{
    struct slot *s = &slots[u8(in) % NSLOT];
    uint8_t flags = u8(in), region = u8(in);
    uint64_t addr = u16(in);
    size_t count = u16(in) % 4097;
    uint8_t how = u8(in);
    int nrep = u8(in) % 4;
    /* (addr + i * x is where the i-th message of a whole transfer goes) */
    off_t off = (off_t)((uint64_t)region << 40 | addr);
    uint8_t *p;

    if ((flags & 5) == 4) {
        /* a read over one message's worth (a write that big would wait
         * for a peer that reads only after the call) */
        count += (1u << 20) + 8;
    }
    if (!s->dev || s->dev->kind != SHIM_VFIO_DEVICE) {
        if (s->dev) {
            if (vfio_pread(s->dev, arg_area, 4, 0) != -1 || errno != EINVAL) {
                abort();
            }
        }
        return;
    }
    /* the messages vfio.c sends if every answer is whole: each must find
     * its answer queued, or the end of the stream, or it would wait */
    size_t half = (flags & 2) ? count / 2 : count;
    size_t x = s->xfer ? s->xfer : 1;
    size_t msgs = (half + x - 1) / x + (count - half + x - 1) / x;
    for (int i = 0; i < nrep; i++) {
        dm_reply(s, in, (uint16_t)(s->dm_id + 1 + i), (flags & 1) ? 10 : 9,
                 region, addr + (uint64_t)i * x);
    }
    if (msgs > (size_t)nrep && s->dm_peer >= 0) {
        shutdown(s->dm_peer, SHUT_WR);
    }
    p = count > AREA_PAGES * PG ? NULL : place(how, count);
    if (count > AREA_PAGES * PG) {
        /* a big transfer: from anonymous memory of its size */
        p = mmap(NULL, count, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            abort();
        }
    }
    ssize_t r;
    if (flags & 2) {
        struct iovec v[2] = {{p, count / 2},
                             {p ? p + count / 2 : NULL, count - count / 2}};
        r = vfio_prwv(s->dev, flags & 1, v, 2, off);
    } else if (flags & 1) {
        r = vfio_pwrite(s->dev, p, count, off);
    } else {
        r = vfio_pread(s->dev, p, count, off);
    }
    TRACE("%s %zu at %#llx: %zd (%s)\n", (flags & 1) ? "write" : "read", count,
          (unsigned long long)off, r, r < 0 ? strerror(errno) : "");
    if (r > (ssize_t)count) {
        abort();
    }
    if (count > AREA_PAGES * PG) {
        munmap(p, count);
    }
    drain_dm(s);
}

static void op_mmap(struct input *in)
{
    struct slot *s = &slots[u8(in) % NSLOT];
    uint8_t region = u8(in), page = u8(in);
    size_t len = (1 + u8(in) % 16) * PG;
    uint8_t flags = u8(in);
    off_t off = (off_t)((uint64_t)region << 40 | (uint64_t)page * PG);

    if (flags & 2) {
        off += 8;
    }
    reply_spec(in, s->dev ? s->dev->conn.seq + 1 : 0);
    if (s->dev) {
        queue_reply(s);
        void *m = vfio_mmap(s->dev, NULL, len, PROT_READ | PROT_WRITE,
                            (flags & 1) ? MAP_PRIVATE : MAP_SHARED, off);
        TRACE("mmap %zu at %#llx: %s\n", len, (unsigned long long)off,
              m == MAP_FAILED ? strerror(errno) : "mapped");
        if (m != MAP_FAILED) {
            /* in bounds of what the region descriptor holds, as checked */
            *(volatile uint8_t *)m = 1;
            munmap(m, len);
        }
        drain(s->peer);
        drain(s->dev->conn.fd);
    }
    reply_done();
}

static void slot_close(struct slot *s)
{
    if (!s->dev) {
        return;
    }
    int fd = s->dev->fd;
    shim_dev_put(s->dev);
    close(fd); /* the program's descriptor */
    if (s->peer >= 0) {
        close(s->peer);
    }
    if (s->dm_peer >= 0) {
        close(s->dm_peer);
    }
    *s = (struct slot){.peer = -1, .dm_peer = -1};
}

static const char *const paths[] = {
    "/sys/bus/pci/devices",
    "/sys/bus/pci/devices/",
    "/sys/bus/pci/devices/0000:00:1f.7",
    "/sys/bus/pci/devices/0000:00:1f.7/",
    "/sys/bus/pci/devices/0000:00:1f.7/iommu_group",
    "/sys/bus/pci/devices/0000:00:1f.7/driver",
    "/sys/bus/pci/devices/0000:00:1f.7/vendor",
    "/sys/bus/pci/devices/0000:00:1f.7/class",
    "/sys/bus/pci/devices/0000:00:1f.7/subsystem_device",
    "/sys/bus/pci/devices/0000:00:1f.7/config",
    "/sys/bus/pci/devices/0000:00:1f.7/iommu_group/devices",
    "/sys/bus/pci/devices/..",
    "/sys/bus/pci/devices/0123456789012345678901234567890123456789",
    "/dev/vfio/vfio",
    "/dev/vfio/7",
    "/dev/vfio/007",
    "/dev/vfio/4294967296",
    "/dev/vfio/noiommu-7",
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static void op_sysfs(struct input *in)
{
    const char *path = paths[u8(in) % NPATHS];
    uint8_t op = u8(in) % 7;
    static char buf[256];
    struct stat st;
    bool mine = false;
    int fd;
    FILE *f;
    DIR *d;

    reply_spec(in, 2);
    switch (op) {
    case 0:
        vfio_readlink(path, buf, 1 + (size_t)(u8(in) % 200), &mine);
        break;
    case 1:
        fd = vfio_open(path, O_RDONLY | O_CLOEXEC, &mine);
        if (fd >= 0 && path[1] == 's') {
            /* a sysfs file: text to read */
            if (read(fd, buf, sizeof(buf)) < 0) {
                abort();
            }
            close(fd);
        }
        /* (a /dev/vfio node went into the table) */
        break;
    case 2:
        f = vfio_fopen(path, "re", &mine);
        if (f) {
            if (!fgets(buf, sizeof(buf), f)) {
                abort();
            }
            fclose(f);
        }
        break;
    case 3:
    case 4:
        vfio_stat(path, &st, op == 3, &mine);
        break;
    case 5:
        vfio_access(path, u8(in) & 7, &mine);
        break;
    default:
        d = vfio_opendir(path, &mine);
        if (d) {
            int n = 0;
            struct dirent *e;
            bool ours;
            while ((e = vfio_readdir(d, &ours)) != NULL && n++ < 64) {
                if (!ours) {
                    abort();
                }
            }
            vfio_closedir(d);
            closedir(d);
        }
        break;
    }
    TRACE("sysfs %s op %u: mine %d errno %s\n", path, op, mine,
          strerror(errno));
    reply_done();
    if (new_peer >= 0) {
        close(new_peer);
        new_peer = -1;
    }
}

static void setup_once(void)
{
    if (sysconf(_SC_PAGESIZE) != (long)PG) {
        abort();
    }
    arg_area = mmap(NULL, (AREA_PAGES + 1) * PG, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ro_area = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    anon_area = mmap(NULL, AREA_PAGES * PG, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    shm_fd = memfd_create("dma", MFD_CLOEXEC);
    if (arg_area == MAP_FAILED || ro_area == MAP_FAILED ||
        anon_area == MAP_FAILED || shm_fd < 0 ||
        ftruncate(shm_fd, AREA_PAGES * PG) ||
        mprotect(guard(), PG, PROT_NONE)) {
        abort();
    }
    shm_area = mmap(NULL, AREA_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
                    shm_fd, 0);
    efd[0] = eventfd(0, EFD_CLOEXEC);
    efd[1] = eventfd(0, EFD_CLOEXEC);
    if (shm_area == MAP_FAILED || efd[0] < 0 || efd[1] < 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool once;
    struct input in = {data, size};
    int fds_before;

    if (!once) {
        trace = getenv("FZ_TRACE") != NULL;
        setup_once();
        once = true;
    }
    fds_before = fz_count_fds();
    memset(arg_area, 0, AREA_PAGES * PG);
    for (int rec = 0; in.n && rec < 64; rec++) {
        errno = 0;
        switch (u8(&in) % 6) {
        case 0:
            op_open(&in);
            break;
        case 1:
            op_ioctl(&in);
            break;
        case 2:
            op_rw(&in);
            break;
        case 3:
            op_mmap(&in);
            break;
        case 4:
            slot_close(&slots[u8(&in) % NSLOT]);
            break;
        default:
            op_sysfs(&in);
            break;
        }
        /* the pairs the record made: the shim holds what it adopted */
        for (int p = 0; p < npairs; p++) {
            /* (mine was a reply's descriptor: reply_done closed it) */
            if (pairs[p].peer >= 0) {
                close(pairs[p].peer);
            }
        }
        npairs = 0;
        if (new_peer >= 0) {
            close(new_peer);
            new_peer = -1;
        }
    }
    for (int i = 0; i < NSLOT; i++) {
        slot_close(&slots[i]);
    }
    fz_check_fds(fds_before);
    return 0;
}
