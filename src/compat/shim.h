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

#include <stdbool.h>
#include <stdint.h>

#include "xen_abi.h"

#include "client.h"

#define SHIM_MAX_FD 4096

enum shim_kind {
    SHIM_NONE = 0,
    SHIM_PRIVCMD = 1,
};

struct shim_dev {
    enum shim_kind kind;
    struct pvc conn;
    uint16_t restrict_domid; /* IOCTL_PRIVCMD_RESTRICT, DOMID_INVALID = none */
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
};
extern struct shim_real shim_real;

/* The device state of fd, or NULL. */
struct shim_dev *shim_dev(int fd);

/* privcmd.c */
int privcmd_open(struct shim_dev *dev);
int privcmd_ioctl(struct shim_dev *dev, unsigned long req, void *arg);

#endif
