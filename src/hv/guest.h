/* SPDX-License-Identifier: MIT */
/*
 * guest.h - guest memory as a hypercall sees it.
 *
 * A process domain's memory is not mapped into the hypervisor.  The client
 * library sends the bytes a hypercall reads and names the ranges it may
 * write; these functions are the only way a handler touches them, so an
 * address the guest did not offer is -EFAULT, as in Xen.
 */
#ifndef PROCVISOR_GUEST_H
#define PROCVISOR_GUEST_H

#include <stddef.h>
#include <stdint.h>

#define GM_IN  0x1u
#define GM_OUT 0x2u

struct gm_region {
    uint64_t addr;
    uint32_t len;
    uint32_t flags;              /* GM_IN | GM_OUT */
    uint8_t *data;               /* len bytes: the IN bytes, or zeroes */
    uint32_t dirty_lo, dirty_hi; /* written span, lo == hi when clean */
};

struct guest_mem {
    unsigned int nr;
    struct gm_region *r;
};

/* Copy len bytes at guest address addr into dst.  0 or -EFAULT. */
int copy_from_guest(const struct guest_mem *gm, void *dst, uint64_t addr,
                    size_t len);
/* Copy len bytes from src to guest address addr.  0 or -EFAULT. */
int copy_to_guest(struct guest_mem *gm, uint64_t addr, const void *src,
                  size_t len);
/* Whether [addr, addr+len) lies in one region with all of flags. */
int guest_range_ok(const struct guest_mem *gm, uint64_t addr, size_t len,
                   uint32_t flags);

#endif
