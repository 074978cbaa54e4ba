/* SPDX-License-Identifier: MIT */
/*
 * bench_xs.c - the xenstore and libxenvchan, through Debian's unmodified
 * libxenstore and libxenvchan, each against its floor measured in the same
 * run.  Run under `procvisor run DOMAIN --` (0 for dom0: its libxenstore
 * talks to $XENSTORED_PATH; a domU's through the preload library).
 *
 *   bench_xs read [-c CPU] [ITERATIONS [BATCHES]]
 *       xs_read of a 16-byte node (XBT_NULL), against a raw AF_UNIX stream
 *       round trip with a forked echo peer (pinned to CPU), of the same
 *       bytes: the request (16-byte xsd_sockmsg header + path) in one
 *       write, the reply (header + value) in one write.  Also shown: the
 *       same peer spoken to the way libxenstore speaks (header and body
 *       written and read separately, SIGPIPE ignored around each request),
 *       which tells the library's cost from the store's.
 *   bench_xs tx [-c CPU] [-s SECONDS] [CLIENTS...]
 *       committed write transactions per second with each number of
 *       concurrent clients (default 1 10 100), each a process with its own
 *       xs_open handle looping on xs_transaction_start, xs_write of its own
 *       node, xs_transaction_end(false); commits and EAGAIN retries are
 *       counted.  Against the floor: the same clients making the same three
 *       round trips (of the same sizes) per transaction on raw AF_UNIX
 *       stream sockets to one forked epoll echo server (pinned to CPU),
 *       the shape of the store's daemon.
 *   bench_xs vchan-server PEER PATH
 *       (in domain A) a libxenvchan server for domain PEER at PATH with a
 *       write ring of order 16; streams RUNS x VCHAN_STREAM bytes to the
 *       client in RING_MSG writes, then waits for it to close.
 *   bench_xs vchan-client PEER PATH [-c CPU]
 *       (in domain B) reads the stream in RING_MSG reads, each run
 *       followed by a run of bench.h's ring floor (64 KiB shared memfd,
 *       eventfd wake-ups, its producer pinned to CPU) for the same bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#include <libxenvchan.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#define HDR          ((uint32_t)sizeof(struct xsd_sockmsg))
#define VALUE_LEN    16
#define MAX_CLIENTS  200
#define VCHAN_STREAM (256ull * 1024 * 1024) /* bytes per vchan run */
#define RUNS         5 /* vchan runs, each followed by a floor run */

static const char value16[VALUE_LEN + 1] = "0123456789abcdef";

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* The whole of n bytes, or exit: the floors' peers and clients. */
static void read_all(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            _exit(0); /* the other side went */
        }
        got += (size_t)r;
    }
}

static void write_all(int fd, const void *buf, size_t n)
{
    for (size_t put = 0; put < n;) {
        ssize_t r = write(fd, (const char *)buf + put, n - put);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            _exit(0);
        }
        put += (size_t)r;
    }
}

/* "/local/domain/<id>" of the caller's domain, from its relative "domid" */
static void domain_path(struct xs_handle *h, char *out, size_t n)
{
    unsigned int len;
    char *id = xs_read(h, XBT_NULL, "domid", &len);

    if (!id) {
        die("xs_read domid");
    }
    snprintf(out, n, "/local/domain/%s", id);
    free(id);
}

/* ---- 1. the read round trip ---- */

/*
 * The floor's peer: reads requests of req bytes, answers each with rep
 * bytes.  A request arrives in one piece or in two (header, then body):
 * the peer reads exactly req bytes either way.
 */
static pid_t echo_peer(int fd, int other, size_t req, size_t rep, int cpu)
{
    pid_t pid = fork();

    if (pid < 0) {
        die("fork");
    }
    if (pid == 0) {
        char in[256], out[256] = {0};
        close(other);
        bench_pin(cpu);
        for (;;) {
            read_all(fd, in, req);
            write_all(fd, out, rep);
        }
    }
    close(fd);
    return pid;
}

/* Raw round trips on a stream socketpair, per round trip in ns.  split:
 * as libxenstore does it (see the top of the file). */
static double floor_read(size_t path_len, int iters, bool split, int cpu)
{
    size_t req = HDR + path_len, rep = HDR + VALUE_LEN;
    char msg[256] = {0}, in[256];
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        die("socketpair");
    }
    pid_t pid = echo_peer(sv[1], sv[0], req, rep, cpu);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    uint64_t t0 = now_ns();
    for (int i = 0; i < iters; i++) {
        if (split) {
            sigaction(SIGPIPE, &ign, &old);
            write_all(sv[0], msg, HDR);
            write_all(sv[0], msg + HDR, path_len);
            read_all(sv[0], in, HDR);
            read_all(sv[0], in + HDR, VALUE_LEN);
            sigaction(SIGPIPE, &old, NULL);
        } else {
            write_all(sv[0], msg, req);
            read_all(sv[0], in, rep);
        }
    }
    double per = (double)(now_ns() - t0) / iters;
    close(sv[0]);
    waitpid(pid, NULL, 0);
    return per;
}

static double xs_read_rtt(struct xs_handle *h, const char *path, int iters)
{
    uint64_t t0 = now_ns();

    for (int i = 0; i < iters; i++) {
        unsigned int len;
        char *v = xs_read(h, XBT_NULL, path, &len);
        if (!v || len != VALUE_LEN) {
            die("xs_read");
        }
        free(v);
    }
    return (double)(now_ns() - t0) / iters;
}

static int bench_read(int cpu, int iters, int batches)
{
    struct xs_handle *h = xs_open(0);
    char dom[64], path[128];

    if (!h || iters <= 0 || batches <= 0 || batches > 99) {
        fprintf(stderr, "read: no xenstore or bad arguments\n");
        return 1;
    }
    domain_path(h, dom, sizeof(dom));
    snprintf(path, sizeof(path), "%s/data/bench-read", dom);
    if (!xs_write(h, XBT_NULL, path, value16, VALUE_LEN)) {
        die("xs_write");
    }
    size_t path_len = strlen(path) + 1;
    double fl[99], sp[99], xr[99];

    xs_read_rtt(h, path, iters / 10 + 1); /* warm up */
    floor_read(path_len, iters / 10 + 1, false, cpu);
    /* interleaved, so drift hits all three alike */
    for (int b = 0; b < batches; b++) {
        fl[b] = floor_read(path_len, iters, false, cpu);
        sp[b] = floor_read(path_len, iters, true, cpu);
        xr[b] = xs_read_rtt(h, path, iters);
    }
    double f = median(fl, batches), s = median(sp, batches);
    double x = median(xr, batches);
    printf("xenstore read: request %zu B, reply %u B, median of %d x %d\n",
           HDR + path_len, HDR + VALUE_LEN, batches, iters);
    printf("floor: unix stream round trip (1 write, 1 read)  %8.2f us\n",
           f / 1000);
    printf("  the same, as libxenstore talks (2+2, sigaction) %8.2f us\n",
           s / 1000);
    printf("xs_read through libxenstore (%s)        %8.2f us\n",
           strcmp(dom, "/local/domain/0") == 0 ? "dom0" : "domU", x / 1000);
    printf("ratio xs_read/floor                              %8.2f   (goal "
           "<= 1.5; %.2f against the libxenstore-shaped floor)\n",
           x / f, x / s);
    xs_rm(h, XBT_NULL, path);
    xs_close(h);
    return 0;
}

/* ---- 2. write transactions ---- */

/* One client's counters, each on its own cache line. */
struct slot {
    _Alignas(64) uint64_t commits, retries, errors;
};

struct shared {
    uint32_t stop;
    struct slot slot[MAX_CLIENTS];
};

/* One transaction's three round trips as the floor sends them:
 * TRANSACTION_START (body "", reply "<id>"), WRITE (path and value, reply
 * "OK"), TRANSACTION_END (body "F", reply "OK"), all NUL-terminated as
 * libxenstore sends and xenstored replies. */
struct trip {
    uint32_t req, rep; /* body lengths */
};

static void tx_trips(size_t path_len, struct trip t[3])
{
    t[0] = (struct trip){1, 2};
    t[1] = (struct trip){(uint32_t)(path_len + VALUE_LEN), 3};
    t[2] = (struct trip){2, 3};
}

/*
 * The floor's server: one process, one epoll loop over every client's
 * socket, one recv per readiness event and one send per reply, as the
 * daemon.  A request's header carries the reply's body length in req_id.
 */
struct echo_conn {
    int fd;
    size_t len;
    uint8_t buf[4096];
};

static void echo_server(int *fds, int n, int cpu)
{
    int ep = epoll_create1(0);
    struct echo_conn *cs = calloc((size_t)n, sizeof(*cs));
    uint8_t out[4096] = {0};

    bench_pin(cpu);
    if (ep < 0 || !cs) {
        die("echo server");
    }
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs[i]};
        cs[i].fd = fds[i];
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) {
            die("epoll_ctl");
        }
    }
    for (;;) {
        struct epoll_event evs[64];
        int k = epoll_wait(ep, evs, 64, -1);
        for (int i = 0; i < k; i++) {
            struct echo_conn *c = evs[i].data.ptr;
            ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
                             MSG_DONTWAIT);
            if (r == 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            if (r < 0) {
                continue;
            }
            c->len += (size_t)r;
            size_t off = 0;
            struct xsd_sockmsg h;
            while (c->len - off >= HDR) {
                memcpy(&h, c->buf + off, HDR);
                if (c->len - off < HDR + h.len) {
                    break;
                }
                struct xsd_sockmsg rh = {.type = h.type, .len = h.req_id};
                memcpy(out, &rh, HDR);
                send(c->fd, out, HDR + rh.len, MSG_NOSIGNAL);
                off += HDR + h.len;
            }
            memmove(c->buf, c->buf + off, c->len - off);
            c->len -= off;
        }
    }
}

static void floor_client(int fd, const struct trip t[3], struct shared *sh,
                         struct slot *me)
{
    uint8_t msg[512] = {0}, in[512];

    while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
        for (int i = 0; i < 3; i++) {
            struct xsd_sockmsg h = {.req_id = t[i].rep, .len = t[i].req};
            memcpy(msg, &h, HDR);
            write_all(fd, msg, HDR + t[i].req);
            read_all(fd, in, HDR + t[i].rep);
        }
        __atomic_store_n(&me->commits, me->commits + 1, __ATOMIC_RELAXED);
    }
}

static void xs_client(struct xs_handle *h, const char *path, struct shared *sh,
                      struct slot *me)
{
    while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
        xs_transaction_t t = xs_transaction_start(h);
        if (t == XBT_NULL) {
            __atomic_store_n(&me->errors, me->errors + 1, __ATOMIC_RELAXED);
            continue;
        }
        if (!xs_write(h, t, path, value16, VALUE_LEN)) {
            xs_transaction_end(h, t, true);
            __atomic_store_n(&me->errors, me->errors + 1, __ATOMIC_RELAXED);
            continue;
        }
        if (xs_transaction_end(h, t, false)) {
            __atomic_store_n(&me->commits, me->commits + 1, __ATOMIC_RELAXED);
        } else if (errno == EAGAIN) {
            __atomic_store_n(&me->retries, me->retries + 1, __ATOMIC_RELAXED);
        } else {
            __atomic_store_n(&me->errors, me->errors + 1, __ATOMIC_RELAXED);
        }
    }
}

static uint64_t total(struct shared *sh, int n, size_t field)
{
    uint64_t s = 0;

    for (int i = 0; i < n; i++) {
        s += __atomic_load_n((uint64_t *)(void *)((char *)&sh->slot[i] + field),
                             __ATOMIC_RELAXED);
    }
    return s;
}

struct tx_result {
    double per_s; /* commits per second */
    uint64_t commits, retries, errors;
};

/*
 * n clients for `seconds`: the xenstore's (floor false) or the floor's.
 * The clients set up, say so on a pipe, and start together when the
 * parent closes another; commits are counted between two snapshots.
 */
static struct tx_result tx_run(const char *dom, int n, bool is_floor,
                               double seconds, int cpu)
{
    struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int ready[2], go[2], fds[MAX_CLIENTS][2];
    pid_t pids[MAX_CLIENTS], server = -1;
    struct trip t[3];
    char path[128];

    if (sh == MAP_FAILED || pipe(ready) < 0 || pipe(go) < 0) {
        die("tx setup");
    }
    snprintf(path, sizeof(path), "%s/data/bench/c%03d", dom, 0);
    tx_trips(strlen(path) + 1, t);
    if (is_floor) {
        int srv[MAX_CLIENTS];
        for (int i = 0; i < n; i++) {
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]) < 0) {
                die("socketpair");
            }
            srv[i] = fds[i][1];
        }
        server = fork();
        if (server == 0) {
            /* the clients' start is the parent's close of go[1] */
            close(go[0]);
            close(go[1]);
            close(ready[0]);
            close(ready[1]);
            echo_server(srv, n, cpu);
            _exit(0);
        }
    }
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            die("fork");
        }
        if (pids[i] > 0) {
            continue;
        }
        struct xs_handle *h = NULL;
        char c;
        close(ready[0]);
        close(go[1]);
        if (!is_floor) {
            h = xs_open(0);
            snprintf(path, sizeof(path), "%s/data/bench/c%03d", dom, i);
            if (!h || !xs_write(h, XBT_NULL, path, value16, VALUE_LEN)) {
                die("client xs_open/xs_write");
            }
        }
        write_all(ready[1], "r", 1);
        if (read(go[0], &c, 1) != 0) {
            _exit(1);
        }
        if (is_floor) {
            floor_client(fds[i][0], t, sh, &sh->slot[i]);
        } else {
            xs_client(h, path, sh, &sh->slot[i]);
            xs_close(h);
        }
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    for (int i = 0; i < n; i++) {
        char c;
        read_all(ready[0], &c, 1);
    }
    close(go[1]);  /* go */
    usleep(50000); /* let every client get going */
    uint64_t c0 = total(sh, n, offsetof(struct slot, commits));
    uint64_t t0 = now_ns();
    usleep((useconds_t)(seconds * 1e6));
    uint64_t c1 = total(sh, n, offsetof(struct slot, commits));
    uint64_t t1 = now_ns();
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++) {
        waitpid(pids[i], NULL, 0);
    }
    struct tx_result r = {
        .per_s = (double)(c1 - c0) / ((double)(t1 - t0) / 1e9),
        .commits = total(sh, n, offsetof(struct slot, commits)),
        .retries = total(sh, n, offsetof(struct slot, retries)),
        .errors = total(sh, n, offsetof(struct slot, errors)),
    };
    if (is_floor) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
        for (int i = 0; i < n; i++) {
            close(fds[i][0]);
            close(fds[i][1]);
        }
    }
    close(ready[0]);
    munmap(sh, sizeof(*sh));
    return r;
}

static int bench_tx(int cpu, double seconds, const int *counts, int ncounts)
{
    struct xs_handle *h = xs_open(0);
    char dom[64], path[128];

    if (!h) {
        die("xs_open");
    }
    domain_path(h, dom, sizeof(dom));
    snprintf(path, sizeof(path), "%s/data/bench", dom);
    printf("xenstore write transactions (start, write %s/c<i>, end): "
           "%d x %.1f s per figure, interleaved with the floor\n",
           path, 3, seconds);
    printf("floor: the same 3 round trips per transaction on raw unix stream "
           "sockets to one epoll echo server\n");
    for (int k = 0; k < ncounts; k++) {
        int n = counts[k];
        double x[3], f[3];
        uint64_t commits = 0, retries = 0, errors = 0;
        for (int r = 0; r < 3; r++) {
            struct tx_result xr = tx_run(dom, n, false, seconds, cpu);
            struct tx_result fr = tx_run(dom, n, true, seconds, cpu);
            x[r] = xr.per_s;
            f[r] = fr.per_s;
            commits += xr.commits;
            retries += xr.retries;
            errors += xr.errors;
        }
        double xm = median(x, 3), fm = median(f, 3);
        printf("%3d client%s: %9.0f tx/s   floor %9.0f tx/s (%9.0f round "
               "trips/s)   ratio %.2f   commits %" PRIu64 " EAGAIN %" PRIu64
               " errors %" PRIu64 "\n",
               n, n == 1 ? " " : "s", xm, fm, 3 * fm, xm / fm, commits, retries,
               errors);
    }
    xs_rm(h, XBT_NULL, path);
    xs_close(h);
    return 0;
}

/* ---- 3. libxenvchan between two domains ---- */

static int vchan_server(int peer, const char *path)
{
    /* read ring: the smallest; write ring: order 16 (RING_BYTES) */
    struct libxenvchan *v =
        libxenvchan_server_init(NULL, peer, path, 0, RING_BYTES);
    static uint8_t msg[RING_MSG];

    if (!v) {
        die("libxenvchan_server_init");
    }
    v->blocking = 1; /* not set by libxenvchan's init */
    printf("ready write_order=%d\n", v->write.order);
    fflush(stdout);
    memset(msg, 0x5a, sizeof(msg));
    for (uint64_t sent = 0; sent < RUNS * VCHAN_STREAM; sent += RING_MSG) {
        if (libxenvchan_write(v, msg, RING_MSG) != (int)RING_MSG) {
            die("libxenvchan_write");
        }
    }
    /* the client closes when done: the ring stays until then */
    while (libxenvchan_is_open(v) == 1) {
        if (libxenvchan_wait(v) < 0) {
            break;
        }
    }
    libxenvchan_close(v);
    return 0;
}

static int vchan_client(int peer, const char *path, int cpu)
{
    struct libxenvchan *v = libxenvchan_client_init(NULL, peer, path);
    static uint8_t msg[RING_MSG];
    double g[RUNS], f[RUNS];

    if (!v) {
        die("libxenvchan_client_init");
    }
    v->blocking = 1;
    int order = v->read.order;
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = now_ns();
        for (uint64_t got = 0; got < VCHAN_STREAM;) {
            int n = libxenvchan_read(v, msg, RING_MSG);
            if (n <= 0) {
                die("libxenvchan_read");
            }
            if (msg[0] != 0x5a) {
                fprintf(stderr, "vchan-client: not the server's bytes\n");
                return 1;
            }
            got += (uint64_t)n;
        }
        g[r] = (double)VCHAN_STREAM / ((double)(now_ns() - t0) / 1e9) / 1e9;
        f[r] = ring_floor(cpu, VCHAN_STREAM);
    }
    libxenvchan_close(v);
    double gm = median(g, RUNS), fm = median(f, RUNS);
    printf("libxenvchan (order %d ring, %u B reads and writes, %llu MiB x %d): "
           "%.2f GB/s   floor (shared memfd ring + eventfd): %.2f GB/s   "
           "ratio %.2f\n",
           order, RING_MSG, VCHAN_STREAM >> 20, RUNS, gm, fm, gm / fm);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_xs read [-c CPU] [ITERATIONS [BATCHES]]\n"
                    "       bench_xs tx [-c CPU] [-s SECONDS] [CLIENTS...]\n"
                    "       bench_xs vchan-server PEER PATH\n"
                    "       bench_xs vchan-client PEER PATH [-c CPU]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int cpu = -1, a = 2;
    double seconds = 1.0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        return usage();
    }
    const char *cmd = argv[1];
    if (strncmp(cmd, "vchan-", 6) == 0) {
        a = 4; /* after PEER PATH */
        if (argc < 4) {
            return usage();
        }
    }
    while (argc > a + 1 && argv[a][0] == '-') {
        if (strcmp(argv[a], "-c") == 0) {
            cpu = atoi(argv[a + 1]);
        } else if (strcmp(argv[a], "-s") == 0) {
            seconds = atof(argv[a + 1]);
        } else {
            return usage();
        }
        a += 2;
    }
    if (strcmp(cmd, "read") == 0) {
        return bench_read(cpu, argc > a ? atoi(argv[a]) : 5000,
                          argc > a + 1 ? atoi(argv[a + 1]) : 9);
    }
    if (strcmp(cmd, "tx") == 0) {
        int counts[16] = {1, 10, 100}, n = 3;
        if (argc > a) {
            for (n = 0; a < argc && n < 16; a++) {
                counts[n] = atoi(argv[a]);
                if (counts[n] < 1 || counts[n] > MAX_CLIENTS) {
                    return usage();
                }
                n++;
            }
        }
        return seconds > 0 ? bench_tx(cpu, seconds, counts, n) : usage();
    }
    if (strcmp(cmd, "vchan-server") == 0) {
        return vchan_server(atoi(argv[2]), argv[3]);
    }
    if (strcmp(cmd, "vchan-client") == 0) {
        return vchan_client(atoi(argv[2]), argv[3], cpu);
    }
    return usage();
}
