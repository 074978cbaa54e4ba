/* SPDX-License-Identifier: MIT */
/*
 * test_vfio_args.c - unit tests for the VFIO ioctl tables, argument
 * decoding and reply encoding (src/vfio/args.c): one table per descriptor
 * kind (the numbers collide), argsz < minsz and unknown flags on every
 * struct request, -EFAULT where the kernel's copy_from_user would fail,
 * grow-and-retry for every reply with a capability chain, chain walks that
 * cannot loop, every SET_IRQS DATA x ACTION combination against vfio-pci's
 * table, and what a device model may describe.
 *
 * Decoding allocates nothing; the leak check here is the sanitizer's (the
 * fixture only builds a device description).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

#define RW (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)

static struct vfio_device_desc D;
static uint8_t OUT[VFIO_ARGS_OUT_MAX];
static size_t OUTLEN;

/* a PCIe function: BAR0 with two mmap-able pages, BAR2 holding the MSI-X
 * table, 4 KiB config space, no ROM, an EDID region (9) */
static void make_desc(struct vfio_device_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->flags = VFIO_DEVICE_FLAGS_RESET;
    d->num_regions = VFIO_PCI_NUM_REGIONS + 1;
    d->pcie = true;
    d->regions[0].size = 0x10000;
    d->regions[0].flags = RW | VFIO_REGION_INFO_FLAG_MMAP;
    d->regions[0].nr_sparse = 2;
    d->regions[0].sparse[0].offset = 0;
    d->regions[0].sparse[0].size = 0x1000;
    d->regions[0].sparse[1].offset = 0x2000;
    d->regions[0].sparse[1].size = 0x1000;
    d->regions[2].size = 0x4000;
    d->regions[2].flags = RW | VFIO_REGION_INFO_FLAG_MMAP;
    d->regions[2].msix_mappable = true;
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].size = 4096;
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].flags = RW;
    d->regions[9].size = 0x1000;
    d->regions[9].flags = VFIO_REGION_INFO_FLAG_READ;
    d->regions[9].type = VFIO_REGION_TYPE_GFX;
    d->regions[9].subtype = VFIO_REGION_SUBTYPE_GFX_EDID;
    d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 1;
    d->irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 4;
    d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 16;
    d->irq_count[VFIO_PCI_ERR_IRQ_INDEX] = 1;
    d->irq_count[VFIO_PCI_REQ_IRQ_INDEX] = 1;
}

static int setup(void **state)
{
    (void)state;
    make_desc(&D);
    assert_int_equal(vfio_device_desc_check(&D), 0);
    memset(OUT, 0xee, sizeof(OUT));
    OUTLEN = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return 0;
}

static uint32_t rd32(const void *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static uint64_t rd64(const void *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static void wr32(void *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void wr64(void *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static const struct vfio_ioctl_def *def(enum vfio_kind k, uint32_t req)
{
    const struct vfio_ioctl_def *d = vfio_args_def(k, req);

    assert_non_null(d);
    return d;
}

static int decode(enum vfio_kind k, uint32_t req, const void *in, size_t len,
                  struct vfio_req *r)
{
    return vfio_args_decode(def(k, req), in, len, &D, r);
}

/* ---- tables ---- */

static void test_tables_by_kind(void **state)
{
    (void)state;
    /* the collisions: one number, two meanings */
    assert_int_equal(def(VFIO_KIND_CONTAINER, 0x3B70)->op,
                     VFIO_OP_IOMMU_GET_INFO);
    assert_int_equal(def(VFIO_KIND_DEVICE, 0x3B70)->op,
                     VFIO_OP_DEVICE_GET_PCI_HOT_RESET_INFO);
    assert_null(vfio_args_def(VFIO_KIND_GROUP, 0x3B70));
    assert_int_equal(def(VFIO_KIND_CONTAINER, 0x3B71)->op,
                     VFIO_OP_IOMMU_MAP_DMA);
    assert_int_equal(def(VFIO_KIND_DEVICE, 0x3B71)->op,
                     VFIO_OP_DEVICE_PCI_HOT_RESET);
    assert_int_equal(def(VFIO_KIND_CONTAINER, 0x3B72)->op,
                     VFIO_OP_IOMMU_UNMAP_DMA);
    assert_null(vfio_args_def(VFIO_KIND_DEVICE, 0x3B72)); /* GFX_PLANE */
    assert_int_equal(def(VFIO_KIND_CONTAINER, 0x3B75)->op,
                     VFIO_OP_IOMMU_DIRTY_PAGES);
    assert_int_equal(def(VFIO_KIND_DEVICE, 0x3B75)->op, VFIO_OP_DEVICE_FEATURE);
    /* each kind knows only its own */
    assert_null(vfio_args_def(VFIO_KIND_DEVICE, VFIO_GET_API_VERSION));
    assert_null(vfio_args_def(VFIO_KIND_GROUP, VFIO_GET_API_VERSION));
    assert_null(vfio_args_def(VFIO_KIND_CONTAINER, VFIO_GROUP_GET_STATUS));
    assert_null(vfio_args_def(VFIO_KIND_DEVICE, VFIO_GROUP_GET_STATUS));
    assert_null(vfio_args_def(VFIO_KIND_GROUP, VFIO_DEVICE_GET_INFO));
    assert_null(vfio_args_def(VFIO_KIND_CONTAINER, VFIO_DEVICE_GET_INFO));
    /* sPAPR, gfx, post-6.1 cdev requests, other types: unknown */
    assert_null(vfio_args_def(VFIO_KIND_CONTAINER, VFIO_IOMMU_ENABLE));
    assert_null(vfio_args_def(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_GFX_DMABUF));
    assert_null(vfio_args_def(VFIO_KIND_DEVICE, 0x3B76)); /* BIND_IOMMUFD */
    assert_null(vfio_args_def(VFIO_KIND_DEVICE, 0x3B64 | 0x40000000));
    assert_null(vfio_args_def(VFIO_KIND_CONTAINER, 0));
    assert_null(vfio_args_def((enum vfio_kind)0, VFIO_GET_API_VERSION));
}

static void test_tables_shapes(void **state)
{
    static const enum vfio_kind kinds[] = {VFIO_KIND_CONTAINER, VFIO_KIND_GROUP,
                                           VFIO_KIND_DEVICE};
    size_t total = 0;

    (void)state;
    for (size_t k = 0; k < 3; k++) {
        size_t n;
        const struct vfio_ioctl_def *t = vfio_args_table(kinds[k], &n);

        total += n;
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(strncmp(t[i].name, "VFIO_", 5), 0);
            assert_true((t[i].req & 0xff00) == (VFIO_TYPE << 8));
            assert_true(t[i].op != VFIO_OP_NONE);
            assert_ptr_equal(vfio_args_def(kinds[k], t[i].req), &t[i]);
            /* only argsz structs have a minimum size, and it covers
             * argsz and flags */
            if (t[i].shape == VFIO_SHAPE_ARGSZ) {
                assert_true(t[i].minsz >= 8);
            } else {
                assert_int_equal(t[i].minsz, 0);
            }
        }
    }
    assert_int_equal(total, 7 + 4 + 9);
    assert_int_equal(def(VFIO_KIND_CONTAINER, VFIO_IOMMU_MAP_DMA)->minsz, 32);
    assert_int_equal(def(VFIO_KIND_CONTAINER, VFIO_IOMMU_UNMAP_DMA)->minsz, 24);
    assert_int_equal(def(VFIO_KIND_CONTAINER, VFIO_IOMMU_GET_INFO)->minsz, 16);
    assert_int_equal(def(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_INFO)->minsz, 16);
    assert_int_equal(def(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_REGION_INFO)->minsz,
                     32);
    assert_int_equal(def(VFIO_KIND_DEVICE, VFIO_DEVICE_SET_IRQS)->minsz, 20);
    assert_int_equal(def(VFIO_KIND_CONTAINER, VFIO_CHECK_EXTENSION)->shape,
                     VFIO_SHAPE_VALUE);
    assert_int_equal(def(VFIO_KIND_GROUP, VFIO_GROUP_SET_CONTAINER)->shape,
                     VFIO_SHAPE_INT);
    assert_int_equal(def(VFIO_KIND_GROUP, VFIO_GROUP_GET_DEVICE_FD)->shape,
                     VFIO_SHAPE_STRING);
}

/* ---- argsz and flags on every struct request ---- */

static void test_argsz_below_minsz(void **state)
{
    static const enum vfio_kind kinds[] = {VFIO_KIND_CONTAINER, VFIO_KIND_GROUP,
                                           VFIO_KIND_DEVICE};

    (void)state;
    for (size_t k = 0; k < 3; k++) {
        size_t n;
        const struct vfio_ioctl_def *t = vfio_args_table(kinds[k], &n);

        for (size_t i = 0; i < n; i++) {
            uint8_t buf[64] = {0};
            struct vfio_req r;

            if (t[i].shape != VFIO_SHAPE_ARGSZ) {
                continue;
            }
            /* shorter input than minsz: the kernel's copy faults first */
            wr32(buf, 0);
            assert_int_equal(
                vfio_args_decode(&t[i], buf, t[i].minsz - 1, &D, &r), -EFAULT);
            assert_int_equal(vfio_args_decode(&t[i], buf, 0, &D, &r), -EFAULT);
            /* argsz 0 and minsz - 1 */
            assert_int_equal(vfio_args_decode(&t[i], buf, t[i].minsz, &D, &r),
                             -EINVAL);
            wr32(buf, t[i].minsz - 1);
            assert_int_equal(vfio_args_decode(&t[i], buf, t[i].minsz, &D, &r),
                             -EINVAL);
        }
    }
}

static void test_argsz_larger_accepted(void **state)
{
    uint8_t buf[64] = {0};
    struct vfio_req r;

    (void)state;
    /* newer headers grow structs: any argsz >= minsz is fine */
    wr32(buf, 24); /* 6.6's vfio_device_info with pad */
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_INFO, buf, 16, &r), 0);
    wr32(buf, 0xffffffff);
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_INFO, buf, 16, &r), 0);
    assert_int_equal(r.argsz, 0xffffffff);
    /* input flags of output structs are ignored */
    wr32(buf, 16);
    wr32(buf + 4, 0xffffffff);
    assert_int_equal(
        decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_GET_INFO, buf, 16, &r), 0);
    wr32(buf, 8);
    assert_int_equal(decode(VFIO_KIND_GROUP, VFIO_GROUP_GET_STATUS, buf, 8, &r),
                     0);
}

static void test_unknown_flags(void **state)
{
    uint8_t b[64] = {0};
    struct vfio_req r;

    (void)state;
    /* MAP_DMA: READ|WRITE only (VADDR needs UPDATE_VADDR: not offered) */
    wr32(b, 32);
    wr32(b + 4, VFIO_DMA_MAP_FLAG_READ);
    assert_int_equal(decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_MAP_DMA, b, 32, &r),
                     0);
    assert_int_equal(r.u.map.prot, VFIO_DMA_MAP_FLAG_READ);
    wr32(b + 4, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_VADDR);
    assert_int_equal(decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_MAP_DMA, b, 32, &r),
                     -EINVAL);
    wr32(b + 4, VFIO_DMA_MAP_FLAG_WRITE | 0x80000000);
    assert_int_equal(decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_MAP_DMA, b, 32, &r),
                     -EINVAL);
    /* no READ/WRITE is the IOMMU's -EINVAL, not the decoder's */
    wr32(b + 4, 0);
    assert_int_equal(decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_MAP_DMA, b, 32, &r),
                     0);
    /* UNMAP_DMA: ALL only */
    wr32(b, 24);
    for (uint32_t bit = 0; bit < 32; bit++) {
        wr32(b + 4, 1u << bit);
        assert_int_equal(
            decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_UNMAP_DMA, b, 24, &r),
            (1u << bit) == VFIO_DMA_UNMAP_FLAG_ALL ? 0 : -EINVAL);
    }
    /* PCI_HOT_RESET: no flags at all */
    wr32(b, 12);
    wr32(b + 4, 1);
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_PCI_HOT_RESET, b, 12, &r),
        -EINVAL);
    /* DEVICE_FEATURE: id | GET | SET | PROBE, GET+SET only with PROBE */
    wr32(b, 8);
    wr32(b + 4, VFIO_DEVICE_FEATURE_GET | 1);
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_FEATURE, b, 8, &r),
                     0);
    wr32(b + 4, 1u << 19);
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_FEATURE, b, 8, &r),
                     -EINVAL);
    wr32(b + 4, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET);
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_FEATURE, b, 8, &r),
                     -EINVAL);
    wr32(b + 4, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
                    VFIO_DEVICE_FEATURE_PROBE | 0xffff);
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_FEATURE, b, 8, &r),
                     0);
    /* SET_IRQS: only DATA and ACTION bits */
    wr32(b, 20);
    wr32(b + 4, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER | 0x40);
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_SET_IRQS, b, 20, &r),
                     -EINVAL);
}

static void test_map_unmap_decode(void **state)
{
    uint8_t b[32];
    struct vfio_req r;

    (void)state;
    wr32(b, 32);
    wr32(b + 4, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
    wr64(b + 8, 0x7f0000001000ull);
    wr64(b + 16, 0x100000);
    wr64(b + 24, 0x4000);
    assert_int_equal(decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_MAP_DMA, b, 32, &r),
                     0);
    assert_int_equal(r.u.map.vaddr, 0x7f0000001000ull);
    assert_int_equal(r.u.map.iova, 0x100000);
    assert_int_equal(r.u.map.size, 0x4000);
    assert_int_equal(vfio_args_in_len(r.def, b, 32), 32);
    /* UNMAP writes back its size and nothing else changes */
    wr32(b, 0x100); /* a bigger argsz is echoed */
    wr32(b + 4, 0);
    wr64(b + 8, 0x100000);
    wr64(b + 16, 0x8000);
    assert_int_equal(
        decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_UNMAP_DMA, b, 24, &r), 0);
    vfio_args_reply_unmap(&r, 0x4000, OUT, &OUTLEN);
    assert_int_equal(OUTLEN, 24);
    assert_int_equal(rd32(OUT), 0x100);
    assert_int_equal(rd32(OUT + 4), 0);
    assert_int_equal(rd64(OUT + 8), 0x100000);
    assert_int_equal(rd64(OUT + 16), 0x4000);
}

static void test_value_int_string(void **state)
{
    char name[VFIO_NAME_MAX + 8];
    uint8_t b[8];
    struct vfio_req r;

    (void)state;
    wr64(b, VFIO_TYPE1v2_IOMMU);
    assert_int_equal(
        decode(VFIO_KIND_CONTAINER, VFIO_CHECK_EXTENSION, b, 8, &r), 0);
    assert_int_equal(r.u.value, VFIO_TYPE1v2_IOMMU);
    assert_int_equal(decode(VFIO_KIND_CONTAINER, VFIO_SET_IOMMU, b, 4, &r),
                     -EFAULT);
    wr32(b, (uint32_t)-1);
    assert_int_equal(
        decode(VFIO_KIND_GROUP, VFIO_GROUP_SET_CONTAINER, b, 4, &r), 0);
    assert_int_equal(r.u.fd, -1);
    assert_int_equal(
        decode(VFIO_KIND_GROUP, VFIO_GROUP_SET_CONTAINER, b, 3, &r), -EFAULT);
    assert_int_equal(
        decode(VFIO_KIND_GROUP, VFIO_GROUP_UNSET_CONTAINER, NULL, 0, &r), 0);
    assert_int_equal(
        decode(VFIO_KIND_CONTAINER, VFIO_GET_API_VERSION, NULL, 0, &r), 0);
    /* GET_DEVICE_FD: strndup_user(arg, PAGE_SIZE) */
    strcpy(name, "0000:00:05.0");
    assert_int_equal(
        decode(VFIO_KIND_GROUP, VFIO_GROUP_GET_DEVICE_FD, name, 13, &r), 0);
    assert_string_equal(r.u.name, "0000:00:05.0");
    /* unterminated where the readable memory ends: -EFAULT */
    assert_int_equal(
        decode(VFIO_KIND_GROUP, VFIO_GROUP_GET_DEVICE_FD, name, 12, &r),
        -EFAULT);
    /* 4095 characters and the NUL fit; 4096 do not */
    memset(name, 'a', sizeof(name));
    name[VFIO_NAME_MAX - 1] = 0;
    assert_int_equal(decode(VFIO_KIND_GROUP, VFIO_GROUP_GET_DEVICE_FD, name,
                            VFIO_NAME_MAX, &r),
                     0);
    name[VFIO_NAME_MAX - 1] = 'a';
    name[VFIO_NAME_MAX] = 0;
    assert_int_equal(decode(VFIO_KIND_GROUP, VFIO_GROUP_GET_DEVICE_FD, name,
                            VFIO_NAME_MAX + 1, &r),
                     -EINVAL);
    assert_int_equal(decode(VFIO_KIND_GROUP, VFIO_GROUP_GET_DEVICE_FD, name,
                            VFIO_NAME_MAX, &r),
                     -EINVAL);
}

/* ---- capability chains ---- */

/* walks a chain as a careful user would: offsets grow, stay inside */
static int walk(const uint8_t *buf, size_t len, uint32_t off, uint16_t *ids,
                int max)
{
    int n = 0;

    while (off) {
        uint16_t id;
        uint32_t next;

        assert_true(off + 8 <= len);
        assert_int_equal(off % 8, 0);
        memcpy(&id, buf + off, 2);
        next = rd32(buf + off + 4);
        assert_true(n < max);
        ids[n++] = id;
        assert_true(next == 0 || next >= off + 8);
        off = next;
    }
    return n;
}

static void iommu_info(uint32_t argsz, struct vfio_req *r)
{
    static const struct vfio_iova_range ranges[2] = {
        {0, 0xfedfffff}, {0xfef00000, (1ull << 48) - 1}};
    struct vfio_iommu_info_in in = {0x1000, 1234, ranges, 2};
    uint8_t b[16] = {0};

    wr32(b, argsz);
    assert_int_equal(decode(VFIO_KIND_CONTAINER, VFIO_IOMMU_GET_INFO, b, 16, r),
                     0);
    memset(OUT, 0xee, sizeof(OUT));
    vfio_args_reply_iommu_info(r, &in, OUT, &OUTLEN);
}

static void test_grow_iommu_info(void **state)
{
    const uint32_t need = 24 + 16 + 16 + 2 * 16;
    static const uint32_t small[] = {16, 20, 24, 40, 87};
    struct vfio_req r;
    uint16_t ids[8];
    uint32_t off;

    (void)state;
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        iommu_info(small[i], &r);
        /* only min(argsz, sizeof(info)) bytes come back */
        assert_int_equal(OUTLEN, small[i] < 24 ? small[i] : 24);
        assert_int_equal(rd32(OUT), need);
        assert_int_equal(rd32(OUT + 4),
                         VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
        assert_int_equal(rd64(OUT + 8), 0x1000);
        if (small[i] >= 20) {
            assert_int_equal(rd32(OUT + 16), 0); /* cap_offset */
        }
    }
    /* the retry with what was asked for, and a much bigger buffer */
    for (uint32_t argsz = need; argsz <= need + 4096; argsz += 4096) {
        iommu_info(argsz, &r);
        assert_int_equal(OUTLEN, need);
        assert_int_equal(rd32(OUT), argsz); /* unchanged when it fits */
        assert_int_equal(rd32(OUT + 16), 24);
        assert_int_equal(rd32(OUT + 20), 0);
        assert_int_equal(walk(OUT, OUTLEN, 24, ids, 8), 2);
        assert_int_equal(ids[0], VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
        assert_int_equal(ids[1], VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
        assert_int_equal(vfio_caps_find(OUT, OUTLEN, 24,
                                        VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, &off),
                         0);
        assert_int_equal(off, 24);
        assert_int_equal(rd32(OUT + off + 8), 1234); /* avail */
        assert_int_equal(vfio_caps_find(OUT, OUTLEN, 24,
                                        VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
                                        &off),
                         0);
        assert_int_equal(off, 40);
        assert_int_equal(rd32(OUT + off + 8), 2); /* nr_iovas */
        assert_int_equal(rd64(OUT + off + 16), 0);
        assert_int_equal(rd64(OUT + off + 24), 0xfedfffff);
        assert_int_equal(rd64(OUT + off + 32), 0xfef00000);
        assert_int_equal(rd64(OUT + off + 40), (1ull << 48) - 1);
        assert_int_equal(vfio_caps_find(OUT, OUTLEN, 24,
                                        VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
                                        &off),
                         -ENOENT);
    }
}

static void region_info(uint32_t index, uint32_t argsz, uint32_t cap_offset,
                        struct vfio_req *r)
{
    uint8_t b[32] = {0};

    wr32(b, argsz);
    wr32(b + 8, index);
    wr32(b + 12, cap_offset);
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_REGION_INFO, b, 32, r), 0);
    memset(OUT, 0xee, sizeof(OUT));
    vfio_args_reply_region_info(r, &D, OUT, &OUTLEN);
}

/* grow and retry on every region that has capabilities */
static void test_grow_region_info(void **state)
{
    static const struct {
        uint32_t index, need, ncaps;
        uint16_t ids[2];
    } cases[] = {
        /* BAR0: SPARSE_MMAP with two areas */
        {0, 32 + 16 + 32, 1, {VFIO_REGION_INFO_CAP_SPARSE_MMAP}},
        /* BAR2: MSIX_MAPPABLE, a bare header */
        {2, 32 + 8, 1, {VFIO_REGION_INFO_CAP_MSIX_MAPPABLE}},
        /* region 9: TYPE */
        {9, 32 + 16, 1, {VFIO_REGION_INFO_CAP_TYPE}},
    };
    struct vfio_req r;
    uint16_t ids[4];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t idx = cases[i].index;

        region_info(idx, 32, 0x1234, &r);
        assert_int_equal(OUTLEN, 32);
        assert_int_equal(rd32(OUT), cases[i].need);
        assert_true(rd32(OUT + 4) & VFIO_REGION_INFO_FLAG_CAPS);
        assert_int_equal(rd32(OUT + 8), idx);
        assert_int_equal(rd32(OUT + 12), 0);
        assert_int_equal(rd64(OUT + 16), D.regions[idx].size);
        assert_int_equal(rd64(OUT + 24), (uint64_t)idx << 40);
        /* one byte short is still too small */
        region_info(idx, cases[i].need - 1, 0, &r);
        assert_int_equal(OUTLEN, 32);
        assert_int_equal(rd32(OUT), cases[i].need);
        /* the retry */
        region_info(idx, cases[i].need, 0, &r);
        assert_int_equal(OUTLEN, cases[i].need);
        assert_int_equal(rd32(OUT), cases[i].need);
        assert_int_equal(rd32(OUT + 12), 32);
        assert_int_equal(walk(OUT, OUTLEN, 32, ids, 4), cases[i].ncaps);
        assert_int_equal(ids[0], cases[i].ids[0]);
    }
    /* the sparse areas and the type, as described */
    region_info(0, 4096, 0, &r);
    assert_int_equal(rd32(OUT + 4), RW | VFIO_REGION_INFO_FLAG_MMAP |
                                        VFIO_REGION_INFO_FLAG_CAPS);
    assert_int_equal(rd32(OUT + 32 + 8), 2);
    assert_int_equal(rd64(OUT + 32 + 16), 0);
    assert_int_equal(rd64(OUT + 32 + 24), 0x1000);
    assert_int_equal(rd64(OUT + 32 + 32), 0x2000);
    assert_int_equal(rd64(OUT + 32 + 40), 0x1000);
    region_info(9, 4096, 0, &r);
    assert_int_equal(rd32(OUT + 32 + 8), VFIO_REGION_TYPE_GFX);
    assert_int_equal(rd32(OUT + 32 + 12), VFIO_REGION_SUBTYPE_GFX_EDID);
    /* two capabilities chain: a typed region that is also sparse */
    D.regions[9].flags |= VFIO_REGION_INFO_FLAG_MMAP;
    D.regions[9].nr_sparse = 1;
    D.regions[9].sparse[0].size = 0x1000;
    assert_int_equal(vfio_device_desc_check(&D), 0);
    region_info(9, 32, 0, &r);
    assert_int_equal(rd32(OUT), 32 + 16 + 32);
    region_info(9, 32 + 16 + 32, 0, &r);
    assert_int_equal(walk(OUT, OUTLEN, 32, ids, 4), 2);
    assert_int_equal(ids[0], VFIO_REGION_INFO_CAP_TYPE);
    assert_int_equal(ids[1], VFIO_REGION_INFO_CAP_SPARSE_MMAP);
    assert_int_equal(rd32(OUT + 32 + 4), 48);
}

static void test_region_info_plain(void **state)
{
    struct vfio_req r;
    uint8_t b[32] = {0};

    (void)state;
    /* no capabilities: no CAPS flag, cap_offset as the caller left it */
    region_info(VFIO_PCI_CONFIG_REGION_INDEX, 32, 0x1234, &r);
    assert_int_equal(OUTLEN, 32);
    assert_int_equal(rd32(OUT + 4), RW);
    assert_int_equal(rd32(OUT + 12), 0x1234);
    assert_int_equal(rd64(OUT + 16), 4096);
    assert_int_equal(rd64(OUT + 24), 7ull << 40);
    /* an absent BAR: size 0, flags 0, its offset anyway */
    region_info(1, 64, 0, &r);
    assert_int_equal(rd32(OUT + 4), 0);
    assert_int_equal(rd64(OUT + 16), 0);
    assert_int_equal(rd64(OUT + 24), 1ull << 40);
    /* index bounds; VGA only when the device has it */
    wr32(b, 32);
    wr32(b + 8, 10);
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_REGION_INFO, b, 32, &r),
        -EINVAL);
    wr32(b + 8, 0xffffffff);
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_REGION_INFO, b, 32, &r),
        -EINVAL);
    wr32(b + 8, VFIO_PCI_VGA_REGION_INDEX);
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_REGION_INFO, b, 32, &r),
        -EINVAL);
    D.has_vga = true;
    D.regions[VFIO_PCI_VGA_REGION_INDEX].size = 0xc0000;
    D.regions[VFIO_PCI_VGA_REGION_INDEX].flags = RW;
    assert_int_equal(vfio_device_desc_check(&D), 0);
    region_info(VFIO_PCI_VGA_REGION_INDEX, 32, 0, &r);
    assert_int_equal(rd64(OUT + 16), 0xc0000);
}

static void test_device_and_irq_info(void **state)
{
    uint8_t b[16] = {0};
    struct vfio_req r;

    (void)state;
    wr32(b, 16);
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_INFO, b, 16, &r),
                     0);
    vfio_args_reply_device_info(&r, &D, OUT, &OUTLEN);
    assert_int_equal(OUTLEN, 16); /* cap_offset not covered: untouched */
    assert_int_equal(rd32(OUT), 16);
    assert_int_equal(rd32(OUT + 4),
                     VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
    assert_int_equal(rd32(OUT + 8), 10);
    assert_int_equal(rd32(OUT + 12), 5);
    wr32(b, 24);
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_INFO, b, 16, &r),
                     0);
    vfio_args_reply_device_info(&r, &D, OUT, &OUTLEN);
    assert_int_equal(OUTLEN, 20);
    assert_int_equal(rd32(OUT + 16), 0);
    D.flags = 0;
    vfio_args_reply_device_info(&r, &D, OUT, &OUTLEN);
    assert_int_equal(rd32(OUT + 4), VFIO_DEVICE_FLAGS_PCI);
    /* IRQ info: vfio-pci's flags, the device's counts */
    for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
        wr32(b, 16);
        wr32(b + 8, i);
        assert_int_equal(
            decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_IRQ_INFO, b, 16, &r), 0);
        vfio_args_reply_irq_info(&r, &D, OUT, &OUTLEN);
        assert_int_equal(OUTLEN, 16);
        assert_int_equal(rd32(OUT + 8), i);
        assert_int_equal(rd32(OUT + 12), D.irq_count[i]);
        if (i == VFIO_PCI_INTX_IRQ_INDEX) {
            assert_int_equal(rd32(OUT + 4), VFIO_IRQ_INFO_EVENTFD |
                                                VFIO_IRQ_INFO_MASKABLE |
                                                VFIO_IRQ_INFO_AUTOMASKED);
        } else {
            assert_int_equal(rd32(OUT + 4),
                             VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
        }
    }
    wr32(b + 8, VFIO_PCI_NUM_IRQS);
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_IRQ_INFO, b, 16, &r), -EINVAL);
    /* ERR exists on PCIe functions only */
    D.pcie = false;
    D.irq_count[VFIO_PCI_ERR_IRQ_INDEX] = 0;
    assert_int_equal(vfio_device_desc_check(&D), 0);
    wr32(b + 8, VFIO_PCI_ERR_IRQ_INDEX);
    assert_int_equal(
        decode(VFIO_KIND_DEVICE, VFIO_DEVICE_GET_IRQ_INFO, b, 16, &r), -EINVAL);
    /* RESET only when the device says it resets */
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_RESET, NULL, 0, &r),
                     -EINVAL);
    D.flags = VFIO_DEVICE_FLAGS_RESET;
    assert_int_equal(decode(VFIO_KIND_DEVICE, VFIO_DEVICE_RESET, NULL, 0, &r),
                     0);
}

static void test_group_status_reply(void **state)
{
    uint8_t b[8];
    struct vfio_req r;

    (void)state;
    wr32(b, 8);
    wr32(b + 4, 0xffff);
    assert_int_equal(decode(VFIO_KIND_GROUP, VFIO_GROUP_GET_STATUS, b, 8, &r),
                     0);
    vfio_args_reply_group_status(&r, VFIO_GROUP_FLAGS_VIABLE, OUT, &OUTLEN);
    assert_int_equal(OUTLEN, 8);
    assert_int_equal(rd32(OUT), 8);
    assert_int_equal(rd32(OUT + 4), VFIO_GROUP_FLAGS_VIABLE);
}

/* chains from elsewhere (a device model) cannot make a walker loop */
static void test_caps_find_hostile(void **state)
{
    uint8_t b[128] = {0};
    uint32_t off;

    (void)state;
    /* 32: id 1 -> 48: id 2 -> 64: id 3 -> end */
    wr32(b + 32, 1);
    wr32(b + 36, 48);
    wr32(b + 48, 2);
    wr32(b + 52, 64);
    wr32(b + 64, 3);
    wr32(b + 68, 0);
    assert_int_equal(vfio_caps_find(b, 128, 32, 3, &off), 0);
    assert_int_equal(off, 64);
    assert_int_equal(vfio_caps_find(b, 128, 32, 9, &off), -ENOENT);
    assert_int_equal(vfio_caps_find(b, 128, 0, 1, &off), -ENOENT);
    /* a loop onto itself, backwards, into the header */
    wr32(b + 68, 64);
    assert_int_equal(vfio_caps_find(b, 128, 32, 9, &off), -EINVAL);
    wr32(b + 68, 32);
    assert_int_equal(vfio_caps_find(b, 128, 32, 9, &off), -EINVAL);
    wr32(b + 68, 68);
    assert_int_equal(vfio_caps_find(b, 128, 32, 9, &off), -EINVAL);
    /* past the buffer, a header cut by its end */
    wr32(b + 68, 124);
    assert_int_equal(vfio_caps_find(b, 128, 32, 9, &off), -EINVAL);
    wr32(b + 68, 0x7fffffff);
    assert_int_equal(vfio_caps_find(b, 128, 32, 9, &off), -EINVAL);
    assert_int_equal(vfio_caps_find(b, 128, 121, 9, &off), -EINVAL);
    /* the longest honest chain: 64 links of 8 bytes fit, 65 do not */
    {
        static uint8_t big[8 * 70];

        memset(big, 0, sizeof(big));
        for (uint32_t i = 0; i < 70; i++) {
            wr32(big + 8 * i, 100 + i);
            wr32(big + 8 * i + 4, i == 69 ? 0 : 8 * (i + 1));
        }
        assert_int_equal(vfio_caps_find(big, sizeof(big), 8, 163, &off), 0);
        assert_int_equal(vfio_caps_find(big, sizeof(big), 8, 165, &off),
                         -EINVAL);
    }
}

/* ---- SET_IRQS ---- */

static int set_irqs(uint32_t flags, uint32_t index, uint32_t start,
                    uint32_t count, uint32_t argsz, size_t inlen,
                    const void *data, struct vfio_req *r)
{
    static uint8_t b[20 + 4 * 4096];

    memset(b, 0, sizeof(b));
    wr32(b, argsz);
    wr32(b + 4, flags);
    wr32(b + 8, index);
    wr32(b + 12, start);
    wr32(b + 16, count);
    if (data && inlen > 20) {
        memcpy(b + 20, data, inlen - 20);
    }
    return decode(VFIO_KIND_DEVICE, VFIO_DEVICE_SET_IRQS, b, inlen, r);
}

/* vfio-pci's vfio_pci_set_irqs_ioctl, written out independently */
static bool has_handler(uint32_t index, uint32_t action)
{
    static const uint32_t ok[VFIO_PCI_NUM_IRQS] = {
        [VFIO_PCI_INTX_IRQ_INDEX] = VFIO_IRQ_SET_ACTION_MASK |
                                    VFIO_IRQ_SET_ACTION_UNMASK |
                                    VFIO_IRQ_SET_ACTION_TRIGGER,
        [VFIO_PCI_MSI_IRQ_INDEX] = VFIO_IRQ_SET_ACTION_TRIGGER,
        [VFIO_PCI_MSIX_IRQ_INDEX] = VFIO_IRQ_SET_ACTION_TRIGGER,
        [VFIO_PCI_ERR_IRQ_INDEX] = VFIO_IRQ_SET_ACTION_TRIGGER,
        [VFIO_PCI_REQ_IRQ_INDEX] = VFIO_IRQ_SET_ACTION_TRIGGER,
    };

    return __builtin_popcount(action) == 1 && (ok[index] & action);
}

/* every DATA x ACTION combination on every index, start 0 count 1 */
static void test_set_irqs_matrix(void **state)
{
    int32_t fd = 7;
    struct vfio_req r;
    int ok = 0, enotty = 0, einval = 0;

    (void)state;
    for (uint32_t index = 0; index < VFIO_PCI_NUM_IRQS; index++) {
        for (uint32_t d = 0; d < 8; d++) {
            for (uint32_t a = 0; a < 8; a++) {
                uint32_t flags = d | (a << 3);
                int want, rc;

                if (__builtin_popcount(d) != 1) {
                    want = -EINVAL; /* not exactly one DATA type */
                } else if (!has_handler(index, a << 3)) {
                    want = -ENOTTY; /* no handler, or not one ACTION */
                } else {
                    want = 0;
                }
                rc = set_irqs(flags, index, 0, 1, 24, 24, &fd, &r);
                assert_int_equal(rc, want);
                ok += rc == 0;
                enotty += rc == -ENOTTY;
                einval += rc == -EINVAL;
                if (!rc) {
                    assert_int_equal(r.u.irqs.data, d);
                    assert_int_equal(r.u.irqs.action, a << 3);
                    assert_int_equal(r.u.irqs.index, index);
                }
            }
        }
    }
    /* 3 data types x (3 + 1 + 1 + 1 + 1) handlers */
    assert_int_equal(ok, 3 * 7);
    assert_int_equal(ok + enotty + einval, 5 * 64);
}

static void test_set_irqs_validate(void **state)
{
    const uint32_t NT = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
    const uint32_t BT = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER;
    const uint32_t ET = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    const uint32_t MSIX = VFIO_PCI_MSIX_IRQ_INDEX;
    int32_t fds[16] = {3, -1, 5, -7, 9};
    uint8_t bools[16] = {1, 0, 1};
    struct vfio_req r;

    (void)state;
    /* start/count against the index's count (16 MSI-X vectors) */
    assert_int_equal(set_irqs(NT, MSIX, 0, 16, 20, 20, NULL, &r), 0);
    assert_int_equal(set_irqs(NT, MSIX, 15, 1, 20, 20, NULL, &r), 0);
    assert_int_equal(set_irqs(NT, MSIX, 16, 0, 20, 20, NULL, &r), -EINVAL);
    assert_int_equal(set_irqs(NT, MSIX, 15, 2, 20, 20, NULL, &r), -EINVAL);
    assert_int_equal(set_irqs(NT, MSIX, 0, 17, 20, 20, NULL, &r), -EINVAL);
    /* count 0 (disable) is fine where vectors exist */
    assert_int_equal(set_irqs(NT, MSIX, 0, 0, 20, 20, NULL, &r), 0);
    /* start + count wrapping: count >= U32_MAX - start, before the index */
    assert_int_equal(set_irqs(NT, MSIX, 1, 0xfffffffe, 20, 20, NULL, &r),
                     -EINVAL);
    assert_int_equal(set_irqs(NT, MSIX, 0xffffffff, 1, 20, 20, NULL, &r),
                     -EINVAL);
    /* an index without vectors: even start 0 count 0 fails */
    D.irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 0;
    assert_int_equal(
        set_irqs(NT, VFIO_PCI_MSI_IRQ_INDEX, 0, 0, 20, 20, NULL, &r), -EINVAL);
    assert_int_equal(set_irqs(NT, 5, 0, 0, 20, 20, NULL, &r), -EINVAL);
    /* payload sizes: count x 0 / 1 / 4 bytes covered by argsz - minsz */
    assert_int_equal(set_irqs(BT, MSIX, 0, 3, 23, 23, bools, &r), 0);
    assert_true(vfio_irqs_bool(&r.u.irqs, 0));
    assert_false(vfio_irqs_bool(&r.u.irqs, 1));
    assert_true(vfio_irqs_bool(&r.u.irqs, 2));
    assert_false(vfio_irqs_bool(&r.u.irqs, 3));
    assert_int_equal(set_irqs(BT, MSIX, 0, 3, 22, 22, bools, &r), -EINVAL);
    assert_int_equal(set_irqs(ET, MSIX, 0, 5, 40, 40, fds, &r), 0);
    assert_int_equal(r.u.irqs.payload_off, 20);
    assert_int_equal(set_irqs(ET, MSIX, 0, 5, 39, 40, fds, &r), -EINVAL);
    /* argsz promises the data but it cannot be read: -EFAULT */
    assert_int_equal(set_irqs(ET, MSIX, 0, 5, 40, 39, fds, &r), -EFAULT);
    assert_int_equal(set_irqs(ET, MSIX, 0, 5, 40, 20, fds, &r), -EFAULT);
    /* a bigger argsz is fine; DATA_NONE needs nothing */
    assert_int_equal(set_irqs(ET, MSIX, 0, 5, 4096, 40, fds, &r), 0);
    assert_int_equal(set_irqs(NT, MSIX, 0, 5, 20, 20, NULL, &r), 0);
    /* the order: validation, then the copy, then the handler */
    assert_int_equal(
        set_irqs(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK, MSIX, 0,
                 5, 39, 20, fds, &r),
        -EINVAL);
    assert_int_equal(
        set_irqs(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK, MSIX, 0,
                 5, 40, 20, fds, &r),
        -EFAULT);
    assert_int_equal(
        set_irqs(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK, MSIX, 0,
                 5, 40, 40, fds, &r),
        -ENOTTY);
}

static void test_set_irqs_fds(void **state)
{
    const uint32_t ET = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    int32_t fds[5] = {3, -1, 5, -7, 9}, got[8];
    uint32_t entry[8];
    struct vfio_req r;
    uint8_t head[20];

    (void)state;
    assert_int_equal(
        set_irqs(ET, VFIO_PCI_MSIX_IRQ_INDEX, 2, 5, 40, 40, fds, &r), 0);
    assert_int_equal(vfio_irqs_fd(&r.u.irqs, 0), 3);
    assert_int_equal(vfio_irqs_fd(&r.u.irqs, 1), -1);
    assert_int_equal(vfio_irqs_fd(&r.u.irqs, 5), -1);
    /* the descriptors to pass, with their entries */
    assert_int_equal(vfio_irqs_fds(&r.u.irqs, got, entry, 8), 3);
    assert_int_equal(got[0], 3);
    assert_int_equal(entry[0], 0);
    assert_int_equal(got[1], 5);
    assert_int_equal(entry[1], 2);
    assert_int_equal(got[2], 9);
    assert_int_equal(entry[2], 4);
    assert_int_equal(vfio_irqs_fds(&r.u.irqs, got, entry, 1), 3);
    /* what the shim copies: the header and the data argsz covers */
    wr32(head, 40);
    wr32(head + 4, ET);
    wr32(head + 16, 5);
    assert_int_equal(vfio_args_in_len(r.def, head, 20), 40);
    wr32(head, 39);
    assert_int_equal(vfio_args_in_len(r.def, head, 20), 20);
    wr32(head, 0xffffffff);
    wr32(head + 16, 0x10000000);
    assert_int_equal(vfio_args_in_len(r.def, head, 20), VFIO_ARGS_MAX);
    wr32(head + 4, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
    assert_int_equal(vfio_args_in_len(r.def, head, 20), 20);
    wr32(head + 4, 0);
    assert_int_equal(vfio_args_in_len(r.def, head, 20), 20);
}

/* ---- device descriptions ---- */

static void expect_bad(void (*change)(struct vfio_device_desc *d))
{
    struct vfio_device_desc d;

    make_desc(&d);
    change(&d);
    assert_int_equal(vfio_device_desc_check(&d), -EINVAL);
}

static void bad_flags(struct vfio_device_desc *d)
{
    d->flags |= VFIO_DEVICE_FLAGS_PLATFORM;
}
static void bad_nregions_low(struct vfio_device_desc *d)
{
    d->num_regions = 8;
}
static void bad_nregions_high(struct vfio_device_desc *d)
{
    d->num_regions = VFIO_DEV_MAX_REGIONS + 1;
}
static void bad_region_flags(struct vfio_device_desc *d)
{
    d->regions[0].flags |= VFIO_REGION_INFO_FLAG_CAPS;
}
static void bad_empty_with_flags(struct vfio_device_desc *d)
{
    d->regions[1].flags = RW;
}
static void bad_sparse_no_mmap(struct vfio_device_desc *d)
{
    d->regions[0].flags = RW;
}
static void bad_sparse_outside(struct vfio_device_desc *d)
{
    d->regions[0].sparse[1].offset = 0x10000;
}
static void bad_sparse_wrap(struct vfio_device_desc *d)
{
    d->regions[0].sparse[1].offset = ~0xfffull;
}
static void bad_sparse_unaligned(struct vfio_device_desc *d)
{
    d->regions[0].sparse[1].size = 0x800;
}
static void bad_sparse_overlap(struct vfio_device_desc *d)
{
    d->regions[0].sparse[1].offset = 0;
}
static void bad_sparse_count(struct vfio_device_desc *d)
{
    d->regions[0].nr_sparse = VFIO_DEV_MAX_SPARSE + 1;
}
static void bad_msix_config(struct vfio_device_desc *d)
{
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].msix_mappable = true;
}
static void bad_config_mmap(struct vfio_device_desc *d)
{
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].flags |=
        VFIO_REGION_INFO_FLAG_MMAP;
}
static void bad_config_size(struct vfio_device_desc *d)
{
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].size = 512;
}
static void bad_rom_write(struct vfio_device_desc *d)
{
    d->regions[VFIO_PCI_ROM_REGION_INDEX].size = 0x10000;
    d->regions[VFIO_PCI_ROM_REGION_INDEX].flags = RW;
}
static void bad_vga_absent(struct vfio_device_desc *d)
{
    d->regions[VFIO_PCI_VGA_REGION_INDEX].size = 0xc0000;
}
static void bad_type_on_bar(struct vfio_device_desc *d)
{
    d->regions[0].type = 1;
}
static void bad_untyped_dev_region(struct vfio_device_desc *d)
{
    d->regions[9].type = 0;
}
static void bad_intx(struct vfio_device_desc *d)
{
    d->irq_count[VFIO_PCI_INTX_IRQ_INDEX] = 2;
}
static void bad_msi(struct vfio_device_desc *d)
{
    d->irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 3;
}
static void bad_msi_max(struct vfio_device_desc *d)
{
    d->irq_count[VFIO_PCI_MSI_IRQ_INDEX] = 64;
}
static void bad_msix(struct vfio_device_desc *d)
{
    d->irq_count[VFIO_PCI_MSIX_IRQ_INDEX] = 2049;
}
static void bad_err(struct vfio_device_desc *d)
{
    d->pcie = false;
}
static void bad_req(struct vfio_device_desc *d)
{
    d->irq_count[VFIO_PCI_REQ_IRQ_INDEX] = 0;
}

static void test_desc_check(void **state)
{
    static void (*const bad[])(struct vfio_device_desc *) = {
        bad_flags,
        bad_nregions_low,
        bad_nregions_high,
        bad_region_flags,
        bad_empty_with_flags,
        bad_sparse_no_mmap,
        bad_sparse_outside,
        bad_sparse_wrap,
        bad_sparse_unaligned,
        bad_sparse_overlap,
        bad_sparse_count,
        bad_msix_config,
        bad_config_mmap,
        bad_config_size,
        bad_rom_write,
        bad_vga_absent,
        bad_type_on_bar,
        bad_untyped_dev_region,
        bad_intx,
        bad_msi,
        bad_msi_max,
        bad_msix,
        bad_err,
        bad_req,
    };
    struct vfio_device_desc d;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_bad(bad[i]);
    }
    /* the smallest device: config space and REQ, nothing else */
    memset(&d, 0, sizeof(d));
    d.num_regions = VFIO_PCI_NUM_REGIONS;
    d.regions[VFIO_PCI_CONFIG_REGION_INDEX].size = 256;
    d.regions[VFIO_PCI_CONFIG_REGION_INDEX].flags = RW;
    d.irq_count[VFIO_PCI_REQ_IRQ_INDEX] = 1;
    assert_int_equal(vfio_device_desc_check(&d), 0);
    /* a read-only ROM is fine */
    d.regions[VFIO_PCI_ROM_REGION_INDEX].size = 0x10000;
    d.regions[VFIO_PCI_ROM_REGION_INDEX].flags = VFIO_REGION_INFO_FLAG_READ;
    assert_int_equal(vfio_device_desc_check(&d), 0);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T_(test_tables_by_kind),      T_(test_tables_shapes),
        T_(test_argsz_below_minsz),   T_(test_argsz_larger_accepted),
        T_(test_unknown_flags),       T_(test_map_unmap_decode),
        T_(test_value_int_string),    T_(test_grow_iommu_info),
        T_(test_grow_region_info),    T_(test_region_info_plain),
        T_(test_device_and_irq_info), T_(test_group_status_reply),
        T_(test_caps_find_hostile),   T_(test_set_irqs_matrix),
        T_(test_set_irqs_validate),   T_(test_set_irqs_fds),
        T_(test_desc_check),
    };
#undef T_
    return cmocka_run_group_tests(tests, NULL, NULL);
}
