/* SPDX-License-Identifier: MIT */
/*
 * devmodel.c - the daemon as the vfio-user client of each device model:
 * the handshake (VERSION with a twin socket), learning the device (its
 * regions, interrupts and PCI identity), commands with a deadline, and the
 * DMA the device asks for (DMA_READ/DMA_WRITE), served through the
 * container's IOMMU from the driver's memory (docs/vfio.md).
 *
 * A device model is trusted to be what dom0 started, not to be correct:
 * every reply is checked (src/vfu/wire.c), a command that is not answered
 * within DM_TIMEOUT_MS kills it, and a dead one only makes its own
 * device's descriptors fail.  While the daemon waits for a reply it keeps
 * serving that device's DMA requests, so a device model that must finish a
 * DMA before it can answer (a DMA_UNMAP waits for DMA in flight) does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "devmodel.h"
#include "vfu_wire.h"

#define DM_TIMEOUT_MS 2000
#define DM_MAX_SEGS   (VFU_MAX_DATA_XFER / 4096u + 2u)
#define DM_IOV_MAX    1024

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events before the deadline: 0, -ETIMEDOUT,
 * or -EPIPE when the peer hung up (and nothing is left to read). */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int64_t left = deadline - now_ms();
        int n;

        if (left <= 0) {
            return -ETIMEDOUT;
        }
        n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            return -ETIMEDOUT;
        }
        if (p.revents & events) {
            return 0;
        }
        return -EPIPE;
    }
}

/* Send one whole message (descriptors with its first byte). */
static int send_all(int fd, const void *buf, size_t len, const int *fds,
                    int nfds, int64_t deadline)
{
    const uint8_t *p = buf;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * VFU_MAX_MSG_FDS)];
    } u;

    if (nfds < 0 || nfds > (int)VFU_MAX_MSG_FDS) {
        return -EINVAL;
    }
    while (len) {
        struct iovec iov = {.iov_base = (void *)p, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        if (nfds) {
            struct cmsghdr *cm;
            mh.msg_control = u.buf;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
            cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
            memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
        }
        n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            int rc = wait_fd(fd, POLLOUT, deadline);
            if (rc) {
                return rc;
            }
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        nfds = 0; /* they went with the first byte */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read exactly len bytes; descriptors that come are added to fds. */
static int recv_all(int fd, void *buf, size_t len, int *fds, int *nfds,
                    int64_t deadline)
{
    uint8_t *p = buf;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * VFU_MAX_MSG_FDS)];
    } u;

    while (len) {
        struct iovec iov = {.iov_base = p, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = u.buf,
                            .msg_controllen = sizeof(u.buf)};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            int rc = wait_fd(fd, POLLIN, deadline);
            if (rc) {
                return rc;
            }
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
             cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
                continue;
            }
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int got[VFU_MAX_MSG_FDS];
            memcpy(got, CMSG_DATA(cm), k * sizeof(int));
            for (size_t i = 0; i < k; i++) {
                if (*nfds < (int)VFU_MAX_MSG_FDS) {
                    fds[(*nfds)++] = got[i];
                } else {
                    close(got[i]);
                }
            }
        }
        if (mh.msg_flags & MSG_CTRUNC) {
            return -EPROTO;
        }
        if (n == 0) {
            return -EPIPE;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        close(fds[i]);
    }
}

/* One message into buf (cap bytes): its header in *h, payload after it. */
static int recv_msg(int fd, uint8_t *buf, size_t cap, struct vfu_hdr *h,
                    int *fds, int *nfds, int64_t deadline)
{
    int rc;

    *nfds = 0;
    rc = recv_all(fd, buf, VFU_HDR_SIZE, fds, nfds, deadline);
    if (rc == 0) {
        rc = vfu_hdr_parse(buf, VFU_HDR_SIZE, h);
    }
    if (rc == 0 && h->msg_size > cap) {
        rc = -EMSGSIZE;
    }
    if (rc == 0) {
        rc = recv_all(fd, buf + VFU_HDR_SIZE, vfu_payload_len(h), fds, nfds,
                      deadline);
    }
    if (rc) {
        close_fds(fds, *nfds);
        *nfds = 0;
    }
    return rc;
}

/* ---- DMA on behalf of a device ---- */

/* Copy between buf and the memory of one translated segment list. */
static int dma_copy(struct iommu_seg *segs, size_t n, bool write, uint8_t *buf)
{
    struct iovec local[DM_IOV_MAX], remote[DM_IOV_MAX];
    size_t nio = 0, want = 0, pos = 0;
    struct dm_backing *anon = NULL;

    for (size_t i = 0; i < n; i++) {
        struct dm_backing *b = (struct dm_backing *)(uintptr_t)segs[i].cookie;
        if (b->fd >= 0) {
            off_t off = (off_t)(b->fd_off + segs[i].offset);
            ssize_t r = write ? pwrite(b->fd, buf + pos, segs[i].len, off)
                              : pread(b->fd, buf + pos, segs[i].len, off);
            if (r != (ssize_t)segs[i].len) {
                return -EIO;
            }
        } else {
            /* one process per request: a container is one process's */
            if (anon && anon->pid != b->pid) {
                return -EIO;
            }
            if (nio == DM_IOV_MAX) {
                return -E2BIG;
            }
            anon = b;
            local[nio] = (struct iovec){buf + pos, segs[i].len};
            remote[nio] =
                (struct iovec){(void *)(uintptr_t)segs[i].vaddr, segs[i].len};
            nio++;
            want += segs[i].len;
        }
        pos += segs[i].len;
    }
    if (nio) {
        struct pollfd p = {.fd = anon->pidfd, .events = POLLIN};
        ssize_t r;
        /* the driver must still be the process that mapped the memory: a
         * pidfd turns readable when it exits, before its pid is reused */
        if (anon->pidfd < 0 || poll(&p, 1, 0) != 0) {
            return -ESRCH;
        }
        r = write ? process_vm_writev(anon->pid, local, nio, remote, nio, 0)
                  : process_vm_readv(anon->pid, local, nio, remote, nio, 0);
        if (r != (ssize_t)want) {
            return r < 0 ? -errno : -EIO;
        }
        if (!write && poll(&p, 1, 0) != 0) {
            return -ESRCH; /* it went while we read: the bytes are not its */
        }
    }
    return 0;
}

/* A DMA_READ or DMA_WRITE from device v's model: refused (EFAULT, logged
 * in the fault log) unless the IOMMU maps all of it with the permission. */
static void dma_serve(struct daemon *dm, struct vdev *v, int fd,
                      const struct vfu_hdr *h, const uint8_t *p, int nfds)
{
    struct vfu_dma_access da;
    const uint8_t *data = NULL;
    bool write = h->cmd == VFU_CMD_DMA_WRITE;
    struct iommu_seg segs[DM_MAX_SEGS];
    size_t nsegs = 0;
    struct vfu_hdr rh;
    uint8_t *out = dm->vfu_out;
    size_t olen;
    int rc;

    rc = vfu_check_dma_access(h->cmd, p, vfu_payload_len(h), (unsigned)nfds,
                              VFU_MAX_DATA_XFER, &da, &data);
    if (rc == 0 && !v->core) {
        rc = -EFAULT; /* not registered yet: it has no IOMMU to go through */
    }
    if (rc == 0) {
        rc = vfio_dma(dm->vfio, v->core, da.addr, da.count, write,
                      hv_now(&dm->hv), segs, DM_MAX_SEGS, &nsegs);
    }
    if (rc == 0) {
        /* a write's bytes go from the request; a read's into the reply */
        uint8_t *buf =
            write ? (uint8_t *)data : out + VFU_HDR_SIZE + sizeof(da);
        rc = dma_copy(segs, nsegs, write, buf);
        if (rc) {
            daemon_log(dm, "%s: DMA %s %#llx+%llu failed: %s", v->name,
                       write ? "write" : "read", (unsigned long long)da.addr,
                       (unsigned long long)da.count, strerror(-rc));
        }
    }
    v->dma_ops++;
    if (rc) {
        vfu_error_reply(&rh, h, (uint32_t)(rc == -EFAULT ? EFAULT : EIO));
        memcpy(out, &rh, sizeof(rh));
        olen = sizeof(rh);
    } else {
        olen = VFU_HDR_SIZE + sizeof(da) + (write ? 0 : da.count);
        vfu_hdr_init(&rh, h->msg_id, h->cmd, (uint32_t)(olen - VFU_HDR_SIZE),
                     VFU_F_TYPE_REPLY);
        memcpy(out, &rh, sizeof(rh));
        memcpy(out + VFU_HDR_SIZE, &da, sizeof(da));
    }
    if (!(h->flags & VFU_F_NO_REPLY) &&
        send_all(fd, out, olen, NULL, 0, now_ms() + DM_TIMEOUT_MS)) {
        devmodel_kill(dm, v, "its DMA reply could not be sent");
    }
}

/* Handle one message the device model sent on its own (a command). */
static void dm_command(struct daemon *dm, struct vdev *v, int fd,
                       const struct vfu_hdr *h, const uint8_t *p, int *fds,
                       int nfds)
{
    if (vfu_hdr_check(h) || vfu_is_reply(h)) {
        close_fds(fds, nfds);
        devmodel_kill(dm, v, "it sent a stray reply or a bad header");
        return;
    }
    if (h->cmd == VFU_CMD_DMA_READ || h->cmd == VFU_CMD_DMA_WRITE) {
        dma_serve(dm, v, fd, h, p, nfds);
    } else {
        struct vfu_hdr rh;
        vfu_error_reply(&rh, h, EINVAL);
        if (!(h->flags & VFU_F_NO_REPLY)) {
            send_all(fd, &rh, sizeof(rh), NULL, 0, now_ms() + DM_TIMEOUT_MS);
        }
    }
    close_fds(fds, nfds);
}

/* Readable main or twin socket outside a call: a DMA request, or EOF. */
void devmodel_input(struct daemon *dm, struct conn *c)
{
    struct vdev *v = c->vdev;
    struct vfu_hdr h;
    int fds[VFU_MAX_MSG_FDS], nfds = 0;
    int rc;

    if (!v || v->dead) {
        conn_close(dm, c);
        return;
    }
    rc = recv_msg(c->fd, dm->vfu_in, VFU_MAX_MSG_SIZE, &h, fds, &nfds,
                  now_ms() + DM_TIMEOUT_MS);
    if (rc) {
        devmodel_kill(dm, v,
                      rc == -EPIPE ? "it closed its socket"
                                   : "a message could not be read");
        return;
    }
    dm_command(dm, v, c->fd, &h, dm->vfu_in + VFU_HDR_SIZE, fds, nfds);
}

/*
 * One command to device model v and its reply: the reply payload (at most
 * cap bytes) in rep, its length in *rlen, descriptors in rfds (*rnfds, at
 * most the count given; the rest are closed).  Returns 0, the device's
 * error (-errno from an error reply), or -EIO/-ETIMEDOUT/-EPROTO when the
 * link failed, which kills the device model.
 */
int devmodel_call(struct daemon *dm, struct vdev *v, uint16_t cmd,
                  const void *req, size_t len, const int *fds, int nfds,
                  void *rep, size_t cap, size_t *rlen, int *rfds, int *rnfds)
{
    int64_t deadline = now_ms() + DM_TIMEOUT_MS;
    uint16_t id;
    int want = rnfds ? *rnfds : 0;
    int rc;

    if (rnfds) {
        *rnfds = 0;
    }
    if (rlen) {
        *rlen = 0;
    }
    if (v->dead || !v->main) {
        return -ENODEV;
    }
    if (len > VFU_MAX_MSG_SIZE - VFU_HDR_SIZE) {
        return -EMSGSIZE;
    }
    id = ++v->next_id;
    vfu_hdr_init((struct vfu_hdr *)dm->vfu_call, id, cmd, (uint32_t)len,
                 VFU_F_TYPE_COMMAND);
    if (len) {
        memcpy(dm->vfu_call + VFU_HDR_SIZE, req, len);
    }
    rc = send_all(v->main->fd, dm->vfu_call, VFU_HDR_SIZE + len, fds, nfds,
                  deadline);
    if (rc) {
        devmodel_kill(dm, v, "a command could not be sent");
        return -EIO;
    }
    for (;;) {
        struct pollfd pf[2] = {
            {.fd = v->main->fd, .events = POLLIN},
            {.fd = v->twin ? v->twin->fd : -1, .events = POLLIN}};
        int64_t left = deadline - now_ms();
        struct vfu_hdr h;
        int got[VFU_MAX_MSG_FDS], ngot = 0;
        int n;

        if (left <= 0) {
            devmodel_kill(dm, v, "it did not answer in time");
            return -ETIMEDOUT;
        }
        n = poll(pf, 2, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            continue; /* the deadline check above ends it */
        }
        if (pf[1].revents) {
            /* DMA the device needs, maybe before it can answer */
            rc = recv_msg(v->twin->fd, dm->vfu_in, VFU_MAX_MSG_SIZE, &h, got,
                          &ngot, deadline);
            if (rc) {
                devmodel_kill(dm, v, "its twin socket failed");
                return -EIO;
            }
            dm_command(dm, v, v->twin->fd, &h, dm->vfu_in + VFU_HDR_SIZE, got,
                       ngot);
            if (v->dead) {
                return -EIO;
            }
            continue;
        }
        if (!pf[0].revents) {
            continue;
        }
        rc = recv_msg(v->main->fd, dm->vfu_in, VFU_MAX_MSG_SIZE, &h, got, &ngot,
                      deadline);
        if (rc) {
            devmodel_kill(dm, v,
                          rc == -EPIPE ? "it closed its socket"
                                       : "a reply could not be read");
            return -EIO;
        }
        if (!vfu_is_reply(&h)) {
            dm_command(dm, v, v->main->fd, &h, dm->vfu_in + VFU_HDR_SIZE, got,
                       ngot);
            if (v->dead) {
                return -EIO;
            }
            continue;
        }
        if (vfu_hdr_check(&h) || h.msg_id != id || h.cmd != cmd) {
            close_fds(got, ngot);
            devmodel_kill(dm, v, "it answered out of turn");
            return -EPROTO;
        }
        if (h.flags & VFU_F_ERROR) {
            close_fds(got, ngot);
            /* a positive errno from the device; anything odd is EIO */
            return h.error_no > 0 && h.error_no < 4096 ? -(int)h.error_no
                                                       : -EIO;
        }
        size_t plen = vfu_payload_len(&h);
        if (rep) {
            memcpy(rep, dm->vfu_in + VFU_HDR_SIZE, plen < cap ? plen : cap);
        }
        if (rlen) {
            *rlen = plen;
        }
        for (int i = 0; i < ngot; i++) {
            if (i < want) {
                rfds[i] = got[i];
            } else {
                close(got[i]);
            }
        }
        if (rnfds) {
            *rnfds = ngot < want ? ngot : want;
        }
        return 0;
    }
}

/* ---- the handshake and the device's description ---- */

static int handshake(struct daemon *dm, struct vdev *v)
{
    struct vfu_caps mine, theirs;
    struct vfu_version ver = {VFU_VERSION_MAJOR, VFU_VERSION_MINOR}, got;
    uint8_t req[sizeof(ver) + 512], rep[sizeof(ver) + VFU_MAX_JSON];
    size_t rlen;
    int fd = -1, nfd = 1, rc, n;

    vfu_caps_default(&mine);
    mine.max_msg_fds = VFU_MAX_MSG_FDS;
    mine.max_data_xfer_size = VFU_MAX_DATA_XFER;
    mine.twin_supported = true;
    memcpy(req, &ver, sizeof(ver));
    n = vfu_caps_format(&mine, (char *)req + sizeof(ver),
                        sizeof(req) - sizeof(ver));
    if (n < 0) {
        return n;
    }
    rc = devmodel_call(dm, v, VFU_CMD_VERSION, req, sizeof(ver) + (size_t)n,
                       NULL, 0, rep, sizeof(rep), &rlen, &fd, &nfd);
    if (rc) {
        return rc;
    }
    if (rlen > sizeof(rep)) {
        rc = -EPROTO;
    } else {
        rc = vfu_check_version_reply(rep, rlen, (unsigned)nfd, &ver, &mine,
                                     &got, &theirs);
    }
    if (rc == 0 && theirs.twin_supported && nfd == 1) {
        v->twin = conn_new(dm, fd, CONN_DEVMODEL, NULL);
        fd = -1;
        if (!v->twin) {
            rc = -ENOMEM;
        } else {
            v->twin->vdev = v;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    v->caps = theirs;
    return rc;
}

static int learn_regions(struct daemon *dm, struct vdev *v)
{
    struct vfio_device_desc *d = &v->desc;
    struct vfu_device_info di = {.argsz = sizeof(di)};
    size_t rlen;
    int rc;

    rc = devmodel_call(dm, v, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0,
                       &di, sizeof(di), &rlen, NULL, NULL);
    if (rc == 0 && vfu_check_device_info_reply(&di, rlen, &di)) {
        rc = -EPROTO;
    }
    if (rc) {
        return rc;
    }
    memset(d, 0, sizeof(*d));
    d->flags = di.flags & VFIO_DEVICE_FLAGS_RESET;
    d->num_regions = VFIO_PCI_NUM_REGIONS;
    for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS && i < di.num_regions; i++) {
        uint8_t buf[sizeof(struct vfu_region_info) + 2048];
        struct vfu_region_info ri = {.argsz = sizeof(buf), .index = i};
        struct vfu_sparse_area areas[VFIO_DEV_MAX_SPARSE];
        uint32_t nr = 0;
        int fd = -1, nfd = 1;

        rc = devmodel_call(dm, v, VFU_CMD_DEVICE_GET_REGION_INFO, &ri,
                           sizeof(ri), NULL, 0, buf, sizeof(buf), &rlen, &fd,
                           &nfd);
        if (rc == 0 && (rlen > sizeof(buf) ||
                        vfu_check_region_info_reply(buf, rlen, (unsigned)nfd, i,
                                                    sizeof(buf), &ri, areas,
                                                    VFIO_DEV_MAX_SPARSE, &nr) ||
                        nr > VFIO_DEV_MAX_SPARSE)) {
            rc = -EPROTO;
        }
        if (rc) {
            if (fd >= 0) {
                close(fd);
            }
            return rc;
        }
        d->regions[i].size = ri.size;
        d->regions[i].flags =
            ri.flags &
            (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
             (fd >= 0 ? VFIO_REGION_INFO_FLAG_MMAP : 0));
        d->regions[i].nr_sparse = nr;
        for (uint32_t k = 0; k < nr; k++) {
            d->regions[i].sparse[k].offset = areas[k].offset;
            d->regions[i].sparse[k].size = areas[k].size;
        }
        v->region_fd[i] = fd;
        v->region_fd_off[i] = ri.offset;
    }
    for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS && i < di.num_irqs; i++) {
        struct vfu_irq_info ii = {.argsz = sizeof(ii), .index = i};
        rc = devmodel_call(dm, v, VFU_CMD_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii),
                           NULL, 0, &ii, sizeof(ii), &rlen, NULL, NULL);
        if (rc == 0 && vfu_check_irq_info_reply(&ii, rlen, i, &ii)) {
            rc = -EPROTO;
        }
        if (rc) {
            return rc;
        }
        d->irq_count[i] = ii.count;
    }
    /* REQ ("let go of the device") is the hypervisor's to raise, as
     * vfio-pci's is the kernel's: every device has it */
    d->irq_count[VFIO_PCI_REQ_IRQ_INDEX] = 1;
    d->pcie = d->irq_count[VFIO_PCI_ERR_IRQ_INDEX] != 0;
    d->has_vga = d->regions[VFIO_PCI_VGA_REGION_INDEX].size != 0;
    return vfio_device_desc_check(d) ? -EPROTO : 0;
}

/* The PCI identity, from the device's configuration space. */
static int learn_ids(struct daemon *dm, struct vdev *v)
{
    struct {
        struct vfu_region_access a;
        uint8_t cfg[48];
    } rep;
    struct vfu_region_access a = {.offset = 0,
                                  .region = VFIO_PCI_CONFIG_REGION_INDEX,
                                  .count = sizeof(rep.cfg)};
    size_t rlen;
    int rc;

    rc = devmodel_call(dm, v, VFU_CMD_REGION_READ, &a, sizeof(a), NULL, 0, &rep,
                       sizeof(rep), &rlen, NULL, NULL);
    if (rc == 0 &&
        (rlen != sizeof(rep) ||
         vfu_check_region_access_reply(VFU_CMD_REGION_READ, &rep, rlen, &a))) {
        rc = -EPROTO;
    }
    if (rc) {
        return rc;
    }
    memcpy(&v->vendor, rep.cfg + 0, 2);
    memcpy(&v->device, rep.cfg + 2, 2);
    v->class_code = (uint32_t)rep.cfg[9] | (uint32_t)rep.cfg[10] << 8 |
                    (uint32_t)rep.cfg[11] << 16;
    memcpy(&v->subsys_vendor, rep.cfg + 44, 2);
    memcpy(&v->subsys_device, rep.cfg + 46, 2);
    return 0;
}

int devmodel_start(struct daemon *dm, struct vdev *v, int fd, pid_t pid)
{
    struct ucred cr;
    socklen_t sl = sizeof(cr);
    int rc;

    for (size_t i = 0; i < VFIO_DEV_MAX_REGIONS; i++) {
        v->region_fd[i] = -1;
    }
    v->pidfd = -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    /* a model procvisor started: the pid its starter names (the socket
     * pair's credentials are the starter's); a server that listens: its
     * own, from the connection */
    if (pid <= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) == 0) {
        pid = cr.pid;
    }
    if (pid > 0) {
        v->pid = pid;
        v->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    }
    v->main = conn_new(dm, fd, CONN_DEVMODEL, NULL);
    if (!v->main) {
        return -ENOMEM;
    }
    v->main->vdev = v;
    rc = handshake(dm, v);
    if (rc) {
        daemon_log(dm, "device %s: VERSION: %s", v->name, strerror(-rc));
        return rc;
    }
    rc = learn_regions(dm, v);
    if (rc) {
        daemon_log(dm, "device %s: its regions and interrupts: %s", v->name,
                   strerror(-rc));
        return rc;
    }
    rc = learn_ids(dm, v);
    if (rc) {
        daemon_log(dm, "device %s: its configuration space: %s", v->name,
                   strerror(-rc));
    }
    return rc;
}

void devmodel_kill(struct daemon *dm, struct vdev *v, const char *why)
{
    if (v->dead) {
        return;
    }
    v->dead = true;
    daemon_log(dm, "device %s: its model (pid %d) is gone: %s", v->name,
               (int)v->pid, why);
    if (v->pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, v->pidfd, SIGKILL, NULL, 0);
    }
    if (v->main) {
        v->main->vdev = NULL;
        conn_close(dm, v->main);
        v->main = NULL;
    }
    if (v->twin) {
        v->twin->vdev = NULL;
        conn_close(dm, v->twin);
        v->twin = NULL;
    }
    if (v->core) {
        vfio_device_set_dead(v->core);
    }
    if (v->req_fd >= 0) {
        /* as vfio-pci asks its user to let go of a device going away */
        uint64_t one = 1;
        (void)!write(v->req_fd, &one, sizeof(one));
    }
}

void devmodel_free(struct daemon *dm, struct vdev *v)
{
    devmodel_kill(dm, v, "removed");
    for (size_t i = 0; i < VFIO_DEV_MAX_REGIONS; i++) {
        if (v->region_fd[i] >= 0) {
            close(v->region_fd[i]);
        }
    }
    if (v->pidfd >= 0) {
        close(v->pidfd);
    }
    if (v->req_fd >= 0) {
        close(v->req_fd);
    }
    free(v);
}
