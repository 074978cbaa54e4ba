/* SPDX-License-Identifier: MIT */
/*
 * mtty.c - a PCI serial card of one or two 16550-style UARTs looped back
 * on themselves, after Linux's samples/vfio-mdev/mtty.c: PCI 4348:3253,
 * class 07/00 prog-if 02, INTA, BAR0 (and BAR1 with --ports 2) an 8-byte
 * I/O BAR of UART registers.  What is written to THR comes back on RBR
 * through a 16-byte FIFO.
 *
 * Where it follows the 16550 rather than the sample (docs/vfio-user.md):
 * IIR reports the highest-priority cause (line status, received data at
 * the FCR trigger level, THR empty, modem status) and reading it clears a
 * THR-empty cause; LSR.OE is cleared by reading LSR; THRE and TEMT are
 * always set (the loopback transmitter drains at once); FCR's trigger
 * levels (1, 4, 8, 14) apply; the divisor latches are plain registers.
 * As in the sample, the FIFO is 16 bytes deep from power-on (trigger
 * level 1); writing FCR with the FIFO enable bit clear makes it 1 byte
 * deep (16450 mode) until it is set again.
 * Modem status: MSR reads DCD, DSR and CTS set; changing MCR's DTR or RTS
 * latches a modem-status cause (and MSR's delta bits) until MSR is read.
 *
 * Interrupts: the card's line is asserted while any port has a cause its
 * IER enables.  INTx follows the line (auto-masked by the library); with
 * MSI enabled by SET_IRQS, vector 0 is sent when the line goes up.  The
 * card has an MSI capability (1 vector, 64-bit) so that the config space
 * matches GET_IRQ_INFO; the sample's has none.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_devices.h"

struct uart {
    uint8_t fifo[MTTY_FIFO_SIZE];
    uint8_t head, count; /* oldest byte, bytes held */
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
    uint8_t trigger; /* received-data interrupt level */
    bool fifo16;     /* 16 bytes deep; 1 once FCR turns FIFOs off */
    bool overrun;    /* LSR.OE, until LSR is read */
    bool thre;       /* a THR-empty cause, until IIR reports it */
    bool modem;      /* a modem-status cause, until MSR is read */
};

struct mtty {
    struct vfu_dev *dev;
    unsigned int nports;
    struct uart port[2];
    bool line;
};

static unsigned int fifo_max(const struct uart *u)
{
    return u->fifo16 ? MTTY_FIFO_SIZE : 1;
}

/* the highest-priority cause IER enables, or MTTY_IIR_NONE */
static uint8_t cause(const struct uart *u)
{
    if ((u->ier & MTTY_IER_RLSI) && u->overrun) {
        return MTTY_IIR_RLSI;
    }
    if ((u->ier & MTTY_IER_RDI) && u->count && u->count >= u->trigger) {
        return MTTY_IIR_RDI;
    }
    if ((u->ier & MTTY_IER_THRI) && u->thre) {
        return MTTY_IIR_THRI;
    }
    if ((u->ier & MTTY_IER_MSI) && u->modem) {
        return MTTY_IIR_MSI;
    }
    return MTTY_IIR_NONE;
}

static void update_irq(struct mtty *t)
{
    bool line = false;

    for (unsigned int i = 0; i < t->nports; i++) {
        line |= cause(&t->port[i]) != MTTY_IIR_NONE;
    }
    if (vfu_irq_msi_enabled(t->dev)) {
        if (line && !t->line) {
            vfu_irq_msi(t->dev, 0);
        }
        vfu_irq_intx(t->dev, false);
    } else {
        vfu_irq_intx(t->dev, line);
    }
    t->line = line;
}

static void uart_write(struct uart *u, unsigned int reg, uint8_t v)
{
    bool dlab = u->lcr & MTTY_LCR_DLAB;

    switch (reg) {
    case MTTY_RBR: /* THR */
        if (dlab) {
            u->dll = v;
            break;
        }
        if (u->count < fifo_max(u)) {
            u->fifo[(u->head + u->count) % MTTY_FIFO_SIZE] = v;
            u->count++;
        } else {
            u->overrun = true;
        }
        u->thre = true; /* the byte left THR at once */
        break;
    case MTTY_IER:
        if (dlab) {
            u->dlm = v;
            break;
        }
        if ((v & MTTY_IER_THRI) && !(u->ier & MTTY_IER_THRI)) {
            u->thre = true; /* THR is empty: enabling says so */
        }
        u->ier = v & 0x0f;
        break;
    case MTTY_IIR: /* FCR */
        if ((v ^ u->fcr) & MTTY_FCR_FIFO || (v & MTTY_FCR_CLR_RX)) {
            u->head = u->count = 0;
        }
        u->fcr = v & (MTTY_FCR_FIFO | 0xc0);
        u->fifo16 = v & MTTY_FCR_FIFO;
        if (u->fcr & MTTY_FCR_FIFO) {
            static const uint8_t levels[4] = {1, 4, 8, 14};

            u->trigger = levels[v >> 6];
        } else {
            u->trigger = 1;
        }
        break;
    case MTTY_LCR:
        u->lcr = v;
        break;
    case MTTY_MCR:
        if ((v ^ u->mcr) & 0x03) {
            u->modem = true; /* DTR/RTS moved: the other end sees it */
        }
        u->mcr = v & 0x1f;
        break;
    case MTTY_SCR:
        u->scr = v;
        break;
    default: /* LSR, MSR: read-only */
        break;
    }
}

static uint8_t uart_read(struct uart *u, unsigned int reg)
{
    bool dlab = u->lcr & MTTY_LCR_DLAB;
    uint8_t v = 0;

    switch (reg) {
    case MTTY_RBR:
        if (dlab) {
            return u->dll;
        }
        if (u->count) {
            v = u->fifo[u->head];
            u->head = (uint8_t)((u->head + 1) % MTTY_FIFO_SIZE);
            u->count--;
        }
        return v;
    case MTTY_IER:
        return dlab ? u->dlm : u->ier;
    case MTTY_IIR:
        v = cause(u);
        if (v == MTTY_IIR_THRI) {
            u->thre = false; /* reported: acknowledged */
        }
        return (uint8_t)(v | ((u->fcr & MTTY_FCR_FIFO) ? MTTY_IIR_FIFO : 0));
    case MTTY_LCR:
        return u->lcr;
    case MTTY_MCR:
        return u->mcr;
    case MTTY_LSR:
        v = MTTY_LSR_THRE | MTTY_LSR_TEMT;
        if (u->count) {
            v |= MTTY_LSR_DR;
        }
        if (u->overrun) {
            v |= MTTY_LSR_OE;
            u->overrun = false;
        }
        return v;
    case MTTY_MSR:
        v = 0x80 | 0x20 | 0x10; /* DCD, DSR, CTS */
        if (u->modem) {
            v |= 0x03; /* DDSR, DCTS */
            u->modem = false;
        }
        return v;
    case MTTY_SCR:
        return u->scr;
    default:
        return 0xff;
    }
}

static int mtty_access(void *opaque, unsigned int region, uint64_t off,
                       void *buf, uint32_t count, bool is_write)
{
    struct mtty *t = opaque;
    uint8_t *b = buf;

    if (region >= t->nports) {
        return -EINVAL;
    }
    /* the server keeps off + count inside the 8-byte BAR: a wide access
     * is one byte access per register, in order */
    for (uint32_t i = 0; i < count; i++) {
        if (is_write) {
            uart_write(&t->port[region], (unsigned int)(off + i), b[i]);
        } else {
            b[i] = uart_read(&t->port[region], (unsigned int)(off + i));
        }
    }
    update_irq(t);
    return 0;
}

static void uart_reset(struct uart *u)
{
    memset(u, 0, sizeof(*u));
    u->trigger = 1;
    u->fifo16 = true; /* as the sample: 16 deep from power-on */
}

static void mtty_reset(void *opaque)
{
    struct mtty *t = opaque;

    for (unsigned int i = 0; i < 2; i++) {
        uart_reset(&t->port[i]);
    }
    update_irq(t);
}

static const struct vfu_dev_ops mtty_ops = {
    .access = mtty_access,
    .reset = mtty_reset,
};

static void mtty_free(struct mtty *t)
{
    if (t->dev) {
        vfu_dev_free(t->dev);
    }
    free(t);
}

static int mtty_create(int argc, char *const *argv, struct vfu_dev **out)
{
    const struct vfu_pci_ids ids = {
        .vendor = 0x4348,
        .device = 0x3253,
        .subsys_vendor = 0x4348,
        .subsys_device = 0x3253,
        .revision = 0x10,
        .class_code = 0x070002, /* serial controller, 16550 */
        .irq_pin = 1,
    };
    struct vfu_region r = {
        .size = 8,
        .flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
        .fd = -1,
    };
    unsigned int ports = 1;
    struct vfu_pci *p;
    struct mtty *t;
    int rc;

    for (int i = 0; i < argc; i++) {
        const char *v = NULL;

        if (strcmp(argv[i], "--ports") == 0 && i + 1 < argc) {
            v = argv[++i];
        } else if (strncmp(argv[i], "--ports=", 8) == 0) {
            v = argv[i] + 8;
        }
        if (!v || (strcmp(v, "1") && strcmp(v, "2"))) {
            fprintf(stderr, "mtty: bad option '%s' (--ports 1|2)\n", argv[i]);
            return -EINVAL;
        }
        ports = (unsigned int)(v[0] - '0');
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        return -ENOMEM;
    }
    t->nports = ports;
    rc = vfu_dev_new(&t->dev, "mtty", &mtty_ops, t);
    if (rc) {
        goto fail;
    }
    p = vfu_dev_pci(t->dev);
    vfu_pci_init(p, &ids);
    for (unsigned int i = 0; i < ports; i++) {
        rc = vfu_pci_set_bar(p, i, VFU_BAR_IO, 8, false);
        if (rc) {
            goto fail;
        }
    }
    rc = vfu_pci_add_msi(p, 1, true, false);
    if (rc < 0) {
        goto fail;
    }
    vfu_pci_finalize(p);
    for (unsigned int i = 0; i < ports; i++) {
        rc = vfu_dev_set_region(t->dev, i, &r);
        if (rc) {
            goto fail;
        }
    }
    if ((rc = vfu_dev_set_irqs(t->dev, VFIO_PCI_INTX_IRQ_INDEX, 1)) ||
        (rc = vfu_dev_set_irqs(t->dev, VFIO_PCI_MSI_IRQ_INDEX, 1))) {
        goto fail;
    }
    mtty_reset(t);
    *out = t->dev;
    return 0;
fail:
    mtty_free(t);
    return rc;
}

static void mtty_destroy(struct vfu_dev *d)
{
    mtty_free(vfu_dev_opaque(d));
}

const struct vfu_model vfu_model_mtty = {
    .name = "mtty",
    .options = "[--ports 1|2]",
    .create = mtty_create,
    .destroy = mtty_destroy,
};
