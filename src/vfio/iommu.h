/* SPDX-License-Identifier: MIT */
/*
 * iommu.h - the emulated type1 IOMMU of one VFIO container: the table of
 * DMA mappings a driver made with VFIO_IOMMU_MAP_DMA, with the rules of
 * Linux's drivers/vfio/vfio_iommu_type1.c (as of 6.18: wraps are
 * -EOVERFLOW, the last page under the top is mappable), and the lookups a
 * device's DMA goes through.
 *
 * Nothing here does I/O.  A mapping records the driver's virtual address
 * and an opaque 64-bit cookie that the caller chooses (which memfd and
 * offset backs it, or "anonymous memory of process P"); the IOMMU never
 * interprets either.  Mappings are kept in an AVL tree keyed by IOVA, so a
 * lookup, a MAP and the removal of one mapping are O(log n) with the
 * default limit of 65535 mappings.  Adjacent mappings are never merged:
 * like the kernel's vfio_dma entries, each MAP_DMA stays one mapping, which
 * is what type1v2's "no bisecting" rule and the reported unmap sizes
 * depend on.
 *
 * Both flavours of type1 are implemented: v2 (VFIO_TYPE1v2_IOMMU) refuses
 * an UNMAP_DMA whose first or last byte falls inside a mapping; v1
 * (VFIO_TYPE1_IOMMU) unmaps whole mappings, as the kernel does today: a
 * request whose first overlapped mapping starts before it unmaps nothing
 * and succeeds, otherwise every mapping starting inside the range goes,
 * whole, and the size reported is theirs.
 *
 * Every function returning int returns 0 or a negative errno.
 */
#ifndef PROCVISOR_VFIO_IOMMU_H
#define PROCVISOR_VFIO_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vfio.h>

/* the smallest IOMMU page: 4 KiB, the host's page as type1 requires */
#define IOMMU_PAGE_SIZE 4096u
/* default aperture: [0, 2^48 - 1], a 48-bit IOVA space */
#define IOMMU_DEFAULT_LAST ((UINT64_C(1) << 48) - 1)
/* type1's module parameter dma_entry_limit: U16_MAX mappings */
#define IOMMU_DEFAULT_LIMIT 65535u
/* usable IOVA ranges an IOMMU may have (reported in the IOVA_RANGE cap) */
#define IOMMU_MAX_RANGES 8u

/* A mapping's permissions: VFIO_DMA_MAP_FLAG_READ / _WRITE, from the
 * device's point of view (READ: the device may read this memory). */
#define IOMMU_PROT_READ  VFIO_DMA_MAP_FLAG_READ
#define IOMMU_PROT_WRITE VFIO_DMA_MAP_FLAG_WRITE

struct iommu_config {
    /* the usable IOVA ranges (1 or more), inclusive ends, sorted, disjoint
     * and not
     * touching; each start and each end + 1 aligned to the smallest page
     * (end may be UINT64_MAX).  A mapping must fit in one range. */
    struct vfio_iova_range ranges[IOMMU_MAX_RANGES];
    uint32_t nranges;
    /* how many mappings the container may hold (type1: dma_entry_limit) */
    uint32_t dma_entry_limit;
    /* iova_pgsizes reported by VFIO_IOMMU_GET_INFO; its lowest set bit is
     * the alignment MAP/UNMAP require and must be >= 4 KiB */
    uint64_t pgsize_bitmap;
};

/* One range [0, IOMMU_DEFAULT_LAST], 65535 mappings, 4 KiB pages. */
void iommu_config_default(struct iommu_config *cfg);
/* 0 if cfg is usable, -EINVAL otherwise */
int iommu_config_check(const struct iommu_config *cfg);

struct iommu_mapping {
    uint64_t iova;
    uint64_t size;
    uint64_t vaddr;  /* the driver's virtual address of iova */
    uint64_t cookie; /* the caller's: what backs vaddr */
    uint32_t prot;   /* IOMMU_PROT_* */
};

/* A piece of a translated DMA: [iova, iova + len) of one mapping. */
struct iommu_seg {
    uint64_t iova;
    uint64_t len;
    uint64_t vaddr;  /* driver's address of iova */
    uint64_t cookie; /* the mapping's cookie */
    uint64_t offset; /* iova - the mapping's iova: offset into its backing */
    uint32_t prot;
};

/* Why a DMA was refused. */
enum iommu_fault_reason {
    IOMMU_FAULT_NONE = 0,
    IOMMU_FAULT_UNMAPPED, /* a byte of the range has no mapping */
    IOMMU_FAULT_PERM,     /* write to a mapping without WRITE (or read
                             without READ) */
    IOMMU_FAULT_OVERFLOW, /* iova + len - 1 wraps */
    IOMMU_FAULT_NO_IOMMU, /* (vfio.c) the device's group has no IOMMU */
};

struct iommu_fault {
    uint32_t reason; /* enum iommu_fault_reason */
    uint64_t iova;   /* the first IOVA refused */
};

/* Called for every mapping that leaves the table (UNMAP or teardown). */
typedef void (*iommu_unmapped_fn)(void *opaque, const struct iommu_mapping *m);

struct iommu;

/* v2: VFIO_TYPE1v2_IOMMU semantics, else VFIO_TYPE1_IOMMU.  -EINVAL if cfg
 * fails iommu_config_check(). */
int iommu_new(struct iommu **out, const struct iommu_config *cfg, bool v2);
/*
 * Frees the table (calling nothing for the mappings still in it: use
 * iommu_unmap_all first if their cookies need releasing).  Returns how many
 * of its allocations were not freed: anything but 0 is a leak.
 */
size_t iommu_free(struct iommu *io);

bool iommu_is_v2(const struct iommu *io);
const struct iommu_config *iommu_get_config(const struct iommu *io);
/* mappings in the table, and how many more may be made (DMA_AVAIL cap) */
uint32_t iommu_count(const struct iommu *io);
uint32_t iommu_avail(const struct iommu *io);

/*
 * VFIO_IOMMU_MAP_DMA, in type1's order of checks: size 0 -EINVAL; iova or
 * vaddr + size - 1 wraps -EOVERFLOW; no READ/WRITE (or another bit)
 * -EINVAL; iova, vaddr or size not aligned to the smallest page -EINVAL;
 * any overlap with a mapping -EEXIST; no entry left -ENOSPC; not inside one
 * usable IOVA range -EINVAL; -ENOMEM.
 */
int iommu_map(struct iommu *io, uint64_t iova, uint64_t vaddr, uint64_t size,
              uint32_t prot, uint64_t cookie);

/*
 * VFIO_IOMMU_UNMAP_DMA.  flags: 0 or VFIO_DMA_UNMAP_FLAG_ALL (any other bit
 * -EINVAL).  iova not aligned -EINVAL; ALL with iova or size != 0 -EINVAL;
 * otherwise size 0 or unaligned -EINVAL, iova + size - 1 wraps -EOVERFLOW;
 * v2: the first or last byte inside a mapping that it does not start or
 * end -EINVAL.  On success *unmapped is the bytes unmapped (possibly 0;
 * the sum wraps like the kernel's if every byte of a 2^64 space was
 * mapped) and fn (if not NULL) saw each removed mapping, in IOVA order.
 */
int iommu_unmap(struct iommu *io, uint64_t iova, uint64_t size, uint32_t flags,
                uint64_t *unmapped, iommu_unmapped_fn fn, void *opaque);
/* Removes every mapping (container teardown), reporting each to fn. */
uint64_t iommu_unmap_all(struct iommu *io, iommu_unmapped_fn fn, void *opaque);

/*
 * The segments covering the DMA [iova, iova + len): one per mapping
 * crossed, in order, each mapping allowing the access (write: the device
 * writes memory, needs WRITE; else it reads, needs READ).  len 0: no
 * segment.  Returns 0 with *nsegs set; -EFAULT with *fault filled when a
 * byte is unmapped, not permitted or the range wraps; -E2BIG (no fault)
 * when more than max segments would be needed.
 */
int iommu_translate(const struct iommu *io, uint64_t iova, uint64_t len,
                    bool write, struct iommu_seg *segs, size_t max,
                    size_t *nsegs, struct iommu_fault *fault);

/* The mapping containing iova: 0, or -ENOENT. */
int iommu_lookup(const struct iommu *io, uint64_t iova,
                 struct iommu_mapping *out);
/* The mapping with the lowest iova >= from: 0, or -ENOENT.  Iterates the
 * table in order: from = 0, then from = out->iova + 1 (stop if that wraps). */
int iommu_next(const struct iommu *io, uint64_t from,
               struct iommu_mapping *out);
/* Calls fn on every mapping in IOVA order; stops at, and returns, the first
 * non-zero value fn returns. */
int iommu_foreach(const struct iommu *io,
                  int (*fn)(void *opaque, const struct iommu_mapping *m),
                  void *opaque);

/* Invariants: keys sorted, mappings disjoint, aligned and inside the
 * ranges, AVL heights right, count <= limit, avail = limit - count.
 * 0 or -EIO. */
int iommu_check(const struct iommu *io);

#endif
