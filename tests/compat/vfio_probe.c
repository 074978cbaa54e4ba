/* SPDX-License-Identifier: MIT */
/*
 * vfio_probe.c - every VFIO ioctl's success and error paths, through
 * <linux/vfio.h> and raw ioctls only, as Linux answers them
 * (reference/vfio.md section 1; drivers/vfio/group.c, container.c,
 * vfio_iommu_type1.c, pci/vfio_pci_core.c).
 *
 *   vfio_probe open GROUP          open /dev/vfio/GROUP: "open=0" or the
 *                                  errno's name; holds it until stdin ends
 *   vfio_probe status GROUP        viable=0|1, then SET_CONTAINER's result
 *   vfio_probe errors GROUP DEV    the error paths, one "ok:"/"FAIL:" line
 *                                  each, and "N checks, M failed"
 *   vfio_probe hold GROUP DEV      sets the device up, says "ready=1",
 *                                  then per stdin line: "read" (BAR0's
 *                                  id), "ioctl" (GET_INFO), "reset":
 *                                  "L=value" or "L=-ERRNO"
 *   vfio_probe fork GROUP DEV      after fork: child_ioctl, child_read
 *                                  (inert descriptors: ENOTTY, and
 *                                  ENODATA for a read at end of file),
 *                                  then parent_read, parent_ioctl
 *   vfio_probe bench GROUP DEV N   N reads of BAR0's id with pread,
 *                                  against the same vfio-user message
 *                                  sent by hand on the device socket
 *                                  (the device model's own cost: the
 *                                  ratio is the library's), and N round
 *                                  trips of those sizes on a raw socket
 *                                  to a child
 *
 * Errors the kernel reports differently across versions are accepted in
 * both forms and say which (SET_CONTAINER of a non-container: EBADFD
 * since 6.2, EINVAL before; a MAP_DMA that wraps: EOVERFLOW in 6.18's
 * selftests, EINVAL before).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

static int checks, failures;

static void check(bool ok, const char *what, int got)
{
    checks++;
    failures += !ok;
    printf("%s: %s (%s)\n", ok ? "ok" : "FAIL", what,
           got < 0    ? strerrorname_np(-got)
           : got == 0 ? "0"
                      : "ret > 0");
    fflush(stdout);
}

/* An ioctl as "0, positive or -errno". */
static int io(int fd, unsigned long req, void *arg)
{
    int r = ioctl(fd, req, arg);

    return r < 0 ? -errno : r;
}

static int io_int(int fd, unsigned long req, long arg)
{
    int r = ioctl(fd, req, arg);

    return r < 0 ? -errno : r;
}

#define EXPECT(call, want, what)                                               \
    do {                                                                       \
        int r_ = (call);                                                       \
        check(r_ == (want), what, r_);                                         \
    } while (0)

#define EXPECT2(call, want1, want2, what)                                      \
    do {                                                                       \
        int r_ = (call);                                                       \
        check(r_ == (want1) || r_ == (want2), what, r_);                       \
    } while (0)

static int open_group(const char *g)
{
    char path[64];

    snprintf(path, sizeof(path), "/dev/vfio/%s", g);
    return open(path, O_RDWR);
}

/* container + group + IOMMU + device: the device, or -1 */
static int setup(const char *g, const char *name, int *container, int *group)
{
    *container = open("/dev/vfio/vfio", O_RDWR);
    *group = open_group(g);
    if (*container < 0 || *group < 0 ||
        io(*group, VFIO_GROUP_SET_CONTAINER, container) ||
        io_int(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
        return -1;
    }
    int dev = ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, name);
    /* memory decode and bus mastering on, as a driver does first (with
     * decode off, vfio-pci answers a BAR access with EIO) */
    uint16_t cmd = 0;
    off_t config = (off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40;
    if (dev >= 0 && pread(dev, &cmd, 2, config + 4) == 2) {
        cmd |= 0x6;
        if (pwrite(dev, &cmd, 2, config + 4) != 2) {
            return -1;
        }
    }
    return dev;
}

static int cmd_open(const char *g)
{
    char line[64];
    int fd = open_group(g);

    printf("open=%s\n", fd < 0 ? strerrorname_np(errno) : "0");
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
    }
    return fd < 0;
}

static int cmd_status(const char *g)
{
    struct vfio_group_status st = {.argsz = sizeof(st)};
    int container = open("/dev/vfio/vfio", O_RDWR);
    int fd = open_group(g);

    if (fd < 0 || container < 0) {
        printf("open=%s\n", strerrorname_np(errno));
        return 1;
    }
    if (io(fd, VFIO_GROUP_GET_STATUS, &st)) {
        printf("status=%s\n", strerrorname_np(errno));
        return 1;
    }
    printf("viable=%d\n", !!(st.flags & VFIO_GROUP_FLAGS_VIABLE));
    int r = io(fd, VFIO_GROUP_SET_CONTAINER, &container);
    printf("set_container=%s\n", r ? strerrorname_np(-r) : "0");
    return 0;
}

static int cmd_errors(const char *g, const char *name)
{
    int container, group, dev, other, efd;
    struct vfio_group_status st = {.argsz = 4};

    container = open("/dev/vfio/vfio", O_RDWR);
    group = open_group(g);
    if (container < 0 || group < 0) {
        printf("FAIL: open (%s)\n", strerrorname_np(errno));
        return 1;
    }

    /* the container alone */
    EXPECT(io(container, VFIO_GET_API_VERSION, NULL), VFIO_API_VERSION,
           "GET_API_VERSION");
    EXPECT(io_int(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1,
           "CHECK_EXTENSION(TYPE1v2)");
    EXPECT(io_int(container, VFIO_CHECK_EXTENSION, 99), 0,
           "CHECK_EXTENSION(99) is 0");
    EXPECT(io_int(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -EINVAL,
           "SET_IOMMU before any group");
    struct vfio_iommu_type1_dma_map m0 = {.argsz = sizeof(m0), .flags = 3};
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &m0), -EINVAL,
           "MAP_DMA before SET_IOMMU");

    /* the group */
    EXPECT(io(group, VFIO_GET_API_VERSION, NULL), -ENOTTY,
           "a container ioctl on a group descriptor");
    EXPECT(io(group, VFIO_GROUP_GET_STATUS, &st), -EINVAL,
           "GET_STATUS with argsz 4");
    EXPECT(io(group, VFIO_GROUP_GET_STATUS, (void *)8), -EFAULT,
           "GET_STATUS at a bad address");
    EXPECT(io(group, VFIO_GROUP_GET_DEVICE_FD, (void *)name), -EINVAL,
           "GET_DEVICE_FD before SET_CONTAINER");
    other = open("/dev/null", O_RDWR);
    EXPECT2(io(group, VFIO_GROUP_SET_CONTAINER, &other), -EBADFD, -EINVAL,
            "SET_CONTAINER of a descriptor that is no container");
    close(other);
    EXPECT(io(group, VFIO_GROUP_SET_CONTAINER, &other), -EBADF,
           "SET_CONTAINER of a closed descriptor");
    EXPECT(io(group, VFIO_GROUP_SET_CONTAINER, (void *)8), -EFAULT,
           "SET_CONTAINER at a bad address");
    EXPECT(io(group, VFIO_GROUP_UNSET_CONTAINER, NULL), -EINVAL,
           "UNSET_CONTAINER with none set");
    EXPECT(io(group, VFIO_GROUP_SET_CONTAINER, &container), 0, "SET_CONTAINER");
    EXPECT(io(group, VFIO_GROUP_SET_CONTAINER, &container), -EINVAL,
           "SET_CONTAINER twice");
    EXPECT(io(group, VFIO_GROUP_GET_DEVICE_FD, (void *)name), -EINVAL,
           "GET_DEVICE_FD before SET_IOMMU");
    EXPECT(io_int(container, VFIO_SET_IOMMU, 99), -ENODEV, "SET_IOMMU(99)");
    EXPECT(io_int(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0,
           "SET_IOMMU(TYPE1v2)");
    EXPECT(io_int(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -EINVAL,
           "SET_IOMMU twice");
    st.argsz = sizeof(st);
    EXPECT(io(group, VFIO_GROUP_GET_STATUS, &st), 0, "GET_STATUS");
    check(st.flags ==
              (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET),
          "GET_STATUS says VIABLE | CONTAINER_SET", (int)st.flags);
    int again = open_group(g);
    check(again < 0 && errno == EBUSY, "a second open of the group",
          again < 0 ? -errno : 0);

    /* IOMMU_GET_INFO: grow and retry */
    struct vfio_iommu_type1_info small = {.argsz = 16};
    EXPECT(io(container, VFIO_IOMMU_GET_INFO, &small), 0,
           "IOMMU_GET_INFO with argsz 16");
    check((small.flags & VFIO_IOMMU_INFO_PGSIZES) && small.iova_pgsizes,
          "IOMMU_GET_INFO reports page sizes", (int)small.flags);
    uint8_t *big = calloc(1, small.argsz > 16 ? small.argsz : 64);
    memcpy(big, &(uint32_t){small.argsz > 16 ? small.argsz : 64}, 4);
    EXPECT(io(container, VFIO_IOMMU_GET_INFO, big), 0,
           "IOMMU_GET_INFO again with argsz as asked");
    struct vfio_iommu_type1_info *bi = (void *)big;
    bool range = false;
    /* walk the chain: offsets from the start, each past the last */
    uint32_t off = (bi->flags & VFIO_IOMMU_INFO_CAPS) ? bi->cap_offset : 0;
    for (int hops = 0; off && off + 16 <= bi->argsz && hops < 16 && !range;
         hops++) {
        struct vfio_info_cap_header *h = (void *)(big + off);
        range =
            h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE &&
            ((struct vfio_iommu_type1_info_cap_iova_range *)h)->nr_iovas > 0;
        off = h->next > off ? h->next : 0;
    }
    check(range, "the IOVA_RANGE capability after the retry", 0);
    free(big);

    /* MAP_DMA and UNMAP_DMA */
    uint8_t *mem = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct vfio_iommu_type1_dma_map m = {
        .argsz = sizeof(m),
        .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
        .vaddr = (uintptr_t)mem,
        .iova = 0x100000,
        .size = 2 * 4096,
    };
    struct vfio_iommu_type1_dma_map bad = m;
    bad.argsz = 16;
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL,
           "MAP_DMA with argsz under its size");
    bad = m;
    bad.flags |= 0x80;
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL,
           "MAP_DMA with an unknown flag");
    bad = m;
    bad.flags = 0;
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL,
           "MAP_DMA neither readable nor writable");
    bad = m;
    bad.iova += 8;
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL,
           "MAP_DMA at an unaligned IOVA");
    bad = m;
    bad.size = 0;
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL,
           "MAP_DMA of 0 bytes");
    bad = m;
    bad.iova = ~0ull & ~4095ull;
    EXPECT2(io(container, VFIO_IOMMU_MAP_DMA, &bad), -EOVERFLOW, -EINVAL,
            "MAP_DMA that wraps past the top of the IOVA space");
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &m), 0, "MAP_DMA of 2 pages");
    bad = m;
    bad.iova += 4096;
    bad.vaddr += 2 * 4096;
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &bad), -EEXIST,
           "MAP_DMA overlapping a mapping");
    bad.iova = m.iova + 2 * 4096;
    EXPECT(io(container, VFIO_IOMMU_MAP_DMA, &bad), 0,
           "MAP_DMA of the next 2 pages");
    struct vfio_iommu_type1_dma_unmap u = {
        .argsz = sizeof(u), .iova = 0x100000, .size = 4096};
    EXPECT(io(container, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL,
           "UNMAP_DMA of half a mapping (no bisecting)");
    u = (struct vfio_iommu_type1_dma_unmap){
        .argsz = sizeof(u), .flags = VFIO_DMA_UNMAP_FLAG_ALL, .iova = 4096};
    EXPECT(io(container, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL,
           "UNMAP_DMA ALL with an IOVA");
    u = (struct vfio_iommu_type1_dma_unmap){
        .argsz = sizeof(u), .iova = 0x100000, .size = 2 * 4096};
    EXPECT(io(container, VFIO_IOMMU_UNMAP_DMA, &u), 0,
           "UNMAP_DMA of the first mapping");
    check(u.size == 2 * 4096, "UNMAP_DMA says 2 pages went", (int)u.size);
    u = (struct vfio_iommu_type1_dma_unmap){
        .argsz = sizeof(u), .iova = 0x100000, .size = 2 * 4096};
    EXPECT(io(container, VFIO_IOMMU_UNMAP_DMA, &u), 0, "UNMAP_DMA of nothing");
    check(u.size == 0, "UNMAP_DMA says 0 bytes went", (int)u.size);
    EXPECT(io_int(container, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1,
           "CHECK_EXTENSION(UNMAP_ALL)");
    u = (struct vfio_iommu_type1_dma_unmap){.argsz = sizeof(u),
                                            .flags = VFIO_DMA_UNMAP_FLAG_ALL};
    EXPECT(io(container, VFIO_IOMMU_UNMAP_DMA, &u), 0, "UNMAP_DMA ALL");
    check(u.size == 2 * 4096, "UNMAP_DMA ALL says the rest went", (int)u.size);

    /* the device */
    EXPECT(io(group, VFIO_GROUP_GET_DEVICE_FD, (char[]){"no-such-device"}),
           -ENODEV, "GET_DEVICE_FD of an unknown name");
    dev = io(group, VFIO_GROUP_GET_DEVICE_FD, (void *)name);
    check(dev >= 0, "GET_DEVICE_FD", dev < 0 ? dev : 0);
    if (dev < 0) {
        printf("%d checks, %d failed\n", checks, failures);
        return 1;
    }
    check((fcntl(dev, F_GETFD) & FD_CLOEXEC) != 0,
          "the device descriptor is close-on-exec", 0);
    EXPECT(io(group, VFIO_GROUP_UNSET_CONTAINER, NULL), -EBUSY,
           "UNSET_CONTAINER while a device is open");
    struct vfio_device_info di = {.argsz = 8};
    EXPECT(io(dev, VFIO_DEVICE_GET_INFO, &di), -EINVAL,
           "DEVICE_GET_INFO with argsz 8");
    di.argsz = sizeof(di);
    EXPECT(io(dev, VFIO_DEVICE_GET_INFO, &di), 0, "DEVICE_GET_INFO");
    check((di.flags & VFIO_DEVICE_FLAGS_PCI) &&
              di.num_regions >= VFIO_PCI_NUM_REGIONS &&
              di.num_irqs >= VFIO_PCI_NUM_IRQS,
          "a PCI device with its regions and IRQ indexes", (int)di.flags);
    EXPECT(io(dev, VFIO_IOMMU_GET_INFO, NULL), -EFAULT,
           "0x3B70 on a device is GET_PCI_HOT_RESET_INFO (NULL: EFAULT)");
    EXPECT(io(dev, VFIO_BASE + ((VFIO_TYPE) << 8) + 60, NULL), -ENOTTY,
           "an unknown ioctl on a device");
    struct vfio_region_info ri = {.argsz = sizeof(ri), .index = 99};
    EXPECT(io(dev, VFIO_DEVICE_GET_REGION_INFO, &ri), -EINVAL,
           "GET_REGION_INFO of region 99");
    ri = (struct vfio_region_info){.argsz = 16, .index = 0};
    EXPECT(io(dev, VFIO_DEVICE_GET_REGION_INFO, &ri), -EINVAL,
           "GET_REGION_INFO with argsz 16");
    ri = (struct vfio_region_info){.argsz = sizeof(ri),
                                   .index = VFIO_PCI_CONFIG_REGION_INDEX};
    EXPECT(io(dev, VFIO_DEVICE_GET_REGION_INFO, &ri), 0,
           "GET_REGION_INFO of config space");
    uint16_t vid = 0;
    check(pread(dev, &vid, 2, (off_t)ri.offset) == 2 && vid == 0x1234,
          "pread of the vendor ID", vid);
    uint8_t b;
    check(pread(dev, &b, 1, (off_t)99 << 40) < 0 && errno == EINVAL,
          "pread of region 99", -errno);
    check(read(dev, &b, 1) < 0, "read() of a device", -errno);
    struct vfio_irq_info ii = {.argsz = sizeof(ii), .index = 99};
    EXPECT(io(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii), -EINVAL,
           "GET_IRQ_INFO of index 99");
    ii = (struct vfio_irq_info){.argsz = sizeof(ii),
                                .index = VFIO_PCI_INTX_IRQ_INDEX};
    EXPECT(io(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii), 0, "GET_IRQ_INFO(INTx)");
    check(ii.count == 1 && (ii.flags & VFIO_IRQ_INFO_AUTOMASKED),
          "INTx: one, automasked", (int)ii.flags);

    /* SET_IRQS */
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    /* vfio_irq_set with one eventfd in data[] */
    struct irq_set1 {
        struct {
            uint32_t argsz, flags, index, start, count;
        } s;
        int32_t fd;
    } irq = {{sizeof(irq),
              VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
              VFIO_PCI_MSI_IRQ_INDEX, 0, 1},
             efd};
    _Static_assert(sizeof(irq.s) == sizeof(struct vfio_irq_set) &&
                       offsetof(struct irq_set1, fd) ==
                           offsetof(struct vfio_irq_set, data),
                   "vfio_irq_set layout");
    __typeof__(irq) x = irq;
    x.s.flags |= VFIO_IRQ_SET_DATA_NONE;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), -EINVAL,
           "SET_IRQS with two data types");
    x = irq;
    x.s.flags = VFIO_IRQ_SET_DATA_EVENTFD;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), -ENOTTY,
           "SET_IRQS without an action (no vfio-pci handler)");
    x = irq;
    x.s.flags |= 1u << 12;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), -EINVAL,
           "SET_IRQS with an unknown flag");
    x = irq;
    x.s.index = 99;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), -EINVAL, "SET_IRQS of index 99");
    x = irq;
    x.s.start = 1;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), -EINVAL,
           "SET_IRQS past the index's count");
    x = irq;
    x.s.argsz = sizeof(x.s);
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), -EINVAL,
           "SET_IRQS whose argsz leaves out the eventfd");
    x = irq;
    x.fd = 1000;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), -EBADF,
           "SET_IRQS with a closed eventfd");
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &irq), 0,
           "SET_IRQS MSI EVENTFD|TRIGGER");
    x = irq;
    x.s.index = VFIO_PCI_INTX_IRQ_INDEX;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), -EINVAL,
           "SET_IRQS INTx while MSI is on");
    struct vfio_irq_set loop = {
        sizeof(loop), VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        VFIO_PCI_MSI_IRQ_INDEX, 0, 1};
    uint64_t cnt = 0;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &loop), 0,
           "SET_IRQS NONE|TRIGGER (loopback)");
    struct pollfd pf = {.fd = efd, .events = POLLIN};
    check(poll(&pf, 1, 1000) == 1 && read(efd, &cnt, 8) == 8 && cnt == 1,
          "the loopback signals the eventfd", (int)cnt);
    loop.count = 0;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &loop), 0,
           "SET_IRQS NONE|TRIGGER count 0 (disable)");
    x = irq;
    x.s.index = VFIO_PCI_INTX_IRQ_INDEX;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &x), 0,
           "SET_IRQS INTx once MSI is off");
    struct vfio_irq_set unmask = {
        sizeof(unmask), VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
        VFIO_PCI_INTX_IRQ_INDEX, 0, 1};
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &unmask), 0,
           "SET_IRQS NONE|UNMASK of INTx");
    loop.index = VFIO_PCI_INTX_IRQ_INDEX;
    loop.count = 0;
    EXPECT(io(dev, VFIO_DEVICE_SET_IRQS, &loop), 0,
           "SET_IRQS INTx count 0 (disable)");
    close(efd);
    if (di.flags & VFIO_DEVICE_FLAGS_RESET) {
        EXPECT(io(dev, VFIO_DEVICE_RESET, NULL), 0, "DEVICE_RESET");
    }

    /* closing */
    close(dev);
    EXPECT(io(group, VFIO_GROUP_UNSET_CONTAINER, NULL), 0,
           "UNSET_CONTAINER once the device is closed");
    EXPECT(io(group, VFIO_GROUP_GET_DEVICE_FD, (void *)name), -EINVAL,
           "GET_DEVICE_FD after UNSET_CONTAINER");
    close(group);
    close(container);
    printf("%d checks, %d failed\n", checks, failures);
    return failures != 0;
}

static int bar0_id(int dev, uint32_t *id)
{
    ssize_t n = pread(dev, id, 4, 0);

    return n == 4 ? 0 : n < 0 ? -errno : -ENODATA; /* ENODATA: short */
}

static int cmd_hold(const char *g, const char *name)
{
    int container, group, dev = setup(g, name, &container, &group);
    char line[64];

    printf("ready=%d\n", dev >= 0);
    fflush(stdout);
    if (dev < 0) {
        printf("setup=%s\n", strerrorname_np(errno));
        return 1;
    }
    while (fgets(line, sizeof(line), stdin)) {
        uint32_t id = 0;
        int r;
        if (strncmp(line, "read", 4) == 0) {
            r = bar0_id(dev, &id);
            printf("read=%s\n", r ? strerrorname_np(-r) : "0");
            if (!r) {
                printf("id=%#x\n", id);
            }
        } else if (strncmp(line, "ioctl", 5) == 0) {
            struct vfio_device_info di = {.argsz = sizeof(di)};
            r = io(dev, VFIO_DEVICE_GET_INFO, &di);
            printf("ioctl=%s\n", r ? strerrorname_np(-r) : "0");
        } else if (strncmp(line, "reset", 5) == 0) {
            r = io(dev, VFIO_DEVICE_RESET, NULL);
            printf("reset=%s\n", r ? strerrorname_np(-r) : "0");
        }
        fflush(stdout);
    }
    return 0;
}

/* procvisor's fork rule (docs/compat.md): the child's VFIO descriptors
 * are inert, the parent's keep working. */
static int cmd_fork(const char *g, const char *name)
{
    int container, group, dev = setup(g, name, &container, &group);
    uint32_t id = 0;
    int st = 0;

    if (dev < 0) {
        printf("setup=%s\n", strerrorname_np(errno));
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int r = io(container, VFIO_GET_API_VERSION, NULL);
        int w = bar0_id(dev, &id);
        printf("child_ioctl=%s\nchild_read=%s\n",
               r < 0 ? strerrorname_np(-r) : "0",
               w < 0 ? strerrorname_np(-w) : "0");
        _exit(0);
    }
    waitpid(pid, &st, 0);
    int r = bar0_id(dev, &id);
    printf("parent_read=%s\n", r < 0 ? strerrorname_np(-r) : "0");
    r = io(container, VFIO_GET_API_VERSION, NULL);
    printf("parent_ioctl=%d\n", r);
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp);
    return v[n / 2];
}

/* The floor: the same message sizes (32 bytes out, 36 back) on a raw
 * stream socket to a child process echoing them. */
static uint64_t raw_round_trip(int n, uint64_t *t)
{
    int sv[2];
    uint8_t q[32], r[36] = {0};

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
        return 0;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        while (recv(sv[1], q, sizeof(q), MSG_WAITALL) == sizeof(q)) {
            if (send(sv[1], r, sizeof(r), MSG_NOSIGNAL) != sizeof(r)) {
                break;
            }
        }
        _exit(0);
    }
    close(sv[1]);
    memset(q, 0, sizeof(q));
    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if (send(sv[0], q, sizeof(q), MSG_NOSIGNAL) != sizeof(q) ||
            recv(sv[0], r, sizeof(r), MSG_WAITALL) != sizeof(r)) {
            break;
        }
        t[i] = now_ns() - t0;
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
    return median(t, n);
}

/* The same REGION_READ (vfio-user, 4 bytes of BAR0 at 0) sent by hand on
 * the device descriptor, which is the device model's socket under
 * procvisor: the same model's answer without the preload library. */
static uint64_t raw_region_read(int dev, int n, uint64_t *t)
{
    struct {
        uint16_t id, cmd;
        uint32_t size, flags, error;
        uint64_t offset;
        uint32_t region, count;
    } q = {.cmd = 9, .size = 32, .count = 4};
    uint8_t r[36];

    for (int i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        q.id = (uint16_t)(0x8000 + i);
        if (send(dev, &q, sizeof(q), MSG_NOSIGNAL) != sizeof(q) ||
            recv(dev, r, sizeof(r), MSG_WAITALL) != sizeof(r)) {
            return 0; /* not a vfio-user socket */
        }
        t[i] = now_ns() - t0;
    }
    return median(t, n);
}

static int cmd_bench(const char *g, const char *name, int n)
{
    int container, group, dev = setup(g, name, &container, &group);
    uint64_t *t = calloc((size_t)n, sizeof(*t));
    uint32_t id;

    if (dev < 0 || !t || n < 1) {
        printf("setup=%s\n", strerrorname_np(errno));
        return 1;
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < n; i++) {
            uint64_t t0 = now_ns();
            if (bar0_id(dev, &id)) {
                printf("read=%s\n", strerrorname_np(errno));
                return 1;
            }
            t[i] = now_ns() - t0;
        }
        uint64_t shim = median(t, n);
        uint64_t same = raw_region_read(dev, n, t);
        uint64_t raw = raw_round_trip(n, t);
        printf("pread_ns=%llu dm_raw_ns=%llu ratio=%.2f socket_raw_ns=%llu\n",
               (unsigned long long)shim, (unsigned long long)same,
               same ? (double)shim / (double)same : 0.0,
               (unsigned long long)raw);
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "open") == 0) {
        return cmd_open(argv[2]);
    }
    if (argc == 3 && strcmp(argv[1], "status") == 0) {
        return cmd_status(argv[2]);
    }
    if (argc == 4 && strcmp(argv[1], "errors") == 0) {
        return cmd_errors(argv[2], argv[3]);
    }
    if (argc == 4 && strcmp(argv[1], "hold") == 0) {
        return cmd_hold(argv[2], argv[3]);
    }
    if (argc == 4 && strcmp(argv[1], "fork") == 0) {
        return cmd_fork(argv[2], argv[3]);
    }
    if (argc == 5 && strcmp(argv[1], "bench") == 0) {
        return cmd_bench(argv[2], argv[3], atoi(argv[4]));
    }
    fprintf(stderr, "usage: vfio_probe open|status GROUP | "
                    "errors|hold GROUP DEVICE | bench GROUP DEVICE N\n");
    return 2;
}
