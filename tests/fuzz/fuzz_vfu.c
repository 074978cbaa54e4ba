/* SPDX-License-Identifier: MIT */
/*
 * fuzz_vfu.c - libFuzzer target for the vfio-user server (src/vfu/): byte
 * streams as messages into the dispatch of an edu device on an in-process
 * main connection, as raw stream bytes into a restricted client's socket
 * (the framing code), and straight into the codec's client-side checks.
 *
 * Input: records {u8 op; u16 len; len bytes}.  op & 7 selects:
 *   0  a message for the main connection: the bytes are header and
 *      payload; msg_size is set to len unless op has bit 7 (then the bytes'
 *      own msg_size stands, framing errors included).  Bit 3 attaches an
 *      eventfd, bit 4 a 64 KiB memfd, bit 5 one end of a new socket pair
 *      (the other becomes the restricted client's, if PV_ADD_CLIENT takes
 *      it).
 *   1  the bytes, as a stream, into the restricted client's socket; the
 *      loop runs once and its replies are drained.
 *   2  a codec check (the first byte picks it) on the rest.
 *   3  the client's answer to message DMA: 0 serves, else refuses.
 *   4  the client goes and comes back (the session ends).
 *   5  the loop runs once (the INTx unmask eventfd among others).
 * Oracles: every message the server sends is a well-formed reply, and a
 * successful reply to DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO,
 * GET_REGION_IO_FDS, REGION_READ/WRITE or VERSION passes the codec's own
 * client-side check of it; no descriptor or memory outlives the input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfu_devices.h"
#include "vfu_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct vfu_dev *d;
    struct vfu_conn *c;
    int peer; /* the restricted client's end, or -1 */
    int refuse;
    /* the request being answered, for the oracle */
    struct vfu_hdr req;
    uint8_t reqp[64];
    size_t reqlen;
};

static void die(const char *what)
{
    fprintf(stderr, "fuzz_vfu: %s\n", what);
    abort();
}

/* the oracle: what the server says must parse as the codec says */
static void check_reply(struct fz *z, const uint8_t *msg, size_t len,
                        unsigned int nfds)
{
    const uint8_t *p = msg + VFU_HDR_SIZE;
    size_t plen = len - VFU_HDR_SIZE;
    struct vfu_hdr h;

    if (vfu_hdr_parse(msg, len, &h) || h.msg_size != len || vfu_hdr_check(&h) ||
        !vfu_is_reply(&h)) {
        die("a malformed message from the server");
    }
    if (h.flags & VFU_F_ERROR) {
        if (len != VFU_HDR_SIZE || h.error_no == 0 || nfds) {
            die("a malformed error reply");
        }
        return;
    }
    if (h.msg_id != z->req.msg_id || h.cmd != z->req.cmd) {
        return; /* not the request recorded (a restricted client's) */
    }
    switch (h.cmd) {
    case VFU_CMD_DEVICE_GET_INFO: {
        struct vfu_device_info di;

        if (vfu_check_device_info_reply(p, plen, &di)) {
            die("bad DEVICE_GET_INFO reply");
        }
        break;
    }
    case VFU_CMD_DEVICE_GET_REGION_INFO: {
        struct vfu_region_info req, ri;
        struct vfu_sparse_area a[4];
        uint32_t nr;

        memcpy(&req, z->reqp, sizeof(req));
        if (vfu_check_region_info_reply(p, plen, nfds, req.index, req.argsz,
                                        &ri, a, 4, &nr)) {
            die("bad GET_REGION_INFO reply");
        }
        break;
    }
    case VFU_CMD_DEVICE_GET_IRQ_INFO: {
        struct vfu_irq_info req, ii;

        memcpy(&req, z->reqp, sizeof(req));
        if (vfu_check_irq_info_reply(p, plen, req.index, &ii)) {
            die("bad GET_IRQ_INFO reply");
        }
        break;
    }
    case VFU_CMD_DEVICE_GET_REGION_IO_FDS: {
        struct vfu_io_fds req, q;

        memcpy(&req, z->reqp, sizeof(req));
        if (vfu_check_io_fds_reply(p, plen, nfds, req.index, &q)) {
            die("bad GET_REGION_IO_FDS reply");
        }
        break;
    }
    case VFU_CMD_REGION_READ:
    case VFU_CMD_REGION_WRITE: {
        struct vfu_region_access req;

        memcpy(&req, z->reqp, sizeof(req));
        if (vfu_check_region_access_reply(h.cmd, p, plen, &req)) {
            die("bad REGION_READ/WRITE reply");
        }
        break;
    }
    case VFU_CMD_VERSION: {
        struct vfu_version v;
        struct vfu_caps c;

        if (vfu_check_version(p, plen, &v, &c) || v.major != 0 ||
            vfu_caps_check(&c) || c.twin_supported || nfds) {
            die("bad VERSION reply");
        }
        break;
    }
    default:
        break;
    }
}

static void sink(void *ctx, const void *msg, size_t len, const int *fds,
                 unsigned int nfds)
{
    check_reply(ctx, msg, len, nfds);
    for (unsigned int i = 0; i < nfds; i++) {
        close(fds[i]);
    }
}

static int peer_dma(void *ctx, bool write, uint64_t addr, void *buf,
                    uint64_t len)
{
    struct fz *z = ctx;

    if (z->refuse) {
        return z->refuse;
    }
    if (!write) {
        memset(buf, (int)(addr & 0xff), len);
    }
    return 0;
}

/* descriptors open in this process, the directory's own included */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d) {
        abort();
    }
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

static void drain(int fd)
{
    uint8_t b[4096];

    while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0) {
    }
}

static void feed(struct fz *z, uint8_t op, const uint8_t *b, size_t n)
{
    uint8_t *msg = malloc(n < VFU_HDR_SIZE ? VFU_HDR_SIZE : n);
    int fds[3], nfds = 0, sv[2] = {-1, -1};

    if (!msg) {
        abort();
    }
    memset(msg, 0, VFU_HDR_SIZE);
    memcpy(msg, b, n);
    if (!(op & 0x80)) {
        uint32_t sz = (uint32_t)(n < VFU_HDR_SIZE ? VFU_HDR_SIZE : n);

        memcpy(msg + 4, &sz, sizeof(sz));
        n = sz;
    }
    if (op & 0x08) {
        fds[nfds++] = eventfd(0, EFD_CLOEXEC);
    }
    if (op & 0x10) {
        int m = memfd_create("fuzz", MFD_CLOEXEC);

        if (ftruncate(m, 0x10000) < 0) {
            abort();
        }
        fds[nfds++] = m;
    }
    if (op & 0x20) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            abort();
        }
        fds[nfds++] = sv[0];
    }
    if (n >= VFU_HDR_SIZE) {
        memcpy(&z->req, msg, sizeof(z->req));
        z->reqlen = n - VFU_HDR_SIZE < sizeof(z->reqp) ? n - VFU_HDR_SIZE
                                                       : sizeof(z->reqp);
        memset(z->reqp, 0, sizeof(z->reqp));
        memcpy(z->reqp, msg + VFU_HDR_SIZE, z->reqlen);
    }
    if (vfu_conn_feed(z->c, msg, n, fds, (unsigned int)nfds) == -ENOTCONN) {
        vfu_conn_close(z->c);
        if (vfu_conn_virtual(z->d, sink, peer_dma, z, &z->c)) {
            abort();
        }
    }
    if (sv[1] >= 0) {
        if (z->peer >= 0) {
            close(z->peer);
        }
        z->peer = sv[1];
    }
    free(msg);
}

/* the client-side checks, on bytes nobody vouches for */
static void codec(const uint8_t *b, size_t n)
{
    struct vfu_version pv = {0, 2}, v;
    struct vfu_caps pc, c;
    struct vfu_region_info ri;
    struct vfu_sparse_area a[4];
    struct vfu_io_fds q;
    struct vfu_irq_info ii;
    struct vfu_device_info di;
    struct vfu_dma_access da;
    struct vfu_region_access ra = {0, 0, 16};
    const uint8_t *d;
    uint64_t done;
    uint32_t nr;
    uint8_t sel;

    if (n == 0) {
        return;
    }
    sel = b[0];
    b++;
    n--;
    vfu_caps_default(&pc);
    pc.twin_supported = sel & 0x80;
    switch (sel & 15) {
    case 0:
        vfu_caps_parse((const char *)b, n, &c);
        break;
    case 1:
        vfu_check_version_reply(b, n, sel >> 4 & 3, &pv, &pc, &v, &c);
        break;
    case 2:
        vfu_check_region_info_reply(b, n, sel >> 4 & 1, sel >> 5 & 7,
                                    n ? (uint32_t)n + (sel >> 6) : 0, &ri, a, 4,
                                    &nr);
        break;
    case 3:
        vfu_check_io_fds_reply(b, n, sel >> 4 & 3, 0, &q);
        break;
    case 4:
        vfu_check_irq_info_reply(b, n, sel >> 4 & 7, &ii);
        break;
    case 5:
        vfu_check_device_info_reply(b, n, &di);
        break;
    case 6:
        vfu_check_dma_access((sel & 16) ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ,
                             b, n, 0, VFU_MAX_DATA_XFER, &da, &d);
        break;
    case 7:
        da = (struct vfu_dma_access){0x1000, 16};
        vfu_check_dma_access_reply(
            (sel & 16) ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ, b, n, &da);
        break;
    case 8:
        vfu_check_region_access_reply(
            (sel & 16) ? VFU_CMD_REGION_WRITE : VFU_CMD_REGION_READ, b, n, &ra);
        break;
    case 9:
        vfu_check_write_multi_reply(b, n, 4, &done);
        break;
    default: {
        /* the writer's output parses back to what it wrote */
        char buf[512];
        struct vfu_caps w;
        int len;

        vfu_caps_default(&w);
        if (n >= 8) {
            memcpy(&w.max_msg_fds, b, 8);
        }
        w.max_msg_fds %= VFU_PEER_MAX_MSG_FDS + 1;
        w.twin_supported = sel & 16;
        w.twin_has_index = sel & 32 && w.twin_supported;
        w.write_multiple = sel & 64;
        len = vfu_caps_format(&w, buf, sizeof(buf));
        if (len < 0 || vfu_caps_parse(buf, (size_t)len - 1, &c) ||
            c.max_msg_fds != w.max_msg_fds ||
            c.twin_supported != w.twin_supported) {
            die("caps writer and parser disagree");
        }
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz z = {.peer = -1};
    int fds = count_fds();

    if (vfu_model_edu.create(0, NULL, &z.d)) {
        abort();
    }
    vfu_dev_set_quiet(z.d, true);
    vfu_dev_set_send_timeout(z.d, 20); /* nobody reads big replies here */
    if (vfu_conn_virtual(z.d, sink, peer_dma, &z, &z.c)) {
        abort();
    }
    while (size >= 3) {
        uint8_t op = data[0];
        uint16_t len;

        memcpy(&len, data + 1, 2);
        data += 3;
        size -= 3;
        if (len > size) {
            len = (uint16_t)size;
        }
        switch (op & 7) {
        case 0:
            feed(&z, op, data, len);
            break;
        case 1:
            if (z.peer >= 0) {
                if (len &&
                    send(z.peer, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                    /* full: fine */
                }
                vfu_dev_run_once(z.d, 0);
                drain(z.peer);
            }
            break;
        case 2:
            codec(data, len);
            break;
        case 3:
            z.refuse = len ? (data[0] % 64) : 0;
            break;
        case 4:
            vfu_conn_close(z.c);
            if (vfu_conn_virtual(z.d, sink, peer_dma, &z, &z.c)) {
                abort();
            }
            break;
        case 5:
            vfu_dev_run_once(z.d, 0);
            if (z.peer >= 0) {
                drain(z.peer);
            }
            break;
        default:
            break;
        }
        data += len;
        size -= len;
    }
    if (z.peer >= 0) {
        close(z.peer);
    }
    vfu_model_edu.destroy(z.d);
    if (count_fds() != fds) {
        die("a descriptor leaked");
    }
    return 0;
}
