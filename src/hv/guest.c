/* SPDX-License-Identifier: MIT */
/*
 * guest.c - bounded access to the guest memory a hypercall carried.
 */
#include <errno.h>
#include <string.h>

#include "guest.h"

static struct gm_region *find(const struct guest_mem *gm, uint64_t addr,
                              size_t len, uint32_t flags)
{
    if (len == 0 || addr + len < addr) {
        return NULL;
    }
    for (unsigned int i = 0; i < gm->nr; i++) {
        struct gm_region *r = &gm->r[i];
        if ((r->flags & flags) != flags) {
            continue;
        }
        if (addr >= r->addr && addr - r->addr <= r->len &&
            len <= r->len - (addr - r->addr)) {
            return r;
        }
    }
    return NULL;
}

int guest_range_ok(const struct guest_mem *gm, uint64_t addr, size_t len,
                   uint32_t flags)
{
    return len == 0 || find(gm, addr, len, flags) != NULL;
}

int copy_from_guest(const struct guest_mem *gm, void *dst, uint64_t addr,
                    size_t len)
{
    struct gm_region *r;

    if (len == 0) {
        return 0;
    }
    r = find(gm, addr, len, GM_IN);
    if (!r) {
        return -EFAULT;
    }
    memcpy(dst, r->data + (addr - r->addr), len);
    return 0;
}

int copy_to_guest(struct guest_mem *gm, uint64_t addr, const void *src,
                  size_t len)
{
    struct gm_region *r;
    uint32_t lo, hi;

    if (len == 0) {
        return 0;
    }
    r = find(gm, addr, len, GM_OUT);
    if (!r) {
        return -EFAULT;
    }
    lo = (uint32_t)(addr - r->addr);
    hi = lo + (uint32_t)len;
    memcpy(r->data + lo, src, len);
    if (r->dirty_lo == r->dirty_hi) {
        r->dirty_lo = lo;
        r->dirty_hi = hi;
    } else {
        if (lo < r->dirty_lo) {
            r->dirty_lo = lo;
        }
        if (hi > r->dirty_hi) {
            r->dirty_hi = hi;
        }
    }
    return 0;
}
