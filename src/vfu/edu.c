/* SPDX-License-Identifier: MIT */
/*
 * edu.c - QEMU's educational PCI device (hw/misc/edu.c, docs/specs/
 * edu.rst) as a vfio-user device model: PCI 1234:11e8 rev 0x10, class
 * 00ff, INTA, one 64-bit MSI vector, BAR0 a 1 MiB 32-bit memory BAR.
 *
 * Registers as QEMU's (vfu_devices.h), with these differences, all in
 * docs/vfio-user.md:
 *  - the factorial and the DMA run on the loop right after the reply to
 *    the write that starts them (QEMU: a thread, a 100 ms timer), so
 *    STATUS bit 0 and DMA_CMD bit 0 read 1 only until then;
 *  - a DMA is refused instead of clamped or logged: outside the 4 KiB
 *    buffer at 0x40000, beyond dma_mask, or refused by the IOMMU (the
 *    client) or with bus mastering off.  A refused DMA moves nothing,
 *    raises no interrupt, clears DMA_CMD bit 0 and sets a bit in the
 *    procvisor register DMA_ERROR (0xa0, write 1 to clear);
 *  - the device buffer is also BAR0 0x40000..0x40fff, read and written by
 *    any access and mmap-able (a sparse mmap area of the BAR's memfd).
 * Accesses of another size, or unaligned, below 0x40000 are ignored and
 * read all-ones, as QEMU's.  Interrupts: MSI vector 0 when SET_IRQS
 * enabled MSI, else INTx asserted while irq_status is not 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfu_devices.h"

struct edu {
    struct vfu_dev *dev;
    int memfd;
    uint8_t *bar; /* BAR0's memfd; the buffer is at EDU_DMA_BUF */
    uint64_t dma_mask;
    uint32_t liveness;
    uint32_t fact;
    uint32_t status;
    uint32_t irq_status;
    uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
    uint32_t dma_error;
};

static void edu_update_intx(struct edu *e)
{
    vfu_irq_intx(e->dev, e->irq_status && !vfu_irq_msi_enabled(e->dev));
}

static void edu_raise(struct edu *e, uint32_t val)
{
    e->irq_status |= val;
    if (e->irq_status && vfu_irq_msi_enabled(e->dev)) {
        vfu_irq_msi(e->dev, 0);
    }
    edu_update_intx(e);
}

static void edu_lower(struct edu *e, uint32_t val)
{
    e->irq_status &= ~val;
    edu_update_intx(e);
}

static uint8_t *edu_buf(struct edu *e)
{
    return e->bar + EDU_DMA_BUF;
}

/* the DMA, on the loop */
static void edu_dma(struct edu *e)
{
    bool to_ram = e->dma_cmd & EDU_DMA_TO_RAM;
    uint64_t bus = to_ram ? e->dma_dst : e->dma_src;
    uint64_t dev = to_ram ? e->dma_src : e->dma_dst;
    uint64_t cnt = e->dma_cnt;
    uint32_t err = 0;
    int rc = 0;

    if (dev < EDU_DMA_BUF || cnt > EDU_DMA_BUF_SIZE ||
        dev - EDU_DMA_BUF > EDU_DMA_BUF_SIZE - cnt) {
        err |= EDU_DMA_ERR_RANGE;
    }
    if ((bus & ~e->dma_mask) ||
        (cnt && (bus + cnt - 1 < bus || ((bus + cnt - 1) & ~e->dma_mask)))) {
        err |= EDU_DMA_ERR_MASK;
    }
    if (!err && cnt) {
        uint8_t *b = edu_buf(e) + (dev - EDU_DMA_BUF);

        if (to_ram) {
            rc = vfu_dma_write(e->dev, bus, b, (size_t)cnt);
        } else {
            uint8_t tmp[EDU_DMA_BUF_SIZE];

            rc = vfu_dma_read(e->dev, bus, tmp, (size_t)cnt);
            if (rc == 0) {
                memcpy(b, tmp, (size_t)cnt);
            }
        }
        if (rc == -EPERM) {
            err |= EDU_DMA_ERR_MASTER;
        } else if (rc == -EFAULT) {
            err |= EDU_DMA_ERR_FAULT;
        } else if (rc) {
            err |= EDU_DMA_ERR_IO;
        }
    }
    e->dma_cmd &= ~(uint64_t)EDU_DMA_RUN;
    if (err) {
        e->dma_error |= err;
        vfu_log(e->dev,
                "DMA %s refused (error 0x%x): bus 0x%llx, buffer 0x%llx, "
                "%llu bytes",
                to_ram ? "to RAM" : "from RAM", err, (unsigned long long)bus,
                (unsigned long long)dev, (unsigned long long)cnt);
        return;
    }
    if (e->dma_cmd & EDU_DMA_IRQ) {
        edu_raise(e, EDU_IRQ_DMA);
    }
}

static void edu_work(void *opaque)
{
    struct edu *e = opaque;

    if (e->status & EDU_STATUS_COMPUTING) {
        uint32_t v = e->fact, r = 1;

        while (v > 0) {
            r *= v--;
        }
        e->fact = r;
        e->status &= ~EDU_STATUS_COMPUTING;
        if (e->status & EDU_STATUS_IRQFACT) {
            edu_raise(e, EDU_IRQ_FACT);
        }
    }
    if (e->dma_cmd & EDU_DMA_RUN) {
        edu_dma(e);
    }
}

static uint64_t edu_reg_read(struct edu *e, uint64_t off)
{
    switch (off) {
    case EDU_REG_ID:
        return EDU_ID;
    case EDU_REG_LIVENESS:
        return e->liveness;
    case EDU_REG_FACT:
        return e->fact;
    case EDU_REG_STATUS:
        return e->status;
    case EDU_REG_IRQ_STATUS:
        return e->irq_status;
    case EDU_REG_DMA_SRC:
        return e->dma_src;
    case EDU_REG_DMA_DST:
        return e->dma_dst;
    case EDU_REG_DMA_COUNT:
        return e->dma_cnt;
    case EDU_REG_DMA_CMD:
        return e->dma_cmd;
    case EDU_REG_DMA_ERROR:
        return e->dma_error;
    default:
        return ~0ull;
    }
}

static void edu_reg_write(struct edu *e, uint64_t off, uint64_t val)
{
    bool running = e->dma_cmd & EDU_DMA_RUN;

    switch (off) {
    case EDU_REG_LIVENESS:
        e->liveness = ~(uint32_t)val;
        break;
    case EDU_REG_FACT:
        if (!(e->status & EDU_STATUS_COMPUTING)) {
            e->fact = (uint32_t)val;
            e->status |= EDU_STATUS_COMPUTING;
            vfu_dev_kick(e->dev);
        }
        break;
    case EDU_REG_STATUS:
        if (val & EDU_STATUS_IRQFACT) {
            e->status |= EDU_STATUS_IRQFACT;
        } else {
            e->status &= ~EDU_STATUS_IRQFACT;
        }
        break;
    case EDU_REG_IRQ_RAISE:
        edu_raise(e, (uint32_t)val);
        break;
    case EDU_REG_IRQ_ACK:
        edu_lower(e, (uint32_t)val);
        break;
    case EDU_REG_DMA_SRC:
        if (!running) {
            e->dma_src = val;
        }
        break;
    case EDU_REG_DMA_DST:
        if (!running) {
            e->dma_dst = val;
        }
        break;
    case EDU_REG_DMA_COUNT:
        if (!running) {
            e->dma_cnt = val;
        }
        break;
    case EDU_REG_DMA_CMD:
        if ((val & EDU_DMA_RUN) && !running) {
            e->dma_cmd = val;
            vfu_dev_kick(e->dev);
        }
        break;
    case EDU_REG_DMA_ERROR:
        e->dma_error &= ~(uint32_t)val;
        break;
    default:
        break;
    }
}

static int edu_access(void *opaque, unsigned int region, uint64_t off,
                      void *buf, uint32_t count, bool is_write)
{
    struct edu *e = opaque;
    uint64_t val = 0;

    if (region != 0) {
        return -EINVAL;
    }
    if (off >= EDU_DMA_BUF && off - EDU_DMA_BUF < EDU_DMA_BUF_SIZE) {
        /* the buffer, memory-like (the server checked off + count) */
        if (count > EDU_DMA_BUF_SIZE - (off - EDU_DMA_BUF)) {
            return -EINVAL;
        }
        if (is_write) {
            memcpy(e->bar + off, buf, count);
        } else {
            memcpy(buf, e->bar + off, count);
        }
        return 0;
    }
    /* registers: 4 bytes below 0x80, 4 or 8 from there, aligned; anything
     * else is ignored and reads all-ones */
    if ((off < 0x80 && count != 4) ||
        (off >= 0x80 && count != 4 && count != 8) || (off % count) != 0) {
        if (!is_write) {
            memset(buf, 0xff, count);
        }
        return 0;
    }
    if (is_write) {
        memcpy(&val, buf, count);
        edu_reg_write(e, off, val);
    } else {
        val = edu_reg_read(e, off);
        memcpy(buf, &val, count);
    }
    return 0;
}

static void edu_reset(void *opaque)
{
    struct edu *e = opaque;

    e->liveness = 0;
    e->fact = 0;
    e->status = 0;
    e->irq_status = 0;
    e->dma_src = e->dma_dst = e->dma_cnt = e->dma_cmd = 0;
    e->dma_error = 0;
    memset(edu_buf(e), 0, EDU_DMA_BUF_SIZE);
    edu_update_intx(e);
}

static const struct vfu_dev_ops edu_ops = {
    .access = edu_access,
    .reset = edu_reset,
    .work = edu_work,
};

static void edu_free(struct edu *e)
{
    if (e->dev) {
        vfu_dev_free(e->dev);
    }
    if (e->bar) {
        munmap(e->bar, EDU_BAR0_SIZE);
    }
    if (e->memfd >= 0) {
        close(e->memfd);
    }
    free(e);
}

static int parse_bits(const char *s, unsigned int *bits)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < 12 || v > 64) {
        return -EINVAL;
    }
    *bits = (unsigned int)v;
    return 0;
}

static int edu_create(int argc, char *const *argv, struct vfu_dev **out)
{
    const struct vfu_pci_ids ids = {
        .vendor = 0x1234,
        .device = 0x11e8,
        .subsys_vendor = 0x1af4, /* QEMU's defaults */
        .subsys_device = 0x1100,
        .revision = 0x10,
        .class_code = 0x00ff00, /* unclassified, "other" */
        .irq_pin = 1,
    };
    unsigned int bits = 28;
    struct vfu_region r = {
        .size = EDU_BAR0_SIZE,
        .flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
        .nr_areas = 1,
        .areas = {{.offset = EDU_DMA_BUF, .size = EDU_DMA_BUF_SIZE}},
    };
    struct vfu_pci *p;
    struct edu *e;
    int rc;

    for (int i = 0; i < argc; i++) {
        const char *v = NULL;

        if (strcmp(argv[i], "--dma-mask") == 0 && i + 1 < argc) {
            v = argv[++i];
        } else if (strncmp(argv[i], "--dma-mask=", 11) == 0) {
            v = argv[i] + 11;
        }
        if (!v || parse_bits(v, &bits)) {
            fprintf(stderr, "edu: bad option '%s' (--dma-mask BITS, 12-64)\n",
                    argv[i]);
            return -EINVAL;
        }
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        return -ENOMEM;
    }
    e->memfd = -1;
    e->dma_mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    e->memfd = memfd_create("edu-bar0", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (e->memfd < 0 || ftruncate(e->memfd, EDU_BAR0_SIZE) < 0 ||
        fcntl(e->memfd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        rc = -errno;
        goto fail;
    }
    e->bar = mmap(NULL, EDU_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                  e->memfd, 0);
    if (e->bar == MAP_FAILED) {
        e->bar = NULL;
        rc = -errno;
        goto fail;
    }
    rc = vfu_dev_new(&e->dev, "edu", &edu_ops, e);
    if (rc) {
        goto fail;
    }
    p = vfu_dev_pci(e->dev);
    vfu_pci_init(p, &ids);
    if ((rc = vfu_pci_set_bar(p, 0, VFU_BAR_MEM32, EDU_BAR0_SIZE, false)) ||
        (rc = vfu_pci_add_msi(p, 1, true, false)) < 0) {
        goto fail;
    }
    vfu_pci_finalize(p);
    r.fd = e->memfd;
    if ((rc = vfu_dev_set_region(e->dev, 0, &r)) ||
        (rc = vfu_dev_set_irqs(e->dev, VFIO_PCI_INTX_IRQ_INDEX, 1)) ||
        (rc = vfu_dev_set_irqs(e->dev, VFIO_PCI_MSI_IRQ_INDEX, 1))) {
        goto fail;
    }
    *out = e->dev;
    return 0;
fail:
    edu_free(e);
    return rc;
}

static void edu_destroy(struct vfu_dev *d)
{
    edu_free(vfu_dev_opaque(d));
}

const struct vfu_model vfu_model_edu = {
    .name = "edu",
    .options = "[--dma-mask BITS]",
    .create = edu_create,
    .destroy = edu_destroy,
};
