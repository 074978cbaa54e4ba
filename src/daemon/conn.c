/* SPDX-License-Identifier: MIT */
/*
 * conn.c - connections and the message dispatch table.
 *
 * Grammar (docs/protocol.md): every connection but a token (and a
 * xenstore client, which speaks xs_wire.h: xenstore.c) starts with
 * HELLO; then requests, each answered by exactly one reply with the same
 * seq, except a hypercall that blocks (its reply comes when the vCPU
 * wakes).  A token connection carries only ATTACH, which has no reply.
 * A malformed header, an unknown or out-of-order type, or a payload of the
 * wrong size closes the connection; a well-formed request that fails gets
 * a reply with -errno.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "devmodel.h"
#include "hcall_wire.h"
#include "sock.h"

typedef void (*msg_fn)(struct daemon *dm, struct conn *c,
                       const struct pv_hdr *h, uint8_t *p, int *fds, int nfds);

struct msg_desc {
    const char *name;
    unsigned int kinds; /* connection kinds that may send it */
    uint32_t min_len, max_len;
    msg_fn fn;
    bool noreply_ok; /* may be sent with PV_F_NOREPLY */
};

/* The count a connection is held to: dom0's control and xenstore clients
 * have their own caps, so domains cannot lock dom0 out. */
static unsigned int *conn_counter(struct daemon *dm, enum conn_kind kind,
                                  const struct hv_domain *d)
{
    if (kind == CONN_CONTROL) {
        return &dm->nr_control;
    }
    return kind == CONN_XS && !d ? &dm->nr_xs : &dm->nr_conns;
}

struct conn *conn_new(struct daemon *dm, int fd, enum conn_kind kind,
                      struct hv_domain *d)
{
    struct conn *c;
    struct epoll_event ev = {.events = EPOLLIN};
    unsigned int *count = conn_counter(dm, kind, d);
    unsigned int cap = kind == CONN_CONTROL  ? DAEMON_MAX_CONTROL
                       : count == &dm->nr_xs ? DAEMON_MAX_XS
                                             : dm->max_conns;

    if (*count >= cap || (d && d->nr_conns >= dm->max_dom_conns)) {
        close(fd);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->kind = kind;
    c->d = d;
    c->domid = d ? d->id : 0;
    c->pidfd = -1;
    c->wait.conn = c;
    ev.data.ptr = c;
    if (epoll_ctl(dm->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        free(c);
        return NULL;
    }
    c->next = dm->conns;
    dm->conns = c;
    (*count)++;
    if (d) {
        hv_domain_conn_get(&dm->hv, d);
    }
    return c;
}

struct hv_domain *conn_domain(struct daemon *dm, struct conn *c)
{
    if (c->kind == CONN_CONTROL) {
        return hv_domain_find(&dm->hv, 0);
    }
    return c->d;
}

/* Mark for closing; the loop reaps after the current event. */
void conn_close(struct daemon *dm, struct conn *c)
{
    if (!c->dead) {
        c->dead = true;
        dm->nr_dying++;
    }
}

void conn_reap(struct daemon *dm)
{
    struct conn **pp = &dm->conns;

    /* the common case after an event: nothing to reap, no list walk */
    if (dm->nr_dying == 0) {
        return;
    }
    dm->nr_dying = 0;

    /* Grant devices first: an unmap notification sends on a port of the
     * same process, which must still be bound (Linux holds the port for
     * it, and unmaps a dead process's memory before closing its files). */
    for (struct conn *c = dm->conns; c; c = c->next) {
        if (c->dead && c->gnt_owner) {
            struct hv_domain *d = conn_domain(dm, c);
            if (d) {
                hv_gnttab_release_owned(&dm->hv, d, c);
            }
            c->gnt_owner = false;
        }
    }

    while (*pp) {
        struct conn *c = *pp;
        if (!c->dead) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        (*conn_counter(dm, c->kind, c->d))--;
        /* before the domain may die: its store connection must not get
         * the events of its release */
        xsd_conn_free(dm, c);
        vfiod_conn_closed(dm, c);
        if (c->kind == CONN_DEVMODEL && c->vdev) {
            devmodel_kill(dm, c->vdev, "its socket closed");
        }
        if (c->waiting) {
            hv_cancel_wait(&dm->hv, &c->wait);
        }
        if (c->gnt_owner) {
            /* marked while this reap ran (a domain being destroyed) */
            struct hv_domain *d = conn_domain(dm, c);
            if (d) {
                hv_gnttab_release_owned(&dm->hv, d, c);
            }
        }
        if (c->evtchn_owner) {
            /* a device's ports close with it, as when Linux closes an
             * evtchn descriptor of a process that died */
            struct hv_domain *d = conn_domain(dm, c);
            if (d) {
                hv_evtchn_close_owned(&dm->hv, d, c);
            }
        }
        free(c->fdcache);
        epoll_ctl(dm->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        if (c->pidfd >= 0) {
            close(c->pidfd);
        }
        if (c->d) {
            hv_domain_conn_put(&dm->hv, c->d);
        }
        free(c);
    }
}

void conn_kill_domain(struct daemon *dm, struct hv_domain *d)
{
    for (struct conn *c = dm->conns; c; c = c->next) {
        if (c->d != d) {
            continue;
        }
        if (c->pidfd >= 0) {
            syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
        }
        conn_close(dm, c);
    }
}

int conn_reply(struct daemon *dm, struct conn *c, const struct pv_hdr *req,
               const void *payload, size_t len, const int *fds, int nfds)
{
    struct pv_hdr h;
    struct iovec iov[2];
    int rc;

    if (req->flags & PV_F_NOREPLY) {
        return 0;
    }
    pv_hdr_init(&h, req->type, PV_F_REPLY, (uint32_t)len, req->seq);
    if (nfds == 0 && len <= PV_PAYLOAD_MAX) {
        /* one contiguous datagram: send() is cheaper than sendmsg() */
        memcpy(dm->out, &h, sizeof(h));
        memcpy(dm->out + sizeof(h), payload, len);
        iov[0].iov_base = dm->out;
        iov[0].iov_len = sizeof(h) + len;
        rc = pv_send(c->fd, iov, 1, NULL, 0, MSG_DONTWAIT);
    } else {
        iov[0].iov_base = &h;
        iov[0].iov_len = sizeof(h);
        iov[1].iov_base = (void *)payload;
        iov[1].iov_len = len;
        rc = pv_send(c->fd, iov, 2, fds, nfds, MSG_DONTWAIT);
    }
    if (rc) {
        /* a peer that does not read its replies loses its connection */
        conn_close(dm, c);
    }
    return rc;
}

int conn_reply_ret(struct daemon *dm, struct conn *c, const struct pv_hdr *req,
                   int64_t ret)
{
    struct pv_rep r = {.ret = ret};

    return conn_reply(dm, c, req, &r, sizeof(r), NULL, 0);
}

static void m_hello(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                    uint8_t *p, int *fds, int nfds)
{
    struct pv_hello_req req;
    struct pv_hello_rep rep = {0};

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (c->hello) {
        conn_close(dm, c); /* out of order */
        return;
    }
    if (req.version != PV_PROTO_VERSION) {
        conn_reply_ret(dm, c, h, -EPROTONOSUPPORT);
        conn_close(dm, c);
        return;
    }
    c->hello = true;
    rep.domid = c->domid;
    rep.version = PV_PROTO_VERSION;
    struct hv_domain *hd = conn_domain(dm, c);
    rep.max_vcpus = hd ? hd->max_vcpus : 0;
    rep.flags = c->kind == CONN_CONTROL ? PV_HELLO_CONTROL : 0;
    conn_reply(dm, c, h, &rep, sizeof(rep), NULL, 0);
}

static void m_hypercall(struct daemon *dm, struct conn *c,
                        const struct pv_hdr *h, uint8_t *p, int *fds, int nfds)
{
    struct pv_hcall_req req;
    struct guest_mem gm = {.r = dm->regions};
    struct hv_call call = {.hv = &dm->hv, .gm = &gm};
    int64_t ret;
    size_t n;
    int rc;

    (void)fds;
    (void)nfds;
    rc = hcall_req_decode(p, h->len, &req, &gm, dm->scratch, PV_PAYLOAD_MAX);
    if (rc == -EINVAL) {
        conn_close(dm, c);
        return;
    }
    call.d = conn_domain(dm, c);
    if (rc) {
        gm.nr = 0;
        ret = rc;
    } else if (!call.d || call.d->state == PV_DOM_DYING ||
               call.d->state == PV_DOM_DEAD) {
        gm.nr = 0;
        ret = -ESRCH;
    } else if (req.vcpu >= call.d->max_vcpus) {
        gm.nr = 0;
        ret = -EINVAL;
    } else {
        call.v = &call.d->vcpu[req.vcpu];
        c->wait.seq = h->seq;
        call.waiter = c->waiting ? NULL : &c->wait;
        ret = hv_hypercall(&call, req.op, req.args);
        if (ret == HCALL_BLOCKED) {
            c->waiting = true;
            return;
        }
    }
    n = hcall_rep_encode(&gm, ret, dm->tx);
    conn_reply(dm, c, h, dm->tx, n, NULL, 0);
}

static void m_map(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                  uint8_t *p, int *fds, int nfds)
{
    struct pv_map_req req;
    struct hv_domain *d = conn_domain(dm, c);
    struct hv_page *pg;
    int fd;

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (!d) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    if (req.what >= PV_MAP_VCPU_UPCALL &&
        req.what < PV_MAP_VCPU_UPCALL + HV_MAX_VCPUS) {
        unsigned int i = req.what - PV_MAP_VCPU_UPCALL;
        struct hv_vcpu *v;
        if (i >= d->max_vcpus || d->state == PV_DOM_DYING) {
            conn_reply_ret(dm, c, h, -EINVAL);
            return;
        }
        v = &d->vcpu[i];
        if (!v->upcall) {
            struct signal *s = signal_new(true);
            if (!s) {
                conn_reply_ret(dm, c, h, -EMFILE);
                return;
            }
            v->upcall = (intptr_t)s;
        }
        fd = ((struct signal *)v->upcall)->rd;
        struct pv_rep r = {.ret = 0};
        conn_reply(dm, c, h, &r, sizeof(r), &fd, 1);
        return;
    }
    switch (req.what) {
    case PV_MAP_SHARED_INFO:
        pg = &d->shinfo_pg;
        break;
    case PV_MAP_START_INFO:
        pg = &d->startinfo_pg;
        break;
    case PV_MAP_EVTCHN_GEN:
        pg = &d->evtchn_gen_pg;
        break;
    case PV_MAP_GRANT_TABLE:
        pg = &d->gt.shared;
        break;
    default:
        conn_reply_ret(dm, c, h, -EINVAL);
        return;
    }
    if (!pg->va) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    fd = (int)(intptr_t)pg->cookie;
    struct pv_rep r = {.ret = 0};
    conn_reply(dm, c, h, &r, sizeof(r), &fd, 1);
}

static void m_evtchn_attach(struct daemon *dm, struct conn *c,
                            const struct pv_hdr *h, uint8_t *p, int *fds,
                            int nfds)
{
    struct pv_port_req req;
    struct hv_domain *d = conn_domain(dm, c);
    struct signal *s;
    int rc;

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (!d || d->state == PV_DOM_DYING) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    s = signal_new(false);
    if (!s) {
        conn_reply_ret(dm, c, h, -EMFILE);
        return;
    }
    rc = hv_evtchn_attach(&dm->hv, d, req.port, c, s);
    if (rc) {
        signal_free(s);
        conn_reply_ret(dm, c, h, rc);
        return;
    }
    c->evtchn_owner = true;
    /* the owner waits on the read end and signals itself on the write
     * end (an unmask that finds an event waiting) */
    struct pv_rep r = {.ret = 0};
    int out[3] = {s->rd, s->wr, (int)(intptr_t)d->evtchn[req.port].cell.cookie};
    conn_reply(dm, c, h, &r, sizeof(r), out, 3);
}

static void m_evtchn_peer(struct daemon *dm, struct conn *c,
                          const struct pv_hdr *h, uint8_t *p, int *fds,
                          int nfds)
{
    struct pv_port_req req;
    struct hv_domain *d = conn_domain(dm, c);
    uint32_t gen;
    struct hv_evtchn *peer;

    (void)fds;
    (void)nfds;
    memcpy(&req, p, sizeof(req));
    if (!d) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    peer = hv_evtchn_peer(&dm->hv, d, req.port, &gen);
    struct pv_rep r = {.ret = (int64_t)(gen & 0xff)};
    /* a sender gets only the write end: it can wake the port, not read it */
    int out[2] = {peer ? ((struct signal *)peer->notifier)->wr : -1,
                  peer ? (int)(intptr_t)peer->cell.cookie : -1};
    conn_reply(dm, c, h, &r, sizeof(r), peer ? out : NULL, peer ? 2 : 0);
}

/*
 * A new process of the token's domain hands over its own connection.  The
 * kernel vouches for the sender (SCM_CREDENTIALS on the token): that
 * process is the one `destroy` kills, through a pidfd taken now, while it
 * is known to be alive.  The socket must be a connected SEQPACKET socket.
 */
static void m_attach(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                     uint8_t *p, int *fds, int nfds)
{
    int type = 0, family = 0, listening = 1;
    socklen_t sl = sizeof(int);
    struct sockaddr_un peer;
    socklen_t pl = sizeof(peer);
    struct conn *nc;

    (void)h;
    (void)p;
    if (nfds != 1) {
        for (int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        return;
    }
    if (getsockopt(fds[0], SOL_SOCKET, SO_TYPE, &type, &sl) < 0 ||
        type != SOCK_SEQPACKET ||
        getsockopt(fds[0], SOL_SOCKET, SO_DOMAIN, &family, &sl) < 0 ||
        family != AF_UNIX ||
        getsockopt(fds[0], SOL_SOCKET, SO_ACCEPTCONN, &listening, &sl) < 0 ||
        listening || getpeername(fds[0], (struct sockaddr *)&peer, &pl) < 0 ||
        !c->d || c->d->state == PV_DOM_DYING || dm->attach_cred.pid <= 0) {
        close(fds[0]);
        return;
    }
    nc = conn_new(dm, fds[0], CONN_DOMAIN, c->d);
    if (nc) {
        nc->pidfd = (int)syscall(SYS_pidfd_open, dm->attach_cred.pid, 0);
        nc->pid = dm->attach_cred.pid;
    }
}

/*
 * The dispatch table: who may send what, and the payload sizes accepted.
 * Control types are only for the control connection (dom0).
 */
#define CTL CONN_CONTROL
#define DOM CONN_DOMAIN
#define TOK CONN_TOKEN
static const struct msg_desc msg_table[PV_MSG_TYPE_MAX] = {
    [PV_MSG_HELLO] = {"hello", CTL | DOM, sizeof(struct pv_hello_req),
                      sizeof(struct pv_hello_req), m_hello},
    [PV_MSG_HYPERCALL] = {"hypercall", CTL | DOM, sizeof(struct pv_hcall_req),
                          PV_PAYLOAD_MAX, m_hypercall},
    [PV_MSG_MAP] = {"map", CTL | DOM, sizeof(struct pv_map_req),
                    sizeof(struct pv_map_req), m_map},
    [PV_MSG_ATTACH] = {"attach", TOK, 0, 0, m_attach},
    [PV_MSG_EVTCHN_ATTACH] = {"evtchn_attach", CTL | DOM,
                              sizeof(struct pv_port_req),
                              sizeof(struct pv_port_req), m_evtchn_attach},
    [PV_MSG_EVTCHN_PEER] = {"evtchn_peer", CTL | DOM,
                            sizeof(struct pv_port_req),
                            sizeof(struct pv_port_req), m_evtchn_peer},
    [PV_MSG_GNTALLOC] = {"gntalloc", CTL | DOM, sizeof(struct pv_gntalloc_req),
                         sizeof(struct pv_gntalloc_req), m_gntalloc},
    [PV_MSG_GNTALLOC_FREE] = {.name = "gntalloc_free",
                              .kinds = CTL | DOM,
                              .noreply_ok = true,
                              .min_len = sizeof(struct pv_gntalloc_free_req),
                              .max_len = sizeof(struct pv_gntalloc_free_req),
                              .fn = m_gntalloc_free},
    [PV_MSG_GNT_NOTIFY] = {"gnt_notify", CTL | DOM,
                           sizeof(struct pv_gnt_notify_req),
                           sizeof(struct pv_gnt_notify_req), m_gnt_notify},
    [PV_MSG_GNTDEV_MAP] = {"gntdev_map", CTL | DOM,
                           sizeof(struct pv_gntmap_req) +
                               sizeof(struct pv_gntref),
                           sizeof(struct pv_gntmap_req) +
                               PV_GNTMAP_BATCH * sizeof(struct pv_gntref),
                           m_gntdev_map},
    [PV_MSG_GNTDEV_UNMAP] = {.name = "gntdev_unmap",
                             .kinds = CTL | DOM,
                             .noreply_ok = true,
                             .min_len = sizeof(struct pv_gntunmap_req),
                             .max_len = PV_PAYLOAD_MAX,
                             .fn = m_gntdev_unmap},
    [PV_MSG_GNTDEV_COPY] = {"gntdev_copy", CTL | DOM,
                            sizeof(struct pv_gntcopy_req) +
                                sizeof(struct pv_gntcopy_seg),
                            PV_PAYLOAD_MAX, m_gntdev_copy},
    [PV_MSG_XS_ATTACH] = {"xs_attach", DOM, 0, 0, m_xs_attach},
    [PV_MSG_VFIO] = {"vfio", DOM, sizeof(struct pv_vfio_req), PV_PAYLOAD_MAX,
                     m_vfio},
    [PV_MSG_CREATE] = {"create", CTL, sizeof(struct pv_create_req),
                       sizeof(struct pv_create_req), ctl_create},
    [PV_MSG_DESTROY] = {"destroy", CTL, sizeof(struct pv_domid_req),
                        sizeof(struct pv_domid_req), ctl_destroy},
    [PV_MSG_LIST] = {"list", CTL, 0, 0, ctl_list},
    [PV_MSG_CONSOLE] = {"console", CTL, sizeof(struct pv_domid_req),
                        sizeof(struct pv_domid_req), ctl_console},
    [PV_MSG_TOKEN] = {"token", CTL, sizeof(struct pv_domid_req),
                      sizeof(struct pv_domid_req), ctl_token},
    [PV_MSG_DOWN] = {"down", CTL, 0, 0, ctl_down},
    [PV_MSG_INPUT] = {"input", CTL, 1, 1024, ctl_input},
    [PV_MSG_EVTCHN] = {"evtchn", CTL, sizeof(struct pv_domid_req),
                       sizeof(struct pv_domid_req), ctl_evtchn},
    [PV_MSG_GNTTAB] = {"gnttab", CTL, sizeof(struct pv_domid_req),
                       sizeof(struct pv_domid_req), ctl_gnttab},
    [PV_MSG_VFIO_CTL] = {"vfio_ctl", CTL, sizeof(struct pv_vfio_ctl_req),
                         sizeof(struct pv_vfio_ctl_req), ctl_vfio},
};

void conn_handle(struct daemon *dm, struct conn *c, uint8_t *buf, size_t n,
                 int *fds, int nfds)
{
    struct pv_hdr h;
    const struct msg_desc *md;
    bool bad;

    bad = pv_hdr_check(buf, n, &h) != 0 ||
          (h.flags & ~(uint16_t)PV_F_NOREPLY) != 0;
    md = bad ? NULL : &msg_table[h.type];
    bad = bad || !md->fn || !(md->kinds & c->kind) || h.len < md->min_len ||
          h.len > md->max_len;
    bad = bad || ((h.flags & PV_F_NOREPLY) && !md->noreply_ok);
    /* nothing but HELLO before HELLO, and no request while blocked */
    bad = bad || (c->kind != CONN_TOKEN && !c->hello && h.type != PV_MSG_HELLO);
    bad = bad || c->waiting;
    /* descriptors only travel with ATTACH, XS_ATTACH and VFIO's */
    bad =
        bad || (nfds && h.type != PV_MSG_ATTACH && h.type != PV_MSG_XS_ATTACH &&
                h.type != PV_MSG_VFIO && h.type != PV_MSG_VFIO_CTL);
    if (bad) {
        for (int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        if (c->kind == CONN_TOKEN) {
            return; /* drop: the token is shared by the domain's processes */
        }
        daemon_log(dm, "closing connection of d%u: bad message", c->domid);
        conn_close(dm, c);
        return;
    }
    if (h.type != PV_MSG_HELLO) {
        c->settled = true; /* descriptors came only as its first request */
    }
    md->fn(dm, c, &h, buf + sizeof(h), fds, nfds);
}

void conn_input(struct daemon *dm, struct conn *c)
{
    int fds[PV_FDS_MAX];
    int nfds = PV_FDS_MAX;
    long n;

    /* One datagram per readiness event: epoll is level-triggered, so more
     * queued messages come back in the next round, fairly interleaved with
     * other connections, and a request costs no extra empty read. */
    if (c->kind == CONN_XS) {
        xsd_input(dm, c); /* a byte stream, not datagrams */
        return;
    }
    if (c->kind == CONN_DEVMODEL) {
        devmodel_input(dm, c); /* vfio-user, a byte stream */
        return;
    }
    /* only the token (ATTACH, with its sender's credentials) and a fresh
     * process connection (XS_ATTACH comes right after HELLO) carry
     * descriptors; elsewhere the kernel drops any, and a busy connection's
     * receive needs no control buffer */
    nfds = c->kind == CONN_TOKEN || (c->kind == CONN_DOMAIN && !c->settled) ||
                   c->vfio_kind || c->kind == CONN_CONTROL
               ? PV_FDS_MAX
               : 0;
    n = pv_recv_cred(c->fd, dm->rx, PV_MSG_MAX + 1, nfds ? fds : NULL, &nfds,
                     MSG_DONTWAIT,
                     c->kind == CONN_TOKEN ? &dm->attach_cred : NULL);
    if (n == -EAGAIN || (n == -EMSGSIZE && c->kind == CONN_TOKEN)) {
        return;
    }
    if (n <= 0) {
        conn_close(dm, c);
        return;
    }
    conn_handle(dm, c, dm->rx, (size_t)n, fds, nfds);
}
