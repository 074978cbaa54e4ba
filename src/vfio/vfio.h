/* SPDX-License-Identifier: MIT */
/*
 * vfio.h - VFIO's object model as a pure data structure: devices (PCI
 * functions served by device-model processes), IOMMU groups, containers
 * with their emulated type1 IOMMU, the files a domain's processes hold on
 * them, the interrupt state vfio-pci keeps per device, DMA through the
 * IOMMU with a log of refused DMAs, and vfio_ioctl(), which takes an ioctl
 * as bytes (args.h) through the model to the bytes of its reply.
 *
 * The rules are those of Linux's VFIO (drivers/vfio/group.c, container.c,
 * vfio_iommu_type1.c, pci/vfio_pci_core.c, pci/vfio_pci_intrs.c); where
 * procvisor differs, docs/vfio.md says how and why.  In short:
 *   - a group is assigned whole to one domain by dom0 (assign/release); only
 *     processes of that domain can open it (-ENOENT for anyone else, as if
 *     its /dev/vfio node did not exist in their namespace), once at a time
 *     (-EBUSY);
 *   - a group is viable for its domain when every one of its devices was
 *     assigned with it; a device a device model adds to an assigned group
 *     stays unassigned (the group not viable, SET_CONTAINER -EPERM) until
 *     dom0 assigns the group again;
 *   - devices' DMA is the CPU-mediated kind (the kernel's "emulated IOMMU"
 *     groups): what a device may reach is exactly its container's mappings.
 *
 * Files: a container is one open of /dev/vfio/vfio; a group has at most one
 * open; a device file is one GET_DEVICE_FD.  Each records the opaque opener
 * (the daemon's connection, say) and its domain, so vfio_opener_close() and
 * vfio_domain_destroy() can drop everything a process or a domain held, in
 * the kernel's order: device files, then groups (detaching them from their
 * container, which loses its IOMMU and mappings with its last group), then
 * containers.  As in the kernel, a closed group fd stays open while device
 * files of it are, and a closed container stays alive (mappings included)
 * while groups are attached to it.
 *
 * Nothing here does I/O, starts threads or keeps global state; the caller
 * serializes calls on one struct vfio.  Functions returning int return 0
 * or a negative errno.
 */
#ifndef PROCVISOR_VFIO_VFIO_H
#define PROCVISOR_VFIO_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "iommu.h"

#define VFIO_DOMID_NONE UINT32_MAX
/* "dddd:bb:dd.f" and its NUL */
#define VFIO_DEVNAME_MAX 13u

struct vfio_config {
    struct iommu_config iommu; /* every container's IOMMU */
    uint32_t fault_ring;       /* DMA faults kept (>= 1); default 256 */
    uint32_t max_groups;       /* default 256 */
    uint32_t max_devices;      /* default 1024 */
    uint32_t max_containers;   /* open containers per domain; default 64 */
    uint32_t max_device_opens; /* files per device; default 64 */
};

void vfio_config_default(struct vfio_config *cfg);

struct vfio;
struct vfio_device;
struct vfio_group;
struct vfio_container;
struct vfio_device_file;

/* What the model asks of its embedder; members may be NULL.  Callbacks run
 * in the middle of a model operation: they must not call into the model. */
struct vfio_ops {
    /*
     * A mapping left container c's IOMMU: UNMAP_DMA, UNMAP_ALL, or the
     * teardown when c lost its last group or was freed.  Release what its
     * cookie stands for; tell the device models.
     */
    void (*dma_unmapped)(void *opaque, struct vfio_container *c,
                         const struct iommu_mapping *m);
};

/* cfg NULL: vfio_config_default().  -EINVAL for a bad configuration. */
int vfio_new(struct vfio **out, const struct vfio_config *cfg,
             const struct vfio_ops *ops, void *opaque);
/*
 * Frees everything (files, containers and their mappings, groups,
 * devices; dma_unmapped is not called).  Returns how many allocations were
 * not freed: anything but 0 is a leak.
 */
size_t vfio_free(struct vfio *v);
/* The model's invariants (links, counts, each IOMMU's): 0 or -EIO. */
int vfio_check(const struct vfio *v);

/* ---- devices and groups: dom0 and device models ---- */

/*
 * A device model's PCI function: name is its BDF in the kernel's form
 * "dddd:bb:dd.f" (lowercase hex), the group is created on first use,
 * handle is the caller's.  -EINVAL: bad name, group id or description
 * (vfio_device_desc_check); -EEXIST: name taken; -ENOSPC: limits.
 */
int vfio_device_add(struct vfio *v, const char *name, uint32_t group_id,
                    uint64_t handle, const struct vfio_device_desc *desc,
                    struct vfio_device **out);
/*
 * The device model died: from now on the device's files answer -ENODEV to
 * whatever needs the device model (SET_IRQS, RESET, and for the daemon:
 * region access, mmap), keep answering the info requests from the cached
 * description, and GET_DEVICE_FD no longer finds it.  This is vfio-pci
 * after a surprise removal (a config access on a disconnected function is
 * PCIBIOS_DEVICE_NOT_FOUND, -ENODEV).  The daemon should also signal the
 * device's REQ eventfd, as vfio-pci does to ask the user to let go.
 */
void vfio_device_set_dead(struct vfio_device *d);
/*
 * Removes the device: at once if no file is open on it, otherwise it is
 * marked dead and goes when its last file closes (the kernel's unregister
 * waits for the user the same way).
 */
void vfio_device_remove(struct vfio_device *d);
/* A device by name (not one being removed), or NULL. */
struct vfio_device *vfio_device_find(const struct vfio *v, const char *name);
const char *vfio_device_name(const struct vfio_device *d);
uint64_t vfio_device_handle(const struct vfio_device *d);
struct vfio_group *vfio_device_group(const struct vfio_device *d);
const struct vfio_device_desc *vfio_device_desc(const struct vfio_device *d);
bool vfio_device_is_dead(const struct vfio_device *d);
uint32_t vfio_device_opens(const struct vfio_device *d);
/* The domain the device was assigned to with its group, or
 * VFIO_DOMID_NONE (a device added to an assigned group, until dom0
 * assigns the group again). */
uint32_t vfio_device_domid(const struct vfio_device *d);

/*
 * dom0's assign GROUP DOMAIN: the group and every device in it become the
 * domain's.  Again for the same domain re-assigns devices added since (also
 * while open).  -ENOENT: no such group; -EINVAL: domid NONE; -EBUSY:
 * assigned to another domain (release it first; an open group is always
 * its own domain's).
 */
int vfio_group_assign(struct vfio *v, uint32_t group_id, uint32_t domid);
/* release GROUP: -ENOENT, -EINVAL (not assigned), -EBUSY (open). */
int vfio_group_release(struct vfio *v, uint32_t group_id);
/* Forgets an empty group: -ENOENT, -EBUSY (devices, or open). */
int vfio_group_delete(struct vfio *v, uint32_t group_id);
struct vfio_group *vfio_group_find(const struct vfio *v, uint32_t id);
/* The container the group is in, or NULL. */
struct vfio_container *vfio_group_container(const struct vfio_group *g);
/* The groups' ids in ascending order: how many there are (may exceed max) */
size_t vfio_group_ids(const struct vfio *v, uint32_t *ids, size_t max);
/* The group's i-th device (in order of addition), or NULL. */
struct vfio_device *vfio_group_device(const struct vfio_group *g, size_t i);

struct vfio_group_info {
    uint32_t id;
    uint32_t domid; /* assigned to, or VFIO_DOMID_NONE */
    uint32_t ndevices;
    bool viable;        /* for its domain */
    bool open;          /* a group file exists */
    bool fd_open;       /* ...and is not only held by device files */
    uint64_t opener;    /* who opened it, if open */
    uint32_t dev_opens; /* device files */
    bool container_set;
    bool iommu_set; /* its container has an IOMMU */
};
void vfio_group_get_info(const struct vfio_group *g,
                         struct vfio_group_info *out);

/* ---- the files of a domain's processes ---- */

/* open("/dev/vfio/vfio"): -EMFILE past max_containers for the domain. */
int vfio_container_open(struct vfio *v, uint32_t domid, uint64_t opener,
                        struct vfio_container **out);
void vfio_container_close(struct vfio_container *c);
/*
 * open("/dev/vfio/$GROUP") by a process of domid: -ENOENT if there is no
 * such group or it is not assigned to domid; -ENODEV if it has no device
 * (the kernel's group without drivers); -EBUSY if open already.
 */
int vfio_group_open(struct vfio *v, uint32_t group_id, uint32_t domid,
                    uint64_t opener, struct vfio_group **out);
void vfio_group_close(struct vfio_group *g);
void vfio_device_close(struct vfio_device_file *f);
struct vfio_device *vfio_device_file_device(const struct vfio_device_file *f);

/* Everything opener holds, closed in the kernel's order. */
void vfio_opener_close(struct vfio *v, uint64_t opener);
/* A domain died: its files closed, its groups unassigned (back to dom0, as
 * Xen de-assigns a dying domain's PCI devices). */
void vfio_domain_destroy(struct vfio *v, uint32_t domid);

/* ---- the operations behind the ioctls ---- */

/* VFIO_GROUP_GET_STATUS's flags */
uint32_t vfio_group_status(const struct vfio_group *g);
/*
 * VFIO_GROUP_SET_CONTAINER with c the container behind the descriptor
 * (NULL: the descriptor is not a container).  -EINVAL: already in one;
 * -EBADFD: c is NULL or another domain's; -EPERM: not viable.  A container
 * may hold several groups; one that joins after SET_IOMMU shares the IOMMU
 * and its mappings.
 */
int vfio_group_set_container(struct vfio_group *g, struct vfio_container *c);
/* -EINVAL: no container; -EBUSY: device files open.  The container loses
 * its IOMMU and every mapping with its last group. */
int vfio_group_unset_container(struct vfio_group *g);
/*
 * VFIO_GROUP_GET_DEVICE_FD: the device called name (vfio-pci's match:
 * the BDF, optionally followed by spaces; any option after them, a
 * vf_token included, is -EINVAL since no device here is a PF or VF).
 * -ENODEV: no such live device in the group assigned to its domain;
 * -EINVAL: no container, or its IOMMU is not set; -EMFILE:
 * max_device_opens.
 */
int vfio_group_get_device(struct vfio_group *g, const char *name,
                          uint64_t opener, struct vfio_device_file **out);

/* VFIO_CHECK_EXTENSION: 1 or 0. */
long vfio_container_check_extension(const struct vfio_container *c,
                                    uint64_t ext);
/* VFIO_SET_IOMMU: -EINVAL without groups or once set (and for
 * VFIO_UNMAP_ALL, as type1's open refuses it); -ENODEV for types no
 * backend offers.  TYPE1 gives v1 unmap semantics, TYPE1v2 v2. */
int vfio_container_set_iommu(struct vfio_container *c, uint64_t type);
/* The container's IOMMU, NULL until SET_IOMMU. */
struct iommu *vfio_container_iommu(const struct vfio_container *c);
uint32_t vfio_container_domid(const struct vfio_container *c);
/* UNMAP_DMA through the container: dma_unmapped sees each mapping. */
int vfio_container_unmap(struct vfio_container *c, uint64_t iova, uint64_t size,
                         uint32_t flags, uint64_t *unmapped);

/*
 * vfio-pci's interrupt state of a device (vfio_pci_intrs.c): at most one of
 * INTx, MSI, MSI-X enabled; per-vector eventfd bindings; INTx masking; the
 * ERR and REQ eventfds.  MSI-X is not dynamic (reported NORESIZE).
 */
enum vfio_irq_effect_op {
    VFIO_IRQ_EFFECT_NONE = 0,
    VFIO_IRQ_EFFECT_ENABLE,    /* enable index with count vectors, then
                                  bind the request's eventfds */
    VFIO_IRQ_EFFECT_SET_FDS,   /* (re)bind [start, start + count) from the
                                  request's eventfds; < 0 unbinds */
    VFIO_IRQ_EFFECT_DISABLE,   /* tear the index down (ERR/REQ: drop the
                                  eventfd) */
    VFIO_IRQ_EFFECT_LOOPBACK,  /* signal the bound vectors of [start, start
                                  + count) whose vfio_irqs_bool() is true */
    VFIO_IRQ_EFFECT_MASK,      /* INTx masked */
    VFIO_IRQ_EFFECT_UNMASK,    /* INTx unmasked */
    VFIO_IRQ_EFFECT_UNMASK_FD, /* INTx unmask eventfd: entry 0 (< 0: off) */
    VFIO_IRQ_EFFECT_ERR_FD,    /* ERR/REQ eventfd: entry 0 (>= 0 binds,
                                  -1 unbinds) */
};

struct vfio_irqs_effect {
    uint32_t op;                  /* enum vfio_irq_effect_op */
    uint32_t index, start, count; /* the request's */
    uint32_t nvec;                /* ENABLE: vectors to enable */
};

/*
 * Applies a decoded SET_IRQS to f's device the way vfio-pci's handlers do
 * (-EINVAL / -ENOTTY from their state checks; -ENODEV for a dead device)
 * and says what the daemon must do with the device model and eventfds.
 */
int vfio_device_set_irqs(struct vfio_device_file *f,
                         const struct vfio_irqs_req *r,
                         struct vfio_irqs_effect *eff);

struct vfio_irq_state {
    uint32_t mode;  /* 0 none, else VFIO_PCI_*_IRQ_INDEX + 1 */
    uint32_t nvec;  /* vectors enabled */
    uint32_t bound; /* vectors with an eventfd */
    bool intx_masked, intx_unmask_fd, err_fd, req_fd;
};
void vfio_device_irq_state(const struct vfio_device *d,
                           struct vfio_irq_state *out);
/* Whether vector i of the enabled index has an eventfd. */
bool vfio_device_irq_bound(const struct vfio_device *d, uint32_t i);

/* ---- ioctls as bytes ---- */

struct vfio_ioctl_env {
    /*
     * GROUP_SET_CONTAINER: the container behind the caller's descriptor
     * fd: -EBADF if fd is not an open descriptor of the caller; 0 with
     * *out NULL if it is one but not a container (-EBADFD follows).
     */
    int (*container_of_fd)(void *opaque, int32_t fd,
                           struct vfio_container **out);
    void *opaque;
    uint64_t opener;     /* GET_DEVICE_FD: the new file's owner */
    uint64_t map_cookie; /* MAP_DMA: the new mapping's cookie */
};

struct vfio_reply {
    uint8_t out[VFIO_ARGS_OUT_MAX]; /* bytes to copy back over the arg */
    size_t outlen;
    struct vfio_req req;            /* the decoded request */
    struct vfio_device_file *dev;   /* GET_DEVICE_FD: install a fd for it */
    bool forward;                   /* SET_IRQS, RESET: carry it out with the
                                       device model, then answer */
    struct vfio_irqs_effect effect; /* SET_IRQS */
};

/*
 * One ioctl on a file: file is the struct vfio_container, vfio_group
 * (opened) or vfio_device_file that the descriptor stands for; in/inlen
 * what the shim copied (args.h).  Returns the ioctl's value (>= 0) or a
 * negative errno, as the kernel would; rep says what goes back.
 */
long vfio_ioctl(struct vfio *v, enum vfio_kind kind, void *file, uint32_t req,
                const void *in, size_t inlen, const struct vfio_ioctl_env *env,
                struct vfio_reply *rep);

/* ---- device DMA and the fault log ---- */

struct vfio_fault {
    uint64_t seq;  /* 1, 2, ... */
    uint64_t time; /* the caller's clock, as given */
    uint32_t group_id;
    uint32_t domid;  /* the group's domain then, VFIO_DOMID_NONE */
    uint64_t handle; /* the device's */
    char device[VFIO_DEVNAME_MAX];
    uint64_t iova, len; /* the DMA */
    uint64_t at;        /* the first IOVA refused */
    bool write;         /* the device wrote memory */
    uint32_t reason;    /* enum iommu_fault_reason */
};

struct vfio_device_stats {
    uint64_t dma;    /* DMAs translated */
    uint64_t faults; /* DMAs refused */
    uint64_t by_reason[IOMMU_FAULT_NO_IOMMU + 1];
};

/*
 * A DMA by device d: [iova, iova + len), a write into memory if write.
 * Translated through the IOMMU of the container d's group is in; refused
 * (-EFAULT, logged with now) when that is none, or a byte is unmapped or
 * not allowed.  -E2BIG (not logged) when more than max segments.
 */
int vfio_dma(struct vfio *v, struct vfio_device *d, uint64_t iova, uint64_t len,
             bool write, uint64_t now, struct iommu_seg *segs, size_t max,
             size_t *nsegs);
/* The logged faults with seq > after, oldest first: how many were copied. */
size_t vfio_faults(const struct vfio *v, uint64_t after, struct vfio_fault *out,
                   size_t max);
/* Faults ever logged, and how many of them the ring no longer holds. */
uint64_t vfio_faults_total(const struct vfio *v);
uint64_t vfio_faults_lost(const struct vfio *v);
void vfio_device_stats(const struct vfio_device *d,
                       struct vfio_device_stats *out);
const char *vfio_fault_reason_name(uint32_t reason);

#endif
