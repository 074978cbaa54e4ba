/* SPDX-License-Identifier: MIT */
/*
 * vfio_survivor.c - a VFIO driver whose device model dies under it: it
 * opens GROUP's DEVICE, arms the REQ interrupt, prints "ready", waits for a
 * line on stdin (the test kills the device model meanwhile), then reports
 * what each kind of access gives, one "what=result" line each:
 *   req=1          the REQ eventfd fired ("let go of the device")
 *   read=-EIO      a BAR read (errno as a negative number, or the value)
 *   info=0         DEVICE_GET_INFO still answers (cached, as vfio-pci's)
 *   irqs=-ENODEV   SET_IRQS needs the device model
 *   reset=-ENODEV
 *   close=0
 * usage: vfio_survivor GROUP DEVICE
 */
#include <errno.h>
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

static void result(const char *what, long rc)
{
    if (rc < 0) {
        const char *n = errno == EIO      ? "EIO"
                        : errno == ENODEV ? "ENODEV"
                        : errno == EPIPE  ? "EPIPE"
                                          : NULL;
        if (n) {
            printf("%s=-%s\n", what, n);
        } else {
            printf("%s=-%d\n", what, errno);
        }
    } else {
        printf("%s=%ld\n", what, rc);
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    char path[64], line[16];
    int c, g, d, req;
    uint32_t v;
    uint64_t n;

    if (argc != 3) {
        fprintf(stderr, "usage: vfio_survivor GROUP DEVICE\n");
        return 2;
    }
    c = open("/dev/vfio/vfio", O_RDWR);
    snprintf(path, sizeof(path), "/dev/vfio/%s", argv[1]);
    g = open(path, O_RDWR);
    if (c < 0 || g < 0 || ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) < 0 ||
        ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
        perror("vfio_survivor: set-up");
        return 1;
    }
    d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
    if (d < 0) {
        perror("vfio_survivor: GET_DEVICE_FD");
        return 1;
    }
    req = eventfd(0, EFD_NONBLOCK);
    struct {
        struct vfio_irq_set s;
        int32_t fd;
    } r = {{.argsz = sizeof(r),
            .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
            .index = VFIO_PCI_REQ_IRQ_INDEX,
            .start = 0,
            .count = 1},
           req};
    result("req_set", ioctl(d, VFIO_DEVICE_SET_IRQS, &r));
    /* the configuration space is region 7, at 7 << 40 as vfio-pci's */
    result("read_before", pread(d, &v, 4, (off_t)7 << 40));
    printf("ready\n");
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin)) {
        return 1;
    }
    struct pollfd p = {.fd = req, .events = POLLIN};
    printf("req=%d\n", poll(&p, 1, 2000) == 1 && read(req, &n, 8) == 8);
    result("read", pread(d, &v, 4, (off_t)7 << 40));
    struct vfio_device_info di = {.argsz = sizeof(di)};
    result("info", ioctl(d, VFIO_DEVICE_GET_INFO, &di));
    struct vfio_irq_set s = {.argsz = sizeof(s),
                             .flags = VFIO_IRQ_SET_DATA_NONE |
                                      VFIO_IRQ_SET_ACTION_TRIGGER,
                             .index = VFIO_PCI_MSI_IRQ_INDEX,
                             .start = 0,
                             .count = 0};
    result("irqs", ioctl(d, VFIO_DEVICE_SET_IRQS, &s));
    result("reset", ioctl(d, VFIO_DEVICE_RESET));
    result("close", close(d));
    return 0;
}
