/* SPDX-License-Identifier: MIT */
/*
 * proto.h - the procvisor wire protocol.
 *
 * Every connection to the hypervisor is an AF_UNIX SOCK_SEQPACKET socket, so
 * one message is one datagram and framing cannot be lost.  A message is a
 * fixed 16-byte header followed by exactly `len` payload bytes; the whole
 * datagram is at most PV_MSG_MAX bytes.  Requests carry a sequence number
 * that the reply echoes.  Descriptors travel as SCM_RIGHTS on the reply (or
 * on PV_MSG_ATTACH).  The first request on every connection must be
 * PV_MSG_HELLO; anything else before it closes the connection.
 *
 * docs/protocol.md is the prose description of this file.
 */
#ifndef PROCVISOR_PROTO_H
#define PROCVISOR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PV_PROTO_MAGIC   0x7076u /* "pv" */
#define PV_PROTO_VERSION 1u
#define PV_MSG_MAX       (64u * 1024u)

/* header.flags */
#define PV_F_REPLY 0x0001u
#define PV_F_NOREPLY                                                           \
    0x0002u /* a request whose reply the sender does not                       \
               want: only GNTDEV_UNMAP and GNTALLOC_FREE,                      \
               which cannot fail in a way it could act on */

struct pv_hdr {
    uint16_t magic;   /* PV_PROTO_MAGIC */
    uint16_t version; /* PV_PROTO_VERSION */
    uint16_t type;    /* enum pv_msg_type */
    uint16_t flags;   /* PV_F_* */
    uint32_t len;     /* payload bytes after this header */
    uint32_t seq;     /* echoed by the reply */
};
_Static_assert(sizeof(struct pv_hdr) == 16, "pv_hdr layout");

#define PV_PAYLOAD_MAX (PV_MSG_MAX - sizeof(struct pv_hdr))

enum pv_msg_type {
    /* any connection */
    PV_MSG_HELLO = 1,         /* -> pv_hello_rep */
    PV_MSG_HYPERCALL = 2,     /* pv_hcall_req -> pv_hcall_rep */
    PV_MSG_MAP = 3,           /* pv_map_req -> pv_rep + 1 fd */
    PV_MSG_ATTACH = 4,        /* token socket only: 1 fd, no reply */
    PV_MSG_EVTCHN_ATTACH = 5, /* pv_port_req -> pv_rep + pipe rd, wr, cell */
    PV_MSG_EVTCHN_PEER = 6,   /* pv_port_req -> pv_rep (ret = gen)
                                 [+ the peer's pipe wr, cell] */
    /* grant devices (docs/protocol.md, "Grants"); the connection that
     * sends them owns what they create, released when it closes */
    PV_MSG_GNTALLOC = 7,      /* pv_gntalloc_req -> pv_gntalloc_rep +
                                 u32 refs[count] + 1 fd (the pages) */
    PV_MSG_GNTALLOC_FREE = 8, /* pv_gntalloc_free_req -> pv_rep */
    PV_MSG_GNT_NOTIFY = 9,    /* pv_gnt_notify_req -> pv_rep */
    PV_MSG_GNTDEV_MAP = 10,   /* pv_gntmap_req + pv_gntref[count] ->
                                 pv_gntmap_rep + pv_gntmap_slot[count] +
                                 nfds fds */
    PV_MSG_GNTDEV_UNMAP = 11, /* pv_gntunmap_req + u32 handles[count] ->
                                 pv_rep */
    PV_MSG_GNTDEV_COPY = 12,  /* pv_gntcopy_req + pv_gntcopy_seg[count] +
                                 bytes -> pv_rep + s16 status[count]
                                 (padded to 8) + bytes */
    PV_MSG_XS_ATTACH = 13,    /* 1 fd (a SOCK_STREAM socket) -> pv_rep:
                                 a xenstore connection of the sender's
                                 domain (docs/protocol.md, "xenstore") */
    PV_MSG_VFIO = 14,         /* pv_vfio_req + bytes [+ fds] ->
                                 pv_vfio_rep + bytes [+ fds]: VFIO
                                 containers, groups and devices
                                 (docs/protocol.md, "VFIO") */

    /* control connection (dom0's socket) only */
    PV_MSG_CREATE = 16,   /* pv_create_req -> pv_rep (ret = domid) */
    PV_MSG_DESTROY = 17,  /* pv_domid_req -> pv_rep */
    PV_MSG_LIST = 18,     /* -> pv_rep + pv_dominfo[ret] */
    PV_MSG_CONSOLE = 19,  /* pv_domid_req -> pv_rep + text; domid
                             DOMID_XEN reads the hypervisor ring */
    PV_MSG_TOKEN = 20,    /* pv_domid_req -> pv_rep + 1 fd */
    PV_MSG_DOWN = 21,     /* -> pv_rep, then the daemon exits */
    PV_MSG_INPUT = 22,    /* text -> pv_rep: the hypervisor's serial input */
    PV_MSG_EVTCHN = 23,   /* pv_domid_req -> pv_rep + pv_evtchn_info[ret] */
    PV_MSG_GNTTAB = 24,   /* pv_domid_req -> pv_rep + pv_grant_info[ret] */
    PV_MSG_VFIO_CTL = 25, /* pv_vfio_ctl_req -> pv_rep + per op (below) */

    PV_MSG_TYPE_MAX = 32
};

/* Every reply payload starts with this. */
struct pv_rep {
    int64_t ret; /* >= 0 result, or -errno */
};

struct pv_hello_req {
    uint32_t version;
    uint32_t pad;
};

#define PV_HELLO_CONTROL 0x1u /* this connection is the control socket */

struct pv_hello_rep {
    int64_t ret;
    uint32_t domid;
    uint32_t version;
    uint32_t max_vcpus;
    uint32_t flags; /* PV_HELLO_* */
};

/*
 * A hypercall.  The client copies the argument memory the call reads (IN)
 * and names the memory it may write (OUT) as regions; the hypervisor reaches
 * guest memory only through these, like Xen's copy_{from,to}_guest.  An
 * address outside every region is -EFAULT.
 */
#define PV_REGION_IN   0x1u
#define PV_REGION_OUT  0x2u
#define PV_REGIONS_MAX 256u

struct pv_region {
    uint64_t addr;
    uint32_t len;
    uint32_t flags; /* PV_REGION_* */
};
_Static_assert(sizeof(struct pv_region) == 16, "pv_region layout");

struct pv_hcall_req {
    uint64_t op;
    uint64_t args[5];
    uint32_t vcpu;
    uint32_t nr_regions;
    /* struct pv_region[nr_regions], then the IN bytes of each region in
     * order */
};
_Static_assert(sizeof(struct pv_hcall_req) == 56, "pv_hcall_req layout");

struct pv_hcall_rep {
    int64_t ret;
    uint32_t nr_out;
    uint32_t pad;
    /* struct pv_region[nr_out] (flags 0), then the bytes of each */
};

enum pv_map_what {
    PV_MAP_SHARED_INFO = 1, /* read-write, one page */
    PV_MAP_START_INFO = 2,  /* read-only (sealed), one page */
    PV_MAP_EVTCHN_GEN = 3,  /* read-only (sealed): u8 generation per port */
    PV_MAP_GRANT_TABLE = 4, /* read-write: the grant table, max frames */
    /* + vcpu: a pipe (read end, non-blocking) the hypervisor writes on the
     * vCPU's upcalls (0 -> 1 edges of its evtchn_upcall_pending) */
    PV_MAP_VCPU_UPCALL = 0x100,
};

struct pv_map_req {
    uint32_t what;
    uint32_t pad;
};

/*
 * /dev/xen/evtchn: EVTCHN_ATTACH makes the caller's connection the owner of
 * one of its domain's bound ports and returns a wake-up pipe (daemon.h: struct
 * signal) the hypervisor signals on every new pending edge of the port (the
 * port closes when that connection does).  EVTCHN_PEER returns, for an
 * interdomain port, the peer port's pipe (write end) if it has one, so a send
 * can signal it directly, and the port's generation; the generation page
 * (PV_MAP_EVTCHN_GEN, one byte a port) says when that answer is out of date.
 */
struct pv_port_req {
    uint32_t port;
    uint32_t pad;
};

/*
 * The delivery state of a port taken by a device, in a page shared by the
 * port's owner, its interdomain peer and the hypervisor (EVTCHN_ATTACH and
 * EVTCHN_PEER return it with the pipe).  It is Xen's pending/mask pair
 * for one channel, so a send needs no hypervisor:
 *   sender:   if (!xchg(&pending, 1) && !masked) signal the pipe
 *   delivery: consume the pipe; masked = 1; if (xchg(&pending, 0)) deliver
 *   unmask:   masked = 0; if (pending) signal the pipe (yourself)
 * All with sequentially consistent atomics.  The pipe is readable only
 * for an event raised while unmasked and not yet consumed.
 */
struct pv_evtchn_cell {
    uint32_t pending;
    uint32_t masked;
};

/*
 * Grants.  gntalloc: GNTALLOC grants count fresh pages of the caller's
 * domain to one domain and returns their refs and one memfd holding them
 * (id names the allocation in FREE and NOTIFY).  gntdev: MAP maps up to
 * PV_GNTMAP_BATCH grants, all or none, and returns for each its handle and
 * where it lives: page pgoff of the descriptor in slot fd_idx of the
 * connection's descriptor cache.  The cache has PV_GNTMAP_BATCH slots,
 * empty at first; a reply carries only the descriptors it puts in the
 * cache, the n-th into slot fill[n] (replacing, and closing, what was
 * there), so an allocation mapped again costs no descriptor.  Each slot
 * says which memory (mem) the descriptor is; a client whose cache got out
 * of step empties it and says so (PV_GNTMAP_RESET) on its next MAP.
 */
#define PV_GNTMAP_BATCH  64u
#define PV_GNTCOPY_BYTES (48u * 1024u) /* data carried by one COPY */
#define PV_GNTCOPY_BATCH 128u
#define PV_GNTALLOC_MAX  16000u /* refs of one call fit a reply */

struct pv_gntalloc_req {
    uint16_t domid;
    uint16_t flags; /* GNTALLOC_FLAG_WRITABLE */
    uint32_t count;
};

struct pv_gntalloc_rep {
    int64_t ret;
    uint64_t id;
    /* u32 refs[count] */
};

struct pv_gntalloc_free_req {
    uint64_t id;
    uint32_t first;
    uint32_t count;
};

struct pv_gnt_notify_req {
    uint64_t id;     /* gntalloc: the allocation; 0: a gntdev handle */
    uint32_t target; /* the page in the allocation, or the handle */
    uint32_t off;    /* the byte in that page */
    uint32_t action; /* UNMAP_NOTIFY_* */
    uint32_t port;
};

struct pv_gntref {
    uint32_t domid;
    uint32_t ref;
};

#define PV_GNTMAP_READONLY 0x1u
#define PV_GNTMAP_RESET    0x2u /* the sender's descriptor cache is empty */

struct pv_gntmap_req {
    uint32_t count;
    uint32_t flags; /* PV_GNTMAP_* */
    /* struct pv_gntref refs[count] */
};

struct pv_gntmap_rep {
    int64_t ret;
    uint32_t nfds;
    uint32_t pad;
    uint16_t fill[PV_GNTMAP_BATCH]; /* the cache slot of each descriptor */
    /* struct pv_gntmap_slot[count] */
};

struct pv_gntmap_slot {
    int16_t status; /* GNTST_* */
    uint16_t fd_idx;
    uint32_t handle;
    uint32_t pgoff;
    uint32_t pad;
    uint64_t mem; /* which memory the cached descriptor must be */
};
_Static_assert(sizeof(struct pv_gntmap_slot) == 24, "pv_gntmap_slot layout");

struct pv_gntunmap_req {
    uint32_t count;
    uint32_t pad;
    /* u32 handles[count] */
};

struct pv_gntcopy_req {
    uint32_t count;
    uint32_t pad;
};

/* One copy: a side is a grant (1) or the sender's bytes (0); bytes to
 * copy from the sender follow the segments in order, bytes copied to it
 * come back in the reply in order. */
struct pv_gntcopy_seg {
    uint8_t src_gref, dst_gref;
    uint16_t len;
    uint16_t src_off, dst_off;
    uint16_t src_dom, dst_dom;
    uint32_t src_ref, dst_ref;
};
_Static_assert(sizeof(struct pv_gntcopy_seg) == 20, "pv_gntcopy_seg layout");

/* One grant-table entry in use, for `procvisor gnttab`. */
struct pv_grant_info {
    uint32_t ref;
    uint16_t flags; /* GTF_* as the entry holds them */
    uint16_t domid; /* the grantee */
    uint32_t frame;
    uint16_t rd_pins, wr_pins;
    uint16_t mapper; /* the domain pinning it, DOMID_INVALID when none */
    uint16_t nmaps;  /* its mappings of this entry */
    uint32_t pad;
};
_Static_assert(sizeof(struct pv_grant_info) == 24, "pv_grant_info layout");

struct pv_domid_req {
    uint32_t domid;
    uint32_t pad;
};

#define PV_NAME_MAX 64

struct pv_create_req {
    char name[PV_NAME_MAX]; /* NUL-terminated */
    uint64_t memory_kib;
    uint32_t max_grant_frames;
    uint32_t max_maptrack;
    uint32_t max_evtchn;
    uint32_t max_vcpus;
    uint32_t flags; /* PV_CREATE_* */
    uint32_t pad;
};

#define PV_CREATE_IS_CONSOLE 0x1u /* may read the console, like is_console */
#define PV_CREATE_PV         0x2u /* a PV guest (default: PVH, translated) */

enum pv_dom_state {
    PV_DOM_CREATED = 0, /* no process has attached yet */
    PV_DOM_RUNNING = 1,
    PV_DOM_SHUTDOWN = 2, /* latched a shutdown code, processes may remain */
    PV_DOM_DYING = 3,    /* being torn down */
    PV_DOM_DEAD = 4,     /* gone; the record is kept for `list` */
};

/* why a domain stopped, beyond Xen's SHUTDOWN_* codes 0..255 */
#define PV_REASON_NONE      (-1)
#define PV_REASON_EXITED    (-2) /* its last process went away */
#define PV_REASON_DESTROYED (-3) /* dom0 destroyed it */

struct pv_dominfo {
    uint32_t domid;
    uint32_t state; /* enum pv_dom_state */
    int32_t reason; /* SHUTDOWN_* or PV_REASON_* */
    uint32_t nr_conns;
    uint64_t tot_pages;
    uint64_t max_pages;
    uint32_t max_grant_frames;
    uint32_t max_maptrack;
    uint32_t max_evtchn;
    uint32_t max_vcpus;
    uint64_t created_ns; /* hypervisor system time */
    uint64_t cpu_hypercalls;
    uint64_t shinfo_gpfn; /* ~0 when not placed */
    uint64_t timer_virqs; /* VIRQ_TIMER raised so far */
    uint32_t flags;       /* PV_CREATE_* */
    uint32_t pad;
    char name[PV_NAME_MAX];
};
_Static_assert(sizeof(struct pv_dominfo) == 152, "pv_dominfo layout");

/* One event channel port, for `procvisor evtchn` (ports in use only). */
struct pv_evtchn_info {
    uint32_t port;
    uint8_t state; /* ECS_*: unbound 2, interdomain 3, virq 5, ipi 6 */
    uint8_t vcpu;
    uint16_t remote_dom;
    uint32_t remote_port; /* interdomain: the peer's port; virq: the VIRQ */
    uint8_t pending;
    uint8_t masked;
    uint16_t pad;
};
_Static_assert(sizeof(struct pv_evtchn_info) == 16, "pv_evtchn_info layout");

/*
 * VFIO.  Each container, group and device the program opens is one
 * connection of its domain (the shim opens it with HELLO as usual); the
 * first PV_MSG_VFIO on it says what it is (OPEN_CONTAINER or OPEN_GROUP)
 * and it stays that until it closes, which is the close of the object.
 * IOCTL carries the program's ioctl untouched: the fd kind, the request
 * number, the int-valued argument, and the bytes of the argument structure
 * (argsz of them, at most PV_VFIO_ARG_MAX); the daemon decodes and checks
 * everything (src/vfio/args.c) and answers with the bytes to copy back.
 * Objects are named to each other by the cookie the daemon gave at open,
 * never by descriptor numbers: SET_CONTAINER carries the container's.
 */
#define PV_VFIO_ARG_MAX  (60u * 1024u)
#define PV_VFIO_NAME_MAX 32 /* "0000:00:1f.7" fits, NUL included */

enum pv_vfio_op {
    PV_VFIO_OPEN_CONTAINER = 1, /* -> cookie */
    PV_VFIO_OPEN_GROUP = 2,     /* arg = group number -> cookie */
    PV_VFIO_IOCTL = 3,          /* kind, request, arg, bytes [+ fds] */
    PV_VFIO_REGION_FD = 4,      /* device: arg = region index -> 1 fd
                                   [+ pv_vfio_mmap_area[]] */
    PV_VFIO_SYSFS = 5,          /* bytes = a PCI name -> pv_vfio_sysfs;
                                   no bytes -> ret = n,
                                   pv_vfio_sysfs_entry[n] */
};

enum pv_vfio_kind {
    PV_VFIO_CONTAINER = 1,
    PV_VFIO_GROUP = 2,
    PV_VFIO_DEVICE = 3,
};

/* MAP_DMA: the memory is the descriptor sent along, at byte offset `arg`
 * of it for vaddr (shared memory, handed to the device by descriptor);
 * without it the memory is the sender's anonymous memory at vaddr. */
#define PV_VFIO_F_FD 0x1u

struct pv_vfio_req {
    uint32_t op;      /* enum pv_vfio_op */
    uint32_t kind;    /* enum pv_vfio_kind (IOCTL) */
    uint64_t request; /* the ioctl request number (IOCTL) */
    uint64_t arg;     /* the ioctl's int argument, or per op */
    uint64_t cookie;  /* SET_CONTAINER: the container's */
    uint32_t flags;   /* PV_VFIO_F_* */
    uint32_t len;     /* bytes that follow */
};
_Static_assert(sizeof(struct pv_vfio_req) == 40, "pv_vfio_req layout");

struct pv_vfio_rep {
    int64_t ret;
    uint64_t cookie; /* OPEN_*: the object's */
    uint32_t len;    /* bytes that follow: to copy back to the argument */
    uint32_t pad;
};
_Static_assert(sizeof(struct pv_vfio_rep) == 24, "pv_vfio_rep layout");

/*
 * How the preload library fills an IOCTL (src/compat/vfio.c), by the
 * core's table (src/vfio/args.h, vfio_args_def() of the kind and the
 * request truncated to 32 bits, as the kernel's cmd):
 *  - unknown to the table, or NONE: arg = the raw argument, no bytes;
 *  - VALUE (CHECK_EXTENSION, SET_IOMMU): arg = the raw argument;
 *  - INT (SET_CONTAINER): arg = the int the pointer points to, cookie =
 *    that descriptor's container cookie, or 0 when it is an open
 *    descriptor but no container (the daemon answers -EBADFD after its
 *    own checks, as Linux does; a closed descriptor is -EBADF before
 *    sending);
 *  - STRING (GET_DEVICE_FD): bytes = the name without its NUL (< 4096);
 *  - ARGSZ: bytes = what the kernel copies in: minsz, then
 *    vfio_args_in_len() in all (SET_IRQS' data when argsz covers it), at
 *    most PV_VFIO_ARG_MAX; fewer when the caller's memory ends first, for
 *    the decoder's -EFAULT where copy_from_user has one;
 *  - MAP_DMA: with PV_VFIO_F_FD, one descriptor of the file whose shared
 *    mapping holds all of [vaddr, vaddr + size), and arg = the file
 *    offset of vaddr; otherwise arg = 0 and no descriptor;
 *  - SET_IRQS with DATA_EVENTFD: the non-negative entries of data[]
 *    (at most count, as far as the bytes go), in order, as descriptors
 *    (at most PV_FDS_MAX; negative entries are not sent); IOEVENTFD: its
 *    fd when non-negative.
 * The reply's bytes are copied back to the argument, whatever ret is, at
 * most argsz of them (an unreadable or unwritable argument is -EFAULT).
 * Descriptors coming back with any IOCTL but GET_DEVICE_FD are closed.
 */

/* GET_DEVICE_FD answers with two descriptors: the device's own socket to
 * its device model (region reads and writes go there directly, as
 * vfio-user REGION_READ/WRITE) and a connection of the domain that is
 * that device's (its ioctls and REGION_FD go there; the library says
 * HELLO on it first).  Its bytes, if any, are this (not copied back): */
struct pv_vfio_device_fd {
    uint32_t max_data_xfer_size; /* the device model's; 0: 1 MiB */
    uint32_t flags;              /* 0 */
};

/* REGION_FD: the parts of the region that may be mapped, byte X of the
 * region being byte X of the descriptor (no areas: all of it). */
struct pv_vfio_mmap_area {
    uint64_t offset;
    uint64_t size;
};

/* What /sys/bus/pci/devices/<name>/ shows of a device the domain holds. */
struct pv_vfio_sysfs {
    uint32_t group;
    uint16_t vendor, device;
    uint16_t subsystem_vendor, subsystem_device;
    uint32_t class_code; /* 24 bits */
    uint32_t pad;
};
_Static_assert(sizeof(struct pv_vfio_sysfs) == 20, "pv_vfio_sysfs layout");

/* SYSFS without a name: every device the domain may see. */
struct pv_vfio_sysfs_entry {
    char name[PV_VFIO_NAME_MAX]; /* NUL-terminated */
    struct pv_vfio_sysfs info;
};
_Static_assert(sizeof(struct pv_vfio_sysfs_entry) == 52,
               "pv_vfio_sysfs_entry layout");

/* dom0's VFIO administration (`procvisor vfio ...`, `procvisor device`). */
enum pv_vfio_ctl_op {
    PV_VFIO_CTL_DEVICE_ADD = 1, /* type, options, group -> ret = group +
                                   char name[PV_VFIO_NAME_MAX] */
    PV_VFIO_CTL_DEVICE_DEL = 2, /* name */
    PV_VFIO_CTL_LIST = 3,       /* -> pv_vfio_devinfo[ret] */
    PV_VFIO_CTL_ASSIGN = 4,     /* group, domid */
    PV_VFIO_CTL_RELEASE = 5,    /* group */
    PV_VFIO_CTL_FAULTS = 6,     /* -> pv_vfio_fault[ret] */
};

#define PV_VFIO_OPTS_MAX 256

struct pv_vfio_ctl_req {
    uint32_t op;
    uint32_t group; /* 0: a new group (DEVICE_ADD) */
    uint32_t domid;
    int32_t pid; /* DEVICE_ADD: the device model's, 0: the socket's peer */
    char type[PV_VFIO_NAME_MAX];    /* DEVICE_ADD: edu, mtty, ... */
    char name[PV_VFIO_NAME_MAX];    /* DEVICE_DEL; DEVICE_ADD: "" = next */
    char options[PV_VFIO_OPTS_MAX]; /* DEVICE_ADD: the model's arguments */
};

#define PV_VFIO_DEV_DEAD 0x1u /* its device model is gone */

struct pv_vfio_devinfo {
    char name[PV_VFIO_NAME_MAX];
    char type[PV_VFIO_NAME_MAX];
    uint32_t group;
    uint32_t domid; /* DOMID_INVALID: not assigned */
    uint32_t flags; /* PV_VFIO_DEV_* */
    int32_t pid;    /* the device model's */
    uint16_t vendor, device;
    uint32_t opens; /* device descriptors open */
    uint64_t faults;
};

struct pv_vfio_fault {
    uint64_t time_ns;
    uint64_t iova;
    uint64_t len;
    char name[PV_VFIO_NAME_MAX];
    uint32_t domid;
    uint32_t flags; /* 1: write to memory */
    int32_t reason; /* -errno */
    uint32_t pad;
};

/*
 * Validate a received datagram's header.  Returns 0 and fills *hdr, or
 * -EPROTO (bad magic/version/length) / -EMSGSIZE.
 */
int pv_hdr_check(const void *buf, size_t n, struct pv_hdr *hdr);

/* Fill a header. */
void pv_hdr_init(struct pv_hdr *hdr, uint16_t type, uint16_t flags,
                 uint32_t len, uint32_t seq);

#endif
