/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - one handler per vfio-user command, table-driven.
 *
 * Every command gets exactly one reply unless it sets NO_REPLY: the
 * handler's payload, or the header-only error reply with the handler's
 * errno.  The grammar (payloads in vfu_wire.h):
 *
 *   VERSION          {major, minor, JSON} -> the same; twin socket fd
 *   DMA_MAP          vfu_dma_map [+ fd]   -> (none)
 *   DMA_UNMAP        vfu_dma_unmap        -> vfu_dma_unmap
 *   DEVICE_GET_INFO  vfu_device_info      -> vfu_device_info
 *   GET_REGION_INFO  vfu_region_info      -> vfu_region_info [+ caps] [+ fd]
 *   GET_REGION_IO_FDS vfu_io_fds          -> vfu_io_fds (count 0)
 *   GET_IRQ_INFO     vfu_irq_info         -> vfu_irq_info
 *   SET_IRQS         vfu_irq_set [+ data] [+ fds] -> (none)
 *   REGION_READ      vfu_region_access    -> vfu_region_access + data
 *   REGION_WRITE     vfu_region_access + data -> vfu_region_access
 *   REGION_WRITE_MULTI u64 n + n entries  -> u64 n
 *   DEVICE_RESET     (none)               -> (none)
 *   DEVICE_FEATURE   (no feature: ENOTSUP), MIG_DATA_* (no migration:
 *                    EINVAL)
 *   PV_ADD_CLIENT    vfu_pv_add_client + fd -> (none)
 *
 * Before VERSION, anything else is EINVAL; a second VERSION is EINVAL; a
 * VERSION that cannot be parsed (EINVAL) or of another major (ENOTSUP) is
 * answered and then the connection closes, as the spec says.  A restricted
 * client may send REGION_READ and REGION_WRITE only: anything else is
 * EPERM and it stays connected.  Unknown commands are ENOSYS, DMA_READ and
 * DMA_WRITE (server-to-client only) EINVAL, a reply nobody waits for is
 * dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfu_impl.h"

struct out {
    uint8_t buf[512]; /* the reply payload, or its fixed part */
    size_t len;
    const uint8_t *data; /* then these bytes (REGION_READ) */
    size_t dlen;
    uint8_t *heap; /* freed after sending */
    int fds[2];
    unsigned int nfds;
    int owned_fd;    /* closed after sending */
    bool close_conn; /* after the reply */
};

typedef int handler_fn(struct vfu_conn *c, struct vfu_msg *m, struct out *o);

static void put(struct out *o, const void *p, size_t len)
{
    memcpy(o->buf, p, len);
    o->len = len;
}

/* ---- VERSION ---- */

static int do_version(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_dev *d = c->d;
    struct vfu_version v, rv;
    struct vfu_caps caps, ours;
    int rc, n;

    if (d->negotiated) {
        return -EINVAL;
    }
    rc = vfu_check_version(m->payload, m->len, &v, &caps);
    if (rc || m->nfds) {
        vfu_log(d, "bad VERSION: closing");
        o->close_conn = true;
        return -EINVAL;
    }
    if (v.major != VFU_VERSION_MAJOR) {
        vfu_log(d, "VERSION %u.%u not supported: closing", v.major, v.minor);
        o->close_conn = true;
        return -ENOTSUP;
    }
    vfu_caps_default(&ours);
    ours.max_msg_fds = VFU_MAX_MSG_FDS;
    ours.max_data_xfer_size = VFU_MAX_DATA_XFER;
    ours.max_dma_maps = VFU_SERVER_MAX_DMA_MAPS;
    ours.pgsizes = VFU_PAGE_SIZE;
    ours.write_multiple = true;
    if (caps.twin_supported && caps.max_msg_fds >= 1 && c->fd >= 0) {
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
            d->twin = vfu_conn_new(d, VFU_CONN_TWIN, sv[0]);
            if (d->twin) {
                d->twin_used = true;
                ours.twin_supported = true;
                ours.twin_has_index = true;
                ours.twin_fd_index = 0;
                o->fds[o->nfds++] = sv[1];
                o->owned_fd = sv[1];
            } else {
                close(sv[0]);
                close(sv[1]);
            }
        }
    }
    rv.major = VFU_VERSION_MAJOR;
    rv.minor = v.minor < VFU_VERSION_MINOR ? v.minor : VFU_VERSION_MINOR;
    memcpy(o->buf, &rv, sizeof(rv));
    n = vfu_caps_format(&ours, (char *)o->buf + sizeof(rv),
                        sizeof(o->buf) - sizeof(rv));
    if (n < 0) {
        return n;
    }
    o->len = sizeof(rv) + (size_t)n;
    d->peer = caps;
    d->negotiated = true;
    return 0;
}

/* ---- DMA ---- */

static int do_dma_map(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_dma_map dm;
    int rc;

    (void)o;
    rc = vfu_check_dma_map(m->payload, m->len, m->nfds, &dm);
    if (rc) {
        return rc;
    }
    rc = vfu_dma_map_add(c->d, &dm, m->nfds ? m->fds[0] : -1);
    if (rc == 0 && m->nfds) {
        m->fds[0] = -1; /* the map has it */
    }
    return rc;
}

static int do_dma_unmap(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_dma_unmap u;
    int rc = vfu_check_dma_unmap(m->payload, m->len, m->nfds, &u);

    if (rc) {
        return rc;
    }
    rc = vfu_dma_map_remove(c->d, &u);
    if (rc) {
        return rc;
    }
    u.argsz = sizeof(u);
    put(o, &u, sizeof(u));
    return 0;
}

/* ---- information ---- */

static int do_device_info(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_device_info di;
    int rc = vfu_check_device_info(m->payload, m->len, m->nfds, &di);

    (void)c;
    if (rc) {
        return rc;
    }
    di = (struct vfu_device_info){
        .argsz = sizeof(di),
        .flags = VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI,
        .num_regions = VFU_NUM_REGIONS,
        .num_irqs = VFU_NUM_IRQS,
    };
    put(o, &di, sizeof(di));
    return 0;
}

static int do_region_info(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_dev *d = c->d;
    struct vfu_region_info ri;
    const struct vfu_region *r;
    bool mmap_ok;
    long n;
    int rc = vfu_check_region_info(m->payload, m->len, m->nfds, &ri);

    if (rc) {
        return rc;
    }
    if (ri.index >= VFU_NUM_REGIONS) {
        return -EINVAL;
    }
    r = &d->regions[ri.index];
    /* a region's descriptor goes only to a client that takes some */
    mmap_ok = r->fd >= 0 && r->size && d->peer.max_msg_fds >= 1;
    {
        struct vfu_region_info out = {
            .index = ri.index,
            .flags = r->size ? r->flags : 0,
            .size = r->size,
            .offset = 0,
        };

        if (mmap_ok) {
            out.flags |= VFIO_REGION_INFO_FLAG_MMAP;
        }
        n = vfu_region_info_build(o->buf, sizeof(o->buf), ri.argsz, &out,
                                  r->areas, mmap_ok ? r->nr_areas : 0);
    }
    if (n < 0) {
        return (int)n;
    }
    o->len = (size_t)n;
    if (mmap_ok) {
        o->fds[o->nfds++] = r->fd;
    }
    return 0;
}

static int do_io_fds(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_io_fds q;
    int rc = vfu_check_io_fds(m->payload, m->len, m->nfds, &q);

    if (rc) {
        return rc;
    }
    if (q.index >= VFU_NUM_REGIONS || !c->d->regions[q.index].size) {
        return -EINVAL;
    }
    /* no ioeventfd sub-regions: every access comes as a message */
    q = (struct vfu_io_fds){.argsz = sizeof(q), .index = q.index};
    put(o, &q, sizeof(q));
    return 0;
}

static int do_irq_info(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_irq_info ii;
    int rc = vfu_check_irq_info(m->payload, m->len, m->nfds, &ii);

    if (rc) {
        return rc;
    }
    rc = vfu_irq_info(c->d, ii.index, &ii);
    if (rc) {
        return rc;
    }
    put(o, &ii, sizeof(ii));
    return 0;
}

static int do_set_irqs(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_irq_set is;
    const uint8_t *data;
    int rc;

    (void)o;
    rc = vfu_check_irq_set(m->payload, m->len, m->nfds, c->d->irq_count,
                           VFU_NUM_IRQS, &is, &data);
    if (rc) {
        return rc;
    }
    return vfu_irq_set(c->d, &is, data, m->fds, m->nfds);
}

/* ---- region access ---- */

/* one access, already inside the region */
static int region_rw(struct vfu_dev *d, uint32_t idx, uint64_t off, void *buf,
                     uint32_t count, bool write)
{
    const struct vfu_region *r = &d->regions[idx];
    uint32_t need =
        write ? VFIO_REGION_INFO_FLAG_WRITE : VFIO_REGION_INFO_FLAG_READ;

    if (!(r->flags & need)) {
        return -EINVAL;
    }
    if (idx == VFIO_PCI_CONFIG_REGION_INDEX) {
        int chg;

        if (!write) {
            return vfu_pci_read(&d->pci, (uint32_t)off, buf, count);
        }
        chg = vfu_pci_write(&d->pci, (uint32_t)off, buf, count);
        if (chg < 0) {
            return chg;
        }
        if (chg & VFU_PCI_CHG_COMMAND) {
            vfu_irq_command_changed(d);
        }
        return 0;
    }
    /* as vfio-pci: a memory BAR with memory decode off answers EIO */
    if (idx < VFU_PCI_NUM_BARS && d->pci.bar_type[idx] != VFU_BAR_IO &&
        !(vfu_pci_command(&d->pci) & VFU_PCI_CMD_MEMORY)) {
        return -EIO;
    }
    if (!d->ops->access) {
        return -EINVAL;
    }
    return d->ops->access(d->opaque, idx, off, buf, count, write);
}

static int check_inside(const struct vfu_dev *d, uint32_t idx, uint64_t off,
                        uint64_t count)
{
    const struct vfu_region *r;

    if (idx >= VFU_NUM_REGIONS) {
        return -EINVAL;
    }
    r = &d->regions[idx];
    if (!r->size || off > r->size || count > r->size - off) {
        return -EINVAL;
    }
    return 0;
}

static int do_region_access(struct vfu_conn *c, struct vfu_msg *m,
                            struct out *o)
{
    struct vfu_dev *d = c->d;
    struct vfu_region_access ra;
    const uint8_t *data;
    bool write = m->h.cmd == VFU_CMD_REGION_WRITE;
    int rc;

    rc = vfu_check_region_access(m->h.cmd, m->payload, m->len, m->nfds,
                                 VFU_MAX_DATA_XFER, &ra, &data);
    if (rc) {
        return rc == -EMSGSIZE || rc == -EOVERFLOW ? -EINVAL : rc;
    }
    rc = check_inside(d, ra.region, ra.offset, ra.count);
    if (rc) {
        return rc;
    }
    put(o, &ra, sizeof(ra));
    if (ra.count == 0) {
        return 0;
    }
    if (write) {
        /* the device may keep nothing of it: a copy it can scribble on */
        return region_rw(d, ra.region, ra.offset, (void *)data, ra.count, true);
    }
    o->heap = calloc(1, ra.count);
    if (!o->heap) {
        return -ENOMEM;
    }
    rc = region_rw(d, ra.region, ra.offset, o->heap, ra.count, false);
    if (rc) {
        return rc;
    }
    o->data = o->heap;
    o->dlen = ra.count;
    return 0;
}

static int do_write_multi(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    const uint8_t *e;
    uint64_t n;
    int rc = vfu_check_write_multi(m->payload, m->len, m->nfds, &n, &e);

    if (rc) {
        return rc == -EOVERFLOW ? -EINVAL : rc;
    }
    for (uint64_t i = 0; i < n; i++) {
        struct vfu_write_multi w;

        memcpy(&w, e + i * sizeof(w), sizeof(w));
        rc = check_inside(c->d, w.region, w.offset, w.count);
        if (!rc) {
            rc = region_rw(c->d, w.region, w.offset, w.data, w.count, true);
        }
        if (rc) {
            return rc;
        }
    }
    put(o, &n, sizeof(n));
    return 0;
}

/* ---- the rest ---- */

static int do_reset(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    int rc = vfu_check_device_reset(m->len, m->nfds);

    (void)o;
    if (rc) {
        return rc;
    }
    if (c->d->ops->reset) {
        c->d->ops->reset(c->d->opaque);
    }
    return 0;
}

static int do_feature(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_device_feature f;
    int rc = vfu_check_device_feature(m->payload, m->len, m->nfds, &f);

    (void)c;
    (void)o;
    return rc ? rc : -ENOTSUP; /* no feature: no migration */
}

static int do_mig_data(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    struct vfu_mig_data md;
    int rc = vfu_check_mig_data(m->h.cmd, m->payload, m->len, m->nfds, &md);

    (void)c;
    (void)o;
    return rc ? rc : -EINVAL; /* no migration state to move */
}

static int do_add_client(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    int rc = vfu_check_pv_add_client(m->payload, m->len, m->nfds);

    (void)o;
    if (rc) {
        return rc;
    }
    rc = vfu_conn_add_client(c->d, m->fds[0]);
    if (rc == 0) {
        m->fds[0] = -1;
    }
    return rc;
}

static int do_wrong_way(struct vfu_conn *c, struct vfu_msg *m, struct out *o)
{
    (void)c;
    (void)m;
    (void)o;
    return -EINVAL; /* DMA_READ/DMA_WRITE go server-to-client */
}

static handler_fn *const handlers[] = {
    [VFU_CMD_VERSION] = do_version,
    [VFU_CMD_DMA_MAP] = do_dma_map,
    [VFU_CMD_DMA_UNMAP] = do_dma_unmap,
    [VFU_CMD_DEVICE_GET_INFO] = do_device_info,
    [VFU_CMD_DEVICE_GET_REGION_INFO] = do_region_info,
    [VFU_CMD_DEVICE_GET_REGION_IO_FDS] = do_io_fds,
    [VFU_CMD_DEVICE_GET_IRQ_INFO] = do_irq_info,
    [VFU_CMD_DEVICE_SET_IRQS] = do_set_irqs,
    [VFU_CMD_REGION_READ] = do_region_access,
    [VFU_CMD_REGION_WRITE] = do_region_access,
    [VFU_CMD_DMA_READ] = do_wrong_way,
    [VFU_CMD_DMA_WRITE] = do_wrong_way,
    [VFU_CMD_DEVICE_RESET] = do_reset,
    [VFU_CMD_REGION_WRITE_MULTI] = do_write_multi,
    [VFU_CMD_DEVICE_FEATURE] = do_feature,
    [VFU_CMD_MIG_DATA_READ] = do_mig_data,
    [VFU_CMD_MIG_DATA_WRITE] = do_mig_data,
};

static handler_fn *lookup(uint16_t cmd)
{
    if (cmd == VFU_CMD_PV_ADD_CLIENT) {
        return do_add_client;
    }
    if (cmd < sizeof(handlers) / sizeof(handlers[0])) {
        return handlers[cmd];
    }
    return NULL;
}

void vfu_dispatch(struct vfu_conn *c, struct vfu_msg *m)
{
    struct vfu_dev *d = c->d;
    struct out *o;
    handler_fn *fn;
    int rc;

    if (vfu_is_reply(&m->h)) {
        vfu_log(d, "dropping an unexpected %s reply (id %u)",
                vfu_cmd_name(m->h.cmd), m->h.msg_id);
        vfu_msg_free(m);
        return;
    }
    o = calloc(1, sizeof(*o));
    if (!o) {
        rc = -ENOMEM;
        goto reply;
    }
    o->owned_fd = -1;
    fn = lookup(m->h.cmd);
    if (vfu_hdr_check(&m->h)) {
        rc = -EINVAL;
    } else if (c->kind == VFU_CONN_RESTRICTED &&
               m->h.cmd != VFU_CMD_REGION_READ &&
               m->h.cmd != VFU_CMD_REGION_WRITE) {
        rc = -EPERM;
    } else if (m->too_many_fds) {
        rc = -EINVAL;
    } else if (!d->negotiated && m->h.cmd != VFU_CMD_VERSION) {
        rc = -EINVAL;
    } else if (!fn) {
        rc = -ENOSYS;
    } else {
        rc = fn(c, m, o);
    }
    if (rc && rc != -EPERM) {
        vfu_log(d, "%s (id %u): %s", vfu_cmd_name(m->h.cmd), m->h.msg_id,
                strerror(-rc));
    }
reply:
    if (!(m->h.flags & VFU_F_NO_REPLY) || vfu_hdr_check(&m->h)) {
        struct vfu_hdr h;

        if (rc) {
            vfu_error_reply(&h, &m->h, (uint32_t)-rc);
            vfu_send(c, &h, NULL, 0, NULL, 0);
        } else {
            vfu_hdr_init(&h, m->h.msg_id, m->h.cmd,
                         (uint32_t)(o->len + o->dlen), VFU_F_TYPE_REPLY);
            vfu_send2(c, &h, o->buf, o->len, o->data, o->dlen, o->fds, o->nfds);
        }
    }
    if (o) {
        if (o->owned_fd >= 0) {
            close(o->owned_fd);
        }
        if (o->close_conn) {
            c->dead = true;
        }
        free(o->heap);
        free(o);
    }
    vfu_msg_free(m);
}

void vfu_run_work(struct vfu_dev *d)
{
    for (int i = 0; i < 16 && d->work_pending; i++) {
        d->work_pending = false;
        if (d->ops->work) {
            d->ops->work(d->opaque);
        }
    }
}
