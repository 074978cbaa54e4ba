/* SPDX-License-Identifier: MIT */
/*
 * proto.c - header validation shared by the daemon and its clients.
 */
#include <errno.h>
#include <string.h>

#include "proto.h"

int pv_hdr_check(const void *buf, size_t n, struct pv_hdr *hdr)
{
    if (n < sizeof(*hdr)) {
        return -EPROTO;
    }
    if (n > PV_MSG_MAX) {
        return -EMSGSIZE;
    }
    memcpy(hdr, buf, sizeof(*hdr));
    if (hdr->magic != PV_PROTO_MAGIC || hdr->version != PV_PROTO_VERSION) {
        return -EPROTO;
    }
    if (hdr->len != n - sizeof(*hdr)) {
        return -EPROTO;
    }
    if (hdr->type == 0 || hdr->type >= PV_MSG_TYPE_MAX) {
        return -EPROTO;
    }
    return 0;
}

void pv_hdr_init(struct pv_hdr *hdr, uint16_t type, uint16_t flags,
                 uint32_t len, uint32_t seq)
{
    hdr->magic = PV_PROTO_MAGIC;
    hdr->version = PV_PROTO_VERSION;
    hdr->type = type;
    hdr->flags = flags;
    hdr->len = len;
    hdr->seq = seq;
}
