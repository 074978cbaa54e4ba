/* SPDX-License-Identifier: MIT */
/*
 * vfio.c - /dev/vfio/vfio, /dev/vfio/<group>, VFIO device descriptors and
 * the part of sysfs a VFIO program reads, for unmodified programs written
 * against <linux/vfio.h> (reference/vfio.md sections 1 and 4;
 * docs/compat.md, "VFIO").
 *
 * Containers and groups: each open is a new connection of this process's
 * domain whose first PV_MSG_VFIO says what it is (OPEN_CONTAINER,
 * OPEN_GROUP); its socket is the program's descriptor, as for the grant
 * devices.  An ioctl travels as the program's bytes, decoded here only as
 * far as needed to read them safely (proto.h lists what is sent for which
 * request); the daemon checks everything and answers with the bytes to
 * copy back.  Request numbers collide between kinds (0x3B70 is
 * IOMMU_GET_INFO on a container, GET_PCI_HOT_RESET_INFO on a device), so
 * decoding is by the descriptor's kind.
 *
 * Devices: GET_DEVICE_FD returns two descriptors, the device model's
 * socket (the program's descriptor) and a connection of the domain for
 * the device's ioctls and REGION_FD.  pread/pwrite at a region offset
 * (index << 40 | address, as vfio-pci) are vfio-user REGION_READ/WRITE
 * messages on the device model's socket, with no daemon in between; mmap
 * maps the region's descriptor, asked once of the daemon.
 *
 * sysfs: paths under /sys/bus/pci/devices/ name devices by their PCI name;
 * the daemon says which names this domain holds (PV_VFIO_SYSFS), and for
 * those the iommu_group and driver links, the vendor/device/subsystem/
 * class files and the directory listing are made up here.  Every other
 * path goes to the real file system.
 *
 * Locking: each device has dm_lock, which guards the exchange on the
 * device model's socket (message ids, the receive buffer, `dead`), and
 * region_lock, which guards its cache of region descriptors; the
 * connections have their own lock (struct pvc).  No lock is held while
 * /proc is read (MAP_DMA) and none is taken twice on one path, so hooked
 * calls made from inside (malloc's mmap) cannot deadlock.  vdir_lock
 * guards the list of emulated directory streams.
 *
 * After fork, the child's VFIO descriptors are inert (/dev/null on the
 * same number): Linux would share the parent's container, group and
 * device, but here they are the parent's connections, which must close
 * when the parent closes them.  Descriptors are always close-on-exec: a
 * new program image could not use them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "args.h"
#include "shim.h"
#include "sock.h"

_Static_assert(VFIO_GET_API_VERSION == 0x3B64, "ioctl number");
_Static_assert(VFIO_IOMMU_GET_INFO == 0x3B70, "ioctl number");
_Static_assert(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO == 0x3B70, "ioctl number");
_Static_assert(sizeof(struct vfio_irq_set) == 20, "irq_set layout");
_Static_assert(offsetof(struct vfio_irq_set, count) == 16, "irq_set layout");
_Static_assert(offsetof(struct vfio_device_ioeventfd, fd) == 24,
               "ioeventfd layout");
_Static_assert((int)PV_VFIO_CONTAINER == (int)VFIO_KIND_CONTAINER &&
                   (int)PV_VFIO_GROUP == (int)VFIO_KIND_GROUP &&
                   (int)PV_VFIO_DEVICE == (int)VFIO_KIND_DEVICE,
               "the wire's kinds are the core's");
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64),
               "dirent64 is dirent on this ABI");

#define PAGE           4096ull
#define REGION_SHIFT   40 /* vfio-pci's region offsets: index << 40 */
#define REGION_MASK    ((1ull << REGION_SHIFT) - 1)
#define XFER_DEFAULT   (1u << 20)   /* vfio-user's max_data_xfer_size */
#define RW_MAX         0x7ffff000ul /* Linux's MAX_RW_COUNT */
#define NAME_LEN_MAX   4096u        /* GET_DEVICE_FD: strndup_user(PAGE_SIZE) */
#define RCACHE         16           /* regions whose descriptor is kept */
#define AREAS_MAX      32
#define RX_CAP         4096u
#define SMALL_IO       256u
#define ROOM           32u /* a vfio-user header and region access */
#define SEQPACKET_XFER (64u * 1024u)
#define GROUP_MAJOR    243u /* what /dev/vfio/N reports; Linux's is dynamic */
#define MISC_MAJOR     10u
#define VFIO_MINOR     196u

/* ---- vfio-user, as far as region access needs it (QEMU's
 * docs/interop/vfio-user.rst; src/vfu/vfu_wire.h will hold the same) ---- */

#define VFU_REGION_READ  9
#define VFU_REGION_WRITE 10
#define VFU_TYPE_MASK    0xfu
#define VFU_TYPE_COMMAND 0u
#define VFU_TYPE_REPLY   1u
#define VFU_NO_REPLY     0x10u
#define VFU_ERROR        0x20u
#define VFU_SKIP_MAX     ((1u << 20) + 4096u) /* a server command we skip */

struct vfu_hdr {
    uint16_t id;
    uint16_t cmd;
    uint32_t size; /* the whole message, header included */
    uint32_t flags;
    uint32_t error;
};
_Static_assert(sizeof(struct vfu_hdr) == 16, "vfio-user header");

struct vfu_rw {
    uint64_t offset;
    uint32_t region;
    uint32_t count;
};
_Static_assert(sizeof(struct vfu_rw) == 16, "vfio-user region access");
_Static_assert(sizeof(struct vfu_hdr) + sizeof(struct vfu_rw) == ROOM,
               "room for a message header");

/* ---- state ---- */

struct vfio_region { /* a REGION_FD answer */
    int fd;          /* -1: not asked yet */
    uint32_t nareas; /* 0: the whole descriptor */
    struct pv_vfio_mmap_area area[AREAS_MAX];
};

struct vfio_dev {
    /* guards the exchange on the device model's socket (the program's
     * descriptor), id, dead, the receive buffer and big */
    pthread_mutex_t dm_lock;
    bool stream; /* SOCK_STREAM (else one message a datagram) */
    bool dead;   /* the device model went away or broke the protocol */
    uint16_t id;
    uint32_t xfer; /* bytes per REGION_READ/WRITE */
    uint8_t *big;  /* a transfer buffer for what exceeds SMALL_IO */
    size_t big_cap;
    uint8_t *rxbuf; /* bytes received and not yet consumed: */
    size_t rx_off, rx_len;
    uint8_t rx[RX_CAP + sizeof(struct vfu_hdr) + sizeof(struct vfu_rw)];
    /* guards region */
    pthread_mutex_t region_lock;
    struct vfio_region region[RCACHE];
};

static int fail(int e)
{
    errno = e;
    return -1;
}

/* An errno a peer sent us, as one we may return. */
static int sane_errno(int64_t e, int dflt)
{
    return e > 0 && e < 4096 ? (int)e : dflt;
}

/*
 * Copy the readable prefix of [addr, addr+len) of our own memory: the
 * number of bytes copied (page by page, stopping at the first fault).
 */
static size_t peek_prefix(void *dst, uint64_t addr, size_t len)
{
    size_t done = 0;

    while (done < len) {
        struct iovec l, r[16];
        size_t n = 0, want = 0;
        uint64_t a = addr + done;
        while (n < 16 && done + want < len) {
            size_t in_page = PAGE - ((a + want) & (PAGE - 1));
            size_t k =
                len - done - want < in_page ? len - done - want : in_page;
            r[n].iov_base = (void *)(uintptr_t)(a + want);
            r[n].iov_len = k;
            want += k;
            n++;
        }
        l.iov_base = (uint8_t *)dst + done;
        l.iov_len = want;
        ssize_t got = process_vm_readv(getpid(), &l, 1, r, n, 0);
        if (got <= 0) {
            break;
        }
        done += (size_t)got;
        if ((size_t)got < want) {
            break;
        }
    }
    return done;
}

/* ---- opening containers and groups ---- */

/* A connection failure when opening: as on a machine without VFIO. */
static int open_errno(int rc)
{
    switch (rc) {
    case -ENOMEM:
    case -EMFILE:
    case -ENFILE:
        return -rc;
    default:
        return ENOENT;
    }
}

static int vfio_node_open(enum shim_kind kind, uint32_t group)
{
    struct pv_vfio_req req = {
        .op = kind == SHIM_VFIO_CONTAINER ? PV_VFIO_OPEN_CONTAINER
                                          : PV_VFIO_OPEN_GROUP,
        .arg = group,
    };
    struct pv_vfio_rep rep;
    struct shim_dev *dev = calloc(1, sizeof(*dev));
    size_t got = 0;
    int64_t r;
    int rc;

    if (!dev) {
        return fail(ENOMEM);
    }
    dev->kind = kind;
    dev->refs = 1;
    dev->restrict_domid = DOMID_INVALID;
    rc = shim_connect_domain(&dev->conn);
    if (rc) {
        free(dev);
        return fail(open_errno(rc));
    }
    dev->fd = dev->conn.fd;
    r = pvc_call(&dev->conn, PV_MSG_VFIO, &req, sizeof(req), &rep, sizeof(rep),
                 &got, NULL);
    if (r >= 0 && got != sizeof(rep)) {
        r = -EPROTO;
    }
    if (r < 0) {
        pvc_fini(&dev->conn);
        free(dev);
        /* a daemon without VFIO closes the connection: no VFIO here */
        return fail(r == -ECONNRESET || r == -EPIPE || r == -ENOSYS
                        ? ENOENT
                        : sane_errno(-r, EIO));
    }
    dev->vfio_cookie = rep.cookie;
    rc = shim_dev_install(dev);
    if (rc < 0) {
        pvc_fini(&dev->conn);
        free(dev);
        return fail(-rc);
    }
    return rc;
}

/* "/dev/vfio/<decimal>": the number, or -1. */
static int64_t group_number(const char *s)
{
    uint64_t v = 0;

    if (!*s || (*s == '0' && s[1])) {
        return -1;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > UINT32_MAX / 10) {
            return -1;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    return v <= UINT32_MAX ? (int64_t)v : -1;
}

/* ---- ioctl ---- */

/* A descriptor the program holds: 0, or -EBADF. */
static int fd_valid(int fd)
{
    return fd >= 0 && shim_real.fcntl(fd, F_GETFD) >= 0 ? 0 : -EBADF;
}

/*
 * MAP_DMA of shared file memory: whether [va, va+len) lies in shared
 * mappings of one file, contiguous in the file; its device, inode and the
 * file offset of va.  Read from /proc/self/maps, without a lock held.
 */
static bool maps_find(uint64_t va, uint64_t len, dev_t *dev, ino_t *ino,
                      uint64_t *off)
{
    char buf[4096 + 512];
    size_t have = 0;
    uint64_t want = va, end = va + len;
    bool found = false, first = true, done = false;
    int fd;

    if (len == 0 || end < va) {
        return false;
    }
    fd = shim_real.open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    while (!done) {
        ssize_t r = shim_real.read(fd, buf + have, sizeof(buf) - 1 - have);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        have += (size_t)r;
        buf[have] = '\0';
        char *line = buf, *nl;
        while (!done && (nl = strchr(line, '\n')) != NULL) {
            unsigned long long s, e, o, inode;
            unsigned int maj, mnr;
            char perms[8];
            *nl = '\0';
            if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &s, &e, perms, &o,
                       &maj, &mnr, &inode) == 7 &&
                e > want) {
                if (s > want || perms[3] != 's' || inode == 0) {
                    done = true; /* a gap, or memory that is not a file's */
                } else if (first) {
                    *dev = makedev(maj, mnr);
                    *ino = (ino_t)inode;
                    *off = o + (want - s);
                    first = false;
                } else if (*dev != makedev(maj, mnr) || *ino != inode ||
                           o + (want - s) != *off + (want - va)) {
                    done = true; /* another file, or elsewhere in it */
                }
                if (!done) {
                    want = e;
                    if (want >= end) {
                        found = true;
                        done = true;
                    }
                }
            }
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (have == sizeof(buf) - 1) {
            have = 0; /* a line longer than the buffer: its start is read */
        }
    }
    shim_real.close(fd);
    return found;
}

/* A descriptor this process holds of that file, open for reading (and
 * writing when the device may write): its number, or -1. */
static int fd_of_file(dev_t dev, ino_t ino, bool write)
{
    char buf[4096];
    int dfd =
        shim_real.open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int found = -1;

    if (dfd < 0) {
        return -1;
    }
    for (;;) {
        long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        for (long pos = 0; pos < n && found < 0;) {
            struct dirent64 *de = (struct dirent64 *)(buf + pos);
            char *end;
            long fd = strtol(de->d_name, &end, 10);
            struct stat st;
            pos += de->d_reclen;
            if (*end || end == de->d_name || fd == dfd || fd > INT_MAX ||
                fstat((int)fd, &st) != 0 || st.st_dev != dev ||
                st.st_ino != ino) {
                continue;
            }
            int fl = shim_real.fcntl((int)fd, F_GETFL);
            if (fl >= 0 && !(fl & O_PATH) &&
                ((fl & O_ACCMODE) == O_RDWR ||
                 (!write && (fl & O_ACCMODE) == O_RDONLY))) {
                found = (int)fd;
            }
        }
        if (found >= 0) {
            break;
        }
    }
    shim_real.close(dfd);
    return found;
}

/* The eventfds of a SET_IRQS (DATA_EVENTFD) or IOEVENTFD argument. */
static int collect_fds(unsigned long req, const uint8_t *b, size_t n, int *fds,
                       int *nfds)
{
    *nfds = 0;
    if (req == VFIO_DEVICE_SET_IRQS && n >= sizeof(struct vfio_irq_set)) {
        struct vfio_irq_set s;
        memcpy(&s, b, sizeof(s));
        if ((s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) !=
            VFIO_IRQ_SET_DATA_EVENTFD) {
            return 0;
        }
        size_t have = (n - sizeof(s)) / sizeof(int32_t);
        size_t cnt = s.count < have ? s.count : have;
        for (size_t i = 0; i < cnt; i++) {
            int32_t fd;
            memcpy(&fd, b + sizeof(s) + i * sizeof(fd), sizeof(fd));
            if (fd < 0) {
                continue;
            }
            if (*nfds == PV_FDS_MAX) {
                return -EINVAL; /* more than one message carries */
            }
            if (fd_valid(fd)) {
                return -EBADF;
            }
            fds[(*nfds)++] = fd;
        }
    } else if (req == VFIO_DEVICE_IOEVENTFD &&
               n >= offsetof(struct vfio_device_ioeventfd, fd) +
                        sizeof(int32_t)) {
        int32_t fd;
        memcpy(&fd, b + offsetof(struct vfio_device_ioeventfd, fd), sizeof(fd));
        if (fd >= 0) {
            if (fd_valid(fd)) {
                return -EBADF;
            }
            fds[(*nfds)++] = fd;
        }
    }
    return 0;
}

static int device_new(int dm_fd, int conn_fd, const uint8_t *info,
                      size_t info_len, uint64_t cookie);

/*
 * One VFIO ioctl on a container, group or device: -1/errno as the kernel's,
 * or its result.
 */
int vfio_ioctl(struct shim_dev *dev, unsigned long lreq, void *arg)
{
    const size_t hdr = sizeof(struct pv_vfio_req);
    /* the kernel's cmd is an unsigned int: the rest of a long is lost */
    uint32_t req = (uint32_t)lreq;
    uint64_t uarg = (uint64_t)(uintptr_t)arg;
    enum pv_vfio_kind kind = dev->kind == SHIM_VFIO_CONTAINER
                                 ? PV_VFIO_CONTAINER
                             : dev->kind == SHIM_VFIO_GROUP ? PV_VFIO_GROUP
                                                            : PV_VFIO_DEVICE;
    const struct vfio_ioctl_def *def = vfio_args_def((enum vfio_kind)kind, req);
    enum vfio_shape shape = def ? def->shape : VFIO_SHAPE_NONE;
    enum vfio_op op = def ? def->op : VFIO_OP_NONE;
    struct pv_vfio_req q = {
        .op = PV_VFIO_IOCTL,
        .kind = kind,
        .request = req,
        .arg = uarg,
    };
    uint32_t argsz = 0;
    size_t len = 0, got = 0;
    int fds[PV_FDS_MAX], nfds = 0, rfds[2] = {-1, -1}, nr = 2;
    uint8_t *buf;
    int64_t r;
    int rc = 0;

    if (_IOC_TYPE(req) != VFIO_TYPE) {
        switch (req) {
        case FIOCLEX:
        case FIONCLEX:
            return shim_real.ioctl(dev->fd, req, arg);
        case FIONBIO:
        case FIOASYNC:
            /* accepted and without effect, as on a VFIO file: our
             * descriptors' exchanges stay blocking */
            return 0;
        default:
            return fail(ENOTTY);
        }
    }
    buf = malloc(PV_PAYLOAD_MAX);
    if (!buf) {
        return fail(ENOMEM);
    }
    /*
     * What the kernel would copy from the caller, by the core's table
     * (src/vfio/args.h): an unknown request goes with nothing, for the
     * daemon's -ENOTTY (or a container's -EINVAL before SET_IOMMU).
     */
    switch (shape) {
    case VFIO_SHAPE_NONE:
    case VFIO_SHAPE_VALUE:
        break;
    case VFIO_SHAPE_INT: {
        /* SET_CONTAINER: the descriptor is named by its cookie */
        int32_t cfd;
        struct shim_dev *c;
        if (pvc_peek(&cfd, uarg, sizeof(cfd))) {
            rc = -EFAULT;
            break;
        }
        q.arg = (uint64_t)(int64_t)cfd;
        if (op != VFIO_OP_GROUP_SET_CONTAINER) {
            break;
        }
        if (fd_valid(cfd)) {
            rc = -EBADF;
            break;
        }
        c = shim_dev_get(cfd);
        if (c) {
            q.cookie = c->kind == SHIM_VFIO_CONTAINER ? c->vfio_cookie : 0;
            shim_dev_put(c);
        }
        break;
    }
    case VFIO_SHAPE_STRING: {
        size_t n = peek_prefix(buf + hdr, uarg, NAME_LEN_MAX);
        uint8_t *nul = memchr(buf + hdr, '\0', n);
        if (!nul) {
            rc = n == NAME_LEN_MAX ? -EINVAL : -EFAULT;
            break;
        }
        len = (size_t)(nul - (buf + hdr));
        break;
    }
    case VFIO_SHAPE_ARGSZ: {
        /* minsz first (its copy_from_user comes before every check),
         * then what else the kernel reads (SET_IRQS' data); a short read
         * goes as it is, for the daemon's -EFAULT where Linux has one */
        size_t want;
        len = peek_prefix(buf + hdr, uarg, def->minsz);
        if (len >= sizeof(argsz)) {
            memcpy(&argsz, buf + hdr, sizeof(argsz));
        }
        if (len < def->minsz) {
            break;
        }
        want = vfio_args_in_len(def, buf + hdr, len);
        if (want > PV_VFIO_ARG_MAX) {
            want = PV_VFIO_ARG_MAX;
        }
        if (want > len) {
            len += peek_prefix(buf + hdr + len, uarg + len, want - len);
        }
        if (op == VFIO_OP_DEVICE_SET_IRQS || op == VFIO_OP_DEVICE_IOEVENTFD) {
            rc = collect_fds(req, buf + hdr, len, fds, &nfds);
        } else if (op == VFIO_OP_IOMMU_MAP_DMA &&
                   len >= sizeof(struct vfio_iommu_type1_dma_map)) {
            struct vfio_iommu_type1_dma_map m;
            dev_t fdev;
            ino_t fino;
            uint64_t off;
            memcpy(&m, buf + hdr, sizeof(m));
            q.arg = 0;
            if (maps_find(m.vaddr, m.size, &fdev, &fino, &off)) {
                int fd = fd_of_file(fdev, fino,
                                    (m.flags & VFIO_DMA_MAP_FLAG_WRITE) != 0);
                if (fd >= 0) {
                    fds[0] = fd;
                    nfds = 1;
                    q.flags |= PV_VFIO_F_FD;
                    q.arg = off;
                }
            }
        }
        break;
    }
    }
    if (rc) {
        free(buf);
        return fail(-rc);
    }
    q.len = (uint32_t)len;
    memcpy(buf, &q, hdr);
    r = pvc_call_full(&dev->conn, PV_MSG_VFIO, buf, hdr + len, fds, nfds, buf,
                      PV_PAYLOAD_MAX, &got, rfds,
                      shape == VFIO_SHAPE_STRING ? &nr : NULL);
    if (shape != VFIO_SHAPE_STRING) {
        nr = 0;
    }
    if (r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN) {
        /* the hypervisor is gone: as a device that went away */
        rc = -ENODEV;
    } else if (got < sizeof(struct pv_vfio_rep)) {
        /* a transport failure, or a bare pv_rep */
        rc = r < 0 ? -sane_errno(-r, EPROTO) : -EPROTO;
    } else {
        struct pv_vfio_rep rep;
        memcpy(&rep, buf, sizeof(rep));
        if (rep.len != got - sizeof(rep)) {
            rc = -EPROTO;
        } else if (r < 0) {
            rc = -sane_errno(-r, EPROTO);
        }
        if (rc == 0 && op == VFIO_OP_GROUP_GET_DEVICE_FD) {
            if (nr != 2) {
                rc = -EPROTO;
            } else {
                rc = device_new(rfds[0], rfds[1], buf + sizeof(rep), rep.len,
                                rep.cookie);
                nr = 0; /* device_new owns them now */
            }
        } else if (shape == VFIO_SHAPE_ARGSZ && rep.len && rc != -EPROTO) {
            /* copied back whatever the result, never past argsz */
            size_t n = rep.len < argsz ? rep.len : argsz;
            if (pvc_poke(uarg, buf + sizeof(rep), n)) {
                rc = -EFAULT;
            }
        }
        if (rc == 0 && op != VFIO_OP_GROUP_GET_DEVICE_FD) {
            rc = r > INT_MAX ? INT_MAX : (int)r;
        }
    }
    for (int i = 0; i < nr; i++) {
        shim_real.close(rfds[i]);
    }
    free(buf);
    return rc < 0 ? fail(-rc) : rc;
}

/* ---- devices ---- */

static int device_new(int dm_fd, int conn_fd, const uint8_t *info,
                      size_t info_len, uint64_t cookie)
{
    struct shim_dev *dev = calloc(1, sizeof(*dev));
    struct vfio_dev *vd = calloc(1, sizeof(*vd));
    int type = 0, rc;
    socklen_t sl = sizeof(type);

    if (!dev || !vd) {
        free(dev);
        free(vd);
        shim_real.close(dm_fd);
        shim_real.close(conn_fd);
        return -ENOMEM;
    }
    /* the device's connection is one of the daemon's, or nothing we may
     * wait on */
    rc = getsockopt(conn_fd, SOL_SOCKET, SO_TYPE, &type, &sl) == 0 &&
                 type == SOCK_SEQPACKET
             ? pvc_init(&dev->conn, conn_fd)
             : -EPROTO;
    if (rc) {
        free(dev);
        free(vd);
        shim_real.close(dm_fd);
        shim_real.close(conn_fd);
        return rc == -ECONNRESET || rc == -EPIPE ? -ENODEV : rc;
    }
    pthread_mutex_init(&vd->dm_lock, NULL);
    pthread_mutex_init(&vd->region_lock, NULL);
    for (int i = 0; i < RCACHE; i++) {
        vd->region[i].fd = -1;
    }
    vd->xfer = XFER_DEFAULT;
    if (info_len >= sizeof(struct pv_vfio_device_fd)) {
        struct pv_vfio_device_fd di;
        memcpy(&di, info, sizeof(di));
        if (di.max_data_xfer_size >= 8 &&
            di.max_data_xfer_size < XFER_DEFAULT) {
            vd->xfer = di.max_data_xfer_size;
        }
    }
    sl = sizeof(type);
    vd->stream = getsockopt(dm_fd, SOL_SOCKET, SO_TYPE, &type, &sl) != 0 ||
                 type != SOCK_SEQPACKET;
    if (!vd->stream && vd->xfer > SEQPACKET_XFER) {
        vd->xfer = SEQPACKET_XFER; /* one datagram must carry it */
    }
    vd->rxbuf = vd->rx;
    dev->kind = SHIM_VFIO_DEVICE;
    dev->fd = dm_fd;
    dev->refs = 1;
    dev->restrict_domid = DOMID_INVALID;
    dev->vfio_cookie = cookie;
    dev->vfio = vd;
    rc = shim_dev_install(dev);
    if (rc < 0) {
        vfio_release(dev);
        pvc_fini(&dev->conn);
        shim_real.close(dm_fd);
        free(dev);
    }
    return rc;
}

/*
 * Linux releases a container, group or device when its last descriptor
 * closes, before close returns: a group can be opened again at once, a
 * container's group unset once its device is closed.  Here the release is
 * the daemon's, when it sees the connection close, which would be after
 * close returns and race the program's next request on another
 * connection.  So closing says so (shutdown) and waits, boundedly, for
 * the daemon to close its end; no exchange is in flight meanwhile (the
 * connection's lock).  A device's own connection goes the same way (the
 * program's descriptor is the device model's socket).
 */
#define CLOSE_WAIT_MS 2000

void vfio_fd_closing(struct shim_dev *dev)
{
    int fd = dev->kind == SHIM_VFIO_DEVICE ? dev->conn.fd : dev->fd;
    char sink[256];

    if (fd < 0) {
        return;
    }
    pthread_mutex_lock(&dev->conn.lock);
    if (shutdown(fd, SHUT_WR) == 0) {
        for (;;) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int n = poll(&p, 1, CLOSE_WAIT_MS);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break; /* a daemon that does not answer: go on */
            }
            /* a late reply nobody waits for; its descriptors are closed */
            ssize_t r = recv(fd, sink, sizeof(sink), MSG_DONTWAIT | MSG_TRUNC);
            if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
                break; /* the daemon's end is closed: released */
            }
        }
    }
    pthread_mutex_unlock(&dev->conn.lock);
}

void vfio_release(struct shim_dev *dev)
{
    struct vfio_dev *vd = dev->vfio;

    if (dev->kind != SHIM_VFIO_DEVICE) {
        dev->conn.fd = -1; /* the program's descriptor: closed by it */
        return;
    }
    if (!vd) {
        return;
    }
    for (int i = 0; i < RCACHE; i++) {
        if (vd->region[i].fd >= 0) {
            shim_real.close(vd->region[i].fd);
        }
    }
    pthread_mutex_destroy(&vd->dm_lock);
    pthread_mutex_destroy(&vd->region_lock);
    free(vd->big);
    free(vd);
    dev->vfio = NULL;
}

void vfio_atfork_child(struct shim_dev *dev)
{
    int null = shim_real.open("/dev/null", O_RDWR | O_CLOEXEC);

    /* a parent's thread may have held any of these at fork */
    pthread_mutex_init(&dev->conn.lock, NULL);
    if (dev->vfio) {
        pthread_mutex_init(&dev->vfio->dm_lock, NULL);
        pthread_mutex_init(&dev->vfio->region_lock, NULL);
    }
    if (null >= 0) {
        shim_real.dup3(null, dev->fd, O_CLOEXEC);
        shim_real.close(null);
    }
}

/* ---- region access on the device model's socket ---- */

/* Wait for fd to be ready (a program may have made it non-blocking). */
static void wait_fd(int fd, short ev)
{
    struct pollfd p = {.fd = fd, .events = ev};

    poll(&p, 1, -1);
}

static int dm_send(int fd, struct iovec *iov, int n)
{
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};

    while (mh.msg_iovlen) {
        ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                wait_fd(fd, POLLOUT);
                continue;
            }
            return -errno;
        }
        /* a stream may take part of it */
        while (mh.msg_iovlen && (size_t)r >= mh.msg_iov->iov_len) {
            r -= (ssize_t)mh.msg_iov->iov_len;
            mh.msg_iov++;
            mh.msg_iovlen--;
        }
        if (mh.msg_iovlen) {
            mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + r;
            mh.msg_iov->iov_len -= (size_t)r;
        }
    }
    return 0;
}

static ssize_t dm_recv(int fd, void *dst, size_t cap, int flags)
{
    for (;;) {
        ssize_t r = recv(fd, dst, cap, flags);
        if (r > 0) {
            return r;
        }
        if (r == 0) {
            return -ECONNRESET;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN) {
            wait_fd(fd, POLLIN);
            continue;
        }
        return -errno;
    }
}

/* SEQPACKET: the next datagram becomes what rx_take reads; cap is what
 * fits in buf (a longer one is a protocol error but still consumed). */
static int rx_datagram(struct vfio_dev *vd, int fd, uint8_t *buf, size_t cap)
{
    ssize_t r = dm_recv(fd, buf, cap, MSG_TRUNC);

    if (r < 0) {
        return (int)r;
    }
    vd->rxbuf = buf;
    vd->rx_off = 0;
    vd->rx_len = (size_t)r < cap ? (size_t)r : cap;
    return (size_t)r > cap ? -EPROTO : 0;
}

/*
 * The next n bytes of the device model's messages.  On a stream they are
 * read as needed (what arrives beyond them waits in rx); on SEQPACKET
 * they must be in the current datagram.
 */
static int rx_take(struct vfio_dev *vd, int fd, void *dst, size_t n)
{
    uint8_t *d = dst;

    while (n) {
        if (vd->rx_len) {
            size_t k = n < vd->rx_len ? n : vd->rx_len;
            if (d) {
                memcpy(d, vd->rxbuf + vd->rx_off, k);
                d += k;
            }
            vd->rx_off += k;
            vd->rx_len -= k;
            n -= k;
            continue;
        }
        if (!vd->stream) {
            return -EPROTO; /* past the end of the datagram */
        }
        ssize_t r;
        if (d && n >= RX_CAP) {
            r = dm_recv(fd, d, n, 0);
            if (r < 0) {
                return (int)r;
            }
            d += r;
            n -= (size_t)r;
            continue;
        }
        vd->rxbuf = vd->rx;
        r = dm_recv(fd, vd->rx, RX_CAP, 0);
        if (r < 0) {
            return (int)r;
        }
        vd->rx_off = 0;
        vd->rx_len = (size_t)r;
    }
    return 0;
}

/* A command from the device model in the middle of our exchange (vfio-user
 * lets a server send its own, DMA_READ/WRITE, at any time): we serve none,
 * so it gets an error reply. */
static int dm_refuse(struct vfio_dev *vd, int fd, const struct vfu_hdr *h)
{
    struct vfu_hdr e = {
        .id = h->id,
        .cmd = h->cmd,
        .size = sizeof(e),
        .flags = VFU_TYPE_REPLY | VFU_ERROR,
        .error = ENOTSUP,
    };
    struct iovec iov = {.iov_base = &e, .iov_len = sizeof(e)};
    int rc;

    if (h->size > VFU_SKIP_MAX) {
        return -EPROTO;
    }
    rc = rx_take(vd, fd, NULL, h->size - sizeof(*h));
    if (rc || (h->flags & VFU_NO_REPLY)) {
        return rc;
    }
    return dm_send(fd, &iov, 1);
}

/*
 * One REGION_READ/WRITE of n <= vd->xfer bytes between data and the
 * device: the count done, or -errno (an error the device model answered
 * with, or -EIO when it is gone or broke the protocol).  dm_lock held.
 */
static ssize_t dm_access(struct shim_dev *dev, struct vfio_dev *vd, bool wr,
                         uint32_t region, uint64_t addr, uint8_t *data,
                         uint32_t n)
{
    struct {
        struct vfu_hdr h;
        struct vfu_rw a;
    } q;
    struct iovec iov[2];
    int fd = dev->fd, rc;

    q.h.id = ++vd->id;
    q.h.cmd = wr ? VFU_REGION_WRITE : VFU_REGION_READ;
    q.h.size = (uint32_t)sizeof(q) + (wr ? n : 0);
    q.h.flags = VFU_TYPE_COMMAND;
    q.h.error = 0;
    q.a.offset = addr;
    q.a.region = region;
    q.a.count = n;
    iov[0].iov_base = &q;
    iov[0].iov_len = sizeof(q);
    iov[1].iov_base = data;
    iov[1].iov_len = n;
    rc = dm_send(fd, iov, wr ? 2 : 1);
    while (rc == 0) {
        struct vfu_hdr h;
        struct vfu_rw a;
        if (!vd->stream) {
            size_t cap = sizeof(q) + (wr ? 0 : n);
            uint8_t *buf = cap <= sizeof(vd->rx) ? vd->rx : NULL;
            if (!buf) {
                /* the transfer buffer holds this reply: read into it, then
                 * move the data to its start */
                buf = data - sizeof(q);
            }
            rc = rx_datagram(vd, fd, buf, cap);
            if (rc == -EPROTO && vd->rx_len >= sizeof(h)) {
                memcpy(&h, vd->rxbuf, sizeof(h));
                if ((h.flags & VFU_TYPE_MASK) == VFU_TYPE_COMMAND) {
                    rc = 0; /* a long command of the server's: refused */
                    vd->rx_len = 0;
                    h.size = sizeof(h);
                    rc = dm_refuse(vd, fd, &h);
                    continue;
                }
            }
            if (rc) {
                break;
            }
        }
        rc = rx_take(vd, fd, &h, sizeof(h));
        if (rc) {
            break;
        }
        if (h.size < sizeof(h)) {
            rc = -EPROTO;
            break;
        }
        if ((h.flags & VFU_TYPE_MASK) == VFU_TYPE_COMMAND) {
            if (!vd->stream) {
                vd->rx_len = 0;
                h.size = sizeof(h);
            }
            rc = dm_refuse(vd, fd, &h);
            continue;
        }
        if ((h.flags & VFU_TYPE_MASK) != VFU_TYPE_REPLY || h.id != q.h.id ||
            h.cmd != q.h.cmd) {
            rc = -EPROTO;
            break;
        }
        if (h.flags & VFU_ERROR) {
            if (h.size != sizeof(h)) {
                rc = -EPROTO;
                break;
            }
            return -(ssize_t)sane_errno(h.error, EIO);
        }
        if (h.size < sizeof(q)) {
            rc = -EPROTO;
            break;
        }
        rc = rx_take(vd, fd, &a, sizeof(a));
        if (rc) {
            break;
        }
        if (a.count > n || a.region != region || a.offset != addr ||
            h.size != sizeof(q) + (wr ? 0 : a.count)) {
            rc = -EPROTO;
            break;
        }
        if (!wr) {
            if (!vd->stream && vd->rxbuf != vd->rx) {
                /* the data came in place, after a header's room */
                vd->rx_len = 0;
                return a.count;
            }
            rc = rx_take(vd, fd, data, a.count);
            if (rc) {
                break;
            }
        }
        if (!vd->stream) {
            vd->rx_len = 0;
        }
        return a.count;
    }
    /* gone, or no longer understood: every later access fails the same */
    vd->dead = true;
    vd->rx_len = 0;
    return -EIO;
}

/* A transfer buffer of n bytes with room for a message header before it
 * (a SEQPACKET reply lands in place). */
static uint8_t *xfer_buf(struct vfio_dev *vd, size_t n)
{
    if (vd->big_cap < n) {
        uint8_t *b = realloc(vd->big, ROOM + n);
        if (!b) {
            return NULL;
        }
        vd->big = b;
        vd->big_cap = n;
    }
    return vd->big + ROOM;
}

/*
 * pread/pwrite on a device descriptor: region index << 40 | address.
 * Returns the count done, or -1/errno.  A device model that is gone makes
 * every access EIO (docs/compat.md).
 */
static ssize_t region_rw(struct shim_dev *dev, bool wr, uint64_t uaddr,
                         size_t count, off_t off)
{
    struct vfio_dev *vd = dev->vfio;
    uint8_t small[ROOM + SMALL_IO];
    uint32_t region;
    uint64_t addr;
    size_t done = 0;
    int rc = 0;

    if (dev->kind != SHIM_VFIO_DEVICE || !vd) {
        return fail(EINVAL); /* a container or group: no read/write */
    }
    if (off < 0) {
        return fail(EINVAL);
    }
    if (count == 0) {
        return 0;
    }
    if (count > RW_MAX) {
        count = RW_MAX;
    }
    region = (uint32_t)((uint64_t)off >> REGION_SHIFT);
    addr = (uint64_t)off & REGION_MASK;
    pthread_mutex_lock(&vd->dm_lock);
    while (done < count) {
        size_t n = count - done < vd->xfer ? count - done : vd->xfer;
        uint8_t *data = n <= SMALL_IO ? small + ROOM : xfer_buf(vd, n);
        ssize_t r;
        if (vd->dead) {
            rc = -EIO;
            break;
        }
        if (!data) {
            rc = -ENOMEM;
            break;
        }
        if (wr && pvc_peek_cached(data, uaddr + done, n)) {
            rc = -EFAULT;
            break;
        }
        r = dm_access(dev, vd, wr, region, addr + done, data, (uint32_t)n);
        if (r < 0) {
            rc = (int)r;
            break;
        }
        if (!wr && pvc_poke_cached(uaddr + done, data, (size_t)r)) {
            rc = -EFAULT;
            break;
        }
        done += (size_t)r;
        if ((size_t)r < n) {
            break; /* the end of the region */
        }
    }
    pthread_mutex_unlock(&vd->dm_lock);
    if (done == 0 && rc) {
        return fail(-rc);
    }
    return (ssize_t)done;
}

ssize_t vfio_pread(struct shim_dev *dev, void *buf, size_t count, off_t off)
{
    return region_rw(dev, false, (uint64_t)(uintptr_t)buf, count, off);
}

ssize_t vfio_pwrite(struct shim_dev *dev, const void *buf, size_t count,
                    off_t off)
{
    return region_rw(dev, true, (uint64_t)(uintptr_t)buf, count, off);
}

/* preadv/pwritev: the vectors in order, as one access each; a short one
 * ends it. */
ssize_t vfio_prwv(struct shim_dev *dev, bool wr, const struct iovec *iov,
                  int iovcnt, off_t off)
{
    size_t done = 0;

    if (iovcnt < 0 || iovcnt > IOV_MAX) {
        return fail(EINVAL);
    }
    for (int i = 0; i < iovcnt; i++) {
        struct iovec v;
        ssize_t r;
        if (pvc_peek_cached(&v, (uint64_t)(uintptr_t)(iov + i), sizeof(v))) {
            return done ? (ssize_t)done : fail(EFAULT);
        }
        if (v.iov_len == 0) {
            continue;
        }
        r = region_rw(dev, wr, (uint64_t)(uintptr_t)v.iov_base, v.iov_len,
                      off + (off_t)done);
        if (r < 0) {
            return done ? (ssize_t)done : -1;
        }
        done += (size_t)r;
        if ((size_t)r < v.iov_len) {
            break;
        }
    }
    return (ssize_t)done;
}

/* ---- mmap of a region ---- */

/* The region's descriptor and mappable areas, asked once (cached for the
 * first RCACHE indexes; *owned says the caller must close it). */
static int region_get(struct shim_dev *dev, uint32_t index,
                      struct vfio_region *out, bool *owned)
{
    struct vfio_dev *vd = dev->vfio;
    struct pv_vfio_req q = {.op = PV_VFIO_REGION_FD, .arg = index};
    uint8_t rep[sizeof(struct pv_vfio_rep) +
                AREAS_MAX * sizeof(struct pv_vfio_mmap_area)];
    struct pv_vfio_rep h;
    size_t got = 0;
    int fd = -1;
    int64_t r;

    *owned = index >= RCACHE;
    if (!*owned) {
        pthread_mutex_lock(&vd->region_lock);
        if (vd->region[index].fd >= 0) {
            *out = vd->region[index];
            pthread_mutex_unlock(&vd->region_lock);
            return 0;
        }
        pthread_mutex_unlock(&vd->region_lock);
    }
    r = pvc_call(&dev->conn, PV_MSG_VFIO, &q, sizeof(q), rep, sizeof(rep), &got,
                 &fd);
    if (r < 0 || got < sizeof(h) || fd < 0) {
        if (fd >= 0) {
            shim_real.close(fd);
        }
        if (r == -ECONNRESET || r == -EPIPE) {
            return -ENODEV;
        }
        return r < 0 ? -sane_errno(-r, EINVAL) : -EPROTO;
    }
    memcpy(&h, rep, sizeof(h));
    /* areas beyond what we keep are left out: only fewer mappings */
    out->fd = fd;
    out->nareas = 0;
    for (size_t i = 0; i < AREAS_MAX && i < h.len / sizeof(out->area[0]) &&
                       sizeof(h) + (i + 1) * sizeof(out->area[0]) <= got;
         i++) {
        memcpy(&out->area[out->nareas++],
               rep + sizeof(h) + i * sizeof(out->area[0]),
               sizeof(out->area[0]));
    }
    if (*owned) {
        return 0;
    }
    pthread_mutex_lock(&vd->region_lock);
    if (vd->region[index].fd >= 0) {
        /* another thread asked too: keep one */
        shim_real.close(fd);
    } else {
        vd->region[index] = *out;
    }
    *out = vd->region[index];
    pthread_mutex_unlock(&vd->region_lock);
    return 0;
}

void *vfio_mmap(struct shim_dev *dev, void *addr, size_t len, int prot,
                int flags, off_t off)
{
    struct vfio_region reg;
    uint64_t roff, plen;
    bool owned, inside = false;
    void *r;
    int rc;

    if (dev->kind != SHIM_VFIO_DEVICE || !dev->vfio) {
        errno = dev->kind == SHIM_VFIO_CONTAINER ? EINVAL : ENODEV;
        return MAP_FAILED;
    }
    if (len == 0 || off < 0 || ((uint64_t)off & (PAGE - 1)) ||
        ((flags & MAP_TYPE) != MAP_SHARED &&
         (flags & MAP_TYPE) != MAP_SHARED_VALIDATE)) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    roff = (uint64_t)off & REGION_MASK;
    plen = (len + PAGE - 1) & ~(PAGE - 1);
    if (plen < len || roff + plen < roff) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    rc = region_get(dev, (uint32_t)((uint64_t)off >> REGION_SHIFT), &reg,
                    &owned);
    if (rc) {
        errno = -rc;
        return MAP_FAILED;
    }
    /* within a mappable area, and within the descriptor: a mapping past
     * its end would fault (SIGBUS) on the first touch */
    struct stat st;
    if (fstat(reg.fd, &st) == 0 && st.st_size >= 0 &&
        roff + plen <= (uint64_t)st.st_size) {
        inside = reg.nareas == 0;
        for (uint32_t i = 0; i < reg.nareas && !inside; i++) {
            const struct pv_vfio_mmap_area *a = &reg.area[i];
            inside = roff >= a->offset && a->offset + a->size >= a->offset &&
                     roff + plen <= a->offset + a->size;
        }
    }
    if (!inside) {
        if (owned) {
            shim_real.close(reg.fd);
        }
        errno = EINVAL;
        return MAP_FAILED;
    }
    r = shim_real.mmap(addr, len, prot, flags, reg.fd, (off_t)roff);
    if (r == MAP_FAILED && errno == EACCES) {
        errno = EINVAL; /* a read-only region mapped for writing */
    }
    if (owned) {
        int e = errno;
        shim_real.close(reg.fd);
        errno = e;
    }
    return r;
}

/* ---- sysfs ---- */

#define SYS_DEVICES "/sys/bus/pci/devices"

enum sys_what {
    SYS_NONE,
    SYS_DIR,   /* /sys/bus/pci/devices itself */
    SYS_DEV,   /* .../<name>, a link to the device's directory */
    SYS_ATTR,  /* .../<name>/<file we make up> */
    SYS_GROUP, /* .../<name>/iommu_group, a link */
    SYS_DRV,   /* .../<name>/driver, a link */
    SYS_OTHER, /* anything else under .../<name> */
};

static const char *const sys_attrs[] = {
    "vendor", "device", "subsystem_vendor", "subsystem_device", "class",
};
#define NATTRS (sizeof(sys_attrs) / sizeof(sys_attrs[0]))

/* Which of our paths this is; the device name goes to name. */
static enum sys_what sys_parse(const char *path, char name[PV_VFIO_NAME_MAX],
                               int *attr)
{
    const char *p = path + sizeof(SYS_DEVICES) - 1, *slash;
    size_t n;

    if (strncmp(path, SYS_DEVICES, sizeof(SYS_DEVICES) - 1) != 0) {
        return SYS_NONE;
    }
    if (*p == '\0' || (p[0] == '/' && p[1] == '\0')) {
        return SYS_DIR;
    }
    if (*p != '/') {
        return SYS_NONE;
    }
    p++;
    slash = strchr(p, '/');
    n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n >= PV_VFIO_NAME_MAX || (n <= 2 && p[0] == '.')) {
        return SYS_NONE;
    }
    memcpy(name, p, n);
    name[n] = '\0';
    if (!slash || slash[1] == '\0') {
        return SYS_DEV;
    }
    p = slash + 1;
    if (strcmp(p, "iommu_group") == 0) {
        return SYS_GROUP;
    }
    if (strcmp(p, "driver") == 0) {
        return SYS_DRV;
    }
    for (size_t i = 0; i < NATTRS; i++) {
        if (strcmp(p, sys_attrs[i]) == 0) {
            *attr = (int)i;
            return SYS_ATTR;
        }
    }
    return SYS_OTHER;
}

/* Ask the daemon, on a connection of its own: SYSFS with bytes (one
 * device; rep gets pv_vfio_sysfs) or without (rep gets the list). */
static int64_t sys_ask(const char *name, void *rep, size_t cap, size_t *got)
{
    struct {
        struct pv_vfio_req q;
        char name[PV_VFIO_NAME_MAX];
    } req = {.q = {.op = PV_VFIO_SYSFS}};
    struct pvc c;
    size_t n = name ? strlen(name) : 0;
    int64_t r;

    memcpy(req.name, name ? name : "", n);
    req.q.len = (uint32_t)n;
    r = shim_connect_domain(&c);
    if (r) {
        return r;
    }
    r = pvc_call(&c, PV_MSG_VFIO, &req, sizeof(req.q) + n, rep, cap, got, NULL);
    pvc_fini(&c);
    return r;
}

/* What the domain's sysfs holds for name: 0, or -errno (-ENOENT: not one
 * of its devices; anything else: no VFIO to ask). */
static int sys_device(const char *name, struct pv_vfio_sysfs *out)
{
    uint8_t rep[sizeof(struct pv_vfio_rep) + sizeof(*out)];
    struct pv_vfio_rep h;
    size_t got = 0;
    int64_t r = sys_ask(name, rep, sizeof(rep), &got);

    if (r < 0) {
        return r == -ENOENT ? -ENOENT : -ENODEV;
    }
    memcpy(&h, rep, sizeof(h));
    if (got != sizeof(rep) || h.len != sizeof(*out)) {
        return -ENODEV;
    }
    memcpy(out, rep + sizeof(h), sizeof(*out));
    return 0;
}

/* Every device the domain holds: the count (*out malloc'ed), or -errno. */
static int sys_list(struct pv_vfio_sysfs_entry **out)
{
    uint8_t *rep = malloc(PV_PAYLOAD_MAX);
    struct pv_vfio_rep h;
    size_t got = 0, n;
    int64_t r;

    *out = NULL;
    if (!rep) {
        return -ENOMEM;
    }
    r = sys_ask(NULL, rep, PV_PAYLOAD_MAX, &got);
    if (r < 0 || got < sizeof(h)) {
        free(rep);
        return r < 0 ? (int)r : -EPROTO;
    }
    memcpy(&h, rep, sizeof(h));
    n = h.len / sizeof(**out);
    if (h.len != got - sizeof(h) || h.len % sizeof(**out) || (uint64_t)r != n) {
        free(rep);
        return -EPROTO;
    }
    *out = calloc(n ? n : 1, sizeof(**out));
    if (!*out) {
        free(rep);
        return -ENOMEM;
    }
    memcpy(*out, rep + sizeof(h), n * sizeof(**out));
    for (size_t i = 0; i < n; i++) {
        (*out)[i].name[PV_VFIO_NAME_MAX - 1] = '\0';
    }
    free(rep);
    return (int)n;
}

/* The text of a sysfs file, as Linux's pci-sysfs prints it. */
static void attr_text(int attr, const struct pv_vfio_sysfs *s, char *out,
                      size_t n)
{
    switch (attr) {
    case 0:
        snprintf(out, n, "0x%04x\n", s->vendor);
        break;
    case 1:
        snprintf(out, n, "0x%04x\n", s->device);
        break;
    case 2:
        snprintf(out, n, "0x%04x\n", s->subsystem_vendor);
        break;
    case 3:
        snprintf(out, n, "0x%04x\n", s->subsystem_device);
        break;
    default:
        snprintf(out, n, "0x%06x\n", s->class_code & 0xffffffu);
        break;
    }
}

/* The target of one of our links. */
static void link_text(enum sys_what w, const char *name,
                      const struct pv_vfio_sysfs *s, char *out, size_t n)
{
    switch (w) {
    case SYS_DEV:
        snprintf(out, n, "../../../devices/pci0000:00/%s", name);
        break;
    case SYS_GROUP:
        snprintf(out, n, "../../../kernel/iommu_groups/%u", s->group);
        break;
    default:
        snprintf(out, n, "../../../bus/pci/drivers/vfio-pci");
        break;
    }
}

/* A descriptor reading text from its start. */
static int text_fd(const char *text, int flags)
{
    size_t n = strlen(text);
    int fd =
        memfd_create("procvisor-sysfs", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);

    if (fd < 0) {
        return -1;
    }
    if (pwrite(fd, text, n, 0) != (ssize_t)n) {
        int e = errno;
        shim_real.close(fd);
        return fail(e ? e : EIO);
    }
    return fd;
}

/* open() of a path under /dev/vfio/ or /sys/bus/pci/devices/: *mine says
 * whether it is ours; then the descriptor or -1/errno. */
int vfio_open(const char *path, int flags, bool *mine)
{
    char name[PV_VFIO_NAME_MAX], text[64];
    struct pv_vfio_sysfs s;
    enum sys_what w;
    int attr = 0, rc;

    *mine = false;
    if (strncmp(path, "/dev/vfio/", 10) == 0) {
        int64_t g;
        if (strcmp(path + 10, "vfio") == 0) {
            *mine = true;
            return vfio_node_open(SHIM_VFIO_CONTAINER, 0);
        }
        g = group_number(path + 10);
        if (g < 0) {
            return -1;
        }
        *mine = true;
        return vfio_node_open(SHIM_VFIO_GROUP, (uint32_t)g);
    }
    w = sys_parse(path, name, &attr);
    if (w == SYS_NONE || w == SYS_DIR) {
        return -1;
    }
    rc = sys_device(name, &s);
    if (rc) {
        return -1; /* not one of ours: the real file system */
    }
    *mine = true;
    if (w != SYS_ATTR) {
        /* the directories and what else a real device has are not made
         * up (docs/compat.md) */
        return fail(w == SYS_OTHER ? ENOENT : EOPNOTSUPP);
    }
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT)) {
        return fail(EACCES);
    }
    if (flags & O_DIRECTORY) {
        return fail(ENOTDIR);
    }
    attr_text(attr, &s, text, sizeof(text));
    return text_fd(text, flags);
}

FILE *vfio_fopen(const char *path, const char *mode, bool *mine)
{
    int fd, flags = O_RDONLY;
    FILE *f;

    *mine = false;
    if (strncmp(path, "/dev/", 5) == 0) {
        return NULL; /* a stdio stream of a VFIO node: not made up */
    }
    if (strpbrk(mode, "wa+")) {
        flags = O_RDWR;
    }
    if (strchr(mode, 'e')) {
        flags |= O_CLOEXEC;
    }
    fd = vfio_open(path, flags, mine);
    if (!*mine || fd < 0) {
        return NULL;
    }
    f = fdopen(fd, mode);
    if (!f) {
        int e = errno;
        shim_real.close(fd);
        errno = e;
    }
    return f;
}

ssize_t vfio_readlink(const char *path, char *buf, size_t n, bool *mine)
{
    char name[PV_VFIO_NAME_MAX], text[128];
    struct pv_vfio_sysfs s;
    enum sys_what w;
    int attr = 0;
    size_t len;

    *mine = false;
    w = sys_parse(path, name, &attr);
    if (w == SYS_NONE || w == SYS_DIR || sys_device(name, &s)) {
        return -1;
    }
    *mine = true;
    if (w == SYS_OTHER) {
        return fail(ENOENT);
    }
    if (w == SYS_ATTR) {
        return fail(EINVAL); /* a file, not a link */
    }
    if (n == 0 || n > SSIZE_MAX) {
        return fail(EINVAL);
    }
    link_text(w, name, &s, text, sizeof(text));
    len = strlen(text);
    if (len > n) {
        len = n;
    }
    if (pvc_poke((uint64_t)(uintptr_t)buf, text, len)) {
        return fail(EFAULT);
    }
    return (ssize_t)len;
}

static void fake_stat(struct stat *st, mode_t mode, dev_t rdev, off_t size,
                      ino_t ino)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    memset(st, 0, sizeof(*st));
    st->st_mode = mode;
    st->st_nlink = S_ISDIR(mode) ? 2 : 1;
    st->st_uid = S_ISCHR(mode) ? geteuid() : 0;
    st->st_gid = S_ISCHR(mode) ? getegid() : 0;
    st->st_rdev = rdev;
    st->st_size = size;
    st->st_blksize = 4096;
    st->st_ino = ino;
    st->st_dev = makedev(0, 22);
    st->st_atim = st->st_mtim = st->st_ctim = now;
}

/* Whether group g is one of the domain's (for /dev/vfio/<g>). */
static int group_seen(uint32_t g)
{
    struct pv_vfio_sysfs_entry *e;
    int n = sys_list(&e), found = 0;

    if (n < 0) {
        return n;
    }
    for (int i = 0; i < n; i++) {
        found |= e[i].info.group == g;
    }
    free(e);
    return found ? 0 : -ENOENT;
}

/*
 * stat (follow) or lstat of our paths: *mine says whether it is one; then
 * 0 or -1/errno.
 */
int vfio_stat(const char *path, struct stat *st, bool follow, bool *mine)
{
    char name[PV_VFIO_NAME_MAX];
    struct pv_vfio_sysfs s;
    struct stat tmp;
    enum sys_what w;
    int attr = 0;

    *mine = false;
    if (strncmp(path, "/dev/vfio/", 10) == 0) {
        int64_t g = group_number(path + 10);
        if (strcmp(path + 10, "vfio") == 0) {
            struct pv_vfio_sysfs_entry *e;
            int n = sys_list(&e);
            if (n < 0) {
                return -1;
            }
            free(e);
            fake_stat(&tmp, S_IFCHR | 0666, makedev(MISC_MAJOR, VFIO_MINOR), 0,
                      196);
        } else if (g < 0 || group_seen((uint32_t)g)) {
            return -1;
        } else {
            fake_stat(&tmp, S_IFCHR | 0600,
                      makedev(GROUP_MAJOR, (uint32_t)g & 0xfffff), 0,
                      1000 + (ino_t)g);
        }
    } else {
        w = sys_parse(path, name, &attr);
        if (w == SYS_NONE || w == SYS_DIR || sys_device(name, &s)) {
            return -1;
        }
        if (w == SYS_OTHER) {
            *mine = true;
            return fail(ENOENT);
        }
        ino_t ino = 0x70000000u + (ino_t)(s.group * 16u) + (ino_t)w;
        if (w == SYS_ATTR) {
            fake_stat(&tmp, S_IFREG | 0444, 0, 4096, ino + (ino_t)attr);
        } else if (!follow) {
            fake_stat(&tmp, S_IFLNK | 0777, 0, 0, ino);
        } else {
            fake_stat(&tmp, S_IFDIR | 0755, 0, 0, ino);
        }
    }
    *mine = true;
    if (pvc_poke((uint64_t)(uintptr_t)st, &tmp, sizeof(tmp))) {
        return fail(EFAULT);
    }
    return 0;
}

int vfio_access(const char *path, int mode, bool *mine)
{
    struct stat st;
    int r = vfio_stat(path, &st, true, mine);

    if (!*mine || r) {
        return r;
    }
    if (mode & ~(R_OK | W_OK | X_OK)) {
        return fail(EINVAL);
    }
    if ((mode & X_OK) && !S_ISDIR(st.st_mode)) {
        return fail(EACCES);
    }
    if ((mode & W_OK) && S_ISREG(st.st_mode) && geteuid() != 0) {
        return fail(EACCES);
    }
    return 0;
}

/* ---- the /sys/bus/pci/devices listing ---- */

struct vdir {
    DIR *d;
    struct pv_vfio_sysfs_entry *ents;
    int n, next;
    struct dirent de;
    struct vdir *link;
};
/* guards vdirs */
static pthread_mutex_t vdir_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vdir *vdirs;
static int nr_vdirs; /* read without the lock by readdir's fast path */

DIR *vfio_opendir(const char *path, bool *mine)
{
    char name[PV_VFIO_NAME_MAX];
    struct pv_vfio_sysfs_entry *e;
    struct vdir *v;
    int attr, n;
    DIR *d;

    *mine = false;
    if (sys_parse(path, name, &attr) != SYS_DIR) {
        return NULL;
    }
    n = sys_list(&e);
    if (n <= 0) {
        free(n == 0 ? e : NULL);
        return NULL;
    }
    *mine = true;
    d = shim_real.opendir(path);
    v = calloc(1, sizeof(*v));
    if (!d || !v) {
        int err = d ? ENOMEM : errno;
        if (d) {
            shim_real.closedir(d);
        }
        free(v);
        free(e);
        errno = err;
        return NULL;
    }
    v->d = d;
    v->ents = e;
    v->n = n;
    pthread_mutex_lock(&vdir_lock);
    v->link = vdirs;
    vdirs = v;
    __atomic_add_fetch(&nr_vdirs, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&vdir_lock);
    return d;
}

bool vfio_dirs_open(void)
{
    return __atomic_load_n(&nr_vdirs, __ATOMIC_ACQUIRE) != 0;
}

/* readdir of one of our listings: our devices first, then the real ones
 * but those we hide. */
struct dirent *vfio_readdir(DIR *d, bool *mine)
{
    struct dirent *r = NULL;
    struct vdir *v;

    *mine = false;
    pthread_mutex_lock(&vdir_lock);
    for (v = vdirs; v && v->d != d; v = v->link) {
    }
    if (v) {
        *mine = true;
        if (v->next < v->n) {
            const struct pv_vfio_sysfs_entry *e = &v->ents[v->next++];
            memset(&v->de, 0, sizeof(v->de));
            v->de.d_ino = 0x70000000u + (ino_t)v->next;
            v->de.d_reclen = sizeof(v->de);
            v->de.d_type = DT_LNK;
            snprintf(v->de.d_name, sizeof(v->de.d_name), "%s", e->name);
            r = &v->de;
        } else {
            bool hidden;
            do {
                r = shim_real.readdir(d);
                hidden = false;
                for (int i = 0; r && i < v->n && !hidden; i++) {
                    hidden = strcmp(r->d_name, v->ents[i].name) == 0;
                }
            } while (hidden);
        }
    }
    pthread_mutex_unlock(&vdir_lock);
    return r;
}

void vfio_closedir(DIR *d)
{
    struct vdir **pp, *v = NULL;

    pthread_mutex_lock(&vdir_lock);
    for (pp = &vdirs; *pp; pp = &(*pp)->link) {
        if ((*pp)->d == d) {
            v = *pp;
            *pp = v->link;
            __atomic_sub_fetch(&nr_vdirs, 1, __ATOMIC_RELEASE);
            break;
        }
    }
    pthread_mutex_unlock(&vdir_lock);
    if (v) {
        free(v->ents);
        free(v);
    }
}
