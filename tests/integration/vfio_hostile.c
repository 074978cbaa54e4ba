/* SPDX-License-Identifier: MIT */
/*
 * vfio_hostile.c - a domain process that speaks the VFIO messages raw
 * (PV_MSG_VFIO, no preload library) and lies in every way it can: wrong
 * lengths, wrong kinds, invented cookies, objects of other connections,
 * descriptors where none belong, SET_IRQS naming eventfds it did not send,
 * MAP_DMA saying "descriptor" without one, out-of-range regions, device
 * opens past the limit.  Each probe prints "name=ret" (a reply's ret, or
 * -1000 if the connection was closed on it); the script compares them and
 * checks the daemon is still there and holds no extra descriptors.
 * usage: vfio_hostile GROUP DEVICE
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"

static struct pvc fresh(void)
{
    struct pvc c;
    int fd = pvc_domain_socket();

    if (fd < 0 || pvc_init(&c, fd)) {
        fprintf(stderr, "vfio_hostile: no connection\n");
        exit(1);
    }
    return c;
}

/* One PV_MSG_VFIO: its ret; rep (cap bytes) gets what follows the reply
 * header; fds in and out. */
static int64_t vcall(struct pvc *c, const struct pv_vfio_req *q,
                     const void *bytes, size_t blen, const int *fds, int nfds,
                     uint8_t *rep, size_t cap, int *rfds, int *nr,
                     uint64_t *cookie)
{
    static uint8_t buf[PV_PAYLOAD_MAX];
    uint8_t in[sizeof(*q) + 8192];
    struct pv_vfio_rep r = {0};
    size_t got = 0;
    int64_t ret;

    memcpy(in, q, sizeof(*q));
    if (blen) {
        memcpy(in + sizeof(*q), bytes, blen);
    }
    ret = pvc_call_full(c, PV_MSG_VFIO, in, sizeof(*q) + blen, fds, nfds, buf,
                        sizeof(buf), &got, rfds, nr);
    if (ret == -ECONNRESET || ret == -EPROTO || ret == -EPIPE) {
        return -1000;
    }
    if (got >= sizeof(r)) {
        memcpy(&r, buf, sizeof(r));
        if (rep) {
            memcpy(rep, buf + sizeof(r),
                   got - sizeof(r) < cap ? got - sizeof(r) : cap);
        }
    }
    if (cookie) {
        *cookie = r.cookie;
    }
    return ret;
}

static void out(const char *name, int64_t v)
{
    printf("%s=%lld\n", name, (long long)v);
    fflush(stdout);
}

static uint64_t open_obj(struct pvc *c, uint32_t op, uint64_t arg, int64_t *ret)
{
    struct pv_vfio_req q = {.op = op, .arg = arg};
    uint64_t cookie = 0;

    *ret = vcall(c, &q, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, &cookie);
    return cookie;
}

static int64_t ioctl_raw(struct pvc *c, uint32_t kind, uint32_t req,
                         uint64_t arg, uint64_t cookie, uint32_t flags,
                         const void *bytes, size_t blen, const int *fds,
                         int nfds, uint8_t *rep, int *rfds, int *nr)
{
    struct pv_vfio_req q = {.op = PV_VFIO_IOCTL,
                            .kind = kind,
                            .request = req,
                            .arg = arg,
                            .cookie = cookie,
                            .flags = flags,
                            .len = (uint32_t)blen};

    return vcall(c, &q, bytes, blen, fds, nfds, rep, 4096, rfds, nr, NULL);
}

int main(int argc, char **argv)
{
    uint32_t group;
    const char *dev;
    int64_t ret;
    uint8_t rep[4096];

    if (argc != 3) {
        fprintf(stderr, "usage: vfio_hostile GROUP DEVICE\n");
        return 2;
    }
    group = (uint32_t)atoi(argv[1]);
    dev = argv[2];

    /* ---- framing and order */
    struct pvc c1 = fresh();
    struct pv_vfio_req q = {.op = PV_VFIO_OPEN_CONTAINER, .len = 100};
    out("len_lies",
        vcall(&c1, &q, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL));
    out("ioctl_before_open",
        ioctl_raw(&c1, PV_VFIO_CONTAINER, VFIO_GET_API_VERSION, 0, 0, 0, NULL,
                  0, NULL, 0, rep, NULL, NULL));
    q = (struct pv_vfio_req){.op = 99};
    out("unknown_op",
        vcall(&c1, &q, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL));
    uint64_t ct = open_obj(&c1, PV_VFIO_OPEN_CONTAINER, 0, &ret);
    out("open_container", ret);
    open_obj(&c1, PV_VFIO_OPEN_GROUP, group, &ret);
    out("second_open_same_conn", ret);
    out("wrong_kind", ioctl_raw(&c1, PV_VFIO_GROUP, VFIO_GROUP_GET_STATUS, 0, 0,
                                0, NULL, 0, NULL, 0, rep, NULL, NULL));

    struct pvc c2 = fresh();
    open_obj(&c2, PV_VFIO_OPEN_GROUP, 0xffffffffffull, &ret);
    out("group_out_of_range", ret);
    open_obj(&c2, PV_VFIO_OPEN_GROUP, 4242, &ret);
    out("group_unknown", ret);
    uint64_t gc = open_obj(&c2, PV_VFIO_OPEN_GROUP, group, &ret);
    out("open_group", ret);
    (void)gc;
    struct pvc c3 = fresh();
    open_obj(&c3, PV_VFIO_OPEN_GROUP, group, &ret);
    out("group_twice", ret);

    /* ---- naming: invented and wrong cookies */
    int32_t fdnum = 3;
    out("set_container_invented",
        ioctl_raw(&c2, PV_VFIO_GROUP, VFIO_GROUP_SET_CONTAINER, (uint64_t)fdnum,
                  0x1234567890abcdefull, 0, NULL, 0, NULL, 0, rep, NULL, NULL));
    out("set_container_zero",
        ioctl_raw(&c2, PV_VFIO_GROUP, VFIO_GROUP_SET_CONTAINER, (uint64_t)fdnum,
                  0, 0, NULL, 0, NULL, 0, rep, NULL, NULL));
    out("set_container",
        ioctl_raw(&c2, PV_VFIO_GROUP, VFIO_GROUP_SET_CONTAINER, (uint64_t)fdnum,
                  ct, 0, NULL, 0, NULL, 0, rep, NULL, NULL));
    out("device_before_iommu",
        ioctl_raw(&c2, PV_VFIO_GROUP, VFIO_GROUP_GET_DEVICE_FD, 0, 0, 0, dev,
                  strlen(dev), NULL, 0, rep, NULL, NULL));
    out("set_iommu",
        ioctl_raw(&c1, PV_VFIO_CONTAINER, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU, 0,
                  0, NULL, 0, NULL, 0, rep, NULL, NULL));

    /* ---- descriptors where none belong: all closed, none kept */
    int junk[16];
    for (int i = 0; i < 16; i++) {
        junk[i] = eventfd(0, 0);
    }
    out("fds_on_status",
        ioctl_raw(&c2, PV_VFIO_GROUP, VFIO_GROUP_GET_STATUS, 0, 0, 0,
                  &(struct vfio_group_status){.argsz = 8}, 8, junk, 16, rep,
                  NULL, NULL));
    q = (struct pv_vfio_req){.op = PV_VFIO_SYSFS};
    out("fds_on_sysfs",
        vcall(&c2, &q, NULL, 0, junk, 16, rep, sizeof(rep), NULL, NULL, NULL));

    /* ---- MAP_DMA that says "descriptor" and sends none; then a real one
     * over it, and a lie about the descriptor's offset */
    void *mem = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct vfio_iommu_type1_dma_map m = {.argsz = sizeof(m),
                                         .flags = VFIO_DMA_MAP_FLAG_READ |
                                                  VFIO_DMA_MAP_FLAG_WRITE,
                                         .vaddr = (uintptr_t)mem,
                                         .iova = 0x10000,
                                         .size = 8192};
    out("map_fd_flag_no_fd",
        ioctl_raw(&c1, PV_VFIO_CONTAINER, VFIO_IOMMU_MAP_DMA, 0, 0,
                  PV_VFIO_F_FD, &m, sizeof(m), NULL, 0, rep, NULL, NULL));
    int mfd = memfd_create("hostile", 0);
    if (ftruncate(mfd, 4096) < 0) {
        return 1;
    }
    m.iova = 0x20000;
    out("map_fd_offset_past_end",
        ioctl_raw(&c1, PV_VFIO_CONTAINER, VFIO_IOMMU_MAP_DMA, 1ull << 40, 0,
                  PV_VFIO_F_FD, &m, sizeof(m), &mfd, 1, rep, NULL, NULL));
    m.iova = 0x10000;
    out("map_overlap",
        ioctl_raw(&c1, PV_VFIO_CONTAINER, VFIO_IOMMU_MAP_DMA, 0, 0, 0, &m,
                  sizeof(m), NULL, 0, rep, NULL, NULL));
    m.argsz = 4;
    out("map_short_argsz", ioctl_raw(&c1, PV_VFIO_CONTAINER, VFIO_IOMMU_MAP_DMA,
                                     0, 0, 0, &m, 4, NULL, 0, rep, NULL, NULL));

    /* ---- devices: open, then past the limit (all kept open) */
    int first[2] = {-1, -1}, dfds[2], nd, opened = 0;
    int64_t last = 0;
    for (int i = 0; i < 80; i++) {
        nd = 2;
        last = ioctl_raw(&c2, PV_VFIO_GROUP, VFIO_GROUP_GET_DEVICE_FD, 0, 0, 0,
                         dev, strlen(dev), NULL, 0, rep, dfds, &nd);
        if (last < 0) {
            break;
        }
        opened++;
        if (i == 0 && nd == 2) {
            first[0] = dfds[0];
            first[1] = dfds[1];
        }
    }
    out("device_opens_before_limit", opened);
    out("device_open_past_limit", last);
    out("device_name_unknown",
        ioctl_raw(&c2, PV_VFIO_GROUP, VFIO_GROUP_GET_DEVICE_FD, 0, 0, 0,
                  "0000:99:00.0", 12, NULL, 0, rep, NULL, NULL));
    out("device_name_options",
        ioctl_raw(&c2, PV_VFIO_GROUP, VFIO_GROUP_GET_DEVICE_FD, 0, 0, 0,
                  "0000:00:01.0 vf_token=x", 23, NULL, 0, rep, NULL, NULL));

    /* ---- REGION_FD on a container, and out of range */
    q = (struct pv_vfio_req){.op = PV_VFIO_REGION_FD, .arg = 0};
    out("region_fd_on_container",
        vcall(&c1, &q, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL));
    if (first[1] >= 0) {
        struct pvc dc;
        if (pvc_init(&dc, first[1]) == 0) {
            /* SET_IRQS naming an eventfd it does not send */
            struct {
                struct vfio_irq_set s;
                int32_t fd;
            } irq = {{.argsz = sizeof(irq),
                      .flags = VFIO_IRQ_SET_DATA_EVENTFD |
                               VFIO_IRQ_SET_ACTION_TRIGGER,
                      .index = VFIO_PCI_MSI_IRQ_INDEX,
                      .start = 0,
                      .count = 1},
                     77};
            out("irqs_fd_not_sent",
                ioctl_raw(&dc, PV_VFIO_DEVICE, VFIO_DEVICE_SET_IRQS, 0, 0, 0,
                          &irq, sizeof(irq), NULL, 0, rep, NULL, NULL));
            irq.s.count = 100000;
            out("irqs_huge_count",
                ioctl_raw(&dc, PV_VFIO_DEVICE, VFIO_DEVICE_SET_IRQS, 0, 0, 0,
                          &irq, sizeof(irq), NULL, 0, rep, NULL, NULL));
            q = (struct pv_vfio_req){.op = PV_VFIO_REGION_FD, .arg = 99};
            out("region_fd_out_of_range",
                vcall(&dc, &q, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL));
            out("group_ioctl_on_device",
                ioctl_raw(&dc, PV_VFIO_GROUP, VFIO_GROUP_GET_STATUS, 0, 0, 0,
                          NULL, 0, NULL, 0, rep, NULL, NULL));
        }
    }
    out("done", 0);
    return 0;
}
