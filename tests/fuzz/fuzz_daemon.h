/* SPDX-License-Identifier: MIT */
/*
 * fuzz_daemon.h - what the grant fuzz targets share: a daemon built in
 * memory (no listening socket, timers or log), its connections over
 * socketpairs, a descriptor count that catches a leak in the input that
 * made it, and a check of the core's grant bookkeeping.
 */
#ifndef PROCVISOR_FUZZ_DAEMON_H
#define PROCVISOR_FUZZ_DAEMON_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xen_abi.h"

#include "daemon.h"
#include "sock.h"

/* Descriptors open in this process (the directory's own included). */
static inline int fz_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d) {
        abort();
    }
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

/*
 * Every input must give back every descriptor it opened: the count after
 * it equals the count before, and never exceeds a few hundred either way.
 */
static inline void fz_check_fds(int before)
{
    int after = fz_count_fds();

    if (after != before || after > 256) {
        fprintf(stderr, "fuzz: descriptor leak: %d open before, %d after\n",
                before, after);
        abort();
    }
}

/* The daemon's state without daemon_init: the buffers and an epoll set. */
static inline void fz_daemon_init(struct daemon *dm, const struct hv_env *env,
                                  uint64_t host_pages)
{
    memset(dm, 0, sizeof(*dm));
    dm->listen_fd = dm->timer_fd = dm->clock_fd = dm->signal_fd = -1;
    dm->log_fd = dm->spare_fd = dm->xs_log_fd = -1;
    dm->max_conns = DAEMON_MAX_CONNS;
    dm->max_dom_conns = DAEMON_MAX_DOMAIN_CONNS;
    dm->epfd = epoll_create1(EPOLL_CLOEXEC);
    dm->rx = malloc(PV_MSG_MAX + 1);
    dm->tx = malloc(PV_MSG_MAX);
    dm->out = malloc(PV_MSG_MAX);
    dm->scratch = malloc(PV_PAYLOAD_MAX);
    dm->regions = calloc(PV_REGIONS_MAX, sizeof(*dm->regions));
    if (dm->epfd < 0 || !dm->rx || !dm->tx || !dm->out || !dm->scratch ||
        !dm->regions || hv_init(&dm->hv, env, host_pages)) {
        abort();
    }
}

/* Every connection closes (releasing what it owns), then the core goes. */
static inline void fz_daemon_fini(struct daemon *dm)
{
    for (struct conn *x = dm->conns; x; x = x->next) {
        conn_close(dm, x);
    }
    conn_reap(dm);
    hv_fini(&dm->hv);
    free(dm->rx);
    free(dm->tx);
    free(dm->out);
    free(dm->scratch);
    free(dm->regions);
    close(dm->epfd);
}

/*
 * A connection of the given kind over a new socketpair: the daemon gets
 * one end, the other is returned (-1 and *c NULL when the daemon refused
 * it).  HELLO counts as done unless `hello` is false.
 */
static inline int fz_conn(struct daemon *dm, enum conn_kind kind,
                          struct hv_domain *d, bool hello, struct conn **c)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        abort();
    }
    *c = conn_new(dm, sv[0], kind, d);
    if (!*c) {
        close(sv[1]);
        return -1;
    }
    (*c)->hello = hello;
    return sv[1];
}

/* Read and drop every reply waiting on fd, closing the descriptors. */
static inline void fz_drain(int fd)
{
    static uint8_t b[PV_MSG_MAX + 1];
    int fds[PV_FDS_MAX];

    if (fd < 0) {
        return;
    }
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

static inline void fz_broken(const struct hv_domain *d, const char *what,
                             uint32_t i)
{
    fprintf(stderr, "fuzz: d%u: %s (%u)\n", d->id, what, i);
    abort();
}

/*
 * The core's grant bookkeeping agrees with itself (checked after every
 * record):
 * maptrack counts and free list, gntalloc page counts, and each entry's
 * pins equal to the mappings of it (a copy's pins last only as long as
 * the copy).  Nothing the granter writes changes any of this.
 */
#define FZ_CHECK_REFS 4096u /* pins are checked in tables up to this size */

__attribute__((noinline, no_sanitize("coverage"))) static inline void
fz_check_core(struct daemon *dm)
{
    for (struct hv_domain *d = dm->hv.domains; d; d = d->next) {
        const struct hv_gnttab *gt = &d->gt;
        uint32_t used = 0, nfree = 0, live = 0;
        uint32_t n = gt->nr_frames * (XEN_PAGE_SIZE / sizeof(grant_entry_v1_t));
        static uint16_t pins[2 * FZ_CHECK_REFS];

        if (!gt->shared.va) {
            continue;
        }
        for (uint32_t k = 0; k < gt->mt_size; k++) {
            used += gt->mt[k].used;
        }
        if (used != gt->mt_used) {
            fz_broken(d, "maptrack entries in use", used);
        }
        for (uint32_t h = gt->mt_free; h != UINT32_MAX;
             h = gt->mt[h].next_free) {
            if (h >= gt->mt_size || gt->mt[h].used || ++nfree > gt->mt_size) {
                fz_broken(d, "maptrack free list", h);
            }
        }
        if (nfree + used != gt->mt_size) {
            fz_broken(d, "maptrack entries lost", nfree);
        }
        for (const struct hv_galloc *ga = gt->gallocs; ga; ga = ga->next) {
            uint32_t left = 0;
            for (uint32_t i = 0; i < ga->count; i++) {
                live += ga->page[i].state == GA_LIVE;
                left += ga->page[i].state != GA_GONE;
            }
            if (left != ga->live) {
                fz_broken(d, "gntalloc pages left", left);
            }
        }
        if (live != gt->ga_pages) {
            fz_broken(d, "gntalloc pages counted", live);
        }
        if (n > FZ_CHECK_REFS) {
            continue; /* a big table a control CREATE made: not per record */
        }
        memset(pins, 0, 2 * n * sizeof(*pins));
        for (const struct hv_domain *m = dm->hv.domains; m; m = m->next) {
            for (uint32_t k = 0; k < m->gt.mt_size; k++) {
                const struct hv_maptrack *t = &m->gt.mt[k];
                if (!t->used || t->rd != d->id || t->rd_serial != d->serial) {
                    continue;
                }
                if (t->ref >= n) {
                    fz_broken(d, "a mapping past the table", t->ref);
                }
                pins[2 * t->ref + !(t->flags & GNTMAP_readonly)]++;
                if (gt->act[t->ref].domid != m->id) {
                    fz_broken(d, "an entry pinned for another", t->ref);
                }
            }
        }
        for (uint32_t ref = 0; ref < n; ref++) {
            if (gt->act[ref].rd_pins != pins[2 * ref] ||
                gt->act[ref].wr_pins != pins[2 * ref + 1]) {
                fz_broken(d, "pins that are not mappings", ref);
            }
        }
    }
}

/* Reading an input: past its end, zeroes. */
struct input {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t u8(struct input *in)
{
    uint8_t v = 0;

    if (in->n) {
        v = *in->p++;
        in->n--;
    }
    return v;
}

static inline uint16_t u16(struct input *in)
{
    uint16_t lo = u8(in);

    return (uint16_t)(lo | u8(in) << 8);
}

static inline uint32_t u32(struct input *in)
{
    uint32_t lo = u16(in);

    return lo | (uint32_t)u16(in) << 16;
}

static inline void bytes(struct input *in, void *dst, size_t len)
{
    size_t k = len < in->n ? len : in->n;

    memcpy(dst, in->p, k);
    memset((uint8_t *)dst + k, 0, len - k);
    in->p += k;
    in->n -= k;
}

#endif
