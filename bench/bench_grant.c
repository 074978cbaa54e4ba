/* SPDX-License-Identifier: MIT */
/*
 * bench_grant.c - grant mapping and a vchan-style ring between two domains,
 * through Debian's libxengnttab and libxenevtchn, each against its floor
 * measured in the same run.
 *
 *   bench_grant server DOMID
 *       (in domain A) shares a 64-page set and a ring (one control page and
 *       RING_PAGES data pages) with DOMID, offers an event channel, prints
 *       "port=P map=R,... ring=R,..." and then produces the ring's stream.
 *   bench_grant client DOMID PORT MAPREFS RINGREFS [-c CPU]
 *       (in domain B) measures:
 *       1. map + unmap of 1 grant and of 64 grants through libxengnttab,
 *          against one socket round trip carrying a descriptor plus
 *          mmap/munmap of the same range (-c pins the floor's peer);
 *       2. the ring's throughput, against the same ring code over a plain
 *          shared memfd between two processes woken by eventfds.
 *
 * The ring and its floor are bench.h's (ring_produce, ring_consume,
 * ring_floor): a single-producer single-consumer byte ring of 4 KiB
 * messages whose sides sleep only when it is empty or full, as
 * libxenvchan's do.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include <xenevtchn.h>
#include <xengnttab.h>

#define MAP_SET 64
#define STREAM  (1024ull * 1024 * 1024) /* bytes per ring run */
#define RUNS    3 /* ring runs, each followed by a floor run */

/* the ring's wake-ups in the domains: the event channel */
static void ev_notify(struct waker *w)
{
    xenevtchn_notify(w->ctx, (evtchn_port_t)w->port);
}

static void ev_wait(struct waker *w)
{
    int p = xenevtchn_pending(w->ctx);
    if (p >= 0) {
        xenevtchn_unmask(w->ctx, (evtchn_port_t)p);
    }
}

/* ---- server: domain A ---- */

static int server(int dom)
{
    xengntshr_handle *sh = xengntshr_open(NULL, 0);
    xenevtchn_handle *xe = xenevtchn_open(NULL, 0);
    uint32_t mrefs[MAP_SET], rrefs[RING_PAGES + 1];
    uint8_t *set, *ring;
    int port;

    port = xenevtchn_bind_unbound_port(xe, (uint32_t)dom);
    set = xengntshr_share_pages(sh, (uint32_t)dom, MAP_SET, mrefs, 1);
    ring = xengntshr_share_pages(sh, (uint32_t)dom, RING_PAGES + 1, rrefs, 1);
    if (port < 0 || !set || !ring) {
        perror("server setup");
        return 1;
    }
    printf("port=%d map=", port);
    for (int i = 0; i < MAP_SET; i++) {
        printf("%s%u", i ? "," : "", mrefs[i]);
    }
    printf(" ring=");
    for (int i = 0; i <= RING_PAGES; i++) {
        printf("%s%u", i ? "," : "", rrefs[i]);
    }
    printf("\n");
    fflush(stdout);

    struct ring_ctl *c = (struct ring_ctl *)ring;
    struct waker w = {
        .notify = ev_notify, .wait = ev_wait, .ctx = xe, .port = port};
    /* the client says when it is ready (after its map benchmark) */
    while (!__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE)) {
        ev_wait(&w);
    }
    ring_produce(c, ring + 4096, &w, RUNS * STREAM);
    /* wait for the client to finish before the pages go */
    while (__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE) != 2) {
        ev_wait(&w);
    }
    xengntshr_unshare(sh, ring, RING_PAGES + 1);
    xengntshr_unshare(sh, set, MAP_SET);
    return 0;
}

/* ---- client: domain B ---- */

static int parse(const char *s, uint32_t *out, int max)
{
    int n = 0;
    char *end;

    while (*s && n < max) {
        out[n++] = (uint32_t)strtoul(s, &end, 10);
        if (*end != ',') {
            break;
        }
        s = end + 1;
    }
    return n;
}

/* The floor of a map: a request and a reply with a descriptor over a
 * socket, then mmap + munmap of the range. */
static double floor_map(int pages, int iters, int cpu)
{
    int sv[2], mfd = memfd_create("floor", 0);
    double *t = malloc(sizeof(double) * (size_t)iters);
    pid_t pid;

    if (ftruncate(mfd, (off_t)pages * 4096) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
        perror("floor setup");
        exit(1);
    }
    pid = fork();
    if (pid == 0) {
        char req[64];
        bench_pin(cpu);
        close(sv[0]);
        while (recv(sv[1], req, sizeof(req), 0) > 0) {
            char rep[32] = {0};
            struct iovec iov = {rep, sizeof(rep)};
            char cbuf[CMSG_SPACE(sizeof(int))];
            struct msghdr mh = {.msg_iov = &iov,
                                .msg_iovlen = 1,
                                .msg_control = cbuf,
                                .msg_controllen = sizeof(cbuf)};
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &mfd, sizeof(int));
            sendmsg(sv[1], &mh, 0);
        }
        _exit(0);
    }
    close(sv[1]);
    for (int i = 0; i < iters; i++) {
        char req[64] = {0}, rep[32];
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {rep, sizeof(rep)};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        uint64_t t0 = now_ns();
        int fd = -1;
        send(sv[0], req, sizeof(req), 0);
        recvmsg(sv[0], &mh, 0);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (cm) {
            memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        }
        void *p = mmap(NULL, (size_t)pages * 4096, PROT_READ | PROT_WRITE,
                       MAP_SHARED, fd, 0);
        ((volatile char *)p)[0];
        munmap(p, (size_t)pages * 4096);
        close(fd);
        t[i] = (double)(now_ns() - t0);
    }
    close(sv[0]);
    waitpid(pid, NULL, 0);
    close(mfd);
    double m = median(t, iters);
    free(t);
    return m;
}

static double grant_map(xengnttab_handle *h, int dom, const uint32_t *refs,
                        int pages, int iters)
{
    uint32_t doms[MAP_SET];
    double *t = malloc(sizeof(double) * (size_t)iters);

    for (int i = 0; i < pages; i++) {
        doms[i] = (uint32_t)dom;
    }
    for (int i = 0; i < iters; i++) {
        uint64_t t0 = now_ns();
        void *p = xengnttab_map_grant_refs(
            h, (uint32_t)pages, doms, (uint32_t *)refs, PROT_READ | PROT_WRITE);
        if (!p) {
            perror("map");
            exit(1);
        }
        ((volatile char *)p)[0];
        xengnttab_unmap(h, p, (uint32_t)pages);
        t[i] = (double)(now_ns() - t0);
    }
    double m = median(t, iters);
    free(t);
    return m;
}

static int client(int argc, char **argv)
{
    int dom = atoi(argv[2]), port = atoi(argv[3]), cpu = -1;
    uint32_t mrefs[MAP_SET], rrefs[RING_PAGES + 1];
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    xenevtchn_handle *xe = xenevtchn_open(NULL, 0);

    if (argc >= 8 && strcmp(argv[6], "-c") == 0) {
        cpu = atoi(argv[7]);
    }
    if (parse(argv[4], mrefs, MAP_SET) != MAP_SET ||
        parse(argv[5], rrefs, RING_PAGES + 1) != RING_PAGES + 1 || !h || !xe) {
        fprintf(stderr, "client: bad arguments\n");
        return 2;
    }
    int local =
        xenevtchn_bind_interdomain(xe, (uint32_t)dom, (evtchn_port_t)port);

    /* 1. map + unmap, 1 and 64 grants, against their floors; batches
     * alternate with the floor so drift hits both */
    for (int pages = 1; pages <= MAP_SET; pages *= 64) {
        int iters = pages == 1 ? 2000 : 500;
        double g[5], f[5];
        for (int b = 0; b < 5; b++) {
            g[b] = grant_map(h, dom, mrefs, pages, iters);
            f[b] = floor_map(pages, iters, cpu);
        }
        double gm = median(g, 5), fm = median(f, 5);
        printf("map+unmap %2d grant%s: %.2f us   floor (socket rtt with an fd "
               "+ mmap/munmap): %.2f us   ratio %.2f (goal <= 1.5)\n",
               pages, pages == 1 ? " " : "s", gm / 1000, fm / 1000, gm / fm);
    }

    /* 2. the ring */
    uint32_t doms[RING_PAGES + 1];
    for (int i = 0; i <= RING_PAGES; i++) {
        doms[i] = (uint32_t)dom;
    }
    uint8_t *ring = xengnttab_map_grant_refs(h, RING_PAGES + 1, doms, rrefs,
                                             PROT_READ | PROT_WRITE);
    if (!ring || local < 0) {
        perror("ring map");
        return 1;
    }
    struct ring_ctl *c = (struct ring_ctl *)ring;
    struct waker w = {
        .notify = ev_notify, .wait = ev_wait, .ctx = xe, .port = local};
    /* bind_interdomain leaves one event pending: take it first */
    struct pollfd pf = {.fd = xenevtchn_fd(xe), .events = POLLIN};
    if (poll(&pf, 1, 100) == 1) {
        ev_wait(&w);
    }
    __atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
    xenevtchn_notify(xe, (evtchn_port_t)local);
    /* runs alternate with the floor's, so drift hits both */
    double g[RUNS], f[RUNS];
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = now_ns();
        ring_consume(c, ring + 4096, &w, STREAM);
        g[r] = (double)STREAM / ((double)(now_ns() - t0) / 1e9) / 1e9;
        f[r] = ring_floor(cpu, STREAM);
    }
    double gbps = median(g, RUNS), fl = median(f, RUNS);
    __atomic_store_n(&c->ready, 2, __ATOMIC_RELEASE);
    xenevtchn_notify(xe, (evtchn_port_t)local);
    xengnttab_unmap(h, ring, RING_PAGES + 1);
    printf("ring (64 KiB, 4 KiB messages) over grants + evtchn: %.2f GB/s   "
           "floor (shared memfd + eventfd): %.2f GB/s   ratio %.2f (goal >= "
           "0.8)\n",
           gbps, fl, gbps / fl);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "server") == 0) {
        return server(atoi(argv[2]));
    }
    if (argc >= 6 && strcmp(argv[1], "client") == 0) {
        return client(argc, argv);
    }
    fprintf(stderr, "usage: bench_grant server DOMID | client DOMID PORT "
                    "MAPREFS RINGREFS [-c CPU]\n");
    return 2;
}
