/* SPDX-License-Identifier: MIT */
/*
 * pvclock.h - the one formula of Xen's pvclock, for the hypervisor (which
 * publishes mul and shift) and the guest side (which applies them):
 *   ns = ((delta << shift) * mul) >> 32, a negative shift shifting right,
 * with a 128-bit product.
 */
#ifndef PROCVISOR_PVCLOCK_H
#define PROCVISOR_PVCLOCK_H

#include <stdint.h>

static inline uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    delta = shift >= 0 ? delta << shift : delta >> -shift;
    return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

#endif
