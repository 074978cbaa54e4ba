/* SPDX-License-Identifier: MIT */
/*
 * shim.c - libprocvisor-preload.so: emulates Xen's Linux device nodes for
 * unmodified, dynamically linked programs (reference/xen-userspace-abi.md
 * section 5 lists what must be hooked and why).
 *
 * Hooked: every open variant libc exports (libxenevtchn uses __open_2,
 * Python open64/openat), ioctl, close, dup2/dup3 (fd table coherence) and
 * fork (a child must not share its parent's hypervisor connections).
 * Each device descriptor is a real kernel fd: here, the socket of its own
 * connection to the hypervisor.
 */
/* define open/openat themselves, not their 64-bit redirections */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "shim.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

struct shim_real shim_real;

/*
 * The descriptor table.  Entries are published with release stores so the
 * hot path (ioctl/close on a non-device fd) is one acquire load; the lock
 * serialises changes to the table.
 */
static struct shim_dev *fd_table[SHIM_MAX_FD];
/* guards changes to fd_table */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;

/* this process's own connection: it makes the process known to the
 * hypervisor (and so part of its domain's life) */
static struct pvc proc_conn = {.fd = -1};

static const struct shim_node nodes[] = {
    {"/dev/xen/privcmd", SHIM_PRIVCMD, 0},
    {"/proc/xen/privcmd", SHIM_PRIVCMD, 0},
    /* libxencall tolerates ENOENT here and uses its own buffers */
    {"/dev/xen/hypercall", SHIM_NONE, ENOENT},
};

struct shim_dev *shim_dev(int fd)
{
    if (fd < 0 || fd >= SHIM_MAX_FD) {
        return NULL;
    }
    return __atomic_load_n(&fd_table[fd], __ATOMIC_ACQUIRE);
}

static void table_set(int fd, struct shim_dev *dev)
{
    __atomic_store_n(&fd_table[fd], dev, __ATOMIC_RELEASE);
}

static void dev_free(struct shim_dev *dev)
{
    /* the descriptor itself is closed (or replaced) by the caller */
    dev->conn.fd = -1;
    pvc_fini(&dev->conn);
    free(dev);
}

/* Forget fd as a device; its kernel descriptor is closed by the caller. */
static void table_drop(int fd)
{
    struct shim_dev *dev;

    if (fd < 0 || fd >= SHIM_MAX_FD) {
        return;
    }
    pthread_mutex_lock(&fd_lock);
    dev = fd_table[fd];
    table_set(fd, NULL);
    pthread_mutex_unlock(&fd_lock);
    if (dev) {
        dev_free(dev);
    }
}

static const struct shim_node *node_of(const char *path)
{
    if (!path) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        if (strcmp(path, nodes[i].path) == 0) {
            return &nodes[i];
        }
    }
    return NULL;
}

/* Open an emulated node: -1/errno like the kernel. */
static int node_open(const struct shim_node *n, int flags)
{
    struct shim_dev *dev;
    int rc;

    if (n->open_errno) {
        errno = n->open_errno;
        return -1;
    }
    dev = calloc(1, sizeof(*dev));
    if (!dev) {
        errno = ENOMEM;
        return -1;
    }
    dev->kind = n->kind;
    dev->restrict_domid = DOMID_INVALID;
    switch (n->kind) {
    case SHIM_PRIVCMD:
        rc = privcmd_open(dev);
        break;
    default:
        rc = -ENODEV;
    }
    if (rc < 0) {
        free(dev);
        /* no hypervisor reachable: as on a machine without Xen */
        errno = rc == -ECONNREFUSED || rc == -ESRCH ? ENOENT : -rc;
        return -1;
    }
    if (dev->conn.fd >= SHIM_MAX_FD) {
        shim_real.close(dev->conn.fd);
        dev->conn.fd = -1;
        dev_free(dev);
        errno = EMFILE;
        return -1;
    }
    if (!(flags & O_CLOEXEC)) {
        fcntl(dev->conn.fd, F_SETFD, 0);
    }
    pthread_mutex_lock(&fd_lock);
    table_set(dev->conn.fd, dev);
    pthread_mutex_unlock(&fd_lock);
    return dev->conn.fd;
}

static bool has_mode(int flags)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* The optional mode argument of the open family (flags is the last named
 * parameter of each). */
#define MODE_ARG(flags, mode)                                                  \
    do {                                                                       \
        if (has_mode(flags)) {                                                 \
            va_list ap_;                                                       \
            va_start(ap_, flags);                                              \
            (mode) = va_arg(ap_, mode_t);                                      \
            va_end(ap_);                                                       \
        }                                                                      \
    } while (0)

SHIM_EXPORT int open(const char *path, int flags, ...)
{
    const struct shim_node *n = node_of(path);
    mode_t mode = 0;

    if (n) {
        return node_open(n, flags);
    }
    MODE_ARG(flags, mode);
    return shim_real.open(path, flags, mode);
}

/* the fortified and 64-bit entry points libc also exports */
int open64(const char *path, int flags, ...);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int openat64(int dirfd, const char *path, int flags, ...);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

SHIM_EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;

    MODE_ARG(flags, mode);
    return open(path, flags | O_LARGEFILE, mode);
}

SHIM_EXPORT int __open_2(const char *path, int flags)
{
    return open(path, flags);
}

SHIM_EXPORT int __open64_2(const char *path, int flags)
{
    return open(path, flags);
}

SHIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    const struct shim_node *n = path[0] == '/' ? node_of(path) : NULL;
    mode_t mode = 0;

    if (n) {
        return node_open(n, flags);
    }
    MODE_ARG(flags, mode);
    return shim_real.openat(dirfd, path, flags, mode);
}

SHIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;

    MODE_ARG(flags, mode);
    return openat(dirfd, path, flags | O_LARGEFILE, mode);
}

SHIM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    return openat(dirfd, path, flags);
}

SHIM_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    return openat(dirfd, path, flags);
}

SHIM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
    struct shim_dev *dev = shim_dev(fd);
    va_list ap;
    void *arg;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (!dev) {
        return shim_real.ioctl(fd, req, arg);
    }
    switch (dev->kind) {
    case SHIM_PRIVCMD:
        return privcmd_ioctl(dev, req, arg);
    default:
        errno = ENOTTY;
        return -1;
    }
}

SHIM_EXPORT int close(int fd)
{
    if (shim_dev(fd)) {
        table_drop(fd);
    }
    return shim_real.close(fd);
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
    int r = shim_real.dup2(oldfd, newfd);

    /* newfd was replaced: it is no longer the device it was */
    if (r >= 0 && oldfd != newfd && shim_dev(newfd)) {
        table_drop(newfd);
    }
    return r;
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    int r = shim_real.dup3(oldfd, newfd, flags);

    if (r >= 0 && shim_dev(newfd)) {
        table_drop(newfd);
    }
    return r;
}

/* A new connection for this process, over the inherited token. */
static int connect_domain(struct pvc *c)
{
    int fd = pvc_domain_socket(), rc;

    if (fd < 0) {
        return fd;
    }
    rc = pvc_init(c, fd);
    if (rc) {
        shim_real.close(fd);
        c->fd = -1;
    }
    return rc;
}

/*
 * In a forked child, every device connection is the parent's: give each
 * its own, on the same descriptor number, before the child uses it.
 */
static void atfork_child(void)
{
    pthread_mutex_init(&fd_lock, NULL);
    if (proc_conn.fd >= 0) {
        shim_real.close(proc_conn.fd);
        free(proc_conn.buf);
        proc_conn.buf = NULL;
        proc_conn.fd = -1;
        connect_domain(&proc_conn);
    }
    for (int fd = 0; fd < SHIM_MAX_FD; fd++) {
        struct shim_dev *dev = fd_table[fd];
        struct pvc fresh;
        int flags;
        if (!dev) {
            continue;
        }
        flags = fcntl(fd, F_GETFD);
        if (connect_domain(&fresh) == 0 && shim_real.dup2(fresh.fd, fd) >= 0) {
            shim_real.close(fresh.fd);
            fcntl(fd, F_SETFD, flags);
            free(dev->conn.buf);
            dev->conn = fresh;
            dev->conn.fd = fd;
        } else {
            /* the device is gone in the child: its calls fail cleanly */
            free(dev->conn.buf);
            dev->conn.buf = NULL;
            pthread_mutex_init(&dev->conn.lock, NULL);
            int null = shim_real.open("/dev/null", O_RDWR);
            if (null >= 0) {
                shim_real.dup2(null, fd);
                shim_real.close(null);
            }
            fd_table[fd] = NULL;
            free(dev);
        }
    }
}

__attribute__((constructor)) static void shim_init(void)
{
    shim_real.open = dlsym(RTLD_NEXT, "open");
    shim_real.openat = dlsym(RTLD_NEXT, "openat");
    shim_real.close = dlsym(RTLD_NEXT, "close");
    shim_real.ioctl = dlsym(RTLD_NEXT, "ioctl");
    shim_real.dup2 = dlsym(RTLD_NEXT, "dup2");
    shim_real.dup3 = dlsym(RTLD_NEXT, "dup3");
    pthread_atfork(NULL, NULL, atfork_child);

    const char *tok = getenv(PV_ENV_FD);
    if (tok && *tok) {
        /* a domain's process: nobody else of this uid may ptrace it or read
         * its memory (DESIGN.md, security model) */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        connect_domain(&proc_conn);
    }
}
