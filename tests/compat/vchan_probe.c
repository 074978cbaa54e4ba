/* SPDX-License-Identifier: MIT */
/*
 * vchan_probe.c - a domain's end of vchan.sh, through Debian's unmodified
 * libxenvchan (which itself uses libxengnttab, libxenevtchn and
 * libxenstore).  It prints key=value lines.
 *
 *   server PEER PATH READ_MIN WRITE_MIN BYTES [hold]
 *   client PEER PATH BYTES [watch] [hold]
 *
 * Both sides send BYTES of a pseudo-random stream (seeded by the side) and
 * receive BYTES of the other's at the same time, non-blocking, waiting on
 * the event channel when neither direction can move.  Each prints what it
 * sent and received (bytes, an FNV-1a checksum over 64-bit words) and
 * whether every received word was the one expected.  "watch": the client
 * registers an xs_watch on PATH and retries libxenvchan_client_init on each
 * event until the server has written its nodes.  "hold": after the
 * transfer, stay connected until the peer goes (libxenvchan_is_open() == 0)
 * and say how long it took to notice, from the moment "held=1" was printed.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>
#include <xenstore.h>

#define CHUNK        65536
#define SERVER_SEED  0x5eedULL
#define CLIENT_SEED  0xc11e47ULL
#define WAIT_TIMEOUT 20000 /* ms without any event: give up */
#define FNV_OFFSET   0xcbf29ce484222325ULL
#define FNV_PRIME    0x100000001b3ULL

/* word K of the stream of SEED (splitmix64) */
static uint64_t stream_word(uint64_t seed, uint64_t k)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ULL + k * 0xbf58476d1ce4e5b9ULL;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* wait for an event on the vchan's port, at most WAIT_TIMEOUT ms */
static int wait_event(struct libxenvchan *v, int timeout)
{
    struct pollfd pfd = {.fd = libxenvchan_fd_for_select(v), .events = POLLIN};
    int n = poll(&pfd, 1, timeout);

    if (n <= 0) {
        return n == 0 ? -ETIMEDOUT : -errno;
    }
    return libxenvchan_wait(v) < 0 ? -EIO : 0;
}

struct side {
    uint64_t seed, bytes, pos, sum, words;
    int ok;
    _Alignas(uint64_t) uint8_t buf[CHUNK];
    size_t fill, off;
};

/* fill the send chunk with the next words of the stream */
static void next_chunk(struct side *s)
{
    uint64_t *w = (uint64_t *)(void *)s->buf;
    uint64_t left = s->bytes - s->pos;
    size_t n = left < CHUNK ? (size_t)left : CHUNK;

    for (size_t i = 0; i < n / 8; i++) {
        w[i] = stream_word(s->seed, s->words + i);
        s->sum = (s->sum ^ w[i]) * FNV_PRIME;
    }
    s->words += n / 8;
    s->fill = n;
    s->off = 0;
}

/* check and sum the received words in the chunk */
static void take_chunk(struct side *s)
{
    const uint64_t *w = (const uint64_t *)(const void *)s->buf;

    for (size_t i = 0; i < s->fill / 8; i++) {
        s->ok &= w[i] == stream_word(s->seed, s->words + i);
        s->sum = (s->sum ^ w[i]) * FNV_PRIME;
    }
    s->words += s->fill / 8;
    s->pos += s->fill;
    s->fill = 0;
}

static int transfer(struct libxenvchan *v, int server, uint64_t bytes)
{
    static struct side tx, rx;
    double t0 = now_ms();

    tx = (struct side){.seed = server ? SERVER_SEED : CLIENT_SEED,
                       .bytes = bytes,
                       .sum = FNV_OFFSET,
                       .ok = 1};
    rx = (struct side){.seed = server ? CLIENT_SEED : SERVER_SEED,
                       .bytes = bytes,
                       .sum = FNV_OFFSET,
                       .ok = 1};
    while (tx.pos < bytes || rx.pos < bytes) {
        int moved = 0;

        if (tx.pos < bytes) {
            if (tx.off == tx.fill) {
                next_chunk(&tx);
            }
            int n = libxenvchan_write(v, tx.buf + tx.off, tx.fill - tx.off);
            if (n < 0) {
                printf("error=write\n");
                return 1;
            }
            tx.off += (size_t)n;
            if (tx.off == tx.fill) {
                tx.pos += tx.fill;
            }
            moved |= n > 0;
        }
        if (rx.pos < bytes) {
            uint64_t left = bytes - rx.pos;
            size_t want = left < CHUNK ? (size_t)left : CHUNK;
            int n = libxenvchan_read(v, rx.buf + rx.fill, want - rx.fill);
            if (n < 0) {
                printf("error=read\n");
                return 1;
            }
            rx.fill += (size_t)n;
            if (rx.fill == want) {
                take_chunk(&rx);
            }
            moved |= n > 0;
        }
        if (!moved) {
            int e = wait_event(v, WAIT_TIMEOUT);
            if (e < 0) {
                printf("error=wait %d\n", e);
                return 1;
            }
        }
    }
    double ms = now_ms() - t0;
    printf("sent_bytes=%llu\nsent_sum=%016llx\n", (unsigned long long)tx.pos,
           (unsigned long long)tx.sum);
    printf("recv_bytes=%llu\nrecv_sum=%016llx\nrecv_ok=%d\n",
           (unsigned long long)rx.pos, (unsigned long long)rx.sum, rx.ok);
    printf("elapsed_ms=%.0f\nmib_s_each_way=%.1f\n", ms,
           ms > 0 ? (double)bytes / 1048576.0 / (ms / 1e3) : 0.0);
    return 0;
}

/* after the transfer: wait until the peer is gone */
static int hold(struct libxenvchan *v)
{
    double t0;

    printf("held=1\n");
    fflush(stdout);
    t0 = now_ms();
    while (libxenvchan_is_open(v) == 1) {
        int e = wait_event(v, 60000);
        if (e < 0) {
            printf("peer_gone=0\nerror=wait %d\n", e);
            return 1;
        }
    }
    printf("peer_gone=1\nnoticed_ms=%.0f\n", now_ms() - t0);
    return 0;
}

static int server(int peer, const char *path, size_t rmin, size_t wmin,
                  uint64_t bytes, int holding)
{
    struct libxenvchan *v =
        libxenvchan_server_init(NULL, peer, path, rmin, wmin);
    int rc;

    if (!v) {
        printf("server_init=%d\n", -errno);
        return 1;
    }
    /* not set by libxenvchan's init (malloc'd) */
    v->blocking = 0;
    printf("server_init=0\nread_order=%d\nwrite_order=%d\npid=%d\n",
           v->read.order, v->write.order, (int)getpid());
    fflush(stdout);
    while (libxenvchan_is_open(v) == 2) {
        if (wait_event(v, WAIT_TIMEOUT) < 0) {
            printf("connected=0\n");
            return 1;
        }
    }
    printf("connected=%d\n", libxenvchan_is_open(v));
    fflush(stdout);
    rc = transfer(v, 1, bytes);
    if (rc == 0 && holding) {
        rc = hold(v);
    }
    libxenvchan_close(v);
    return rc;
}

/* libxenvchan_client_init until it works, retried on each watch event on
 * PATH */
static struct libxenvchan *client_watch(int peer, const char *path)
{
    struct xs_handle *xs = xs_open(0);
    struct libxenvchan *v = NULL;
    unsigned int n, events = 0;

    if (!xs || !xs_watch(xs, path, "vchan")) {
        printf("watch=%d\n", -errno);
        return NULL;
    }
    printf("watching=1\n");
    fflush(stdout);
    for (;;) {
        struct pollfd pfd = {.fd = xs_fileno(xs), .events = POLLIN};
        if (poll(&pfd, 1, WAIT_TIMEOUT) <= 0) {
            break;
        }
        char **ev = xs_read_watch(xs, &n);
        if (!ev) {
            break;
        }
        free(ev);
        events++;
        v = libxenvchan_client_init(NULL, peer, path);
        if (v) {
            break;
        }
    }
    printf("watch_events_ge_2=%d\n", events >= 2);
    xs_unwatch(xs, path, "vchan");
    xs_close(xs);
    return v;
}

static int client(int peer, const char *path, uint64_t bytes, int watching,
                  int holding)
{
    struct libxenvchan *v;
    int rc;

    if (watching) {
        v = client_watch(peer, path);
    } else {
        v = libxenvchan_client_init(NULL, peer, path);
    }
    if (!v) {
        printf("client_init=%d\n", -errno);
        return 1;
    }
    v->blocking = 0;
    printf("client_init=0\nread_order=%d\nwrite_order=%d\npid=%d\n",
           v->read.order, v->write.order, (int)getpid());
    printf("connected=%d\n", libxenvchan_is_open(v));
    fflush(stdout);
    rc = transfer(v, 0, bytes);
    if (rc == 0 && holding) {
        rc = hold(v);
    }
    libxenvchan_close(v);
    return rc;
}

static int has(int argc, char **argv, int from, const char *word)
{
    for (int i = from; i < argc; i++) {
        if (strcmp(argv[i], word) == 0) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 7 && strcmp(argv[1], "server") == 0) {
        return server(atoi(argv[2]), argv[3], strtoul(argv[4], NULL, 0),
                      strtoul(argv[5], NULL, 0), strtoull(argv[6], NULL, 0),
                      has(argc, argv, 7, "hold"));
    }
    if (argc >= 5 && strcmp(argv[1], "client") == 0) {
        return client(atoi(argv[2]), argv[3], strtoull(argv[4], NULL, 0),
                      has(argc, argv, 5, "watch"), has(argc, argv, 5, "hold"));
    }
    fprintf(stderr, "usage: see the comment at the top of vchan_probe.c\n");
    return 2;
}
