/* SPDX-License-Identifier: MIT */
/*
 * args.h - the VFIO ioctls as bytes: which requests each kind of
 * descriptor knows, what the preload library must copy from the caller,
 * decoding with the kernel's rules (argsz >= minsz, unknown flags, SET_IRQS
 * validation) into a normalized request, and encoding of the replies with
 * capability chains and their grow-and-retry rule.
 *
 * A VFIO request is _IO(';', 100 + n): no size and no direction, and the
 * numbers collide across descriptor kinds (0x3B70 is IOMMU_GET_INFO on a
 * container but GET_PCI_HOT_RESET_INFO on a device), so there is one table
 * per kind.  The request is the kernel's unsigned int cmd: a caller's
 * unsigned long is truncated to 32 bits, as the ioctl system call does.
 *
 * Protocol with the preload library (the shim):
 *   1. def = vfio_args_def(kind, req); NULL: the request is unknown to that
 *      kind (the kernel's -ENOTTY; on a container, -EINVAL until SET_IOMMU
 *      picked a backend, which is what vfio_ioctl() answers).
 *   2. By def->shape: NONE copies nothing; VALUE forwards the ioctl's third
 *      argument itself (8 bytes); INT copies the int it points to; STRING
 *      copies up to VFIO_NAME_MAX bytes, stopping after the NUL; ARGSZ
 *      copies def->minsz bytes, then vfio_args_in_len() of them in all.
 *      When the caller's memory ends early, forward what was readable:
 *      decoding fails with -EFAULT exactly where the kernel's
 *      copy_from_user would.
 *   3. After the daemon's answer, copy its reply bytes back over the
 *      caller's argument, from offset 0: replies are always one run, like
 *      the kernel's copy_to_user calls.
 * Decoding and encoding never read or write past the lengths they are
 * given; nothing here allocates.
 *
 * Every function returning int returns 0 or a negative errno.
 */
#ifndef PROCVISOR_VFIO_ARGS_H
#define PROCVISOR_VFIO_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vfio.h>

/* Most bytes of one ioctl argument the shim forwards. */
#define VFIO_ARGS_MAX (64u * 1024)
/* Room a reply needs at most (header and capability chain). */
#define VFIO_ARGS_OUT_MAX 4096u
/* GET_DEVICE_FD's string, NUL included: strndup_user(arg, PAGE_SIZE). */
#define VFIO_NAME_MAX 4096u
/* vfio-pci's region offsets in the device fd: index << 40 (not UAPI). */
#define VFIO_PCI_OFFSET_SHIFT       40
#define VFIO_PCI_INDEX_TO_OFFSET(i) ((uint64_t)(i) << VFIO_PCI_OFFSET_SHIFT)

/* Device-specific regions (>= VFIO_PCI_NUM_REGIONS) a device may add. */
#define VFIO_DEV_MAX_REGIONS (VFIO_PCI_NUM_REGIONS + 7)
/* mmap-able areas of one region (SPARSE_MMAP capability). */
#define VFIO_DEV_MAX_SPARSE 16u
/* vfio-pci's limits: PCI MSI has at most 32 vectors, MSI-X 2048. */
#define VFIO_PCI_MSI_MAX  32u
#define VFIO_PCI_MSIX_MAX 2048u

enum vfio_kind {
    VFIO_KIND_CONTAINER = 1, /* /dev/vfio/vfio */
    VFIO_KIND_GROUP,         /* /dev/vfio/$GROUP */
    VFIO_KIND_DEVICE,        /* from VFIO_GROUP_GET_DEVICE_FD */
};

/* What the shim copies in for a request (step 2 above). */
enum vfio_shape {
    VFIO_SHAPE_NONE,   /* nothing */
    VFIO_SHAPE_VALUE,  /* the argument itself, as a u64 */
    VFIO_SHAPE_INT,    /* a pointer to an int */
    VFIO_SHAPE_STRING, /* a NUL-terminated string */
    VFIO_SHAPE_ARGSZ,  /* a struct starting with u32 argsz, u32 flags */
};

enum vfio_op {
    VFIO_OP_NONE = 0,
    /* container */
    VFIO_OP_GET_API_VERSION,
    VFIO_OP_CHECK_EXTENSION,
    VFIO_OP_SET_IOMMU,
    VFIO_OP_IOMMU_GET_INFO,
    VFIO_OP_IOMMU_MAP_DMA,
    VFIO_OP_IOMMU_UNMAP_DMA,
    VFIO_OP_IOMMU_DIRTY_PAGES,
    /* group */
    VFIO_OP_GROUP_GET_STATUS,
    VFIO_OP_GROUP_SET_CONTAINER,
    VFIO_OP_GROUP_UNSET_CONTAINER,
    VFIO_OP_GROUP_GET_DEVICE_FD,
    /* device */
    VFIO_OP_DEVICE_GET_INFO,
    VFIO_OP_DEVICE_GET_REGION_INFO,
    VFIO_OP_DEVICE_GET_IRQ_INFO,
    VFIO_OP_DEVICE_SET_IRQS,
    VFIO_OP_DEVICE_RESET,
    VFIO_OP_DEVICE_GET_PCI_HOT_RESET_INFO,
    VFIO_OP_DEVICE_PCI_HOT_RESET,
    VFIO_OP_DEVICE_IOEVENTFD,
    VFIO_OP_DEVICE_FEATURE,
};

struct vfio_ioctl_def {
    uint32_t req; /* the request number, e.g. VFIO_IOMMU_MAP_DMA */
    enum vfio_op op;
    const char *name; /* "VFIO_IOMMU_MAP_DMA" */
    enum vfio_shape shape;
    uint32_t minsz; /* ARGSZ: offsetofend(the last mandatory field) */
};

/*
 * A device's description, as the daemon learnt it from the device model
 * (vfio-user DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO) and checked
 * with vfio_device_desc_check().  The device is presented as vfio-pci
 * presents a PCI function: fixed region and IRQ indexes, region offsets
 * index << 40, vfio-pci's IRQ flags.
 */
struct vfio_region_desc {
    uint64_t size;  /* 0: absent (flags must be 0 then) */
    uint32_t flags; /* VFIO_REGION_INFO_FLAG_READ | _WRITE | _MMAP */
    /* SPARSE_MMAP: the only mmap-able areas (MMAP regions; 0: none, the
     * whole region is mmap-able); page aligned, sorted, disjoint */
    uint32_t nr_sparse;
    struct vfio_region_sparse_mmap_area sparse[VFIO_DEV_MAX_SPARSE];
    /* MSIX_MAPPABLE: this BAR holds the MSI-X table, and may be mmapped */
    bool msix_mappable;
    /* TYPE capability, device-specific regions only (type != 0 there) */
    uint32_t type, subtype;
};

struct vfio_device_desc {
    uint32_t flags;       /* 0 or VFIO_DEVICE_FLAGS_RESET; PCI is implied */
    uint32_t num_regions; /* VFIO_PCI_NUM_REGIONS + device-specific ones */
    bool pcie;            /* has the ERR interrupt (vfio-pci: pci_is_pcie) */
    bool has_vga;         /* region VFIO_PCI_VGA_REGION_INDEX exists */
    struct vfio_region_desc regions[VFIO_DEV_MAX_REGIONS];
    /* vectors per IRQ index: INTx 0/1, MSI 0 or a power of 2 <= 32, MSI-X
     * <= 2048, ERR 1 iff pcie, REQ 1 */
    uint32_t irq_count[VFIO_PCI_NUM_IRQS];
};

/* What a device model may describe: 0 or -EINVAL. */
int vfio_device_desc_check(const struct vfio_device_desc *d);

/* SET_IRQS, normalized. */
struct vfio_irqs_req {
    uint32_t index, start, count;
    uint32_t data;   /* exactly one VFIO_IRQ_SET_DATA_* */
    uint32_t action; /* exactly one VFIO_IRQ_SET_ACTION_* */
    /* DATA_BOOL: count u8, DATA_EVENTFD: count s32, at this offset of the
     * argument (sizeof(struct vfio_irq_set)); payload points there in the
     * decoder's input */
    uint32_t payload_off;
    const uint8_t *payload;
};

/* The eventfd of entry i (DATA_EVENTFD): < 0 means none (-1: de-assign). */
int32_t vfio_irqs_fd(const struct vfio_irqs_req *r, uint32_t i);
/* Entry i of DATA_BOOL, or true for DATA_NONE. */
bool vfio_irqs_bool(const struct vfio_irqs_req *r, uint32_t i);
/*
 * The eventfds to pass along with the request (DATA_EVENTFD entries >= 0):
 * their values and entry numbers, at most max of them.  Returns how many
 * there are (may exceed max).
 */
size_t vfio_irqs_fds(const struct vfio_irqs_req *r, int32_t *fds,
                     uint32_t *entry, size_t max);

/* A decoded request.  Pointers point into the decoder's input. */
struct vfio_req {
    const struct vfio_ioctl_def *def;
    uint32_t argsz; /* ARGSZ shapes: as given */
    uint32_t flags; /* ARGSZ shapes: as given */
    union {
        uint64_t value;   /* CHECK_EXTENSION, SET_IOMMU */
        int32_t fd;       /* GROUP_SET_CONTAINER */
        const char *name; /* GROUP_GET_DEVICE_FD, NUL-terminated */
        struct {
            uint64_t vaddr, iova, size;
            uint32_t prot; /* IOMMU_PROT_* (READ/WRITE) */
        } map;
        struct {
            uint64_t iova, size;
        } unmap;
        struct {
            uint32_t index;
            uint32_t cap_offset; /* REGION_INFO: echoed when no caps */
        } info;
        struct vfio_irqs_req irqs;
    } u;
};

/* The request's definition for that kind, or NULL (unknown: -ENOTTY). */
const struct vfio_ioctl_def *vfio_args_def(enum vfio_kind kind, uint32_t req);
/* The definitions of one kind, for listings and tests. */
const struct vfio_ioctl_def *vfio_args_table(enum vfio_kind kind, size_t *n);

/*
 * ARGSZ shapes: how many bytes the kernel would read, given the first
 * head_len (>= def->minsz) bytes: minsz, plus SET_IRQS's data when argsz
 * covers it.  Capped at VFIO_ARGS_MAX.
 */
size_t vfio_args_in_len(const struct vfio_ioctl_def *def, const void *head,
                        size_t head_len);

/*
 * Decodes def's argument (inlen bytes at in) as the kernel reads it.
 * Device requests need the device's description (desc), others ignore it.
 * -EFAULT: the input is shorter than what the kernel would have read at
 * that point; -EINVAL: argsz < minsz, unknown flags, a bad index, SET_IRQS
 * validation (vfio_set_irqs_validate_and_prepare); -ENOTTY: no handler for
 * that SET_IRQS (index, action) in vfio-pci (which includes "not exactly
 * one ACTION").  The interrupt state's own checks (vfio-pci's handlers)
 * are vfio_device_set_irqs()'s.
 */
int vfio_args_decode(const struct vfio_ioctl_def *def, const void *in,
                     size_t inlen, const struct vfio_device_desc *desc,
                     struct vfio_req *out);

/*
 * Replies: the bytes to copy back over the caller's argument, from offset 0
 * (*outlen of them; out must have VFIO_ARGS_OUT_MAX bytes).  Capability
 * chains go right after the struct when argsz has room for them all;
 * otherwise *_FLAG_CAPS is set, cap_offset is 0 and argsz says how much is
 * needed (the caller grows and retries; that is success).
 */
struct vfio_iommu_info_in {
    uint64_t pgsizes;
    uint32_t avail; /* DMA_AVAIL */
    const struct vfio_iova_range *ranges;
    uint32_t nranges;
};
void vfio_args_reply_iommu_info(const struct vfio_req *r,
                                const struct vfio_iommu_info_in *in, void *out,
                                size_t *outlen);
void vfio_args_reply_unmap(const struct vfio_req *r, uint64_t unmapped,
                           void *out, size_t *outlen);
void vfio_args_reply_group_status(const struct vfio_req *r, uint32_t flags,
                                  void *out, size_t *outlen);
void vfio_args_reply_device_info(const struct vfio_req *r,
                                 const struct vfio_device_desc *d, void *out,
                                 size_t *outlen);
void vfio_args_reply_region_info(const struct vfio_req *r,
                                 const struct vfio_device_desc *d, void *out,
                                 size_t *outlen);
void vfio_args_reply_irq_info(const struct vfio_req *r,
                              const struct vfio_device_desc *d, void *out,
                              size_t *outlen);

/*
 * Walks a capability chain in buf[0, len) from cap_offset (0: none), for
 * replies that come from elsewhere (a device model's vfio-user answers).
 * Every header must lie inside buf and each next must be past the current
 * header, so a chain cannot loop; at most 64 capabilities.  Finds the
 * first capability with that id: 0 with *off its offset, -ENOENT, or
 * -EINVAL for a malformed chain.
 */
int vfio_caps_find(const void *buf, size_t len, uint32_t cap_offset,
                   uint16_t id, uint32_t *off);

#endif
