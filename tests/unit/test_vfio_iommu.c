/* SPDX-License-Identifier: MIT */
/*
 * test_vfio_iommu.c - unit tests for the emulated type1 IOMMU
 * (src/vfio/iommu.c): MAP_DMA's checks and their order, the IOVA ranges and
 * the last page under the top (the 6.18 selftest vfio_dma_map_limit_test),
 * -EOVERFLOW on wraps, the 65535-mapping limit, v2's refusal to bisect,
 * v1's whole-mapping unmaps, UNMAP_ALL, translation across adjacent
 * mappings and the faults a DMA can take.
 *
 * Each test gets a fresh type1v2 IOMMU with the default configuration;
 * teardown checks the tree's invariants and that freeing it leaves no
 * allocation behind (the leak check).
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

#include "iommu.h"

#define PG   4096ull
#define RW   (IOMMU_PROT_READ | IOMMU_PROT_WRITE)
#define RO   IOMMU_PROT_READ
#define WO   IOMMU_PROT_WRITE
#define LAST IOMMU_DEFAULT_LAST
#define TOP  (~0ull & ~(PG - 1)) /* the selftest's iova for overflow */

struct t {
    struct iommu *io;
    struct iommu *extra; /* a second IOMMU a test made, freed too */
};

static struct t *T;

static int setup(void **state)
{
    struct iommu_config cfg;
    struct t *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    iommu_config_default(&cfg);
    assert_int_equal(iommu_new(&t->io, &cfg, true), 0);
    T = t;
    *state = t;
    return 0;
}

/* the invariants hold and every allocation was freed */
static int teardown(void **state)
{
    struct t *t = *state;

    assert_int_equal(iommu_check(t->io), 0);
    assert_int_equal(iommu_free(t->io), 0);
    if (t->extra) {
        assert_int_equal(iommu_check(t->extra), 0);
        assert_int_equal(iommu_free(t->extra), 0);
    }
    free(t);
    return 0;
}

static struct iommu *make(bool v2, uint64_t last, uint32_t limit)
{
    struct iommu_config cfg;

    iommu_config_default(&cfg);
    cfg.ranges[0].end = last;
    cfg.dma_entry_limit = limit;
    assert_null(T->extra);
    assert_int_equal(iommu_new(&T->extra, &cfg, v2), 0);
    return T->extra;
}

static int map(struct iommu *io, uint64_t iova, uint64_t size, uint32_t prot)
{
    /* vaddr mirrors iova in a different place; cookie names the mapping */
    return iommu_map(io, iova, iova + 0x7f0000000000ull, size, prot, iova / PG);
}

static uint64_t unmap_ok(struct iommu *io, uint64_t iova, uint64_t size,
                         uint32_t flags)
{
    uint64_t n = ~0ull;

    assert_int_equal(iommu_unmap(io, iova, size, flags, &n, NULL, NULL), 0);
    return n;
}

static int unmap_err(struct iommu *io, uint64_t iova, uint64_t size,
                     uint32_t flags)
{
    uint64_t n = 0x5a5a;
    int rc = iommu_unmap(io, iova, size, flags, &n, NULL, NULL);

    if (rc < 0) {
        assert_int_equal(n, 0x5a5a); /* nothing reported on failure */
    }
    return rc; /* the caller checks which error */
}

/* ---- MAP_DMA ---- */

static void test_map_basic(void **state)
{
    struct iommu_mapping m;

    (void)state;
    assert_int_equal(iommu_count(T->io), 0);
    assert_int_equal(iommu_avail(T->io), 65535);
    assert_true(iommu_is_v2(T->io));
    assert_int_equal(iommu_map(T->io, 0x10000, 0x7000000, 3 * PG, RW, 42), 0);
    assert_int_equal(iommu_count(T->io), 1);
    assert_int_equal(iommu_avail(T->io), 65534);
    assert_int_equal(iommu_lookup(T->io, 0x10000 + 2 * PG + 5, &m), 0);
    assert_int_equal(m.iova, 0x10000);
    assert_int_equal(m.size, 3 * PG);
    assert_int_equal(m.vaddr, 0x7000000);
    assert_int_equal(m.cookie, 42);
    assert_int_equal(m.prot, RW);
    assert_int_equal(iommu_lookup(T->io, 0x10000 + 3 * PG, &m), -ENOENT);
    assert_int_equal(iommu_lookup(T->io, 0xffff, &m), -ENOENT);
    /* iova 0 is an ordinary address */
    assert_int_equal(map(T->io, 0, PG, RO), 0);
    assert_int_equal(iommu_lookup(T->io, 0, &m), 0);
    assert_int_equal(m.prot, RO);
}

static void test_map_rules(void **state)
{
    (void)state;
    assert_int_equal(map(T->io, 0x10000, 0, RW), -EINVAL);      /* size 0 */
    assert_int_equal(map(T->io, 0x10000, PG, 0), -EINVAL);      /* no prot */
    assert_int_equal(map(T->io, 0x10000, PG, RW | 4), -EINVAL); /* VADDR */
    assert_int_equal(map(T->io, 0x10001, PG, RW), -EINVAL);
    assert_int_equal(map(T->io, 0x10000, PG + 1, RW), -EINVAL);
    assert_int_equal(iommu_map(T->io, 0x10000, 0x1234, PG, RW, 0), -EINVAL);
    assert_int_equal(map(T->io, 0x10800, PG / 2, RW), -EINVAL);
    /* outside the aperture [0, 2^48 - 1] */
    assert_int_equal(map(T->io, LAST + 1, PG, RW), -EINVAL);
    assert_int_equal(map(T->io, LAST + 1 - PG, 2 * PG, RW), -EINVAL);
    assert_int_equal(iommu_count(T->io), 0);
    /* one page each way is fine, write-only too */
    assert_int_equal(map(T->io, 0x10000, PG, WO), 0);
    assert_int_equal(map(T->io, 0x20000, PG, RO), 0);
}

static void test_map_overlap(void **state)
{
    (void)state;
    assert_int_equal(map(T->io, 0x10000, 4 * PG, RW), 0);
    assert_int_equal(map(T->io, 0x10000, 4 * PG, RW), -EEXIST);
    assert_int_equal(map(T->io, 0x10000 - PG, 2 * PG, RW), -EEXIST);
    assert_int_equal(map(T->io, 0x10000 + 3 * PG, 2 * PG, RW), -EEXIST);
    assert_int_equal(map(T->io, 0x10000 + PG, PG, RW), -EEXIST);
    assert_int_equal(map(T->io, 0, 0x100000, RW), -EEXIST);
    /* touching on both sides is not overlapping */
    assert_int_equal(map(T->io, 0x10000 - PG, PG, RW), 0);
    assert_int_equal(map(T->io, 0x10000 + 4 * PG, PG, RW), 0);
    assert_int_equal(iommu_count(T->io), 3);
}

/* adjacent mappings, even with contiguous vaddrs and the same prot, stay
 * separate: the kernel never merges vfio_dma entries */
static void test_map_no_merge(void **state)
{
    struct iommu_mapping m;

    (void)state;
    assert_int_equal(iommu_map(T->io, 0x10000, 0x500000, PG, RW, 1), 0);
    assert_int_equal(iommu_map(T->io, 0x11000, 0x501000, PG, RW, 1), 0);
    assert_int_equal(iommu_count(T->io), 2);
    assert_int_equal(iommu_lookup(T->io, 0x11000, &m), 0);
    assert_int_equal(m.iova, 0x11000);
    assert_int_equal(m.size, PG);
    /* and each one unmaps on its own */
    assert_int_equal(unmap_ok(T->io, 0x10000, PG, 0), PG);
    assert_int_equal(iommu_count(T->io), 1);
}

/* 6.18 order: size, then wraps (-EOVERFLOW) before prot and alignment */
static void test_map_order(void **state)
{
    (void)state;
    assert_int_equal(map(T->io, 0x10001, 0, 0), -EINVAL);
    assert_int_equal(map(T->io, TOP, 2 * PG, 0), -EOVERFLOW);
    assert_int_equal(map(T->io, TOP + 1, 2 * PG + 3, RW), -EOVERFLOW);
    assert_int_equal(iommu_map(T->io, 0x10000, TOP, 2 * PG, RW, 0), -EOVERFLOW);
    assert_int_equal(iommu_map(T->io, 0, 2, ~0ull, RW, 0), -EOVERFLOW);
    /* size ~0 at 0 does not wrap: it fails alignment */
    assert_int_equal(iommu_map(T->io, 0, 0, ~0ull, RW, 0), -EINVAL);
    /* no prot before alignment: both -EINVAL anyway */
    assert_int_equal(map(T->io, 0x10001, PG, 0), -EINVAL);
    /* overlap before the limit, the limit before the range */
    assert_int_equal(map(T->io, 0x10000, PG, RW), 0);
    {
        struct iommu *io = make(true, LAST, 1);

        assert_int_equal(map(io, 0x10000, PG, RW), 0);
        assert_int_equal(map(io, 0x10000, PG, RW), -EEXIST);
        assert_int_equal(map(io, 0x20000, PG, RW), -ENOSPC);
        assert_int_equal(map(io, LAST + 1, PG, RW), -ENOSPC);
        assert_int_equal(map(io, 0x10001, PG, RW), -EINVAL);
    }
}

/* vfio_dma_map_limit_test: the last page under the top of the last range */
static void check_last_page(struct iommu *io, uint64_t last)
{
    uint64_t iova = last & ~(PG - 1);
    struct iommu_seg seg;
    size_t n;

    assert_int_equal(map(io, iova, PG, RW), 0);
    assert_int_equal(iommu_translate(io, last, 1, true, &seg, 1, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(seg.offset, PG - 1);
    assert_int_equal(unmap_ok(io, iova, PG, 0), PG);
    assert_int_equal(iommu_count(io), 0);
    assert_int_equal(map(io, iova, PG, RW), 0);
    assert_int_equal(unmap_ok(io, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL), PG);
    assert_int_equal(iommu_count(io), 0);
    /* and the next page is past the top */
    if (last != ~0ull) {
        assert_int_equal(map(io, iova + PG, PG, RW), -EINVAL);
    }
}

static void test_last_page(void **state)
{
    (void)state;
    check_last_page(T->io, LAST);
}

static void test_last_page_64bit(void **state)
{
    (void)state;
    check_last_page(make(true, ~0ull, 65535), ~0ull);
}

static void test_last_page_v1(void **state)
{
    (void)state;
    check_last_page(make(false, ~0ull, 65535), ~0ull);
}

/* vfio_dma_map_limit_test.overflow: iova = ~0 & ~(pg - 1), two pages */
static void test_overflow(void **state)
{
    struct iommu *io64;

    (void)state;
    assert_int_equal(map(T->io, TOP, 2 * PG, RW), -EOVERFLOW);
    assert_int_equal(unmap_err(T->io, TOP, 2 * PG, 0), -EOVERFLOW);
    io64 = make(true, ~0ull, 65535);
    assert_int_equal(map(io64, TOP, 2 * PG, RW), -EOVERFLOW);
    assert_int_equal(unmap_err(io64, TOP, 2 * PG, 0), -EOVERFLOW);
    /* one page there is fine with a 64-bit aperture */
    assert_int_equal(map(io64, TOP, PG, RW), 0);
    assert_int_equal(unmap_ok(io64, TOP, PG, 0), PG);
}

/* ---- the mapping limit ---- */

static void test_limit_65535(void **state)
{
    struct iommu_mapping m;

    (void)state;
    /* descending, the worst case for a sorted array, is cheap in a tree */
    for (uint64_t i = 0; i < 65535; i++) {
        assert_int_equal(map(T->io, (65535 - i) * 2 * PG, PG, RW), 0);
    }
    assert_int_equal(iommu_count(T->io), 65535);
    assert_int_equal(iommu_avail(T->io), 0);
    assert_int_equal(iommu_check(T->io), 0);
    assert_int_equal(map(T->io, 1ull << 40, PG, RW), -ENOSPC);
    assert_int_equal(map(T->io, 2 * PG, PG, RW), -EEXIST);
    assert_int_equal(unmap_ok(T->io, 100 * 2 * PG, PG, 0), PG);
    assert_int_equal(iommu_avail(T->io), 1);
    assert_int_equal(map(T->io, 1ull << 40, PG, RW), 0);
    assert_int_equal(map(T->io, 100 * 2 * PG, PG, RW), -ENOSPC);
    /* O(log n) lookups at both ends and in the middle */
    assert_int_equal(iommu_lookup(T->io, 2 * PG, &m), 0);
    assert_int_equal(iommu_lookup(T->io, 65535 * 2 * PG + 17, &m), 0);
    assert_int_equal(iommu_lookup(T->io, 30001 * 2 * PG + PG, &m), -ENOENT);
    assert_int_equal(iommu_check(T->io), 0);
    /* half of them in one request, the holes in between are fine */
    assert_int_equal(unmap_ok(T->io, 2 * PG, 32768 * 2 * PG, 0), 32767 * PG);
    assert_int_equal(iommu_count(T->io), 32768);
    assert_int_equal(iommu_check(T->io), 0);
    assert_int_equal(unmap_ok(T->io, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL),
                     32768 * PG);
    assert_int_equal(iommu_avail(T->io), 65535);
}

static void test_limit_configurable(void **state)
{
    struct iommu *io = make(true, LAST, 3);

    (void)state;
    assert_int_equal(iommu_avail(io), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(map(io, (uint64_t)(i + 1) * PG, PG, RW), 0);
    }
    assert_int_equal(map(io, 0x100000, PG, RW), -ENOSPC);
    assert_int_equal(iommu_avail(io), 0);
}

/* ---- UNMAP_DMA ---- */

static void test_unmap_rules(void **state)
{
    (void)state;
    assert_int_equal(map(T->io, 0x10000, PG, RW), 0);
    assert_int_equal(unmap_err(T->io, 0x10001, PG, 0), -EINVAL);
    assert_int_equal(unmap_err(T->io, 0x10000, 0, 0), -EINVAL);
    assert_int_equal(unmap_err(T->io, 0x10000, 100, 0), -EINVAL);
    assert_int_equal(unmap_err(T->io, 0x10000, PG, 2), -EINVAL);
    assert_int_equal(unmap_err(T->io, 0x10000, PG, 4), -EINVAL);
    /* ALL wants iova = size = 0; iova alignment is checked first */
    assert_int_equal(unmap_err(T->io, 0x10000, 0, VFIO_DMA_UNMAP_FLAG_ALL),
                     -EINVAL);
    assert_int_equal(unmap_err(T->io, 0, PG, VFIO_DMA_UNMAP_FLAG_ALL), -EINVAL);
    assert_int_equal(unmap_err(T->io, 1, 0, VFIO_DMA_UNMAP_FLAG_ALL), -EINVAL);
    /* wraps: -EOVERFLOW, but only once size and alignment passed */
    assert_int_equal(unmap_err(T->io, 2 * PG, ~0ull & ~(PG - 1), 0),
                     -EOVERFLOW);
    assert_int_equal(unmap_ok(T->io, PG, ~0ull & ~(PG - 1), 0), PG);
    assert_int_equal(map(T->io, 0x10000, PG, RW), 0);
    assert_int_equal(unmap_err(T->io, TOP, 3, 0), -EINVAL);
    assert_int_equal(iommu_count(T->io), 1);
    /* nothing there: success, size 0 */
    assert_int_equal(unmap_ok(T->io, 0x20000, PG, 0), 0);
    assert_int_equal(unmap_ok(T->io, 0x10000, PG, 0), PG);
    assert_int_equal(unmap_ok(T->io, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL), 0);
}

static void test_unmap_v2_bisect(void **state)
{
    (void)state;
    assert_int_equal(map(T->io, 0x10000, 4 * PG, RW), 0);
    assert_int_equal(map(T->io, 0x20000, 2 * PG, RW), 0);
    /* start inside */
    assert_int_equal(unmap_err(T->io, 0x11000, PG, 0), -EINVAL);
    assert_int_equal(unmap_err(T->io, 0x11000, 0x20000, 0), -EINVAL);
    /* end inside */
    assert_int_equal(unmap_err(T->io, 0x10000, PG, 0), -EINVAL);
    assert_int_equal(unmap_err(T->io, 0x0, 0x21000, 0), -EINVAL);
    /* the middle of one mapping */
    assert_int_equal(unmap_err(T->io, 0x11000, 2 * PG, 0), -EINVAL);
    assert_int_equal(iommu_count(T->io), 2);
    /* a range covering both, holes included */
    assert_int_equal(unmap_ok(T->io, 0x8000, 0x40000, 0), 6 * PG);
    assert_int_equal(iommu_count(T->io), 0);
}

/* v1 keeps type1's old behaviour: whole mappings, sizes as found */
static void test_unmap_v1(void **state)
{
    struct iommu *io = make(false, LAST, 65535);

    (void)state;
    assert_false(iommu_is_v2(io));
    assert_int_equal(map(io, 0x10000, 4 * PG, RW), 0);
    assert_int_equal(map(io, 0x20000, 2 * PG, RW), 0);
    /* starting inside the first mapping: nothing, success (and the loop
     * stops, so the second mapping stays even though it is covered) */
    assert_int_equal(unmap_ok(io, 0x11000, 0x20000, 0), 0);
    assert_int_equal(iommu_count(io), 2);
    /* at its start but ending inside: all of it goes, 4 pages reported */
    assert_int_equal(unmap_ok(io, 0x10000, PG, 0), 4 * PG);
    assert_int_equal(iommu_count(io), 1);
    /* a range ending in the first page of the second mapping */
    assert_int_equal(map(io, 0x10000, 4 * PG, RW), 0);
    assert_int_equal(unmap_ok(io, 0x10000, 0x10000 + PG, 0), 6 * PG);
    assert_int_equal(iommu_count(io), 0);
    assert_int_equal(map(io, 0x10000, 4 * PG, RW), 0);
    assert_int_equal(unmap_ok(io, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL), 4 * PG);
}

struct seen {
    struct iommu_mapping m[8];
    int n;
};

static void record(void *opaque, const struct iommu_mapping *m)
{
    struct seen *s = opaque;

    assert_true(s->n < 8);
    s->m[s->n++] = *m;
}

static void test_unmap_reports(void **state)
{
    struct seen s = {0};
    uint64_t n;

    (void)state;
    assert_int_equal(iommu_map(T->io, 0x30000, 0xa000, PG, RW, 3), 0);
    assert_int_equal(iommu_map(T->io, 0x10000, 0xb000, PG, RO, 1), 0);
    assert_int_equal(iommu_map(T->io, 0x20000, 0xc000, 2 * PG, WO, 2), 0);
    assert_int_equal(iommu_unmap(T->io, 0x10000, 0x20000, 0, &n, record, &s),
                     0);
    assert_int_equal(n, 3 * PG);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.m[0].cookie, 1);
    assert_int_equal(s.m[1].cookie, 2);
    assert_int_equal(s.m[1].size, 2 * PG);
    assert_int_equal(s.m[1].vaddr, 0xc000);
    s.n = 0;
    assert_int_equal(iommu_unmap_all(T->io, record, &s), PG);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.m[0].cookie, 3);
    assert_int_equal(iommu_count(T->io), 0);
}

/* ---- translation ---- */

static void test_translate(void **state)
{
    struct iommu_seg seg[4];
    struct iommu_fault f;
    size_t n;

    (void)state;
    assert_int_equal(iommu_map(T->io, 0x10000, 0x700000, 2 * PG, RW, 7), 0);
    assert_int_equal(
        iommu_translate(T->io, 0x10010, 100, false, seg, 4, &n, &f), 0);
    assert_int_equal(n, 1);
    assert_int_equal(seg[0].iova, 0x10010);
    assert_int_equal(seg[0].len, 100);
    assert_int_equal(seg[0].vaddr, 0x700010);
    assert_int_equal(seg[0].offset, 0x10);
    assert_int_equal(seg[0].cookie, 7);
    /* zero bytes: nothing to do */
    assert_int_equal(
        iommu_translate(T->io, 0xdead0000, 0, true, seg, 4, &n, &f), 0);
    assert_int_equal(n, 0);
    /* the whole mapping, exactly */
    assert_int_equal(
        iommu_translate(T->io, 0x10000, 2 * PG, true, seg, 4, &n, &f), 0);
    assert_int_equal(n, 1);
    assert_int_equal(seg[0].len, 2 * PG);
    /* one byte past it */
    assert_int_equal(
        iommu_translate(T->io, 0x10000, 2 * PG + 1, true, seg, 4, &n, &f),
        -EFAULT);
    assert_int_equal(f.reason, IOMMU_FAULT_UNMAPPED);
    assert_int_equal(f.iova, 0x12000);
    assert_int_equal(iommu_translate(T->io, 0xf000, 8, true, seg, 4, &n, &f),
                     -EFAULT);
    assert_int_equal(f.reason, IOMMU_FAULT_UNMAPPED);
    assert_int_equal(f.iova, 0xf000);
}

static void test_translate_adjacent(void **state)
{
    struct iommu_seg seg[4];
    struct iommu_fault f;
    size_t n;

    (void)state;
    /* three adjacent mappings with unrelated backings */
    assert_int_equal(iommu_map(T->io, 0x10000, 0x900000, PG, RW, 1), 0);
    assert_int_equal(iommu_map(T->io, 0x11000, 0x400000, 2 * PG, RW, 2), 0);
    assert_int_equal(iommu_map(T->io, 0x13000, 0x100000, PG, RW, 3), 0);
    assert_int_equal(
        iommu_translate(T->io, 0x10ff0, 0x2020, true, seg, 4, &n, &f), 0);
    assert_int_equal(n, 3);
    assert_int_equal(seg[0].iova, 0x10ff0);
    assert_int_equal(seg[0].len, 0x10);
    assert_int_equal(seg[0].vaddr, 0x900ff0);
    assert_int_equal(seg[0].cookie, 1);
    assert_int_equal(seg[1].iova, 0x11000);
    assert_int_equal(seg[1].len, 0x2000);
    assert_int_equal(seg[1].vaddr, 0x400000);
    assert_int_equal(seg[1].offset, 0);
    assert_int_equal(seg[1].cookie, 2);
    assert_int_equal(seg[2].iova, 0x13000);
    assert_int_equal(seg[2].len, 0x10);
    assert_int_equal(seg[2].cookie, 3);
    /* too many pieces for the caller's array: -E2BIG, no fault */
    f.reason = IOMMU_FAULT_NONE;
    assert_int_equal(
        iommu_translate(T->io, 0x10ff0, 0x2020, true, seg, 2, &n, &f), -E2BIG);
    assert_int_equal(f.reason, IOMMU_FAULT_NONE);
    /* a hole after the second one */
    assert_int_equal(unmap_ok(T->io, 0x13000, PG, 0), PG);
    assert_int_equal(
        iommu_translate(T->io, 0x10ff0, 0x2020, true, seg, 4, &n, &f), -EFAULT);
    assert_int_equal(f.reason, IOMMU_FAULT_UNMAPPED);
    assert_int_equal(f.iova, 0x13000);
}

static void test_translate_perm(void **state)
{
    struct iommu_seg seg[4];
    struct iommu_fault f;
    size_t n;

    (void)state;
    assert_int_equal(map(T->io, 0x10000, PG, RO), 0);
    assert_int_equal(map(T->io, 0x11000, PG, WO), 0);
    assert_int_equal(map(T->io, 0x12000, PG, RW), 0);
    /* a device write into read-only memory */
    assert_int_equal(iommu_translate(T->io, 0x10000, 8, true, seg, 4, &n, &f),
                     -EFAULT);
    assert_int_equal(f.reason, IOMMU_FAULT_PERM);
    assert_int_equal(f.iova, 0x10000);
    assert_int_equal(iommu_translate(T->io, 0x10000, 8, false, seg, 4, &n, &f),
                     0);
    /* a device read of write-only memory */
    assert_int_equal(iommu_translate(T->io, 0x11000, 8, false, seg, 4, &n, &f),
                     -EFAULT);
    assert_int_equal(f.reason, IOMMU_FAULT_PERM);
    /* a write across RW then WO then... RO at the start fails at once */
    assert_int_equal(
        iommu_translate(T->io, 0x11800, 0x1000, true, seg, 4, &n, &f), 0);
    assert_int_equal(n, 2);
    assert_int_equal(
        iommu_translate(T->io, 0x10800, 0x1000, true, seg, 4, &n, &f), -EFAULT);
    assert_int_equal(f.reason, IOMMU_FAULT_PERM);
    assert_int_equal(f.iova, 0x10800);
    /* a read crossing into the write-only page faults there */
    assert_int_equal(
        iommu_translate(T->io, 0x10800, 0x1000, false, seg, 4, &n, &f),
        -EFAULT);
    assert_int_equal(f.iova, 0x11000);
}

static void test_translate_overflow(void **state)
{
    struct iommu_seg seg[2];
    struct iommu_fault f;
    size_t n;
    struct iommu *io = make(true, ~0ull, 65535);

    (void)state;
    assert_int_equal(map(io, TOP, PG, RW), 0);
    assert_int_equal(iommu_translate(io, ~0ull, 1, true, seg, 2, &n, &f), 0);
    assert_int_equal(n, 1);
    assert_int_equal(seg[0].offset, PG - 1);
    assert_int_equal(iommu_translate(io, ~0ull, 2, true, seg, 2, &n, &f),
                     -EFAULT);
    assert_int_equal(f.reason, IOMMU_FAULT_OVERFLOW);
    assert_int_equal(f.iova, ~0ull);
}

/* ---- iteration and configuration ---- */

static int count_cb(void *opaque, const struct iommu_mapping *m)
{
    uint64_t *prev = opaque;

    assert_true(m->iova > prev[0] || prev[1] == 0);
    prev[0] = m->iova;
    prev[1]++;
    return prev[1] == 5 ? 99 : 0;
}

static void test_iterate(void **state)
{
    struct iommu_mapping m;
    uint64_t from = 0, prev[2] = {0, 0};
    int n = 0;

    (void)state;
    for (int i = 9; i >= 0; i--) {
        assert_int_equal(map(T->io, (uint64_t)(i * 3 + 1) * PG, PG, RW), 0);
    }
    while (iommu_next(T->io, from, &m) == 0) {
        assert_int_equal(m.iova, (uint64_t)(n * 3 + 1) * PG);
        n++;
        from = m.iova + 1;
    }
    assert_int_equal(n, 10);
    assert_int_equal(iommu_next(T->io, 28 * PG + 1, &m), -ENOENT);
    assert_int_equal(iommu_next(T->io, 2 * PG, &m), 0);
    assert_int_equal(m.iova, 4 * PG);
    /* foreach stops at, and returns, fn's first non-zero value */
    assert_int_equal(iommu_foreach(T->io, count_cb, prev), 99);
    assert_int_equal(prev[1], 5);
}

static void test_config(void **state)
{
    struct iommu_config cfg;
    struct iommu *io;

    (void)state;
    iommu_config_default(&cfg);
    assert_int_equal(iommu_config_check(&cfg), 0);
    assert_int_equal(cfg.ranges[0].end, (1ull << 48) - 1);
    assert_int_equal(cfg.dma_entry_limit, 65535);
    assert_int_equal(cfg.pgsize_bitmap, 4096);
    cfg.ranges[0].end = (1ull << 48) - 2; /* end + 1 unaligned */
    assert_int_equal(iommu_new(&io, &cfg, true), -EINVAL);
    iommu_config_default(&cfg);
    cfg.pgsize_bitmap = 0x800; /* 2 KiB pages */
    assert_int_equal(iommu_config_check(&cfg), -EINVAL);
    cfg.pgsize_bitmap = 0;
    assert_int_equal(iommu_config_check(&cfg), -EINVAL);
    iommu_config_default(&cfg);
    cfg.nranges = IOMMU_MAX_RANGES + 1;
    assert_int_equal(iommu_config_check(&cfg), -EINVAL);
    cfg.nranges = 0; /* nothing mappable at all */
    assert_int_equal(iommu_config_check(&cfg), -EINVAL);
    /* two ranges: unsorted, overlapping and touching ones are refused */
    iommu_config_default(&cfg);
    cfg.nranges = 2;
    cfg.ranges[0].end = 0xfedfffff;
    cfg.ranges[1].start = 0xfef00000; /* the x86 MSI window is a hole */
    cfg.ranges[1].end = LAST;
    assert_int_equal(iommu_config_check(&cfg), 0);
    cfg.ranges[1].start = 0xfee00000;
    assert_int_equal(iommu_config_check(&cfg), -EINVAL);
    cfg.ranges[1].start = 0xfe000000;
    assert_int_equal(iommu_config_check(&cfg), -EINVAL);
}

static void test_ranges(void **state)
{
    struct iommu_config cfg;

    (void)state;
    iommu_config_default(&cfg);
    cfg.nranges = 2;
    cfg.ranges[0].end = 0xfedfffff;
    cfg.ranges[1].start = 0xfef00000;
    cfg.ranges[1].end = LAST;
    assert_int_equal(iommu_new(&T->extra, &cfg, true), 0);
    assert_int_equal(map(T->extra, 0xfee00000, PG, RW), -EINVAL);
    assert_int_equal(map(T->extra, 0xfedff000, 2 * PG, RW), -EINVAL);
    assert_int_equal(map(T->extra, 0xfedff000, PG, RW), 0);
    assert_int_equal(map(T->extra, 0xfef00000, PG, RW), 0);
    assert_int_equal(unmap_ok(T->extra, 0xfe000000, 0x2000000, 0), 2 * PG);
}

static void test_large_pgsize(void **state)
{
    struct iommu_config cfg;

    (void)state;
    iommu_config_default(&cfg);
    /* 4K | 2M | 1G like VT-d: the alignment is still the smallest */
    cfg.pgsize_bitmap = 0x40201000;
    assert_int_equal(iommu_new(&T->extra, &cfg, true), 0);
    assert_int_equal(map(T->extra, 0x1000, PG, RW), 0);
    assert_int_equal(iommu_free(T->extra), 0);
    /* a 64 KiB smallest page */
    cfg.pgsize_bitmap = 0x10000;
    assert_int_equal(iommu_new(&T->extra, &cfg, true), 0);
    assert_int_equal(map(T->extra, 0x1000, PG, RW), -EINVAL);
    assert_int_equal(map(T->extra, 0x10000, 0x10000, RW), 0);
    assert_int_equal(unmap_err(T->extra, 0x10000, PG, 0), -EINVAL);
    assert_int_equal(unmap_ok(T->extra, 0x10000, 0x10000, 0), 0x10000);
}

/* a pseudo-random mix against a bitmap model of the pages */
static void test_random_model(void **state)
{
    enum { PAGES = 256 };
    static int owner[PAGES]; /* mapping id + 1 covering the page, or 0 */
    uint32_t x = 12345;
    int next_id = 1;

    (void)state;
    memset(owner, 0, sizeof(owner));
    for (int step = 0; step < 20000; step++) {
        uint32_t a, len;
        uint64_t n;
        bool free_run = true;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        a = x % PAGES;
        len = 1 + (x >> 8) % 8;
        if (a + len > PAGES) {
            len = PAGES - a;
        }
        for (uint32_t i = a; i < a + len; i++) {
            free_run &= owner[i] == 0;
        }
        if ((x >> 20) & 1) {
            int rc = map(T->io, (uint64_t)a * PG, (uint64_t)len * PG, RW);

            assert_int_equal(rc, free_run ? 0 : -EEXIST);
            if (!rc) {
                for (uint32_t i = a; i < a + len; i++) {
                    owner[i] = next_id;
                }
                next_id++;
            }
        } else {
            /* v2: refused iff a mapping crosses the first or last edge */
            bool bisect = (a > 0 && owner[a] && owner[a - 1] == owner[a]) ||
                          (a + len < PAGES && owner[a + len - 1] &&
                           owner[a + len] == owner[a + len - 1]);
            uint64_t expect = 0;
            int rc = iommu_unmap(T->io, (uint64_t)a * PG, (uint64_t)len * PG, 0,
                                 &n, NULL, NULL);

            if (bisect) {
                assert_int_equal(rc, -EINVAL);
                continue;
            }
            assert_int_equal(rc, 0);
            for (uint32_t i = a; i < a + len; i++) {
                expect += owner[i] ? PG : 0;
                owner[i] = 0;
            }
            assert_int_equal(n, expect);
        }
        if (step % 1000 == 0) {
            assert_int_equal(iommu_check(T->io), 0);
        }
    }
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T_(test_map_basic),
        T_(test_map_rules),
        T_(test_map_overlap),
        T_(test_map_no_merge),
        T_(test_map_order),
        T_(test_last_page),
        T_(test_last_page_64bit),
        T_(test_last_page_v1),
        T_(test_overflow),
        T_(test_limit_65535),
        T_(test_limit_configurable),
        T_(test_unmap_rules),
        T_(test_unmap_v2_bisect),
        T_(test_unmap_v1),
        T_(test_unmap_reports),
        T_(test_translate),
        T_(test_translate_adjacent),
        T_(test_translate_perm),
        T_(test_translate_overflow),
        T_(test_iterate),
        T_(test_config),
        T_(test_ranges),
        T_(test_large_pgsize),
        T_(test_random_model),
    };
#undef T_
    return cmocka_run_group_tests(tests, NULL, NULL);
}
