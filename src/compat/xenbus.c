/* SPDX-License-Identifier: MIT */
/*
 * xenbus.c - the way a domU process's libxenstore reaches the store.
 *
 * libxenstore's xs_open() stat()s the socket path ($XENSTORED_PATH, else
 * $XENSTORED_RUNDIR/socket, default /var/run/xenstored/socket), and for a
 * socket makes an AF_UNIX SOCK_STREAM socket and connect()s it
 * (reference/xen-userspace-abi.md 2.4).  In a domU process both calls are
 * answered here for those paths, whether or not anything exists there:
 * stat() reports a socket, and connect() makes a socketpair, hands one end
 * to the hypervisor with XS_ATTACH over a fresh connection of this
 * process's domain, and puts the other end on the caller's descriptor.
 * The store then speaks to it as that domain, unprivileged, on a real
 * kernel socket: libxenstore's reader thread, poll and fork work as with
 * xenstored.  dom0 processes are left alone: their XENSTORED_PATH is the
 * store's real socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

bool xenbus_is_store_path(const char *path)
{
    const char *e;
    char buf[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];

    if (!path || !shim_in_domu()) {
        return false;
    }
    e = getenv("XENSTORED_PATH");
    if (e && *e) {
        return strcmp(path, e) == 0;
    }
    e = getenv("XENSTORED_RUNDIR");
    if (e && *e) {
        return snprintf(buf, sizeof(buf), "%s/socket", e) < (int)sizeof(buf) &&
               strcmp(path, buf) == 0;
    }
    return strcmp(path, "/var/run/xenstored/socket") == 0 ||
           strcmp(path, "/run/xenstored/socket") == 0;
}

bool xenbus_is_store_addr(const struct sockaddr *sa, socklen_t len)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
    size_t off = offsetof(struct sockaddr_un, sun_path), n;
    char path[sizeof(un->sun_path) + 1];

    if (!sa || len <= (socklen_t)off || sa->sa_family != AF_UNIX) {
        return false;
    }
    n = (size_t)len - off;
    if (n > sizeof(un->sun_path)) {
        n = sizeof(un->sun_path);
    }
    memcpy(path, un->sun_path, n);
    path[n] = '\0'; /* an abstract name starts with NUL: never ours */
    return xenbus_is_store_path(path);
}

int xenbus_stat(struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_mode = S_IFSOCK | 0600;
    st->st_nlink = 1;
    st->st_uid = getuid();
    st->st_gid = getgid();
    st->st_blksize = 4096;
    return 0;
}

int xenbus_connect(int fd)
{
    struct pvc c;
    int sv[2], type = 0, fdflags, flags, e;
    socklen_t sl = sizeof(type);
    int64_t rc;

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) < 0) {
        return -1;
    }
    if (type != SOCK_STREAM) {
        errno = EPROTOTYPE;
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        return -1;
    }
    rc = shim_connect_domain(&c);
    if (rc == 0) {
        rc = pvc_call_give(&c, PV_MSG_XS_ATTACH, sv[1]);
        pvc_fini(&c); /* the store connection holds the domain now */
    }
    shim_real.close(sv[1]);
    if (rc < 0) {
        shim_real.close(sv[0]);
        /* as when no xenstored listens, unless out of resources */
        errno = rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM ? (int)-rc
                                                                : ECONNREFUSED;
        return -1;
    }
    /* the caller's descriptor becomes our end, keeping its flags */
    fdflags = shim_real.fcntl(fd, F_GETFD);
    flags = shim_real.fcntl(fd, F_GETFL);
    if (shim_real.dup3(sv[0], fd,
                       fdflags >= 0 && (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) <
        0) {
        e = errno;
        shim_real.close(sv[0]);
        errno = e;
        return -1;
    }
    shim_real.close(sv[0]);
    if (flags >= 0 && (flags & O_NONBLOCK)) {
        shim_real.fcntl(fd, F_SETFL, O_NONBLOCK);
    }
    return 0;
}
