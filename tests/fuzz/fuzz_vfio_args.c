/* SPDX-License-Identifier: MIT */
/*
 * fuzz_vfio_args.c - libFuzzer target for the VFIO ioctl decoding
 * (src/vfio/args.c) and the object model behind it (src/vfio/vfio.c,
 * iommu.c): raw (kind, request, bytes) as the preload library forwards
 * them, interleaved with what processes, dom0 and device models do (open,
 * close, assign, a device model dying, DMA).
 *
 * A fresh model per input: domains 1 and 2; group 10 (0000:00:05.0,
 * 0000:00:05.1) and group 11 (0000:00:06.0) assigned to 1, group 12
 * (0000:00:07.0) to 2; IOMMUs with two IOVA ranges (the x86 MSI window is
 * a hole) and a limit of 64 mappings, so -ENOSPC is reachable.  The
 * "descriptors" are slots: containers 0-3, groups 4-6, device files 7-15;
 * a slot remembers its opener and domain so that closes done by
 * vfio_opener_close / vfio_domain_destroy empty it.
 *
 * Records: {u8 op, ...}.  op < 0xc0: an ioctl on slot op % 16: {u8 r; if r
 * >= 0xf0 a u32 raw request follows, else request 0x3b64 + r % 24; u16
 * len; len bytes}.  op >= 0xc0: a control operation with one argument
 * byte (see control()).
 *
 * After every record: vfio_check (links, counts, each IOMMU's tree sorted,
 * disjoint, balanced, count <= limit), avail + count == limit for every
 * IOMMU, a reply never longer than the caller's argsz nor than
 * VFIO_ARGS_OUT_MAX, capability chains that walk.  At the end both domains
 * are destroyed: every mapping made must have been reported unmapped, and
 * vfio_free must find nothing leaked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NC     4 /* container slots */
#define NG     3 /* group slots */
#define NF     9 /* device file slots */
#define LIMIT  64u
#define MAXLEN (VFIO_NAME_MAX + 64)

struct slot {
    void *p;
    uint64_t opener;
    uint32_t domid;
};

static struct state {
    struct vfio *v;
    struct slot c[NC], g[NG], f[NF];
    uint64_t mapped, unmapped;
} S;

static const char *const names[] = {"0000:00:05.0", "0000:00:05.1",
                                    "0000:00:06.0", "0000:00:07.0"};
static const uint32_t group_of[] = {10, 10, 11, 12};

static void die(const char *what)
{
    fprintf(stderr, "fuzz_vfio_args: %s\n", what);
    abort();
}

static void on_unmapped(void *opaque, struct vfio_container *c,
                        const struct iommu_mapping *m)
{
    (void)opaque;
    (void)c;
    (void)m;
    S.unmapped++;
}

static const struct vfio_ops ops = {on_unmapped};

static void make_desc(struct vfio_device_desc *d, unsigned int which)
{
    memset(d, 0, sizeof(*d));
    d->flags = which & 1 ? VFIO_DEVICE_FLAGS_RESET : 0;
    d->num_regions = VFIO_PCI_NUM_REGIONS + (which == 0);
    d->pcie = which != 2;
    d->regions[0].size = 0x10000;
    d->regions[0].flags = VFIO_REGION_INFO_FLAG_READ |
                          VFIO_REGION_INFO_FLAG_WRITE |
                          VFIO_REGION_INFO_FLAG_MMAP;
    d->regions[0].nr_sparse = 1;
    d->regions[0].sparse[0].offset = 0x1000;
    d->regions[0].sparse[0].size = 0x2000;
    d->regions[2].size = 0x4000;
    d->regions[2].flags = d->regions[0].flags;
    d->regions[2].msix_mappable = true;
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].size = 4096;
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].flags =
        VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    if (which == 0) {
        d->regions[9].size = 0x1000;
        d->regions[9].flags = VFIO_REGION_INFO_FLAG_READ;
        d->regions[9].type = 1;
        d->regions[9].subtype = 1;
    }
    d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
    d->irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 4;
    d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 64;
    d->irq_count[VFIO_PCI_ERR_IRQ_INDEX] = d->pcie;
    d->irq_count[VFIO_PCI_REQ_IRQ_INDEX] = 1;
}

static void add_device(unsigned int i)
{
    struct vfio_device_desc desc;
    struct vfio_device *d;

    make_desc(&desc, i);
    if (vfio_device_add(S.v, names[i], group_of[i], i, &desc, &d)) {
        die("vfio_device_add");
    }
}

static void reset(void)
{
    struct vfio_config cfg;

    memset(&S, 0, sizeof(S));
    vfio_config_default(&cfg);
    cfg.fault_ring = 8;
    cfg.max_device_opens = 4;
    cfg.max_containers = 3;
    cfg.iommu.dma_entry_limit = LIMIT;
    cfg.iommu.nranges = 2;
    cfg.iommu.ranges[0].end = 0xfedfffff;
    cfg.iommu.ranges[1].start = 0xfef00000;
    cfg.iommu.ranges[1].end = (1ull << 48) - 1;
    if (vfio_new(&S.v, &cfg, &ops, NULL)) {
        die("vfio_new");
    }
    for (unsigned int i = 0; i < 4; i++) {
        add_device(i);
    }
    if (vfio_group_assign(S.v, 10, 1) || vfio_group_assign(S.v, 11, 1) ||
        vfio_group_assign(S.v, 12, 2)) {
        die("assign");
    }
}

static int container_of_fd(void *opaque, int32_t fd,
                           struct vfio_container **out)
{
    (void)opaque;
    if (fd == NC) {
        *out = NULL; /* an open descriptor of another kind */
        return 0;
    }
    if (fd < 0 || fd >= NC || !S.c[fd].p) {
        return -EBADF;
    }
    *out = S.c[fd].p;
    return 0;
}

/* slots closed behind the harness's back */
static void forget(bool by_opener, uint64_t who)
{
    struct slot *all[] = {S.c, S.g, S.f};
    const size_t n[] = {NC, NG, NF};

    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < n[k]; i++) {
            struct slot *s = &all[k][i];

            if (s->p && (by_opener ? s->opener == who : s->domid == who)) {
                s->p = NULL;
            }
        }
    }
}

static struct slot *free_slot(struct slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!s[i].p) {
            return &s[i];
        }
    }
    return NULL;
}

static void check_reply(const struct vfio_reply *rep, long rc)
{
    const struct vfio_req *r = &rep->req;

    if (rep->outlen > VFIO_ARGS_OUT_MAX) {
        die("reply longer than VFIO_ARGS_OUT_MAX");
    }
    if (rc < 0 && rep->outlen) {
        die("a reply to a failed request");
    }
    if (rep->outlen && r->def && r->def->shape == VFIO_SHAPE_ARGSZ &&
        rep->outlen > r->argsz) {
        die("reply past the caller's argsz");
    }
    if (rep->outlen >= 24 && r->def &&
        (r->def->op == VFIO_OP_IOMMU_GET_INFO ||
         r->def->op == VFIO_OP_DEVICE_GET_REGION_INFO)) {
        uint32_t off, capoff,
            id_off = r->def->op == VFIO_OP_IOMMU_GET_INFO ? 16 : 12;
        int rc2;

        memcpy(&capoff, rep->out + id_off, 4);
        if (r->def->op == VFIO_OP_DEVICE_GET_REGION_INFO &&
            !(rep->out[4] & VFIO_REGION_INFO_FLAG_CAPS)) {
            return; /* cap_offset is the caller's then */
        }
        rc2 = vfio_caps_find(rep->out, rep->outlen, capoff, 0xffff, &off);
        if (rc2 != -ENOENT) {
            die("a capability chain that does not walk");
        }
    }
}

static void ioctl_record(unsigned int slot, uint32_t req, const uint8_t *in,
                         size_t len)
{
    static struct vfio_reply rep;
    struct vfio_ioctl_env env = {container_of_fd, NULL, 0, 0};
    enum vfio_kind kind;
    struct slot *s;
    long rc;

    if (slot < NC) {
        kind = VFIO_KIND_CONTAINER;
        s = &S.c[slot];
    } else if (slot < NC + NG) {
        kind = VFIO_KIND_GROUP;
        s = &S.g[slot - NC];
    } else {
        kind = VFIO_KIND_DEVICE;
        s = &S.f[slot - NC - NG];
    }
    if (!s->p) {
        return;
    }
    env.opener = s->opener;
    env.map_cookie = S.mapped;
    rc = vfio_ioctl(S.v, kind, s->p, req, in, len, &env, &rep);
#ifdef FUZZ_VFIO_TRACE
    fprintf(stderr, "slot %u req %#x len %zu -> %ld (out %zu)\n", slot, req,
            len, rc, rep.outlen);
#endif
    check_reply(&rep, rc);
    if (rc == 0 && kind == VFIO_KIND_CONTAINER && req == VFIO_IOMMU_MAP_DMA) {
        S.mapped++;
    }
    if (rep.dev) {
        struct slot *f;

        if (rc) {
            die("a device file and an error");
        }
        f = free_slot(S.f, NF);
        if (f) {
            f->p = rep.dev;
            f->opener = s->opener;
            f->domid = s->domid;
        } else {
            vfio_device_close(rep.dev);
        }
    }
}

/* one byte of argument: a for the slot or the choice, b picks the rest */
static void control(uint8_t op, uint8_t a)
{
    uint32_t domid = (a & 1) + 1;
    uint64_t opener = a & 3;
    struct vfio_container *c;
    struct vfio_group *g;
    struct slot *s;

    switch (op % 12) {
    case 0: /* open("/dev/vfio/vfio") */
        s = free_slot(S.c, NC);
        if (s && !vfio_container_open(S.v, domid, opener, &c)) {
            s->p = c;
            s->opener = opener;
            s->domid = domid;
        }
        break;
    case 1:
        s = &S.c[a % NC];
        if (s->p) {
            vfio_container_close(s->p);
            s->p = NULL;
        }
        break;
    case 2: /* open("/dev/vfio/1x") */
        s = free_slot(S.g, NG);
        if (s && !vfio_group_open(S.v, 10 + (a >> 1) % 4, domid, opener, &g)) {
            s->p = g;
            s->opener = opener;
            s->domid = domid;
        }
        break;
    case 3:
        s = &S.g[a % NG];
        if (s->p) {
            vfio_group_close(s->p);
            s->p = NULL;
        }
        break;
    case 4:
        s = &S.f[a % NF];
        if (s->p) {
            vfio_device_close(s->p);
            s->p = NULL;
        }
        break;
    case 5:
        vfio_opener_close(S.v, opener);
        forget(true, opener);
        break;
    case 6:
        vfio_domain_destroy(S.v, domid);
        forget(false, domid);
        break;
    case 7: /* dom0 */
        if (a & 0x80) {
            vfio_group_release(S.v, 10 + (a >> 1) % 4);
        } else {
            vfio_group_assign(S.v, 10 + (a >> 1) % 4, domid);
        }
        break;
    case 8: { /* a device model dies, is removed, or (re)appears */
        struct vfio_device *d = vfio_device_find(S.v, names[a % 4]);

        if (!d) {
            add_device(a % 4);
        } else if (a & 0x80) {
            vfio_device_remove(d);
        } else {
            vfio_device_set_dead(d);
        }
        break;
    }
    default: { /* a device's DMA */
        struct vfio_device *d = vfio_device_find(S.v, names[a % 4]);
        struct iommu_seg seg[8];
        uint64_t iova = (uint64_t)(a >> 2) << 12, len = 1ull << (op % 16);
        size_t n;

        if (d && !vfio_dma(S.v, d, iova, len, op & 1, 0, seg, 8, &n)) {
            uint64_t sum = 0;

            for (size_t i = 0; i < n; i++) {
                if (seg[i].iova != iova + sum) {
                    die("segments not contiguous");
                }
                sum += seg[i].len;
            }
            if (sum != len) {
                die("segments do not cover the DMA");
            }
        }
        break;
    }
    }
}

static int count_cb(void *opaque, const struct iommu_mapping *m)
{
    (void)m;
    ++*(uint64_t *)opaque;
    return 0;
}

static void invariants(void)
{
    if (vfio_check(S.v)) {
        die("vfio_check");
    }
    for (size_t i = 0; i < NC; i++) {
        struct iommu *io = S.c[i].p ? vfio_container_iommu(S.c[i].p) : NULL;
        uint64_t n = 0;

        if (!io) {
            continue;
        }
        if (iommu_avail(io) + iommu_count(io) != LIMIT ||
            iommu_count(io) > LIMIT) {
            die("avail inconsistent");
        }
        iommu_foreach(io, count_cb, &n);
        if (n != iommu_count(io)) {
            die("count inconsistent");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reset();
    while (size >= 2) {
        uint8_t op = data[0];

        if (op >= 0xc0) {
            control(op, data[1]);
            data += 2;
            size -= 2;
        } else {
            uint32_t req = 0x3b64 + data[1] % 24;
            uint16_t len;
            size_t n;

            data += 2;
            size -= 2;
            if (data[-1] >= 0xf0) {
                if (size < 4) {
                    break;
                }
                memcpy(&req, data, 4);
                data += 4;
                size -= 4;
            }
            if (size < 2) {
                break;
            }
            memcpy(&len, data, 2);
            data += 2;
            size -= 2;
            n = len < size ? len : size;
            if (n > MAXLEN) {
                n = MAXLEN;
            }
            /* the shim's copy: exactly n readable bytes */
            {
                uint8_t *buf = malloc(n ? n : 1);

                memcpy(buf, data, n);
                ioctl_record(op % 16, req, buf, n);
                free(buf);
            }
            data += n;
            size -= n;
        }
        invariants();
    }
    /* everything goes with the domains: every mapping is reported */
    vfio_domain_destroy(S.v, 1);
    vfio_domain_destroy(S.v, 2);
    forget(false, 1);
    forget(false, 2);
    invariants();
    if (S.mapped != S.unmapped) {
        die("mappings made and reported unmapped differ");
    }
    if (vfio_free(S.v)) {
        die("leak");
    }
    return 0;
}
