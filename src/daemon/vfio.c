/* SPDX-License-Identifier: MIT */
/*
 * vfio.c - /dev/vfio for the domains and VFIO administration for dom0:
 * the messages PV_MSG_VFIO and PV_MSG_VFIO_CTL, on top of the pure model
 * (src/vfio: groups, containers, the type1 IOMMU, ioctl decoding) and the
 * device models (devmodel.c).  docs/vfio.md tells the whole story.
 *
 * A container, a group and a device file are each one connection of the
 * domain (conn->vfio_*); the model knows that connection as the file's
 * opener, so a process that dies closes its VFIO files in the kernel's
 * order.  What the model changes, the device models are told after the
 * model's call returns: DMA_MAP and DMA_UNMAP for the mappings of the
 * container each device's group is in ("resync" below), SET_IRQS and
 * DEVICE_RESET for its interrupts and reset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "devmodel.h"

/* A mapping the model dropped, for the device models to drop too. */
struct pending_unmap {
    struct vfio_container *c;
    uint64_t iova, size;
};

#define PENDING_MAX 256u

static void backing_free(struct dm_backing *b)
{
    if (b->fd >= 0) {
        close(b->fd);
    }
    if (b->pidfd >= 0) {
        close(b->pidfd);
    }
    free(b);
}

/* The model's callback: a mapping left container c. */
static void on_unmapped(void *opaque, struct vfio_container *c,
                        const struct iommu_mapping *m)
{
    struct daemon *dm = opaque;

    if (dm->nr_pending < PENDING_MAX) {
        struct pending_unmap *p = &dm->pending[dm->nr_pending++];
        p->c = c;
        p->iova = m->iova;
        p->size = m->size;
    } else {
        dm->pending_overflow = true; /* resync unmaps everything instead */
    }
    backing_free((struct dm_backing *)(uintptr_t)m->cookie);
}

int vfiod_init(struct daemon *dm)
{
    static const struct vfio_ops ops = {.dma_unmapped = on_unmapped};
    int rc;

    dm->vfu_in = malloc(VFU_MAX_MSG_SIZE);
    dm->vfu_out = malloc(VFU_MAX_MSG_SIZE);
    dm->vfu_call = malloc(VFU_MAX_MSG_SIZE);
    dm->pending = calloc(PENDING_MAX, sizeof(struct pending_unmap));
    dm->vfio_in = malloc(PV_VFIO_ARG_MAX + VFIO_NAME_MAX + 1);
    dm->vfio_rep = malloc(sizeof(struct vfio_reply));
    if (!dm->vfu_in || !dm->vfu_out || !dm->vfu_call || !dm->pending ||
        !dm->vfio_in || !dm->vfio_rep) {
        return -ENOMEM;
    }
    rc = vfio_new(&dm->vfio, NULL, &ops, dm);
    return rc;
}

void vfiod_fini(struct daemon *dm)
{
    while (dm->vdevs) {
        struct vdev *v = dm->vdevs;
        dm->vdevs = v->next;
        devmodel_free(dm, v);
    }
    if (dm->vfio) {
        /* the model frees mappings without telling anyone: close every
         * file first, so their cookies are released */
        vfiod_conn_closed(dm, NULL);
        size_t leaks = vfio_free(dm->vfio);
        if (leaks) {
            daemon_log(dm, "vfio: %zu allocations leaked", leaks);
        }
        dm->vfio = NULL;
    }
    free(dm->vfu_in);
    free(dm->vfu_out);
    free(dm->vfu_call);
    free(dm->pending);
    free(dm->vfio_in);
    free(dm->vfio_rep);
}

static struct vdev *vdev_by_handle(struct daemon *dm, uint64_t h)
{
    for (struct vdev *v = dm->vdevs; v; v = v->next) {
        if ((uint64_t)(uintptr_t)v == h) {
            return v;
        }
    }
    return NULL;
}

static struct vdev *vdev_of(struct daemon *dm, const struct vfio_device *d)
{
    return d ? vdev_by_handle(dm, vfio_device_handle(d)) : NULL;
}

static struct vfio_container *container_of_vdev(struct vdev *v)
{
    struct vfio_group *g;

    if (!v->core || v->dead) {
        return NULL;
    }
    g = vfio_device_group(v->core);
    return g ? vfio_group_container(g) : NULL;
}

/* ---- telling the device models ---- */

static void dm_map(struct daemon *dm, struct vdev *v,
                   const struct iommu_mapping *m)
{
    struct dm_backing *b = (struct dm_backing *)(uintptr_t)m->cookie;
    struct vfu_dma_map r = {.argsz = sizeof(r),
                            .flags = m->prot & (VFU_DMA_READ | VFU_DMA_WRITE),
                            .addr = m->iova,
                            .size = m->size};
    int rc;

    if (b->fd >= 0) {
        r.flags |= VFU_DMA_MMAP;
        r.offset = b->fd_off;
    }
    rc = devmodel_call(dm, v, VFU_CMD_DMA_MAP, &r, sizeof(r),
                       b->fd >= 0 ? &b->fd : NULL, b->fd >= 0, NULL, 0, NULL,
                       NULL, NULL);
    if (rc && !v->dead) {
        /* it will ask for this memory by message instead */
        daemon_log(dm, "device %s: DMA_MAP %#llx+%#llx: %s", v->name,
                   (unsigned long long)m->iova, (unsigned long long)m->size,
                   strerror(-rc));
    }
}

static void dm_unmap(struct daemon *dm, struct vdev *v, uint64_t iova,
                     uint64_t size, uint32_t flags)
{
    struct vfu_dma_unmap r = {
        .argsz = sizeof(r), .flags = flags, .addr = iova, .size = size};
    struct vfu_dma_unmap rep;
    int rc = devmodel_call(dm, v, VFU_CMD_DMA_UNMAP, &r, sizeof(r), NULL, 0,
                           &rep, sizeof(rep), NULL, NULL, NULL);

    if (rc && rc != -ENOENT && !v->dead) {
        daemon_log(dm, "device %s: DMA_UNMAP %#llx+%#llx: %s", v->name,
                   (unsigned long long)iova, (unsigned long long)size,
                   strerror(-rc));
    }
}

static int replay_one(void *opaque, const struct iommu_mapping *m)
{
    struct vdev *v = opaque;

    dm_map(v->dm, v, m);
    return v->dead ? -ENODEV : 0;
}

/*
 * After the model changed: drop what the device models must no longer
 * reach (the pending unmaps; everything, for a device whose group left its
 * container), then give a device whose group joined a container that
 * container's mappings.  A DMA_UNMAP is answered only when the device has
 * no DMA in flight, so when this returns no device reaches unmapped memory.
 */
static void resync(struct daemon *dm)
{
    for (struct vdev *v = dm->vdevs; v; v = v->next) {
        struct vfio_container *cur = container_of_vdev(v);
        if (v->dead) {
            v->attached = NULL;
            continue;
        }
        if (v->attached && (v->attached != cur || dm->pending_overflow)) {
            dm_unmap(dm, v, 0, 0, VFU_DMA_UNMAP_ALL);
            v->attached = NULL;
        }
        for (uint32_t i = 0; i < dm->nr_pending && v->attached; i++) {
            if (dm->pending[i].c == v->attached) {
                dm_unmap(dm, v, dm->pending[i].iova, dm->pending[i].size, 0);
            }
        }
        if (!v->attached && cur && !v->dead) {
            struct iommu *io = vfio_container_iommu(cur);
            v->attached = cur;
            if (io) {
                v->dm = dm;
                iommu_foreach(io, replay_one, v);
            }
        }
    }
    dm->nr_pending = 0;
    dm->pending_overflow = false;
}

/* ---- connections and cookies ---- */

static struct conn *conn_by_cookie(struct daemon *dm, uint64_t cookie)
{
    if (!cookie) {
        return NULL;
    }
    for (struct conn *c = dm->conns; c; c = c->next) {
        if (!c->dead && c->vfio_kind && c->vfio_cookie == cookie) {
            return c;
        }
    }
    return NULL;
}

static uint64_t new_cookie(void)
{
    uint64_t v = 0;

    while (v == 0) {
        if (getrandom(&v, sizeof(v), 0) != sizeof(v)) {
            v = 0;
        }
    }
    return v;
}

void vfiod_conn_closed(struct daemon *dm, struct conn *c)
{
    if (!dm->vfio) {
        return;
    }
    if (c) {
        if (!c->vfio_kind) {
            return;
        }
        vfio_opener_close(dm->vfio, (uint64_t)(uintptr_t)c);
        c->vfio_kind = 0;
        c->vfio_obj = NULL;
    } else {
        /* the daemon stops: every opener */
        for (struct conn *k = dm->conns; k; k = k->next) {
            if (k->vfio_kind) {
                vfio_opener_close(dm->vfio, (uint64_t)(uintptr_t)k);
                k->vfio_kind = 0;
            }
        }
    }
    resync(dm);
}

void vfiod_domain_dead(struct daemon *dm, uint32_t domid)
{
    if (dm->vfio) {
        vfio_domain_destroy(dm->vfio, domid);
        resync(dm);
    }
}

/* ---- PV_MSG_VFIO: a domain's containers, groups and devices ---- */

struct ioctl_ctx {
    struct daemon *dm;
    struct conn *c;
    uint64_t cookie; /* SET_CONTAINER's */
};

static int container_of_cookie(void *opaque, int32_t fd,
                               struct vfio_container **out)
{
    struct ioctl_ctx *x = opaque;
    struct conn *k = conn_by_cookie(x->dm, x->cookie);

    (void)fd;
    *out = NULL;
    /* the descriptor is open (the library checked); a container of the
     * same domain is the only one it may name */
    if (k && k->vfio_kind == PV_VFIO_CONTAINER && k->domid == x->c->domid) {
        *out = k->vfio_obj;
    }
    return 0;
}

static void vfio_reply(struct daemon *dm, struct conn *c,
                       const struct pv_hdr *h, int64_t ret, uint64_t cookie,
                       const void *bytes, size_t len, const int *fds, int nfds)
{
    struct pv_vfio_rep rep = {
        .ret = ret, .cookie = cookie, .len = (uint32_t)len};

    memcpy(dm->tx, &rep, sizeof(rep));
    if (len) {
        memcpy(dm->tx + sizeof(rep), bytes, len);
    }
    conn_reply(dm, c, h, dm->tx, sizeof(rep) + len, fds, nfds);
}

/* SET_IRQS for the device model: the checked request, its eventfds named
 * by position (vfu_wire.h's index array). */
static int forward_irqs(struct daemon *dm, struct vdev *v,
                        const struct vfio_irqs_req *r, const int *fds, int nfds)
{
    struct {
        struct vfu_irq_set s;
        int32_t idx[VFU_MAX_MSG_FDS * 4];
    } m;
    size_t len = sizeof(m.s);
    int used = 0;

    m.s = (struct vfu_irq_set){.argsz = sizeof(m.s),
                               .flags = r->data | r->action,
                               .index = r->index,
                               .start = r->start,
                               .count = r->count};
    if (r->data == VFIO_IRQ_SET_DATA_EVENTFD) {
        if (r->count > sizeof(m.idx) / sizeof(m.idx[0])) {
            return -EINVAL;
        }
        for (uint32_t i = 0; i < r->count; i++) {
            m.idx[i] = vfio_irqs_fd(r, i) < 0 ? -1 : used++;
        }
        if (used > nfds || used > (int)VFU_MAX_MSG_FDS) {
            return -EINVAL; /* the library sent fewer than it named */
        }
        len += r->count * sizeof(int32_t);
    } else if (r->data == VFIO_IRQ_SET_DATA_BOOL) {
        if (r->count > sizeof(m.idx)) {
            return -EINVAL;
        }
        memcpy(m.idx, r->payload, r->count);
        len += r->count;
    }
    m.s.argsz = (uint32_t)len;
    return devmodel_call(dm, v, VFU_CMD_DEVICE_SET_IRQS, &m, len, fds, used,
                         NULL, 0, NULL, NULL, NULL);
}

/* REQ, "please let go of the device", is the hypervisor's interrupt: it
 * keeps the eventfd and signals it when the device model goes away. */
static int req_irq(struct vdev *v, const struct vfio_irqs_effect *e,
                   const struct vfio_irqs_req *r, int *fds, int nfds)
{
    if (e->op == VFIO_IRQ_EFFECT_ERR_FD || e->op == VFIO_IRQ_EFFECT_DISABLE) {
        if (v->req_fd >= 0) {
            close(v->req_fd);
            v->req_fd = -1;
        }
        if (e->op == VFIO_IRQ_EFFECT_ERR_FD && vfio_irqs_fd(r, 0) >= 0) {
            if (nfds < 1 || fds[0] < 0) {
                return -EINVAL;
            }
            v->req_fd = fds[0];
            fds[0] = -1;
        }
    } else if (e->op == VFIO_IRQ_EFFECT_LOOPBACK && v->req_fd >= 0 &&
               vfio_irqs_bool(r, 0)) {
        uint64_t one = 1;
        (void)!write(v->req_fd, &one, sizeof(one));
    }
    return 0;
}

/* GET_DEVICE_FD's descriptors: a restricted client of the device model
 * for the region accesses, and a new connection for the file's ioctls. */
static int open_device(struct daemon *dm, struct vdev *v, int *out_fd)
{
    struct {
        uint32_t a, b;
    } z = {0, 0};
    int sv[2], rc;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        return -errno;
    }
    rc = devmodel_call(dm, v, VFU_CMD_PV_ADD_CLIENT, &z, sizeof(z), &sv[1], 1,
                       NULL, 0, NULL, NULL, NULL);
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        return rc == -ENODEV || v->dead ? -ENODEV : rc;
    }
    *out_fd = sv[0];
    return 0;
}

static void do_ioctl(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                     const struct pv_vfio_req *q, const uint8_t *bytes,
                     int *fds, int nfds)
{
    const struct vfio_ioctl_def *def =
        vfio_args_def((enum vfio_kind)q->kind, (uint32_t)q->request);
    struct ioctl_ctx x = {.dm = dm, .c = c, .cookie = q->cookie};
    struct vfio_ioctl_env env = {.container_of_fd = container_of_cookie,
                                 .opaque = &x};
    struct vfio_reply *rep = dm->vfio_rep;
    uint8_t *in = dm->vfio_in;
    size_t inlen = 0;
    struct dm_backing *b = NULL;
    struct conn *devc = NULL;
    int dev_sv[2] = {-1, -1};
    int out_fds[2], nout = 0;
    long ret;

    rep->outlen = 0;
    rep->dev = NULL;
    rep->forward = false;

    if (q->kind != c->vfio_kind) {
        ret = -EINVAL; /* the library names its own descriptor's kind */
        goto out;
    }
    switch (def ? def->shape : VFIO_SHAPE_NONE) {
    case VFIO_SHAPE_VALUE:
        memcpy(in, &q->arg, 8);
        inlen = 8;
        break;
    case VFIO_SHAPE_INT: {
        int32_t i = (int32_t)q->arg;
        memcpy(in, &i, 4);
        inlen = 4;
        break;
    }
    case VFIO_SHAPE_STRING:
        if (q->len >= VFIO_NAME_MAX) {
            ret = -EINVAL;
            goto out;
        }
        memcpy(in, bytes, q->len);
        in[q->len] = '\0';
        inlen = q->len + 1;
        break;
    case VFIO_SHAPE_ARGSZ:
        memcpy(in, bytes, q->len);
        inlen = q->len;
        break;
    case VFIO_SHAPE_NONE:
        break;
    }
    if (def && def->op == VFIO_OP_IOMMU_MAP_DMA) {
        b = calloc(1, sizeof(*b));
        if (!b) {
            ret = -ENOMEM;
            goto out;
        }
        b->fd = -1;
        b->pidfd = -1;
        if ((q->flags & PV_VFIO_F_FD) && nfds >= 1) {
            b->fd = fds[0];
            fds[0] = -1;
            b->fd_off = q->arg;
        } else if (c->pidfd >= 0 && c->pid > 0) {
            /* the process that attached this connection, as the kernel
             * vouched for it then (SCM_CREDENTIALS), through the pidfd
             * taken then: never a pid looked up later, which may have
             * been reused by anyone */
            b->pid = c->pid;
            b->pidfd = fcntl(c->pidfd, F_DUPFD_CLOEXEC, 0);
        }
        env.map_cookie = (uint64_t)(uintptr_t)b;
    }
    if (def && def->op == VFIO_OP_GROUP_GET_DEVICE_FD) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, dev_sv) < 0) {
            ret = -errno;
            goto out;
        }
        devc = conn_new(dm, dev_sv[0], CONN_DOMAIN, c->d);
        dev_sv[0] = -1;
        if (!devc) {
            ret = -EMFILE;
            goto out;
        }
        env.opener = (uint64_t)(uintptr_t)devc;
    }
    ret = vfio_ioctl(dm->vfio, (enum vfio_kind)q->kind, c->vfio_obj,
                     (uint32_t)q->request, in, inlen, &env, rep);
    if (b && ret == 0) {
        /* the mapping is the model's now: tell the devices that see it */
        struct iommu_mapping m = {.iova = rep->req.u.map.iova,
                                  .size = rep->req.u.map.size,
                                  .vaddr = rep->req.u.map.vaddr,
                                  .cookie = env.map_cookie,
                                  .prot = rep->req.u.map.prot};
        for (struct vdev *v = dm->vdevs; v; v = v->next) {
            if (v->attached && v->attached == c->vfio_obj && !v->dead) {
                dm_map(dm, v, &m);
            }
        }
        b = NULL;
    }
    if (ret >= 0 && rep->forward && c->vfio_kind == PV_VFIO_DEVICE) {
        struct vdev *v = vdev_of(dm, vfio_device_file_device(c->vfio_obj));
        if (!v || v->dead) {
            ret = -ENODEV;
        } else if (def && def->op == VFIO_OP_DEVICE_SET_IRQS &&
                   rep->req.u.irqs.index == VFIO_PCI_REQ_IRQ_INDEX) {
            ret = req_irq(v, &rep->effect, &rep->req.u.irqs, fds, nfds);
        } else if (def && def->op == VFIO_OP_DEVICE_SET_IRQS) {
            ret = forward_irqs(dm, v, &rep->req.u.irqs, fds, nfds);
        } else if (def && def->op == VFIO_OP_DEVICE_RESET) {
            ret = devmodel_call(dm, v, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0,
                                NULL, 0, NULL, NULL, NULL);
        }
    }
    if (ret >= 0 && rep->dev) {
        struct vdev *v = vdev_of(dm, vfio_device_file_device(rep->dev));
        int sock = -1;
        long rc = v ? open_device(dm, v, &sock) : -ENODEV;
        if (rc) {
            vfio_device_close(rep->dev);
            ret = rc;
        } else {
            struct pv_vfio_device_fd info = {
                .max_data_xfer_size = (uint32_t)v->caps.max_data_xfer_size};
            devc->vfio_kind = PV_VFIO_DEVICE;
            devc->vfio_obj = rep->dev;
            devc->vfio_cookie = new_cookie();
            out_fds[nout++] = sock;
            out_fds[nout++] = dev_sv[1];
            memcpy(rep->out, &info, sizeof(info));
            rep->outlen = sizeof(info);
            devc = NULL; /* the shim's now */
        }
    }
out:
    resync(dm);
    /* the bytes the model set go back whatever ret is (an unmap's size,
     * an info struct's argsz), as the kernel copies them */
    vfio_reply(dm, c, h, ret, 0, rep->out, rep->outlen, out_fds, nout);
    for (int i = 0; i < nout; i++) {
        close(out_fds[i]);
    }
    if (devc) {
        conn_close(dm, devc);
    }
    if (dev_sv[1] >= 0 && nout == 0) {
        close(dev_sv[1]);
    }
    if (b) {
        backing_free(b);
    }
    for (int i = 0; i < nfds; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
}

static void do_sysfs(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                     const struct pv_vfio_req *q, const uint8_t *bytes)
{
    char name[PV_VFIO_NAME_MAX];
    struct pv_vfio_sysfs_entry e[64];
    size_t n = 0;

    if (q->len >= sizeof(name)) {
        vfio_reply(dm, c, h, -ENOENT, 0, NULL, 0, NULL, 0);
        return;
    }
    memcpy(name, bytes, q->len);
    name[q->len] = '\0';
    for (struct vdev *v = dm->vdevs; v && n < 64; v = v->next) {
        struct vfio_group_info gi;
        if (!v->core || (q->len && strcmp(v->name, name) != 0)) {
            continue;
        }
        vfio_group_get_info(vfio_device_group(v->core), &gi);
        if (gi.domid != c->domid) {
            continue;
        }
        memset(&e[n], 0, sizeof(e[n]));
        snprintf(e[n].name, sizeof(e[n].name), "%s", v->name);
        e[n].info = (struct pv_vfio_sysfs){.group = v->group,
                                           .vendor = v->vendor,
                                           .device = v->device,
                                           .subsystem_vendor = v->subsys_vendor,
                                           .subsystem_device = v->subsys_device,
                                           .class_code = v->class_code};
        n++;
    }
    if (q->len) {
        if (n == 0) {
            vfio_reply(dm, c, h, -ENOENT, 0, NULL, 0, NULL, 0);
        } else {
            vfio_reply(dm, c, h, 0, 0, &e[0].info, sizeof(e[0].info), NULL, 0);
        }
        return;
    }
    vfio_reply(dm, c, h, (int64_t)n, 0, e, n * sizeof(e[0]), NULL, 0);
}

static void do_region_fd(struct daemon *dm, struct conn *c,
                         const struct pv_hdr *h, const struct pv_vfio_req *q)
{
    struct vdev *v = c->vfio_kind == PV_VFIO_DEVICE
                         ? vdev_of(dm, vfio_device_file_device(c->vfio_obj))
                         : NULL;
    struct pv_vfio_mmap_area areas[VFIO_DEV_MAX_SPARSE];
    const struct vfio_region_desc *r;
    uint32_t n;

    if (!v) {
        vfio_reply(dm, c, h, -EINVAL, 0, NULL, 0, NULL, 0);
        return;
    }
    if (v->dead) {
        vfio_reply(dm, c, h, -ENODEV, 0, NULL, 0, NULL, 0);
        return;
    }
    if (q->arg >= VFIO_PCI_NUM_REGIONS || v->region_fd[q->arg] < 0 ||
        v->region_fd_off[q->arg] != 0) {
        vfio_reply(dm, c, h, -EINVAL, 0, NULL, 0, NULL, 0);
        return;
    }
    r = &v->desc.regions[q->arg];
    n = r->nr_sparse;
    for (uint32_t i = 0; i < n; i++) {
        areas[i].offset = r->sparse[i].offset;
        areas[i].size = r->sparse[i].size;
    }
    vfio_reply(dm, c, h, 0, 0, areas, n * sizeof(areas[0]),
               &v->region_fd[q->arg], 1);
}

void m_vfio(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
            uint8_t *p, int *fds, int nfds)
{
    struct pv_vfio_req q;
    long ret = 0;

    memcpy(&q, p, sizeof(q));
    if (!dm->vfio || q.len > PV_VFIO_ARG_MAX || h->len != sizeof(q) + q.len ||
        c->kind != CONN_DOMAIN) {
        for (int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        vfio_reply(dm, c, h, -EINVAL, 0, NULL, 0, NULL, 0);
        return;
    }
    if (q.op != PV_VFIO_IOCTL) {
        for (int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        nfds = 0;
    }
    switch (q.op) {
    case PV_VFIO_OPEN_CONTAINER:
    case PV_VFIO_OPEN_GROUP: {
        void *obj = NULL;
        if (c->vfio_kind) {
            ret = -EBUSY; /* one object per connection */
        } else if (q.op == PV_VFIO_OPEN_CONTAINER) {
            ret =
                vfio_container_open(dm->vfio, c->domid, (uint64_t)(uintptr_t)c,
                                    (struct vfio_container **)&obj);
        } else {
            ret = q.arg > UINT32_MAX
                      ? -ENOENT
                      : vfio_group_open(dm->vfio, (uint32_t)q.arg, c->domid,
                                        (uint64_t)(uintptr_t)c,
                                        (struct vfio_group **)&obj);
        }
        if (ret == 0) {
            c->vfio_kind = q.op == PV_VFIO_OPEN_CONTAINER ? PV_VFIO_CONTAINER
                                                          : PV_VFIO_GROUP;
            c->vfio_obj = obj;
            c->vfio_cookie = new_cookie();
        }
        vfio_reply(dm, c, h, ret, ret == 0 ? c->vfio_cookie : 0, NULL, 0, NULL,
                   0);
        return;
    }
    case PV_VFIO_IOCTL:
        do_ioctl(dm, c, h, &q, p + sizeof(q), fds, nfds);
        return;
    case PV_VFIO_REGION_FD:
        do_region_fd(dm, c, h, &q);
        return;
    case PV_VFIO_SYSFS:
        do_sysfs(dm, c, h, &q, p + sizeof(q));
        return;
    default:
        vfio_reply(dm, c, h, -EINVAL, 0, NULL, 0, NULL, 0);
    }
}

/* ---- PV_MSG_VFIO_CTL: dom0 ---- */

static struct vdev *vdev_by_name(struct daemon *dm, const char *name)
{
    for (struct vdev *v = dm->vdevs; v; v = v->next) {
        if (strcmp(v->name, name) == 0) {
            return v;
        }
    }
    return NULL;
}

/* The next free PCI name, 0000:00:NN.0 for NN from 01, and group. */
static void pick_name(struct daemon *dm, char *name, size_t n)
{
    for (unsigned int slot = 1; slot < 32; slot++) {
        snprintf(name, n, "0000:00:%02x.0", slot);
        if (!vdev_by_name(dm, name)) {
            return;
        }
    }
    for (unsigned int bus = 1; bus < 256; bus++) {
        for (unsigned int slot = 0; slot < 32; slot++) {
            snprintf(name, n, "0000:%02x:%02x.0", bus, slot);
            if (!vdev_by_name(dm, name)) {
                return;
            }
        }
    }
    name[0] = '\0';
}

static uint32_t pick_group(struct daemon *dm)
{
    for (uint32_t g = 1;; g++) {
        if (!vfio_group_find(dm->vfio, g)) {
            return g;
        }
    }
}

static void ctl_device_add(struct daemon *dm, struct conn *c,
                           const struct pv_hdr *h,
                           const struct pv_vfio_ctl_req *r, int fd)
{
    struct {
        struct pv_rep rep;
        char name[PV_VFIO_NAME_MAX];
    } out = {{0}, {0}};
    struct vdev *v = calloc(1, sizeof(*v));
    long rc = 0;

    if (!v) {
        close(fd);
        conn_reply_ret(dm, c, h, -ENOMEM);
        return;
    }
    snprintf(v->type, sizeof(v->type), "%.*s", (int)sizeof(r->type) - 1,
             r->type);
    if (r->name[0]) {
        snprintf(v->name, sizeof(v->name), "%.*s", (int)sizeof(v->name) - 1,
                 r->name);
        if (vdev_by_name(dm, v->name)) {
            rc = -EEXIST;
        }
    } else {
        pick_name(dm, v->name, sizeof(v->name));
    }
    v->group = r->group ? r->group : pick_group(dm);
    v->req_fd = -1;
    /* listed before it starts (devmodel_call may kill it), last in order */
    struct vdev **tail = &dm->vdevs;
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = v;
    if (rc == 0) {
        rc = devmodel_start(dm, v, fd, (pid_t)r->pid);
    } else {
        close(fd);
    }
    if (rc == 0) {
        rc = vfio_device_add(dm->vfio, v->name, v->group,
                             (uint64_t)(uintptr_t)v, &v->desc, &v->core);
    }
    if (rc) {
        daemon_log(dm, "device add %s (%s): %s", v->name, v->type,
                   strerror((int)-rc));
        for (struct vdev **pp = &dm->vdevs; *pp; pp = &(*pp)->next) {
            if (*pp == v) {
                *pp = v->next;
                break;
            }
        }
        devmodel_free(dm, v);
        conn_reply_ret(dm, c, h, rc);
        return;
    }
    daemon_log(dm, "device %s (%s, %04x:%04x) in group %u, model pid %d",
               v->name, v->type, v->vendor, v->device, v->group, (int)v->pid);
    out.rep.ret = v->group;
    memcpy(out.name, v->name, sizeof(v->name));
    conn_reply(dm, c, h, &out, sizeof(out), NULL, 0);
}

static void ctl_device_del(struct daemon *dm, struct conn *c,
                           const struct pv_hdr *h,
                           const struct pv_vfio_ctl_req *r)
{
    char name[PV_VFIO_NAME_MAX];
    struct vdev **pp = &dm->vdevs;

    snprintf(name, sizeof(name), "%.*s", (int)sizeof(name) - 1, r->name);
    while (*pp && strcmp((*pp)->name, name) != 0) {
        pp = &(*pp)->next;
    }
    if (!*pp) {
        conn_reply_ret(dm, c, h, -ENODEV);
        return;
    }
    struct vdev *v = *pp;
    if (v->core && vfio_device_opens(v->core)) {
        conn_reply_ret(dm, c, h, -EBUSY);
        return;
    }
    *pp = v->next;
    if (v->core) {
        vfio_device_remove(v->core);
        v->core = NULL;
    }
    devmodel_free(dm, v);
    resync(dm);
    conn_reply_ret(dm, c, h, 0);
}

static void vctl_list(struct daemon *dm, struct conn *c, const struct pv_hdr *h)
{
    struct pv_rep *rep = (struct pv_rep *)dm->tx;
    struct pv_vfio_devinfo *d = (struct pv_vfio_devinfo *)(rep + 1);
    size_t max = (PV_PAYLOAD_MAX - sizeof(*rep)) / sizeof(*d), n = 0;

    for (struct vdev *v = dm->vdevs; v && n < max; v = v->next, n++) {
        struct vfio_device_stats st = {0};
        if (v->core) {
            vfio_device_stats(v->core, &st);
        }
        memset(&d[n], 0, sizeof(d[n]));
        snprintf(d[n].name, sizeof(d[n].name), "%s", v->name);
        snprintf(d[n].type, sizeof(d[n].type), "%s", v->type);
        d[n].group = v->group;
        /* the device's own assignment: one added to an assigned group
         * has none until the group is assigned again */
        uint32_t dd = v->core ? vfio_device_domid(v->core) : VFIO_DOMID_NONE;
        d[n].domid = dd == VFIO_DOMID_NONE ? DOMID_INVALID : dd;
        d[n].flags = v->dead ? PV_VFIO_DEV_DEAD : 0;
        d[n].pid = v->dead ? 0 : v->pid;
        d[n].vendor = v->vendor;
        d[n].device = v->device;
        d[n].opens = v->core ? vfio_device_opens(v->core) : 0;
        d[n].faults = st.faults;
    }
    rep->ret = (int64_t)n;
    conn_reply(dm, c, h, dm->tx, sizeof(*rep) + n * sizeof(*d), NULL, 0);
}

static void ctl_faults(struct daemon *dm, struct conn *c,
                       const struct pv_hdr *h)
{
    struct pv_rep *rep = (struct pv_rep *)dm->tx;
    struct pv_vfio_fault *f = (struct pv_vfio_fault *)(rep + 1);
    size_t max = (PV_PAYLOAD_MAX - sizeof(*rep)) / sizeof(*f);
    struct vfio_fault buf[256];
    size_t n;

    if (max > 256) {
        max = 256;
    }
    n = vfio_faults(dm->vfio, 0, buf, max);
    for (size_t i = 0; i < n; i++) {
        memset(&f[i], 0, sizeof(f[i]));
        f[i].time_ns = buf[i].time;
        f[i].iova = buf[i].iova;
        f[i].len = buf[i].len;
        snprintf(f[i].name, sizeof(f[i].name), "%s", buf[i].device);
        f[i].domid =
            buf[i].domid == VFIO_DOMID_NONE ? DOMID_INVALID : buf[i].domid;
        f[i].flags = buf[i].write ? 1 : 0;
        f[i].reason = buf[i].reason == IOMMU_FAULT_PERM       ? -EACCES
                      : buf[i].reason == IOMMU_FAULT_OVERFLOW ? -EOVERFLOW
                      : buf[i].reason == IOMMU_FAULT_NO_IOMMU ? -ENODEV
                                                              : -EFAULT;
    }
    rep->ret = (int64_t)n;
    conn_reply(dm, c, h, dm->tx, sizeof(*rep) + n * sizeof(*f), NULL, 0);
}

void ctl_vfio(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
              uint8_t *p, int *fds, int nfds)
{
    struct pv_vfio_ctl_req r;

    memcpy(&r, p, sizeof(r));
    if (!dm->vfio) {
        r.op = 0;
    }
    if (r.op != PV_VFIO_CTL_DEVICE_ADD || nfds != 1) {
        for (int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        if (r.op == PV_VFIO_CTL_DEVICE_ADD) {
            conn_reply_ret(dm, c, h, -EINVAL);
            return;
        }
    }
    switch (r.op) {
    case PV_VFIO_CTL_DEVICE_ADD:
        ctl_device_add(dm, c, h, &r, fds[0]);
        break;
    case PV_VFIO_CTL_DEVICE_DEL:
        ctl_device_del(dm, c, h, &r);
        break;
    case PV_VFIO_CTL_LIST:
        vctl_list(dm, c, h);
        break;
    case PV_VFIO_CTL_ASSIGN:
        if (!hv_domain_find(&dm->hv, r.domid)) {
            conn_reply_ret(dm, c, h, -ESRCH);
            break;
        }
        conn_reply_ret(dm, c, h, vfio_group_assign(dm->vfio, r.group, r.domid));
        break;
    case PV_VFIO_CTL_RELEASE:
        conn_reply_ret(dm, c, h, vfio_group_release(dm->vfio, r.group));
        break;
    case PV_VFIO_CTL_FAULTS:
        ctl_faults(dm, c, h);
        break;
    default:
        conn_reply_ret(dm, c, h, -EINVAL);
    }
}
