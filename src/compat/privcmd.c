/* SPDX-License-Identifier: MIT */
/*
 * privcmd.c - /dev/xen/privcmd, as far as libxencall, libxenforeignmemory,
 * libxendevicemodel and xc_interface_open use it.  Each open descriptor is
 * its own connection to the hypervisor; IOCTL_PRIVCMD_HYPERCALL carries the
 * call with its argument memory (marshal.c).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "xen_abi.h"
#include <xen/sys/privcmd.h>

#include "shim.h"

_Static_assert(sizeof(privcmd_hypercall_t) == 48, "privcmd_hypercall layout");
_Static_assert(offsetof(privcmd_hypercall_t, arg) == 8, "privcmd_hypercall");
_Static_assert(sizeof(privcmd_dm_op_t) == 16, "privcmd_dm_op layout");
_Static_assert(IOCTL_PRIVCMD_HYPERCALL == 0x00305000, "ioctl number");
_Static_assert(IOCTL_PRIVCMD_UNIMPLEMENTED == 0x000050ff, "ioctl number");

int privcmd_open(struct shim_dev *dev)
{
    int fd = pvc_domain_socket(), rc;

    if (fd < 0) {
        return fd;
    }
    rc = pvc_init(&dev->conn, fd);
    if (rc) {
        shim_real.close(fd);
        return rc;
    }
    dev->fd = fd;
    return 0;
}

static int fail(int e)
{
    errno = e;
    return -1;
}

int privcmd_ioctl(struct shim_dev *dev, unsigned long req, void *arg)
{
    switch (req) {
    case IOCTL_PRIVCMD_HYPERCALL: {
        privcmd_hypercall_t h;
        int64_t r;
        if (pvc_peek_cached(&h, (uint64_t)(uintptr_t)arg, sizeof(h))) {
            return fail(EFAULT);
        }
        /* a restricted descriptor may only make dm_ops (Linux) */
        if (dev->restrict_domid != DOMID_INVALID) {
            return fail(EPERM);
        }
        r = pvc_hypercall(&dev->conn, 0, h.op, (const uint64_t *)h.arg);
        if (r < 0) {
            return fail((int)-r);
        }
        return (int)r;
    }
    case IOCTL_PRIVCMD_DM_OP: {
        privcmd_dm_op_t op;
        if (pvc_peek(&op, (uint64_t)(uintptr_t)arg, sizeof(op))) {
            return fail(EFAULT);
        }
        if (dev->restrict_domid != DOMID_INVALID &&
            op.dom != dev->restrict_domid) {
            return fail(EPERM);
        }
        /* Linux answers an empty dm_op without a hypercall */
        if (op.num == 0) {
            return 0;
        }
        return fail(ENOSYS); /* no device-model ops for process domains */
    }
    case IOCTL_PRIVCMD_RESTRICT: {
        domid_t d;
        if (pvc_peek(&d, (uint64_t)(uintptr_t)arg, sizeof(d))) {
            return fail(EFAULT);
        }
        if (dev->restrict_domid == DOMID_INVALID) {
            dev->restrict_domid = d;
        } else if (dev->restrict_domid != d) {
            return fail(EINVAL);
        }
        return 0;
    }
    case IOCTL_PRIVCMD_MMAP:
    case IOCTL_PRIVCMD_MMAPBATCH:
    case IOCTL_PRIVCMD_MMAPBATCH_V2:
    case IOCTL_PRIVCMD_MMAP_RESOURCE:
        /* foreign mappings arrive with the memory issues */
        return fail(ENOSYS);
    }
    /* IOCTL_PRIVCMD_UNIMPLEMENTED included: libxenforeignmemory checks
     * that an unknown request fails */
    return fail(ENOTTY);
}
