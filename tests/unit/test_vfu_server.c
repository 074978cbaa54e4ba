/* SPDX-License-Identifier: MIT */
/*
 * test_vfu_server.c - the device-model library in-process: an edu (and an
 * mtty) device driven through a virtual main connection, with real
 * eventfds, memfds and sockets.  Negotiation and its failures, device and
 * region and interrupt information, SET_IRQS with vfio-pci's rules (INTx
 * auto-mask, UNMASK re-signalling, INTX_DISABLE, the unmask eventfd,
 * mode exclusion, count 0, loopback, de-assigning), DMA maps and their
 * errors, the device's DMA through memfds, FILE_IO and message DMA (served
 * by the test, refusals included), region access errors, restricted
 * clients on a socket, malformed commands, reset and the session's end.
 *
 * Leak check: each test ends with as many open descriptors as it began
 * with, after the device is freed; LeakSanitizer checks memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/pci_regs.h>

#include "vfu_devices.h"
#include "vfu_server.h"

#define MEM_BASE 0x100000ull
#define MEM_SIZE 0x4000u

struct t {
    const struct vfu_model *model;
    struct vfu_dev *d;
    struct vfu_conn *c;
    uint16_t id;
    /* the last message the server sent */
    uint8_t *msg;
    size_t len;
    int fds[16];
    unsigned int nfds;
    unsigned int nmsgs;
    /* the client's memory for message DMA */
    uint8_t mem[MEM_SIZE];
    int refuse; /* errno to answer with */
    unsigned int dma_msgs;
    int fds_before;
};

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(d);
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

static void drop_fds(struct t *t)
{
    for (unsigned int i = 0; i < t->nfds; i++) {
        close(t->fds[i]);
    }
    t->nfds = 0;
}

static void sink(void *ctx, const void *msg, size_t len, const int *fds,
                 unsigned int nfds)
{
    struct t *t = ctx;

    drop_fds(t);
    free(t->msg);
    t->msg = malloc(len);
    assert_non_null(t->msg);
    memcpy(t->msg, msg, len);
    t->len = len;
    for (unsigned int i = 0; i < nfds; i++) {
        t->fds[t->nfds++] = fds[i];
    }
    t->nmsgs++;
}

static int peer_dma(void *ctx, bool write, uint64_t addr, void *buf,
                    uint64_t len)
{
    struct t *t = ctx;

    t->dma_msgs++;
    if (t->refuse) {
        return t->refuse;
    }
    if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE ||
        len > MEM_SIZE - (addr - MEM_BASE)) {
        return EFAULT;
    }
    if (write) {
        memcpy(t->mem + (addr - MEM_BASE), buf, len);
    } else {
        memcpy(buf, t->mem + (addr - MEM_BASE), len);
    }
    return 0;
}

static void connect_main(struct t *t)
{
    assert_int_equal(vfu_conn_virtual(t->d, sink, peer_dma, t, &t->c), 0);
}

static int setup_model(void **state, const struct vfu_model *m)
{
    struct t *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    t->fds_before = count_fds();
    t->model = m;
    assert_int_equal(m->create(0, NULL, &t->d), 0);
    vfu_dev_set_quiet(t->d, true);
    connect_main(t);
    *state = t;
    return 0;
}

static int setup_edu(void **state)
{
    return setup_model(state, &vfu_model_edu);
}

static int setup_mtty(void **state)
{
    return setup_model(state, &vfu_model_mtty);
}

static int teardown(void **state)
{
    struct t *t = *state;
    int before = t->fds_before;

    drop_fds(t);
    free(t->msg);
    t->model->destroy(t->d);
    free(t);
    assert_int_equal(count_fds(), before);
    return 0;
}

/* Send one command; 0 or the reply's errno.  The reply's payload is at
 * rp(t), rlen(t) bytes. */
static int call_flags(struct t *t, uint16_t cmd, uint32_t flags, const void *p1,
                      size_t l1, const void *p2, size_t l2, const int *fds,
                      unsigned int nfds)
{
    struct vfu_piece pc[2] = {{p1, l1}, {p2, l2}};
    uint8_t *buf = malloc(VFU_HDR_SIZE + l1 + l2);
    struct vfu_hdr h;
    unsigned int before = t->nmsgs;
    long n;
    int rc;

    assert_non_null(buf);
    n = vfu_msg_build(buf, VFU_HDR_SIZE + l1 + l2, ++t->id, cmd, flags, pc, 2);
    assert_true(n > 0);
    rc = vfu_conn_feed(t->c, buf, (size_t)n, fds, nfds);
    free(buf);
    if (rc == -ENOTCONN && t->nmsgs == before) {
        return -ENOTCONN;
    }
    if ((flags & VFU_F_NO_REPLY) && t->nmsgs == before) {
        return 0; /* as asked (a header with bad flags is answered) */
    }
    assert_int_equal(t->nmsgs, before + 1);
    assert_int_equal(vfu_hdr_parse(t->msg, t->len, &h), 0);
    assert_int_equal(h.msg_size, t->len);
    assert_int_equal(h.msg_id, t->id);
    assert_int_equal(h.cmd, cmd);
    assert_int_equal(h.flags & VFU_F_TYPE_MASK, VFU_F_TYPE_REPLY);
    if (h.flags & VFU_F_ERROR) {
        assert_int_equal(h.msg_size, VFU_HDR_SIZE);
        assert_true(h.error_no > 0);
        return (int)h.error_no;
    }
    return 0;
}

static int call(struct t *t, uint16_t cmd, const void *p, size_t len,
                const int *fds, unsigned int nfds)
{
    return call_flags(t, cmd, VFU_F_TYPE_COMMAND, p, len, NULL, 0, fds, nfds);
}

static const uint8_t *rp(const struct t *t)
{
    return t->msg + VFU_HDR_SIZE;
}

static size_t rlen(const struct t *t)
{
    return t->len - VFU_HDR_SIZE;
}

static void negotiate(struct t *t)
{
    static const char json[] =
        "{\"capabilities\":{\"max_msg_fds\":8,\"twin_socket\":"
        "{\"supported\":true}}}";
    struct vfu_version v = {0, 2};

    assert_int_equal(call_flags(t, VFU_CMD_VERSION, 0, &v, sizeof(v), json,
                                sizeof(json), NULL, 0),
                     0);
}

static int region_rw(struct t *t, bool write, uint32_t region, uint64_t off,
                     void *buf, uint32_t count)
{
    struct vfu_region_access ra = {off, region, count};
    int rc;

    if (write) {
        return call_flags(t, VFU_CMD_REGION_WRITE, 0, &ra, sizeof(ra), buf,
                          count, NULL, 0);
    }
    rc = call(t, VFU_CMD_REGION_READ, &ra, sizeof(ra), NULL, 0);
    if (rc == 0) {
        assert_int_equal(rlen(t), 16 + count);
        memcpy(buf, rp(t) + 16, count);
    }
    return rc;
}

static uint32_t rd32(struct t *t, uint32_t region, uint64_t off)
{
    uint32_t v = 0;

    assert_int_equal(region_rw(t, false, region, off, &v, 4), 0);
    return v;
}

static void wr32(struct t *t, uint32_t region, uint64_t off, uint32_t v)
{
    assert_int_equal(region_rw(t, true, region, off, &v, 4), 0);
}

static void wr64(struct t *t, uint32_t region, uint64_t off, uint64_t v)
{
    assert_int_equal(region_rw(t, true, region, off, &v, 8), 0);
}

static void command(struct t *t, uint16_t cmd)
{
    assert_int_equal(
        region_rw(t, true, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, &cmd, 2),
        0);
}

static int set_irqs(struct t *t, uint32_t flags, uint32_t index, uint32_t start,
                    uint32_t count, const void *data, size_t dlen,
                    const int *fds, unsigned int nfds)
{
    struct vfu_irq_set is = {(uint32_t)(20 + dlen), flags, index, start, count};

    return call_flags(t, VFU_CMD_DEVICE_SET_IRQS, 0, &is, sizeof(is), data,
                      dlen, fds, nfds);
}

static uint64_t efd_read(int fd)
{
    uint64_t v = 0;

    if (read(fd, &v, sizeof(v)) != sizeof(v)) {
        return 0;
    }
    return v;
}

static int dup_fd(int fd)
{
    int n = fcntl(fd, F_DUPFD_CLOEXEC, 0);

    assert_true(n >= 0);
    return n;
}

#define EFD_TRIGGER  (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define NONE_TRIGGER (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)
#define BOOL_TRIGGER (VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER)
#define NONE_UNMASK  (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK)
#define NONE_MASK    (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK)
#define BOOL_MASK    (VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK)
#define BOOL_UNMASK  (VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK)
#define EFD_UNMASK   (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK)
#define EFD_MASK     (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK)

/* ---- negotiation ---- */

static void test_version(void **state)
{
    struct t *t = *state;
    struct vfu_device_info di = {16, 0, 0, 0};
    struct vfu_version v = {0, 7}, rv;
    struct vfu_caps caps;

    /* anything before VERSION */
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0),
                     EINVAL);
    assert_int_equal(call(t, VFU_CMD_VERSION, &v, sizeof(v), NULL, 0), 0);
    assert_int_equal(vfu_check_version(rp(t), rlen(t), &rv, &caps), 0);
    assert_int_equal(rv.major, 0);
    assert_int_equal(rv.minor, VFU_VERSION_MINOR);
    assert_int_equal(caps.max_msg_fds, VFU_MAX_MSG_FDS);
    assert_int_equal(caps.max_data_xfer_size, VFU_MAX_DATA_XFER);
    assert_int_equal(caps.max_dma_maps, VFU_SERVER_MAX_DMA_MAPS);
    assert_true(caps.write_multiple);
    assert_false(caps.twin_supported); /* no socket, no twin */
    /* a second VERSION */
    assert_int_equal(call(t, VFU_CMD_VERSION, &v, sizeof(v), NULL, 0), EINVAL);
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0),
                     0);
    /* a bad VERSION closes the connection after its reply */
    vfu_conn_close(t->c);
    connect_main(t);
    assert_int_equal(
        call_flags(t, VFU_CMD_VERSION, 0, &v, sizeof(v), "{x}", 4, NULL, 0),
        EINVAL);
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0),
                     -ENOTCONN);
    vfu_conn_close(t->c);
    connect_main(t);
    v.major = 1;
    assert_int_equal(call(t, VFU_CMD_VERSION, &v, sizeof(v), NULL, 0), ENOTSUP);
    assert_int_equal(call(t, VFU_CMD_VERSION, &v, sizeof(v), NULL, 0),
                     -ENOTCONN);
    vfu_conn_close(t->c);
    connect_main(t);
    /* descriptors with VERSION */
    {
        int fd = eventfd(0, EFD_CLOEXEC);

        v.major = 0;
        assert_int_equal(call(t, VFU_CMD_VERSION, &v, sizeof(v), &fd, 1),
                         EINVAL);
    }
    vfu_conn_close(t->c);
    connect_main(t);
    negotiate(t);
}

/* ---- information ---- */

static void test_info(void **state)
{
    struct t *t = *state;
    struct vfu_device_info di = {16, 0, 0, 0};
    struct vfu_region_info ri = {256, 0, 0, 0, 0, 0}, out;
    struct vfu_sparse_area a[4];
    struct vfu_irq_info ii = {16, 0, 0, 0};
    struct vfu_io_fds q = {16, 0, 0, 0};
    uint32_t nr;

    negotiate(t);
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0),
                     0);
    assert_int_equal(vfu_check_device_info_reply(rp(t), rlen(t), &di), 0);
    assert_int_equal(di.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
    assert_int_equal(di.num_regions, 9);
    assert_int_equal(di.num_irqs, 5);

    /* BAR0: trapped, mmap-able only at the buffer */
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0), 0);
    assert_int_equal(t->nfds, 1);
    assert_int_equal(vfu_check_region_info_reply(rp(t), rlen(t), t->nfds, 0,
                                                 256, &out, a, 4, &nr),
                     0);
    assert_int_equal(out.size, 1 << 20);
    assert_int_equal(
        out.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                       VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
    assert_int_equal(nr, 1);
    assert_int_equal(a[0].offset, EDU_DMA_BUF);
    assert_int_equal(a[0].size, EDU_DMA_BUF_SIZE);
    {
        /* the fd maps the buffer the device uses */
        uint8_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
                          t->fds[0], EDU_DMA_BUF);
        uint32_t v;

        assert_true(m != MAP_FAILED);
        memcpy(m, "\x11\x22\x33\x44", 4);
        command(t, PCI_COMMAND_MEMORY);
        assert_int_equal(region_rw(t, false, 0, EDU_DMA_BUF, &v, 4), 0);
        assert_int_equal(v, 0x44332211);
        munmap(m, 4096);
    }
    /* too little room: CAPS, no chain, argsz says how much */
    ri.argsz = 32;
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0), 0);
    memcpy(&out, rp(t), sizeof(out));
    assert_int_equal(rlen(t), 32);
    assert_int_equal(out.argsz, 32 + 16 + 16);
    assert_int_equal(out.cap_offset, 0);
    /* config: 256 bytes, no mmap */
    ri = (struct vfu_region_info){32, 0, VFIO_PCI_CONFIG_REGION_INDEX};
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0), 0);
    memcpy(&out, rp(t), sizeof(out));
    assert_int_equal(out.size, 256);
    assert_int_equal(out.flags,
                     VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
    assert_int_equal(t->nfds, 0);
    /* absent BAR, VGA; no such region */
    ri.index = 3;
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0), 0);
    memcpy(&out, rp(t), sizeof(out));
    assert_int_equal(out.size, 0);
    assert_int_equal(out.flags, 0);
    ri.index = 9;
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0),
        EINVAL);
    ri.index = 0;
    ri.argsz = 8;
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0),
        EINVAL);

    /* IRQ info, per index */
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_IRQ_INFO, &ii, 16, NULL, 0), 0);
    assert_int_equal(vfu_check_irq_info_reply(rp(t), rlen(t), 0, &ii), 0);
    assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
                                   VFIO_IRQ_INFO_AUTOMASKED);
    assert_int_equal(ii.count, 1);
    ii.index = 1;
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_IRQ_INFO, &ii, 16, NULL, 0), 0);
    memcpy(&ii, rp(t), 16);
    assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
    assert_int_equal(ii.count, 1);
    for (uint32_t i = 2; i < 5; i++) {
        ii = (struct vfu_irq_info){16, 0, i, 0};
        assert_int_equal(call(t, VFU_CMD_DEVICE_GET_IRQ_INFO, &ii, 16, NULL, 0),
                         0);
        memcpy(&ii, rp(t), 16);
        assert_int_equal(ii.count, 0);
    }
    ii.index = 5;
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_IRQ_INFO, &ii, 16, NULL, 0),
                     EINVAL);

    /* no ioeventfds: count 0 */
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &q, sizeof(q), NULL, 0), 0);
    assert_int_equal(vfu_check_io_fds_reply(rp(t), rlen(t), 0, 0, &q), 0);
    assert_int_equal(q.count, 0);
    q = (struct vfu_io_fds){16, 0, 3, 0}; /* an absent region */
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_IO_FDS, &q, sizeof(q), NULL, 0),
        EINVAL);
}

/* ---- INTx ---- */

static void test_intx(void **state)
{
    struct t *t = *state;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), f;
    uint8_t one = 1, zero = 0;

    negotiate(t);
    command(t, PCI_COMMAND_MEMORY);
    /* loopback, mask, unmask before INTx is enabled */
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 0, 0, 1, NULL, 0, NULL, 0),
                     EINVAL);
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0),
                     EINVAL);
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 0, 0, 0, NULL, 0, NULL, 0),
                     EINVAL);
    f = dup_fd(efd);
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 0, 0, 1, NULL, 0, &f, 1), 0);
    assert_int_equal(vfu_dev_irq_mode(t->d), VFIO_PCI_INTX_IRQ_INDEX);
    assert_false(vfu_dev_intx_masked(t->d));

    /* the device raises: one signal, auto-masked */
    wr32(t, 0, EDU_REG_IRQ_RAISE, 0x10);
    assert_int_equal(efd_read(efd), 1);
    assert_true(vfu_dev_intx_masked(t->d));
    assert_int_equal(rd32(t, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND) >> 16 &
                         PCI_STATUS_INTERRUPT,
                     PCI_STATUS_INTERRUPT);
    wr32(t, 0, EDU_REG_IRQ_RAISE, 0x20);
    assert_int_equal(efd_read(efd), 0); /* masked: nothing */
    /* UNMASK while still asserted: signalled again, still masked */
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 1);
    assert_true(vfu_dev_intx_masked(t->d));
    /* acked: the line drops; UNMASK unmasks */
    wr32(t, 0, EDU_REG_IRQ_ACK, 0x30);
    assert_int_equal(rd32(t, 0, EDU_REG_IRQ_STATUS), 0);
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 0);
    assert_false(vfu_dev_intx_masked(t->d));
    /* MASK with BOOL 1, UNMASK with BOOL 0 does nothing */
    assert_int_equal(set_irqs(t, BOOL_MASK, 0, 0, 1, &one, 1, NULL, 0), 0);
    assert_true(vfu_dev_intx_masked(t->d));
    wr32(t, 0, EDU_REG_IRQ_RAISE, 1);
    assert_int_equal(efd_read(efd), 0);
    assert_int_equal(set_irqs(t, BOOL_UNMASK, 0, 0, 1, &zero, 1, NULL, 0), 0);
    assert_true(vfu_dev_intx_masked(t->d));
    assert_int_equal(set_irqs(t, BOOL_UNMASK, 0, 0, 1, &one, 1, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 1); /* pending: delivered on unmask */
    wr32(t, 0, EDU_REG_IRQ_ACK, 1);
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);
    /* loopback: signals, the mask untouched */
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 0, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 1);
    assert_false(vfu_dev_intx_masked(t->d));
    assert_int_equal(set_irqs(t, BOOL_TRIGGER, 0, 0, 1, &zero, 1, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 0);
    /* COMMAND.INTX_DISABLE masks; clearing it delivers what is pending */
    command(t, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
    wr32(t, 0, EDU_REG_IRQ_RAISE, 1);
    assert_int_equal(efd_read(efd), 0);
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 0); /* the driver's disable wins */
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 0, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 0); /* no loopback either */
    command(t, PCI_COMMAND_MEMORY);
    assert_int_equal(efd_read(efd), 1);
    wr32(t, 0, EDU_REG_IRQ_ACK, 1);
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);

    /* the unmask eventfd: the client's "EOI" */
    {
        int ufd = eventfd(0, EFD_CLOEXEC), u = dup_fd(ufd);
        uint64_t v = 1;

        assert_int_equal(set_irqs(t, EFD_UNMASK, 0, 0, 1, NULL, 0, &u, 1), 0);
        wr32(t, 0, EDU_REG_IRQ_RAISE, 1);
        assert_int_equal(efd_read(efd), 1);
        wr32(t, 0, EDU_REG_IRQ_ACK, 1);
        assert_true(vfu_dev_intx_masked(t->d));
        assert_int_equal(write(ufd, &v, sizeof(v)), sizeof(v));
        assert_true(vfu_dev_run_once(t->d, 1000) >= 0);
        assert_false(vfu_dev_intx_masked(t->d));
        /* de-assigned by an EVENTFD without descriptor */
        assert_int_equal(set_irqs(t, EFD_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);
        close(ufd);
    }
    /* no mask eventfd; two actions; MSI while INTx */
    f = dup_fd(efd);
    assert_int_equal(set_irqs(t, EFD_MASK, 0, 0, 1, NULL, 0, &f, 1), ENOTTY);
    assert_int_equal(
        set_irqs(t, NONE_MASK | NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0),
        ENOTTY);
    assert_int_equal(
        set_irqs(t, VFIO_IRQ_SET_DATA_NONE, 0, 0, 1, NULL, 0, NULL, 0), ENOTTY);
    f = dup_fd(efd);
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 1, 0, 1, NULL, 0, &f, 1), EINVAL);
    /* INTx with no trigger stays INTx (as 6.x vfio-pci) */
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 0, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(vfu_dev_irq_mode(t->d), VFIO_PCI_INTX_IRQ_INDEX);
    wr32(t, 0, EDU_REG_IRQ_RAISE, 1);
    assert_int_equal(efd_read(efd), 0);
    wr32(t, 0, EDU_REG_IRQ_ACK, 1);
    /* a descriptor that is not an eventfd */
    {
        int p[2];

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        close(p[1]);
        assert_int_equal(set_irqs(t, EFD_TRIGGER, 0, 0, 1, NULL, 0, p, 1),
                         EINVAL);
    }
    /* count 0 disables; twice is EINVAL */
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 0, 0, 0, NULL, 0, NULL, 0), 0);
    assert_int_equal(vfu_dev_irq_mode(t->d), -1);
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 0, 0, 0, NULL, 0, NULL, 0),
                     EINVAL);
    /* a line already up interrupts at enable */
    wr32(t, 0, EDU_REG_IRQ_RAISE, 1);
    f = dup_fd(efd);
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 0, 0, 1, NULL, 0, &f, 1), 0);
    assert_int_equal(efd_read(efd), 1);
    assert_true(vfu_dev_intx_masked(t->d));
    /* ERR, REQ, MSI-X: no interrupts there */
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 3, 0, 0, NULL, 0, NULL, 0),
                     EINVAL);
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 4, 0, 1, NULL, 0, NULL, 0),
                     EINVAL);
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 2, 0, 1, NULL, 0, NULL, 0),
                     EINVAL);
    close(efd);
}

/* ---- MSI ---- */

static void test_msi(void **state)
{
    struct t *t = *state;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), f = dup_fd(efd);
    int32_t none = -1;
    uint8_t one = 1;

    negotiate(t);
    command(t, PCI_COMMAND_MEMORY);
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 1, 0, 1, NULL, 0, NULL, 0),
                     EINVAL); /* not enabled: no loopback */
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 1, 0, 1, NULL, 0, &f, 1), 0);
    assert_int_equal(vfu_dev_irq_mode(t->d), VFIO_PCI_MSI_IRQ_INDEX);
    /* the configuration space shows it enabled */
    assert_int_equal(rd32(t, VFIO_PCI_CONFIG_REGION_INDEX, 0x40) >> 16 &
                         PCI_MSI_FLAGS_ENABLE,
                     PCI_MSI_FLAGS_ENABLE);
    /* the device sends MSI, not INTx */
    wr32(t, 0, EDU_REG_IRQ_RAISE, 1);
    assert_int_equal(efd_read(efd), 1);
    wr32(t, 0, EDU_REG_IRQ_RAISE, 2);
    assert_int_equal(efd_read(efd), 1); /* edge: every raise */
    assert_int_equal(rd32(t, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND) >> 16 &
                         PCI_STATUS_INTERRUPT,
                     0);
    wr32(t, 0, EDU_REG_IRQ_ACK, 3);
    /* loopback NONE and BOOL */
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 1, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 1);
    assert_int_equal(set_irqs(t, BOOL_TRIGGER, 1, 0, 1, &one, 1, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 1);
    /* no mask for MSI; INTx while MSI */
    assert_int_equal(set_irqs(t, NONE_MASK, 1, 0, 1, NULL, 0, NULL, 0), ENOTTY);
    f = dup_fd(efd);
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 0, 0, 1, NULL, 0, &f, 1), EINVAL);
    /* -1 de-assigns the vector, MSI stays enabled */
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 1, 0, 1, &none, 4, NULL, 0), 0);
    assert_int_equal(vfu_dev_irq_mode(t->d), VFIO_PCI_MSI_IRQ_INDEX);
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 1, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 0);
    /* count 0 disables, and the config bit follows */
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 1, 0, 0, NULL, 0, NULL, 0), 0);
    assert_int_equal(vfu_dev_irq_mode(t->d), -1);
    assert_int_equal(rd32(t, VFIO_PCI_CONFIG_REGION_INDEX, 0x40) >> 16 &
                         PCI_MSI_FLAGS_ENABLE,
                     0);
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 1, 0, 0, NULL, 0, NULL, 0),
                     EINVAL);
    /* a failing vector leaves MSI disabled */
    {
        int p[2];

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        close(p[1]);
        assert_int_equal(set_irqs(t, EFD_TRIGGER, 1, 0, 1, NULL, 0, p, 1),
                         EINVAL);
        assert_int_equal(vfu_dev_irq_mode(t->d), -1);
    }
    /* the config MSI enable alone delivers nothing (vfio-pci) */
    {
        uint16_t ctl = PCI_MSI_FLAGS_ENABLE;

        assert_int_equal(
            region_rw(t, true, VFIO_PCI_CONFIG_REGION_INDEX, 0x42, &ctl, 2), 0);
        assert_false(vfu_irq_msi_enabled(t->d));
    }
    close(efd);
}

/* ---- DMA maps ---- */

static int memfd_of(size_t size)
{
    int fd = memfd_create("test-dma", MFD_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    return fd;
}

static int dma_map(struct t *t, uint32_t flags, uint64_t off, uint64_t addr,
                   uint64_t size, int fd)
{
    struct vfu_dma_map m = {32, flags, off, addr, size};

    return call(t, VFU_CMD_DMA_MAP, &m, sizeof(m), &fd, fd >= 0 ? 1 : 0);
}

static int dma_unmap(struct t *t, uint32_t flags, uint64_t addr, uint64_t size)
{
    struct vfu_dma_unmap u = {24, flags, addr, size};

    return call(t, VFU_CMD_DMA_UNMAP, &u, sizeof(u), NULL, 0);
}

static void test_dma_map(void **state)
{
    struct t *t = *state;
    const uint32_t rw = VFU_DMA_READ | VFU_DMA_WRITE;
    int mfd = memfd_of(0x10000);

    negotiate(t);
    assert_int_equal(dma_map(t, rw, 0, 0x10000, 0x4000, dup_fd(mfd)), 0);
    assert_int_equal(dma_map(t, rw, 0, 0x20000, 0x1000, -1), 0);
    assert_int_equal(vfu_dev_dma_count(t->d), 2);
    /* overlaps, exact or partial, either side */
    assert_int_equal(dma_map(t, rw, 0, 0x10000, 0x4000, -1), EEXIST);
    assert_int_equal(dma_map(t, rw, 0, 0x13000, 0x2000, -1), EEXIST);
    assert_int_equal(dma_map(t, rw, 0, 0xf000, 0x2000, -1), EEXIST);
    assert_int_equal(dma_map(t, rw, 0, 0x0, 0x100000, -1), EEXIST);
    /* adjacent is fine */
    assert_int_equal(dma_map(t, rw, 0, 0x14000, 0x1000, -1), 0);
    /* malformed */
    assert_int_equal(dma_map(t, rw, 0, 0x30000, 0, -1), EINVAL);
    assert_int_equal(dma_map(t, rw, 0, 0x30001, 0x1000, -1), EINVAL);
    assert_int_equal(dma_map(t, rw, 0, ~0xfffull, 0x2000, -1), EOVERFLOW);
    /* a file too small for the map; mmap refusing a read-only file */
    assert_int_equal(dma_map(t, rw, 0x8000, 0x40000, 0x10000, dup_fd(mfd)),
                     EINVAL);
    {
        char path[64];
        int ro;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
        ro = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(ro >= 0);
        assert_int_equal(dma_map(t, rw, 0, 0x40000, 0x1000, ro), EACCES);
        ro = open(path, O_RDONLY | O_CLOEXEC);
        assert_int_equal(dma_map(t, VFU_DMA_READ, 0, 0x40000, 0x1000, ro), 0);
    }
    /* a socket cannot be mapped */
    {
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                         0);
        close(sv[1]);
        assert_int_not_equal(dma_map(t, rw, 0, 0x50000, 0x1000, sv[0]), 0);
    }
    /* unmap: exact only */
    assert_int_equal(dma_unmap(t, 0, 0x10000, 0x1000), ENOENT);
    assert_int_equal(dma_unmap(t, 0, 0x11000, 0x3000), ENOENT);
    assert_int_equal(dma_unmap(t, 0, 0x60000, 0x1000), ENOENT);
    assert_int_equal(dma_unmap(t, 0, 0x10000, 0x4000), 0);
    {
        struct vfu_dma_unmap u;

        assert_int_equal(vfu_check_dma_unmap_reply(rp(t), rlen(t), &u), 0);
        assert_int_equal(u.addr, 0x10000);
        assert_int_equal(u.size, 0x4000);
    }
    assert_int_equal(dma_unmap(t, 0, 0x10000, 0x4000), ENOENT);
    assert_int_equal(dma_unmap(t, VFU_DMA_UNMAP_DIRTY, 0x20000, 0x1000),
                     EINVAL);
    assert_int_equal(dma_unmap(t, VFU_DMA_UNMAP_ALL, 0, 0), 0);
    assert_int_equal(vfu_dev_dma_count(t->d), 0);
    /* the same again after the session ends: released with it */
    assert_int_equal(dma_map(t, rw, 0, 0x10000, 0x4000, dup_fd(mfd)), 0);
    vfu_conn_close(t->c);
    assert_int_equal(vfu_dev_dma_count(t->d), 0);
    connect_main(t);
    close(mfd);
}

/* ---- the device's DMA ---- */

static uint32_t edu_dma(struct t *t, uint64_t src, uint64_t dst, uint64_t cnt,
                        uint32_t cmd)
{
    wr64(t, 0, EDU_REG_DMA_SRC, src);
    wr64(t, 0, EDU_REG_DMA_DST, dst);
    wr64(t, 0, EDU_REG_DMA_COUNT, cnt);
    wr32(t, 0, EDU_REG_DMA_CMD, cmd | EDU_DMA_RUN);
    /* the transfer ran right after the reply */
    assert_int_equal(rd32(t, 0, EDU_REG_DMA_CMD) & EDU_DMA_RUN, 0);
    return rd32(t, 0, EDU_REG_DMA_ERROR);
}

static void test_edu_dma(void **state)
{
    struct t *t = *state;
    const uint32_t rw = VFU_DMA_READ | VFU_DMA_WRITE;
    int mfd = memfd_of(0x4000), efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int f = dup_fd(efd);
    uint8_t *ram =
        mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    uint8_t buf[256];

    assert_true(ram != MAP_FAILED);
    negotiate(t);
    command(t, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 1, 0, 1, NULL, 0, &f, 1), 0);
    assert_int_equal(dma_map(t, rw, 0, 0x10000, 0x4000, dup_fd(mfd)), 0);
    for (int i = 0; i < 256; i++) {
        ram[0x100 + i] = (uint8_t)i;
    }
    /* RAM -> device, with the interrupt */
    assert_int_equal(edu_dma(t, 0x10100, EDU_DMA_BUF + 8, 256, EDU_DMA_IRQ), 0);
    assert_int_equal(region_rw(t, false, 0, EDU_DMA_BUF + 8, buf, 256), 0);
    assert_memory_equal(buf, ram + 0x100, 256);
    assert_int_equal(efd_read(efd), 1);
    assert_int_equal(rd32(t, 0, EDU_REG_IRQ_STATUS), EDU_IRQ_DMA);
    wr32(t, 0, EDU_REG_IRQ_ACK, EDU_IRQ_DMA);
    /* device -> RAM, across a page boundary of the map */
    assert_int_equal(edu_dma(t, EDU_DMA_BUF + 8, 0x10f80, 256, EDU_DMA_TO_RAM),
                     0);
    assert_memory_equal(ram + 0xf80, buf, 256);
    assert_int_equal(efd_read(efd), 0); /* no IRQ asked */
    /* refused: unmapped, no permission, no bus master, range, mask */
    memset(ram, 0xaa, 0x100);
    assert_int_equal(
        edu_dma(t, EDU_DMA_BUF, 0x30000, 16, EDU_DMA_TO_RAM | EDU_DMA_IRQ),
        EDU_DMA_ERR_FAULT);
    assert_int_equal(efd_read(efd), 0);
    assert_int_equal(
        edu_dma(t, EDU_DMA_BUF, 0x13ff8, 16, EDU_DMA_TO_RAM | EDU_DMA_IRQ),
        EDU_DMA_ERR_FAULT); /* runs off the end */
    wr32(t, 0, EDU_REG_DMA_ERROR, ~0u);
    assert_int_equal(rd32(t, 0, EDU_REG_DMA_ERROR), 0);
    assert_int_equal(edu_dma(t, EDU_DMA_BUF, 0x10000, 16, EDU_DMA_IRQ),
                     EDU_DMA_ERR_RANGE); /* the buffer is the source */
    wr32(t, 0, EDU_REG_DMA_ERROR, ~0u);
    assert_int_equal(edu_dma(t, 0x10000, EDU_DMA_BUF + 4000, 200, 0),
                     EDU_DMA_ERR_RANGE);
    wr32(t, 0, EDU_REG_DMA_ERROR, ~0u);
    assert_int_equal(edu_dma(t, 0x10000000, EDU_DMA_BUF, 16, 0),
                     EDU_DMA_ERR_MASK);
    wr32(t, 0, EDU_REG_DMA_ERROR, ~0u);
    command(t, PCI_COMMAND_MEMORY);
    assert_int_equal(edu_dma(t, 0x10000, EDU_DMA_BUF, 16, EDU_DMA_IRQ),
                     EDU_DMA_ERR_MASTER);
    command(t, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    wr32(t, 0, EDU_REG_DMA_ERROR, ~0u);
    for (int i = 0; i < 0x100; i++) {
        assert_int_equal(ram[i], 0xaa); /* nothing moved */
    }
    assert_int_equal(efd_read(efd), 0);
    /* a read-only map: the device may read it, not write it */
    assert_int_equal(dma_unmap(t, 0, 0x10000, 0x4000), 0);
    assert_int_equal(dma_map(t, VFU_DMA_READ, 0, 0x10000, 0x4000, dup_fd(mfd)),
                     0);
    assert_int_equal(edu_dma(t, 0x10000, EDU_DMA_BUF, 16, 0), 0);
    assert_int_equal(edu_dma(t, EDU_DMA_BUF, 0x10000, 16, EDU_DMA_TO_RAM),
                     EDU_DMA_ERR_FAULT);
    wr32(t, 0, EDU_REG_DMA_ERROR, ~0u);
    /* FILE_IO: pread/pwrite on the descriptor */
    assert_int_equal(dma_unmap(t, VFU_DMA_UNMAP_ALL, 0, 0), 0);
    assert_int_equal(
        dma_map(t, rw | VFU_DMA_FILE_IO, 0x1000, 0x80000, 0x2000, dup_fd(mfd)),
        0);
    memcpy(ram + 0x1800, "file io!", 8);
    assert_int_equal(edu_dma(t, 0x80800, EDU_DMA_BUF, 8, 0), 0);
    assert_int_equal(region_rw(t, false, 0, EDU_DMA_BUF, buf, 8), 0);
    assert_memory_equal(buf, "file io!", 8);
    assert_int_equal(edu_dma(t, EDU_DMA_BUF, 0x81ff8, 8, EDU_DMA_TO_RAM), 0);
    assert_memory_equal(ram + 0x2ff8, "file io!", 8);
    /* a map whose file shrinks under it: the copy fails, no crash */
    assert_int_equal(dma_map(t, rw, 0, 0x90000, 0x4000, dup_fd(mfd)), 0);
    assert_int_equal(ftruncate(mfd, 0x1000), 0);
    assert_int_equal(edu_dma(t, 0x92000, EDU_DMA_BUF, 8, 0), EDU_DMA_ERR_IO);
    munmap(ram, 0x4000);
    close(mfd);
    close(efd);
}

static void test_message_dma(void **state)
{
    struct t *t = *state;
    const uint32_t rw = VFU_DMA_READ | VFU_DMA_WRITE;
    uint8_t buf[64];

    negotiate(t);
    command(t, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(dma_map(t, rw, 0, MEM_BASE, MEM_SIZE, -1), 0);
    memcpy(t->mem + 0x10, "message-based DMA", 17);
    assert_int_equal(edu_dma(t, MEM_BASE + 0x10, EDU_DMA_BUF, 17, 0), 0);
    assert_int_equal(region_rw(t, false, 0, EDU_DMA_BUF, buf, 17), 0);
    assert_memory_equal(buf, "message-based DMA", 17);
    assert_int_equal(t->dma_msgs, 1);
    assert_int_equal(
        edu_dma(t, EDU_DMA_BUF, MEM_BASE + 0x1000, 17, EDU_DMA_TO_RAM), 0);
    assert_memory_equal(t->mem + 0x1000, "message-based DMA", 17);
    /* the client refuses: a fault, nothing moved */
    t->refuse = EFAULT;
    memset(buf, 0, sizeof(buf));
    assert_int_equal(region_rw(t, true, 0, EDU_DMA_BUF, buf, 32), 0);
    assert_int_equal(edu_dma(t, MEM_BASE + 0x10, EDU_DMA_BUF, 17, 0),
                     EDU_DMA_ERR_FAULT);
    assert_int_equal(region_rw(t, false, 0, EDU_DMA_BUF, buf, 17), 0);
    assert_int_equal(buf[0], 0);
    wr32(t, 0, EDU_REG_DMA_ERROR, ~0u);
    t->refuse = EIO;
    assert_int_equal(edu_dma(t, EDU_DMA_BUF, MEM_BASE, 17, EDU_DMA_TO_RAM),
                     EDU_DMA_ERR_IO);
    t->refuse = 0;
}

/* ---- region access ---- */

static void test_region_access(void **state)
{
    struct t *t = *state;
    uint8_t b[16];
    uint32_t v;

    negotiate(t);
    /* vendor and device through config; memory decode off: EIO */
    assert_int_equal(rd32(t, VFIO_PCI_CONFIG_REGION_INDEX, 0), 0x11e81234);
    assert_int_equal(region_rw(t, false, 0, EDU_REG_ID, &v, 4), EIO);
    command(t, PCI_COMMAND_MEMORY);
    assert_int_equal(rd32(t, 0, EDU_REG_ID), EDU_ID);
    /* outside regions, absent regions, across the end */
    assert_int_equal(region_rw(t, false, 9, 0, b, 4), EINVAL);
    assert_int_equal(region_rw(t, false, 2, 0, b, 4), EINVAL);
    assert_int_equal(
        region_rw(t, false, VFIO_PCI_CONFIG_REGION_INDEX, 254, b, 4), EINVAL);
    assert_int_equal(region_rw(t, false, 0, (1 << 20) - 2, b, 4), EINVAL);
    assert_int_equal(region_rw(t, false, 0, ~0ull - 1, b, 4), EINVAL);
    /* count 0: answered, nothing done */
    assert_int_equal(region_rw(t, false, 0, 0, b, 0), 0);
    /* edu's size rules: all-ones, writes ignored */
    memset(b, 0, sizeof(b));
    assert_int_equal(region_rw(t, false, 0, EDU_REG_ID, b, 2), 0);
    assert_int_equal(b[0], 0xff);
    assert_int_equal(region_rw(t, false, 0, 0x82, b, 4), 0); /* unaligned */
    assert_int_equal(b[3], 0xff);
    /* the liveness register and the factorial */
    wr32(t, 0, EDU_REG_LIVENESS, 0x12345678);
    assert_int_equal(rd32(t, 0, EDU_REG_LIVENESS), ~0x12345678u);
    wr32(t, 0, EDU_REG_FACT, 5);
    assert_int_equal(rd32(t, 0, EDU_REG_STATUS) & EDU_STATUS_COMPUTING, 0);
    assert_int_equal(rd32(t, 0, EDU_REG_FACT), 120);
    wr32(t, 0, EDU_REG_FACT, 12);
    assert_int_equal(rd32(t, 0, EDU_REG_FACT), 479001600);
    wr32(t, 0, EDU_REG_FACT, 0);
    assert_int_equal(rd32(t, 0, EDU_REG_FACT), 1);
    /* a big read across the register file and the buffer */
    {
        uint8_t *big = malloc(VFU_MAX_DATA_XFER + 1);
        struct vfu_region_access ra = {0, 0, VFU_MAX_DATA_XFER};

        assert_non_null(big);
        assert_int_equal(call(t, VFU_CMD_REGION_READ, &ra, sizeof(ra), NULL, 0),
                         0);
        assert_int_equal(rlen(t), 16 + VFU_MAX_DATA_XFER);
        ra.count++;
        assert_int_equal(call(t, VFU_CMD_REGION_READ, &ra, sizeof(ra), NULL, 0),
                         EINVAL);
        free(big);
    }
    /* REGION_WRITE_MULTI */
    {
        uint8_t m[8 + 2 * 24] = {0};
        struct vfu_write_multi w = {EDU_REG_LIVENESS, 0, 4, {1, 0, 0, 0}};
        uint64_t n = 2, done;

        memcpy(m, &n, 8);
        memcpy(m + 8, &w, 24);
        w.offset = EDU_DMA_BUF;
        w.count = 8;
        memcpy(w.data, "multi!!!", 8);
        memcpy(m + 32, &w, 24);
        assert_int_equal(
            call(t, VFU_CMD_REGION_WRITE_MULTI, m, sizeof(m), NULL, 0), 0);
        assert_int_equal(vfu_check_write_multi_reply(rp(t), rlen(t), 2, &done),
                         0);
        assert_int_equal(done, 2);
        assert_int_equal(rd32(t, 0, EDU_REG_LIVENESS), ~1u);
        assert_int_equal(region_rw(t, false, 0, EDU_DMA_BUF, b, 8), 0);
        assert_memory_equal(b, "multi!!!", 8);
        w.region = 5;
        memcpy(m + 32, &w, 24);
        assert_int_equal(
            call(t, VFU_CMD_REGION_WRITE_MULTI, m, sizeof(m), NULL, 0), EINVAL);
    }
    /* reset: registers back, configuration and interrupts kept */
    assert_int_equal(call(t, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), 0);
    assert_int_equal(rd32(t, 0, EDU_REG_LIVENESS), 0);
    assert_int_equal(rd32(t, 0, EDU_REG_FACT), 0);
    assert_int_equal(region_rw(t, false, 0, EDU_DMA_BUF, b, 8), 0);
    assert_int_equal(b[0], 0);
    assert_int_equal(call(t, VFU_CMD_DEVICE_RESET, "x", 1, NULL, 0), EINVAL);
}

/* ---- malformed ---- */

static void test_malformed(void **state)
{
    struct t *t = *state;
    struct vfu_device_info di = {16, 0, 0, 0};
    unsigned int before;
    uint8_t b[64] = {0};
    int fds[20];

    negotiate(t);
    assert_int_equal(call(t, 14, NULL, 0, NULL, 0), ENOSYS);
    assert_int_equal(call(t, 0x7000, b, 8, NULL, 0), ENOSYS);
    assert_int_equal(call(t, VFU_CMD_DMA_READ, b, 16, NULL, 0), EINVAL);
    assert_int_equal(call(t, VFU_CMD_DEVICE_FEATURE, b, 8, NULL, 0), EINVAL);
    {
        struct vfu_device_feature f = {8, 1u << 16 | 1};

        assert_int_equal(
            call(t, VFU_CMD_DEVICE_FEATURE, &f, sizeof(f), NULL, 0), ENOTSUP);
    }
    {
        struct vfu_mig_data md = {8, 0};

        assert_int_equal(
            call(t, VFU_CMD_MIG_DATA_READ, &md, sizeof(md), NULL, 0), EINVAL);
    }
    /* the payload sizes of every command */
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_INFO, &di, 12, NULL, 0),
                     EINVAL);
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_REGION_INFO, b, 16, NULL, 0),
                     EINVAL);
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_IRQ_INFO, b, 4, NULL, 0),
                     EINVAL);
    assert_int_equal(call(t, VFU_CMD_DEVICE_SET_IRQS, b, 19, NULL, 0), EINVAL);
    assert_int_equal(call(t, VFU_CMD_DMA_MAP, b, 31, NULL, 0), EINVAL);
    assert_int_equal(call(t, VFU_CMD_DMA_UNMAP, b, 25, NULL, 0), EINVAL);
    assert_int_equal(call(t, VFU_CMD_REGION_READ, b, 15, NULL, 0), EINVAL);
    assert_int_equal(call(t, VFU_CMD_REGION_WRITE, b, 17, NULL, 0), EINVAL);
    /* bad flags in the header: EINVAL even with NO_REPLY */
    assert_int_equal(call_flags(t, VFU_CMD_DEVICE_GET_INFO,
                                VFU_F_ERROR | VFU_F_NO_REPLY | 0x100, &di,
                                sizeof(di), NULL, 0, NULL, 0),
                     EINVAL);
    /* NO_REPLY: done, not answered */
    wr32(t, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, PCI_COMMAND_MEMORY);
    {
        struct vfu_region_access ra = {EDU_REG_LIVENESS, 0, 4};
        uint32_t v = 7;

        assert_int_equal(call_flags(t, VFU_CMD_REGION_WRITE, VFU_F_NO_REPLY,
                                    &ra, sizeof(ra), &v, 4, NULL, 0),
                         0);
        assert_int_equal(rd32(t, 0, EDU_REG_LIVENESS), ~7u);
    }
    /* a reply nobody asked for: dropped silently */
    before = t->nmsgs;
    {
        struct vfu_hdr h;

        vfu_hdr_init(&h, 99, VFU_CMD_DMA_READ, 0, VFU_F_TYPE_REPLY);
        assert_int_equal(vfu_conn_feed(t->c, &h, sizeof(h), NULL, 0), 0);
    }
    assert_int_equal(t->nmsgs, before);
    /* too many descriptors: all closed, EINVAL */
    for (int i = 0; i < 20; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC);
    }
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), fds, 20),
                     EINVAL);
    /* descriptors where none belong */
    fds[0] = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), fds, 1),
                     EINVAL);
    /* still serving */
    assert_int_equal(call(t, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0),
                     0);
    /* a message that cannot be framed ends the connection */
    {
        struct vfu_hdr h;

        vfu_hdr_init(&h, 5, VFU_CMD_DEVICE_GET_INFO, 0, 0);
        h.msg_size = 8;
        assert_int_equal(vfu_conn_feed(t->c, &h, sizeof(h), NULL, 0),
                         -ENOTCONN);
        assert_int_equal(vfu_hdr_parse(t->msg, t->len, &h), 0);
        assert_int_equal(h.error_no, EINVAL);
    }
}

/* ---- restricted clients ---- */

static int sock_call(int fd, uint16_t id, uint16_t cmd, const void *p,
                     size_t len, struct t *t, uint8_t *reply, size_t cap)
{
    struct vfu_piece pc = {p, len};
    uint8_t msg[256];
    struct vfu_hdr h;
    long n = vfu_msg_build(msg, sizeof(msg), id, cmd, 0, &pc, 1);
    ssize_t got = 0;

    assert_int_equal(write(fd, msg, (size_t)n), n);
    while (got < (ssize_t)VFU_HDR_SIZE) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t r;

        assert_true(vfu_dev_run_once(t->d, 1000) >= 0);
        if (poll(&pfd, 1, 0) <= 0) {
            continue;
        }
        r = read(fd, reply + got, cap - (size_t)got);
        if (r <= 0) {
            return -EPIPE;
        }
        got += r;
    }
    assert_int_equal(vfu_hdr_parse(reply, (size_t)got, &h), 0);
    while (got < (ssize_t)h.msg_size) {
        ssize_t r = read(fd, reply + got, h.msg_size - (size_t)got);

        assert_true(r > 0);
        got += r;
    }
    assert_int_equal(h.msg_id, id);
    assert_int_equal(h.cmd, cmd);
    return (h.flags & VFU_F_ERROR) ? (int)h.error_no : 0;
}

static void test_restricted(void **state)
{
    struct t *t = *state;
    struct vfu_pv_add_client a = {0, 0};
    struct vfu_region_access ra = {0, VFIO_PCI_CONFIG_REGION_INDEX, 4};
    struct vfu_dma_map m = {32, VFU_DMA_READ, 0, 0x1000, 0x1000};
    struct vfu_version v = {0, 2};
    uint8_t reply[256];
    int sv[2], fd;

    /* only after VERSION, only with one stream socket */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    fd = dup_fd(sv[0]);
    assert_int_equal(call(t, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), &fd, 1),
                     EINVAL);
    negotiate(t);
    assert_int_equal(call(t, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), NULL, 0),
                     EINVAL);
    fd = eventfd(0, EFD_CLOEXEC);
    assert_int_equal(call(t, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), &fd, 1),
                     EINVAL);
    {
        int dg[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dg),
                         0);
        close(dg[1]);
        assert_int_equal(call(t, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), dg, 1),
                         EINVAL);
    }
    a.flags = 1;
    fd = dup_fd(sv[0]);
    assert_int_equal(call(t, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), &fd, 1),
                     EINVAL);
    a.flags = 0;
    fd = sv[0];
    assert_int_equal(call(t, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), &fd, 1), 0);
    assert_int_equal(vfu_dev_client_count(t->d), 1);

    /* the fast path: region reads and writes */
    assert_int_equal(sock_call(sv[1], 1, VFU_CMD_REGION_READ, &ra, sizeof(ra),
                               t, reply, sizeof(reply)),
                     0);
    assert_int_equal(
        vfu_check_region_access_reply(VFU_CMD_REGION_READ, reply + 16, 20, &ra),
        0);
    {
        uint32_t id;

        memcpy(&id, reply + 32, 4);
        assert_int_equal(id, 0x11e81234);
    }
    /* nothing else: EPERM, and it stays */
    assert_int_equal(sock_call(sv[1], 2, VFU_CMD_DMA_MAP, &m, sizeof(m), t,
                               reply, sizeof(reply)),
                     EPERM);
    assert_int_equal(sock_call(sv[1], 3, VFU_CMD_VERSION, &v, sizeof(v), t,
                               reply, sizeof(reply)),
                     EPERM);
    assert_int_equal(sock_call(sv[1], 4, VFU_CMD_DEVICE_RESET, NULL, 0, t,
                               reply, sizeof(reply)),
                     EPERM);
    assert_int_equal(sock_call(sv[1], 5, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a),
                               t, reply, sizeof(reply)),
                     EPERM);
    assert_int_equal(sock_call(sv[1], 6, VFU_CMD_REGION_READ, &ra, sizeof(ra),
                               t, reply, sizeof(reply)),
                     0);
    assert_int_equal(vfu_dev_client_count(t->d), 1);
    /* a message it cannot frame: its connection alone closes */
    {
        struct vfu_hdr h;

        vfu_hdr_init(&h, 7, VFU_CMD_REGION_READ, 0, 0);
        h.msg_size = VFU_MAX_MSG_SIZE + 1;
        assert_int_equal(write(sv[1], &h, sizeof(h)), sizeof(h));
        assert_true(vfu_dev_run_once(t->d, 1000) >= 0);
        assert_true(vfu_dev_run_once(t->d, 0) >= 0);
        assert_int_equal(vfu_dev_client_count(t->d), 0);
        assert_int_equal(read(sv[1], reply, sizeof(reply)), 16);
        assert_int_equal(read(sv[1], reply, sizeof(reply)), 0); /* EOF */
    }
    close(sv[1]);
    /* the main connection is still there */
    assert_int_equal(rd32(t, VFIO_PCI_CONFIG_REGION_INDEX, 0), 0x11e81234);
    /* a client that hangs up goes; the session's end takes the others */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(call(t, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), sv, 1), 0);
    close(sv[1]);
    assert_true(vfu_dev_run_once(t->d, 1000) >= 0);
    assert_true(vfu_dev_run_once(t->d, 0) >= 0);
    assert_int_equal(vfu_dev_client_count(t->d), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(call(t, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), sv, 1), 0);
    vfu_conn_close(t->c);
    assert_int_equal(vfu_dev_client_count(t->d), 0);
    assert_int_equal(read(sv[1], reply, sizeof(reply)), 0);
    close(sv[1]);
    connect_main(t);
}

/* ---- mtty ---- */

static uint8_t rd8(struct t *t, uint32_t region, uint64_t off)
{
    uint8_t v;

    assert_int_equal(region_rw(t, false, region, off, &v, 1), 0);
    return v;
}

static void wr8(struct t *t, uint32_t region, uint64_t off, uint8_t v)
{
    assert_int_equal(region_rw(t, true, region, off, &v, 1), 0);
}

static void test_mtty(void **state)
{
    struct t *t = *state;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), f = dup_fd(efd);
    struct vfu_region_info ri = {32, 0, 0, 0, 0, 0};

    negotiate(t);
    assert_int_equal(rd32(t, VFIO_PCI_CONFIG_REGION_INDEX, 0), 0x32534348);
    assert_int_equal(rd32(t, VFIO_PCI_CONFIG_REGION_INDEX, 8), 0x07000210);
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0), 0);
    memcpy(&ri, rp(t), sizeof(ri));
    assert_int_equal(ri.size, 8);
    ri = (struct vfu_region_info){32, 0, 1, 0, 0, 0};
    assert_int_equal(
        call(t, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0), 0);
    memcpy(&ri, rp(t), sizeof(ri));
    assert_int_equal(ri.size, 0); /* one port */
    /* I/O BARs work with decode off (vfio-pci checks memory BARs only) */
    assert_int_equal(rd8(t, 0, MTTY_LSR), MTTY_LSR_THRE | MTTY_LSR_TEMT);
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 0, 0, 1, NULL, 0, &f, 1), 0);
    wr8(t, 0, MTTY_IER, MTTY_IER_RDI);
    assert_int_equal(rd8(t, 0, MTTY_IIR), MTTY_IIR_NONE);
    /* a byte written comes back, with the interrupt */
    wr8(t, 0, MTTY_RBR, 'A');
    assert_int_equal(efd_read(efd), 1);
    assert_true(vfu_dev_intx_masked(t->d));
    assert_int_equal(rd8(t, 0, MTTY_IIR), MTTY_IIR_RDI);
    assert_int_equal(rd8(t, 0, MTTY_LSR) & MTTY_LSR_DR, MTTY_LSR_DR);
    assert_int_equal(rd8(t, 0, MTTY_RBR), 'A');
    assert_int_equal(rd8(t, 0, MTTY_LSR) & MTTY_LSR_DR, 0);
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);
    assert_int_equal(efd_read(efd), 0);
    /* FIFO: 16 bytes, then overrun */
    wr8(t, 0, MTTY_IIR, MTTY_FCR_FIFO | 0xc0); /* trigger level 14 */
    assert_int_equal(rd8(t, 0, MTTY_IIR), MTTY_IIR_FIFO | MTTY_IIR_NONE);
    for (int i = 0; i < 13; i++) {
        wr8(t, 0, MTTY_RBR, (uint8_t)('a' + i));
    }
    assert_int_equal(efd_read(efd), 0); /* below the trigger level */
    for (int i = 13; i < 17; i++) {
        wr8(t, 0, MTTY_RBR, (uint8_t)('a' + i));
    }
    assert_int_equal(efd_read(efd), 1);
    assert_int_equal(rd8(t, 0, MTTY_LSR),
                     MTTY_LSR_DR | MTTY_LSR_OE | MTTY_LSR_THRE | MTTY_LSR_TEMT);
    assert_int_equal(rd8(t, 0, MTTY_LSR) & MTTY_LSR_OE, 0); /* cleared */
    for (int i = 0; i < 16; i++) {
        assert_int_equal(rd8(t, 0, MTTY_RBR), 'a' + i);
    }
    assert_int_equal(rd8(t, 0, MTTY_LSR) & MTTY_LSR_DR, 0);
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);
    /* THR empty interrupt: on enable, acknowledged by reading IIR */
    wr8(t, 0, MTTY_IER, MTTY_IER_RDI | MTTY_IER_THRI);
    assert_int_equal(efd_read(efd), 1);
    assert_int_equal(rd8(t, 0, MTTY_IIR), MTTY_IIR_FIFO | MTTY_IIR_THRI);
    assert_int_equal(rd8(t, 0, MTTY_IIR), MTTY_IIR_FIFO | MTTY_IIR_NONE);
    wr8(t, 0, MTTY_IER, MTTY_IER_RDI);
    assert_int_equal(set_irqs(t, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0), 0);
    /* divisor latch and scratch, a wide access split by register */
    wr8(t, 0, MTTY_LCR, MTTY_LCR_DLAB | 3);
    {
        uint16_t div = 0x0c01;

        assert_int_equal(region_rw(t, true, 0, MTTY_RBR, &div, 2), 0);
        div = 0;
        assert_int_equal(region_rw(t, false, 0, MTTY_RBR, &div, 2), 0);
        assert_int_equal(div, 0x0c01);
    }
    wr8(t, 0, MTTY_LCR, 3);
    assert_int_equal(rd8(t, 0, MTTY_IER), MTTY_IER_RDI);
    wr8(t, 0, MTTY_SCR, 0x5a);
    assert_int_equal(rd8(t, 0, MTTY_SCR), 0x5a);
    assert_int_equal(region_rw(t, false, 0, 6, &f, 4), EINVAL);
    /* MSI instead: vector 0 when the line goes up (trigger level 1) */
    wr8(t, 0, MTTY_IIR, MTTY_FCR_FIFO);
    assert_int_equal(set_irqs(t, NONE_TRIGGER, 0, 0, 0, NULL, 0, NULL, 0), 0);
    f = dup_fd(efd);
    assert_int_equal(set_irqs(t, EFD_TRIGGER, 1, 0, 1, NULL, 0, &f, 1), 0);
    wr8(t, 0, MTTY_RBR, 'B');
    assert_int_equal(efd_read(efd), 1);
    assert_int_equal(rd8(t, 0, MTTY_RBR), 'B');
    wr8(t, 0, MTTY_RBR, 'C');
    assert_int_equal(efd_read(efd), 1);
    /* reset empties the FIFO */
    assert_int_equal(call(t, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0), 0);
    assert_int_equal(rd8(t, 0, MTTY_LSR) & MTTY_LSR_DR, 0);
    assert_int_equal(rd8(t, 0, MTTY_IER), 0);
    close(efd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_version, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_info, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_intx, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_msi, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_dma_map, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_edu_dma, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_message_dma, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_region_access, setup_edu,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_restricted, setup_edu, teardown),
        cmocka_unit_test_setup_teardown(test_mtty, setup_mtty, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
