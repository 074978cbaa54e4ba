/* SPDX-License-Identifier: MIT */
/*
 * vfu_devices.h - the device models procvisor-dm runs: QEMU's educational
 * device (edu.c) and a 16550-style loopback UART card after Linux's
 * samples/vfio-mdev/mtty.c (mtty.c).  docs/vfio-user.md has their register
 * maps as implemented.
 */
#ifndef PROCVISOR_VFU_DEVICES_H
#define PROCVISOR_VFU_DEVICES_H

#include "vfu_server.h"

struct vfu_model {
    const char *name;
    const char *options; /* for the usage text */
    /* Create the device from its options (argv[0..argc), no program
     * name).  0, or -EINVAL with a message on stderr. */
    int (*create)(int argc, char *const *argv, struct vfu_dev **out);
    /* Free the device and its state. */
    void (*destroy)(struct vfu_dev *d);
};

extern const struct vfu_model vfu_model_edu;
extern const struct vfu_model vfu_model_mtty;

/* The model called name, or NULL. */
const struct vfu_model *vfu_model_find(const char *name);

/* ---- edu: BAR0 registers (4-byte accesses below 0x80, 4 or 8 from) ---- */
#define EDU_REG_ID         0x00 /* RO 0x010000ed */
#define EDU_REG_LIVENESS   0x04 /* reads back ~written */
#define EDU_REG_FACT       0x08 /* factorial */
#define EDU_REG_STATUS     0x20 /* bit 0 computing (RO), bit 7 irq on fact */
#define EDU_REG_IRQ_STATUS 0x24 /* RO */
#define EDU_REG_IRQ_RAISE  0x60 /* WO */
#define EDU_REG_IRQ_ACK    0x64 /* WO */
#define EDU_REG_DMA_SRC    0x80
#define EDU_REG_DMA_DST    0x88
#define EDU_REG_DMA_COUNT  0x90
#define EDU_REG_DMA_CMD    0x98
#define EDU_REG_DMA_ERROR  0xa0 /* procvisor: why the last DMA failed, W1C */

#define EDU_ID               0x010000edu
#define EDU_STATUS_COMPUTING 0x01u
#define EDU_STATUS_IRQFACT   0x80u
#define EDU_IRQ_FACT         0x001u
#define EDU_IRQ_DMA          0x100u
#define EDU_DMA_RUN          0x1u
#define EDU_DMA_TO_RAM       0x2u /* direction: device buffer -> RAM */
#define EDU_DMA_IRQ          0x4u
#define EDU_DMA_BUF          0x40000u /* the device buffer's address */
#define EDU_DMA_BUF_SIZE     4096u
#define EDU_BAR0_SIZE        (1024u * 1024u)

/* EDU_REG_DMA_ERROR bits: the DMA moved nothing (or, for IO on a write to
 * RAM, stopped part way) and raised no interrupt */
#define EDU_DMA_ERR_RANGE  0x01u /* outside the device buffer */
#define EDU_DMA_ERR_MASK   0x02u /* the bus address exceeds dma_mask */
#define EDU_DMA_ERR_FAULT  0x04u /* refused: not mapped for it */
#define EDU_DMA_ERR_MASTER 0x08u /* bus mastering off */
#define EDU_DMA_ERR_IO     0x10u /* the client's memory failed */

/* ---- mtty: per port, an 8-byte I/O BAR (BAR0, BAR1 with --ports 2) ---- */
#define MTTY_RBR 0 /* read; THR on write; DLL with LCR.DLAB */
#define MTTY_IER 1 /* DLM with LCR.DLAB */
#define MTTY_IIR 2 /* read; FCR on write */
#define MTTY_LCR 3
#define MTTY_MCR 4
#define MTTY_LSR 5
#define MTTY_MSR 6
#define MTTY_SCR 7

#define MTTY_IER_RDI    0x01u
#define MTTY_IER_THRI   0x02u
#define MTTY_IER_RLSI   0x04u
#define MTTY_IER_MSI    0x08u
#define MTTY_IIR_NONE   0x01u
#define MTTY_IIR_MSI    0x00u
#define MTTY_IIR_THRI   0x02u
#define MTTY_IIR_RDI    0x04u
#define MTTY_IIR_RLSI   0x06u
#define MTTY_IIR_FIFO   0xc0u
#define MTTY_LSR_DR     0x01u
#define MTTY_LSR_OE     0x02u
#define MTTY_LSR_THRE   0x20u
#define MTTY_LSR_TEMT   0x40u
#define MTTY_FCR_FIFO   0x01u
#define MTTY_FCR_CLR_RX 0x02u
#define MTTY_LCR_DLAB   0x80u
#define MTTY_FIFO_SIZE  16u

#endif
