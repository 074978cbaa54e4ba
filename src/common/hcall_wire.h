/* SPDX-License-Identifier: MIT */
/*
 * hcall_wire.h - encoding of PV_MSG_HYPERCALL requests and replies.
 */
#ifndef PROCVISOR_HCALL_WIRE_H
#define PROCVISOR_HCALL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "guest.h"
#include "proto.h"

/*
 * Decode a hypercall request payload (untrusted).  Regions' IN bytes are
 * used in place inside `payload` (so IN|OUT writes land there); OUT-only
 * regions get zeroed space from `scratch`.  Fills req and gm (gm->r must
 * have room for PV_REGIONS_MAX entries).
 * Returns 0, -EINVAL for a malformed request, -E2BIG when the OUT space
 * could not fit in a reply.
 */
int hcall_req_decode(uint8_t *payload, size_t len, struct pv_hcall_req *req,
                     struct guest_mem *gm, uint8_t *scratch,
                     size_t scratch_len);

/* Bytes the reply payload for gm needs (struct pv_hcall_rep included). */
size_t hcall_rep_size(const struct guest_mem *gm);

/* Serialise the reply payload into out (hcall_rep_size bytes). */
size_t hcall_rep_encode(const struct guest_mem *gm, int64_t ret, uint8_t *out);

#endif
