/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wire.c - libFuzzer target for the daemon's message decoder: every
 * datagram a domain or dom0 can send goes through conn_handle(), the
 * dispatch table, the hypercall decoder and the hypervisor core.
 *
 * Input: a sequence of records {u8 conn; u16 len; len bytes}.  conn picks
 * the sender (0: a domU process, 1: dom0's control connection, 2: the
 * domU's token); each record is one datagram.  Replies are drained and
 * dropped.  A fresh hypervisor is built for every input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct daemon dm;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hv_env env = daemon_env_template;
    struct hv_domain_cfg cfg = {
        .name = "Domain-0",
        .memory_kib = 256,
        .max_grant_frames = 4,
        .max_maptrack = 64,
        .max_evtchn = 64,
        .max_vcpus = 2,
        .flags = PV_CREATE_PV,
    };
    struct hv_domain *d0, *d1;
    struct conn *c[3];
    int peer[3];
    uint8_t *buf;

    env.ctx = &dm;
    fz_daemon_init(&dm, &env, 4096);
    if (hv_domain_create(&dm.hv, &cfg, &d0)) {
        abort();
    }
    cfg.name = "fuzzee";
    cfg.flags = 0;
    if (hv_domain_create(&dm.hv, &cfg, &d1)) {
        abort();
    }
    /* HELLO is the input's to send (a token has none) */
    peer[0] = fz_conn(&dm, CONN_DOMAIN, d1, false, &c[0]);
    peer[1] = fz_conn(&dm, CONN_CONTROL, NULL, false, &c[1]);
    peer[2] = fz_conn(&dm, CONN_TOKEN, d1, false, &c[2]);
    buf = malloc(PV_MSG_MAX + 1);

    while (size >= 3) {
        unsigned int which = data[0] % 3;
        size_t len = (size_t)data[1] | (size_t)data[2] << 8;
        data += 3;
        size -= 3;
        if (len > size) {
            len = size;
        }
        /* the receive buffer is the daemon's own: copy, as recvmsg would */
        memcpy(buf, data, len);
        if (c[which] && !c[which]->dead) {
            conn_handle(&dm, c[which], buf, len, NULL, 0);
            fz_drain(peer[which]);
        }
        data += len;
        size -= len;
        conn_reap(&dm);
        /* a reaped connection stays gone for the rest of this input */
        for (int i = 0; i < 3; i++) {
            bool live = false;
            for (struct conn *x = dm.conns; x; x = x->next) {
                live |= x == c[i];
            }
            if (!live) {
                c[i] = NULL;
            }
        }
    }

    fz_daemon_fini(&dm);
    for (int i = 0; i < 3; i++) {
        if (peer[i] >= 0) {
            close(peer[i]);
        }
    }
    free(buf);
    return 0;
}
