/* SPDX-License-Identifier: MIT */
/*
 * args.c - the VFIO ioctl tables, argument decoding and reply encoding.
 *
 * Sources of each rule (Linux, checked at 6.18):
 *   container requests      drivers/vfio/container.c vfio_fops_unl_ioctl,
 *                           drivers/vfio/vfio_iommu_type1.c
 *                           vfio_iommu_type1_{get_info,map_dma,unmap_dma},
 *                           and for what type1 has but we do not (dirty
 *                           tracking, VADDR) drivers/iommu/iommufd/
 *                           vfio_compat.c, the other type1 implementation
 *   group requests          drivers/vfio/group.c vfio_group_fops_unl_ioctl
 *   device requests         drivers/vfio/vfio_main.c
 *                           vfio_device_fops_unl_ioctl,
 *                           vfio_ioctl_device_feature,
 *                           vfio_set_irqs_validate_and_prepare;
 *                           drivers/vfio/pci/vfio_pci_core.c
 *                           vfio_pci_ioctl_*; vfio_pci_intrs.c
 *                           vfio_pci_set_irqs_ioctl
 *   capability chains       vfio_main.c vfio_info_cap_add (each capability
 *                           padded to 8 bytes), vfio_info_cap_shift
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "args.h"

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))

/* the 6.1 UAPI layouts this file reads and writes */
_Static_assert(sizeof(struct vfio_info_cap_header) == 8, "cap header");
_Static_assert(sizeof(struct vfio_group_status) == 8, "group_status");
_Static_assert(sizeof(struct vfio_device_info) == 20, "device_info (6.1)");
_Static_assert(offsetof(struct vfio_device_info, cap_offset) == 16, "dinfo");
_Static_assert(sizeof(struct vfio_region_info) == 32, "region_info");
_Static_assert(offsetof(struct vfio_region_info, index) == 8, "rinfo.index");
_Static_assert(offsetof(struct vfio_region_info, cap_offset) == 12, "rinfo");
_Static_assert(offsetof(struct vfio_region_info, size) == 16, "rinfo.size");
_Static_assert(offsetof(struct vfio_region_info, offset) == 24, "rinfo.off");
_Static_assert(sizeof(struct vfio_irq_info) == 16, "irq_info");
_Static_assert(sizeof(struct vfio_irq_set) == 20, "irq_set");
_Static_assert(offsetof(struct vfio_irq_set, data) == 20, "irq_set.data");
_Static_assert(sizeof(struct vfio_iommu_type1_info) == 24, "type1_info");
_Static_assert(offsetof(struct vfio_iommu_type1_info, cap_offset) == 16,
               "type1_info.cap_offset");
_Static_assert(sizeof(struct vfio_iommu_type1_dma_map) == 32, "dma_map");
_Static_assert(offsetof(struct vfio_iommu_type1_dma_map, vaddr) == 8, "map");
_Static_assert(offsetof(struct vfio_iommu_type1_dma_map, iova) == 16, "map");
_Static_assert(sizeof(struct vfio_iommu_type1_dma_unmap) == 24, "dma_unmap");
_Static_assert(offsetof(struct vfio_iommu_type1_dma_unmap, iova) == 8, "unm");
_Static_assert(sizeof(struct vfio_iova_range) == 16, "iova_range");
_Static_assert(sizeof(struct vfio_iommu_type1_info_cap_iova_range) == 16,
               "cap_iova_range");
_Static_assert(offsetof(struct vfio_iommu_type1_info_cap_iova_range,
                        iova_ranges) == 16,
               "cap_iova_range.iova_ranges");
_Static_assert(sizeof(struct vfio_iommu_type1_info_dma_avail) == 12,
               "dma_avail");
_Static_assert(sizeof(struct vfio_region_info_cap_sparse_mmap) == 16,
               "sparse_mmap");
_Static_assert(sizeof(struct vfio_region_sparse_mmap_area) == 16, "area");
_Static_assert(sizeof(struct vfio_region_info_cap_type) == 16, "cap_type");
_Static_assert(sizeof(struct vfio_device_feature) == 8, "device_feature");
_Static_assert(offsetofend(struct vfio_pci_hot_reset_info, count) == 12,
               "hot_reset_info");
_Static_assert(offsetofend(struct vfio_pci_hot_reset, count) == 12,
               "hot_reset");
_Static_assert(VFIO_PCI_NUM_REGIONS == 9 && VFIO_PCI_NUM_IRQS == 5,
               "vfio-pci indexes");
_Static_assert(VFIO_GET_API_VERSION == 0x3B64 &&
                   VFIO_IOMMU_GET_INFO == 0x3B70 &&
                   VFIO_DEVICE_GET_PCI_HOT_RESET_INFO == 0x3B70 &&
                   VFIO_DEVICE_FEATURE == 0x3B75 &&
                   VFIO_IOMMU_DIRTY_PAGES == 0x3B75,
               "request numbers");

#define DEF(r, o, s, m)                                                        \
    {                                                                          \
        r, o, #r, s, m                                                         \
    }

static const struct vfio_ioctl_def container_defs[] = {
    DEF(VFIO_GET_API_VERSION, VFIO_OP_GET_API_VERSION, VFIO_SHAPE_NONE, 0),
    DEF(VFIO_CHECK_EXTENSION, VFIO_OP_CHECK_EXTENSION, VFIO_SHAPE_VALUE, 0),
    DEF(VFIO_SET_IOMMU, VFIO_OP_SET_IOMMU, VFIO_SHAPE_VALUE, 0),
    DEF(VFIO_IOMMU_GET_INFO, VFIO_OP_IOMMU_GET_INFO, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_iommu_type1_info, iova_pgsizes)),
    DEF(VFIO_IOMMU_MAP_DMA, VFIO_OP_IOMMU_MAP_DMA, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_iommu_type1_dma_map, size)),
    DEF(VFIO_IOMMU_UNMAP_DMA, VFIO_OP_IOMMU_UNMAP_DMA, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_iommu_type1_dma_unmap, size)),
    /* answered -ENOTTY without reading it, as iommufd's type1 does */
    DEF(VFIO_IOMMU_DIRTY_PAGES, VFIO_OP_IOMMU_DIRTY_PAGES, VFIO_SHAPE_NONE, 0),
};

static const struct vfio_ioctl_def group_defs[] = {
    DEF(VFIO_GROUP_GET_STATUS, VFIO_OP_GROUP_GET_STATUS, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_group_status, flags)),
    DEF(VFIO_GROUP_SET_CONTAINER, VFIO_OP_GROUP_SET_CONTAINER, VFIO_SHAPE_INT,
        0),
    DEF(VFIO_GROUP_UNSET_CONTAINER, VFIO_OP_GROUP_UNSET_CONTAINER,
        VFIO_SHAPE_NONE, 0),
    DEF(VFIO_GROUP_GET_DEVICE_FD, VFIO_OP_GROUP_GET_DEVICE_FD,
        VFIO_SHAPE_STRING, 0),
};

static const struct vfio_ioctl_def device_defs[] = {
    DEF(VFIO_DEVICE_GET_INFO, VFIO_OP_DEVICE_GET_INFO, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_device_info, num_irqs)),
    DEF(VFIO_DEVICE_GET_REGION_INFO, VFIO_OP_DEVICE_GET_REGION_INFO,
        VFIO_SHAPE_ARGSZ, offsetofend(struct vfio_region_info, offset)),
    DEF(VFIO_DEVICE_GET_IRQ_INFO, VFIO_OP_DEVICE_GET_IRQ_INFO, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_irq_info, count)),
    DEF(VFIO_DEVICE_SET_IRQS, VFIO_OP_DEVICE_SET_IRQS, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_irq_set, count)),
    DEF(VFIO_DEVICE_RESET, VFIO_OP_DEVICE_RESET, VFIO_SHAPE_NONE, 0),
    DEF(VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
        VFIO_OP_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_pci_hot_reset_info, count)),
    DEF(VFIO_DEVICE_PCI_HOT_RESET, VFIO_OP_DEVICE_PCI_HOT_RESET,
        VFIO_SHAPE_ARGSZ, offsetofend(struct vfio_pci_hot_reset, count)),
    /* answered -ENOTTY without reading it, as by a vfio driver without
     * ioeventfds (the mdev samples, vfio-platform) */
    DEF(VFIO_DEVICE_IOEVENTFD, VFIO_OP_DEVICE_IOEVENTFD, VFIO_SHAPE_NONE, 0),
    DEF(VFIO_DEVICE_FEATURE, VFIO_OP_DEVICE_FEATURE, VFIO_SHAPE_ARGSZ,
        offsetofend(struct vfio_device_feature, flags)),
};

#undef DEF

const struct vfio_ioctl_def *vfio_args_table(enum vfio_kind kind, size_t *n)
{
    switch (kind) {
    case VFIO_KIND_CONTAINER:
        *n = sizeof(container_defs) / sizeof(container_defs[0]);
        return container_defs;
    case VFIO_KIND_GROUP:
        *n = sizeof(group_defs) / sizeof(group_defs[0]);
        return group_defs;
    case VFIO_KIND_DEVICE:
        *n = sizeof(device_defs) / sizeof(device_defs[0]);
        return device_defs;
    }
    *n = 0;
    return NULL;
}

const struct vfio_ioctl_def *vfio_args_def(enum vfio_kind kind, uint32_t req)
{
    size_t n;
    const struct vfio_ioctl_def *t = vfio_args_table(kind, &n);

    for (size_t i = 0; i < n; i++) {
        if (t[i].req == req) {
            return &t[i];
        }
    }
    return NULL;
}

/* ---- byte access ---- */

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void wr64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static bool one_bit(uint32_t v)
{
    return v && !(v & (v - 1));
}

/* ---- device descriptions ---- */

static int region_check(const struct vfio_device_desc *d, uint32_t i)
{
    const struct vfio_region_desc *r = &d->regions[i];
    const uint32_t rw =
        VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    uint64_t end = 0;

    if (r->flags & ~(rw | VFIO_REGION_INFO_FLAG_MMAP)) {
        return -EINVAL;
    }
    if (!r->size && (r->flags || r->nr_sparse || r->msix_mappable)) {
        return -EINVAL;
    }
    if (r->nr_sparse > VFIO_DEV_MAX_SPARSE ||
        (r->nr_sparse && !(r->flags & VFIO_REGION_INFO_FLAG_MMAP))) {
        return -EINVAL;
    }
    for (uint32_t k = 0; k < r->nr_sparse; k++) {
        const struct vfio_region_sparse_mmap_area *a = &r->sparse[k];

        if (!a->size || ((a->offset | a->size) & 4095) || a->offset < end ||
            a->size > r->size || a->offset > r->size - a->size) {
            return -EINVAL;
        }
        end = a->offset + a->size;
    }
    if (r->msix_mappable && (i > VFIO_PCI_BAR5_REGION_INDEX ||
                             !(r->flags & VFIO_REGION_INFO_FLAG_MMAP))) {
        return -EINVAL;
    }
    if (i < VFIO_PCI_NUM_REGIONS && (r->type || r->subtype)) {
        return -EINVAL;
    }
    switch (i) {
    case VFIO_PCI_CONFIG_REGION_INDEX:
        /* cfg_size: conventional or extended config space, never mmap */
        return (r->size == 256 || r->size == 4096) && r->flags == rw ? 0
                                                                     : -EINVAL;
    case VFIO_PCI_ROM_REGION_INDEX:
        return r->flags & ~(uint32_t)VFIO_REGION_INFO_FLAG_READ ? -EINVAL : 0;
    case VFIO_PCI_VGA_REGION_INDEX:
        if (d->has_vga) {
            return r->size == 0xc0000 && r->flags == rw ? 0 : -EINVAL;
        }
        return r->size ? -EINVAL : 0;
    default:
        /* device-specific regions always carry their TYPE */
        if (i >= VFIO_PCI_NUM_REGIONS && !r->type) {
            return -EINVAL;
        }
        return 0;
    }
}

int vfio_device_desc_check(const struct vfio_device_desc *d)
{
    uint32_t msi = d->irq_count[VFIO_PCI_MSI_IRQ_INDEX];

    if (d->flags & ~(uint32_t)VFIO_DEVICE_FLAGS_RESET) {
        return -EINVAL;
    }
    if (d->num_regions < VFIO_PCI_NUM_REGIONS ||
        d->num_regions > VFIO_DEV_MAX_REGIONS) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < d->num_regions; i++) {
        if (region_check(d, i)) {
            return -EINVAL;
        }
    }
    if (d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] > 1 ||
        (msi && (msi > VFIO_PCI_MSI_MAX || !one_bit(msi))) ||
        d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] > VFIO_PCI_MSIX_MAX ||
        d->irq_count[VFIO_PCI_ERR_IRQ_INDEX] != (d->pcie ? 1u : 0u) ||
        d->irq_count[VFIO_PCI_REQ_IRQ_INDEX] != 1) {
        return -EINVAL;
    }
    return 0;
}

/* ---- SET_IRQS ---- */

int32_t vfio_irqs_fd(const struct vfio_irqs_req *r, uint32_t i)
{
    int32_t fd;

    if (r->data != VFIO_IRQ_SET_DATA_EVENTFD || i >= r->count) {
        return -1;
    }
    memcpy(&fd, r->payload + 4 * (size_t)i, 4);
    return fd;
}

bool vfio_irqs_bool(const struct vfio_irqs_req *r, uint32_t i)
{
    if (r->data == VFIO_IRQ_SET_DATA_NONE) {
        return true;
    }
    if (r->data != VFIO_IRQ_SET_DATA_BOOL || i >= r->count) {
        return false;
    }
    return r->payload[i] != 0;
}

size_t vfio_irqs_fds(const struct vfio_irqs_req *r, int32_t *fds,
                     uint32_t *entry, size_t max)
{
    size_t n = 0;

    if (r->data != VFIO_IRQ_SET_DATA_EVENTFD) {
        return 0;
    }
    for (uint32_t i = 0; i < r->count; i++) {
        int32_t fd = vfio_irqs_fd(r, i);

        if (fd < 0) {
            continue;
        }
        if (n < max) {
            fds[n] = fd;
            entry[n] = i;
        }
        n++;
    }
    return n;
}

static size_t irqs_data_size(uint32_t flags)
{
    switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
    case VFIO_IRQ_SET_DATA_BOOL:
        return 1;
    case VFIO_IRQ_SET_DATA_EVENTFD:
        return 4;
    default:
        return 0;
    }
}

/* vfio-pci's vfio_pci_set_irqs_ioctl: is there a handler? */
static bool irqs_handler(const struct vfio_device_desc *d, uint32_t index,
                         uint32_t action)
{
    switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        return action == VFIO_IRQ_SET_ACTION_MASK ||
               action == VFIO_IRQ_SET_ACTION_UNMASK ||
               action == VFIO_IRQ_SET_ACTION_TRIGGER;
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_MSIX_IRQ_INDEX:
        /* "XXX Need masking support exported" */
        return action == VFIO_IRQ_SET_ACTION_TRIGGER;
    case VFIO_PCI_ERR_IRQ_INDEX:
        return action == VFIO_IRQ_SET_ACTION_TRIGGER && d->pcie;
    case VFIO_PCI_REQ_IRQ_INDEX:
        return action == VFIO_IRQ_SET_ACTION_TRIGGER;
    default:
        return false;
    }
}

static int decode_set_irqs(const uint8_t *in, size_t inlen,
                           const struct vfio_device_desc *d,
                           struct vfio_req *out)
{
    const uint32_t minsz = offsetofend(struct vfio_irq_set, count);
    struct vfio_irqs_req *r = &out->u.irqs;
    uint32_t max;
    size_t size;

    r->index = rd32(in + 8);
    r->start = rd32(in + 12);
    r->count = rd32(in + 16);
    /* vfio_set_irqs_validate_and_prepare */
    if (out->argsz < minsz || r->index >= VFIO_PCI_NUM_IRQS ||
        r->count >= UINT32_MAX - r->start ||
        (out->flags & ~(uint32_t)(VFIO_IRQ_SET_DATA_TYPE_MASK |
                                  VFIO_IRQ_SET_ACTION_TYPE_MASK))) {
        return -EINVAL;
    }
    max = d->irq_count[r->index];
    if (r->start >= max || r->start + r->count > max) {
        return -EINVAL;
    }
    r->data = out->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    if (!one_bit(r->data)) {
        return -EINVAL;
    }
    size = irqs_data_size(out->flags);
    if (size && out->argsz - minsz < (uint64_t)r->count * size) {
        return -EINVAL;
    }
    /* memdup_user of the data */
    if (inlen - minsz < (uint64_t)r->count * size) {
        return -EFAULT;
    }
    r->payload_off = minsz;
    r->payload = in + minsz;
    /* vfio_pci_set_irqs_ioctl: a handler for exactly one action */
    r->action = out->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    if (!irqs_handler(d, r->index, r->action)) {
        return -ENOTTY;
    }
    return 0;
}

/* ---- decoding ---- */

size_t vfio_args_in_len(const struct vfio_ioctl_def *def, const void *head,
                        size_t head_len)
{
    const uint8_t *p = head;
    uint64_t len = def->minsz;

    if (def->shape != VFIO_SHAPE_ARGSZ) {
        return 0;
    }
    if (def->op == VFIO_OP_DEVICE_SET_IRQS && head_len >= def->minsz) {
        uint32_t argsz = rd32(p), flags = rd32(p + 4), count = rd32(p + 16);
        uint64_t need = (uint64_t)count * irqs_data_size(flags);

        if (one_bit(flags & VFIO_IRQ_SET_DATA_TYPE_MASK) &&
            argsz >= def->minsz && argsz - def->minsz >= need) {
            len += need;
        }
    }
    return len > VFIO_ARGS_MAX ? VFIO_ARGS_MAX : (size_t)len;
}

static int decode_argsz(const struct vfio_ioctl_def *def, const uint8_t *in,
                        size_t inlen, const struct vfio_device_desc *d,
                        struct vfio_req *out)
{
    const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

    /* copy_from_user(minsz) comes before every check */
    if (inlen < def->minsz) {
        return -EFAULT;
    }
    out->argsz = rd32(in);
    out->flags = rd32(in + 4);
    if (def->op == VFIO_OP_DEVICE_SET_IRQS) {
        return decode_set_irqs(in, inlen, d, out);
    }
    if (out->argsz < def->minsz) {
        return -EINVAL;
    }
    switch (def->op) {
    case VFIO_OP_IOMMU_MAP_DMA:
        /* VADDR (UPDATE_VADDR) is not offered: iommufd's mask */
        if (out->flags & ~rw) {
            return -EINVAL;
        }
        out->u.map.vaddr = rd64(in + 8);
        out->u.map.iova = rd64(in + 16);
        out->u.map.size = rd64(in + 24);
        out->u.map.prot = out->flags & rw;
        return 0;
    case VFIO_OP_IOMMU_UNMAP_DMA:
        /* no GET_DIRTY_BITMAP, no VADDR: iommufd's mask */
        if (out->flags & ~(uint32_t)VFIO_DMA_UNMAP_FLAG_ALL) {
            return -EINVAL;
        }
        out->u.unmap.iova = rd64(in + 8);
        out->u.unmap.size = rd64(in + 16);
        return 0;
    case VFIO_OP_DEVICE_GET_REGION_INFO:
        out->u.info.index = rd32(in + 8);
        out->u.info.cap_offset = rd32(in + 12);
        if (out->u.info.index >= d->num_regions ||
            (out->u.info.index == VFIO_PCI_VGA_REGION_INDEX && !d->has_vga)) {
            return -EINVAL;
        }
        return 0;
    case VFIO_OP_DEVICE_GET_IRQ_INFO:
        out->u.info.index = rd32(in + 8);
        if (out->u.info.index >= VFIO_PCI_NUM_IRQS ||
            (out->u.info.index == VFIO_PCI_ERR_IRQ_INDEX && !d->pcie)) {
            return -EINVAL;
        }
        return 0;
    case VFIO_OP_DEVICE_PCI_HOT_RESET:
        return out->flags ? -EINVAL : 0;
    case VFIO_OP_DEVICE_FEATURE:
        if (out->flags &
            ~(uint32_t)(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
                        VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE)) {
            return -EINVAL;
        }
        /* GET and SET are mutually exclusive except with PROBE */
        if (!(out->flags & VFIO_DEVICE_FEATURE_PROBE) &&
            (out->flags & VFIO_DEVICE_FEATURE_SET) &&
            (out->flags & VFIO_DEVICE_FEATURE_GET)) {
            return -EINVAL;
        }
        return 0;
    default:
        /* IOMMU_GET_INFO, GROUP_GET_STATUS, DEVICE_GET_INFO,
         * GET_PCI_HOT_RESET_INFO: input flags are ignored */
        return 0;
    }
}

int vfio_args_decode(const struct vfio_ioctl_def *def, const void *in,
                     size_t inlen, const struct vfio_device_desc *desc,
                     struct vfio_req *out)
{
    const uint8_t *p = in;

    memset(out, 0, sizeof(*out));
    out->def = def;
    switch (def->shape) {
    case VFIO_SHAPE_NONE:
        if (def->op == VFIO_OP_DEVICE_RESET &&
            !(desc->flags & VFIO_DEVICE_FLAGS_RESET)) {
            return -EINVAL; /* vfio_pci_ioctl_reset: !reset_works */
        }
        return 0;
    case VFIO_SHAPE_VALUE:
        if (inlen < 8) {
            return -EFAULT;
        }
        out->u.value = rd64(p);
        return 0;
    case VFIO_SHAPE_INT:
        if (inlen < 4) {
            return -EFAULT;
        }
        out->u.fd = (int32_t)rd32(p);
        return 0;
    case VFIO_SHAPE_STRING: {
        size_t n = inlen < VFIO_NAME_MAX ? inlen : VFIO_NAME_MAX;

        /* strndup_user: longer than PAGE_SIZE -EINVAL, unreadable -EFAULT */
        if (!memchr(p, 0, n)) {
            return inlen >= VFIO_NAME_MAX ? -EINVAL : -EFAULT;
        }
        out->u.name = (const char *)p;
        return 0;
    }
    case VFIO_SHAPE_ARGSZ:
        return decode_argsz(def, p, inlen, desc, out);
    }
    return -EINVAL;
}

/* ---- capability chains ---- */

struct caps {
    uint8_t b[VFIO_ARGS_OUT_MAX];
    size_t len;
    size_t hdr[16]; /* offsets of the headers, in chain order */
    size_t n;
};

/* vfio_info_cap_add: appended, padded to 8 bytes, linked from the last */
static uint8_t *cap_add(struct caps *c, uint16_t id, uint16_t version,
                        size_t size)
{
    size_t padded = (size + 7) & ~(size_t)7;
    uint8_t *h = c->b + c->len;

    memset(h, 0, padded);
    memcpy(h, &id, 2);
    memcpy(h + 2, &version, 2);
    if (c->n) {
        wr32(c->b + c->hdr[c->n - 1] + 4, (uint32_t)c->len);
    }
    c->hdr[c->n++] = c->len;
    c->len += padded;
    return h;
}

/*
 * Puts the struct (hdrsz bytes, of which the kernel copies back copysz)
 * and the chain into out.  Room for both: vfio_info_cap_shift to base =
 * hdrsz, caps written there, *cap_offset = hdrsz.  Otherwise argsz grows to
 * what is needed and cap_offset is 0.  Returns the bytes to copy back.
 */
static size_t put_caps(uint8_t *out, size_t hdrsz, size_t copysz,
                       struct caps *c, size_t argsz_off, size_t capoff_off)
{
    uint32_t argsz = rd32(out + argsz_off);

    if (argsz < hdrsz + c->len) {
        wr32(out + argsz_off, (uint32_t)(hdrsz + c->len));
        wr32(out + capoff_off, 0);
        return copysz;
    }
    for (size_t i = 0; i + 1 < c->n; i++) {
        uint8_t *h = c->b + c->hdr[i];

        wr32(h + 4, rd32(h + 4) + (uint32_t)hdrsz);
    }
    memcpy(out + hdrsz, c->b, c->len);
    wr32(out + capoff_off, (uint32_t)hdrsz);
    return hdrsz + c->len;
}

int vfio_caps_find(const void *buf, size_t len, uint32_t cap_offset,
                   uint16_t id, uint32_t *off)
{
    const uint8_t *b = buf;
    uint64_t cur = cap_offset;

    for (int i = 0; cur && i < 64; i++) {
        uint16_t hid;
        uint32_t next;

        if (cur > len || len - cur < sizeof(struct vfio_info_cap_header)) {
            return -EINVAL;
        }
        memcpy(&hid, b + cur, 2);
        next = rd32(b + cur + 4);
        if (hid == id) {
            *off = (uint32_t)cur;
            return 0;
        }
        if (next && next < cur + sizeof(struct vfio_info_cap_header)) {
            return -EINVAL; /* backwards or overlapping: could loop */
        }
        cur = next;
    }
    return cur ? -EINVAL : -ENOENT;
}

/* ---- replies ---- */

void vfio_args_reply_iommu_info(const struct vfio_req *r,
                                const struct vfio_iommu_info_in *in, void *outp,
                                size_t *outlen)
{
    const size_t hdrsz = sizeof(struct vfio_iommu_type1_info);
    uint8_t *out = outp;
    struct caps c = {.len = 0, .n = 0};
    uint8_t *h;
    size_t copysz = r->argsz < hdrsz ? r->argsz : hdrsz;

    /* vfio_iommu_type1_get_info: info = {}, minsz in, then filled in */
    memset(out, 0, hdrsz);
    wr32(out, r->argsz);
    wr32(out + 4, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
    wr64(out + 8, in->pgsizes);
    /* type1's order: MIGRATION (no dirty tracking here: absent),
     * DMA_AVAIL, IOVA_RANGE */
    h = cap_add(&c, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1,
                sizeof(struct vfio_iommu_type1_info_dma_avail));
    wr32(h + 8, in->avail);
    h = cap_add(&c, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1,
                sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
                    in->nranges * sizeof(struct vfio_iova_range));
    wr32(h + 8, in->nranges);
    for (uint32_t i = 0; i < in->nranges; i++) {
        wr64(h + 16 + 16 * i, in->ranges[i].start);
        wr64(h + 24 + 16 * i, in->ranges[i].end);
    }
    *outlen = put_caps(out, hdrsz, copysz, &c, 0, 16);
}

void vfio_args_reply_unmap(const struct vfio_req *r, uint64_t unmapped,
                           void *outp, size_t *outlen)
{
    uint8_t *out = outp;

    wr32(out, r->argsz);
    wr32(out + 4, r->flags);
    wr64(out + 8, r->u.unmap.iova);
    wr64(out + 16, unmapped);
    *outlen = sizeof(struct vfio_iommu_type1_dma_unmap);
}

void vfio_args_reply_group_status(const struct vfio_req *r, uint32_t flags,
                                  void *outp, size_t *outlen)
{
    uint8_t *out = outp;

    wr32(out, r->argsz);
    wr32(out + 4, flags);
    *outlen = sizeof(struct vfio_group_status);
}

void vfio_args_reply_device_info(const struct vfio_req *r,
                                 const struct vfio_device_desc *d, void *outp,
                                 size_t *outlen)
{
    /* "For backward compatibility, cannot require this": cap_offset is
     * written only when argsz covers it (capsz = 20); no capabilities (zPCI
     * ones are s390's) */
    const size_t capsz = offsetofend(struct vfio_device_info, cap_offset);
    uint8_t *out = outp;

    wr32(out, r->argsz);
    wr32(out + 4, VFIO_DEVICE_FLAGS_PCI | (d->flags & VFIO_DEVICE_FLAGS_RESET));
    wr32(out + 8, d->num_regions);
    wr32(out + 12, VFIO_PCI_NUM_IRQS);
    wr32(out + 16, 0);
    *outlen = r->argsz >= capsz ? capsz : r->def->minsz;
}

void vfio_args_reply_region_info(const struct vfio_req *r,
                                 const struct vfio_device_desc *d, void *outp,
                                 size_t *outlen)
{
    const size_t hdrsz = sizeof(struct vfio_region_info);
    uint32_t index = r->u.info.index;
    const struct vfio_region_desc *reg = &d->regions[index];
    uint8_t *out = outp;
    struct caps c = {.len = 0, .n = 0};
    uint32_t flags = reg->size ? reg->flags : 0;

    wr32(out, r->argsz);
    wr32(out + 8, index);
    wr32(out + 12, r->u.info.cap_offset); /* as given unless caps follow */
    wr64(out + 16, reg->size);
    wr64(out + 24, VFIO_PCI_INDEX_TO_OFFSET(index));
    if (index >= VFIO_PCI_NUM_REGIONS) {
        uint8_t *h = cap_add(&c, VFIO_REGION_INFO_CAP_TYPE, 1,
                             sizeof(struct vfio_region_info_cap_type));

        wr32(h + 8, reg->type);
        wr32(h + 12, reg->subtype);
    }
    if (reg->size && reg->nr_sparse) {
        uint8_t *h = cap_add(
            &c, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1,
            sizeof(struct vfio_region_info_cap_sparse_mmap) +
                reg->nr_sparse * sizeof(struct vfio_region_sparse_mmap_area));

        wr32(h + 8, reg->nr_sparse);
        for (uint32_t i = 0; i < reg->nr_sparse; i++) {
            wr64(h + 16 + 16 * i, reg->sparse[i].offset);
            wr64(h + 24 + 16 * i, reg->sparse[i].size);
        }
    }
    if (reg->size && reg->msix_mappable) {
        cap_add(&c, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1,
                sizeof(struct vfio_info_cap_header));
    }
    if (c.n) {
        flags |= VFIO_REGION_INFO_FLAG_CAPS;
    }
    wr32(out + 4, flags);
    *outlen = c.n ? put_caps(out, hdrsz, hdrsz, &c, 0, 12) : hdrsz;
}

void vfio_args_reply_irq_info(const struct vfio_req *r,
                              const struct vfio_device_desc *d, void *outp,
                              size_t *outlen)
{
    uint32_t index = r->u.info.index;
    uint8_t *out = outp;
    uint32_t flags = VFIO_IRQ_INFO_EVENTFD;

    /* vfio_pci_ioctl_get_irq_info: INTx is level (automasked), the rest
     * are enabled as a set */
    if (index == VFIO_PCI_INTX_IRQ_INDEX) {
        flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    } else {
        flags |= VFIO_IRQ_INFO_NORESIZE;
    }
    wr32(out, r->argsz);
    wr32(out + 4, flags);
    wr32(out + 8, index);
    wr32(out + 12, d->irq_count[index]);
    *outlen = sizeof(struct vfio_irq_info);
}
