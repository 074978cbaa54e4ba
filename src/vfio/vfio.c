/* SPDX-License-Identifier: MIT */
/*
 * vfio.c - devices, groups, containers and their files; vfio-pci's
 * interrupt state; DMA through a container's IOMMU and the fault log.
 *
 * Where each rule comes from (Linux 6.18):
 *   group open, GET_STATUS, SET/UNSET_CONTAINER, GET_DEVICE_FD, release
 *                           drivers/vfio/group.c
 *   SET_IOMMU, CHECK_EXTENSION, attach/detach, the last group's teardown
 *                           drivers/vfio/container.c,
 *                           vfio_iommu_type1.c vfio_iommu_type1_{open,
 *                           check_extension,detach_group}
 *   viability (SET_CONTAINER -EPERM)
 *                           drivers/iommu/iommu.c iommu_group_claim_dma_owner
 *   device names            drivers/vfio/pci/vfio_pci_core.c
 *                           vfio_pci_core_match, vfio_pci_validate_vf_token
 *   interrupts              drivers/vfio/pci/vfio_pci_intrs.c
 *                           vfio_pci_set_{intx_mask,intx_unmask,
 *                           intx_trigger,msi_trigger,ctx_trigger_single}
 *
 * Lists are short (groups and devices are dom0's, containers and files
 * bounded per domain), so they are plain linked lists.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfio.h"

#define MODE_NONE 0u
#define MODE(i)   ((i) + 1u) /* VFIO_PCI_*_IRQ_INDEX enabled */

struct irqs {
    uint32_t mode, nvec;
    uint64_t bound[VFIO_PCI_MSIX_MAX / 64];
    bool intx_masked, intx_unmask_fd, err_fd, req_fd;
};

struct vfio_device {
    struct vfio *v;
    struct vfio_device *next; /* in its group, in order of addition */
    struct vfio_group *group;
    char name[VFIO_DEVNAME_MAX];
    uint64_t handle;
    uint32_t domid; /* assigned with its group, or VFIO_DOMID_NONE */
    bool dead;
    bool removed; /* vfio_device_remove() with files open: freed at the last
                     close */
    uint32_t opens;
    struct vfio_device_desc desc;
    struct irqs irq;
    struct vfio_device_stats stats;
};

struct vfio_group {
    struct vfio *v;
    struct vfio_group *next; /* sorted by id */
    uint32_t id;
    uint32_t domid; /* assigned to */
    struct vfio_device *devices;
    uint32_t ndevices;
    /* the group file: open while its fd is or device files are */
    bool open, fd_open;
    uint64_t opener;
    uint32_t open_domid;
    uint32_t dev_opens;
    struct vfio_container *container;
    struct vfio_group *cnext; /* in the container */
};

struct vfio_container {
    struct vfio *v;
    struct vfio_container *next;
    uint32_t domid;
    uint64_t opener;
    bool fd_open;
    struct vfio_group *groups;
    uint32_t ngroups;
    struct iommu *iommu; /* NULL until SET_IOMMU */
    uint64_t type;
};

struct vfio_device_file {
    struct vfio *v;
    struct vfio_device_file *next;
    struct vfio_device *dev;
    uint64_t opener;
    uint32_t domid;
};

struct vfio {
    struct vfio_config cfg;
    struct vfio_ops ops;
    void *opaque;
    size_t nalloc;      /* live allocations: the leak check */
    size_t iommu_leaks; /* what freed IOMMUs reported */
    struct vfio_group *groups;
    uint32_t ngroups, ndevices;
    struct vfio_container *containers;
    struct vfio_device_file *files;
    struct vfio_fault *ring;
    uint64_t nfaults;
};

/* ---- allocation ---- */

static void *vz(struct vfio *v, size_t size)
{
    void *p = calloc(1, size);

    if (p) {
        v->nalloc++;
    }
    return p;
}

static void vf(struct vfio *v, void *p)
{
    if (p) {
        v->nalloc--;
        free(p);
    }
}

/* ---- configuration ---- */

void vfio_config_default(struct vfio_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    iommu_config_default(&cfg->iommu);
    cfg->fault_ring = 256;
    cfg->max_groups = 256;
    cfg->max_devices = 1024;
    cfg->max_containers = 64;
    cfg->max_device_opens = 64;
}

int vfio_new(struct vfio **out, const struct vfio_config *cfg,
             const struct vfio_ops *ops, void *opaque)
{
    struct vfio_config def;
    struct vfio *v;

    if (!cfg) {
        vfio_config_default(&def);
        cfg = &def;
    }
    if (iommu_config_check(&cfg->iommu) || !cfg->fault_ring ||
        cfg->fault_ring > (1u << 20)) {
        return -EINVAL;
    }
    v = calloc(1, sizeof(*v));
    if (!v) {
        return -ENOMEM;
    }
    v->nalloc = 1;
    v->cfg = *cfg;
    if (ops) {
        v->ops = *ops;
    }
    v->opaque = opaque;
    v->ring = vz(v, cfg->fault_ring * sizeof(*v->ring));
    if (!v->ring) {
        free(v);
        return -ENOMEM;
    }
    *out = v;
    return 0;
}

static void free_iommu(struct vfio *v, struct vfio_container *c, bool notify);

size_t vfio_free(struct vfio *v)
{
    size_t left;

    if (!v) {
        return 0;
    }
    while (v->files) {
        struct vfio_device_file *f = v->files;

        v->files = f->next;
        vf(v, f);
    }
    while (v->containers) {
        struct vfio_container *c = v->containers;

        v->containers = c->next;
        free_iommu(v, c, false);
        vf(v, c);
    }
    while (v->groups) {
        struct vfio_group *g = v->groups;

        v->groups = g->next;
        while (g->devices) {
            struct vfio_device *d = g->devices;

            g->devices = d->next;
            vf(v, d);
        }
        vf(v, g);
    }
    vf(v, v->ring);
    left = v->nalloc - 1 + v->iommu_leaks;
    free(v);
    return left;
}

/* ---- devices and groups ---- */

static bool hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* pci_name(): "%04x:%02x:%02x.%d", device <= 0x1f, function <= 7 */
static bool bdf_ok(const char *s)
{
    static const char shape[] = "xxxx:xx:xx.f";

    if (strlen(s) != sizeof(shape) - 1) {
        return false;
    }
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'x'   ? !hex(s[i])
            : shape[i] == 'f' ? !(s[i] >= '0' && s[i] <= '7')
                              : s[i] != shape[i]) {
            return false;
        }
    }
    return s[8] <= '1'; /* device number 00..1f */
}

uint32_t vfio_device_domid(const struct vfio_device *d)
{
    return d->domid;
}

struct vfio_container *vfio_group_container(const struct vfio_group *g)
{
    return g->container;
}

struct vfio_group *vfio_group_find(const struct vfio *v, uint32_t id)
{
    for (struct vfio_group *g = v->groups; g && g->id <= id; g = g->next) {
        if (g->id == id) {
            return g;
        }
    }
    return NULL;
}

static int group_get(struct vfio *v, uint32_t id, struct vfio_group **out)
{
    struct vfio_group **pp = &v->groups, *g;

    while (*pp && (*pp)->id < id) {
        pp = &(*pp)->next;
    }
    if (*pp && (*pp)->id == id) {
        *out = *pp;
        return 0;
    }
    if (v->ngroups >= v->cfg.max_groups) {
        return -ENOSPC;
    }
    g = vz(v, sizeof(*g));
    if (!g) {
        return -ENOMEM;
    }
    g->v = v;
    g->id = id;
    g->domid = VFIO_DOMID_NONE;
    g->open_domid = VFIO_DOMID_NONE;
    g->next = *pp;
    *pp = g;
    v->ngroups++;
    *out = g;
    return 0;
}

struct vfio_device *vfio_device_find(const struct vfio *v, const char *name)
{
    for (struct vfio_group *g = v->groups; g; g = g->next) {
        for (struct vfio_device *d = g->devices; d; d = d->next) {
            if (!d->removed && !strcmp(d->name, name)) {
                return d;
            }
        }
    }
    return NULL;
}

int vfio_device_add(struct vfio *v, const char *name, uint32_t group_id,
                    uint64_t handle, const struct vfio_device_desc *desc,
                    struct vfio_device **out)
{
    struct vfio_device *d, **pp;
    struct vfio_group *g;
    int rc;

    if (!bdf_ok(name) || vfio_device_desc_check(desc)) {
        return -EINVAL;
    }
    if (vfio_device_find(v, name)) {
        return -EEXIST;
    }
    if (v->ndevices >= v->cfg.max_devices) {
        return -ENOSPC;
    }
    rc = group_get(v, group_id, &g);
    if (rc) {
        return rc;
    }
    d = vz(v, sizeof(*d));
    if (!d) {
        return -ENOMEM;
    }
    d->v = v;
    d->group = g;
    memcpy(d->name, name, VFIO_DEVNAME_MAX);
    d->handle = handle;
    d->domid = VFIO_DOMID_NONE; /* dom0 has not assigned it yet */
    d->desc = *desc;
    for (pp = &g->devices; *pp; pp = &(*pp)->next) {
    }
    *pp = d;
    g->ndevices++;
    v->ndevices++;
    *out = d;
    return 0;
}

static void free_device(struct vfio_device *d)
{
    struct vfio_group *g = d->group;
    struct vfio_device **pp = &g->devices;

    while (*pp != d) {
        pp = &(*pp)->next;
    }
    *pp = d->next;
    g->ndevices--;
    d->v->ndevices--;
    vf(d->v, d);
}

void vfio_device_set_dead(struct vfio_device *d)
{
    d->dead = true;
}

void vfio_device_remove(struct vfio_device *d)
{
    if (!d->opens) {
        free_device(d);
        return;
    }
    d->dead = true;
    d->removed = true;
}

const char *vfio_device_name(const struct vfio_device *d)
{
    return d->name;
}

uint64_t vfio_device_handle(const struct vfio_device *d)
{
    return d->handle;
}

struct vfio_group *vfio_device_group(const struct vfio_device *d)
{
    return d->group;
}

const struct vfio_device_desc *vfio_device_desc(const struct vfio_device *d)
{
    return &d->desc;
}

bool vfio_device_is_dead(const struct vfio_device *d)
{
    return d->dead;
}

uint32_t vfio_device_opens(const struct vfio_device *d)
{
    return d->opens;
}

static uint32_t live_devices(const struct vfio_group *g)
{
    uint32_t n = 0;

    for (const struct vfio_device *d = g->devices; d; d = d->next) {
        n += !d->removed;
    }
    return n;
}

/* every device of the group is the domain's */
static bool viable(const struct vfio_group *g, uint32_t domid)
{
    if (domid == VFIO_DOMID_NONE || g->domid != domid) {
        return false;
    }
    for (const struct vfio_device *d = g->devices; d; d = d->next) {
        if (d->domid != domid) {
            return false;
        }
    }
    return true;
}

static void set_domid(struct vfio_group *g, uint32_t domid)
{
    g->domid = domid;
    for (struct vfio_device *d = g->devices; d; d = d->next) {
        d->domid = domid;
    }
}

int vfio_group_assign(struct vfio *v, uint32_t group_id, uint32_t domid)
{
    struct vfio_group *g = vfio_group_find(v, group_id);

    if (!g) {
        return -ENOENT;
    }
    if (domid == VFIO_DOMID_NONE) {
        return -EINVAL;
    }
    if (g->domid != VFIO_DOMID_NONE && g->domid != domid) {
        return -EBUSY;
    }
    set_domid(g, domid);
    return 0;
}

int vfio_group_release(struct vfio *v, uint32_t group_id)
{
    struct vfio_group *g = vfio_group_find(v, group_id);

    if (!g) {
        return -ENOENT;
    }
    if (g->domid == VFIO_DOMID_NONE) {
        return -EINVAL;
    }
    if (g->open) {
        return -EBUSY;
    }
    set_domid(g, VFIO_DOMID_NONE);
    return 0;
}

int vfio_group_delete(struct vfio *v, uint32_t group_id)
{
    struct vfio_group **pp = &v->groups, *g;

    while (*pp && (*pp)->id != group_id) {
        pp = &(*pp)->next;
    }
    g = *pp;
    if (!g) {
        return -ENOENT;
    }
    if (g->devices || g->open) {
        return -EBUSY;
    }
    *pp = g->next;
    v->ngroups--;
    vf(v, g);
    return 0;
}

size_t vfio_group_ids(const struct vfio *v, uint32_t *ids, size_t max)
{
    size_t n = 0;

    for (const struct vfio_group *g = v->groups; g; g = g->next, n++) {
        if (n < max) {
            ids[n] = g->id;
        }
    }
    return n;
}

struct vfio_device *vfio_group_device(const struct vfio_group *g, size_t i)
{
    struct vfio_device *d = g->devices;

    while (d && i--) {
        d = d->next;
    }
    return d;
}

void vfio_group_get_info(const struct vfio_group *g,
                         struct vfio_group_info *out)
{
    memset(out, 0, sizeof(*out));
    out->id = g->id;
    out->domid = g->domid;
    out->ndevices = g->ndevices;
    out->viable = viable(g, g->domid);
    out->open = g->open;
    out->fd_open = g->fd_open;
    out->opener = g->opener;
    out->dev_opens = g->dev_opens;
    out->container_set = g->container != NULL;
    out->iommu_set = g->container && g->container->iommu;
}

/* ---- containers ---- */

static void unmapped_cb(void *opaque, const struct iommu_mapping *m)
{
    struct vfio_container *c = opaque;

    c->v->ops.dma_unmapped(c->v->opaque, c, m);
}

/* type1's release: every mapping goes, reported if notify */
static void free_iommu(struct vfio *v, struct vfio_container *c, bool notify)
{
    if (!c->iommu) {
        return;
    }
    if (notify && v->ops.dma_unmapped) {
        iommu_unmap_all(c->iommu, unmapped_cb, c);
    }
    v->iommu_leaks += iommu_free(c->iommu);
    c->iommu = NULL;
    c->type = 0;
}

static void container_maybe_free(struct vfio_container *c)
{
    struct vfio *v = c->v;
    struct vfio_container **pp = &v->containers;

    if (c->fd_open || c->ngroups) {
        return;
    }
    free_iommu(v, c, true);
    while (*pp != c) {
        pp = &(*pp)->next;
    }
    *pp = c->next;
    vf(v, c);
}

int vfio_container_open(struct vfio *v, uint32_t domid, uint64_t opener,
                        struct vfio_container **out)
{
    struct vfio_container *c;
    uint32_t n = 0;

    for (c = v->containers; c; c = c->next) {
        n += c->domid == domid && c->fd_open;
    }
    if (n >= v->cfg.max_containers) {
        return -EMFILE;
    }
    c = vz(v, sizeof(*c));
    if (!c) {
        return -ENOMEM;
    }
    c->v = v;
    c->domid = domid;
    c->opener = opener;
    c->fd_open = true;
    c->next = v->containers;
    v->containers = c;
    *out = c;
    return 0;
}

void vfio_container_close(struct vfio_container *c)
{
    c->fd_open = false;
    container_maybe_free(c);
}

struct iommu *vfio_container_iommu(const struct vfio_container *c)
{
    return c->iommu;
}

uint32_t vfio_container_domid(const struct vfio_container *c)
{
    return c->domid;
}

long vfio_container_check_extension(const struct vfio_container *c,
                                    uint64_t ext)
{
    switch (ext) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_UNMAP_ALL:
        return 1;
    case VFIO_DMA_CC_IOMMU:
        /* type1 asks its domains, and with only emulated groups there is
         * none: coherent once an IOMMU is set, unknown (0) before */
        return c->iommu ? 1 : 0;
    default:
        /* NESTING (now reserved), UPDATE_VADDR (not with emulated groups),
         * sPAPR, EEH, NOIOMMU */
        return 0;
    }
}

int vfio_container_set_iommu(struct vfio_container *c, uint64_t type)
{
    bool v2;

    if (!c->ngroups || c->iommu) {
        return -EINVAL;
    }
    switch (type) {
    case VFIO_TYPE1_IOMMU:
        v2 = false;
        break;
    case VFIO_TYPE1v2_IOMMU:
        v2 = true;
        break;
    case VFIO_UNMAP_ALL:
        /* type1 says yes to CHECK_EXTENSION(9), then its open() refuses */
        return -EINVAL;
    default:
        return -ENODEV; /* no backend reports the extension */
    }
    if (iommu_new(&c->iommu, &c->v->cfg.iommu, v2)) {
        return -ENOMEM;
    }
    c->type = type;
    return 0;
}

int vfio_container_unmap(struct vfio_container *c, uint64_t iova, uint64_t size,
                         uint32_t flags, uint64_t *unmapped)
{
    if (!c->iommu) {
        return -EINVAL;
    }
    return iommu_unmap(c->iommu, iova, size, flags, unmapped,
                       c->v->ops.dma_unmapped ? unmapped_cb : NULL, c);
}

/* ---- groups ---- */

int vfio_group_open(struct vfio *v, uint32_t group_id, uint32_t domid,
                    uint64_t opener, struct vfio_group **out)
{
    struct vfio_group *g = vfio_group_find(v, group_id);

    /* not the caller's domain's: its node does not exist for it */
    if (!g || domid == VFIO_DOMID_NONE || g->domid != domid) {
        return -ENOENT;
    }
    if (!live_devices(g)) {
        return -ENODEV;
    }
    if (g->open) {
        return -EBUSY;
    }
    g->open = true;
    g->fd_open = true;
    g->opener = opener;
    g->open_domid = domid;
    *out = g;
    return 0;
}

static void detach(struct vfio_group *g)
{
    struct vfio_container *c = g->container;
    struct vfio_group **pp = &c->groups;

    while (*pp != g) {
        pp = &(*pp)->cnext;
    }
    *pp = g->cnext;
    g->cnext = NULL;
    g->container = NULL;
    c->ngroups--;
    /* the last group deprivileges the container: its IOMMU goes */
    if (!c->ngroups) {
        free_iommu(c->v, c, true);
    }
    container_maybe_free(c);
}

/* vfio_group_fops_release, once neither the fd nor a device file holds it */
static void group_maybe_release(struct vfio_group *g)
{
    if (!g->open || g->fd_open || g->dev_opens) {
        return;
    }
    if (g->container) {
        detach(g);
    }
    g->open = false;
    g->opener = 0;
    g->open_domid = VFIO_DOMID_NONE;
}

void vfio_group_close(struct vfio_group *g)
{
    g->fd_open = false;
    group_maybe_release(g);
}

uint32_t vfio_group_status(const struct vfio_group *g)
{
    if (g->container) {
        return VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
    }
    return viable(g, g->open_domid) ? VFIO_GROUP_FLAGS_VIABLE : 0;
}

int vfio_group_set_container(struct vfio_group *g, struct vfio_container *c)
{
    struct vfio_group **pp;

    if (g->container) {
        return -EINVAL;
    }
    if (!c || c->domid != g->open_domid) {
        return -EBADFD;
    }
    if (!viable(g, g->open_domid)) {
        return -EPERM;
    }
    for (pp = &c->groups; *pp; pp = &(*pp)->cnext) {
    }
    *pp = g;
    g->container = c;
    c->ngroups++;
    return 0;
}

int vfio_group_unset_container(struct vfio_group *g)
{
    if (!g->container) {
        return -EINVAL;
    }
    if (g->dev_opens) {
        return -EBUSY;
    }
    detach(g);
    return 0;
}

/* vfio_pci_core_match for a device that is neither PF nor VF: 1, 0, -errno */
static int name_match(const char *devname, const char *buf)
{
    size_t n = strlen(devname);

    if (strncmp(devname, buf, n)) {
        return 0;
    }
    buf += n;
    if (!*buf) {
        return 1;
    }
    if (*buf != ' ') {
        return 0; /* non-whitespace after the name */
    }
    while (*buf == ' ') {
        buf++;
    }
    /* anything else is an option: an unknown one -EINVAL, and a
     * vf_token=<uuid> -EINVAL as well ("not a PF or VF") */
    return *buf ? -EINVAL : 1;
}

int vfio_group_get_device(struct vfio_group *g, const char *name,
                          uint64_t opener, struct vfio_device_file **out)
{
    struct vfio *v = g->v;
    struct vfio_device *d;
    struct vfio_device_file *f;

    for (d = g->devices; d; d = d->next) {
        int m;

        /* unregistering (no registration to get), or not given to the
         * group's domain: not there for the caller */
        if (d->dead || d->domid != g->open_domid) {
            continue;
        }
        m = name_match(d->name, name);
        if (m < 0) {
            return m;
        }
        if (m) {
            break;
        }
    }
    if (!d) {
        return -ENODEV;
    }
    if (d->opens >= v->cfg.max_device_opens) {
        return -EMFILE;
    }
    /* vfio_df_group_open / vfio_group_use_container */
    if (!g->container || !g->container->iommu) {
        return -EINVAL;
    }
    f = vz(v, sizeof(*f));
    if (!f) {
        return -ENOMEM;
    }
    f->v = v;
    f->dev = d;
    f->opener = opener;
    f->domid = g->open_domid;
    f->next = v->files;
    v->files = f;
    d->opens++;
    g->dev_opens++;
    *out = f;
    return 0;
}

struct vfio_device *vfio_device_file_device(const struct vfio_device_file *f)
{
    return f->dev;
}

void vfio_device_close(struct vfio_device_file *f)
{
    struct vfio *v = f->v;
    struct vfio_device *d = f->dev;
    struct vfio_group *g = d->group;
    struct vfio_device_file **pp = &v->files;

    while (*pp != f) {
        pp = &(*pp)->next;
    }
    *pp = f->next;
    vf(v, f);
    d->opens--;
    g->dev_opens--;
    if (!d->opens) {
        /* vfio_pci_core_close_device: interrupts off, triggers dropped */
        memset(&d->irq, 0, sizeof(d->irq));
        if (d->removed) {
            free_device(d);
        }
    }
    group_maybe_release(g);
}

void vfio_opener_close(struct vfio *v, uint64_t opener)
{
    struct vfio_device_file *f = v->files;

    while (f) {
        if (f->opener == opener) {
            vfio_device_close(f);
            f = v->files;
        } else {
            f = f->next;
        }
    }
    for (struct vfio_group *g = v->groups; g; g = g->next) {
        if (g->fd_open && g->opener == opener) {
            vfio_group_close(g);
        }
    }
    for (struct vfio_container *c = v->containers; c;) {
        struct vfio_container *next = c->next;

        if (c->fd_open && c->opener == opener) {
            vfio_container_close(c);
        }
        c = next;
    }
}

void vfio_domain_destroy(struct vfio *v, uint32_t domid)
{
    struct vfio_device_file *f = v->files;

    while (f) {
        if (f->domid == domid) {
            vfio_device_close(f);
            f = v->files;
        } else {
            f = f->next;
        }
    }
    for (struct vfio_group *g = v->groups; g; g = g->next) {
        if (g->fd_open && g->open_domid == domid) {
            vfio_group_close(g);
        }
    }
    for (struct vfio_container *c = v->containers; c;) {
        struct vfio_container *next = c->next;

        if (c->fd_open && c->domid == domid) {
            vfio_container_close(c);
        }
        c = next;
    }
    for (struct vfio_group *g = v->groups; g; g = g->next) {
        if (g->domid == domid && !g->open) {
            set_domid(g, VFIO_DOMID_NONE);
        }
    }
}

/* ---- interrupts: vfio-pci's handlers ---- */

static bool bit(const struct irqs *s, uint32_t i)
{
    return s->bound[i / 64] >> (i % 64) & 1;
}

static void set_bit_to(struct irqs *s, uint32_t i, bool on)
{
    if (on) {
        s->bound[i / 64] |= 1ull << (i % 64);
    } else {
        s->bound[i / 64] &= ~(1ull << (i % 64));
    }
}

static void irq_disable(struct irqs *s)
{
    s->mode = MODE_NONE;
    s->nvec = 0;
    memset(s->bound, 0, sizeof(s->bound));
    s->intx_masked = false;
    s->intx_unmask_fd = false;
}

static int intx_mask(struct irqs *s, const struct vfio_irqs_req *r,
                     struct vfio_irqs_effect *e, bool mask)
{
    if (s->mode != MODE(VFIO_PCI_INTX_IRQ_INDEX) || r->start != 0 ||
        r->count != 1) {
        return -EINVAL;
    }
    if (r->data == VFIO_IRQ_SET_DATA_EVENTFD) {
        if (mask) {
            return -ENOTTY; /* "XXX implement me" */
        }
        s->intx_unmask_fd = vfio_irqs_fd(r, 0) >= 0;
        e->op = VFIO_IRQ_EFFECT_UNMASK_FD;
        return 0;
    }
    if (vfio_irqs_bool(r, 0)) {
        s->intx_masked = mask;
        e->op = mask ? VFIO_IRQ_EFFECT_MASK : VFIO_IRQ_EFFECT_UNMASK;
    }
    return 0;
}

static int intx_trigger(struct irqs *s, const struct vfio_irqs_req *r,
                        struct vfio_irqs_effect *e)
{
    bool intx = s->mode == MODE(VFIO_PCI_INTX_IRQ_INDEX);

    if (intx && !r->count && r->data == VFIO_IRQ_SET_DATA_NONE) {
        irq_disable(s);
        e->op = VFIO_IRQ_EFFECT_DISABLE;
        return 0;
    }
    if (!(intx || s->mode == MODE_NONE) || r->start != 0 || r->count != 1) {
        return -EINVAL;
    }
    if (r->data == VFIO_IRQ_SET_DATA_EVENTFD) {
        if (intx) {
            e->op = VFIO_IRQ_EFFECT_SET_FDS;
        } else {
            irq_disable(s);
            s->mode = MODE(VFIO_PCI_INTX_IRQ_INDEX);
            s->nvec = 1;
            e->op = VFIO_IRQ_EFFECT_ENABLE;
            e->nvec = 1;
        }
        set_bit_to(s, 0, vfio_irqs_fd(r, 0) >= 0);
        return 0;
    }
    if (!intx) {
        return -EINVAL;
    }
    /* loopback: signal as the device would (no automask) */
    if (bit(s, 0) && vfio_irqs_bool(r, 0)) {
        e->op = VFIO_IRQ_EFFECT_LOOPBACK;
    }
    return 0;
}

static int msi_trigger(struct irqs *s, const struct vfio_irqs_req *r,
                       struct vfio_irqs_effect *e)
{
    bool on = s->mode == MODE(r->index);

    if (on && !r->count && r->data == VFIO_IRQ_SET_DATA_NONE) {
        irq_disable(s);
        e->op = VFIO_IRQ_EFFECT_DISABLE;
        return 0;
    }
    if (!(on || s->mode == MODE_NONE)) {
        return -EINVAL; /* INTx, MSI and MSI-X exclude each other */
    }
    if (r->data == VFIO_IRQ_SET_DATA_EVENTFD) {
        uint32_t nvec = on ? s->nvec : r->start + r->count;

        if (!nvec) {
            return -EINVAL; /* pci_alloc_irq_vectors of none */
        }
        /* no dynamic MSI-X: a vector past the enabled set cannot get an
         * eventfd (vfio_msi_set_vector_signal) */
        for (uint32_t i = 0; i < r->count; i++) {
            if (r->start + i >= nvec && vfio_irqs_fd(r, i) >= 0) {
                return -EINVAL;
            }
        }
        if (on) {
            e->op = VFIO_IRQ_EFFECT_SET_FDS;
        } else {
            irq_disable(s);
            s->mode = MODE(r->index);
            s->nvec = nvec;
            e->op = VFIO_IRQ_EFFECT_ENABLE;
            e->nvec = nvec;
        }
        for (uint32_t i = 0; i < r->count && r->start + i < nvec; i++) {
            set_bit_to(s, r->start + i, vfio_irqs_fd(r, i) >= 0);
        }
        return 0;
    }
    if (!on) {
        return -EINVAL;
    }
    e->op = VFIO_IRQ_EFFECT_LOOPBACK; /* unbound vectors are skipped */
    return 0;
}

static int ctx_trigger(bool *bound, const struct vfio_irqs_req *r,
                       struct vfio_irqs_effect *e)
{
    int32_t fd;

    if (r->start != 0 || r->count > 1) {
        return -EINVAL;
    }
    switch (r->data) {
    case VFIO_IRQ_SET_DATA_NONE:
        if (!*bound) {
            return -EINVAL;
        }
        if (r->count) {
            e->op = VFIO_IRQ_EFFECT_LOOPBACK;
        } else {
            *bound = false;
            e->op = VFIO_IRQ_EFFECT_DISABLE;
        }
        return 0;
    case VFIO_IRQ_SET_DATA_BOOL:
        if (!r->count) {
            return -EINVAL;
        }
        if (vfio_irqs_bool(r, 0) && *bound) {
            e->op = VFIO_IRQ_EFFECT_LOOPBACK;
        }
        return 0;
    default:
        if (!r->count) {
            return -EINVAL;
        }
        fd = vfio_irqs_fd(r, 0);
        if (fd == -1 || fd >= 0) {
            *bound = fd >= 0;
            e->op = VFIO_IRQ_EFFECT_ERR_FD;
        }
        return 0;
    }
}

int vfio_device_set_irqs(struct vfio_device_file *f,
                         const struct vfio_irqs_req *r,
                         struct vfio_irqs_effect *e)
{
    struct vfio_device *d = f->dev;
    struct irqs *s = &d->irq;

    memset(e, 0, sizeof(*e));
    e->index = r->index;
    e->start = r->start;
    e->count = r->count;
    if (d->dead) {
        return -ENODEV;
    }
    switch (r->index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        switch (r->action) {
        case VFIO_IRQ_SET_ACTION_MASK:
            return intx_mask(s, r, e, true);
        case VFIO_IRQ_SET_ACTION_UNMASK:
            return intx_mask(s, r, e, false);
        case VFIO_IRQ_SET_ACTION_TRIGGER:
            return intx_trigger(s, r, e);
        }
        break;
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_MSIX_IRQ_INDEX:
        if (r->action == VFIO_IRQ_SET_ACTION_TRIGGER) {
            return msi_trigger(s, r, e);
        }
        break;
    case VFIO_PCI_ERR_IRQ_INDEX:
        if (r->action == VFIO_IRQ_SET_ACTION_TRIGGER && d->desc.pcie) {
            return ctx_trigger(&s->err_fd, r, e);
        }
        break;
    case VFIO_PCI_REQ_IRQ_INDEX:
        if (r->action == VFIO_IRQ_SET_ACTION_TRIGGER) {
            return ctx_trigger(&s->req_fd, r, e);
        }
        break;
    }
    return -ENOTTY;
}

void vfio_device_irq_state(const struct vfio_device *d,
                           struct vfio_irq_state *out)
{
    const struct irqs *s = &d->irq;

    memset(out, 0, sizeof(*out));
    out->mode = s->mode;
    out->nvec = s->nvec;
    for (uint32_t i = 0; i < s->nvec; i++) {
        out->bound += bit(s, i);
    }
    out->intx_masked = s->intx_masked;
    out->intx_unmask_fd = s->intx_unmask_fd;
    out->err_fd = s->err_fd;
    out->req_fd = s->req_fd;
}

bool vfio_device_irq_bound(const struct vfio_device *d, uint32_t i)
{
    return i < d->irq.nvec && bit(&d->irq, i);
}

/* ---- ioctls ---- */

static long container_ioctl(struct vfio_container *c,
                            const struct vfio_ioctl_def *def, const void *in,
                            size_t inlen, const struct vfio_ioctl_env *env,
                            struct vfio_reply *rep)
{
    struct vfio_req *r = &rep->req;
    enum vfio_op op = def ? def->op : VFIO_OP_NONE;
    int rc;

    switch (op) {
    case VFIO_OP_GET_API_VERSION:
        return VFIO_API_VERSION;
    case VFIO_OP_CHECK_EXTENSION:
    case VFIO_OP_SET_IOMMU:
        rc = vfio_args_decode(def, in, inlen, NULL, r);
        if (rc) {
            return rc;
        }
        if (op == VFIO_OP_CHECK_EXTENSION) {
            return vfio_container_check_extension(c, r->u.value);
        }
        return vfio_container_set_iommu(c, r->u.value);
    default:
        break;
    }
    /* everything else goes to the backend, and without one: -EINVAL */
    if (!c->iommu) {
        return -EINVAL;
    }
    switch (op) {
    case VFIO_OP_IOMMU_GET_INFO: {
        const struct iommu_config *cfg = iommu_get_config(c->iommu);
        struct vfio_iommu_info_in info = {cfg->pgsize_bitmap,
                                          iommu_avail(c->iommu), cfg->ranges,
                                          cfg->nranges};

        rc = vfio_args_decode(def, in, inlen, NULL, r);
        if (rc) {
            return rc;
        }
        vfio_args_reply_iommu_info(r, &info, rep->out, &rep->outlen);
        return 0;
    }
    case VFIO_OP_IOMMU_MAP_DMA:
        rc = vfio_args_decode(def, in, inlen, NULL, r);
        if (rc) {
            return rc;
        }
        return iommu_map(c->iommu, r->u.map.iova, r->u.map.vaddr, r->u.map.size,
                         r->u.map.prot, env ? env->map_cookie : 0);
    case VFIO_OP_IOMMU_UNMAP_DMA: {
        uint64_t n;

        rc = vfio_args_decode(def, in, inlen, NULL, r);
        if (rc) {
            return rc;
        }
        rc = vfio_container_unmap(c, r->u.unmap.iova, r->u.unmap.size, r->flags,
                                  &n);
        if (rc) {
            return rc;
        }
        vfio_args_reply_unmap(r, n, rep->out, &rep->outlen);
        return 0;
    }
    default:
        /* DIRTY_PAGES (no dirty tracking, as iommufd's type1), sPAPR and
         * anything else: the type1 backend's default */
        return -ENOTTY;
    }
}

static long group_ioctl(struct vfio_group *g, const struct vfio_ioctl_def *def,
                        const void *in, size_t inlen,
                        const struct vfio_ioctl_env *env,
                        struct vfio_reply *rep)
{
    struct vfio_req *r = &rep->req;
    struct vfio_container *c = NULL;
    int rc;

    if (!def) {
        return -ENOTTY;
    }
    if (def->op == VFIO_OP_GROUP_UNSET_CONTAINER) {
        return vfio_group_unset_container(g);
    }
    rc = vfio_args_decode(def, in, inlen, NULL, r);
    if (rc) {
        return rc;
    }
    switch (def->op) {
    case VFIO_OP_GROUP_GET_STATUS:
        vfio_args_reply_group_status(r, vfio_group_status(g), rep->out,
                                     &rep->outlen);
        return 0;
    case VFIO_OP_GROUP_SET_CONTAINER:
        /* fdget (-EBADF), then the group's state, then the file's kind */
        if (!env || !env->container_of_fd) {
            return -EBADF;
        }
        rc = env->container_of_fd(env->opaque, r->u.fd, &c);
        if (rc) {
            return rc;
        }
        return vfio_group_set_container(g, c);
    case VFIO_OP_GROUP_GET_DEVICE_FD:
        return vfio_group_get_device(g, r->u.name, env ? env->opener : 0,
                                     &rep->dev);
    default:
        return -ENOTTY;
    }
}

static long device_ioctl(struct vfio_device_file *f,
                         const struct vfio_ioctl_def *def, const void *in,
                         size_t inlen, struct vfio_reply *rep)
{
    struct vfio_device *d = f->dev;
    struct vfio_req *r = &rep->req;
    int rc;

    /* IOEVENTFD: not offered, not read (a driver without the ioctl) */
    if (!def || def->op == VFIO_OP_DEVICE_IOEVENTFD) {
        return -ENOTTY;
    }
    rc = vfio_args_decode(def, in, inlen, &d->desc, r);
    if (rc) {
        return rc;
    }
    switch (def->op) {
    case VFIO_OP_DEVICE_GET_INFO:
        vfio_args_reply_device_info(r, &d->desc, rep->out, &rep->outlen);
        return 0;
    case VFIO_OP_DEVICE_GET_REGION_INFO:
        vfio_args_reply_region_info(r, &d->desc, rep->out, &rep->outlen);
        return 0;
    case VFIO_OP_DEVICE_GET_IRQ_INFO:
        vfio_args_reply_irq_info(r, &d->desc, rep->out, &rep->outlen);
        return 0;
    case VFIO_OP_DEVICE_SET_IRQS:
        rc = vfio_device_set_irqs(f, &r->u.irqs, &rep->effect);
        if (rc) {
            return rc;
        }
        rep->forward = true;
        return 0;
    case VFIO_OP_DEVICE_RESET:
        if (d->dead) {
            return -ENODEV;
        }
        rep->forward = true;
        return 0;
    case VFIO_OP_DEVICE_GET_PCI_HOT_RESET_INFO:
    case VFIO_OP_DEVICE_PCI_HOT_RESET:
        /* no slot or bus reset on the emulated bus */
        return -ENODEV;
    default:
        /* FEATURE: no migration, dirty logging, low power or VF token */
        return -ENOTTY;
    }
}

long vfio_ioctl(struct vfio *v, enum vfio_kind kind, void *file, uint32_t req,
                const void *in, size_t inlen, const struct vfio_ioctl_env *env,
                struct vfio_reply *rep)
{
    const struct vfio_ioctl_def *def = vfio_args_def(kind, req);

    (void)v;
    rep->outlen = 0;
    rep->dev = NULL;
    rep->forward = false;
    memset(&rep->req, 0, sizeof(rep->req));
    memset(&rep->effect, 0, sizeof(rep->effect));
    switch (kind) {
    case VFIO_KIND_CONTAINER:
        return container_ioctl(file, def, in, inlen, env, rep);
    case VFIO_KIND_GROUP:
        return group_ioctl(file, def, in, inlen, env, rep);
    case VFIO_KIND_DEVICE:
        return device_ioctl(file, def, in, inlen, rep);
    }
    return -ENOTTY;
}

/* ---- DMA and the fault log ---- */

int vfio_dma(struct vfio *v, struct vfio_device *d, uint64_t iova, uint64_t len,
             bool write, uint64_t now, struct iommu_seg *segs, size_t max,
             size_t *nsegs)
{
    struct vfio_container *c = d->group->container;
    struct iommu_fault f = {IOMMU_FAULT_NO_IOMMU, iova};
    struct vfio_fault *e;
    int rc = -EFAULT;

    *nsegs = 0;
    if (c && c->iommu) {
        rc = iommu_translate(c->iommu, iova, len, write, segs, max, nsegs, &f);
    }
    if (rc != -EFAULT) {
        d->stats.dma += rc == 0;
        return rc;
    }
    d->stats.faults++;
    d->stats.by_reason[f.reason]++;
    e = &v->ring[v->nfaults % v->cfg.fault_ring];
    memset(e, 0, sizeof(*e));
    e->seq = ++v->nfaults;
    e->time = now;
    e->group_id = d->group->id;
    e->domid = d->group->domid;
    e->handle = d->handle;
    memcpy(e->device, d->name, VFIO_DEVNAME_MAX);
    e->iova = iova;
    e->len = len;
    e->at = f.iova;
    e->write = write;
    e->reason = f.reason;
    return -EFAULT;
}

size_t vfio_faults(const struct vfio *v, uint64_t after, struct vfio_fault *out,
                   size_t max)
{
    uint64_t first = vfio_faults_lost(v) + 1;
    size_t n = 0;

    if (after >= v->nfaults) {
        return 0;
    }
    if (after + 1 > first) {
        first = after + 1;
    }
    for (uint64_t s = first; s <= v->nfaults && n < max; s++) {
        out[n++] = v->ring[(s - 1) % v->cfg.fault_ring];
    }
    return n;
}

uint64_t vfio_faults_total(const struct vfio *v)
{
    return v->nfaults;
}

uint64_t vfio_faults_lost(const struct vfio *v)
{
    return v->nfaults > v->cfg.fault_ring ? v->nfaults - v->cfg.fault_ring : 0;
}

void vfio_device_stats(const struct vfio_device *d,
                       struct vfio_device_stats *out)
{
    *out = d->stats;
}

const char *vfio_fault_reason_name(uint32_t reason)
{
    switch (reason) {
    case IOMMU_FAULT_UNMAPPED:
        return "unmapped";
    case IOMMU_FAULT_PERM:
        return "permission";
    case IOMMU_FAULT_OVERFLOW:
        return "overflow";
    case IOMMU_FAULT_NO_IOMMU:
        return "no-iommu";
    default:
        return "none";
    }
}

/* ---- invariants ---- */

int vfio_check(const struct vfio *v)
{
    uint32_t ngroups = 0, ndevices = 0;
    size_t nfiles = 0;

    for (const struct vfio_device_file *f = v->files; f; f = f->next) {
        nfiles++;
        if (f->v != v || !f->dev->opens || !f->dev->group->open ||
            f->domid != f->dev->group->open_domid) {
            return -EIO;
        }
    }
    for (const struct vfio_group *g = v->groups; g; g = g->next) {
        uint32_t nd = 0, opens = 0;

        ngroups++;
        if (g->v != v || (g->next && g->next->id <= g->id)) {
            return -EIO;
        }
        for (const struct vfio_device *d = g->devices; d; d = d->next) {
            size_t files = 0;

            nd++;
            opens += d->opens;
            for (const struct vfio_device_file *f = v->files; f; f = f->next) {
                files += f->dev == d;
            }
            if (d->group != g || files != d->opens ||
                (d->removed && (!d->opens || !d->dead)) ||
                d->irq.nvec > VFIO_PCI_MSIX_MAX) {
                return -EIO;
            }
        }
        ndevices += nd;
        if (nd != g->ndevices || opens != g->dev_opens) {
            return -EIO;
        }
        if (g->open) {
            /* opened by its own domain, held by the fd or device files */
            if (g->open_domid != g->domid || g->domid == VFIO_DOMID_NONE ||
                (!g->fd_open && !g->dev_opens)) {
                return -EIO;
            }
        } else if (g->fd_open || g->dev_opens || g->container) {
            return -EIO;
        }
        if (g->dev_opens && (!g->container || !g->container->iommu)) {
            return -EIO;
        }
    }
    if (ngroups != v->ngroups || ndevices != v->ndevices) {
        return -EIO;
    }
    for (const struct vfio_container *c = v->containers; c; c = c->next) {
        uint32_t n = 0;

        for (const struct vfio_group *g = c->groups; g; g = g->cnext) {
            n++;
            if (g->container != c || !g->open || g->open_domid != c->domid) {
                return -EIO;
            }
        }
        if (c->v != v || n != c->ngroups || (!c->fd_open && !n) ||
            (!n && c->iommu)) {
            return -EIO;
        }
        if (c->iommu && iommu_check(c->iommu)) {
            return -EIO;
        }
    }
    return 0;
}
