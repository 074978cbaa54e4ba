/* SPDX-License-Identifier: MIT */
/*
 * irq.c - interrupts as vfio-pci delivers them (drivers/vfio/pci/
 * vfio_pci_intrs.c): one mode at a time (INTx, MSI or MSI-X: enabling one
 * while another is on is -EINVAL), INTx a level with auto-mask on signal
 * and a re-signal on UNMASK while still asserted, COMMAND.INTX_DISABLE as a
 * mask the driver holds, MSI/MSI-X vectors enabled as a set, loopback
 * triggers with DATA_NONE/DATA_BOOL, count 0 disabling an index, ERR/REQ
 * single triggers.  The MSI enable bit of the configuration space follows
 * the SET_IRQS state, as vfio-pci's virtual config shows what the host
 * enabled: a config write alone does not deliver MSI.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfu_impl.h"

static void signal_fd(int fd)
{
    uint64_t one = 1;

    if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
        /* an eventfd at its maximum count: the event is pending anyway */
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* vfio-pci takes eventfds only (eventfd_ctx_fdget: -EINVAL otherwise) */
static int check_eventfd(int fd)
{
    char path[64], target[64];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0) {
        return -EBADF;
    }
    target[n] = '\0';
    return strcmp(target, "anon_inode:[eventfd]") == 0 ? 0 : -EINVAL;
}

void vfu_irq_init(struct vfu_dev *d)
{
    d->irq_mode = -1;
    d->vec = NULL;
    d->nvec = 0;
    d->intx_trigger = -1;
    d->intx_unmask_fd = -1;
    d->intx_masked = false;
    d->err_trigger = -1;
    d->req_trigger = -1;
}

int vfu_irq_info(struct vfu_dev *d, uint32_t index, struct vfu_irq_info *out)
{
    if (index >= VFU_NUM_IRQS) {
        return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    out->argsz = sizeof(*out);
    out->index = index;
    out->count = d->irq_count[index];
    out->flags = VFIO_IRQ_INFO_EVENTFD;
    if (index == VFIO_PCI_INTX_IRQ_INDEX && out->count) {
        out->flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    } else if (index == VFIO_PCI_MSI_IRQ_INDEX ||
               index == VFIO_PCI_MSIX_IRQ_INDEX) {
        out->flags |= VFIO_IRQ_INFO_NORESIZE;
    }
    return 0;
}

/* ---- INTx ---- */

static bool is_intx(const struct vfu_dev *d)
{
    return d->irq_mode == VFIO_PCI_INTX_IRQ_INDEX;
}

/* the device asserts the line and it is not masked: mask, signal */
static void intx_deliver(struct vfu_dev *d)
{
    if (is_intx(d) && d->intx_line && !d->intx_masked) {
        d->intx_masked = true;
        signal_fd(d->intx_trigger);
    }
}

static void intx_mask(struct vfu_dev *d)
{
    if (is_intx(d)) {
        d->intx_masked = true;
    }
}

/* vfio_pci_intx_unmask: with the line still up, stay masked and send the
 * interrupt again */
static void intx_unmask(struct vfu_dev *d)
{
    if (!is_intx(d) || !d->intx_masked || d->intx_virq_disabled) {
        return;
    }
    if (d->intx_line) {
        signal_fd(d->intx_trigger);
    } else {
        d->intx_masked = false;
    }
}

void vfu_irq_intx(struct vfu_dev *d, bool asserted)
{
    d->intx_line = asserted;
    vfu_pci_set_intx(&d->pci, asserted);
    intx_deliver(d);
}

static void intx_disable(struct vfu_dev *d)
{
    close_fd(&d->intx_unmask_fd);
    close_fd(&d->intx_trigger);
    d->intx_masked = false;
    d->irq_mode = -1;
}

/* COMMAND.INTX_DISABLE is the driver's mask (vfio_basic_config_write) */
void vfu_irq_command_changed(struct vfu_dev *d)
{
    bool dis = vfu_pci_command(&d->pci) & VFU_PCI_CMD_INTX_DISABLE;

    if (dis && !d->intx_virq_disabled) {
        d->intx_virq_disabled = true;
        intx_mask(d);
    } else if (!dis && d->intx_virq_disabled) {
        d->intx_virq_disabled = false;
        intx_unmask(d);
    }
}

void vfu_irq_unmask_event(struct vfu_dev *d)
{
    uint64_t v;

    if (d->intx_unmask_fd >= 0 &&
        read(d->intx_unmask_fd, &v, sizeof(v)) == sizeof(v)) {
        intx_unmask(d);
    }
}

static int take_fd(int *fds, unsigned int nfds, int k)
{
    int fd;

    if (k < 0 || (unsigned int)k >= nfds) {
        return -1;
    }
    fd = fds[k];
    fds[k] = -1;
    return fd;
}

static int set_intx_mask(struct vfu_dev *d, const struct vfu_irq_set *is,
                         const uint8_t *data)
{
    uint32_t dt = is->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

    if (!is_intx(d) || is->start != 0 || is->count != 1) {
        return -EINVAL;
    }
    if (dt == VFIO_IRQ_SET_DATA_NONE) {
        intx_mask(d);
    } else if (dt == VFIO_IRQ_SET_DATA_BOOL) {
        if (data[0]) {
            intx_mask(d);
        }
    } else {
        return -ENOTTY; /* as vfio-pci: no mask eventfd */
    }
    return 0;
}

static int set_intx_unmask(struct vfu_dev *d, const struct vfu_irq_set *is,
                           const uint8_t *data, int *fds, unsigned int nfds)
{
    uint32_t dt = is->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

    if (!is_intx(d) || is->start != 0 || is->count != 1) {
        return -EINVAL;
    }
    if (dt == VFIO_IRQ_SET_DATA_NONE) {
        intx_unmask(d);
    } else if (dt == VFIO_IRQ_SET_DATA_BOOL) {
        if (data[0]) {
            intx_unmask(d);
        }
    } else {
        int fd = take_fd(fds, nfds, vfu_irq_set_fd_index(is, data, nfds, 0));

        if (fd >= 0) {
            int rc = check_eventfd(fd);

            if (rc) {
                close(fd);
                return rc;
            }
        }
        close_fd(&d->intx_unmask_fd);
        d->intx_unmask_fd = fd;
    }
    return 0;
}

static int set_intx_trigger(struct vfu_dev *d, const struct vfu_irq_set *is,
                            const uint8_t *data, int *fds, unsigned int nfds)
{
    uint32_t dt = is->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

    if (is_intx(d) && is->count == 0 && dt == VFIO_IRQ_SET_DATA_NONE) {
        intx_disable(d);
        return 0;
    }
    if (!(is_intx(d) || d->irq_mode < 0) || is->start != 0 || is->count != 1) {
        return -EINVAL;
    }
    if (dt == VFIO_IRQ_SET_DATA_EVENTFD) {
        int fd = take_fd(fds, nfds, vfu_irq_set_fd_index(is, data, nfds, 0));

        if (fd >= 0) {
            int rc = check_eventfd(fd);

            if (rc) {
                close(fd);
                return rc;
            }
        }
        if (!is_intx(d)) {
            /* vfio_intx_enable: masked as the driver's INTx disable says;
             * a line already up interrupts at once */
            if (!d->irq_count[VFIO_PCI_INTX_IRQ_INDEX]) {
                if (fd >= 0) {
                    close(fd);
                }
                return -ENODEV;
            }
            d->irq_mode = VFIO_PCI_INTX_IRQ_INDEX;
            d->intx_masked = d->intx_virq_disabled;
        }
        close_fd(&d->intx_trigger);
        d->intx_trigger = fd;
        intx_deliver(d);
        return 0;
    }
    if (!is_intx(d)) {
        return -EINVAL;
    }
    /* loopback: as the device would, without touching the mask, unless
     * the driver disabled INTx (vfio_send_intx_eventfd) */
    if (!d->intx_virq_disabled && (dt == VFIO_IRQ_SET_DATA_NONE || data[0])) {
        signal_fd(d->intx_trigger);
    }
    return 0;
}

/* ---- MSI, MSI-X ---- */

static void msi_disable(struct vfu_dev *d)
{
    for (uint32_t i = 0; i < d->nvec; i++) {
        close_fd(&d->vec[i]);
    }
    free(d->vec);
    d->vec = NULL;
    d->nvec = 0;
    if (d->irq_mode == VFIO_PCI_MSI_IRQ_INDEX) {
        vfu_pci_set_msi_enabled(&d->pci, false);
    } else if (d->irq_mode == VFIO_PCI_MSIX_IRQ_INDEX) {
        vfu_pci_set_msix_enabled(&d->pci, false);
    }
    d->irq_mode = -1;
}

static int msi_enable(struct vfu_dev *d, uint32_t index, uint32_t nvec)
{
    if (d->irq_mode >= 0) {
        return -EINVAL;
    }
    if (nvec == 0 || nvec > d->irq_count[index]) {
        return -EINVAL;
    }
    d->vec = malloc(nvec * sizeof(*d->vec));
    if (!d->vec) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < nvec; i++) {
        d->vec[i] = -1;
    }
    d->nvec = nvec;
    d->irq_mode = (int)index;
    if (index == VFIO_PCI_MSI_IRQ_INDEX) {
        vfu_pci_set_msi_enabled(&d->pci, true);
    } else {
        vfu_pci_set_msix_enabled(&d->pci, true);
    }
    return 0;
}

/* vfio_msi_set_block: on a failure, the vectors set so far are released */
static int msi_set_block(struct vfu_dev *d, const struct vfu_irq_set *is,
                         const uint8_t *data, int *fds, unsigned int nfds)
{
    uint32_t i;
    int rc = 0;

    if (is->start >= d->nvec || is->start + is->count > d->nvec) {
        return -EINVAL;
    }
    for (i = 0; i < is->count; i++) {
        int fd = take_fd(fds, nfds, vfu_irq_set_fd_index(is, data, nfds, i));

        close_fd(&d->vec[is->start + i]);
        if (fd >= 0) {
            rc = check_eventfd(fd);
            if (rc) {
                close(fd);
                break;
            }
            d->vec[is->start + i] = fd;
        }
    }
    if (rc) {
        for (uint32_t j = 0; j < i; j++) {
            close_fd(&d->vec[is->start + j]);
        }
    }
    return rc;
}

static int set_msi_trigger(struct vfu_dev *d, const struct vfu_irq_set *is,
                           const uint8_t *data, int *fds, unsigned int nfds)
{
    uint32_t dt = is->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    int index = (int)is->index;
    int rc;

    if (d->irq_mode == index && is->count == 0 &&
        dt == VFIO_IRQ_SET_DATA_NONE) {
        msi_disable(d);
        return 0;
    }
    if (!(d->irq_mode == index || d->irq_mode < 0)) {
        return -EINVAL;
    }
    if (dt == VFIO_IRQ_SET_DATA_EVENTFD) {
        if (d->irq_mode == index) {
            return msi_set_block(d, is, data, fds, nfds);
        }
        rc = msi_enable(d, is->index, is->start + is->count);
        if (rc) {
            return rc;
        }
        rc = msi_set_block(d, is, data, fds, nfds);
        if (rc) {
            msi_disable(d);
        }
        return rc;
    }
    if (d->irq_mode != index || is->start + is->count > d->nvec) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < is->count; i++) {
        if (dt == VFIO_IRQ_SET_DATA_NONE || data[i]) {
            signal_fd(d->vec[is->start + i]);
        }
    }
    return 0;
}

/* ---- ERR, REQ: vfio_pci_set_ctx_trigger_single ---- */

static int set_single(int *ctx, const struct vfu_irq_set *is,
                      const uint8_t *data, int *fds, unsigned int nfds)
{
    uint32_t dt = is->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

    if (dt == VFIO_IRQ_SET_DATA_NONE) {
        if (*ctx >= 0) {
            if (is->count) {
                signal_fd(*ctx);
            } else {
                close_fd(ctx);
            }
            return 0;
        }
        return -EINVAL;
    }
    if (!is->count) {
        return -EINVAL;
    }
    if (dt == VFIO_IRQ_SET_DATA_BOOL) {
        if (data[0] && *ctx >= 0) {
            signal_fd(*ctx);
        }
        return 0;
    }
    {
        int fd = take_fd(fds, nfds, vfu_irq_set_fd_index(is, data, nfds, 0));

        if (fd >= 0) {
            int rc = check_eventfd(fd);

            if (rc) {
                close(fd);
                return rc;
            }
        }
        close_fd(ctx);
        *ctx = fd;
    }
    return 0;
}

int vfu_irq_set(struct vfu_dev *d, const struct vfu_irq_set *is,
                const uint8_t *data, int *fds, unsigned int nfds)
{
    uint32_t action = is->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

    switch (is->index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        switch (action) {
        case VFIO_IRQ_SET_ACTION_MASK:
            return set_intx_mask(d, is, data);
        case VFIO_IRQ_SET_ACTION_UNMASK:
            return set_intx_unmask(d, is, data, fds, nfds);
        case VFIO_IRQ_SET_ACTION_TRIGGER:
            return set_intx_trigger(d, is, data, fds, nfds);
        }
        break;
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_MSIX_IRQ_INDEX:
        if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
            return set_msi_trigger(d, is, data, fds, nfds);
        }
        break;
    case VFIO_PCI_ERR_IRQ_INDEX:
        if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
            return set_single(&d->err_trigger, is, data, fds, nfds);
        }
        break;
    case VFIO_PCI_REQ_IRQ_INDEX:
        if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
            return set_single(&d->req_trigger, is, data, fds, nfds);
        }
        break;
    }
    return -ENOTTY;
}

void vfu_irq_disable_all(struct vfu_dev *d)
{
    if (is_intx(d)) {
        intx_disable(d);
    } else if (d->irq_mode >= 0) {
        msi_disable(d);
    }
    close_fd(&d->intx_unmask_fd);
    close_fd(&d->err_trigger);
    close_fd(&d->req_trigger);
}

bool vfu_irq_msi_enabled(const struct vfu_dev *d)
{
    return d->irq_mode == VFIO_PCI_MSI_IRQ_INDEX;
}

bool vfu_irq_msi(struct vfu_dev *d, unsigned int v)
{
    if (d->irq_mode != VFIO_PCI_MSI_IRQ_INDEX || v >= d->nvec ||
        d->vec[v] < 0) {
        return false;
    }
    signal_fd(d->vec[v]);
    return true;
}

int vfu_dev_irq_mode(const struct vfu_dev *d)
{
    return d->irq_mode;
}

bool vfu_dev_intx_masked(const struct vfu_dev *d)
{
    return d->intx_masked;
}
