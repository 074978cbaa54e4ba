/* SPDX-License-Identifier: MIT */
/*
 * vfu_wire.h - the vfio-user wire protocol (spec v0.9.2, as in QEMU's
 * docs/interop/vfio-user.rst): message layouts, limits, and a pure codec
 * for both directions.  No I/O happens here; every function takes bytes
 * that came from a peer nobody trusts and returns 0 or a negative errno.
 *
 * A message is a 16-byte header and a payload; msg_size counts both.  All
 * integers are in host byte order (AF_UNIX only).  Descriptors travel as
 * SCM_RIGHTS with the message they belong to; the codec only needs to know
 * how many came (nfds).  Structures here are the payloads after the header;
 * the codec copies them out with memcpy, so a receive buffer need not be
 * aligned.
 *
 * Two procvisor extensions (docs/vfio-user.md):
 *  - VFU_CMD_PV_ADD_CLIENT: the client passes one connected AF_UNIX
 *    SOCK_STREAM socket; the server serves it as a restricted client that
 *    may send only REGION_READ and REGION_WRITE (anything else: EPERM).
 *  - SET_IRQS with DATA_EVENTFD may carry, after the 20-byte header, one
 *    s32 per sub-index: -1 de-assigns that sub-index, k >= 0 names the k-th
 *    descriptor of the message.  Without that array the spec's forms hold:
 *    nfds == count binds in order, nfds == 0 de-assigns the range.
 * The twin socket is the spec's: the client proposes
 * "twin_socket": {"supported": true}; the server creates a socket pair and
 * sends the client's end with its VERSION reply, naming it by fd_index.
 */
#ifndef PROCVISOR_VFU_WIRE_H
#define PROCVISOR_VFU_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/vfio.h>

/* ---- limits ---- */

#define VFU_HDR_SIZE 16u
/* The largest data count in one REGION/DMA READ/WRITE (the spec's default
 * max_data_xfer_size, and what this implementation advertises). */
#define VFU_MAX_DATA_XFER (1024u * 1024u)
/* The largest message accepted or sent: a 1 MiB transfer plus its header
 * and access header.  A larger msg_size cannot be framed: the receiver
 * answers EINVAL (if it can) and closes the connection. */
#define VFU_MAX_MSG_SIZE (VFU_HDR_SIZE + 16u + VFU_MAX_DATA_XFER)
/* The largest VERSION JSON document accepted, NUL included. */
#define VFU_MAX_JSON 4096u
/* max_msg_fds a peer may announce (libvfio-user's client limit). */
#define VFU_PEER_MAX_MSG_FDS 1024u
/* Descriptors this implementation accepts with one message. */
#define VFU_MAX_MSG_FDS 16u
/* Defaults of the VERSION capabilities the peer leaves out. */
#define VFU_DEFAULT_MAX_MSG_FDS  1u
#define VFU_DEFAULT_MAX_DMA_MAPS 65535u
#define VFU_DEFAULT_PGSIZES      4096u
/* The smallest max_data_xfer_size accepted: an 8-byte access must fit. */
#define VFU_MIN_DATA_XFER 8u
/* Bounds a well-behaved device's replies stay inside (checked by the
 * client-side reply checks). */
#define VFU_MAX_REGIONS      64u
#define VFU_MAX_IRQ_INDEXES  16u
#define VFU_MAX_IRQ_COUNT    2048u /* MSI-X table size limit */
#define VFU_MAX_SPARSE_AREAS 64u
#define VFU_MAX_CAPS         16u /* capability chain length */
#define VFU_MAX_IO_FDS       256u
/* REGION_WRITE_MULTI entries per message. */
#define VFU_WRITE_MULTI_MAX 256u
/* The DMA page size: DMA_MAP/UNMAP address, size (and fd offset) align to
 * it. */
#define VFU_PAGE_SIZE 4096u

/* Protocol version spoken: the server answers min(proposed minor, this). */
#define VFU_VERSION_MAJOR 0u
#define VFU_VERSION_MINOR 2u

/* ---- header ---- */

enum vfu_cmd {
    VFU_CMD_VERSION = 1,
    VFU_CMD_DMA_MAP = 2,
    VFU_CMD_DMA_UNMAP = 3,
    VFU_CMD_DEVICE_GET_INFO = 4,
    VFU_CMD_DEVICE_GET_REGION_INFO = 5,
    VFU_CMD_DEVICE_GET_REGION_IO_FDS = 6,
    VFU_CMD_DEVICE_GET_IRQ_INFO = 7,
    VFU_CMD_DEVICE_SET_IRQS = 8,
    VFU_CMD_REGION_READ = 9,
    VFU_CMD_REGION_WRITE = 10,
    VFU_CMD_DMA_READ = 11,  /* server -> client */
    VFU_CMD_DMA_WRITE = 12, /* server -> client */
    VFU_CMD_DEVICE_RESET = 13,
    VFU_CMD_REGION_WRITE_MULTI = 15,
    VFU_CMD_DEVICE_FEATURE = 16,
    VFU_CMD_MIG_DATA_READ = 17,
    VFU_CMD_MIG_DATA_WRITE = 18,
    /* procvisor: pass a restricted client's socket (1 fd) */
    VFU_CMD_PV_ADD_CLIENT = 0x7076,
};

#define VFU_F_TYPE_MASK    0xfu
#define VFU_F_TYPE_COMMAND 0x0u
#define VFU_F_TYPE_REPLY   0x1u
#define VFU_F_NO_REPLY     0x10u /* command: send no reply */
#define VFU_F_ERROR        0x20u /* reply: error_no is valid */
#define VFU_F_KNOWN        (VFU_F_TYPE_MASK | VFU_F_NO_REPLY | VFU_F_ERROR)

struct vfu_hdr {
    uint16_t msg_id;   /* the sender's; a reply echoes it */
    uint16_t cmd;      /* enum vfu_cmd; a reply echoes it */
    uint32_t msg_size; /* header included */
    uint32_t flags;    /* VFU_F_* */
    uint32_t error_no; /* reply with VFU_F_ERROR: a positive errno */
};
_Static_assert(sizeof(struct vfu_hdr) == VFU_HDR_SIZE, "vfu_hdr layout");

/* ---- payloads ---- */

/* VERSION, both ways: then a NUL-terminated JSON document (optional). */
struct vfu_version {
    uint16_t major;
    uint16_t minor;
};
_Static_assert(sizeof(struct vfu_version) == 4, "vfu_version layout");

/* DMA_MAP request; no reply payload.  With an fd: mmap-able memory at
 * `offset` of it (or, with VFU_DMA_FILE_IO, read and written with
 * pread/pwrite there); without: reached by DMA_READ/DMA_WRITE messages. */
#define VFU_DMA_READ    0x1u
#define VFU_DMA_WRITE   0x2u
#define VFU_DMA_MMAP    0x4u /* an fd comes and is mmap-ed (the default) */
#define VFU_DMA_FILE_IO 0x8u /* an fd comes and is pread/pwrite-n */
struct vfu_dma_map {
    uint32_t argsz; /* sizeof(struct vfu_dma_map) */
    uint32_t flags;
    uint64_t offset; /* in the fd; 0 without one */
    uint64_t addr;   /* IOVA */
    uint64_t size;
};
_Static_assert(sizeof(struct vfu_dma_map) == 32, "vfu_dma_map layout");

/* DMA_UNMAP request, and its reply (the request echoed).  Flag ALL (with
 * addr = size = 0) unmaps everything; GET_DIRTY_BITMAP is refused (no
 * dirty logging). */
#define VFU_DMA_UNMAP_DIRTY VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP
#define VFU_DMA_UNMAP_ALL   VFIO_DMA_UNMAP_FLAG_ALL
struct vfu_dma_unmap {
    uint32_t argsz; /* request: the reply room, at least 24 */
    uint32_t flags;
    uint64_t addr;
    uint64_t size;
};
_Static_assert(sizeof(struct vfu_dma_unmap) == 24, "vfu_dma_unmap layout");

/* DEVICE_GET_INFO request (argsz, the rest zero) and reply. */
struct vfu_device_info {
    uint32_t argsz;
    uint32_t flags; /* VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI */
    uint32_t num_regions;
    uint32_t num_irqs;
};
_Static_assert(sizeof(struct vfu_device_info) == 16, "vfu_device_info");

/* DEVICE_GET_REGION_INFO request (argsz, index) and reply; the reply's
 * capability chain follows it, offsets counted from its start.  Same layout
 * as struct vfio_region_info. */
struct vfu_region_info {
    uint32_t argsz;
    uint32_t flags; /* VFIO_REGION_INFO_FLAG_* */
    uint32_t index;
    uint32_t cap_offset;
    uint64_t size;
    uint64_t offset; /* for mmap() on the fd the reply carries */
};
_Static_assert(sizeof(struct vfu_region_info) == 32, "vfu_region_info");
_Static_assert(sizeof(struct vfu_region_info) ==
                   sizeof(struct vfio_region_info),
               "vfu_region_info is vfio_region_info");

struct vfu_cap_hdr {
    uint16_t id;
    uint16_t version;
    uint32_t next; /* 0 ends the chain */
};
_Static_assert(sizeof(struct vfu_cap_hdr) ==
                   sizeof(struct vfio_info_cap_header),
               "vfu_cap_hdr layout");

struct vfu_sparse_area {
    uint64_t offset;
    uint64_t size;
};
_Static_assert(sizeof(struct vfu_sparse_area) ==
                   sizeof(struct vfio_region_sparse_mmap_area),
               "vfu_sparse_area layout");

/* VFIO_REGION_INFO_CAP_SPARSE_MMAP, version 1: then nr_areas areas */
struct vfu_cap_sparse {
    struct vfu_cap_hdr hdr;
    uint32_t nr_areas;
    uint32_t reserved;
};
_Static_assert(sizeof(struct vfu_cap_sparse) ==
                   sizeof(struct vfio_region_info_cap_sparse_mmap),
               "vfu_cap_sparse layout");

/* DEVICE_GET_REGION_IO_FDS request (flags = count = 0) and reply header;
 * the reply's count sub-regions follow, 40 bytes each. */
struct vfu_io_fds {
    uint32_t argsz;
    uint32_t flags;
    uint32_t index;
    uint32_t count;
};
_Static_assert(sizeof(struct vfu_io_fds) == 16, "vfu_io_fds layout");

#define VFU_IO_FD_IOEVENTFD  0u
#define VFU_IO_FD_IOREGIONFD 1u
struct vfu_sub_region {
    uint64_t offset;
    uint64_t size;
    uint32_t fd_index;
    uint32_t type; /* VFU_IO_FD_* */
    uint32_t flags;
    uint32_t padding;
    uint64_t datamatch; /* ioregionfd: user_data */
};
_Static_assert(sizeof(struct vfu_sub_region) == 40, "vfu_sub_region layout");

/* DEVICE_GET_IRQ_INFO request (argsz, index) and reply; as
 * struct vfio_irq_info. */
struct vfu_irq_info {
    uint32_t argsz;
    uint32_t flags; /* VFIO_IRQ_INFO_* */
    uint32_t index;
    uint32_t count;
};
_Static_assert(sizeof(struct vfu_irq_info) == sizeof(struct vfio_irq_info),
               "vfu_irq_info layout");

/* DEVICE_SET_IRQS request; as struct vfio_irq_set without data[]. */
struct vfu_irq_set {
    uint32_t argsz;
    uint32_t flags; /* VFIO_IRQ_SET_DATA_* | VFIO_IRQ_SET_ACTION_* */
    uint32_t index;
    uint32_t start;
    uint32_t count;
};
_Static_assert(sizeof(struct vfu_irq_set) == sizeof(struct vfio_irq_set),
               "vfu_irq_set layout");

/* REGION_READ request (no data) and reply (data); REGION_WRITE request
 * (data) and reply (no data). */
struct vfu_region_access {
    uint64_t offset;
    uint32_t region;
    uint32_t count;
};
_Static_assert(sizeof(struct vfu_region_access) == 16, "region_access");

/* DMA_READ request (no data) and reply (data); DMA_WRITE request (data)
 * and reply (no data).  The spec's table gives the DMA_WRITE reply's count
 * 4 bytes; both 12- and 16-byte replies are accepted, 16 are sent. */
struct vfu_dma_access {
    uint64_t addr;
    uint64_t count;
};
_Static_assert(sizeof(struct vfu_dma_access) == 16, "dma_access layout");

/* REGION_WRITE_MULTI: u64 wr_cnt, then wr_cnt of these; the reply is the
 * u64 count of writes done. */
struct vfu_write_multi {
    uint64_t offset;
    uint32_t region;
    uint32_t count; /* 1..8 */
    uint8_t data[8];
};
_Static_assert(sizeof(struct vfu_write_multi) == 24, "write_multi layout");

/* DEVICE_FEATURE request: then data. */
struct vfu_device_feature {
    uint32_t argsz;
    uint32_t flags; /* feature index [15:0], GET 16, SET 17, PROBE 18 */
};
_Static_assert(sizeof(struct vfu_device_feature) == 8, "device_feature");

/* MIG_DATA_READ/WRITE. */
struct vfu_mig_data {
    uint32_t argsz;
    uint32_t size;
};
_Static_assert(sizeof(struct vfu_mig_data) == 8, "mig_data layout");

/* PV_ADD_CLIENT request: exactly one fd; both fields zero.  No reply
 * payload. */
struct vfu_pv_add_client {
    uint32_t flags;
    uint32_t reserved;
};
_Static_assert(sizeof(struct vfu_pv_add_client) == 8, "pv_add_client");

/* ---- VERSION capabilities ---- */

struct vfu_caps {
    uint64_t max_msg_fds;
    uint64_t max_data_xfer_size;
    uint64_t max_dma_maps;
    uint64_t pgsizes;
    bool write_multiple;
    bool twin_supported;
    bool twin_has_index;
    uint32_t twin_fd_index;
};

/* The spec's defaults, for a VERSION without JSON or without some key. */
void vfu_caps_default(struct vfu_caps *caps);

/*
 * Parse a VERSION JSON document of len bytes (no NUL among them) into
 * *caps, starting from the defaults: a top-level object whose optional
 * "capabilities" object may hold max_msg_fds, max_data_xfer_size,
 * max_dma_maps, pgsizes (non-negative integers), write_multiple (boolean),
 * twin_socket (an object: supported boolean, fd_index integer) and
 * migration (ignored).  Unknown keys are skipped, whatever their value;
 * a known key twice, a wrong type, a number that is not a plain integer
 * fitting 64 bits, nesting deeper than 8, or anything that is not JSON is
 * -EINVAL.  Then the values are checked (vfu_caps_check).
 */
int vfu_caps_parse(const char *json, size_t len, struct vfu_caps *caps);

/* The values' bounds: max_msg_fds <= VFU_PEER_MAX_MSG_FDS,
 * max_data_xfer_size >= VFU_MIN_DATA_XFER, max_dma_maps >= 1, pgsizes
 * non-zero; fd_index only with supported.  0 or -EINVAL. */
int vfu_caps_check(const struct vfu_caps *caps);

/* Write caps as JSON (with its NUL) into buf: the four numbers, then
 * write_multiple if true, then twin_socket if supported (with fd_index if
 * it has one).  Returns the length with the NUL, or -ENOSPC. */
int vfu_caps_format(const struct vfu_caps *caps, char *buf, size_t cap);

/* ---- header ---- */

/* Fill a header for a payload of payload_len bytes. */
void vfu_hdr_init(struct vfu_hdr *h, uint16_t msg_id, uint16_t cmd,
                  uint32_t payload_len, uint32_t flags);

/*
 * Copy the header out of buf (len >= VFU_HDR_SIZE bytes) and check its
 * framing: VFU_HDR_SIZE <= msg_size <= VFU_MAX_MSG_SIZE.  -EINVAL for a
 * size below the header, -EMSGSIZE above the maximum: either way the
 * stream cannot be followed any further.
 */
int vfu_hdr_parse(const void *buf, size_t len, struct vfu_hdr *h);

/*
 * The rest of a framed header: a known type, no undefined flag bit,
 * NO_REPLY only on a command, ERROR only on a reply (with a non-zero
 * error_no not required, as the spec allows 0).  0 or -EINVAL; the
 * message's payload can still be skipped.
 */
int vfu_hdr_check(const struct vfu_hdr *h);

/* The payload length of a framed header. */
static inline uint32_t vfu_payload_len(const struct vfu_hdr *h)
{
    return h->msg_size - VFU_HDR_SIZE;
}

static inline bool vfu_is_reply(const struct vfu_hdr *h)
{
    return (h->flags & VFU_F_TYPE_MASK) == VFU_F_TYPE_REPLY;
}

/*
 * Build a message into buf (cap bytes): the header, then the payload
 * gathered from n pieces.  Returns the message size, or -EMSGSIZE if it
 * exceeds cap or VFU_MAX_MSG_SIZE.
 */
struct vfu_piece {
    const void *p;
    size_t len;
};
long vfu_msg_build(void *buf, size_t cap, uint16_t msg_id, uint16_t cmd,
                   uint32_t flags, const struct vfu_piece *pieces, int n);

/* The error reply to a command: header only, with err (positive errno). */
void vfu_error_reply(struct vfu_hdr *out, const struct vfu_hdr *cmd,
                     uint32_t err);

/* The name of a command, for logs ("?" if unknown). */
const char *vfu_cmd_name(uint16_t cmd);

/* ---- payload checks: a command's request (server side) ---- */

/*
 * Each takes the payload bytes (p, len) and the number of descriptors
 * that came with the message, copies the fixed part out, and returns 0 or
 * -EINVAL (malformed), -EOVERFLOW (a range that wraps), -EMSGSIZE (a count
 * beyond the maximum), as noted.
 */

/* VERSION request or reply: the version, and the capabilities (defaults
 * where the JSON is silent).  The JSON, if any, ends in the payload's only
 * NUL and is at most VFU_MAX_JSON bytes. */
int vfu_check_version(const void *p, size_t len, struct vfu_version *v,
                      struct vfu_caps *caps);

/* DMA_MAP: argsz 32, len 32, flags READ|WRITE (at least one) plus MMAP or
 * FILE_IO (which need the fd), at most one fd, size != 0, addr, size and
 * (with an fd) offset page-aligned, addr + size and offset + size not
 * wrapping (-EOVERFLOW). */
int vfu_check_dma_map(const void *p, size_t len, unsigned nfds,
                      struct vfu_dma_map *m);

/* DMA_UNMAP: len 24, argsz >= 24, no fds, flags ALL (addr = size = 0) or
 * none (size != 0, page-aligned, not wrapping: -EOVERFLOW); DIRTY is
 * -EINVAL. */
int vfu_check_dma_unmap(const void *p, size_t len, unsigned nfds,
                        struct vfu_dma_unmap *u);

/* DEVICE_GET_INFO: len 16, argsz >= 16, no fds.  The other fields are
 * output fields and are ignored. */
int vfu_check_device_info(const void *p, size_t len, unsigned nfds,
                          struct vfu_device_info *di);

/* DEVICE_GET_REGION_INFO: len 32, argsz >= 32, no fds. */
int vfu_check_region_info(const void *p, size_t len, unsigned nfds,
                          struct vfu_region_info *ri);

/* DEVICE_GET_REGION_IO_FDS: len 16, argsz >= 16, flags = count = 0, no
 * fds. */
int vfu_check_io_fds(const void *p, size_t len, unsigned nfds,
                     struct vfu_io_fds *q);

/* DEVICE_GET_IRQ_INFO: len 16, argsz >= 16, no fds. */
int vfu_check_irq_info(const void *p, size_t len, unsigned nfds,
                       struct vfu_irq_info *ii);

/*
 * DEVICE_SET_IRQS, with VFIO's validation (vfio_set_irqs_validate_and_
 * prepare) against the device's per-index counts (counts[nidx]): len and
 * argsz >= 20; index < nidx; no undefined flag; count < U32_MAX - start;
 * start < counts[index] and start + count <= counts[index]; exactly one
 * DATA type; then the data: NONE has none and no fds; BOOL has count bytes
 * and no fds; EVENTFD has nfds == count or 0, or the s32 index array
 * described at the top (each fd used once, every fd used).  All -EINVAL.
 * The action is not checked here: that is the device's (-ENOTTY).  *data
 * points at the BOOL bytes or the s32 array (NULL if none).
 */
int vfu_check_irq_set(const void *p, size_t len, unsigned nfds,
                      const uint32_t *counts, uint32_t nidx,
                      struct vfu_irq_set *is, const uint8_t **data);

/* The descriptor index for sub-index i (0 <= i < count) of a checked
 * EVENTFD SET_IRQS: -1 de-assigns. */
int vfu_irq_set_fd_index(const struct vfu_irq_set *is, const uint8_t *data,
                         unsigned nfds, uint32_t i);

/* REGION_READ (len 16) or REGION_WRITE (len 16 + count) request; count <=
 * max_xfer (-EMSGSIZE); offset + count not wrapping (-EOVERFLOW); no fds.
 * *data points at a write's bytes. */
int vfu_check_region_access(uint16_t cmd, const void *p, size_t len,
                            unsigned nfds, uint32_t max_xfer,
                            struct vfu_region_access *ra, const uint8_t **data);

/* REGION_WRITE_MULTI: len 8 + 24 * wr_cnt, 1 <= wr_cnt <=
 * VFU_WRITE_MULTI_MAX, each count 1..8, offsets not wrapping, no fds.
 * *entries points at the first entry (unaligned: memcpy each). */
int vfu_check_write_multi(const void *p, size_t len, unsigned nfds,
                          uint64_t *wr_cnt, const uint8_t **entries);

/* DEVICE_FEATURE: len and argsz >= 8, no flag above PROBE, GET and SET
 * together only with PROBE, no fds. */
int vfu_check_device_feature(const void *p, size_t len, unsigned nfds,
                             struct vfu_device_feature *f);

/* MIG_DATA_READ/WRITE: len >= 8, no fds (WRITE: len == 8 + size). */
int vfu_check_mig_data(uint16_t cmd, const void *p, size_t len, unsigned nfds,
                       struct vfu_mig_data *m);

/* DEVICE_RESET: no payload, no fds. */
int vfu_check_device_reset(size_t len, unsigned nfds);

/* PV_ADD_CLIENT: len 8, both fields 0, exactly one fd. */
int vfu_check_pv_add_client(const void *p, size_t len, unsigned nfds);

/* DMA_READ (len 16) or DMA_WRITE (len 16 + count) request, as the client
 * receives it; count <= max_xfer (-EMSGSIZE), not 0; addr + count not
 * wrapping (-EOVERFLOW); no fds.  *data points at a write's bytes. */
int vfu_check_dma_access(uint16_t cmd, const void *p, size_t len, unsigned nfds,
                         uint64_t max_xfer, struct vfu_dma_access *da,
                         const uint8_t **data);

/* ---- payload checks: replies (client side) ---- */

/* VERSION reply to a proposal (major, minor, proposed caps): same major,
 * minor <= the proposal's, sane caps; twin_socket supported only if
 * proposed, and then with fd_index < nfds; no fds otherwise.  -EINVAL:
 * the client must close the connection. */
int vfu_check_version_reply(const void *p, size_t len, unsigned nfds,
                            const struct vfu_version *proposed,
                            const struct vfu_caps *proposed_caps,
                            struct vfu_version *v, struct vfu_caps *caps);

/* DMA_UNMAP reply: the 24-byte echo. */
int vfu_check_dma_unmap_reply(const void *p, size_t len,
                              struct vfu_dma_unmap *u);

/* DEVICE_GET_INFO reply: len 16, argsz 16..., PCI, num_regions in
 * [VFIO_PCI_NUM_REGIONS, VFU_MAX_REGIONS], num_irqs <=
 * VFU_MAX_IRQ_INDEXES. */
int vfu_check_device_info_reply(const void *p, size_t len,
                                struct vfu_device_info *di);

/*
 * DEVICE_GET_REGION_INFO reply to a request for index with room argsz:
 * len >= 32 and <= argsz, the same index, no undefined flag.  With CAPS
 * and cap_offset 0 the caps did not fit (VFIO's answer: argsz, larger
 * than len, is the size to ask again with); with cap_offset set the chain
 * is walked: every header inside the payload and 4-aligned, offsets
 * increasing (so no cycle), at most VFU_MAX_CAPS; a SPARSE_MMAP cap's
 * areas fit the payload, number at most VFU_MAX_SPARSE_AREAS and lie
 * inside the region.  MMAP needs exactly one fd, none otherwise.  Up to
 * max_areas areas are copied to areas[], *nr_areas says how many the cap
 * held (0 without one).
 */
int vfu_check_region_info_reply(const void *p, size_t len, unsigned nfds,
                                uint32_t index, uint32_t argsz,
                                struct vfu_region_info *ri,
                                struct vfu_sparse_area *areas,
                                uint32_t max_areas, uint32_t *nr_areas);

/* DEVICE_GET_REGION_IO_FDS reply: the header, count <= VFU_MAX_IO_FDS,
 * all entries inside the payload with fd_index < nfds when they fit. */
int vfu_check_io_fds_reply(const void *p, size_t len, unsigned nfds,
                           uint32_t index, struct vfu_io_fds *q);

/* DEVICE_GET_IRQ_INFO reply: len 16, the same index, count <=
 * VFU_MAX_IRQ_COUNT, no undefined flag. */
int vfu_check_irq_info_reply(const void *p, size_t len, uint32_t index,
                             struct vfu_irq_info *ii);

/* REGION_READ reply (16 + count bytes) or REGION_WRITE reply (16 bytes)
 * echoing the request's offset, region and count. */
int vfu_check_region_access_reply(uint16_t cmd, const void *p, size_t len,
                                  const struct vfu_region_access *req);

/* DMA_READ reply (16 + count) or DMA_WRITE reply (12 or 16) echoing the
 * request's address and count. */
int vfu_check_dma_access_reply(uint16_t cmd, const void *p, size_t len,
                               const struct vfu_dma_access *req);

/* REGION_WRITE_MULTI reply: the u64 count, at most the request's. */
int vfu_check_write_multi_reply(const void *p, size_t len, uint64_t sent,
                                uint64_t *done);

/* ---- building replies ---- */

/*
 * A DEVICE_GET_REGION_INFO reply payload into buf (cap bytes): *ri (its
 * argsz, cap_offset and the CAPS flag are set here) followed, if any areas
 * and if the request's argsz leaves room, by a SPARSE_MMAP cap.  The reply
 * is cut to the request's argsz, its argsz says the full size.  Returns the
 * payload length or -ENOSPC.
 */
long vfu_region_info_build(void *buf, size_t cap, uint32_t req_argsz,
                           const struct vfu_region_info *ri,
                           const struct vfu_sparse_area *areas,
                           uint32_t nr_areas);

#endif
