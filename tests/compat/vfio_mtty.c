/* SPDX-License-Identifier: MIT */
/*
 * vfio_mtty.c - drives the mtty device (a 16550-style UART in an I/O BAR)
 * through <linux/vfio.h>, the way the kernel sample's user does: INTx with
 * its automask and UNMASK, the loopback FIFO, then MSI.  One "what=value"
 * line per step; exit 0 when every step matched.
 * usage: vfio_mtty GROUP DEVICE
 */
#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define UART_RBR_THR 0
#define UART_IER     1
#define UART_LSR     5
#define UART_LSR_DR  0x01
#define UART_IER_RDI 0x01

static int dev, efd, bad;
static uint64_t bar0, cfg;

static void expect(const char *what, long got, long want)
{
    printf("%s=%ld%s\n", what, got, got == want ? "" : " (WRONG)");
    bad |= got != want;
}

static uint8_t rd(uint32_t reg)
{
    uint8_t v = 0xff;
    if (pread(dev, &v, 1, (off_t)(bar0 + reg)) != 1) {
        perror("vfio_mtty: BAR0 read");
        exit(1);
    }
    return v;
}

static void wr(uint32_t reg, uint8_t v)
{
    if (pwrite(dev, &v, 1, (off_t)(bar0 + reg)) != 1) {
        perror("vfio_mtty: BAR0 write");
        exit(1);
    }
}

/* 1 if the eventfd fired within ms (and consume it) */
static int fired(int ms)
{
    struct pollfd p = {.fd = efd, .events = POLLIN};
    uint64_t n;
    if (poll(&p, 1, ms) != 1) {
        return 0;
    }
    return read(efd, &n, 8) == 8;
}

static int set_irqs(uint32_t flags, uint32_t index, uint32_t count, int fd)
{
    struct {
        struct vfio_irq_set s;
        int32_t fd;
    } r = {{.argsz = sizeof(struct vfio_irq_set) +
                     ((flags & VFIO_IRQ_SET_DATA_EVENTFD) ? 4 : 0),
            .flags = flags,
            .index = index,
            .start = 0,
            .count = count},
           fd};
    return ioctl(dev, VFIO_DEVICE_SET_IRQS, &r);
}

int main(int argc, char **argv)
{
    struct vfio_region_info ri = {.argsz = sizeof(ri)};
    struct vfio_irq_info ii = {.argsz = sizeof(ii)};
    char path[64];
    uint16_t cmd;
    int c, g;

    if (argc != 3) {
        fprintf(stderr, "usage: vfio_mtty GROUP DEVICE\n");
        return 2;
    }
    c = open("/dev/vfio/vfio", O_RDWR);
    snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
    g = open(path, O_RDWR);
    if (c < 0 || g < 0 || ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) < 0 ||
        ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 ||
        (dev = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, argv[2])) < 0) {
        perror("vfio_mtty: set-up");
        return 1;
    }
    ri.index = VFIO_PCI_BAR0_REGION_INDEX;
    ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri);
    bar0 = ri.offset;
    expect("bar0_size", (long)ri.size, 8);
    expect("bar0_mmap", !!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP), 0);
    ri = (struct vfio_region_info){.argsz = sizeof(ri),
                                   .index = VFIO_PCI_CONFIG_REGION_INDEX};
    ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri);
    cfg = ri.offset;
    uint32_t bar;
    pread(dev, &bar, 4, (off_t)(cfg + 0x10));
    expect("bar0_is_io", bar & 1, 1);
    ii.index = VFIO_PCI_INTX_IRQ_INDEX;
    ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii);
    expect("intx_automasked",
           (ii.flags & (VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED)) ==
               (VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED),
           1);
    pread(dev, &cmd, 2, (off_t)(cfg + 4));
    cmd |= 0x1; /* I/O decode */
    pwrite(dev, &cmd, 2, (off_t)(cfg + 4));

    efd = eventfd(0, EFD_NONBLOCK);
    expect("intx_on",
           set_irqs(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                    VFIO_PCI_INTX_IRQ_INDEX, 1, efd),
           0);
    wr(UART_IER, UART_IER_RDI);
    wr(UART_RBR_THR, 'A');
    expect("intx_fires", fired(2000), 1);
    wr(UART_RBR_THR, 'B');
    expect("masked_until_unmask", fired(200), 0);
    expect("unmask",
           set_irqs(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
                    VFIO_PCI_INTX_IRQ_INDEX, 1, -1),
           0);
    expect("still_asserted_fires_again", fired(2000), 1);
    expect("lsr_dr", rd(UART_LSR) & UART_LSR_DR, 1);
    expect("loopback_1", rd(UART_RBR_THR), 'A');
    expect("loopback_2", rd(UART_RBR_THR), 'B');
    expect("lsr_empty", rd(UART_LSR) & UART_LSR_DR, 0);
    set_irqs(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
             VFIO_PCI_INTX_IRQ_INDEX, 1, -1);
    expect("deasserted_no_irq", fired(200), 0);
    wr(UART_RBR_THR, 'C');
    expect("intx_again", fired(2000), 1);
    expect("loopback_3", rd(UART_RBR_THR), 'C');

    /* MSI instead: INTx off, then one MSI vector */
    expect("intx_off",
           set_irqs(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                    VFIO_PCI_INTX_IRQ_INDEX, 0, -1),
           0);
    expect("msi_on",
           set_irqs(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                    VFIO_PCI_MSI_IRQ_INDEX, 1, efd),
           0);
    wr(UART_RBR_THR, 'D');
    expect("msi_fires", fired(2000), 1);
    expect("loopback_4", rd(UART_RBR_THR), 'D');
    expect("intx_while_msi_einval",
           set_irqs(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                    VFIO_PCI_INTX_IRQ_INDEX, 1, efd) < 0,
           1);
    expect("reset", ioctl(dev, VFIO_DEVICE_RESET), 0);
    return bad;
}
