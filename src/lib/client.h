/* SPDX-License-Identifier: MIT */
/*
 * client.h - the client side of the wire protocol, shared by the CLI, the
 * public library and the preload shim.  Functions return >= 0 or -errno.
 */
#ifndef PROCVISOR_CLIENT_H
#define PROCVISOR_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define PV_ENV_DIR   "PROCVISOR_DIR"
#define PV_ENV_FD    "PROCVISOR_FD"    /* the domain token, inherited */
#define PV_ENV_DOMID "PROCVISOR_DOMID" /* informational */

/* One connection: requests are serialised by the lock. */
struct pvc {
    int fd;
    uint32_t seq;
    uint32_t domid;
    uint32_t max_vcpus;
    bool control;
    /* guards seq and the request/reply exchange on fd */
    pthread_mutex_t lock;
    uint8_t *buf; /* PV_MSG_MAX + 1 */
};

/* The runtime directory: $PROCVISOR_DIR, $XDG_RUNTIME_DIR/procvisor, or
 * /run/procvisor for root. */
int pvc_runtime_dir(char *out, size_t n);

/* Open a connection over an already connected socket and say HELLO. */
int pvc_init(struct pvc *c, int fd);
void pvc_fini(struct pvc *c);

/*
 * Connect as this process's domain: through the inherited token when
 * PROCVISOR_FD is set, else to the control socket (dom0).  Returns the
 * connected socket (not yet HELLO'd) or -errno.
 */
int pvc_domain_socket(void);

/* Connect to the control socket, starting the daemon when none runs and
 * `start` says so (exe is the procvisor binary to run). */
int pvc_control_socket(bool start, const char *exe, bool verbose);

/*
 * One request/reply exchange.  The reply payload (starting with pv_rep) is
 * copied to rep (at most cap bytes; *rep_len gets the length); a descriptor
 * that came with it goes to *fd_out (or is closed when fd_out is NULL).
 * Returns the reply's ret, or -errno for a transport failure.
 */
int64_t pvc_call(struct pvc *c, uint16_t type, const void *req, size_t len,
                 void *rep, size_t cap, size_t *rep_len, int *fd_out);

/* The same, taking up to *nfds_out descriptors (the count received goes
 * back there; the rest are closed). */
int64_t pvc_call_fds(struct pvc *c, uint16_t type, const void *req, size_t len,
                     void *rep, size_t cap, size_t *rep_len, int *fds_out,
                     int *nfds_out);

/* The same, also sending nfds_in descriptors with the request (copies
 * go; the caller keeps its own). */
int64_t pvc_call_full(struct pvc *c, uint16_t type, const void *req, size_t len,
                      const int *fds_in, int nfds_in, void *rep, size_t cap,
                      size_t *rep_len, int *fds_out, int *nfds_out);

/* An empty request carrying one descriptor (a copy goes): the reply's ret
 * or -errno. */
int64_t pvc_call_give(struct pvc *c, uint16_t type, int fd);

/* A request without a reply (PV_F_NOREPLY): it is handled in order with
 * the connection's other requests.  0 or -errno for a transport failure. */
int pvc_post(struct pvc *c, uint16_t type, const void *req, size_t len);

/* A hypercall with argument marshalling (marshal.c): the result the guest
 * sees, or -errno. */
int64_t pvc_hypercall(struct pvc *c, unsigned int vcpu, uint64_t op,
                      const uint64_t a[5]);

/* Safe copies of this process's own memory: 0 or -EFAULT. */
int pvc_peek(void *dst, uint64_t addr, size_t len);
/*
 * The same, but a read within the page this thread last read successfully is
 * a plain copy: for an argument block a library keeps in one place (the
 * privcmd ioctl's, on libxencall's stack).  Only a page unmapped since then
 * would fault instead of giving -EFAULT.
 */
int pvc_peek_cached(void *dst, uint64_t addr, size_t len);
int pvc_poke(uint64_t addr, const void *src, size_t len);
/* The same for a write: the page this thread last wrote successfully. */
int pvc_poke_cached(uint64_t addr, const void *src, size_t len);

#endif
