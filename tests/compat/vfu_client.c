/* SPDX-License-Identifier: MIT */
/*
 * vfu_client.c - a vfio-user client (built on src/vfu's codec) that drives
 * real procvisor-dm processes: vfu_client PATH-TO-procvisor-dm.
 *
 * edu over --fd with a twin socket: VERSION, DEVICE_GET_INFO, region info
 * with its capability chain (grow and retry) and the mmap-able buffer,
 * config reads and BAR sizing, the factorial, DMA of a memfd both ways
 * checked byte for byte, message DMA served here on the twin socket, a
 * DMA to an unmapped IOVA and one the client refuses (no interrupt, data
 * unchanged, DMA_ERROR), MSI and INTx with auto-mask and UNMASK, loopback,
 * reset, the restricted client, malformed messages, SIGKILL seen as EOF.
 * edu without a twin (message DMA on the main socket, interleaved with
 * replies); framing errors closing the connection; --socket with two
 * clients in turn and SIGTERM; mtty with two ports; bad command lines.
 *
 * Prints "ok: ..." or "FAIL: ..." per check and "N checks, M failed" at
 * the end; exits 1 if any failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "vfu_devices.h"
#include "vfu_wire.h"

#define TIMEOUT_MS 10000

static const char *dm_path;
static int checks, failures;

static bool check(bool ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool check(bool ok, const char *fmt, ...)
{
    va_list ap;

    checks++;
    if (!ok) {
        failures++;
    }
    printf("%s: ", ok ? "ok" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return ok;
}

/* ---- a client ---- */

struct mem {
    uint64_t iova, size;
    uint8_t *p;
};

struct cli {
    pid_t pid;
    int sock, twin;
    uint16_t id;
    struct vfu_caps caps;
    struct mem mem[4]; /* served by DMA messages */
    int nmem;
    uint32_t refuse; /* answer DMA messages with this errno */
    unsigned int dma_twin, dma_main;
    /* the last reply */
    struct vfu_hdr rh;
    uint8_t *rbuf;
    int rfds[8];
    int nrfds;
    bool eof;
};

static void drop_rfds(struct cli *c)
{
    for (int i = 0; i < c->nrfds; i++) {
        close(c->rfds[i]);
    }
    c->nrfds = 0;
}

static pid_t spawn(const char *type, const char *const *opts, int fd)
{
    pid_t pid = fork();

    if (pid == 0) {
        char fdstr[16];
        const char *argv[16];
        int n = 0;

        snprintf(fdstr, sizeof(fdstr), "%d", fd);
        fcntl(fd, F_SETFD, 0);
        argv[n++] = dm_path;
        argv[n++] = type;
        for (int i = 0; opts && opts[i]; i++) {
            argv[n++] = opts[i];
        }
        if (fd >= 0) {
            argv[n++] = "--fd";
            argv[n++] = fdstr;
        }
        argv[n] = NULL;
        execv(dm_path, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int start(struct cli *c, const char *type, const char *const *opts)
{
    int sv[2];

    memset(c, 0, sizeof(*c));
    c->twin = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        return -errno;
    }
    c->pid = spawn(type, opts, sv[1]);
    close(sv[1]);
    c->sock = sv[0];
    return c->pid > 0 ? 0 : -ECHILD;
}

/* wait for the model to exit: its status, or -1 after the timeout */
static int reap(pid_t pid, int timeout_ms)
{
    for (int i = 0; i < timeout_ms / 10; i++) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == pid) {
            if (WIFEXITED(st)) {
                return WEXITSTATUS(st);
            }
            return 128 + WTERMSIG(st);
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void stop(struct cli *c)
{
    drop_rfds(c);
    free(c->rbuf);
    c->rbuf = NULL;
    if (c->twin >= 0) {
        close(c->twin);
    }
    if (c->sock >= 0) {
        close(c->sock);
    }
    c->sock = c->twin = -1;
    for (int i = 0; i < c->nmem; i++) {
        free(c->mem[i].p);
    }
    c->nmem = 0;
}

static int send_msg(int fd, uint16_t id, uint16_t cmd, uint32_t flags,
                    const void *p1, size_t l1, const void *p2, size_t l2,
                    const int *fds, int nfds)
{
    struct vfu_hdr h;
    struct iovec iov[3];
    union {
        char buf[CMSG_SPACE(sizeof(int) * 32)];
        struct cmsghdr align;
    } cm;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 3};
    size_t total, sent = 0;

    vfu_hdr_init(&h, id, cmd, (uint32_t)(l1 + l2), flags);
    iov[0] = (struct iovec){&h, sizeof(h)};
    iov[1] = (struct iovec){(void *)p1, l1};
    iov[2] = (struct iovec){(void *)p2, l2};
    total = sizeof(h) + l1 + l2;
    if (nfds) {
        struct cmsghdr *c;

        memset(&cm, 0, sizeof(cm));
        mh.msg_control = cm.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    while (sent < total) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

        if (n <= 0) {
            return -errno;
        }
        sent += (size_t)n;
        mh.msg_control = NULL;
        mh.msg_controllen = 0;
        while (n > 0) {
            if ((size_t)n >= mh.msg_iov->iov_len) {
                n -= (ssize_t)mh.msg_iov->iov_len;
                mh.msg_iov++;
                mh.msg_iovlen--;
            } else {
                mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + n;
                mh.msg_iov->iov_len -= (size_t)n;
                n = 0;
            }
        }
    }
    return 0;
}

/* read exactly n bytes (descriptors to fds): 1, 0 at EOF, -1 on timeout */
static int read_full(int fd, void *buf, size_t n, int *fds, int *nfds)
{
    size_t got = 0;

    while (got < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        union {
            char b[CMSG_SPACE(sizeof(int) * 32)];
            struct cmsghdr align;
        } cm;
        struct iovec iov = {(uint8_t *)buf + got, n - got};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cm.b,
                            .msg_controllen = sizeof(cm.b)};
        ssize_t r;

        if (poll(&p, 1, TIMEOUT_MS) <= 0) {
            return -1;
        }
        r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (r <= 0) {
            return 0;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
             c = CMSG_NXTHDR(&mh, c)) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

            for (int i = 0; i < k; i++) {
                int f;

                memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (fds && *nfds < 8) {
                    fds[(*nfds)++] = f;
                } else {
                    close(f);
                }
            }
        }
        got += (size_t)r;
    }
    return 1;
}

/* one message: 1, 0 at EOF, -1 on timeout or nonsense */
static int read_msg(int fd, struct vfu_hdr *h, uint8_t **body, int *fds,
                    int *nfds)
{
    uint8_t hb[VFU_HDR_SIZE];
    int r = read_full(fd, hb, sizeof(hb), fds, nfds);

    *body = NULL;
    if (r <= 0) {
        return r;
    }
    if (vfu_hdr_parse(hb, sizeof(hb), h)) {
        return -1;
    }
    *body = malloc(vfu_payload_len(h) + 1);
    if (!*body) {
        return -1;
    }
    if (vfu_payload_len(h)) {
        r = read_full(fd, *body, vfu_payload_len(h), fds, nfds);
        if (r <= 0) {
            free(*body);
            *body = NULL;
            return r;
        }
    }
    return 1;
}

/* serve a DMA_READ/DMA_WRITE from the model out of c->mem */
static void serve_dma(struct cli *c, int fd, const struct vfu_hdr *h,
                      const uint8_t *body)
{
    struct vfu_dma_access da;
    const uint8_t *data;
    struct vfu_hdr r;
    uint8_t *p = NULL;
    int rc;

    rc = vfu_check_dma_access(h->cmd, body, vfu_payload_len(h), 0,
                              VFU_MAX_DATA_XFER, &da, &data);
    for (int i = 0; !rc && i < c->nmem; i++) {
        struct mem *m = &c->mem[i];

        if (da.addr >= m->iova && da.addr - m->iova < m->size &&
            da.count <= m->size - (da.addr - m->iova)) {
            p = m->p + (da.addr - m->iova);
        }
    }
    if (rc || !p || c->refuse) {
        vfu_error_reply(&r, h,
                        rc          ? (uint32_t)-rc
                        : c->refuse ? c->refuse
                                    : EFAULT);
        send_msg(fd, h->msg_id, h->cmd, r.flags, NULL, 0, NULL, 0, NULL, 0);
        return;
    }
    if (h->cmd == VFU_CMD_DMA_WRITE) {
        memcpy(p, data, da.count);
        send_msg(fd, h->msg_id, h->cmd, VFU_F_TYPE_REPLY, &da, sizeof(da), NULL,
                 0, NULL, 0);
    } else {
        send_msg(fd, h->msg_id, h->cmd, VFU_F_TYPE_REPLY, &da, sizeof(da), p,
                 da.count, NULL, 0);
    }
}

/*
 * Wait for the reply (id, cmd) on the main socket, serving the model's
 * DMA messages on the twin (or the main socket) meanwhile.  1 with c->rh,
 * c->rbuf, c->rfds; 0 at EOF; -1 on a timeout or a stray message.
 */
static int wait_reply(struct cli *c, uint16_t id, uint16_t cmd)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = c->sock, .events = POLLIN},
                              {.fd = c->twin, .events = POLLIN}};
        int n = c->twin >= 0 ? 2 : 1;

        if (poll(p, (nfds_t)n, TIMEOUT_MS) <= 0) {
            return -1;
        }
        if (n == 2 && p[1].revents) {
            struct vfu_hdr h;
            uint8_t *b;
            int r = read_msg(c->twin, &h, &b, NULL, NULL);

            if (r <= 0) {
                close(c->twin);
                c->twin = -1;
                continue;
            }
            if (!vfu_is_reply(&h) &&
                (h.cmd == VFU_CMD_DMA_READ || h.cmd == VFU_CMD_DMA_WRITE)) {
                c->dma_twin++;
                serve_dma(c, c->twin, &h, b);
            }
            free(b);
            continue;
        }
        if (p[0].revents) {
            struct vfu_hdr h;
            uint8_t *b;
            int r;

            drop_rfds(c);
            r = read_msg(c->sock, &h, &b, c->rfds, &c->nrfds);
            if (r <= 0) {
                c->eof = r == 0;
                return r;
            }
            if (!vfu_is_reply(&h) &&
                (h.cmd == VFU_CMD_DMA_READ || h.cmd == VFU_CMD_DMA_WRITE)) {
                c->dma_main++;
                serve_dma(c, c->sock, &h, b);
                free(b);
                continue;
            }
            if (!vfu_is_reply(&h) || h.msg_id != id || h.cmd != cmd) {
                printf("  stray message: cmd %u id %u flags 0x%x\n", h.cmd,
                       h.msg_id, h.flags);
                free(b);
                return -1;
            }
            free(c->rbuf);
            c->rbuf = b;
            c->rh = h;
            return 1;
        }
    }
}

/* one command: 0, the reply's errno, or -1 (no reply) */
static int rpc2(struct cli *c, uint16_t cmd, const void *p1, size_t l1,
                const void *p2, size_t l2, const int *fds, int nfds)
{
    uint16_t id = ++c->id;

    if (send_msg(c->sock, id, cmd, VFU_F_TYPE_COMMAND, p1, l1, p2, l2, fds,
                 nfds)) {
        return -1;
    }
    if (wait_reply(c, id, cmd) != 1) {
        return -1;
    }
    if (c->rh.flags & VFU_F_ERROR) {
        return c->rh.msg_size == VFU_HDR_SIZE ? (int)c->rh.error_no : -1;
    }
    return 0;
}

static int rpc(struct cli *c, uint16_t cmd, const void *p, size_t l,
               const int *fds, int nfds)
{
    return rpc2(c, cmd, p, l, NULL, 0, fds, nfds);
}

static uint32_t rlen(const struct cli *c)
{
    return vfu_payload_len(&c->rh);
}

static int negotiate(struct cli *c, bool twin)
{
    struct vfu_version v = {0, 2}, rv;
    struct vfu_caps pc;
    char json[256];
    int n, rc;

    vfu_caps_default(&pc);
    pc.max_msg_fds = 8;
    pc.twin_supported = twin;
    n = vfu_caps_format(&pc, json, sizeof(json));
    rc = rpc2(c, VFU_CMD_VERSION, &v, sizeof(v), json, (size_t)n, NULL, 0);
    if (rc) {
        return rc;
    }
    rc = vfu_check_version_reply(c->rbuf, rlen(c), (unsigned)c->nrfds, &v, &pc,
                                 &rv, &c->caps);
    if (rc) {
        return rc;
    }
    if (c->caps.twin_supported) {
        c->twin = c->rfds[c->caps.twin_fd_index];
        c->rfds[c->caps.twin_fd_index] = -1;
        c->nrfds = 0;
    }
    return 0;
}

static int region_rw(struct cli *c, bool write, uint32_t region, uint64_t off,
                     void *buf, uint32_t count)
{
    struct vfu_region_access ra = {off, region, count};
    int rc;

    if (write) {
        rc =
            rpc2(c, VFU_CMD_REGION_WRITE, &ra, sizeof(ra), buf, count, NULL, 0);
        if (!rc && vfu_check_region_access_reply(VFU_CMD_REGION_WRITE, c->rbuf,
                                                 rlen(c), &ra)) {
            return -1;
        }
        return rc;
    }
    rc = rpc(c, VFU_CMD_REGION_READ, &ra, sizeof(ra), NULL, 0);
    if (!rc) {
        if (vfu_check_region_access_reply(VFU_CMD_REGION_READ, c->rbuf, rlen(c),
                                          &ra)) {
            return -1;
        }
        memcpy(buf, c->rbuf + sizeof(ra), count);
    }
    return rc;
}

static uint32_t rd(struct cli *c, uint32_t region, uint64_t off, uint32_t n)
{
    uint32_t v = 0;

    if (region_rw(c, false, region, off, &v, n)) {
        return 0xdeadbeef;
    }
    return v;
}

static int wr(struct cli *c, uint32_t region, uint64_t off, uint64_t v,
              uint32_t n)
{
    return region_rw(c, true, region, off, &v, n);
}

static int set_irqs(struct cli *c, uint32_t flags, uint32_t index,
                    uint32_t start, uint32_t count, const void *data,
                    size_t dlen, const int *fds, int nfds)
{
    struct vfu_irq_set is = {(uint32_t)(sizeof(is) + dlen), flags, index, start,
                             count};

    return rpc2(c, VFU_CMD_DEVICE_SET_IRQS, &is, sizeof(is), data, dlen, fds,
                nfds);
}

static int dma_map(struct cli *c, uint32_t flags, uint64_t off, uint64_t iova,
                   uint64_t size, int fd)
{
    struct vfu_dma_map m = {32, flags, off, iova, size};

    return rpc(c, VFU_CMD_DMA_MAP, &m, sizeof(m), &fd, fd >= 0 ? 1 : 0);
}

static int dma_unmap(struct cli *c, uint32_t flags, uint64_t iova,
                     uint64_t size)
{
    struct vfu_dma_unmap u = {24, flags, iova, size};

    return rpc(c, VFU_CMD_DMA_UNMAP, &u, sizeof(u), NULL, 0);
}

static uint64_t efd_wait(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t v = 0;

    if (poll(&p, 1, ms) == 1 && read(fd, &v, sizeof(v)) == sizeof(v)) {
        return v;
    }
    return 0;
}

#define EFD_TRIGGER  (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define NONE_TRIGGER (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)
#define NONE_UNMASK  (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK)

/* start an edu DMA and wait until DMA_CMD's RUN bit clears; the error */
static uint32_t edu_dma(struct cli *c, uint64_t src, uint64_t dst, uint64_t cnt,
                        uint32_t cmd)
{
    wr(c, 0, EDU_REG_DMA_SRC, src, 8);
    wr(c, 0, EDU_REG_DMA_DST, dst, 8);
    wr(c, 0, EDU_REG_DMA_COUNT, cnt, 8);
    wr(c, 0, EDU_REG_DMA_CMD, cmd | EDU_DMA_RUN, 4);
    for (int i = 0; i < 1000; i++) {
        uint32_t v = rd(c, 0, EDU_REG_DMA_CMD, 4);

        if (v == 0xdeadbeef) {
            return 0xdeadbeef;
        }
        if (!(v & EDU_DMA_RUN)) {
            return rd(c, 0, EDU_REG_DMA_ERROR, 4);
        }
        usleep(1000);
    }
    return 0xdeadbeef;
}

/* ---- edu, with a twin socket ---- */

static void edu_info(struct cli *c, uint8_t **bufmap)
{
    struct vfu_device_info di = {16, 0, 0, 0};
    struct vfu_region_info ri = {32, 0, 0, 0, 0, 0}, out;
    struct vfu_sparse_area a[4];
    uint32_t nr = 0;
    int rc;

    rc = rpc(c, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0);
    check(rc == 0 && !vfu_check_device_info_reply(c->rbuf, rlen(c), &di) &&
              di.num_regions == 9 && di.num_irqs == 5 &&
              di.flags == (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET),
          "DEVICE_GET_INFO: PCI, reset, 9 regions, 5 IRQ indexes");
    /* too small: CAPS with cap_offset 0 and the size to ask again with */
    rc = rpc(c, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0);
    memcpy(&out, c->rbuf, sizeof(out));
    check(rc == 0 && rlen(c) == 32 && out.argsz == 64 &&
              (out.flags & VFIO_REGION_INFO_FLAG_CAPS) && out.cap_offset == 0,
          "region info with argsz 32: CAPS, cap_offset 0, argsz 64");
    ri.argsz = out.argsz;
    rc = rpc(c, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0);
    check(rc == 0 &&
              !vfu_check_region_info_reply(c->rbuf, rlen(c), (unsigned)c->nrfds,
                                           0, 64, &out, a, 4, &nr) &&
              out.size == EDU_BAR0_SIZE && nr == 1 &&
              a[0].offset == EDU_DMA_BUF && a[0].size == EDU_DMA_BUF_SIZE &&
              (out.flags & VFIO_REGION_INFO_FLAG_MMAP) && c->nrfds == 1,
          "region info BAR0 retried: 1 MiB, sparse mmap [0x40000, +4K), fd");
    *bufmap = MAP_FAILED;
    if (c->nrfds == 1) {
        *bufmap = mmap(NULL, a[0].size, PROT_READ | PROT_WRITE, MAP_SHARED,
                       c->rfds[0], (off_t)(out.offset + a[0].offset));
    }
    check(*bufmap != MAP_FAILED, "the sparse area mmaps");
    ri = (struct vfu_region_info){32, 0, VFIO_PCI_CONFIG_REGION_INDEX};
    rc = rpc(c, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0);
    memcpy(&out, c->rbuf, sizeof(out));
    check(rc == 0 && out.size == 256 && c->nrfds == 0 &&
              out.flags ==
                  (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE),
          "region info CONFIG: 256 bytes, read/write, no fd");
    ri.index = 9;
    check(rpc(c, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0) ==
              EINVAL,
          "region info index 9: EINVAL");
}

static void edu_config(struct cli *c)
{
    const uint32_t cfg = VFIO_PCI_CONFIG_REGION_INDEX;
    uint32_t bar;

    check(rd(c, cfg, 0, 2) == 0x1234 && rd(c, cfg, 2, 2) == 0x11e8,
          "config: vendor 1234, device 11e8");
    check(rd(c, cfg, PCI_CLASS_REVISION, 4) == 0x00ff0010,
          "config: class 00ff, revision 0x10");
    check(rd(c, cfg, PCI_INTERRUPT_PIN, 1) == 1, "config: INTA");
    check(rd(c, cfg, PCI_CAPABILITY_LIST, 1) == 0x40 &&
              rd(c, cfg, 0x40, 1) == PCI_CAP_ID_MSI &&
              (rd(c, cfg, 0x42, 2) & PCI_MSI_FLAGS_64BIT),
          "config: a 64-bit MSI capability at 0x40");
    /* BAR sizing */
    wr(c, cfg, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
    bar = rd(c, cfg, PCI_BASE_ADDRESS_0, 4);
    check(bar == 0xfff00000 && ~(bar & ~0xfu) + 1 == EDU_BAR0_SIZE,
          "BAR0 sizing: 0x%08x, 1 MiB 32-bit memory", bar);
    wr(c, cfg, PCI_BASE_ADDRESS_0, 0xfe000000, 4);
    check(rd(c, cfg, PCI_BASE_ADDRESS_0, 4) == 0xfe000000,
          "BAR0 takes an address");
    wr(c, cfg, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
    check(rd(c, cfg, PCI_BASE_ADDRESS_1, 4) == 0, "BAR1 is absent");
    wr(c, cfg, 0, 0xffffffff, 4);
    check(rd(c, cfg, 0, 4) == 0x11e81234, "the IDs are read-only");
    check(wr(c, 0, EDU_REG_LIVENESS, 1, 4) == EIO,
          "BAR0 with memory decode off: EIO");
    wr(c, cfg, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    check(rd(c, cfg, PCI_COMMAND, 2) ==
              (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
          "COMMAND: memory and bus master on");
}

static void edu_registers(struct cli *c)
{
    check(rd(c, 0, EDU_REG_ID, 4) == EDU_ID, "edu ID 0x010000ed");
    wr(c, 0, EDU_REG_LIVENESS, 0x12345678, 4);
    check(rd(c, 0, EDU_REG_LIVENESS, 4) == ~0x12345678u,
          "liveness reads back inverted");
    wr(c, 0, EDU_REG_FACT, 5, 4);
    for (int i = 0; i < 100 && (rd(c, 0, EDU_REG_STATUS, 4) & 1); i++) {
        usleep(1000);
    }
    check(rd(c, 0, EDU_REG_FACT, 4) == 120, "factorial 5 = 120");
    wr(c, 0, EDU_REG_FACT, 10, 4);
    check(rd(c, 0, EDU_REG_FACT, 4) == 3628800, "factorial 10 = 3628800");
    check(rd(c, 0, EDU_REG_ID, 2) == 0xffff,
          "a 2-byte read below 0x80 reads all-ones");
}

static void edu_irqs(struct cli *c, int *msi)
{
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), f;

    /* INTx first */
    check(set_irqs(c, EFD_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0, &efd,
                   1) == 0,
          "SET_IRQS INTx eventfd");
    wr(c, 0, EDU_REG_IRQ_RAISE, 0x40, 4);
    check(efd_wait(efd, 2000) == 1, "INTx: the raise signals");
    wr(c, 0, EDU_REG_IRQ_RAISE, 0x80, 4);
    check(efd_wait(efd, 100) == 0, "INTx: auto-masked, the next is held");
    check(rd(c, VFIO_PCI_CONFIG_REGION_INDEX, PCI_STATUS, 2) &
              PCI_STATUS_INTERRUPT,
          "STATUS shows the interrupt");
    set_irqs(c, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0);
    check(efd_wait(efd, 2000) == 1, "INTx: UNMASK while asserted signals");
    wr(c, 0, EDU_REG_IRQ_ACK, 0xc0, 4);
    set_irqs(c, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0);
    check(efd_wait(efd, 100) == 0 && rd(c, 0, EDU_REG_IRQ_STATUS, 4) == 0,
          "INTx: acked, UNMASK is quiet");
    set_irqs(c, NONE_TRIGGER, 0, 0, 1, NULL, 0, NULL, 0);
    check(efd_wait(efd, 2000) == 1, "INTx: loopback trigger");
    f = eventfd(0, EFD_CLOEXEC);
    check(set_irqs(c, EFD_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0, &f,
                   1) == EINVAL,
          "MSI while INTx: EINVAL");
    close(f);
    check(set_irqs(c, NONE_TRIGGER, 0, 0, 0, NULL, 0, NULL, 0) == 0,
          "INTx disabled with count 0");
    /* then MSI for the rest */
    check(set_irqs(c, EFD_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, NULL, 0, &efd,
                   1) == 0,
          "SET_IRQS MSI eventfd");
    check(rd(c, VFIO_PCI_CONFIG_REGION_INDEX, 0x42, 2) & PCI_MSI_FLAGS_ENABLE,
          "config MSI enable follows SET_IRQS");
    wr(c, 0, EDU_REG_STATUS, EDU_STATUS_IRQFACT, 4);
    wr(c, 0, EDU_REG_FACT, 4, 4);
    check(efd_wait(efd, 2000) == 1 && rd(c, 0, EDU_REG_FACT, 4) == 24 &&
              rd(c, 0, EDU_REG_IRQ_STATUS, 4) == EDU_IRQ_FACT,
          "MSI on factorial completion (4! = 24)");
    wr(c, 0, EDU_REG_IRQ_ACK, EDU_IRQ_FACT, 4);
    wr(c, 0, EDU_REG_STATUS, 0, 4);
    set_irqs(c, NONE_TRIGGER, 1, 0, 1, NULL, 0, NULL, 0);
    check(efd_wait(efd, 2000) == 1, "MSI: loopback trigger");
    *msi = efd;
}

static void edu_dma_tests(struct cli *c, int msi, uint8_t *bufmap)
{
    const uint32_t rw = VFU_DMA_READ | VFU_DMA_WRITE;
    int mfd = memfd_create("vfu-client-ram", MFD_CLOEXEC);
    uint8_t *ram, buf[EDU_DMA_BUF_SIZE], before[64];
    uint32_t err;

    if (ftruncate(mfd, 0x10000) < 0) {
        check(false, "memfd");
        return;
    }
    ram = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    for (int i = 0; i < 0x10000; i++) {
        ram[i] = (uint8_t)(i * 7 + 3);
    }
    check(dma_map(c, rw, 0, 0x100000, 0x10000, mfd) == 0,
          "DMA_MAP a memfd at 0x100000");
    check(dma_map(c, rw, 0, 0x108000, 0x1000, -1) == EEXIST,
          "DMA_MAP over it: EEXIST");
    /* RAM -> device */
    err = edu_dma(c, 0x100000 + 0x123, EDU_DMA_BUF, EDU_DMA_BUF_SIZE,
                  EDU_DMA_IRQ);
    check(err == 0 && efd_wait(msi, 2000) == 1,
          "edu DMA RAM->device 4 KiB, MSI on completion");
    wr(c, 0, EDU_REG_IRQ_ACK, EDU_IRQ_DMA, 4);
    region_rw(c, false, 0, EDU_DMA_BUF, buf, sizeof(buf));
    check(memcmp(buf, ram + 0x123, sizeof(buf)) == 0,
          "the device buffer (REGION_READ) matches RAM byte for byte");
    check(memcmp(bufmap, ram + 0x123, EDU_DMA_BUF_SIZE) == 0,
          "the mmap-ed buffer matches too");
    /* device -> RAM, after changing the buffer through the mmap */
    for (unsigned int i = 0; i < EDU_DMA_BUF_SIZE; i++) {
        bufmap[i] = (uint8_t)(0xff - i);
    }
    err = edu_dma(c, EDU_DMA_BUF, 0x100000 + 0x8000, EDU_DMA_BUF_SIZE,
                  EDU_DMA_TO_RAM | EDU_DMA_IRQ);
    check(err == 0 && efd_wait(msi, 2000) == 1 &&
              memcmp(ram + 0x8000, bufmap, EDU_DMA_BUF_SIZE) == 0,
          "edu DMA device->RAM 4 KiB matches byte for byte, MSI");
    wr(c, 0, EDU_REG_IRQ_ACK, EDU_IRQ_DMA, 4);

    /* message DMA: memory without a descriptor, served on the twin */
    c->mem[0] = (struct mem){0x200000, 0x10000, calloc(1, 0x10000)};
    c->nmem = 1;
    for (int i = 0; i < 0x10000; i++) {
        c->mem[0].p[i] = (uint8_t)(i * 13 + 1);
    }
    check(dma_map(c, rw, 0, 0x200000, 0x10000, -1) == 0,
          "DMA_MAP without fd at 0x200000");
    err = edu_dma(c, 0x200000 + 0x10, EDU_DMA_BUF, 1000, EDU_DMA_IRQ);
    region_rw(c, false, 0, EDU_DMA_BUF, buf, 1000);
    check(err == 0 && memcmp(buf, c->mem[0].p + 0x10, 1000) == 0 &&
              efd_wait(msi, 2000) == 1,
          "message DMA RAM->device (DMA_READ) byte for byte");
    wr(c, 0, EDU_REG_IRQ_ACK, EDU_IRQ_DMA, 4);
    err =
        edu_dma(c, EDU_DMA_BUF + 100, 0x200000 + 0xf000, 3000, EDU_DMA_TO_RAM);
    check(err == 0 && memcmp(c->mem[0].p + 0xf000, bufmap + 100, 3000) == 0,
          "message DMA device->RAM (DMA_WRITE) byte for byte");
    check(c->dma_twin >= 2 && c->dma_main == 0,
          "DMA messages came on the twin socket (%u), none on the main",
          c->dma_twin);

    /* refused: an unmapped IOVA */
    memcpy(before, bufmap, sizeof(before));
    err = edu_dma(c, 0x300000, EDU_DMA_BUF, 64, EDU_DMA_IRQ);
    check(err == EDU_DMA_ERR_FAULT, "DMA from an unmapped IOVA: refused (%u)",
          err);
    check(efd_wait(msi, 300) == 0, "... no completion interrupt");
    check(memcmp(bufmap, before, sizeof(before)) == 0, "... no data moved");
    wr(c, 0, EDU_REG_DMA_ERROR, ~0u, 4);
    memcpy(before, ram + 0x100, sizeof(before));
    err =
        edu_dma(c, EDU_DMA_BUF, 0x10ff00, 0x200, EDU_DMA_TO_RAM | EDU_DMA_IRQ);
    check(err == EDU_DMA_ERR_FAULT && efd_wait(msi, 300) == 0,
          "DMA to RAM running past the map: refused, no interrupt");
    wr(c, 0, EDU_REG_DMA_ERROR, ~0u, 4);
    /* refused by the client's answer */
    c->refuse = EFAULT;
    memcpy(before, bufmap, sizeof(before));
    err = edu_dma(c, 0x200000, EDU_DMA_BUF, 64, EDU_DMA_IRQ);
    check(err == EDU_DMA_ERR_FAULT && efd_wait(msi, 300) == 0 &&
              memcmp(bufmap, before, sizeof(before)) == 0,
          "a DMA message answered with an error: a fault, no interrupt, "
          "no data");
    c->refuse = 0;
    wr(c, 0, EDU_REG_DMA_ERROR, ~0u, 4);
    /* unmap: exact, then the device cannot reach it */
    check(dma_unmap(c, 0, 0x100000, 0x8000) == ENOENT,
          "DMA_UNMAP of part of a map: ENOENT");
    check(dma_unmap(c, 0, 0x100000, 0x10000) == 0, "DMA_UNMAP the memfd");
    err = edu_dma(c, 0x100000, EDU_DMA_BUF, 64, 0);
    check(err == EDU_DMA_ERR_FAULT, "... then DMA there is refused");
    wr(c, 0, EDU_REG_DMA_ERROR, ~0u, 4);
    munmap(ram, 0x10000);
    close(mfd);
}

static void edu_restricted(struct cli *c)
{
    struct vfu_pv_add_client a = {0, 0};
    struct vfu_region_access ra = {0, VFIO_PCI_CONFIG_REGION_INDEX, 4};
    struct vfu_dma_map m = {32, VFU_DMA_READ, 0, 0x400000, 0x1000};
    struct cli r = {.sock = -1, .twin = -1};
    uint32_t v;
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        check(false, "socketpair");
        return;
    }
    check(rpc(c, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), &sv[0], 1) == 0,
          "PV_ADD_CLIENT");
    close(sv[0]);
    r.sock = sv[1];
    check(rpc(&r, VFU_CMD_REGION_READ, &ra, sizeof(ra), NULL, 0) == 0 &&
              !memcmp(r.rbuf + 16, "\x34\x12\xe8\x11", 4),
          "restricted client: REGION_READ of the IDs");
    check(rpc(&r, VFU_CMD_DMA_MAP, &m, sizeof(m), NULL, 0) == EPERM,
          "restricted client: DMA_MAP is EPERM");
    check(rpc(&r, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0) == EPERM,
          "restricted client: DEVICE_RESET is EPERM");
    check(wr(&r, 0, EDU_REG_LIVENESS, 0xf0f0f0f0, 4) == 0 &&
              rd(c, 0, EDU_REG_LIVENESS, 4) == 0x0f0f0f0f,
          "restricted client: still up, REGION_WRITE reaches the device");
    v = rd(&r, 0, EDU_REG_LIVENESS, 4);
    check(v == 0x0f0f0f0f, "restricted client: REGION_READ of BAR0");
    stop(&r);
}

static void edu_malformed(struct cli *c)
{
    struct vfu_device_info di = {16, 0, 0, 0};
    uint8_t z[64] = {0};
    uint16_t id;

    check(rpc(c, 14, NULL, 0, NULL, 0) == ENOSYS, "unknown command: ENOSYS");
    check(rpc(c, VFU_CMD_DMA_READ, z, 16, NULL, 0) == EINVAL,
          "DMA_READ from the client: EINVAL");
    check(rpc(c, VFU_CMD_DMA_MAP, z, 20, NULL, 0) == EINVAL,
          "short DMA_MAP: EINVAL");
    {
        struct vfu_dma_map m = {32, 3, 0, ~0xfffull, 0x2000};

        check(rpc(c, VFU_CMD_DMA_MAP, &m, sizeof(m), NULL, 0) == EOVERFLOW,
              "DMA_MAP wrapping the address space: EOVERFLOW");
    }
    check(set_irqs(c,
                   VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL |
                       VFIO_IRQ_SET_ACTION_TRIGGER,
                   1, 0, 1, NULL, 0, NULL, 0) == EINVAL,
          "SET_IRQS with two data types: EINVAL");
    check(set_irqs(c, NONE_TRIGGER, 1, 1, 1, NULL, 0, NULL, 0) == EINVAL,
          "SET_IRQS beyond the vectors: EINVAL");
    check(rd(c, 0, EDU_BAR0_SIZE - 2, 4) == 0xdeadbeef,
          "REGION_READ across the BAR's end: refused");
    /* bad flags in the header */
    id = ++c->id;
    send_msg(c->sock, id, VFU_CMD_DEVICE_GET_INFO, 0x40, &di, sizeof(di), NULL,
             0, NULL, 0);
    check(wait_reply(c, id, VFU_CMD_DEVICE_GET_INFO) == 1 &&
              (c->rh.flags & VFU_F_ERROR) && c->rh.error_no == EINVAL,
          "undefined header flag: EINVAL");
    /* a reply nobody waits for, then NO_REPLY: neither answered */
    send_msg(c->sock, 77, VFU_CMD_DEVICE_GET_INFO, VFU_F_TYPE_REPLY, &di,
             sizeof(di), NULL, 0, NULL, 0);
    send_msg(c->sock, 78, VFU_CMD_DEVICE_GET_INFO,
             VFU_F_TYPE_COMMAND | VFU_F_NO_REPLY, &di, sizeof(di), NULL, 0,
             NULL, 0);
    check(rpc(c, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0) == 0,
          "a stray reply and a NO_REPLY command get no answer");
    /* descriptors where none belong */
    {
        int fd = eventfd(0, EFD_CLOEXEC);

        check(rpc(c, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), &fd, 1) ==
                  EINVAL,
              "a descriptor with DEVICE_GET_INFO: EINVAL");
        close(fd);
    }
    check(rpc(c, VFU_CMD_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0) == 0,
          "still serving after all that");
}

static void edu_reset(struct cli *c, int msi)
{
    wr(c, 0, EDU_REG_LIVENESS, 0, 4);
    check(rpc(c, VFU_CMD_DEVICE_RESET, NULL, 0, NULL, 0) == 0, "DEVICE_RESET");
    check(rd(c, 0, EDU_REG_LIVENESS, 4) == 0 && rd(c, 0, EDU_REG_FACT, 4) == 0,
          "registers back to zero");
    check(rd(c, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, 2) &
              PCI_COMMAND_MEMORY,
          "configuration kept (memory decode on)");
    set_irqs(c, NONE_TRIGGER, 1, 0, 1, NULL, 0, NULL, 0);
    check(efd_wait(msi, 2000) == 1, "interrupt set-up kept (MSI loopback)");
}

static void test_edu_twin(void)
{
    uint8_t *bufmap = MAP_FAILED;
    struct cli c;
    int msi = -1, st;

    printf("# edu with a twin socket\n");
    if (!check(start(&c, "edu", NULL) == 0, "spawn procvisor-dm edu --fd")) {
        return;
    }
    check(negotiate(&c, true) == 0 && c.twin >= 0,
          "VERSION with twin_socket: the server's end of a pair came");
    edu_info(&c, &bufmap);
    edu_config(&c);
    edu_registers(&c);
    edu_irqs(&c, &msi);
    if (bufmap != MAP_FAILED) {
        edu_dma_tests(&c, msi, bufmap);
    }
    edu_restricted(&c);
    edu_malformed(&c);
    edu_reset(&c, msi);
    /* SIGKILL: the client sees EOF */
    kill(c.pid, SIGKILL);
    st = reap(c.pid, 5000);
    check(st == 128 + SIGKILL, "the model died of SIGKILL");
    {
        struct pollfd p = {.fd = c.sock, .events = POLLIN};
        char b;

        check(poll(&p, 1, 2000) == 1 && read(c.sock, &b, 1) == 0,
              "SIGKILL of the device model: EOF on the main socket");
        check(c.twin >= 0 && read(c.twin, &b, 1) == 0, "... and on the twin");
    }
    if (bufmap != MAP_FAILED) {
        munmap(bufmap, EDU_DMA_BUF_SIZE);
    }
    close(msi);
    stop(&c);
}

/* ---- edu without twin: DMA messages between replies ---- */

static void test_edu_no_twin(void)
{
    struct cli c;
    uint8_t buf[512];
    uint32_t err;

    printf("# edu without a twin socket\n");
    if (!check(start(&c, "edu", (const char *const[]){"-q", NULL}) == 0,
               "spawn procvisor-dm edu -q --fd")) {
        return;
    }
    check(negotiate(&c, false) == 0 && c.twin < 0,
          "VERSION without twin_socket: none");
    wr(&c, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    c.mem[0] = (struct mem){0x10000, 0x1000, calloc(1, 0x1000)};
    c.nmem = 1;
    memcpy(c.mem[0].p + 8, "on the main socket", 18);
    check(dma_map(&c, VFU_DMA_READ | VFU_DMA_WRITE, 0, 0x10000, 0x1000, -1) ==
              0,
          "DMA_MAP without fd");
    err = edu_dma(&c, 0x10008, EDU_DMA_BUF, 18, 0);
    region_rw(&c, false, 0, EDU_DMA_BUF, buf, 18);
    check(err == 0 && memcmp(buf, "on the main socket", 18) == 0 &&
              c.dma_main >= 1 && c.dma_twin == 0,
          "message DMA on the main socket, between replies");
    /* several commands pipelined behind the DMA start */
    {
        uint16_t ids[3];
        struct vfu_region_access ra = {EDU_REG_ID, 0, 4};
        struct vfu_region_access wa = {EDU_REG_DMA_CMD, 0, 4};
        uint32_t cmd = EDU_DMA_RUN | EDU_DMA_TO_RAM;
        int ok = 0;

        wr(&c, 0, EDU_REG_DMA_SRC, EDU_DMA_BUF, 8);
        wr(&c, 0, EDU_REG_DMA_DST, 0x10100, 8);
        wr(&c, 0, EDU_REG_DMA_COUNT, 18, 8);
        ids[0] = ++c.id;
        send_msg(c.sock, ids[0], VFU_CMD_REGION_WRITE, 0, &wa, sizeof(wa), &cmd,
                 4, NULL, 0);
        ids[1] = ++c.id;
        send_msg(c.sock, ids[1], VFU_CMD_REGION_READ, 0, &ra, sizeof(ra), NULL,
                 0, NULL, 0);
        ids[2] = ++c.id;
        send_msg(c.sock, ids[2], VFU_CMD_REGION_READ, 0, &ra, sizeof(ra), NULL,
                 0, NULL, 0);
        ok += wait_reply(&c, ids[0], VFU_CMD_REGION_WRITE) == 1;
        ok += wait_reply(&c, ids[1], VFU_CMD_REGION_READ) == 1;
        ok += wait_reply(&c, ids[2], VFU_CMD_REGION_READ) == 1;
        check(ok == 3 &&
                  memcmp(c.mem[0].p + 0x100, "on the main socket", 18) == 0,
              "pipelined commands answered in order around a DMA_WRITE");
    }
    /* the end: the client closes, the model exits 0 */
    close(c.sock);
    c.sock = -1;
    check(reap(c.pid, 10000) == 0, "the client closes: the model exits 0");
    stop(&c);
}

/* ---- SIGTERM with everything set up ---- */

static void test_sigterm(void)
{
    struct vfu_pv_add_client a = {0, 0};
    int efd = eventfd(0, EFD_CLOEXEC), mfd = memfd_create("t", MFD_CLOEXEC);
    int sv[2];
    struct cli c;

    printf("# SIGTERM during a session\n");
    if (!check(start(&c, "edu", (const char *const[]){"-q", NULL}) == 0,
               "spawn")) {
        return;
    }
    if (ftruncate(mfd, 0x4000) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        check(false, "set-up");
        return;
    }
    check(negotiate(&c, true) == 0 &&
              dma_map(&c, VFU_DMA_READ | VFU_DMA_WRITE, 0, 0x10000, 0x4000,
                      mfd) == 0 &&
              dma_map(&c, VFU_DMA_READ, 0, 0x20000, 0x1000, -1) == 0 &&
              set_irqs(&c, EFD_TRIGGER, 0, 0, 1, NULL, 0, &efd, 1) == 0 &&
              rpc(&c, VFU_CMD_PV_ADD_CLIENT, &a, sizeof(a), &sv[0], 1) == 0,
          "maps, INTx, a restricted client, a twin socket");
    close(sv[0]); /* the model has its own */
    kill(c.pid, SIGTERM);
    check(reap(c.pid, 10000) == 0, "SIGTERM: everything released, exit 0");
    {
        char b;

        check(read(sv[1], &b, 1) == 0, "the restricted client sees EOF");
    }
    close(sv[1]);
    close(efd);
    close(mfd);
    stop(&c);
}

/* ---- framing errors ---- */

static void test_framing(void)
{
    static const uint32_t sizes[] = {8, VFU_MAX_MSG_SIZE + 1};

    printf("# framing errors\n");
    for (size_t i = 0; i < 2; i++) {
        struct cli c;
        struct vfu_hdr h;
        uint8_t *b;
        int r;

        if (!check(start(&c, "edu", (const char *const[]){"-q", NULL}) == 0,
                   "spawn")) {
            return;
        }
        negotiate(&c, false);
        vfu_hdr_init(&h, 5, VFU_CMD_DEVICE_GET_INFO, 0, 0);
        h.msg_size = sizes[i];
        if (write(c.sock, &h, sizeof(h)) != sizeof(h)) {
            check(false, "write");
        }
        r = read_msg(c.sock, &h, &b, NULL, NULL);
        check(r == 1 && (h.flags & VFU_F_ERROR) && h.error_no == EINVAL &&
                  h.msg_id == 5,
              "msg_size %u: EINVAL", sizes[i]);
        free(b);
        r = read_msg(c.sock, &h, &b, NULL, NULL);
        check(r == 0, "... then the connection closes");
        check(reap(c.pid, 10000) == 0, "... and the model exits 0");
        stop(&c);
    }
}

/* ---- --socket ---- */

static int connect_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    for (int i = 0; i < 500; i++) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            return fd;
        }
        usleep(10000);
    }
    close(fd);
    return -1;
}

static void test_socket_mode(void)
{
    char dir[] = "/tmp/vfu-client-XXXXXX", path[128];
    struct vfu_version v = {0, 2};
    struct cli c = {.sock = -1, .twin = -1};
    struct stat st;
    pid_t pid;

    printf("# --socket\n");
    if (!mkdtemp(dir)) {
        check(false, "mkdtemp");
        return;
    }
    snprintf(path, sizeof(path), "%s/edu.sock", dir);
    pid = fork();
    if (pid == 0) {
        execl(dm_path, dm_path, "edu", "-q", "--socket", path, (char *)NULL);
        _exit(127);
    }
    /* a bad VERSION: answered, then closed; the model goes on */
    c.sock = connect_path(path);
    check(c.sock >= 0, "connect to %s", path);
    check(rpc2(&c, VFU_CMD_VERSION, &v, sizeof(v), "{\"capabilities\":", 17,
               NULL, 0) == EINVAL,
          "bad VERSION JSON: EINVAL");
    {
        char b;

        check(read(c.sock, &b, 1) == 0, "... then EOF");
    }
    close(c.sock);
    v.major = 1;
    c.sock = connect_path(path);
    check(rpc(&c, VFU_CMD_VERSION, &v, sizeof(v), NULL, 0) == ENOTSUP,
          "VERSION 1.x: ENOTSUP, then closed");
    close(c.sock);
    /* two clients in turn: the device keeps its state */
    c.sock = connect_path(path);
    check(negotiate(&c, true) == 0, "client 1 negotiates");
    wr(&c, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    wr(&c, 0, EDU_REG_LIVENESS, 0xaaaa5555, 4);
    stop(&c);
    c.sock = connect_path(path);
    check(negotiate(&c, false) == 0, "client 2 negotiates");
    check(rd(&c, 0, EDU_REG_LIVENESS, 4) == 0x5555aaaa,
          "client 2 sees client 1's device state");
    stop(&c);
    kill(pid, SIGTERM);
    check(reap(pid, 10000) == 0, "SIGTERM: exit 0");
    check(stat(path, &st) < 0 && errno == ENOENT, "the socket file is gone");
    rmdir(dir);
}

/* ---- mtty ---- */

static void test_mtty(void)
{
    const uint32_t cfg = VFIO_PCI_CONFIG_REGION_INDEX;
    struct vfu_region_info ri = {32, 0, 1, 0, 0, 0}, out;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct cli c;
    uint8_t b;
    bool ok = true;

    printf("# mtty with two ports\n");
    if (!check(start(&c, "mtty", (const char *const[]){"--ports", "2", NULL}) ==
                   0,
               "spawn procvisor-dm mtty --ports 2 --fd")) {
        return;
    }
    check(negotiate(&c, false) == 0, "VERSION");
    check(rd(&c, cfg, 0, 4) == 0x32534348 &&
              rd(&c, cfg, PCI_CLASS_REVISION, 4) == 0x07000210,
          "4348:3253, class 07/00 prog-if 02");
    check(rpc(&c, VFU_CMD_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0) ==
                  0 &&
              (memcpy(&out, c.rbuf, 32), out.size == 8),
          "BAR1 (port 2) is 8 bytes");
    check(rd(&c, cfg, PCI_BASE_ADDRESS_0, 4) == PCI_BASE_ADDRESS_SPACE_IO,
          "BAR0 is an I/O BAR");
    wr(&c, cfg, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
    check(rd(&c, cfg, PCI_BASE_ADDRESS_1, 4) == 0xfffffff9,
          "I/O BAR sizing: 8 bytes");
    check(set_irqs(&c, EFD_TRIGGER, 0, 0, 1, NULL, 0, &efd, 1) == 0,
          "INTx eventfd");
    wr(&c, 0, MTTY_IER, MTTY_IER_RDI, 1);
    for (int i = 0; i < 16; i++) {
        wr(&c, 0, MTTY_RBR, (uint64_t)('0' + i), 1);
    }
    check(efd_wait(efd, 2000) == 1, "received data: INTx");
    check(rd(&c, 0, MTTY_IIR, 1) == MTTY_IIR_RDI &&
              (rd(&c, 0, MTTY_LSR, 1) & MTTY_LSR_DR),
          "IIR says received data, LSR.DR is set");
    for (int i = 0; i < 16; i++) {
        b = (uint8_t)rd(&c, 0, MTTY_RBR, 1);
        ok &= b == '0' + i;
    }
    check(ok && !(rd(&c, 0, MTTY_LSR, 1) & MTTY_LSR_DR),
          "the 16 bytes loop back in order, then LSR.DR clears");
    wr(&c, 0, MTTY_RBR, 'x', 1);
    check(efd_wait(efd, 100) == 0, "auto-masked until UNMASK");
    set_irqs(&c, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0);
    check(efd_wait(efd, 2000) == 1, "UNMASK with data pending: signalled");
    rd(&c, 0, MTTY_RBR, 1);
    set_irqs(&c, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0);
    /* port 2 is separate, on the same line */
    wr(&c, 1, MTTY_IER, MTTY_IER_RDI, 1);
    wr(&c, 1, MTTY_RBR, 'y', 1);
    check(efd_wait(efd, 2000) == 1 && !(rd(&c, 0, MTTY_LSR, 1) & MTTY_LSR_DR) &&
              rd(&c, 1, MTTY_RBR, 1) == 'y',
          "port 2 loops back on its own, interrupting");
    set_irqs(&c, NONE_UNMASK, 0, 0, 1, NULL, 0, NULL, 0);
    /* MSI */
    set_irqs(&c, NONE_TRIGGER, 0, 0, 0, NULL, 0, NULL, 0);
    check(set_irqs(&c, EFD_TRIGGER, 1, 0, 1, NULL, 0, &efd, 1) == 0,
          "MSI eventfd");
    wr(&c, 0, MTTY_RBR, 'z', 1);
    check(efd_wait(efd, 2000) == 1 && rd(&c, 0, MTTY_RBR, 1) == 'z',
          "received data: MSI");
    close(c.sock);
    c.sock = -1;
    check(reap(c.pid, 10000) == 0, "the client closes: exit 0");
    close(efd);
    stop(&c);
}

/* ---- command lines ---- */

static int run_dm(const char *const *argv)
{
    pid_t pid = fork();

    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, 2);
        execv(dm_path, (char *const *)argv);
        _exit(127);
    }
    return reap(pid, 10000);
}

static void test_cmdline(void)
{
    printf("# command lines\n");
    check(run_dm((const char *const[]){dm_path, NULL}) == 2, "no type: 2");
    check(run_dm((const char *const[]){dm_path, "nosuch", "--fd", "0", NULL}) ==
              2,
          "unknown type: 2");
    check(run_dm((const char *const[]){dm_path, "edu", NULL}) == 2,
          "neither --fd nor --socket: 2");
    check(run_dm((const char *const[]){dm_path, "edu", "--fd", "99", NULL}) ==
              2,
          "--fd of nothing: 2");
    check(run_dm((const char *const[]){dm_path, "edu", "--dma-mask", "99",
                                       "--socket", "/nonexistent/x", NULL}) ==
              2,
          "--dma-mask 99: 2");
    check(run_dm((const char *const[]){dm_path, "mtty", "--ports=3", "--socket",
                                       "/nonexistent/x", NULL}) == 2,
          "--ports=3: 2");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: vfu_client PATH-TO-procvisor-dm\n");
        return 2;
    }
    dm_path = argv[1];
    signal(SIGPIPE, SIG_IGN);
    test_edu_twin();
    test_edu_no_twin();
    test_sigterm();
    test_framing();
    test_socket_mode();
    test_mtty();
    test_cmdline();
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
