/* SPDX-License-Identifier: MIT */
/*
 * client.c - connecting to procvisord and exchanging requests and replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "sock.h"

int pvc_runtime_dir(char *out, size_t n)
{
    const char *e = getenv(PV_ENV_DIR);
    int r;

    if (e && *e) {
        r = snprintf(out, n, "%s", e);
    } else if (geteuid() == 0) {
        r = snprintf(out, n, "/run/procvisor");
    } else if ((e = getenv("XDG_RUNTIME_DIR")) && *e) {
        r = snprintf(out, n, "%s/procvisor", e);
    } else {
        r = snprintf(out, n, "/tmp/procvisor-%u", (unsigned)geteuid());
    }
    return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

static int ctl_path(char *out, size_t n)
{
    char dir[256];
    struct stat st;
    int rc = pvc_runtime_dir(dir, sizeof(dir));

    if (rc) {
        return rc;
    }
    /* only a directory of ours (or root's) that nobody else may write:
     * anything else could hold someone else's socket */
    if (lstat(dir, &st) == 0 &&
        (!S_ISDIR(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0) ||
         (st.st_mode & 0022))) {
        return -EPERM;
    }
    return snprintf(out, n, "%s/ctl.sock", dir) >= (int)n ? -ENAMETOOLONG : 0;
}

int pvc_init(struct pvc *c, int fd)
{
    struct pv_hello_req req = {.version = PV_PROTO_VERSION};
    struct pv_hello_rep rep;
    size_t got = 0;
    int64_t r;

    memset(c, 0, sizeof(*c));
    c->fd = fd;
    pthread_mutex_init(&c->lock, NULL);
    c->buf = malloc(PV_MSG_MAX + 1);
    if (!c->buf) {
        return -ENOMEM;
    }
    r = pvc_call(c, PV_MSG_HELLO, &req, sizeof(req), &rep, sizeof(rep), &got,
                 NULL);
    if (r < 0) {
        free(c->buf);
        c->buf = NULL;
        return (int)r;
    }
    if (got != sizeof(rep)) {
        free(c->buf);
        c->buf = NULL;
        return -EPROTO;
    }
    c->domid = rep.domid;
    c->max_vcpus = rep.max_vcpus;
    c->control = (rep.flags & PV_HELLO_CONTROL) != 0;
    return 0;
}

void pvc_fini(struct pvc *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    pthread_mutex_destroy(&c->lock);
}

int pvc_domain_socket(void)
{
    const char *tok = getenv(PV_ENV_FD);
    char path[300];
    int sv[2], rc;

    if (!tok || !*tok) {
        rc = ctl_path(path, sizeof(path));
        return rc ? rc : pv_connect_path(path);
    }
    char *end;
    long t = strtol(tok, &end, 10);
    if (*end || t < 0 || t > 65535) {
        return -EBADF;
    }
    /* The number may have been closed and reused by the program: speak
     * only to a SEQPACKET socket made by a daemon of ours (root's or this
     * user's), never hand a descriptor to anything else. */
    int type = 0;
    struct ucred cr;
    socklen_t sl = sizeof(type), cl = sizeof(cr);
    if (getsockopt((int)t, SOL_SOCKET, SO_TYPE, &type, &sl) < 0 ||
        type != SOCK_SEQPACKET ||
        getsockopt((int)t, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0 ||
        (cr.uid != 0 && cr.uid != geteuid())) {
        return -EBADF;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        return -errno;
    }
    struct pv_hdr h;
    pv_hdr_init(&h, PV_MSG_ATTACH, 0, 0, 0);
    struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};
    rc = pv_send((int)t, &iov, 1, &sv[1], 1, 0);
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        return rc == -EPIPE || rc == -ECONNRESET ? -ESRCH : rc;
    }
    return sv[0];
}

static int spawn_daemon(const char *exe, bool verbose)
{
    pid_t pid = fork();

    if (pid < 0) {
        return -errno;
    }
    if (pid == 0) {
        /* detach: a new session, no terminal, then the daemon itself */
        if (fork() != 0) {
            _exit(0);
        }
        setsid();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            if (!verbose) {
                dup2(null, 2);
            }
        }
        execl(exe, exe, "daemon", verbose ? "-v" : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    waitpid(pid, NULL, 0);
    return 0;
}

int pvc_control_socket(bool start, const char *exe, bool verbose)
{
    char path[300];
    int rc = ctl_path(path, sizeof(path)), fd;

    if (rc) {
        return rc;
    }
    fd = pv_connect_path(path);
    if (fd >= 0 || !start || (fd != -ENOENT && fd != -ECONNREFUSED)) {
        return fd;
    }
    rc = spawn_daemon(exe, verbose);
    if (rc) {
        return rc;
    }
    /* the daemon calibrates its clock (about 100 ms) before it listens */
    for (int i = 0; i < 500; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        fd = pv_connect_path(path);
        if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED)) {
            return fd;
        }
    }
    return -ETIMEDOUT;
}

int64_t pvc_call(struct pvc *c, uint16_t type, const void *req, size_t len,
                 void *rep, size_t cap, size_t *rep_len, int *fd_out)
{
    int n = fd_out ? 1 : 0;

    if (fd_out) {
        *fd_out = -1;
    }
    return pvc_call_fds(c, type, req, len, rep, cap, rep_len, fd_out, &n);
}

int pvc_post(struct pvc *c, uint16_t type, const void *req, size_t len)
{
    struct pv_hdr h;
    uint8_t one[sizeof(h) + 256];
    struct iovec iov[2];
    int rc;

    if (len > PV_PAYLOAD_MAX) {
        return -E2BIG;
    }
    pthread_mutex_lock(&c->lock);
    pv_hdr_init(&h, type, PV_F_NOREPLY, (uint32_t)len, ++c->seq);
    if (len <= sizeof(one) - sizeof(h)) {
        /* one contiguous datagram: send() is cheaper than sendmsg() */
        memcpy(one, &h, sizeof(h));
        memcpy(one + sizeof(h), req, len);
        iov[0].iov_base = one;
        iov[0].iov_len = sizeof(h) + len;
        rc = pv_send(c->fd, iov, 1, NULL, 0, 0);
    } else {
        iov[0].iov_base = &h;
        iov[0].iov_len = sizeof(h);
        iov[1].iov_base = (void *)req;
        iov[1].iov_len = len;
        rc = pv_send(c->fd, iov, 2, NULL, 0, 0);
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static int64_t call(struct pvc *c, uint16_t type, const void *req, size_t len,
                    const int *fds_in, int nfds_in, void *rep, size_t cap,
                    size_t *rep_len, int *fds_out, int *nfds_out)
{
    int want = nfds_out ? *nfds_out : 0;

    if (nfds_out) {
        *nfds_out = 0; /* none unless received */
    }
    struct pv_hdr h, rh;
    struct iovec iov[2];
    int fds[PV_FDS_MAX], nfds;
    int64_t ret;
    long n;
    int rc;

    if (len > PV_PAYLOAD_MAX) {
        return -E2BIG;
    }
    pthread_mutex_lock(&c->lock);
    pv_hdr_init(&h, type, 0, (uint32_t)len, ++c->seq);
    iov[0].iov_base = &h;
    iov[0].iov_len = sizeof(h);
    iov[1].iov_base = (void *)req;
    iov[1].iov_len = len;
    rc = pv_send(c->fd, iov, len ? 2 : 1, fds_in, nfds_in, 0);
    if (rc) {
        pthread_mutex_unlock(&c->lock);
        return rc;
    }
    nfds = PV_FDS_MAX;
    n = pv_recv(c->fd, c->buf, PV_MSG_MAX + 1, fds, &nfds, 0);
    if (n <= 0) {
        pthread_mutex_unlock(&c->lock);
        return n == 0 ? -ECONNRESET : n;
    }
    rc = pv_hdr_check(c->buf, (size_t)n, &rh);
    if (rc || rh.type != type || rh.seq != h.seq || !(rh.flags & PV_F_REPLY) ||
        rh.len < sizeof(struct pv_rep)) {
        for (int i = 0; i < nfds; i++) {
            close(fds[i]);
        }
        pthread_mutex_unlock(&c->lock);
        return -EPROTO;
    }
    memcpy(&ret, c->buf + sizeof(rh), sizeof(ret));
    if (rep) {
        size_t m = rh.len < cap ? rh.len : cap;
        memcpy(rep, c->buf + sizeof(rh), m);
        if (rep_len) {
            *rep_len = m;
        }
    }
    for (int i = 0; i < nfds; i++) {
        if (i < want) {
            fds_out[i] = fds[i];
        } else {
            close(fds[i]);
        }
    }
    if (nfds_out) {
        *nfds_out = nfds < want ? nfds : want;
    }
    pthread_mutex_unlock(&c->lock);
    return ret;
}

int64_t pvc_call_fds(struct pvc *c, uint16_t type, const void *req, size_t len,
                     void *rep, size_t cap, size_t *rep_len, int *fds_out,
                     int *nfds_out)
{
    return call(c, type, req, len, NULL, 0, rep, cap, rep_len, fds_out,
                nfds_out);
}

int64_t pvc_call_full(struct pvc *c, uint16_t type, const void *req, size_t len,
                      const int *fds_in, int nfds_in, void *rep, size_t cap,
                      size_t *rep_len, int *fds_out, int *nfds_out)
{
    return call(c, type, req, len, fds_in, nfds_in, rep, cap, rep_len, fds_out,
                nfds_out);
}

int64_t pvc_call_give(struct pvc *c, uint16_t type, int fd)
{
    return call(c, type, NULL, 0, &fd, 1, NULL, 0, NULL, NULL, NULL);
}

/* getpid() is a system call; the pid changes only across fork */
static pid_t self_pid;

static void pid_reset(void)
{
    self_pid = getpid();
}

static pid_t my_pid(void)
{
    return self_pid ? self_pid : (self_pid = getpid());
}

__attribute__((constructor)) static void pid_init(void)
{
    pid_reset();
    pthread_atfork(NULL, NULL, pid_reset);
}

int pvc_peek(void *dst, uint64_t addr, size_t len)
{
    struct iovec l = {.iov_base = dst, .iov_len = len};
    struct iovec r = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

    if (len == 0) {
        return 0;
    }
    return process_vm_readv(my_pid(), &l, 1, &r, 1, 0) == (ssize_t)len
               ? 0
               : -EFAULT;
}

/*
 * The pages a checked copy last found usable, per thread and direction: a
 * range within them is copied plainly.  Two, because an argument block on
 * the stack may cross a page boundary.
 */
struct page_cache {
    uint64_t page[2];
};
static __thread struct page_cache peek_ok = {{1, 1}};
static __thread struct page_cache poke_ok = {{1, 1}};

static bool cache_has(const struct page_cache *pc, uint64_t addr, size_t len)
{
    uint64_t first = addr & ~4095ull, last = (addr + len - 1) & ~4095ull;

    return len && addr + len > addr &&
           (first == pc->page[0] || first == pc->page[1]) &&
           (last == pc->page[0] || last == pc->page[1]);
}

static void cache_put(struct page_cache *pc, uint64_t addr, size_t len)
{
    uint64_t first = addr & ~4095ull, last = (addr + len - 1) & ~4095ull;

    if (len && last - first <= 4096) {
        pc->page[0] = first;
        pc->page[1] = last;
    }
}

int pvc_peek_cached(void *dst, uint64_t addr, size_t len)
{
    int rc;

    if (cache_has(&peek_ok, addr, len)) {
        memcpy(dst, (const void *)(uintptr_t)addr, len);
        return 0;
    }
    rc = pvc_peek(dst, addr, len);
    if (rc == 0) {
        cache_put(&peek_ok, addr, len);
    }
    return rc;
}

int pvc_poke_cached(uint64_t addr, const void *src, size_t len)
{
    int rc;

    if (cache_has(&poke_ok, addr, len)) {
        memcpy((void *)(uintptr_t)addr, src, len);
        return 0;
    }
    rc = pvc_poke(addr, src, len);
    if (rc == 0) {
        cache_put(&poke_ok, addr, len);
    }
    return rc;
}

int pvc_poke(uint64_t addr, const void *src, size_t len)
{
    struct iovec l = {.iov_base = (void *)src, .iov_len = len};
    struct iovec r = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

    if (len == 0) {
        return 0;
    }
    return process_vm_writev(my_pid(), &l, 1, &r, 1, 0) == (ssize_t)len
               ? 0
               : -EFAULT;
}
