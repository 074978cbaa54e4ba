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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "sock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct daemon dm;

static int make_conn(enum conn_kind kind, struct hv_domain *d, struct conn **c)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   sv) < 0) {
        abort();
    }
    *c = conn_new(&dm, sv[0], kind, d);
    if (*c && kind != CONN_TOKEN) {
        (*c)->hello = false;
    }
    return sv[1];
}

static void drain(int fd)
{
    uint8_t b[PV_MSG_MAX + 1];
    int fds[PV_FDS_MAX];

    for (;;) {
        int n = PV_FDS_MAX;
        long r = pv_recv(fd, b, sizeof(b), fds, &n, MSG_DONTWAIT);
        for (int i = 0; i < n; i++) {
            close(fds[i]);
        }
        if (r <= 0) {
            return;
        }
    }
}

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

    memset(&dm, 0, sizeof(dm));
    dm.listen_fd = dm.timer_fd = dm.clock_fd = dm.signal_fd = dm.log_fd = -1;
    dm.epfd = epoll_create1(EPOLL_CLOEXEC);
    dm.rx = malloc(PV_MSG_MAX + 1);
    dm.tx = malloc(PV_MSG_MAX);
    dm.out = malloc(PV_MSG_MAX);
    dm.scratch = malloc(PV_PAYLOAD_MAX);
    dm.regions = calloc(PV_REGIONS_MAX, sizeof(*dm.regions));
    env.ctx = &dm;
    if (hv_init(&dm.hv, &env, 4096) || hv_domain_create(&dm.hv, &cfg, &d0)) {
        abort();
    }
    cfg.name = "fuzzee";
    cfg.flags = 0;
    if (hv_domain_create(&dm.hv, &cfg, &d1)) {
        abort();
    }
    peer[0] = make_conn(CONN_DOMAIN, d1, &c[0]);
    peer[1] = make_conn(CONN_CONTROL, NULL, &c[1]);
    peer[2] = make_conn(CONN_TOKEN, d1, &c[2]);
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
            drain(peer[which]);
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

    for (struct conn *x = dm.conns; x; x = x->next) {
        x->dead = true;
    }
    conn_reap(&dm);
    for (int i = 0; i < 3; i++) {
        close(peer[i]);
    }
    hv_fini(&dm.hv);
    free(buf);
    free(dm.rx);
    free(dm.tx);
    free(dm.out);
    free(dm.scratch);
    free(dm.regions);
    close(dm.epfd);
    return 0;
}
