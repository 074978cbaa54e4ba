/* SPDX-License-Identifier: MIT */
/*
 * sock.h - datagram send/receive with descriptor passing.
 */
#ifndef PROCVISOR_SOCK_H
#define PROCVISOR_SOCK_H

#include <stddef.h>
#include <sys/uio.h>

#define PV_FDS_MAX 64

/*
 * Send one datagram gathered from iov, with up to PV_FDS_MAX descriptors;
 * flags are added to send's (the daemon passes MSG_DONTWAIT: it never
 * blocks on a peer).  Returns 0 or -errno.  Retries EINTR.
 */
int pv_send(int sock, const struct iovec *iov, int iovcnt, const int *fds,
            int nfds, int flags);

/*
 * Receive one datagram into buf.  Descriptors beyond *nfds, and any on a
 * truncated datagram, are closed; with fds NULL, any are discarded.  Returns
 * the byte count (0 = peer closed) or -errno; -EMSGSIZE for a datagram larger
 * than cap.
 */
long pv_recv(int sock, void *buf, size_t cap, int *fds, int *nfds, int flags);

/* The same, also returning the sender's credentials when the socket has
 * SO_PASSCRED (pid 0 when none came). */
struct ucred;
long pv_recv_cred(int sock, void *buf, size_t cap, int *fds, int *nfds,
                  int flags, struct ucred *cred);

/* Signal a wake-up pipe: one byte with RWF_NOWAIT, which never blocks
 * whatever anyone did to the descriptor's flags; a full pipe is signalled
 * already. */
void pv_kick(int wr);

/* Connect a SOCK_SEQPACKET socket to path.  Returns the fd or -errno. */
int pv_connect_path(const char *path);

#endif
