/* SPDX-License-Identifier: MIT */
/* SPDX-License-Identifier: MIT */
/*
 * evtchn.c - /dev/xen/evtchn, as Linux's driver behaves, for libxenevtchn.
 *
 * The descriptor the program gets is an epoll instance, so select, poll and
 * epoll see it readable exactly when a port is ready.  Each bound port has
 * a wake-up pipe (read end) in that set and a cell (proto.h: struct
 * pv_evtchn_cell), Xen's pending/mask pair for that one channel, shared with
 * the hypervisor and the interdomain peer.  The pipe is signalled only for an
 * event raised while the port is unmasked, so "a fired port stays disabled
 * until written back" costs no system call: delivery sets the cell's mask, the
 * write that re-enables clears it.  One more eventfd is readable while ports
 * wait in the ring (a read that took fewer ports than were ready).
 *
 * A send on an interdomain port whose peer is also bound through a device
 * goes straight to the peer's cell and pipe, not through the
 * hypervisor: the hypervisor hands them out (PV_MSG_EVTCHN_PEER) and the
 * generation page says when that answer is stale.  Every other send is an
 * EVTCHNOP_send hypercall.  A port with one bound port blocks in read() on
 * that port's pipe itself: a ping-pong costs one read and one write a
 * side, as over raw eventfds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "xen_abi.h"
#include <sys/ioctl.h>
#include <xen/sys/evtchn.h>

#include "shim.h"
#include "sock.h"

_Static_assert(IOCTL_EVTCHN_BIND_VIRQ == 0x00044500, "ioctl number");
_Static_assert(IOCTL_EVTCHN_BIND_INTERDOMAIN == 0x00084501, "ioctl number");
_Static_assert(IOCTL_EVTCHN_BIND_UNBOUND_PORT == 0x00044502, "ioctl number");
_Static_assert(IOCTL_EVTCHN_UNBIND == 0x00044503, "ioctl number");
_Static_assert(IOCTL_EVTCHN_NOTIFY == 0x00044504, "ioctl number");
_Static_assert(IOCTL_EVTCHN_RESET == 0x00004505, "ioctl number");
_Static_assert(IOCTL_EVTCHN_RESTRICT_DOMID == 0x00024506, "ioctl number");

#define NR_PORTS 4096u /* the 2-level ABI's channels */
#define RING_MIN 64u
#define IO_MAX   4096u   /* read/write move at most a page of ports */
#define TAG_RING (~0ull) /* epoll data of the ring's eventfd */

struct ev_port {
    uint32_t port;
    int notifier; /* a pipe's read end, signalled by the hypervisor or peer */
    int self_wr;  /* its write end, to signal ourselves */
    struct pv_evtchn_cell *cell;
    bool masked; /* fired and not yet written back (our own record) */
    /* the fast path for NOTIFY */
    bool peer_known;
    uint8_t peer_gen;
    int peer_fd; /* the peer port's pipe (write end), -1: by hypercall */
    struct pv_evtchn_cell *peer_cell;
};

struct ev_dev {
    int epfd;    /* ours: a duplicate of the program's descriptor */
    int waiting; /* the notifier a one-port read blocks on, or -1 */
    int zombie;  /* a notifier unbound while a read blocked on it */
    int ring_efd;
    bool ring_signalled;
    bool nonblock;
    int restrict_domid; /* -1: not restricted */
    struct ev_port *ports;
    size_t nports, cap;
    uint32_t *ring;
    uint32_t ring_size, cons, prod; /* prod - cons ports are queued */
    bool overflow;
    /* guards everything above; never held while blocking */
    pthread_mutex_t lock;
};

/* The domain's shared_info and generation page, mapped once a process. */
static struct shared_info *dom_shinfo;
static const uint8_t *dom_gen;
/* guards the two mappings above */
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static int fail(int e)
{
    errno = e;
    return -1;
}

static void *map_page(struct pvc *c, uint32_t what, int prot)
{
    struct pv_map_req req = {.what = what};
    int fd = -1;
    void *va;

    if (pvc_call(c, PV_MSG_MAP, &req, sizeof(req), NULL, 0, NULL, &fd) < 0 ||
        fd < 0) {
        return NULL;
    }
    va = mmap(NULL, 4096, prot, MAP_SHARED, fd, 0);
    shim_real.close(fd);
    return va == MAP_FAILED ? NULL : va;
}

static int map_domain_pages(struct pvc *c)
{
    int rc = 0;

    pthread_mutex_lock(&map_lock);
    if (!dom_shinfo) {
        dom_shinfo = map_page(c, PV_MAP_SHARED_INFO, PROT_READ | PROT_WRITE);
    }
    if (!dom_gen) {
        dom_gen = map_page(c, PV_MAP_EVTCHN_GEN, PROT_READ);
    }
    if (!dom_shinfo || !dom_gen) {
        rc = -ENOMEM;
    }
    pthread_mutex_unlock(&map_lock);
    return rc;
}

int evtchn_open(struct shim_dev *dev, int flags)
{
    struct ev_dev *ev = calloc(1, sizeof(*ev));
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = TAG_RING};
    int fd, rc;

    if (!ev) {
        return -ENOMEM;
    }
    ev->epfd = ev->ring_efd = -1;
    ev->restrict_domid = -1;
    pthread_mutex_init(&ev->lock, NULL);
    fd = pvc_domain_socket();
    if (fd < 0) {
        free(ev);
        return fd;
    }
    rc = pvc_init(&dev->conn, fd);
    if (rc) {
        shim_real.close(fd);
        free(ev);
        return rc;
    }
    rc = map_domain_pages(&dev->conn);
    ev->ring_size = RING_MIN;
    ev->ring = calloc(ev->ring_size, sizeof(*ev->ring));
    ev->epfd = epoll_create1((flags & O_CLOEXEC) ? EPOLL_CLOEXEC : 0);
    ev->ring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (rc || !ev->ring || ev->epfd < 0 || ev->ring_efd < 0 ||
        epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->ring_efd, &e) < 0) {
        rc = rc ? rc : -errno;
        if (ev->epfd >= 0) {
            shim_real.close(ev->epfd);
        }
        if (ev->ring_efd >= 0) {
            shim_real.close(ev->ring_efd);
        }
        free(ev->ring);
        pvc_fini(&dev->conn);
        free(ev);
        return rc ? rc : -ENOMEM;
    }
    ev->nonblock = (flags & O_NONBLOCK) != 0;
    ev->waiting = ev->zombie = -1;
    /* the program's descriptor may be closed while we still use the set */
    dev->fd = ev->epfd;
    ev->epfd = fcntl(dev->fd, F_DUPFD_CLOEXEC, 0);
    if (ev->epfd < 0) {
        rc = -errno;
        shim_real.close(dev->fd);
        shim_real.close(ev->ring_efd);
        free(ev->ring);
        pvc_fini(&dev->conn);
        free(ev);
        return rc;
    }
    dev->ev = ev;
    return 0;
}

static struct ev_port *find_port(struct ev_dev *ev, uint32_t port)
{
    for (size_t i = 0; i < ev->nports; i++) {
        if (ev->ports[i].port == port) {
            return &ev->ports[i];
        }
    }
    return NULL;
}

static void *map_cell(int fd)
{
    void *va = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    shim_real.close(fd);
    return va == MAP_FAILED ? NULL : va;
}

static void peer_drop(struct ev_port *p)
{
    if (p->peer_fd >= 0) {
        shim_real.close(p->peer_fd);
    }
    if (p->peer_cell) {
        munmap(p->peer_cell, 4096);
    }
    p->peer_fd = -1;
    p->peer_cell = NULL;
}

static void port_drop(struct ev_dev *ev, struct ev_port *p)
{
    if (p->notifier >= 0 && p->notifier == ev->waiting) {
        /* a read blocks on it: wake it, and let it close the descriptor */
        ev->zombie = p->notifier;
        pv_kick(p->self_wr);
    } else if (p->notifier >= 0) {
        shim_real.close(p->notifier);
    }
    if (p->self_wr >= 0) {
        shim_real.close(p->self_wr);
    }
    if (p->cell) {
        munmap(p->cell, 4096);
    }
    peer_drop(p);
}

/* Re-enable a fired port: the cell's unmask, and the event that waited. */
static void unmask(struct ev_port *p)
{
    p->masked = false;
    __atomic_store_n(&p->cell->masked, 0, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->cell->pending, __ATOMIC_SEQ_CST)) {
        pv_kick(p->self_wr);
    }
}

void evtchn_release(struct shim_dev *dev)
{
    struct ev_dev *ev = dev->ev;

    if (!ev) {
        return;
    }
    for (size_t i = 0; i < ev->nports; i++) {
        port_drop(ev, &ev->ports[i]);
    }
    shim_real.close(ev->ring_efd);
    shim_real.close(ev->epfd);
    free(ev->ports);
    free(ev->ring);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
    dev->ev = NULL;
    /* the epoll descriptor is the program's: the caller closes it; closing
     * the connection closes every port this device bound */
}

static int64_t hcall(struct shim_dev *dev, uint64_t cmd, void *arg)
{
    uint64_t a[5] = {cmd, (uint64_t)(uintptr_t)arg};

    return pvc_hypercall(&dev->conn, 0, __HYPERVISOR_event_channel_op, a);
}

static void close_port(struct shim_dev *dev, uint32_t port)
{
    struct evtchn_close cl = {.port = port};

    hcall(dev, EVTCHNOP_close, &cl);
}

/* After a successful bind hypercall: take delivery of the port here. */
static int bound(struct shim_dev *dev, uint32_t port)
{
    struct ev_dev *ev = dev->ev;
    struct pv_port_req req = {.port = port};
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = port};
    int fds[3] = {-1, -1, -1}, nfds = 3, fd, wr;
    struct pv_evtchn_cell *cell;
    int64_t r;

    r = pvc_call_fds(&dev->conn, PV_MSG_EVTCHN_ATTACH, &req, sizeof(req), NULL,
                     0, NULL, fds, &nfds);
    if (r < 0 || nfds != 3) {
        for (int i = 0; i < nfds; i++) {
            shim_real.close(fds[i]);
        }
        close_port(dev, port);
        return fail(r < 0 ? (int)-r : EPROTO);
    }
    fd = fds[0];
    wr = fds[1];
    cell = map_cell(fds[2]);
    if (!cell) {
        shim_real.close(fd);
        shim_real.close(wr);
        close_port(dev, port);
        return fail(ENOMEM);
    }
    pthread_mutex_lock(&ev->lock);
    if (ev->nports == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        struct ev_port *n = realloc(ev->ports, cap * sizeof(*n));
        if (!n) {
            pthread_mutex_unlock(&ev->lock);
            shim_real.close(fd);
            shim_real.close(wr);
            munmap(cell, 4096);
            close_port(dev, port);
            return fail(ENOMEM);
        }
        ev->ports = n;
        ev->cap = cap;
    }
    /* one ring slot per bound port, as the driver keeps */
    if (ev->nports + 1 > ev->ring_size) {
        uint32_t size = ev->ring_size * 2;
        uint32_t *ring = calloc(size, sizeof(*ring));
        if (!ring) {
            pthread_mutex_unlock(&ev->lock);
            shim_real.close(fd);
            shim_real.close(wr);
            munmap(cell, 4096);
            close_port(dev, port);
            return fail(ENOMEM);
        }
        for (uint32_t i = 0; ev->cons + i != ev->prod; i++) {
            ring[i] = ev->ring[(ev->cons + i) % ev->ring_size];
        }
        ev->prod -= ev->cons;
        ev->cons = 0;
        free(ev->ring);
        ev->ring = ring;
        ev->ring_size = size;
    }
    if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
        int err = errno;
        pthread_mutex_unlock(&ev->lock);
        shim_real.close(fd);
        shim_real.close(wr);
        munmap(cell, 4096);
        close_port(dev, port);
        return fail(err);
    }
    ev->ports[ev->nports++] = (struct ev_port){.port = port,
                                               .notifier = fd,
                                               .self_wr = wr,
                                               .cell = cell,
                                               .peer_fd = -1};
    /* a read blocked on the one port's pipe must now also see this one:
     * nudge it back into epoll (it finds nothing pending there) */
    if (ev->nports == 2 && ev->waiting >= 0) {
        pv_kick(ev->ports[0].self_wr);
    }
    pthread_mutex_unlock(&ev->lock);
    return (int)port;
}

static int bind_result(struct shim_dev *dev, int64_t rc, uint32_t port)
{
    if (rc < 0) {
        return fail((int)-rc);
    }
    return bound(dev, port);
}

/* A port this descriptor bound, with its lock taken; else the driver's
 * error (EINVAL beyond the ports, ENOTCONN not bound here), unlocked. */
static int lock_port(struct ev_dev *ev, uint32_t port, struct ev_port **out)
{
    if (port >= NR_PORTS) {
        return EINVAL;
    }
    pthread_mutex_lock(&ev->lock);
    *out = find_port(ev, port);
    if (!*out) {
        pthread_mutex_unlock(&ev->lock);
        return ENOTCONN;
    }
    return 0;
}

static int ev_unbind(struct shim_dev *dev, uint32_t port)
{
    struct ev_dev *ev = dev->ev;
    struct ev_port *p;
    int e = lock_port(ev, port, &p);

    if (e) {
        return fail(e);
    }
    epoll_ctl(ev->epfd, EPOLL_CTL_DEL, p->notifier, NULL);
    port_drop(ev, p);
    *p = ev->ports[--ev->nports];
    pthread_mutex_unlock(&ev->lock);
    close_port(dev, port);
    return 0;
}

/* A send: straight to the peer's pipe when there is one. */
static int ev_notify(struct shim_dev *dev, uint32_t port)
{
    struct ev_dev *ev = dev->ev;
    struct ev_port *p;
    /* Linux checks no range here: any port not bound on this fd is
     * ENOTCONN */
    int e = lock_port(ev, port < NR_PORTS ? port : UINT32_MAX, &p);

    if (e) {
        return fail(ENOTCONN);
    }
    uint8_t gen = __atomic_load_n(&dom_gen[port], __ATOMIC_ACQUIRE);
    if (!p->peer_known || p->peer_gen != gen) {
        struct pv_port_req req = {.port = port};
        int fds[2] = {-1, -1}, nfds = 2;
        int64_t r = pvc_call_fds(&dev->conn, PV_MSG_EVTCHN_PEER, &req,
                                 sizeof(req), NULL, 0, NULL, fds, &nfds);
        peer_drop(p);
        if (r >= 0 && nfds == 2) {
            p->peer_fd = fds[0];
            p->peer_cell = map_cell(fds[1]);
            if (!p->peer_cell) {
                peer_drop(p);
            }
        } else {
            for (int i = 0; i < nfds; i++) {
                shim_real.close(fds[i]);
            }
        }
        p->peer_known = r >= 0;
        p->peer_gen = (uint8_t)(r >= 0 ? r : 0);
    }
    if (p->peer_cell) {
        /* the cell protocol's send: no hypervisor on the way */
        if (!__atomic_exchange_n(&p->peer_cell->pending, 1, __ATOMIC_SEQ_CST) &&
            !__atomic_load_n(&p->peer_cell->masked, __ATOMIC_SEQ_CST)) {
            pv_kick(p->peer_fd);
        }
        pthread_mutex_unlock(&ev->lock);
        return 0;
    }
    pthread_mutex_unlock(&ev->lock);
    struct evtchn_send s = {.port = port};
    /* Linux answers 0 for a port bound on this descriptor, whatever the
     * hypercall said */
    hcall(dev, EVTCHNOP_send, &s);
    return 0;
}

int evtchn_ioctl(struct shim_dev *dev, unsigned long req, void *arg)
{
    struct ev_dev *ev = dev->ev;
    int64_t rc;

    switch (req) {
    case FIONBIO: {
        /* the VFS's own ioctls work on the descriptor itself */
        int on = 0;
        if (pvc_peek(&on, (uint64_t)(uintptr_t)arg, sizeof(on))) {
            return fail(EFAULT);
        }
        ev->nonblock = on != 0;
        return shim_real.ioctl(dev->fd, req, arg);
    }
    case FIOCLEX:
    case FIONCLEX:
    case FIOASYNC:
        return shim_real.ioctl(dev->fd, req, arg);
    case IOCTL_EVTCHN_BIND_VIRQ: {
        struct ioctl_evtchn_bind_virq b;
        struct evtchn_bind_virq op = {0};
        if (ev->restrict_domid >= 0) {
            return fail(EACCES);
        }
        if (pvc_peek(&b, (uint64_t)(uintptr_t)arg, sizeof(b))) {
            return fail(EFAULT);
        }
        op.virq = b.virq;
        op.vcpu = 0;
        rc = hcall(dev, EVTCHNOP_bind_virq, &op);
        return bind_result(dev, rc, op.port);
    }
    case IOCTL_EVTCHN_BIND_INTERDOMAIN: {
        struct ioctl_evtchn_bind_interdomain b;
        struct evtchn_bind_interdomain op = {0};
        if (pvc_peek(&b, (uint64_t)(uintptr_t)arg, sizeof(b))) {
            return fail(EFAULT);
        }
        if (ev->restrict_domid >= 0 &&
            b.remote_domain != (uint32_t)ev->restrict_domid) {
            return fail(EACCES);
        }
        op.remote_dom = (domid_t)b.remote_domain;
        op.remote_port = b.remote_port;
        rc = hcall(dev, EVTCHNOP_bind_interdomain, &op);
        return bind_result(dev, rc, op.local_port);
    }
    case IOCTL_EVTCHN_BIND_UNBOUND_PORT: {
        struct ioctl_evtchn_bind_unbound_port b;
        struct evtchn_alloc_unbound op = {0};
        if (ev->restrict_domid >= 0) {
            return fail(EACCES);
        }
        if (pvc_peek(&b, (uint64_t)(uintptr_t)arg, sizeof(b))) {
            return fail(EFAULT);
        }
        op.dom = DOMID_SELF;
        op.remote_dom = (domid_t)b.remote_domain;
        rc = hcall(dev, EVTCHNOP_alloc_unbound, &op);
        return bind_result(dev, rc, op.port);
    }
    case IOCTL_EVTCHN_UNBIND: {
        struct ioctl_evtchn_unbind u;
        if (pvc_peek(&u, (uint64_t)(uintptr_t)arg, sizeof(u))) {
            return fail(EFAULT);
        }
        return ev_unbind(dev, u.port);
    }
    case IOCTL_EVTCHN_NOTIFY: {
        struct ioctl_evtchn_notify n;
        if (pvc_peek_cached(&n, (uint64_t)(uintptr_t)arg, sizeof(n))) {
            return fail(EFAULT);
        }
        return ev_notify(dev, n.port);
    }
    case IOCTL_EVTCHN_RESET: {
        uint64_t v;
        pthread_mutex_lock(&ev->lock);
        ev->cons = ev->prod = 0;
        ev->overflow = false;
        if (shim_real.read(ev->ring_efd, &v, sizeof(v)) < 0) {
            /* already clear */
        }
        ev->ring_signalled = false;
        pthread_mutex_unlock(&ev->lock);
        return 0;
    }
    case IOCTL_EVTCHN_RESTRICT_DOMID: {
        struct ioctl_evtchn_restrict_domid r;
        if (pvc_peek(&r, (uint64_t)(uintptr_t)arg, sizeof(r))) {
            return fail(EFAULT);
        }
        if (ev->restrict_domid >= 0) {
            return fail(EACCES);
        }
        if (r.domid == 0 || r.domid >= DOMID_FIRST_RESERVED) {
            return fail(EINVAL);
        }
        ev->restrict_domid = r.domid;
        return 0;
    }
    }
    return fail(ENOSYS);
}

/* A port's pipe was consumed: deliver the port if an event is pending
 * (masking it first, as the cell protocol says), else it was a nudge.
 * Caller holds the lock. */
static void deliver(struct ev_dev *ev, struct ev_port *p)
{
    if (p->masked) {
        /* fired and not yet written back: it is queued once; whatever is
         * pending waits for the write-back (someone cleared the cell's
         * mask: keep it set) */
        __atomic_store_n(&p->cell->masked, 1, __ATOMIC_SEQ_CST);
        return;
    }
    __atomic_store_n(&p->cell->masked, 1, __ATOMIC_SEQ_CST);
    if (!__atomic_exchange_n(&p->cell->pending, 0, __ATOMIC_SEQ_CST)) {
        unmask(p); /* nothing came: as it was */
        return;
    }
    p->masked = true;
    if (ev->prod - ev->cons >= ev->ring_size) {
        ev->overflow = true;
        return;
    }
    ev->ring[ev->prod++ % ev->ring_size] = p->port;
}

/* Ports epoll found ready: consume each pipe, deliver. Caller holds the
 * lock. */
static void harvest(struct ev_dev *ev, struct epoll_event *es, int n)
{
    for (int i = 0; i < n; i++) {
        uint64_t port = es[i].data.u64;
        char drain[64];
        struct ev_port *p;

        if (port == TAG_RING) {
            continue;
        }
        p = find_port(ev, (uint32_t)port);
        if (!p) {
            continue; /* unbound meanwhile */
        }
        /* without blocking: another reader may have taken it */
        struct iovec iov = {.iov_base = drain, .iov_len = sizeof(drain)};
        if (preadv2(p->notifier, &iov, 1, -1, RWF_NOWAIT) <= 0) {
            continue;
        }
        deliver(ev, p);
    }
}

static void ring_signal(struct ev_dev *ev)
{
    bool want = ev->prod != ev->cons;
    uint64_t v = 1;

    if (want && !ev->ring_signalled) {
        if (shim_real.write(ev->ring_efd, &v, sizeof(v)) == sizeof(v)) {
            ev->ring_signalled = true;
        }
    } else if (!want && ev->ring_signalled) {
        if (shim_real.read(ev->ring_efd, &v, sizeof(v)) == sizeof(v)) {
            ev->ring_signalled = false;
        }
    }
}

ssize_t evtchn_read(struct shim_dev *dev, void *buf, size_t count)
{
    struct ev_dev *ev = dev->ev;
    struct epoll_event es[64];
    size_t want, got = 0;
    int n;

    count &= ~(size_t)3;
    if (count > IO_MAX) {
        count = IO_MAX;
    }
    if (count == 0) {
        return 0;
    }
    want = count / 4;
    /* the lock is held at the top of each round, and when leaving it */
    pthread_mutex_lock(&ev->lock);
    for (;;) {
        if (ev->overflow) {
            pthread_mutex_unlock(&ev->lock);
            return fail(EFBIG);
        }
        if (ev->prod == ev->cons && ev->nonblock) {
            n = epoll_wait(ev->epfd, es, 64, 0);
            harvest(ev, es, n > 0 ? n : 0);
        }
        if (ev->prod != ev->cons || ev->overflow) {
            break;
        }
        if (ev->nonblock) {
            pthread_mutex_unlock(&ev->lock);
            return fail(EAGAIN);
        }
        /* block without the lock: other threads may bind or notify */
        bool single =
            ev->nports == 1 && !ev->ports[0].masked && ev->waiting < 0;
        if (single) {
            /* one port: wait on its own pipe, consuming it */
            int nfd = ev->ports[0].notifier;
            uint32_t sport = ev->ports[0].port;
            char drain[64];
            ev->waiting = nfd;
            pthread_mutex_unlock(&ev->lock);
            ssize_t rd = shim_real.read(nfd, drain, sizeof(drain));
            int err = errno;
            pthread_mutex_lock(&ev->lock);
            ev->waiting = -1;
            if (ev->zombie == nfd) {
                /* unbound while we slept: ours to close */
                shim_real.close(nfd);
                ev->zombie = -1;
            } else if (rd > 0) {
                struct ev_port *p = find_port(ev, sport);
                if (p && p->notifier == nfd) {
                    deliver(ev, p);
                }
            }
            if (rd < 0 && err == EINTR) {
                pthread_mutex_unlock(&ev->lock);
                errno = EINTR;
                return -1;
            }
            continue;
        }
        pthread_mutex_unlock(&ev->lock);
        n = epoll_wait(ev->epfd, es, 64, -1);
        if (n < 0) {
            return -1; /* EINTR, or the set is gone */
        }
        pthread_mutex_lock(&ev->lock);
        harvest(ev, es, n);
    }
    if (ev->overflow) {
        pthread_mutex_unlock(&ev->lock);
        return fail(EFBIG);
    }
    while (got < want && ev->cons != ev->prod) {
        uint32_t port = ev->ring[ev->cons++ % ev->ring_size];
        memcpy((char *)buf + got * 4, &port, 4);
        got++;
    }
    ring_signal(ev);
    pthread_mutex_unlock(&ev->lock);
    return (ssize_t)(got * 4);
}

/* write: re-enable this descriptor's disabled ports; others are ignored */
ssize_t evtchn_write(struct shim_dev *dev, const void *buf, size_t count)
{
    struct ev_dev *ev = dev->ev;
    uint32_t ports[IO_MAX / 4];

    count &= ~(size_t)3;
    if (count > IO_MAX) {
        count = IO_MAX;
    }
    if (count == 0) {
        return 0;
    }
    if (pvc_peek_cached(ports, (uint64_t)(uintptr_t)buf, count)) {
        return fail(EFAULT);
    }
    pthread_mutex_lock(&ev->lock);
    for (size_t i = 0; i < count / 4; i++) {
        struct ev_port *p = find_port(ev, ports[i]);
        if (p && p->masked) {
            unmask(p);
        }
    }
    pthread_mutex_unlock(&ev->lock);
    return (ssize_t)count;
}

void evtchn_set_nonblock(struct shim_dev *dev, bool on)
{
    dev->ev->nonblock = on;
}

void evtchn_atfork_child(struct shim_dev *dev)
{
    /* the parent's threads may have held these at fork */
    pthread_mutex_init(&map_lock, NULL);
    if (dev->ev) {
        pthread_mutex_init(&dev->ev->lock, NULL);
        dev->ev->waiting = -1;
    }
}
