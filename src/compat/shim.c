/* SPDX-License-Identifier: MIT */
/*
 * shim.c - libprocvisor-preload.so: emulates Xen's Linux device nodes for
 * unmodified, dynamically linked programs (reference/xen-userspace-abi.md
 * section 5 lists what must be hooked and why).
 *
 * Hooked: every open variant libc exports (libxenevtchn uses __open_2,
 * Python open64/openat), ioctl, close, dup2/dup3 (fd table coherence),
 * fork (a child must not share its parent's hypervisor connections), and
 * connect and stat for libxenstore in a domU (xenbus.c).  For VFIO
 * (vfio.c): the pread/pwrite family and mmap on device descriptors, and
 * fopen, readlink, lstat, access and the directory calls, for the sysfs
 * paths a VFIO program reads; a path that is not under /dev/vfio/ or
 * /sys/bus/pci/devices costs them a few compares.
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
#include <linux/close_range.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

struct shim_real shim_real;

/* libc's function, resolved now if a hook runs before our constructor */
static void *real_sym(void **slot, const char *name)
{
    if (!*slot) {
        *slot = dlsym(RTLD_NEXT, name);
    }
    return *slot;
}
#define REAL(fn)                                                               \
    ((__typeof__(shim_real.fn))real_sym((void **)&shim_real.fn, #fn))

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
/* set once by the constructor: a process of a domain, and of dom0 */
static bool in_domain, in_dom0;

static const struct shim_node nodes[] = {
    {"/dev/xen/privcmd", SHIM_PRIVCMD, 0},
    {"/dev/xen/evtchn", SHIM_EVTCHN, 0},
    {"/dev/xen/gntalloc", SHIM_GNTALLOC, 0},
    {"/dev/xen/gntdev", SHIM_GNTDEV, 0},
    {"/proc/xen/privcmd", SHIM_PRIVCMD, 0},
    /* libxencall tolerates ENOENT here and uses its own buffers */
    {"/dev/xen/hypercall", SHIM_NONE, ENOENT},
};

/* Whether fd is a device: the hot path's one load. */
static bool is_dev(int fd)
{
    return fd >= 0 && fd < SHIM_MAX_FD &&
           __atomic_load_n(&fd_table[fd], __ATOMIC_ACQUIRE) != NULL;
}

struct shim_dev *shim_dev_get(int fd)
{
    struct shim_dev *dev;

    if (!is_dev(fd)) {
        return NULL;
    }
    pthread_mutex_lock(&fd_lock);
    dev = fd_table[fd];
    if (dev) {
        __atomic_add_fetch(&dev->refs, 1, __ATOMIC_ACQ_REL);
    }
    pthread_mutex_unlock(&fd_lock);
    return dev;
}

static void table_set(int fd, struct shim_dev *dev)
{
    __atomic_store_n(&fd_table[fd], dev, __ATOMIC_RELEASE);
}

static void dev_free(struct shim_dev *dev);

static bool is_vfio(const struct shim_dev *dev)
{
    return dev->kind == SHIM_VFIO_CONTAINER || dev->kind == SHIM_VFIO_GROUP ||
           dev->kind == SHIM_VFIO_DEVICE;
}

int shim_dev_install(struct shim_dev *dev)
{
    if (dev->fd < 0 || dev->fd >= SHIM_MAX_FD) {
        return -EMFILE;
    }
    pthread_mutex_lock(&fd_lock);
    table_set(dev->fd, dev);
    pthread_mutex_unlock(&fd_lock);
    return dev->fd;
}

void shim_dev_put(struct shim_dev *dev)
{
    if (__atomic_sub_fetch(&dev->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        dev_free(dev);
    }
}

static void dev_free(struct shim_dev *dev)
{
    /* the program's descriptor is closed (or replaced) by the caller; the
     * device's own connection, if separate, goes here */
    if (dev->kind == SHIM_EVTCHN) {
        evtchn_release(dev);
    } else if (dev->kind == SHIM_GNTALLOC || dev->kind == SHIM_GNTDEV) {
        grant_release(dev); /* the connection closes below */
    } else if (is_vfio(dev)) {
        vfio_release(dev); /* a device's own connection closes below */
    } else {
        dev->conn.fd = -1;
    }
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
        grant_fd_closed(dev);
        shim_dev_put(dev); /* the table's reference */
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
    dev->refs = 1;
    dev->restrict_domid = DOMID_INVALID;
    switch (n->kind) {
    case SHIM_PRIVCMD:
        rc = privcmd_open(dev);
        break;
    case SHIM_EVTCHN:
        rc = evtchn_open(dev, flags);
        break;
    case SHIM_GNTALLOC:
    case SHIM_GNTDEV:
        rc = grant_open(dev, flags);
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
    if (dev->fd >= SHIM_MAX_FD) {
        int fd = dev->fd;
        dev_free(dev);
        shim_real.close(fd);
        errno = EMFILE;
        return -1;
    }
    if (!(flags & O_CLOEXEC) && dev->kind == SHIM_PRIVCMD) {
        shim_real.fcntl(dev->fd, F_SETFD, 0);
    }
    pthread_mutex_lock(&fd_lock);
    table_set(dev->fd, dev);
    pthread_mutex_unlock(&fd_lock);
    return dev->fd;
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
    if (vfio_path(path)) {
        bool mine;
        int r = vfio_open(path, flags, &mine);
        if (mine) {
            return r;
        }
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
    if (vfio_path(path)) {
        bool mine;
        int r = vfio_open(path, flags, &mine);
        if (mine) {
            return r;
        }
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
    struct shim_dev *dev;
    va_list ap;
    void *arg;
    int r;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    dev = shim_dev_get(fd);
    if (!dev) {
        return shim_real.ioctl(fd, req, arg);
    }
    switch (dev->kind) {
    case SHIM_PRIVCMD:
        r = privcmd_ioctl(dev, req, arg);
        break;
    case SHIM_EVTCHN:
        r = evtchn_ioctl(dev, req, arg);
        break;
    case SHIM_GNTALLOC:
    case SHIM_GNTDEV:
        r = grant_ioctl(dev, req, arg);
        break;
    case SHIM_VFIO_CONTAINER:
    case SHIM_VFIO_GROUP:
    case SHIM_VFIO_DEVICE:
        r = vfio_ioctl(dev, req, arg);
        break;
    default:
        errno = ENOTTY;
        r = -1;
    }
    shim_dev_put(dev);
    return r;
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t count)
{
    struct shim_dev *dev = shim_dev_get(fd);
    ssize_t r;

    if (!dev) {
        return shim_real.read(fd, buf, count);
    }
    if (dev->kind == SHIM_EVTCHN) {
        r = evtchn_read(dev, buf, count);
    } else if (is_vfio(dev)) {
        /* the descriptor is a connection: reading it would steal its
         * replies (regions are read with pread) */
        errno = EINVAL;
        r = -1;
    } else {
        r = shim_real.read(fd, buf, count);
    }
    shim_dev_put(dev);
    return r;
}

ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
    if (count > buflen) {
        abort(); /* what glibc's fortified read does */
    }
    return read(fd, buf, count);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t count)
{
    struct shim_dev *dev = shim_dev_get(fd);
    ssize_t r;

    if (!dev) {
        return shim_real.write(fd, buf, count);
    }
    if (dev->kind == SHIM_EVTCHN) {
        r = evtchn_write(dev, buf, count);
    } else if (is_vfio(dev)) {
        errno = EINVAL;
        r = -1;
    } else {
        r = shim_real.write(fd, buf, count);
    }
    shim_dev_put(dev);
    return r;
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
    struct shim_dev *dev;
    va_list ap;
    void *arg;
    int r;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    r = shim_real.fcntl(fd, cmd, arg);
    /* the device's read honours O_NONBLOCK set after open */
    if (r >= 0 && cmd == F_SETFL && (dev = shim_dev_get(fd))) {
        if (dev->kind == SHIM_EVTCHN) {
            evtchn_set_nonblock(dev, ((intptr_t)arg & O_NONBLOCK) != 0);
        }
        shim_dev_put(dev);
    }
    return r;
}

int fcntl64(int fd, int cmd, ...);

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl(fd, cmd, arg);
}

/* Before our constructor ran (the dynamic loader and a preloaded ASan map
 * memory early), straight to the kernel. */
static void *real_mmap(void *addr, size_t len, int prot, int flags, int fd,
                       off_t off)
{
    if (!shim_real.mmap) {
        return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    }
    return shim_real.mmap(addr, len, prot, flags, fd, off);
}

static int real_munmap(void *addr, size_t len)
{
    if (!shim_real.munmap) {
        return (int)syscall(SYS_munmap, addr, len);
    }
    return shim_real.munmap(addr, len);
}

/*
 * Memory: a grant device's mmap is the driver's; munmap (and a MAP_FIXED
 * mapping over a grant) releases what Linux releases when a grant VMA
 * goes.  Any other call costs one load.
 */
SHIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
                       off_t off)
{
    struct shim_dev *dev = shim_dev_get(fd);
    void *r;

    if (dev) {
        if (dev->kind == SHIM_GNTALLOC || dev->kind == SHIM_GNTDEV) {
            r = grant_mmap(dev, addr, len, prot, flags, off);
        } else if (is_vfio(dev)) {
            r = vfio_mmap(dev, addr, len, prot, flags, off);
            if (r != MAP_FAILED && (flags & MAP_FIXED) && grant_maps_any()) {
                grant_replaced(r, len);
            }
        } else {
            r = shim_real.mmap(addr, len, prot, flags, fd, off);
        }
        shim_dev_put(dev);
        return r;
    }
    r = real_mmap(addr, len, prot, flags, fd, off);
    if (r != MAP_FAILED && (flags & MAP_FIXED) && grant_maps_any()) {
        grant_replaced(r, len);
    }
    return r;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);

SHIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
                         off_t off)
{
    return mmap(addr, len, prot, flags, fd, off);
}

SHIM_EXPORT int munmap(void *addr, size_t len)
{
    if (!grant_maps_any()) {
        return real_munmap(addr, len);
    }
    return grant_munmap(addr, len);
}

/* Grant mappings cannot move or grow (VM_DONTEXPAND); others pass. */
SHIM_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags,
                         ...)
{
    void *new_addr = NULL;
    va_list ap;

    if (flags & MREMAP_FIXED) {
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    if (grant_maps_any() &&
        (grant_overlaps(old, old_len ? old_len : 1) ||
         ((flags & MREMAP_FIXED) && grant_overlaps(new_addr, new_len)))) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    if (!shim_real.mremap) {
        return (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
                               new_addr);
    }
    return shim_real.mremap(old, old_len, new_len, flags, new_addr);
}

/* Before a VFIO descriptor closes: its object is released when close
 * returns, as in Linux (vfio.c). */
static void vfio_closing(int fd)
{
    struct shim_dev *dev = shim_dev_get(fd);

    if (dev) {
        if (is_vfio(dev)) {
            vfio_fd_closing(dev);
        }
        shim_dev_put(dev);
    }
}

SHIM_EXPORT int close(int fd)
{
    if (is_dev(fd)) {
        vfio_closing(fd);
        table_drop(fd);
    }
    return shim_real.close(fd);
}

/* Closing many at once must forget the devices among them too. */
static void drop_range(unsigned int first, unsigned int last)
{
    for (unsigned int fd = first; fd <= last && fd < SHIM_MAX_FD; fd++) {
        if (is_dev((int)fd)) {
            table_drop((int)fd);
        }
    }
}

int close_range(unsigned int first, unsigned int last, int flags);
void closefrom(int lowfd);

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
    int r;

    for (unsigned int fd = first;
         !(flags & CLOSE_RANGE_CLOEXEC) && fd <= last && fd < SHIM_MAX_FD;
         fd++) {
        if (is_dev((int)fd)) {
            vfio_closing((int)fd);
        }
    }
    r = shim_real.close_range(first, last, flags);

    if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC)) {
        drop_range(first, last);
    }
    return r;
}

SHIM_EXPORT void closefrom(int lowfd)
{
    for (int fd = lowfd < 0 ? 0 : lowfd; fd < SHIM_MAX_FD; fd++) {
        if (is_dev(fd)) {
            vfio_closing(fd);
        }
    }
    shim_real.closefrom(lowfd);
    if (lowfd >= 0) {
        drop_range((unsigned int)lowfd, SHIM_MAX_FD - 1);
    }
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
    int r = shim_real.dup2(oldfd, newfd);

    /* newfd was replaced: it is no longer the device it was */
    if (r >= 0 && oldfd != newfd && is_dev(newfd)) {
        table_drop(newfd);
    }
    return r;
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    int r = shim_real.dup3(oldfd, newfd, flags);

    if (r >= 0 && is_dev(newfd)) {
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

int shim_connect_domain(struct pvc *c)
{
    return connect_domain(c);
}

bool shim_in_domu(void)
{
    return in_domain && !in_dom0;
}

/*
 * libxenstore in a domU (xenbus.c): connecting to the store's socket
 * attaches to the store as the domain; stat() of that path finds a socket.
 */
#if defined(__USE_GNU) && !defined(__cplusplus)
#define SOCKADDR_PTR(a) ((a).__sockaddr__)
#else
#define SOCKADDR_PTR(a) (a)
#endif

SHIM_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    const struct sockaddr *sa = SOCKADDR_PTR(addr);

    if (in_domain && xenbus_is_store_addr(sa, len)) {
        return xenbus_connect(fd);
    }
    if (!shim_real.connect) {
        /* before our constructor ran */
        return (int)syscall(SYS_connect, fd, sa, len);
    }
    return shim_real.connect(fd, sa, len);
}

SHIM_EXPORT int stat(const char *path, struct stat *st)
{
    if (in_domain && xenbus_is_store_path(path)) {
        return xenbus_stat(st);
    }
    if (vfio_path(path)) {
        bool mine;
        int r = vfio_stat(path, st, true, &mine);
        if (mine) {
            return r;
        }
    }
    if (!shim_real.stat) {
        return fstatat(AT_FDCWD, path, st, 0); /* a glibc before 2.33 */
    }
    return shim_real.stat(path, st);
}

int stat64(const char *path, struct stat64 *st);

SHIM_EXPORT int stat64(const char *path, struct stat64 *st)
{
    _Static_assert(sizeof(struct stat64) == sizeof(struct stat),
                   "stat64 is stat on this ABI");
    return stat(path, (struct stat *)st);
}

SHIM_EXPORT int lstat(const char *path, struct stat *st)
{
    if (vfio_path(path)) {
        bool mine;
        int r = vfio_stat(path, st, false, &mine);
        if (mine) {
            return r;
        }
    }
    if (!shim_real.lstat) {
        return fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
    }
    return shim_real.lstat(path, st);
}

int lstat64(const char *path, struct stat64 *st);

SHIM_EXPORT int lstat64(const char *path, struct stat64 *st)
{
    return lstat(path, (struct stat *)st);
}

SHIM_EXPORT int access(const char *path, int mode)
{
    if (vfio_path(path)) {
        bool mine;
        int r = vfio_access(path, mode, &mine);
        if (mine) {
            return r;
        }
    }
    if (!shim_real.access) {
        return faccessat(AT_FDCWD, path, mode, 0);
    }
    return shim_real.access(path, mode);
}

/* ---- VFIO devices: region access at offsets, as vfio-pci's ---- */

SHIM_EXPORT ssize_t pread(int fd, void *buf, size_t count, off_t off)
{
    struct shim_dev *dev = shim_dev_get(fd);
    ssize_t r;

    if (!dev) {
        return REAL(pread)(fd, buf, count, off);
    }
    r = is_vfio(dev) ? vfio_pread(dev, buf, count, off)
                     : REAL(pread)(fd, buf, count, off);
    shim_dev_put(dev);
    return r;
}

SHIM_EXPORT ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
    struct shim_dev *dev = shim_dev_get(fd);
    ssize_t r;

    if (!dev) {
        return REAL(pwrite)(fd, buf, count, off);
    }
    r = is_vfio(dev) ? vfio_pwrite(dev, buf, count, off)
                     : REAL(pwrite)(fd, buf, count, off);
    shim_dev_put(dev);
    return r;
}

_Static_assert(sizeof(off_t) == sizeof(off64_t), "off64_t is off_t");

SHIM_EXPORT ssize_t pread64(int fd, void *buf, size_t count, off64_t off)
{
    return pread(fd, buf, count, off);
}

SHIM_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t off)
{
    return pwrite(fd, buf, count, off);
}

ssize_t __pread_chk(int fd, void *buf, size_t count, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t off,
                      size_t buflen);

SHIM_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t count, off_t off,
                                size_t buflen)
{
    if (count > buflen) {
        abort(); /* what glibc's fortified pread does */
    }
    return pread(fd, buf, count, off);
}

SHIM_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t count, off64_t off,
                                  size_t buflen)
{
    return __pread_chk(fd, buf, count, off, buflen);
}

SHIM_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int iovcnt,
                           off_t off)
{
    struct shim_dev *dev = shim_dev_get(fd);
    ssize_t r;

    if (!dev) {
        return REAL(preadv)(fd, iov, iovcnt, off);
    }
    r = is_vfio(dev) ? vfio_prwv(dev, false, iov, iovcnt, off)
                     : REAL(preadv)(fd, iov, iovcnt, off);
    shim_dev_put(dev);
    return r;
}

SHIM_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt,
                            off_t off)
{
    struct shim_dev *dev = shim_dev_get(fd);
    ssize_t r;

    if (!dev) {
        return REAL(pwritev)(fd, iov, iovcnt, off);
    }
    r = is_vfio(dev) ? vfio_prwv(dev, true, iov, iovcnt, off)
                     : REAL(pwritev)(fd, iov, iovcnt, off);
    shim_dev_put(dev);
    return r;
}

SHIM_EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int iovcnt,
                             off64_t off)
{
    return preadv(fd, iov, iovcnt, off);
}

SHIM_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt,
                              off64_t off)
{
    return pwritev(fd, iov, iovcnt, off);
}

/* ---- the sysfs of VFIO devices (vfio.c) ---- */

SHIM_EXPORT ssize_t readlink(const char *path, char *buf, size_t n)
{
    if (vfio_path(path)) {
        bool mine;
        ssize_t r = vfio_readlink(path, buf, n, &mine);
        if (mine) {
            return r;
        }
    }
    return REAL(readlink)(path, buf, n);
}

SHIM_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
    if (vfio_path(path)) {
        bool mine;
        ssize_t r = vfio_readlink(path, buf, n, &mine);
        if (mine) {
            return r;
        }
    }
    return REAL(readlinkat)(dirfd, path, buf, n);
}

ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t n,
                         size_t buflen);

SHIM_EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t n,
                                   size_t buflen)
{
    if (n > buflen) {
        abort();
    }
    return readlink(path, buf, n);
}

SHIM_EXPORT ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf,
                                     size_t n, size_t buflen)
{
    if (n > buflen) {
        abort();
    }
    return readlinkat(dirfd, path, buf, n);
}

/* glibc's fopen opens with its internal __open, which no preload sees */
SHIM_EXPORT FILE *fopen(const char *path, const char *mode)
{
    if (vfio_path(path)) {
        bool mine;
        FILE *f = vfio_fopen(path, mode, &mine);
        if (mine) {
            return f;
        }
    }
    return REAL(fopen)(path, mode);
}

SHIM_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    return fopen(path, mode);
}

SHIM_EXPORT DIR *opendir(const char *path)
{
    if (vfio_path(path)) {
        bool mine;
        DIR *d = vfio_opendir(path, &mine);
        if (mine) {
            return d;
        }
    }
    return REAL(opendir)(path);
}

SHIM_EXPORT struct dirent *readdir(DIR *d)
{
    if (vfio_dirs_open()) {
        bool mine;
        struct dirent *r = vfio_readdir(d, &mine);
        if (mine) {
            return r;
        }
    }
    return REAL(readdir)(d);
}

SHIM_EXPORT struct dirent64 *readdir64(DIR *d)
{
    return (struct dirent64 *)readdir(d);
}

SHIM_EXPORT int closedir(DIR *d)
{
    if (vfio_dirs_open()) {
        vfio_closedir(d);
    }
    return REAL(closedir)(d);
}

/*
 * In a forked child, every device connection is the parent's: give each
 * its own, on the same descriptor number, before the child uses it.
 */
static void atfork_child(void)
{
    pthread_mutex_init(&fd_lock, NULL);
    grant_atfork_mappings();
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
        int flags, cfd;
        if (!dev) {
            continue;
        }
        if (is_vfio(dev)) {
            /* inert in the child (vfio.c): the connections stay the
             * parent's alone */
            vfio_atfork_child(dev);
            fd_table[fd] = NULL;
            dev_free(dev);
            continue;
        }
        if (dev->kind == SHIM_EVTCHN) {
            evtchn_atfork_child(dev);
        }
        if (dev->kind == SHIM_GNTALLOC || dev->kind == SHIM_GNTDEV) {
            grant_atfork_child(dev);
        }
        /* the device's connection keeps its descriptor number */
        cfd = dev->conn.fd;
        flags = shim_real.fcntl(cfd, F_GETFD);
        if (connect_domain(&fresh) == 0 && shim_real.dup2(fresh.fd, cfd) >= 0) {
            shim_real.close(fresh.fd);
            shim_real.fcntl(cfd, F_SETFD, flags);
            free(dev->conn.buf);
            dev->conn = fresh;
            dev->conn.fd = cfd;
        } else if (dev->kind == SHIM_EVTCHN) {
            /* the shared epoll set and ports stay usable; sends that need
             * the hypervisor fail */
            continue;
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

/* At exit, the VFIO objects are released before the process is gone, as
 * Linux's exit closes them: the next program can open the group at once
 * (vfio.c, vfio_fd_closing).  A killed process's go when the daemon sees
 * its connections close. */
__attribute__((destructor)) static void shim_fini(void)
{
    for (int fd = 0; fd < SHIM_MAX_FD; fd++) {
        struct shim_dev *dev = __atomic_load_n(&fd_table[fd], __ATOMIC_ACQUIRE);
        if (dev && is_vfio(dev)) {
            vfio_closing(fd);
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
    shim_real.read = dlsym(RTLD_NEXT, "read");
    shim_real.write = dlsym(RTLD_NEXT, "write");
    shim_real.fcntl = dlsym(RTLD_NEXT, "fcntl");
    shim_real.close_range = dlsym(RTLD_NEXT, "close_range");
    shim_real.closefrom = dlsym(RTLD_NEXT, "closefrom");
    shim_real.mmap = dlsym(RTLD_NEXT, "mmap");
    shim_real.munmap = dlsym(RTLD_NEXT, "munmap");
    shim_real.mremap = dlsym(RTLD_NEXT, "mremap");
    shim_real.connect = dlsym(RTLD_NEXT, "connect");
    shim_real.stat = dlsym(RTLD_NEXT, "stat");
    shim_real.pread = dlsym(RTLD_NEXT, "pread");
    shim_real.pwrite = dlsym(RTLD_NEXT, "pwrite");
    shim_real.preadv = dlsym(RTLD_NEXT, "preadv");
    shim_real.pwritev = dlsym(RTLD_NEXT, "pwritev");
    shim_real.readlink = dlsym(RTLD_NEXT, "readlink");
    shim_real.readlinkat = dlsym(RTLD_NEXT, "readlinkat");
    shim_real.fopen = dlsym(RTLD_NEXT, "fopen");
    shim_real.lstat = dlsym(RTLD_NEXT, "lstat");
    shim_real.access = dlsym(RTLD_NEXT, "access");
    shim_real.opendir = dlsym(RTLD_NEXT, "opendir");
    shim_real.readdir = dlsym(RTLD_NEXT, "readdir");
    shim_real.closedir = dlsym(RTLD_NEXT, "closedir");
    pthread_atfork(NULL, NULL, atfork_child);

    const char *tok = getenv(PV_ENV_FD);
    if (tok && *tok) {
        /* a domain's process: nobody else of this uid may ptrace it or read
         * its memory (DESIGN.md, security model) */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        in_domain = true;
        in_dom0 = connect_domain(&proc_conn) == 0 && proc_conn.domid == 0;
    }
}
