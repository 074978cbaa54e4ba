/* SPDX-License-Identifier: MIT */
/*
 * xenstore.c - the daemon's xenstore: one store (src/xs), reached by dom0
 * through $PROCVISOR_DIR/xenstored.sock and by a domain's processes through
 * XS_ATTACH (docs/protocol.md, "xenstore"), and the nodes the toolstack
 * writes for each domain.
 *
 * The xenstore wire is a byte stream: each client has an input buffer that
 * holds at most one message (header + XENSTORE_PAYLOAD_MAX), cut by the
 * header's len, and an output buffer the store's queue drains into while
 * it holds less than DAEMON_XS_OUT_CHUNK unsent (the rest stays queued in
 * the store, charged to the domain).  The daemon never blocks on a client:
 * output that does not go is kept with EPOLLOUT armed, and a client leaving
 * more than DAEMON_XS_OUT_MAX unread is dropped.  A domain over its store
 * quotas is not read (EPOLLIN off) until it is back under.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "store.h"

#define XS_HDR    sizeof(struct xsd_sockmsg)
#define XS_IN_CAP (XS_HDR + XENSTORE_PAYLOAD_MAX)

static bool domain_exists(void *opaque, unsigned int domid)
{
    struct daemon *dm = opaque;

    /* the live list only: a dying domain's record is no longer there */
    return domid <= HV_MAX_DOMID &&
           hv_domain_find(&dm->hv, (domid_t)domid) != NULL;
}

/* appends text to fd with O_APPEND semantics, whatever it takes */
static int write_all(int fd, const char *text, size_t len)
{
    while (len) {
        ssize_t n = write(fd, text, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : -EIO;
        }
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

static void store_log(void *opaque, const char *msg)
{
    struct daemon *dm = opaque;

    daemon_log(dm, "xenstore: %s", msg);
    if (dm->xs_log_fd >= 0) {
        char line[320];
        int n = snprintf(line, sizeof(line), "%s\n", msg);

        (void)write_all(dm->xs_log_fd, line,
                        n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
}

/* files CONTROL names are opened as the daemon's user, for dom0 only */
static int open_append(const char *file)
{
    int fd =
        open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);

    return fd < 0 ? -errno : fd;
}

/* CONTROL logfile: the store's log lines go there too from now on */
static int store_logfile(void *opaque, const char *file)
{
    struct daemon *dm = opaque;
    int fd = open_append(file);

    if (fd < 0) {
        return fd;
    }
    if (dm->xs_log_fd >= 0) {
        close(dm->xs_log_fd);
    }
    dm->xs_log_fd = fd;
    return 0;
}

/* CONTROL memreport: to the file given, else to the log file */
static int store_report(void *opaque, const char *file, const char *text)
{
    struct daemon *dm = opaque;
    int fd, rc;

    if (!file) {
        return dm->xs_log_fd < 0 ? -EBADF
                                 : write_all(dm->xs_log_fd, text, strlen(text));
    }
    fd = open_append(file);
    if (fd < 0) {
        return -EBADF; /* what 4.17 answers when fopen() fails */
    }
    rc = write_all(fd, text, strlen(text));
    close(fd);
    return rc;
}

/* The store is done with a connection (its domain was released). */
static void store_conn_closed(void *opaque, struct xs_conn *x)
{
    struct daemon *dm = opaque;

    for (struct conn *c = dm->conns; c; c = c->next) {
        if (c->kind == CONN_XS && c->xl && c->xl->xs == x) {
            conn_close(dm, c); /* the reap frees x */
            return;
        }
    }
}

static const struct xs_store_ops store_ops = {
    .domain_exists = domain_exists,
    .log = store_log,
    .conn_closed = store_conn_closed,
    .logfile = store_logfile,
    .report = store_report,
};

int xsd_init(struct daemon *dm)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int rc;

    rc = xs_store_new(&dm->xs, &store_ops, dm);
    if (rc) {
        return rc;
    }
    rc = xs_conn_new(dm->xs, 0, true, &dm->xs_tool);
    if (rc) {
        return rc;
    }
    if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/xenstored.sock",
                 dm->dir) >= (int)sizeof(sa.sun_path)) {
        return -ENAMETOOLONG;
    }
    unlink(sa.sun_path);
    dm->xs_listen_fd =
        socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (dm->xs_listen_fd < 0) {
        return -errno;
    }
    /* as ctl.sock: mode 0600 in a 0700 directory, peers checked on accept */
    mode_t old = umask(0077);
    rc = bind(dm->xs_listen_fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || chmod(sa.sun_path, 0600) < 0 ||
        listen(dm->xs_listen_fd, 128) < 0) {
        return -errno;
    }
    return 0;
}

void xsd_fini(struct daemon *dm)
{
    if (dm->xs_listen_fd >= 0) {
        char path[300];
        snprintf(path, sizeof(path), "%s/xenstored.sock", dm->dir);
        unlink(path);
        close(dm->xs_listen_fd);
        dm->xs_listen_fd = -1;
    }
    if (dm->xs) {
        /* the connections went with conn_reap; the toolstack's is here */
        if (dm->xs_tool) {
            xs_conn_free(dm->xs_tool);
        }
        size_t leaked = xs_store_free(dm->xs);
        if (leaked) {
            daemon_log(dm, "xenstore: %zu allocations leaked", leaked);
        }
        dm->xs = NULL;
        dm->xs_tool = NULL;
    }
    if (dm->xs_log_fd >= 0) {
        close(dm->xs_log_fd);
        dm->xs_log_fd = -1;
    }
}

/* Make c (a new CONN_XS) a store connection of domid. */
static int link_new(struct daemon *dm, struct conn *c, unsigned int domid,
                    bool privileged)
{
    struct xs_link *l = calloc(1, sizeof(*l));
    int rc;

    if (!l) {
        return -ENOMEM;
    }
    l->in = malloc(XS_IN_CAP);
    if (!l->in) {
        free(l);
        return -ENOMEM;
    }
    rc = xs_conn_new(dm->xs, domid, privileged, &l->xs);
    if (rc) {
        free(l->in);
        free(l);
        return rc;
    }
    c->xl = l;
    return 0;
}

void xsd_conn_free(struct daemon *dm, struct conn *c)
{
    struct xs_link *l = c->xl;

    if (!l) {
        return;
    }
    if (l->stalled) {
        dm->nr_xs_stalled--;
    }
    xs_conn_free(l->xs);
    free(l->in);
    free(l->out);
    free(l);
    c->xl = NULL;
}

void xsd_accept(struct daemon *dm)
{
    int fd = daemon_accept(dm, dm->xs_listen_fd, SOCK_NONBLOCK, "xenstore");
    struct conn *c;

    if (fd < 0) {
        return;
    }
    c = conn_new(dm, fd, CONN_XS, NULL);
    if (c && link_new(dm, c, 0, true)) {
        conn_close(dm, c);
    }
}

/* EPOLLIN unless stalled, EPOLLOUT while output waits */
static void set_events(struct daemon *dm, struct conn *c, bool pollout,
                       bool stalled)
{
    struct xs_link *l = c->xl;
    struct epoll_event ev = {.events = (stalled ? 0 : EPOLLIN) |
                                       (pollout ? EPOLLOUT : 0),
                             .data.ptr = c};

    if ((l->pollout != pollout || l->stalled != stalled) &&
        epoll_ctl(dm->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
        l->pollout = pollout;
        if (l->stalled != stalled) {
            l->stalled = stalled;
            if (stalled) {
                dm->nr_xs_stalled++;
            } else {
                dm->nr_xs_stalled--;
            }
        }
    }
}

/*
 * Move what the store queued for c into its output buffer, up to
 * DAEMON_XS_OUT_CHUNK unsent: the rest stays in the store's queue, charged
 * to the domain (and its replies outstanding) until the socket takes more.
 */
static void take(struct daemon *dm, struct conn *c)
{
    struct xs_link *l = c->xl;
    struct xs_msg *m;

    while (l->out_len - l->out_off < DAEMON_XS_OUT_CHUNK &&
           (m = xs_conn_pop(l->xs))) {
        size_t n = XS_HDR + m->hdr.len;
        if (l->out_off && l->out_len + n > l->out_cap) {
            /* what was sent makes room first */
            memmove(l->out, l->out + l->out_off, l->out_len - l->out_off);
            l->out_len -= l->out_off;
            l->out_off = 0;
        }
        if (l->out_len + n > l->out_cap) {
            size_t cap = l->out_cap ? l->out_cap : 8192;
            while (cap < l->out_len + n) {
                cap *= 2;
            }
            uint8_t *p = realloc(l->out, cap);
            if (!p) {
                xs_msg_free(dm->xs, m);
                conn_close(dm, c);
                return;
            }
            l->out = p;
            l->out_cap = cap;
        }
        memcpy(l->out + l->out_len, &m->hdr, XS_HDR);
        memcpy(l->out + l->out_len + XS_HDR, m->body, m->hdr.len);
        l->out_len += n;
        xs_msg_free(dm->xs, m);
    }
}

/* Take what the store queued for c and write what the socket takes now. */
static void flush_one(struct daemon *dm, struct conn *c)
{
    struct xs_link *l = c->xl;

    for (;;) {
        take(dm, c);
        if (c->dead) {
            return;
        }
        if (l->out_len - l->out_off + xs_conn_queued_bytes(l->xs) >
            DAEMON_XS_OUT_MAX) {
            daemon_log(dm, "closing xenstore connection of d%u: not reading",
                       c->domid);
            conn_close(dm, c);
            return;
        }
        if (l->out_off == l->out_len) {
            break;
        }
        while (l->out_off < l->out_len) {
            ssize_t n =
                send(c->fd, l->out + l->out_off, l->out_len - l->out_off,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno == EAGAIN) {
                set_events(dm, c, true, l->stalled);
                return;
            }
            if (n <= 0) {
                conn_close(dm, c);
                return;
            }
            l->out_off += (size_t)n;
        }
        l->out_off = l->out_len = 0;
    }
    if (l->out_cap > 65536) {
        /* a burst is over: give the memory back */
        free(l->out);
        l->out = NULL;
        l->out_cap = 0;
    }
    set_events(dm, c, false, l->stalled);
}

void xsd_flush(struct daemon *dm)
{
    for (struct conn *c = dm->conns; c; c = c->next) {
        if (c->kind == CONN_XS && !c->dead && c->xl) {
            flush_one(dm, c);
        }
    }
}

void conn_output(struct daemon *dm, struct conn *c)
{
    if (c->kind == CONN_XS && c->xl) {
        flush_one(dm, c);
    }
}

/*
 * Handle the complete requests in c's input buffer while its domain may be
 * read (4.17's domain_can_read()); past a quota the rest waits, and the
 * connection is not read (EPOLLIN off) until xsd_resume() finds the
 * domain back under its quotas.
 */
static void process(struct daemon *dm, struct conn *c)
{
    struct xs_link *l = c->xl;
    struct xsd_sockmsg h;
    size_t off = 0;

    while (l->in_len - off >= XS_HDR) {
        memcpy(&h, l->in + off, XS_HDR);
        if (h.len > XENSTORE_PAYLOAD_MAX) {
            /* xenstored drops such a connection without a reply */
            daemon_log(dm, "closing xenstore connection of d%u: bad message",
                       c->domid);
            conn_close(dm, c);
            return;
        }
        if (l->in_len - off < XS_HDR + h.len) {
            break;
        }
        if (!xs_conn_can_read(l->xs)) {
            set_events(dm, c, l->pollout, true);
            break;
        }
        if (xs_handle(l->xs, &h, l->in + off + XS_HDR) < 0) {
            conn_close(dm, c);
            return;
        }
        off += XS_HDR + h.len;
        /* the reply leaves the store's queue (and the outstanding count)
         * unless the client lags behind */
        take(dm, c);
        if (c->dead) {
            return;
        }
    }
    memmove(l->in, l->in + off, l->in_len - off);
    l->in_len -= off;
}

void xsd_input(struct daemon *dm, struct conn *c)
{
    struct xs_link *l = c->xl;
    ssize_t n;

    if (l->stalled) {
        /* EPOLLIN is off: a hang-up, or an event from before the stall */
        struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};
        if (poll(&p, 1, 0) > 0 &&
            (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL))) {
            conn_close(dm, c);
        }
        return;
    }
    n = recv(c->fd, l->in + l->in_len, XS_IN_CAP - l->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        conn_close(dm, c);
        return;
    }
    l->in_len += (size_t)n;
    process(dm, c);
    /* the reply, and any watch events on any connection */
    xsd_flush(dm);
}

void xsd_resume(struct daemon *dm)
{
    bool any = false;

    if (dm->nr_xs_stalled == 0 || !dm->xs) {
        return;
    }
    for (struct conn *c = dm->conns; c; c = c->next) {
        if (c->kind == CONN_XS && !c->dead && c->xl && c->xl->stalled &&
            xs_conn_can_read(c->xl->xs)) {
            set_events(dm, c, c->xl->pollout, false);
            process(dm, c);
            any = true;
        }
    }
    if (any) {
        xsd_flush(dm);
    }
}

/*
 * A process of the sender's domain hands over one end of a socketpair it
 * made (the preload library does, for libxenstore's connect()): it becomes
 * a store connection as that domain, unprivileged unless it is dom0.
 */
void m_xs_attach(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                 uint8_t *p, int *fds, int nfds)
{
    int type = 0, family = 0, listening = 1;
    socklen_t sl = sizeof(int);
    struct sockaddr_un peer;
    socklen_t pl = sizeof(peer);
    struct conn *nc;
    int rc = 0;

    (void)p;
    if (nfds != 1 || !dm->xs) {
        for (int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        conn_reply_ret(dm, c, h, dm->xs ? -EINVAL : -ENOSYS);
        return;
    }
    if (getsockopt(fds[0], SOL_SOCKET, SO_TYPE, &type, &sl) < 0 ||
        type != SOCK_STREAM ||
        getsockopt(fds[0], SOL_SOCKET, SO_DOMAIN, &family, &sl) < 0 ||
        family != AF_UNIX ||
        getsockopt(fds[0], SOL_SOCKET, SO_ACCEPTCONN, &listening, &sl) < 0 ||
        listening || getpeername(fds[0], (struct sockaddr *)&peer, &pl) < 0) {
        close(fds[0]);
        conn_reply_ret(dm, c, h, -EINVAL);
        return;
    }
    /* a released domain has no store connection until introduced again */
    if (!c->d || c->d->state == PV_DOM_DYING || c->d->state == PV_DOM_DEAD ||
        (c->d->id != 0 && !xs_domain_introduced(dm->xs, c->d->id))) {
        close(fds[0]);
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    if (c->d->id != 0 &&
        xs_domain_conns(dm->xs, c->d->id) >= DAEMON_XS_DOMAIN_CONNS) {
        close(fds[0]);
        conn_reply_ret(dm, c, h, -EMFILE);
        return;
    }
    nc = conn_new(dm, fds[0], CONN_XS, c->d); /* closes it on failure */
    if (!nc) {
        rc = -EMFILE;
    } else if ((rc = link_new(dm, nc, c->d->id, c->d->id == 0)) != 0) {
        conn_close(dm, nc);
    }
    conn_reply_ret(dm, c, h, rc);
}

/* ---- the toolstack's writes ---- */

/* One request on the toolstack's connection: 0, or -EIO with the error
 * logged.  A reply body goes to out (NUL-terminated) when given. */
static int tool_req(struct daemon *dm, uint32_t type, uint32_t tx,
                    const void *body, size_t len, char *out, size_t cap)
{
    struct xsd_sockmsg h = {.type = type, .tx_id = tx, .len = (uint32_t)len};
    struct xs_msg *m;
    int rc = xs_handle(dm->xs_tool, &h, body);

    while (rc == 0 && (m = xs_conn_pop(dm->xs_tool))) {
        if (m->hdr.type == XS_ERROR) {
            daemon_log(dm, "xenstore: toolstack request %u on %s: %.*s", type,
                       (const char *)body, (int)m->hdr.len, m->body);
            rc = -EIO;
        } else if (out && cap) {
            size_t n = m->hdr.len < cap - 1 ? m->hdr.len : cap - 1;
            memcpy(out, m->body, n);
            out[n] = '\0';
        }
        xs_msg_free(dm->xs, m);
    }
    return rc;
}

static int tool_write(struct daemon *dm, uint32_t tx, const char *path,
                      const char *val)
{
    char body[512];
    size_t pl = strlen(path) + 1, vl = strlen(val);

    if (pl + vl > sizeof(body)) {
        return -E2BIG;
    }
    memcpy(body, path, pl);
    memcpy(body + pl, val, vl);
    return tool_req(dm, XS_WRITE, tx, body, pl + vl, NULL, 0);
}

/* An empty node with the given permissions ("n0\0r5\0", total plen). */
static int tool_mknod(struct daemon *dm, uint32_t tx, const char *path,
                      const char *perms, size_t plen)
{
    char body[512];
    size_t pl = strlen(path) + 1;
    int rc = tool_write(dm, tx, path, "");

    if (rc || pl + plen > sizeof(body)) {
        return rc ? rc : -E2BIG;
    }
    memcpy(body, path, pl);
    memcpy(body + pl, perms, plen);
    return tool_req(dm, XS_SET_PERMS, tx, body, pl + plen, NULL, 0);
}

static int tool_rm(struct daemon *dm, const char *path)
{
    return tool_req(dm, XS_RM, 0, path, strlen(path) + 1, NULL, 0);
}

static void make_uuid(char *out, size_t n)
{
    uint8_t u[16];

    if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
        memset(u, 0, sizeof(u));
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, n,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
             u[11], u[12], u[13], u[14], u[15]);
}

/*
 * What libxl__domain_make and libxl__build_post write, in one transaction:
 * /local/domain/<id> readable by the domain (n0 r<id>), its /vm/<uuid>,
 * /libxl/<id> and /libxl/<id>/device (dom0 only), name, domid, vm, cpu,
 * memory (static-max, target, videoram), and the nodes the domain itself
 * writes, owned by it (n<id>): device/suspend/event-channel,
 * control/{shutdown,feature-*,sysrq}, data, drivers, feature, attr, error.
 * What is left out (store ring, console) is in docs/protocol.md.  dom0
 * gets what xen-init-dom0 writes.
 */
void xsd_domain_created(struct daemon *dm, struct hv_domain *d)
{
    static const char *const owned[] = {
        "device/suspend/event-channel",
        "control/shutdown",
        "control/feature-poweroff",
        "control/feature-reboot",
        "control/feature-suspend",
        "control/sysrq",
        "data",
        "drivers",
        "feature",
        "attr",
        "error",
    };
    static const char *const readonly[] = {"cpu", "memory", "device",
                                           "control"};
    char dom[64], vm[64], lx[64], path[160], val[64], uuid[40], tid[32];
    char ro[32], rw[16];
    size_t rol, rwl;
    uint32_t tx;
    int rc = 0;

    if (!dm->xs) {
        return;
    }
    snprintf(dom, sizeof(dom), "/local/domain/%u", d->id);
    if (d->id == 0) {
        snprintf(path, sizeof(path), "%s/domid", dom);
        rc = tool_write(dm, 0, path, "0");
        snprintf(path, sizeof(path), "%s/name", dom);
        rc = rc ? rc : tool_write(dm, 0, path, d->name);
        goto out;
    }
    make_uuid(uuid, sizeof(uuid));
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);
    snprintf(lx, sizeof(lx), "/libxl/%u", d->id);
    rol = (size_t)snprintf(ro, sizeof(ro), "n0%cr%u", '\0', d->id) + 1;
    rwl = (size_t)snprintf(rw, sizeof(rw), "n%u", d->id) + 1;
    if (tool_req(dm, XS_TRANSACTION_START, 0, "", 1, tid, sizeof(tid))) {
        rc = -EIO;
        goto out;
    }
    tx = (uint32_t)strtoul(tid, NULL, 10);
    rc = tool_mknod(dm, tx, dom, ro, rol);
    rc = rc ? rc : tool_mknod(dm, tx, vm, ro, rol);
    rc = rc ? rc : tool_mknod(dm, tx, lx, "n0", 3);
    snprintf(path, sizeof(path), "%s/device", lx);
    rc = rc ? rc : tool_mknod(dm, tx, path, "n0", 3);
    snprintf(path, sizeof(path), "%s/vm", dom);
    rc = rc ? rc : tool_write(dm, tx, path, vm);
    snprintf(path, sizeof(path), "%s/name", dom);
    rc = rc ? rc : tool_write(dm, tx, path, d->name);
    snprintf(path, sizeof(path), "%s/name", vm);
    rc = rc ? rc : tool_write(dm, tx, path, d->name);
    snprintf(path, sizeof(path), "%s/uuid", vm);
    rc = rc ? rc : tool_write(dm, tx, path, uuid);
    for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dom, readonly[i]);
        rc = rc ? rc : tool_mknod(dm, tx, path, ro, rol);
    }
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dom, owned[i]);
        rc = rc ? rc : tool_mknod(dm, tx, path, rw, rwl);
    }
    snprintf(path, sizeof(path),
             "%s/control/platform-feature-multiprocessor-suspend", dom);
    rc = rc ? rc : tool_write(dm, tx, path, "1");
    snprintf(path, sizeof(path), "%s/control/platform-feature-xs_reset_watches",
             dom);
    rc = rc ? rc : tool_write(dm, tx, path, "1");
    snprintf(path, sizeof(path), "%s/type", lx);
    rc = rc ? rc
            : tool_write(dm, tx, path, d->flags & PV_CREATE_PV ? "pv" : "pvh");
    /* libxl__build_post */
    snprintf(val, sizeof(val), "%" PRIu64, d->max_pages * 4);
    snprintf(path, sizeof(path), "%s/memory/static-max", dom);
    rc = rc ? rc : tool_write(dm, tx, path, val);
    snprintf(path, sizeof(path), "%s/memory/target", dom);
    rc = rc ? rc : tool_write(dm, tx, path, val);
    /* a PV or PVH guest has no emulated video memory: libxl writes 0 */
    snprintf(path, sizeof(path), "%s/memory/videoram", dom);
    rc = rc ? rc : tool_write(dm, tx, path, "0");
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        snprintf(path, sizeof(path), "%s/cpu/%u/availability", dom, i);
        rc = rc ? rc : tool_write(dm, tx, path, "online");
    }
    snprintf(val, sizeof(val), "%u", d->id);
    snprintf(path, sizeof(path), "%s/domid", dom);
    rc = rc ? rc : tool_write(dm, tx, path, val);
    rc = tool_req(dm, XS_TRANSACTION_END, tx, rc ? "F" : "T", 2, NULL, 0) ? -EIO
                                                                          : rc;
    if (rc == 0) {
        rc = xs_domain_introduce(dm->xs, d->id);
    }
out:
    if (rc) {
        daemon_log(dm, "xenstore: d%u's nodes: error %d", d->id, rc);
    }
    xsd_flush(dm);
}

/*
 * A dead domain: the toolstack removes what it wrote, as libxl's destroy
 * does before the domain goes; then the store forgets the domain (nodes it
 * still owns go, it is released if it was not, @releaseDomain fires), as
 * xenstored does once the hypervisor destroyed it.
 */
void xsd_domain_dead(struct daemon *dm, struct hv_domain *d)
{
    char dom[64], vm[80] = "", path[96];

    if (!dm->xs || d->id == 0) {
        return;
    }
    snprintf(dom, sizeof(dom), "/local/domain/%u", d->id);
    snprintf(path, sizeof(path), "%s/vm", dom);
    if (tool_req(dm, XS_READ, 0, path, strlen(path) + 1, vm, sizeof(vm))) {
        vm[0] = '\0';
    }
    tool_rm(dm, dom);
    if (strncmp(vm, "/vm/", 4) == 0) {
        tool_rm(dm, vm);
    }
    snprintf(path, sizeof(path), "/libxl/%u", d->id);
    tool_rm(dm, path);
    xs_domain_dead(dm->xs, d->id);
    xsd_flush(dm);
}

/*
 * A domain shut down: as 4.17's check_domains() on VIRQ_DOM_EXC, every
 * domain found shut down that the store has not seen so since it was
 * introduced or resumed makes @releaseDomain fire, once.
 */
void xsd_domain_shutdown(struct daemon *dm, struct hv_domain *d)
{
    unsigned int ids[64];
    size_t n = 0;

    (void)d;
    if (!dm->xs) {
        return;
    }
    for (struct hv_domain *i = dm->hv.domains; i; i = i->next) {
        if (i->state != PV_DOM_SHUTDOWN) {
            continue;
        }
        ids[n++] = i->id;
        if (n == sizeof(ids) / sizeof(ids[0])) {
            xs_domains_shutdown(dm->xs, ids, n);
            n = 0;
        }
    }
    if (n) {
        xs_domains_shutdown(dm->xs, ids, n);
    }
    xsd_flush(dm);
}
