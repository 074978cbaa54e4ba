/* SPDX-License-Identifier: MIT */
/*
 * server.c - the device's connections and its poll loop: receiving framed
 * messages with their descriptors, sending replies, the server-to-client
 * DMA round trips (on the twin socket when there is one), restricted
 * clients, and the session's end when the client goes.
 *
 * Framing: a stream carries header, payload, header, payload...  A message
 * is read as exactly its 16 header bytes and then exactly msg_size - 16
 * payload bytes, each recvmsg asking for no more than what is left, so the
 * descriptors received belong to the message being read.  A msg_size below
 * 16 or above VFU_MAX_MSG_SIZE cannot be followed: the error reply (EINVAL)
 * goes out and the connection closes.
 *
 * Sends block (with a timeout, VFU_SERVER_SEND_TIMEOUT): a client that
 * stops reading its replies loses its connection, it cannot stall the
 * device for the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vfu_impl.h"

/* ---- the device ---- */

int vfu_dev_new(struct vfu_dev **out, const char *name,
                const struct vfu_dev_ops *ops, void *opaque)
{
    struct vfu_dev *d = calloc(1, sizeof(*d));

    if (!d) {
        return -ENOMEM;
    }
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->ops = ops;
    d->opaque = opaque;
    d->send_timeout_ms = VFU_SERVER_SEND_TIMEOUT;
    for (unsigned int i = 0; i < VFU_NUM_REGIONS; i++) {
        d->regions[i].fd = -1;
    }
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].size = VFU_PCI_CFG_SIZE;
    d->regions[VFIO_PCI_CONFIG_REGION_INDEX].flags =
        VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
    vfu_caps_default(&d->peer);
    vfu_irq_init(d);
    *out = d;
    return 0;
}

void vfu_dev_free(struct vfu_dev *d)
{
    if (!d) {
        return;
    }
    if (d->main) {
        vfu_conn_close(d->main);
    }
    vfu_session_end(d);
    free(d);
}

void *vfu_dev_opaque(const struct vfu_dev *d)
{
    return d->opaque;
}

struct vfu_pci *vfu_dev_pci(struct vfu_dev *d)
{
    return &d->pci;
}

int vfu_dev_set_region(struct vfu_dev *d, unsigned int idx,
                       const struct vfu_region *r)
{
    const uint32_t rw =
        VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

    if (idx > VFIO_PCI_ROM_REGION_INDEX || (r->flags & ~rw) ||
        r->nr_areas > VFU_REGION_MAX_AREAS || (r->nr_areas && r->fd < 0)) {
        return -EINVAL;
    }
    if (idx < VFU_PCI_NUM_BARS && r->size != d->pci.bar_size[idx]) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < r->nr_areas; i++) {
        const struct vfu_sparse_area *a = &r->areas[i];

        if (!a->size || a->offset > r->size || a->size > r->size - a->offset) {
            return -EINVAL;
        }
    }
    d->regions[idx] = *r;
    return 0;
}

int vfu_dev_set_irqs(struct vfu_dev *d, unsigned int index, uint32_t count)
{
    const struct vfu_pci *p = &d->pci;
    uint32_t max;

    switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        max = p->cfg[0x3d] ? 1 : 0; /* the interrupt pin */
        break;
    case VFIO_PCI_MSI_IRQ_INDEX:
        max = p->msi_off ? 1u << ((p->cfg[p->msi_off + 2] >> 1) & 7) : 0;
        break;
    case VFIO_PCI_MSIX_IRQ_INDEX:
        max = p->msix_off ? (uint32_t)((p->cfg[p->msix_off + 2] |
                                        p->cfg[p->msix_off + 3] << 8) &
                                       0x7ff) +
                                1
                          : 0;
        break;
    case VFIO_PCI_ERR_IRQ_INDEX:
    case VFIO_PCI_REQ_IRQ_INDEX:
        max = 1;
        break;
    default:
        return -EINVAL;
    }
    if (count > max ||
        (index != VFIO_PCI_ERR_IRQ_INDEX && index != VFIO_PCI_REQ_IRQ_INDEX &&
         count && count != max)) {
        return -EINVAL;
    }
    d->irq_count[index] = count;
    return 0;
}

void vfu_dev_set_send_timeout(struct vfu_dev *d, int ms)
{
    d->send_timeout_ms = ms > 0 ? ms : 1;
}

void vfu_dev_set_quiet(struct vfu_dev *d, bool quiet)
{
    d->quiet = quiet;
}

void vfu_log(struct vfu_dev *d, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (d->quiet) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "procvisor-dm[%s]: %s\n", d->name, buf);
}

void vfu_dev_kick(struct vfu_dev *d)
{
    d->work_pending = true;
}

uint16_t vfu_dev_command(const struct vfu_dev *d)
{
    return vfu_pci_command(&d->pci);
}

unsigned int vfu_dev_client_count(const struct vfu_dev *d)
{
    return d->nclients;
}

/* ---- connections ---- */

void vfu_msg_free(struct vfu_msg *m)
{
    if (!m) {
        return;
    }
    for (unsigned int i = 0; i < m->nfds; i++) {
        if (m->fds[i] >= 0) {
            close(m->fds[i]);
        }
    }
    free(m->payload);
    free(m);
}

struct vfu_conn *vfu_conn_new(struct vfu_dev *d, enum vfu_conn_kind kind,
                              int fd)
{
    struct vfu_conn *c = calloc(1, sizeof(*c));

    if (!c) {
        return NULL;
    }
    c->d = d;
    c->kind = kind;
    c->fd = fd;
    if (fd >= 0) {
        struct timeval tv = {.tv_sec = d->send_timeout_ms / 1000,
                             .tv_usec = (d->send_timeout_ms % 1000) * 1000};
        int fl = fcntl(fd, F_GETFL);

        /* sends block (bounded), receives never (MSG_DONTWAIT) */
        if (fl >= 0 && (fl & O_NONBLOCK)) {
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        }
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return c;
}

static void conn_free(struct vfu_conn *c)
{
    if (!c) {
        return;
    }
    vfu_msg_free(c->rx.m);
    if (c->fd >= 0) {
        close(c->fd);
    }
    free(c);
}

static void msg_add_fds(struct vfu_msg *m, struct msghdr *mh)
{
    if (mh->msg_flags & MSG_CTRUNC) {
        m->too_many_fds = true;
    }
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        size_t n;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (m->nfds < VFU_MAX_MSG_FDS) {
                m->fds[m->nfds++] = fd;
            } else {
                close(fd);
                m->too_many_fds = true;
            }
        }
    }
}

/* recvmsg of at most len bytes, descriptors to m: >0 bytes, 0 EOF, -EAGAIN,
 * or another -errno */
static ssize_t recv_part(struct vfu_conn *c, struct vfu_msg *m, void *buf,
                         size_t len)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 2 * VFU_MAX_MSG_FDS)];
        struct cmsghdr align;
    } cmsg;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = cmsg.buf,
                        .msg_controllen = sizeof(cmsg.buf)};
    ssize_t n;

    do {
        n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
    msg_add_fds(m, &mh);
    return n;
}

static void send_error(struct vfu_conn *c, const struct vfu_hdr *cmd, int err)
{
    struct vfu_hdr r;

    vfu_error_reply(&r, cmd, (uint32_t)err);
    vfu_send(c, &r, NULL, 0, NULL, 0);
}

/*
 * Read what is there of the message being received.  1: a whole message
 * in *out; 0: not yet; -1: the connection is gone (EOF, an error, or a
 * message that cannot be framed, after its error reply).
 */
static int rx_step(struct vfu_conn *c, struct vfu_msg **out)
{
    struct vfu_rx *rx = &c->rx;

    for (;;) {
        struct vfu_msg *m = rx->m;
        ssize_t n;

        if (c->dead) {
            return -1;
        }
        if (!m) {
            m = rx->m = calloc(1, sizeof(*m));
            if (!m) {
                return 0; /* try again later */
            }
        }
        if (rx->have < VFU_HDR_SIZE) {
            n = recv_part(c, m, rx->hdr + rx->have, VFU_HDR_SIZE - rx->have);
            if (n == -EAGAIN) {
                return 0;
            }
            if (n <= 0) {
                c->dead = true;
                return -1;
            }
            rx->have += (uint32_t)n;
            if (rx->have < VFU_HDR_SIZE) {
                continue;
            }
            if (vfu_hdr_parse(rx->hdr, VFU_HDR_SIZE, &m->h)) {
                vfu_log(c->d, "unframeable message (size %u): closing",
                        m->h.msg_size);
                if (!vfu_is_reply(&m->h)) {
                    send_error(c, &m->h, EINVAL);
                }
                c->dead = true;
                return -1;
            }
            m->len = vfu_payload_len(&m->h);
            if (m->len) {
                m->payload = malloc(m->len);
                if (!m->payload) {
                    c->dead = true;
                    return -1;
                }
            }
            rx->body_have = 0;
        }
        if (rx->body_have < m->len) {
            n = recv_part(c, m, m->payload + rx->body_have,
                          m->len - rx->body_have);
            if (n == -EAGAIN) {
                return 0;
            }
            if (n <= 0) {
                c->dead = true;
                return -1;
            }
            rx->body_have += (uint32_t)n;
            if (rx->body_have < m->len) {
                continue;
            }
        }
        *out = m;
        rx->m = NULL;
        rx->have = 0;
        rx->body_have = 0;
        return 1;
    }
}

static void send_virtual(struct vfu_conn *c, const struct iovec *iov,
                         int iovcnt, size_t total, const int *fds,
                         unsigned int nfds)
{
    uint8_t *buf = malloc(total);
    size_t o = 0;

    if (!buf) {
        return;
    }
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len) {
            memcpy(buf + o, iov[i].iov_base, iov[i].iov_len);
            o += iov[i].iov_len;
        }
    }
    if (c->sink) {
        int dup_fds[VFU_MAX_MSG_FDS];
        unsigned int n = 0;

        /* the sink gets descriptors of its own, as a socket would give */
        for (unsigned int i = 0; i < nfds && i < VFU_MAX_MSG_FDS; i++) {
            dup_fds[n] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
            if (dup_fds[n] >= 0) {
                n++;
            }
        }
        c->sink(c->ctx, buf, total, dup_fds, n);
    }
    free(buf);
}

void vfu_send2(struct vfu_conn *c, const struct vfu_hdr *h, const void *p1,
               size_t l1, const void *p2, size_t l2, const int *fds,
               unsigned int nfds)
{
    struct iovec iov[3] = {
        {.iov_base = (void *)h, .iov_len = sizeof(*h)},
        {.iov_base = (void *)p1, .iov_len = l1},
        {.iov_base = (void *)p2, .iov_len = l2},
    };
    union {
        char buf[CMSG_SPACE(sizeof(int) * VFU_MAX_MSG_FDS)];
        struct cmsghdr align;
    } cmsg;
    size_t total = sizeof(*h) + l1 + l2, sent = 0;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 3};

    if (c->dead || nfds > VFU_MAX_MSG_FDS) {
        return;
    }
    if (c->fd < 0) {
        send_virtual(c, iov, 3, total, fds, nfds);
        return;
    }
    if (nfds) {
        struct cmsghdr *cm;

        memset(&cmsg, 0, sizeof(cmsg));
        mh.msg_control = cmsg.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    while (sent < total) {
        ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            /* a timeout, or the peer is gone: a partial message would
             * desynchronize the stream, so the connection ends */
            vfu_log(c->d, "send failed (%s): closing the connection",
                    n < 0 ? strerror(errno) : "no progress");
            c->dead = true;
            return;
        }
        sent += (size_t)n;
        mh.msg_control = NULL;
        mh.msg_controllen = 0;
        /* skip what went */
        while (n > 0 && mh.msg_iovlen) {
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
}

void vfu_send(struct vfu_conn *c, const struct vfu_hdr *h, const void *p,
              size_t len, const int *fds, unsigned int nfds)
{
    vfu_send2(c, h, p, len, NULL, 0, fds, nfds);
}

/* ---- server-to-client DMA ---- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void defer(struct vfu_dev *d, struct vfu_conn *c, struct vfu_msg *m)
{
    if (d->ndefer >= VFU_SERVER_MAX_DEFERRED) {
        vfu_log(d, "%s during a DMA with %u commands queued: EBUSY",
                vfu_cmd_name(m->h.cmd), d->ndefer);
        if (!(m->h.flags & VFU_F_NO_REPLY)) {
            send_error(c, &m->h, EBUSY);
        }
        vfu_msg_free(m);
        return;
    }
    m->next = NULL;
    if (d->defer_tail) {
        d->defer_tail->next = m;
    } else {
        d->defer_head = m;
    }
    d->defer_tail = m;
    d->ndefer++;
}

/* A message that arrived while waiting for reply (id, cmd) on c. */
static void not_the_reply(struct vfu_dev *d, struct vfu_conn *c,
                          struct vfu_msg *m)
{
    if (vfu_is_reply(&m->h)) {
        vfu_log(d, "dropping an unexpected %s reply (id %u)",
                vfu_cmd_name(m->h.cmd), m->h.msg_id);
        vfu_msg_free(m);
    } else if (c->kind == VFU_CONN_MAIN) {
        defer(d, c, m); /* handled after the DMA, in order */
    } else {
        /* nobody sends commands to the server on the twin socket */
        if (!(m->h.flags & VFU_F_NO_REPLY)) {
            send_error(c, &m->h, EINVAL);
        }
        vfu_msg_free(m);
    }
}

/* Wait for the reply (id, cmd) on c, queueing the main connection's
 * commands meanwhile.  0 and *out, or -EIO / -ETIMEDOUT. */
static int wait_reply(struct vfu_dev *d, struct vfu_conn *c, uint16_t id,
                      uint16_t cmd, struct vfu_msg **out)
{
    int64_t deadline = now_ms() + VFU_SERVER_DMA_TIMEOUT;

    for (;;) {
        struct vfu_conn *w[2] = {c, NULL};
        struct pollfd pfd[2];
        int n = 1, rc;
        int64_t left;

        if (c != d->main && d->main && !d->main->dead && d->main->fd >= 0 &&
            d->ndefer < VFU_SERVER_MAX_DEFERRED) {
            w[1] = d->main;
            n = 2;
        }
        for (int i = 0; i < n; i++) {
            struct vfu_msg *m;
            int r;

            while ((r = rx_step(w[i], &m)) == 1) {
                if (w[i] == c && vfu_is_reply(&m->h) && m->h.msg_id == id &&
                    m->h.cmd == cmd) {
                    *out = m;
                    return 0;
                }
                not_the_reply(d, w[i], m);
            }
            if (r < 0 && w[i] == c) {
                return -EIO;
            }
        }
        left = deadline - now_ms();
        if (left <= 0) {
            vfu_log(d, "no %s reply in %d ms", vfu_cmd_name(cmd),
                    VFU_SERVER_DMA_TIMEOUT);
            return -ETIMEDOUT;
        }
        for (int i = 0; i < n; i++) {
            pfd[i] = (struct pollfd){.fd = w[i]->fd, .events = POLLIN};
        }
        rc = poll(pfd, (nfds_t)n, (int)left);
        if (rc < 0 && errno != EINTR) {
            return -EIO;
        }
    }
}

static int peer_dma_chunk(struct vfu_dev *d, struct vfu_conn *c, bool write,
                          uint64_t addr, uint8_t *buf, uint64_t n)
{
    struct vfu_dma_access da = {.addr = addr, .count = n};
    uint16_t cmd = write ? VFU_CMD_DMA_WRITE : VFU_CMD_DMA_READ;
    uint16_t id = d->next_id++;
    struct vfu_msg *m = NULL;
    struct vfu_hdr h;
    int rc;

    vfu_hdr_init(&h, id, cmd, (uint32_t)(sizeof(da) + (write ? n : 0)),
                 VFU_F_TYPE_COMMAND);
    vfu_send2(c, &h, &da, sizeof(da), write ? buf : NULL, write ? n : 0, NULL,
              0);
    if (c->dead) {
        return -EIO;
    }
    rc = wait_reply(d, c, id, cmd, &m);
    if (rc) {
        return rc;
    }
    if (m->h.flags & VFU_F_ERROR) {
        /* the client refused: a DMA fault */
        rc = -EFAULT;
    } else if (vfu_check_dma_access_reply(cmd, m->payload, m->len, &da)) {
        vfu_log(d, "malformed %s reply", vfu_cmd_name(cmd));
        rc = -EIO;
    } else if (!write) {
        memcpy(buf, m->payload + sizeof(da), n);
    }
    vfu_msg_free(m);
    return rc;
}

int vfu_peer_dma(struct vfu_dev *d, bool write, uint64_t addr, void *buf,
                 uint64_t len)
{
    /* once a twin socket was agreed, the client looks for DMA messages
     * there only: if it is gone, so is message DMA */
    struct vfu_conn *c = d->twin_used ? d->twin : d->main;
    uint64_t chunk = d->peer.max_data_xfer_size;
    uint8_t *b = buf;

    if (!c || c->dead) {
        return -EIO;
    }
    if (chunk > VFU_MAX_DATA_XFER) {
        chunk = VFU_MAX_DATA_XFER;
    }
    while (len) {
        uint64_t n = len < chunk ? len : chunk;
        int rc;

        if (c->fd < 0) {
            rc = c->peer_dma ? -abs(c->peer_dma(c->ctx, write, addr, b, n))
                             : -EIO;
        } else {
            rc = peer_dma_chunk(d, c, write, addr, b, n);
        }
        if (rc) {
            return rc;
        }
        addr += n;
        b += n;
        len -= n;
    }
    return 0;
}

/* ---- restricted clients ---- */

int vfu_conn_add_client(struct vfu_dev *d, int fd)
{
    int type = 0, domain = 0;
    socklen_t l = sizeof(type);
    struct vfu_conn *c;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 ||
        type != SOCK_STREAM) {
        return -EINVAL;
    }
    l = sizeof(domain);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l) < 0 ||
        domain != AF_UNIX) {
        return -EINVAL;
    }
    if (d->nclients >= VFU_SERVER_MAX_CLIENTS) {
        return -ENOSPC;
    }
    c = vfu_conn_new(d, VFU_CONN_RESTRICTED, fd);
    if (!c) {
        return -ENOMEM;
    }
    c->next = d->clients;
    d->clients = c;
    d->nclients++;
    return 0;
}

static void reap_clients(struct vfu_dev *d)
{
    struct vfu_conn **pp = &d->clients;

    while (*pp) {
        struct vfu_conn *c = *pp;

        if (c->dead) {
            *pp = c->next;
            d->nclients--;
            conn_free(c);
        } else {
            pp = &c->next;
        }
    }
}

/* ---- the session ---- */

void vfu_session_end(struct vfu_dev *d)
{
    while (d->defer_head) {
        struct vfu_msg *m = d->defer_head;

        d->defer_head = m->next;
        vfu_msg_free(m);
    }
    d->defer_tail = NULL;
    d->ndefer = 0;
    for (struct vfu_conn *c = d->clients; c; c = c->next) {
        c->dead = true;
    }
    reap_clients(d);
    conn_free(d->twin);
    d->twin = NULL;
    if (d->main) {
        if (d->main->fd >= 0) {
            conn_free(d->main);
            d->main = NULL;
        } else {
            d->main->dead = true; /* freed by vfu_conn_close */
        }
    }
    vfu_dma_unmap_all(d);
    vfu_irq_disable_all(d);
    d->negotiated = false;
    d->twin_used = false;
    vfu_caps_default(&d->peer);
    d->work_pending = false;
}

/* ---- the loop ---- */

#define LOOP_STOP 1000000 /* loop_once: stop_fd fired */

static int handle_readable(struct vfu_dev *d, struct vfu_conn *c, int budget)
{
    struct vfu_msg *m;
    int done = 0, r = 0;

    while (done < budget && (r = rx_step(c, &m)) == 1) {
        if (c->kind == VFU_CONN_TWIN) {
            not_the_reply(d, c, m); /* nothing is awaited now */
        } else {
            vfu_dispatch(c, m);
            vfu_run_work(d);
        }
        done++;
        if (c->dead) {
            break;
        }
    }
    if (r < 0 && c == d->main) {
        /* the client is gone: so are the connections it made */
        for (struct vfu_conn *k = d->clients; k; k = k->next) {
            k->dead = true;
        }
    }
    return done;
}

static int loop_once(struct vfu_dev *d, int stop_fd, int timeout_ms)
{
    struct pollfd pfd[VFU_SERVER_MAX_CLIENTS + 5];
    struct vfu_conn *who[VFU_SERVER_MAX_CLIENTS + 5];
    nfds_t n = 0;
    int handled = 0, rc;

    /* the commands that came during a message DMA, in order */
    while (d->defer_head && d->main && !d->main->dead) {
        struct vfu_msg *m = d->defer_head;

        d->defer_head = m->next;
        if (!d->defer_head) {
            d->defer_tail = NULL;
        }
        d->ndefer--;
        vfu_dispatch(d->main, m);
        vfu_run_work(d);
        handled++;
    }
    reap_clients(d);
    if (d->twin && d->twin->dead) {
        conn_free(d->twin);
        d->twin = NULL;
    }
    if (d->main && !d->main->dead && d->main->fd >= 0) {
        who[n] = d->main;
        pfd[n++] = (struct pollfd){.fd = d->main->fd, .events = POLLIN};
    }
    if (d->twin) {
        who[n] = d->twin;
        pfd[n++] = (struct pollfd){.fd = d->twin->fd, .events = POLLIN};
    }
    for (struct vfu_conn *c = d->clients; c; c = c->next) {
        who[n] = c;
        pfd[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
    }
    if (d->intx_unmask_fd >= 0) {
        who[n] = NULL;
        pfd[n++] = (struct pollfd){.fd = d->intx_unmask_fd, .events = POLLIN};
    }
    if (stop_fd >= 0) {
        who[n] = NULL;
        pfd[n++] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
    }
    if (handled || d->work_pending) {
        timeout_ms = 0;
    }
    rc = poll(pfd, n, timeout_ms);
    if (rc < 0) {
        return errno == EINTR ? handled : -errno;
    }
    for (nfds_t i = 0; i < n && rc > 0; i++) {
        if (!pfd[i].revents) {
            continue;
        }
        if (pfd[i].fd == stop_fd && !who[i]) {
            return LOOP_STOP;
        }
        if (!who[i]) {
            vfu_irq_unmask_event(d);
            continue;
        }
        if (who[i]->dead) {
            continue;
        }
        handled +=
            handle_readable(d, who[i], who[i]->kind == VFU_CONN_MAIN ? 64 : 16);
    }
    vfu_run_work(d);
    return handled;
}

int vfu_dev_run_once(struct vfu_dev *d, int timeout_ms)
{
    int rc = loop_once(d, -1, timeout_ms);

    return rc == LOOP_STOP ? 0 : rc;
}

int vfu_dev_serve_fd(struct vfu_dev *d, int fd, int stop_fd)
{
    if (d->main) {
        close(fd);
        return -EBUSY;
    }
    d->main = vfu_conn_new(d, VFU_CONN_MAIN, fd);
    if (!d->main) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        int rc = loop_once(d, stop_fd, -1);

        if (rc == LOOP_STOP || rc < 0 || !d->main || d->main->dead) {
            vfu_session_end(d);
            if (rc == LOOP_STOP) {
                return 1;
            }
            return rc < 0 ? rc : 0;
        }
    }
}

int vfu_dev_serve_socket(struct vfu_dev *d, const char *path, int stop_fd)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int lfd, rc = 0;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        return -errno;
    }
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, 4) < 0) {
        rc = -errno;
        close(lfd);
        return rc;
    }
    for (;;) {
        struct pollfd pfd[2] = {{.fd = lfd, .events = POLLIN},
                                {.fd = stop_fd, .events = POLLIN}};
        int fd;

        if (poll(pfd, stop_fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = -errno;
            break;
        }
        if (stop_fd >= 0 && pfd[1].revents) {
            rc = 1;
            break;
        }
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            rc = -errno;
            break;
        }
        rc = vfu_dev_serve_fd(d, fd, stop_fd);
        if (rc != 0) {
            break;
        }
    }
    close(lfd);
    unlink(path);
    return rc;
}

/* ---- in-process connections ---- */

int vfu_conn_virtual(struct vfu_dev *d, vfu_sink_fn *sink,
                     vfu_peer_dma_fn *peer_dma, void *ctx,
                     struct vfu_conn **out)
{
    struct vfu_conn *c;

    if (d->main) {
        return -EBUSY;
    }
    c = vfu_conn_new(d, VFU_CONN_MAIN, -1);
    if (!c) {
        return -ENOMEM;
    }
    c->sink = sink;
    c->peer_dma = peer_dma;
    c->ctx = ctx;
    d->main = c;
    *out = c;
    return 0;
}

int vfu_conn_feed(struct vfu_conn *c, const void *msg, size_t len,
                  const int *fds, unsigned int nfds)
{
    struct vfu_dev *d = c->d;
    struct vfu_msg *m;

    if (c->dead) {
        for (unsigned int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        return -ENOTCONN;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        for (unsigned int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        return -ENOMEM;
    }
    for (unsigned int i = 0; i < nfds; i++) {
        if (m->nfds < VFU_MAX_MSG_FDS) {
            m->fds[m->nfds++] = fds[i];
        } else {
            close(fds[i]);
            m->too_many_fds = true;
        }
    }
    if (vfu_hdr_parse(msg, len, &m->h) || m->h.msg_size != len) {
        /* what a stream could not follow */
        if (len >= VFU_HDR_SIZE && !vfu_is_reply(&m->h)) {
            send_error(c, &m->h, EINVAL);
        }
        vfu_msg_free(m);
        vfu_session_end(d);
        return -ENOTCONN;
    }
    m->len = vfu_payload_len(&m->h);
    if (m->len) {
        m->payload = malloc(m->len);
        if (!m->payload) {
            vfu_msg_free(m);
            return -ENOMEM;
        }
        memcpy(m->payload, (const uint8_t *)msg + VFU_HDR_SIZE, m->len);
    }
    vfu_dispatch(c, m);
    vfu_run_work(d);
    if (c->dead) {
        vfu_session_end(d);
        return -ENOTCONN;
    }
    return 0;
}

void vfu_conn_close(struct vfu_conn *c)
{
    struct vfu_dev *d = c->d;

    if (c->fd >= 0) {
        /* a socket main connection: ends with its session */
        c->dead = true;
        vfu_session_end(d);
        return;
    }
    if (!c->dead) {
        vfu_session_end(d);
    }
    if (d->main == c) {
        d->main = NULL;
    }
    conn_free(c);
}
