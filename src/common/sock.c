/* SPDX-License-Identifier: MIT */
/*
 * sock.c - datagram send/receive with descriptor passing.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"

int pv_send(int sock, const struct iovec *iov, int iovcnt, const int *fds,
            int nfds, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * PV_FDS_MAX)];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {
        .msg_iov = (struct iovec *)iov,
        .msg_iovlen = (size_t)iovcnt,
    };

    if (nfds < 0 || nfds > PV_FDS_MAX) {
        return -EINVAL;
    }
    if (nfds == 0 && iovcnt == 1) {
        /* the common case, without sendmsg's header copies */
        for (;;) {
            if (send(sock, iov[0].iov_base, iov[0].iov_len,
                     MSG_NOSIGNAL | flags) >= 0) {
                return 0;
            }
            if (errno != EINTR) {
                return -errno;
            }
        }
    }
    if (nfds > 0) {
        memset(&u, 0, sizeof(u));
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    for (;;) {
        ssize_t r = sendmsg(sock, &mh, MSG_NOSIGNAL | flags);
        if (r >= 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -errno;
        }
    }
}

long pv_recv(int sock, void *buf, size_t cap, int *fds, int *nfds, int flags)
{
    return pv_recv_cred(sock, buf, cap, fds, nfds, flags, NULL);
}

long pv_recv_cred(int sock, void *buf, size_t cap, int *fds, int *nfds,
                  int flags, struct ucred *cred)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * PV_FDS_MAX) +
                 CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = u.buf,
        .msg_controllen = sizeof(u.buf),
    };
    int want = nfds ? *nfds : 0;
    int got = 0;
    ssize_t r;

    if (nfds) {
        *nfds = 0; /* whatever happens, no descriptor unless received */
    }
    if (cred) {
        cred->pid = 0; /* none unless the kernel attached them */
        cred->uid = cred->gid = (uid_t)-1;
    }

    if (!fds) {
        /* no descriptors wanted: any that arrive are discarded by the
         * kernel (no control buffer); MSG_TRUNC reports the real size */
        do {
            r = recv(sock, buf, cap, MSG_TRUNC | flags);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            return -errno;
        }
        return (size_t)r > cap ? -EMSGSIZE : (long)r;
    }

    do {
        r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return -errno;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            cred && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
            memcpy(cred, CMSG_DATA(c), sizeof(*cred));
            continue;
        }
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (got < want && !(mh.msg_flags & MSG_TRUNC)) {
                fds[got++] = fd;
            } else {
                close(fd);
            }
        }
    }
    if (nfds) {
        *nfds = got;
    }
    if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        for (int i = 0; i < got; i++) {
            close(fds[i]);
        }
        if (nfds) {
            *nfds = 0;
        }
        return -EMSGSIZE;
    }
    return (long)r;
}

void pv_kick(int wr)
{
    char one = 1;
    struct iovec iov = {.iov_base = &one, .iov_len = 1};

    (void)!pwritev2(wr, &iov, 1, -1, RWF_NOWAIT); /* EAGAIN: signalled */
}

int pv_connect_path(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}
