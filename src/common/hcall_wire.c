/* SPDX-License-Identifier: MIT */
/*
 * hcall_wire.c - decode a hypercall request from a domain, encode the reply.
 *
 * Everything in the request is untrusted: counts, lengths, flags and the
 * amount of data are checked against each other and against the reply's
 * size before any of it is used.
 */
#include <errno.h>
#include <string.h>

#include "hcall_wire.h"

#define REP_MAX (PV_PAYLOAD_MAX)

static int decode(uint8_t *payload, size_t len, struct pv_hcall_req *req,
                  struct guest_mem *gm, uint8_t *scratch, size_t scratch_len)
{
    size_t off, in_off, scratch_used = 0;
    size_t out_budget = REP_MAX - sizeof(struct pv_hcall_rep);

    gm->nr = 0;
    if (len < sizeof(*req)) {
        return -EINVAL;
    }
    memcpy(req, payload, sizeof(*req));
    if (req->nr_regions > PV_REGIONS_MAX) {
        return -EINVAL;
    }
    off = sizeof(*req);
    if (len - off < (size_t)req->nr_regions * sizeof(struct pv_region)) {
        return -EINVAL;
    }
    in_off = off + (size_t)req->nr_regions * sizeof(struct pv_region);

    for (uint32_t i = 0; i < req->nr_regions; i++) {
        struct pv_region wr;
        struct gm_region *r = &gm->r[i];

        memcpy(&wr, payload + off + i * sizeof(wr), sizeof(wr));
        if (wr.flags == 0 || (wr.flags & ~(PV_REGION_IN | PV_REGION_OUT))) {
            return -EINVAL;
        }
        if (wr.len == 0 || wr.len > REP_MAX || wr.addr + wr.len < wr.addr) {
            return -EINVAL;
        }
        r->addr = wr.addr;
        r->len = wr.len;
        r->flags = wr.flags;
        r->dirty_lo = r->dirty_hi = 0;
        if (wr.flags & PV_REGION_IN) {
            if (len - in_off < wr.len) {
                return -EINVAL;
            }
            r->data = payload + in_off;
            in_off += wr.len;
        }
        if (wr.flags & PV_REGION_OUT) {
            size_t need = sizeof(struct pv_region) + wr.len;
            if (need > out_budget) {
                return -E2BIG;
            }
            out_budget -= need;
            if (!(wr.flags & PV_REGION_IN)) {
                if (scratch_len - scratch_used < wr.len) {
                    return -E2BIG;
                }
                r->data = scratch + scratch_used;
                memset(r->data, 0, wr.len);
                scratch_used += wr.len;
            }
        }
        gm->nr = i + 1;
    }
    if (in_off != len) {
        return -EINVAL; /* trailing bytes */
    }
    return 0;
}

int hcall_req_decode(uint8_t *payload, size_t len, struct pv_hcall_req *req,
                     struct guest_mem *gm, uint8_t *scratch, size_t scratch_len)
{
    int rc = decode(payload, len, req, gm, scratch, scratch_len);

    if (rc) {
        gm->nr = 0; /* nothing of a refused request is usable */
    }
    return rc;
}

size_t hcall_rep_size(const struct guest_mem *gm)
{
    size_t n = sizeof(struct pv_hcall_rep);

    for (unsigned int i = 0; i < gm->nr; i++) {
        const struct gm_region *r = &gm->r[i];
        if (r->dirty_hi > r->dirty_lo) {
            n += sizeof(struct pv_region) + (r->dirty_hi - r->dirty_lo);
        }
    }
    return n;
}

size_t hcall_rep_encode(const struct guest_mem *gm, int64_t ret, uint8_t *out)
{
    struct pv_hcall_rep rep = {.ret = ret};
    size_t off = sizeof(rep), data;

    for (unsigned int i = 0; i < gm->nr; i++) {
        if (gm->r[i].dirty_hi > gm->r[i].dirty_lo) {
            rep.nr_out++;
        }
    }
    memcpy(out, &rep, sizeof(rep));
    data = off + rep.nr_out * sizeof(struct pv_region);
    for (unsigned int i = 0; i < gm->nr; i++) {
        const struct gm_region *r = &gm->r[i];
        struct pv_region w;
        if (r->dirty_hi <= r->dirty_lo) {
            continue;
        }
        w.addr = r->addr + r->dirty_lo;
        w.len = r->dirty_hi - r->dirty_lo;
        w.flags = 0;
        memcpy(out + off, &w, sizeof(w));
        off += sizeof(w);
        memcpy(out + data, r->data + r->dirty_lo, w.len);
        data += w.len;
    }
    return data;
}
