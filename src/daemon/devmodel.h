/* SPDX-License-Identifier: MIT */
/*
 * devmodel.h - the daemon's side of VFIO: each device model it speaks
 * vfio-user to (devmodel.c) and the messages of /dev/vfio and of
 * `procvisor device`/`procvisor vfio` (vfio.c).  Everything here runs on
 * the daemon's one thread (docs/locking.md).
 */
#ifndef PROCVISOR_DEVMODEL_H
#define PROCVISOR_DEVMODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfio.h"
#include "vfu_wire.h"

struct daemon;
struct conn;

/* One device and the device-model process that serves it. */
struct vdev {
    char name[VFIO_DEVNAME_MAX]; /* its PCI name, "0000:00:NN.0" */
    char type[32];               /* edu, mtty, vfio-user, ... */
    uint32_t group;
    struct conn *main; /* the vfio-user link; the daemon is the client */
    struct conn *twin; /* the device's DMA requests (server to client) */
    pid_t pid;         /* the device model, from SO_PEERCRED */
    int pidfd;
    uint16_t next_id; /* vfio-user msg_id of the next command */
    bool dead;
    struct vfu_caps caps; /* the device model's */
    struct vfio_device_desc desc;
    struct vfio_device *core;
    /* mmap-able regions: the device model's descriptor, and where in it
     * the region starts */
    int region_fd[VFIO_DEV_MAX_REGIONS];
    uint64_t region_fd_off[VFIO_DEV_MAX_REGIONS];
    uint16_t vendor, device, subsys_vendor, subsys_device;
    uint32_t class_code;
    uint64_t dma_ops; /* DMA requests served or refused */
    int req_fd;       /* the driver's REQ eventfd, -1 */
    /* the container whose mappings the device model was given */
    struct vfio_container *attached;
    struct daemon *dm;
    struct vdev *next;
};

/* What backs one IOMMU mapping (its cookie): a descriptor of shared memory
 * the driver handed over, or the anonymous memory of the driver process. */
struct dm_backing {
    int fd;          /* -1: anonymous memory of pid */
    uint64_t fd_off; /* the file offset of the mapping's first byte */
    pid_t pid;
    int pidfd;
    uint32_t prot;
};

/* devmodel.c */
int devmodel_start(struct daemon *dm, struct vdev *v, int fd, pid_t pid);
int devmodel_call(struct daemon *dm, struct vdev *v, uint16_t cmd,
                  const void *req, size_t len, const int *fds, int nfds,
                  void *rep, size_t cap, size_t *rlen, int *rfds, int *rnfds);
void devmodel_input(struct daemon *dm, struct conn *c);
void devmodel_kill(struct daemon *dm, struct vdev *v, const char *why);
void devmodel_free(struct daemon *dm, struct vdev *v);

/* vfio.c */
int vfiod_init(struct daemon *dm);
void vfiod_fini(struct daemon *dm);
/* A connection closes: the VFIO files it held. */
void vfiod_conn_closed(struct daemon *dm, struct conn *c);
/* A domain is dead: its files are closed and its groups go back. */
void vfiod_domain_dead(struct daemon *dm, uint32_t domid);

#endif
