/* SPDX-License-Identifier: MIT */
/*
 * fuzz_xs.c - libFuzzer target for the xenstore request decoder and the
 * store behind it (src/xs/): paths, permissions, transactions, watches,
 * quotas, as a domain's bytes reach them.
 *
 * Input: a sequence of records {u8 sender; u16 type; u32 req_id; u32 tx_id;
 * u16 len; len bytes}.  sender picks one of four connections: dom0
 * (privileged), domain 1, domain 2 (both introduced), or a second
 * connection of domain 1; a sender byte with bit 7 set instead acts on
 * domain (sender & 3) + 1: bits 6 and 5 pick introduce (00), shutdown
 * (01), release (10) or death (11).  A connection the store closed (its
 * domain released or dead) is freed and made again, as by a new process of
 * the domain; a request to a domain over its quotas waits, as the daemon
 * does not read it (it is dropped here).  Replies and watch events are
 * popped and freed.  A fresh store per input; it must stay consistent
 * (xs_store_check: the tree and every domain's counts and memory) and end
 * with nothing leaked (xs_store_free).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONN 4

static void drain(struct xs_store *s, struct xs_conn *c)
{
    struct xs_msg *m;

    while ((m = xs_conn_pop(c)) != NULL) {
        xs_msg_free(s, m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned int domid[NCONN] = {0, 1, 2, 1};
    struct xs_store *s;
    struct xs_conn *c[NCONN] = {0};

    if (xs_store_new(&s, NULL, NULL)) {
        abort();
    }
    xs_domain_introduce(s, 1);
    xs_domain_introduce(s, 2);
    for (int i = 0; i < NCONN; i++) {
        if (xs_conn_new(s, domid[i], i == 0, &c[i])) {
            abort();
        }
    }
    while (size >= 13) {
        struct xsd_sockmsg h;
        uint8_t who = data[0];
        uint16_t type, len;

        memcpy(&type, data + 1, 2);
        memcpy(&h.req_id, data + 3, 4);
        memcpy(&h.tx_id, data + 7, 4);
        memcpy(&len, data + 11, 2);
        data += 13;
        size -= 13;
        if (who & 0x80) {
            unsigned int d = (who & 3u) + 1;
            switch ((who >> 5) & 3) {
            case 0:
                xs_domain_introduce(s, d);
                break;
            case 1:
                xs_domains_shutdown(s, &d, 1);
                break;
            case 2:
                xs_domain_release(s, d);
                break;
            default:
                xs_domain_dead(s, d);
                break;
            }
        } else if (!xs_conn_can_read(c[who % NCONN])) {
            data += len < size ? len : size;
            size -= len < size ? len : size;
        } else {
            /* the transport bounds a message to XENSTORE_PAYLOAD_MAX: the
             * handler gets exactly the bytes the header says */
            size_t n = len < size ? len : size;
            uint8_t *p;
            if (n > XENSTORE_PAYLOAD_MAX) {
                n = XENSTORE_PAYLOAD_MAX;
            }
            p = malloc(n ? n : 1);
            memcpy(p, data, n);
            h.type = type;
            h.len = (uint32_t)n;
            xs_handle(c[who % NCONN], &h, p);
            free(p);
            data += n;
            size -= n;
        }
        for (int i = 0; i < NCONN; i++) {
            drain(s, c[i]);
            if (xs_conn_closed(c[i])) {
                xs_conn_free(c[i]);
                if (xs_conn_new(s, domid[i], i == 0, &c[i])) {
                    abort();
                }
            }
        }
        if (xs_store_check(s)) {
            fprintf(stderr, "fuzz_xs: the store is inconsistent\n");
            abort();
        }
    }
    if (xs_store_check(s)) {
        fprintf(stderr, "fuzz_xs: the store is inconsistent\n");
        abort();
    }
    for (int i = 0; i < NCONN; i++) {
        drain(s, c[i]);
        xs_conn_free(c[i]);
    }
    if (xs_store_free(s) != 0) {
        fprintf(stderr, "fuzz_xs: the store leaked\n");
        abort();
    }
    return 0;
}
