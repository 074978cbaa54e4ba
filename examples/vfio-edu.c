/* SPDX-License-Identifier: MIT */
/*
 * vfio-edu.c - a user-level driver for QEMU's "edu" PCI device (1234:11e8),
 * written only against <linux/vfio.h>, as for a real VFIO machine:
 *
 *   container -> CHECK_EXTENSION -> group GET_STATUS -> SET_CONTAINER ->
 *   SET_IOMMU -> GET_DEVICE_FD -> region and interrupt info -> BAR0 access
 *
 * It computes a factorial through MMIO, moves a page of its memory to the
 * device and back with the device's DMA engine (once from shared memory,
 * once from plain anonymous memory), waits for each completion on an
 * eventfd (MSI, or INTx with its unmask), checks every byte, and shows a
 * DMA to an address it never mapped being refused.
 *
 * usage: vfio-edu [GROUP DEVICE]   (default: the first 1234:11e8 in sysfs)
 * Under procvisor: procvisor run DOMAIN -- vfio-edu
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* edu's BAR0 registers (QEMU docs/specs/edu.rst) */
#define EDU_ID          0x00
#define EDU_LIVENESS    0x04
#define EDU_FACTORIAL   0x08
#define EDU_STATUS      0x20
#define EDU_IRQ_STATUS  0x24
#define EDU_IRQ_ACK     0x64
#define EDU_DMA_SRC     0x80
#define EDU_DMA_DST     0x88
#define EDU_DMA_COUNT   0x90
#define EDU_DMA_CMD     0x98
#define EDU_STATUS_BUSY 0x01
#define EDU_STATUS_IRQ  0x80
#define EDU_DMA_START   0x1
#define EDU_DMA_TO_RAM  0x2
#define EDU_DMA_IRQ     0x4
#define EDU_IRQ_FACT    0x001
#define EDU_IRQ_DMA     0x100
#define EDU_BUF         0x40000 /* the device's 4 KiB buffer, its DMA side */

#define PAGE 4096u

struct edu {
    int container, group, device;
    uint64_t bar0, config; /* offsets of BAR0 and config space in device */
    int irq_fd;
    int irq_index; /* MSI or INTx */
};

static int die(const char *what)
{
    fprintf(stderr, "vfio-edu: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint32_t rd32(struct edu *e, uint32_t reg)
{
    uint32_t v;
    if (pread(e->device, &v, 4, (off_t)(e->bar0 + reg)) != 4) {
        die("BAR0 read");
    }
    return v;
}

static void wr32(struct edu *e, uint32_t reg, uint32_t v)
{
    if (pwrite(e->device, &v, 4, (off_t)(e->bar0 + reg)) != 4) {
        die("BAR0 write");
    }
}

static void wr64(struct edu *e, uint32_t reg, uint64_t v)
{
    if (pwrite(e->device, &v, 8, (off_t)(e->bar0 + reg)) != 8) {
        die("BAR0 write");
    }
}

/* Find the first edu device in sysfs and its IOMMU group. */
static int find_edu(char *name, size_t n, int *group)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *de;
    int found = 0;

    if (!d) {
        return 0;
    }
    while (!found && (de = readdir(d))) {
        char path[512], link[512];
        unsigned int vendor = 0, device = 0;
        FILE *f;
        ssize_t l;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
                 de->d_name);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%x", &vendor) != 1) {
                vendor = 0;
            }
            fclose(f);
        }
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
                 de->d_name);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%x", &device) != 1) {
                device = 0;
            }
            fclose(f);
        }
        if (vendor != 0x1234 || device != 0x11e8) {
            continue;
        }
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
                 de->d_name);
        l = readlink(path, link, sizeof(link) - 1);
        if (l <= 0) {
            continue;
        }
        link[l] = '\0';
        *group = atoi(basename(link));
        snprintf(name, n, "%s", de->d_name);
        found = 1;
    }
    closedir(d);
    return found;
}

static void open_device(struct edu *e, int group_id, const char *name)
{
    struct vfio_group_status status = {.argsz = sizeof(status)};
    struct vfio_device_info info = {.argsz = sizeof(info)};
    struct vfio_region_info reg = {.argsz = sizeof(reg)};
    char path[64];

    e->container = open("/dev/vfio/vfio", O_RDWR);
    if (e->container < 0) {
        die("open /dev/vfio/vfio");
    }
    if (ioctl(e->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
        fprintf(stderr, "vfio-edu: unknown VFIO API version\n");
        exit(1);
    }
    if (!ioctl(e->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) {
        fprintf(stderr, "vfio-edu: no type1v2 IOMMU\n");
        exit(1);
    }
    snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
    e->group = open(path, O_RDWR);
    if (e->group < 0) {
        die(path);
    }
    if (ioctl(e->group, VFIO_GROUP_GET_STATUS, &status) < 0) {
        die("VFIO_GROUP_GET_STATUS");
    }
    if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        fprintf(stderr, "vfio-edu: group %d is not viable\n", group_id);
        exit(1);
    }
    if (ioctl(e->group, VFIO_GROUP_SET_CONTAINER, &e->container) < 0) {
        die("VFIO_GROUP_SET_CONTAINER");
    }
    if (ioctl(e->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
        die("VFIO_SET_IOMMU");
    }
    e->device = ioctl(e->group, VFIO_GROUP_GET_DEVICE_FD, name);
    if (e->device < 0) {
        die("VFIO_GROUP_GET_DEVICE_FD");
    }
    if (ioctl(e->device, VFIO_DEVICE_GET_INFO, &info) < 0) {
        die("VFIO_DEVICE_GET_INFO");
    }
    printf("device %s: %u regions, %u irq indexes%s\n", name, info.num_regions,
           info.num_irqs,
           (info.flags & VFIO_DEVICE_FLAGS_RESET) ? ", resettable" : "");
    reg.index = VFIO_PCI_BAR0_REGION_INDEX;
    if (ioctl(e->device, VFIO_DEVICE_GET_REGION_INFO, &reg) < 0) {
        die("VFIO_DEVICE_GET_REGION_INFO");
    }
    e->bar0 = reg.offset;
    printf("BAR0: %llu bytes at offset %#llx\n", (unsigned long long)reg.size,
           (unsigned long long)reg.offset);
    reg = (struct vfio_region_info){.argsz = sizeof(reg),
                                    .index = VFIO_PCI_CONFIG_REGION_INDEX};
    if (ioctl(e->device, VFIO_DEVICE_GET_REGION_INFO, &reg) < 0) {
        die("VFIO_DEVICE_GET_REGION_INFO (config)");
    }
    e->config = reg.offset;
}

/* MSI if the device has it, else INTx (level, auto-masked). */
static void setup_irq(struct edu *e)
{
    /* a vfio_irq_set with one eventfd in its data[] */
    union {
        struct vfio_irq_set set;
        uint8_t bytes[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
    } s;
    int idx[2] = {VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_INTX_IRQ_INDEX};

    e->irq_fd = eventfd(0, EFD_CLOEXEC);
    if (e->irq_fd < 0) {
        die("eventfd");
    }
    for (int i = 0; i < 2; i++) {
        struct vfio_irq_info ii = {.argsz = sizeof(ii), .index = idx[i]};
        if (ioctl(e->device, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0 ||
            ii.count == 0 || !(ii.flags & VFIO_IRQ_INFO_EVENTFD)) {
            continue;
        }
        s.set = (struct vfio_irq_set){.argsz = sizeof(s),
                                      .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                                               VFIO_IRQ_SET_ACTION_TRIGGER,
                                      .index = (uint32_t)idx[i],
                                      .start = 0,
                                      .count = 1};
        memcpy(s.set.data, &e->irq_fd, sizeof(int32_t));
        if (ioctl(e->device, VFIO_DEVICE_SET_IRQS, &s) == 0) {
            e->irq_index = idx[i];
            printf("interrupts: %s through an eventfd\n",
                   idx[i] == VFIO_PCI_MSI_IRQ_INDEX ? "MSI" : "INTx");
            return;
        }
    }
    fprintf(stderr, "vfio-edu: no usable interrupt\n");
    exit(1);
}

/* Wait for the device's interrupt: 1, or 0 on timeout. */
static int wait_irq(struct edu *e, int ms)
{
    struct pollfd p = {.fd = e->irq_fd, .events = POLLIN};
    uint64_t n;

    if (poll(&p, 1, ms) <= 0) {
        return 0;
    }
    if (read(e->irq_fd, &n, sizeof(n)) != sizeof(n)) {
        die("eventfd read");
    }
    return 1;
}

/* Acknowledge what the device raised (and unmask INTx). */
static void ack_irq(struct edu *e)
{
    wr32(e, EDU_IRQ_ACK, rd32(e, EDU_IRQ_STATUS));
    if (e->irq_index == VFIO_PCI_INTX_IRQ_INDEX) {
        struct vfio_irq_set s = {.argsz = sizeof(s),
                                 .flags = VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_UNMASK,
                                 .index = VFIO_PCI_INTX_IRQ_INDEX,
                                 .start = 0,
                                 .count = 1};
        if (ioctl(e->device, VFIO_DEVICE_SET_IRQS, &s) < 0) {
            die("INTx unmask");
        }
    }
}

static int dma(struct edu *e, uint64_t src, uint64_t dst, uint32_t len,
               int to_ram)
{
    wr64(e, EDU_DMA_SRC, src);
    wr64(e, EDU_DMA_DST, dst);
    wr64(e, EDU_DMA_COUNT, len);
    wr64(e, EDU_DMA_CMD,
         EDU_DMA_START | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0));
    if (!wait_irq(e, 2000)) {
        return 0;
    }
    ack_irq(e);
    return 1;
}

static void map_dma(struct edu *e, void *va, uint64_t iova, size_t size)
{
    struct vfio_iommu_type1_dma_map m = {.argsz = sizeof(m),
                                         .flags = VFIO_DMA_MAP_FLAG_READ |
                                                  VFIO_DMA_MAP_FLAG_WRITE,
                                         .vaddr = (uintptr_t)va,
                                         .iova = iova,
                                         .size = size};
    if (ioctl(e->container, VFIO_IOMMU_MAP_DMA, &m) < 0) {
        die("VFIO_IOMMU_MAP_DMA");
    }
}

/* Driver memory -> device buffer -> other driver memory, checked. */
static int round_trip(struct edu *e, const char *what, uint8_t *src,
                      uint64_t src_iova, uint8_t *dst, uint64_t dst_iova)
{
    for (unsigned int i = 0; i < PAGE; i++) {
        src[i] = (uint8_t)(i * 31 + 7);
    }
    memset(dst, 0, PAGE);
    if (!dma(e, src_iova, EDU_BUF, PAGE, 0) ||
        !dma(e, EDU_BUF, dst_iova, PAGE, 1)) {
        printf("DMA (%s): no completion interrupt\n", what);
        return 0;
    }
    if (memcmp(src, dst, PAGE) != 0) {
        printf("DMA (%s): data differs\n", what);
        return 0;
    }
    printf("DMA (%s): %u bytes to the device and back, every byte right\n",
           what, PAGE);
    return 1;
}

int main(int argc, char **argv)
{
    struct edu e = {0};
    char name[NAME_MAX + 1];
    int group, ok = 1;
    uint16_t cmd;

    if (argc == 3) {
        group = atoi(argv[1]);
        snprintf(name, sizeof(name), "%s", argv[2]);
    } else if (argc == 1) {
        if (!find_edu(name, sizeof(name), &group)) {
            fprintf(stderr, "vfio-edu: no edu device (1234:11e8) in sysfs\n");
            return 1;
        }
    } else {
        fprintf(stderr, "usage: vfio-edu [GROUP DEVICE]\n");
        return 2;
    }
    printf("edu %s in IOMMU group %d\n", name, group);
    open_device(&e, group, name);

    /* memory decode and bus mastering, as a driver's probe does */
    if (pread(e.device, &cmd, 2, (off_t)(e.config + 4)) != 2) {
        die("config read");
    }
    cmd |= 0x6;
    if (pwrite(e.device, &cmd, 2, (off_t)(e.config + 4)) != 2) {
        die("config write");
    }

    uint32_t id = rd32(&e, EDU_ID);
    printf("id register: %#010x (version %u.%u)\n", id, id >> 24,
           (id >> 16) & 0xff);
    ok &= (id & 0xffff) == 0x00ed;
    wr32(&e, EDU_LIVENESS, 0x12345678);
    ok &= rd32(&e, EDU_LIVENESS) == (uint32_t)~0x12345678u;
    printf("liveness: %s\n", ok ? "inverts" : "WRONG");

    setup_irq(&e);

    /* factorial through MMIO, completion by interrupt */
    wr32(&e, EDU_STATUS, EDU_STATUS_IRQ);
    wr32(&e, EDU_FACTORIAL, 10);
    if (!wait_irq(&e, 2000)) {
        printf("factorial: no interrupt\n");
        ok = 0;
    } else {
        uint32_t f = rd32(&e, EDU_FACTORIAL);
        uint32_t why = rd32(&e, EDU_IRQ_STATUS);
        ack_irq(&e);
        printf("factorial: 10! = %u (irq_status %#x)\n", f, why);
        ok &= f == 3628800u && (why & EDU_IRQ_FACT);
    }
    wr32(&e, EDU_STATUS, 0);

    /* DMA: shared memory (a memfd) and plain anonymous memory */
    int mfd = memfd_create("edu-dma", MFD_CLOEXEC);
    if (mfd < 0 || ftruncate(mfd, 2 * PAGE) < 0) {
        die("memfd");
    }
    uint8_t *shm =
        mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    uint8_t *anon = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED || anon == MAP_FAILED) {
        die("mmap");
    }
    map_dma(&e, shm, 0x100000, 2 * PAGE);
    map_dma(&e, anon, 0x200000, 2 * PAGE);
    ok &= round_trip(&e, "shared memory", shm, 0x100000, shm + PAGE, 0x101000);
    ok &= round_trip(&e, "anonymous memory", anon, 0x200000, anon + PAGE,
                     0x201000);
    ok &= round_trip(&e, "anonymous to shared", anon, 0x200000, shm, 0x100000);

    /* a DMA to an IOVA never mapped: refused, nothing moves, no IRQ */
    memset(anon + PAGE, 0x5a, PAGE);
    if (dma(&e, EDU_BUF, 0x900000, PAGE, 1)) {
        printf("DMA to unmapped IOVA 0x900000: completed (WRONG)\n");
        ok = 0;
    } else {
        printf("DMA to unmapped IOVA 0x900000: refused, no completion\n");
    }

    struct vfio_iommu_type1_dma_unmap u = {
        .argsz = sizeof(u), .iova = 0x100000, .size = 2 * PAGE};
    if (ioctl(e.container, VFIO_IOMMU_UNMAP_DMA, &u) < 0 ||
        u.size != 2 * PAGE) {
        die("VFIO_IOMMU_UNMAP_DMA");
    }
    printf("%s\n", ok ? "vfio-edu: all good" : "vfio-edu: FAILED");
    return ok ? 0 : 1;
}
