/* SPDX-License-Identifier: MIT */
/*
 * shim.h - the preload library's descriptor table and device dispatch.
 *
 * Each emulated device node is a real kernel descriptor (a connection to
 * the hypervisor, an eventfd, ...) so select/poll/epoll and fork behave;
 * this table says which of the process's descriptors are devices and what
 * state each carries.
 */
#ifndef PROCVISOR_SHIM_H
#define PROCVISOR_SHIM_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "xen_abi.h"

#include "client.h"

#define SHIM_MAX_FD 4096

enum shim_kind {
    SHIM_NONE = 0,
    SHIM_PRIVCMD = 1,
    SHIM_EVTCHN = 2,
    SHIM_GNTALLOC = 3,
    SHIM_GNTDEV = 4,
    SHIM_VFIO_CONTAINER = 5, /* /dev/vfio/vfio */
    SHIM_VFIO_GROUP = 6,     /* /dev/vfio/<group> */
    SHIM_VFIO_DEVICE = 7,    /* from VFIO_GROUP_GET_DEVICE_FD */
};

struct ev_dev;
struct gnt_dev;
struct vfio_dev;

struct shim_dev {
    enum shim_kind kind;
    int fd;          /* the descriptor the program holds */
    struct pvc conn; /* this device's own connection to the hypervisor */
    uint16_t restrict_domid; /* IOCTL_PRIVCMD_RESTRICT, DOMID_INVALID = none */
    struct ev_dev *ev;       /* SHIM_EVTCHN */
    struct gnt_dev *gnt;     /* SHIM_GNTALLOC, SHIM_GNTDEV */
    uint64_t vfio_cookie;    /* SHIM_VFIO_*: the daemon's name for it */
    struct vfio_dev *vfio;   /* SHIM_VFIO_DEVICE */
    int refs; /* the table's, and one per call in flight (atomic) */
};

/* An emulated device node, by path. */
struct shim_node {
    const char *path;
    enum shim_kind kind;
    int open_errno; /* nonzero: the open fails with this */
};

/* libc's own functions, resolved once */
struct shim_real {
    int (*open)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    int (*close)(int);
    int (*ioctl)(int, unsigned long, ...);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    int (*fcntl)(int, int, ...);
    int (*close_range)(unsigned int, unsigned int, int);
    void (*closefrom)(int);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int (*munmap)(void *, size_t);
    void *(*mremap)(void *, size_t, size_t, int, ...);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*stat)(const char *, struct stat *);
    ssize_t (*pread)(int, void *, size_t, off_t);
    ssize_t (*pwrite)(int, const void *, size_t, off_t);
    ssize_t (*preadv)(int, const struct iovec *, int, off_t);
    ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
    ssize_t (*readlink)(const char *, char *, size_t);
    ssize_t (*readlinkat)(int, const char *, char *, size_t);
    FILE *(*fopen)(const char *, const char *);
    int (*lstat)(const char *, struct stat *);
    int (*access)(const char *, int);
    DIR *(*opendir)(const char *);
    struct dirent *(*readdir)(DIR *);
    int (*closedir)(DIR *);
};
extern struct shim_real shim_real;

/* The device state of fd with a reference taken, or NULL; a descriptor
 * closed meanwhile by another thread stays valid until shim_dev_put. */
struct shim_dev *shim_dev_get(int fd);
void shim_dev_put(struct shim_dev *dev);
/* Put a new device (its fd and refs = 1 set) in the table: its fd, or
 * -EMFILE (the caller still owns it). */
int shim_dev_install(struct shim_dev *dev);

/* Whether this process belongs to a domU (PROCVISOR_FD set and not known
 * to be dom0): its xenstore is the domain's, through XS_ATTACH. */
bool shim_in_domu(void);
/* A fresh connection of this process's domain (HELLO done): 0/-errno */
int shim_connect_domain(struct pvc *c);

/* xenbus.c: libxenstore's socket for a domU process */
bool xenbus_is_store_path(const char *path);
bool xenbus_is_store_addr(const struct sockaddr *sa, socklen_t len);
int xenbus_stat(struct stat *st);
int xenbus_connect(int fd); /* 0, or -1 with errno */

/* privcmd.c */
int privcmd_open(struct shim_dev *dev);
int privcmd_ioctl(struct shim_dev *dev, unsigned long req, void *arg);

/* evtchn.c: 0/-errno, ioctl/read/write as the kernel's (-1 + errno) */
int evtchn_open(struct shim_dev *dev, int flags);
void evtchn_release(struct shim_dev *dev);
int evtchn_ioctl(struct shim_dev *dev, unsigned long req, void *arg);
ssize_t evtchn_read(struct shim_dev *dev, void *buf, size_t count);
ssize_t evtchn_write(struct shim_dev *dev, const void *buf, size_t count);
void evtchn_set_nonblock(struct shim_dev *dev, bool on);
void evtchn_atfork_child(struct shim_dev *dev);

/* grant.c: gntalloc and gntdev; ioctl/mmap as the kernel's (-1/errno) */
int grant_open(struct shim_dev *dev, int flags);
void grant_release(struct shim_dev *dev);
/* the program's descriptor of a gntalloc device was closed */
void grant_fd_closed(struct shim_dev *dev);
int grant_ioctl(struct shim_dev *dev, unsigned long req, void *arg);
void *grant_mmap(struct shim_dev *dev, void *addr, size_t len, int prot,
                 int flags, off_t off);
/* whether any grant mapping exists (one load: munmap's fast path) */
bool grant_maps_any(void);
int grant_munmap(void *addr, size_t len);
void grant_replaced(void *addr, size_t len);
bool grant_overlaps(void *addr, size_t len);
void grant_atfork_mappings(void);
void grant_atfork_child(struct shim_dev *dev);

/* vfio.c: /dev/vfio and the sysfs of VFIO devices.  The path functions
 * set *mine when the path is theirs, and then answer as libc would. */
static inline bool vfio_path(const char *p)
{
    /* the hot path of every open/stat/readlink: a few compares */
    return p && p[0] == '/' &&
           ((p[1] == 'd' && strncmp(p, "/dev/vfio/", 10) == 0) ||
            (p[1] == 's' && strncmp(p, "/sys/bus/pci/devices", 20) == 0));
}
int vfio_open(const char *path, int flags, bool *mine);
FILE *vfio_fopen(const char *path, const char *mode, bool *mine);
ssize_t vfio_readlink(const char *path, char *buf, size_t n, bool *mine);
int vfio_stat(const char *path, struct stat *st, bool follow, bool *mine);
int vfio_access(const char *path, int mode, bool *mine);
DIR *vfio_opendir(const char *path, bool *mine);
bool vfio_dirs_open(void); /* one load: readdir's fast path */
struct dirent *vfio_readdir(DIR *d, bool *mine);
void vfio_closedir(DIR *d);
/* on a container, group or device descriptor: -1/errno as the kernel's */
int vfio_ioctl(struct shim_dev *dev, unsigned long req, void *arg);
ssize_t vfio_pread(struct shim_dev *dev, void *buf, size_t count, off_t off);
ssize_t vfio_pwrite(struct shim_dev *dev, const void *buf, size_t count,
                    off_t off);
ssize_t vfio_prwv(struct shim_dev *dev, bool write, const struct iovec *iov,
                  int iovcnt, off_t off);
void *vfio_mmap(struct shim_dev *dev, void *addr, size_t len, int prot,
                int flags, off_t off);
/* the program closes a VFIO descriptor: release its object now */
void vfio_fd_closing(struct shim_dev *dev);
void vfio_release(struct shim_dev *dev);
void vfio_atfork_child(struct shim_dev *dev);

#endif
