/* SPDX-License-Identifier: MIT */
/*
 * daemon.h - procvisord: the event loop around the hypervisor core.
 *
 * Locking: the daemon is one thread.  Every structure here, and the core it
 * drives, is touched only from the event loop (docs/locking.md).
 */
#ifndef PROCVISOR_DAEMON_H
#define PROCVISOR_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "hv.h"
#include "proto.h"

/* Descriptors: each domain connection costs two (socket and pidfd); the
 * daemon raises its limit at start and sizes these caps from it.  dom0's
 * control connections have their own cap, so domains cannot lock dom0 out. */
#define DAEMON_MAX_CONNS        4096u
#define DAEMON_MAX_DOMAIN_CONNS 1024u
#define DAEMON_MAX_CONTROL      256u
#define DAEMON_MAX_XS           256u /* dom0's xenstore socket clients */
/* Output a xenstore client may leave unread before it is dropped: a
 * reply is at most 4 KiB, so this is 128 full-size messages. */
#define DAEMON_XS_OUT_MAX (512u * 1024u)
/* Output moved from the store's queue (where it is charged to the
 * domain's memory quota) to a client's buffer while the socket lags. */
#define DAEMON_XS_OUT_CHUNK (64u * 1024u)
/* Store connections (XS_ATTACH) per domain: 4.17 has one per domain (its
 * ring); libxenstore opens one per xs_open(), so a few processes or
 * threads of a domain with their own handles fit.  dom0 has no such cap
 * (its socket clients have DAEMON_MAX_XS). */
#define DAEMON_XS_DOMAIN_CONNS 16u

enum conn_kind {
    CONN_CONTROL = 1,   /* dom0's control socket: control ops and dom0 calls */
    CONN_DOMAIN = 2,    /* one process of a domain */
    CONN_TOKEN = 4,     /* a domain's inherited token: ATTACH only */
    CONN_XS = 8,        /* a xenstore client: a byte stream of xs_wire.h */
    CONN_DEVMODEL = 16, /* a device model's vfio-user socket (or twin) */
};

struct xs_store;
struct xs_conn;
struct vdev;
struct vfio;
struct vfio_reply;
struct pending_unmap;

/* A xenstore client's transport state (xenstore.c). */
struct xs_link {
    struct xs_conn *xs;
    uint8_t *in; /* one message being assembled: header + payload */
    size_t in_len;
    uint8_t *out; /* replies and events not yet written */
    size_t out_len, out_off, out_cap;
    bool pollout; /* EPOLLOUT is armed */
    bool stalled; /* not read: its domain is over a quota (EPOLLIN off) */
};

/* A reply that waits for a blocked vCPU. */
struct waiter {
    struct conn *conn;
    uint32_t seq;
};

struct conn {
    int fd;
    int pidfd; /* the peer process, for destroy; -1 when unknown */
    pid_t pid; /* its pid, from the credentials it attached with */
    enum conn_kind kind;
    bool hello;   /* HELLO done */
    bool settled; /* made a request past HELLO: no more descriptors */
    bool dead;    /* close at the end of this loop iteration */
    struct hv_domain *d;
    domid_t domid;
    struct waiter wait; /* in use while blocked */
    bool waiting;
    bool evtchn_owner; /* attached event channel ports */
    bool gnt_owner;    /* made grants or mappings (a grant device) */
    uint64_t *fdcache; /* GNTDEV_MAP: the mem id in each slot (0 empty) */
    uint32_t fdcache_next;
    struct xs_link *xl; /* CONN_XS */
    struct vdev *vdev;  /* CONN_DEVMODEL: whose link, NULL once it died */
    /* VFIO: the container, group or device file this connection is
     * (enum pv_vfio_kind, 0: none), and the cookie that names it */
    uint32_t vfio_kind;
    void *vfio_obj;
    uint64_t vfio_cookie;
    struct conn *next;
};

struct daemon {
    struct hv hv;
    int epfd;
    int listen_fd;
    int xs_listen_fd;        /* $PROCVISOR_DIR/xenstored.sock */
    struct xs_store *xs;     /* the store, NULL when it could not start */
    struct xs_conn *xs_tool; /* the toolstack's own privileged connection */
    int timer_fd;            /* the earliest hypervisor timer */
    int clock_fd;            /* 1 Hz: re-anchor the pvclock */
    int signal_fd;
    int log_fd;
    bool verbose;
    bool stop;
    char dir[256];
    struct conn *conns;
    unsigned int nr_conns;   /* domain and token connections */
    unsigned int nr_dying;   /* marked by conn_close, not yet reaped */
    unsigned int nr_control; /* control connections */
    unsigned int nr_xs;      /* dom0's xenstore socket clients */
    unsigned int max_conns;  /* from the descriptor limit */
    unsigned int max_dom_conns;
    int spare_fd;             /* given up to refuse a client at EMFILE */
    struct ucred attach_cred; /* the sender of the token datagram at hand */
    uint8_t *rx;              /* PV_MSG_MAX + 1 */
    uint8_t *tx;              /* PV_MSG_MAX: reply payloads are built here */
    uint8_t *out;             /* PV_MSG_MAX: a whole reply datagram */
    uint8_t *scratch;         /* OUT space for one hypercall */
    struct gm_region *regions;
    uint64_t tsc_hz;
    bool tsc_stable;
    /* VFIO (vfio.c, devmodel.c) */
    struct vfio *vfio;
    struct vdev *vdevs;
    uint8_t *vfu_in, *vfu_out, *vfu_call; /* VFU_MAX_MSG_SIZE each */
    uint8_t *vfio_in;                     /* an ioctl's argument */
    struct vfio_reply *vfio_rep;
    struct pending_unmap *pending; /* mappings the model dropped */
    uint32_t nr_pending;
    bool pending_overflow;

    int xs_log_fd;              /* CONTROL logfile, -1 when none */
    unsigned int nr_xs_stalled; /* store connections not read for quota */
};

struct daemon_opts {
    const char *dir;
    bool verbose;
    bool tsc_stable;     /* publish XEN_PVCLOCK_TSC_STABLE_BIT if the TSC is */
    bool strict_console; /* domUs may not write the console (release XSM) */
    uint64_t host_pages;
    uint32_t gntalloc_limit; /* 0: Linux's default, 1024 */
};

/* daemon.c */
int daemon_init(struct daemon *dm, const struct daemon_opts *o);
int daemon_run(struct daemon *dm);
void daemon_fini(struct daemon *dm);
void daemon_log(struct daemon *dm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void daemon_arm_timer(struct daemon *dm);
int daemon_accept(struct daemon *dm, int listen_fd, int flags,
                  const char *what);

/* conn.c */
struct conn *conn_new(struct daemon *dm, int fd, enum conn_kind kind,
                      struct hv_domain *d);
void conn_close(struct daemon *dm, struct conn *c);
void conn_reap(struct daemon *dm);
void conn_input(struct daemon *dm, struct conn *c);
void conn_output(struct daemon *dm, struct conn *c);
/* Handle one datagram (also the fuzzing entry point). */
void conn_handle(struct daemon *dm, struct conn *c, uint8_t *buf, size_t n,
                 int *fds, int nfds);
int conn_reply(struct daemon *dm, struct conn *c, const struct pv_hdr *req,
               const void *payload, size_t len, const int *fds, int nfds);
int conn_reply_ret(struct daemon *dm, struct conn *c, const struct pv_hdr *req,
                   int64_t ret);
void conn_kill_domain(struct daemon *dm, struct hv_domain *d);
/* The domain a connection speaks for: its own, or dom0 for control. */
struct hv_domain *conn_domain(struct daemon *dm, struct conn *c);

/* control.c: the control ops, entries of conn.c's dispatch table */
void ctl_create(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                uint8_t *p, int *fds, int nfds);
void ctl_destroy(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                 uint8_t *p, int *fds, int nfds);
void ctl_list(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
              uint8_t *p, int *fds, int nfds);
void ctl_console(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                 uint8_t *p, int *fds, int nfds);
void ctl_token(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
               uint8_t *p, int *fds, int nfds);
void ctl_down(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
              uint8_t *p, int *fds, int nfds);
void ctl_input(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
               uint8_t *p, int *fds, int nfds);
void ctl_evtchn(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                uint8_t *p, int *fds, int nfds);

/* grant.c: the grant devices' messages, entries of the dispatch table */
void m_gntalloc(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                uint8_t *p, int *fds, int nfds);
void m_gntalloc_free(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                     uint8_t *p, int *fds, int nfds);
void m_gnt_notify(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                  uint8_t *p, int *fds, int nfds);
void m_gntdev_map(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                  uint8_t *p, int *fds, int nfds);
void m_gntdev_unmap(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                    uint8_t *p, int *fds, int nfds);
void m_gntdev_copy(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                   uint8_t *p, int *fds, int nfds);
void ctl_gnttab(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                uint8_t *p, int *fds, int nfds);

/* xenstore.c: the store, its socket and its clients */
int xsd_init(struct daemon *dm);
void xsd_fini(struct daemon *dm);
void xsd_accept(struct daemon *dm);
void xsd_input(struct daemon *dm, struct conn *c);
/* Write what the clients have queued (after anything that may queue). */
void xsd_flush(struct daemon *dm);
void xsd_conn_free(struct daemon *dm, struct conn *c);
/* A domain's nodes, as the toolstack writes and removes them. */
void xsd_domain_created(struct daemon *dm, struct hv_domain *d);
void xsd_domain_dead(struct daemon *dm, struct hv_domain *d);
/* A domain shut down: @releaseDomain, as 4.17's check_domains(). */
void xsd_domain_shutdown(struct daemon *dm, struct hv_domain *d);
/* Read again from connections whose domain is back under its quotas. */
void xsd_resume(struct daemon *dm);
void m_xs_attach(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                 uint8_t *p, int *fds, int nfds);

/* vfio.c: /dev/vfio's messages, and dom0's VFIO administration */
void m_vfio(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
            uint8_t *p, int *fds, int nfds);
void ctl_vfio(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
              uint8_t *p, int *fds, int nfds);

/*
 * A wake-up a domain waits on: a pipe.  The domain holds the read end; the
 * daemon (and, for a device's port, the port's owner and its peer) write
 * one byte with RWF_NOWAIT, which never blocks whatever anyone did to the
 * descriptors' flags (an eventfd write can be made to block by its reader:
 * a counter near its maximum, or O_NONBLOCK cleared).  A full pipe is a
 * signalled one.
 */
struct signal {
    int rd, wr;
};

struct signal *signal_new(bool nonblock);
void signal_raise(const struct signal *s);
void signal_free(struct signal *s);

/* env.c: the core's environment */
extern const struct hv_env daemon_env_template;
int daemon_tsc_calibrate(uint64_t *hz, bool *stable);
uint64_t daemon_rdtsc(void);

#endif
