/* SPDX-License-Identifier: MIT */
/*
 * evtchn_pingpong.c - two domains bounce an event through Debian's
 * unmodified libxenevtchn, counting every event: none may be lost, and the
 * only spurious one allowed is the one Xen documents (bind_interdomain
 * leaves the binder's new port pending).
 *
 *   evtchn_pingpong server REMOTE_DOMID ROUNDS
 *       binds an unbound port for REMOTE_DOMID, prints "port=N", then
 *       answers every event with one.
 *   evtchn_pingpong client SERVER_DOMID PORT ROUNDS [floor[=CPU]]
 *       binds to the server's port, bounces ROUNDS events and prints the
 *       round trip; with "floor", also a raw eventfd ping-pong between two
 *       processes of its own and the ratio (=CPU pins the floor's second
 *       process there, to place it like the server).
 */
#include <errno.h>
#include <sched.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(1);
}

/* One event: wait for it, check the port, re-enable it. */
static void take(xenevtchn_handle *x, evtchn_port_t want)
{
    xenevtchn_port_or_error_t p = xenevtchn_pending(x);

    if (p < 0) {
        die("xenevtchn_pending");
    }
    if ((evtchn_port_t)p != want) {
        fprintf(stderr, "event on port %d, expected %u\n", p, want);
        exit(1);
    }
    if (xenevtchn_unmask(x, (evtchn_port_t)p) < 0) {
        die("xenevtchn_unmask");
    }
}

/* Nothing more may be pending once the exchange is over. */
static int quiet(xenevtchn_handle *x)
{
    struct pollfd pf = {.fd = xenevtchn_fd(x), .events = POLLIN};

    return poll(&pf, 1, 200) == 0;
}

static int server(int remote, long rounds)
{
    xenevtchn_handle *x = xenevtchn_open(NULL, 0);
    xenevtchn_port_or_error_t port;

    if (!x) {
        die("xenevtchn_open");
    }
    port = xenevtchn_bind_unbound_port(x, (uint32_t)remote);
    if (port < 0) {
        die("bind_unbound_port");
    }
    printf("port=%d\n", port);
    fflush(stdout);
    for (long i = 0; i < rounds; i++) {
        take(x, (evtchn_port_t)port);
        if (xenevtchn_notify(x, (evtchn_port_t)port) < 0) {
            die("xenevtchn_notify");
        }
    }
    printf("server_events=%ld\n", rounds);
    printf("server_quiet=%d\n", quiet(x));
    xenevtchn_close(x);
    return 0;
}

/* The floor: the same ping-pong over two raw eventfds. */
static int floor_cpu = -1;

static double eventfd_rtt(long rounds)
{
    int a = eventfd(0, 0), b = eventfd(0, 0);
    uint64_t v = 1, t0;
    pid_t pid;

    if (a < 0 || b < 0) {
        die("eventfd");
    }
    pid = fork();
    if (pid == 0) {
        if (floor_cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(floor_cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
        for (long i = 0; i < rounds; i++) {
            if (read(a, &v, sizeof(v)) != sizeof(v) ||
                write(b, &v, sizeof(v)) != sizeof(v)) {
                _exit(1);
            }
        }
        _exit(0);
    }
    t0 = now_ns();
    for (long i = 0; i < rounds; i++) {
        v = 1;
        if (write(a, &v, sizeof(v)) != sizeof(v) ||
            read(b, &v, sizeof(v)) != sizeof(v)) {
            die("eventfd ping-pong");
        }
    }
    double per = (double)(now_ns() - t0) / (double)rounds;
    waitpid(pid, NULL, 0);
    close(a);
    close(b);
    return per;
}

static int client(int remote, int rport, long rounds, int floor)
{
    xenevtchn_handle *x = xenevtchn_open(NULL, 0);
    xenevtchn_port_or_error_t local;
    uint64_t t0;

    if (!x) {
        die("xenevtchn_open");
    }
    local = xenevtchn_bind_interdomain(x, (uint32_t)remote, (uint32_t)rport);
    if (local < 0) {
        die("bind_interdomain");
    }
    printf("local_port=%d\n", local);
    /* Xen leaves the new local port pending: one event, at once */
    struct pollfd pf = {.fd = xenevtchn_fd(x), .events = POLLIN};
    printf("first_event_readable=%d\n", poll(&pf, 1, 1000) == 1);
    take(x, (evtchn_port_t)local);
    printf("quiet_after_first=%d\n", quiet(x));
    t0 = now_ns();
    for (long i = 0; i < rounds; i++) {
        if (xenevtchn_notify(x, (evtchn_port_t)local) < 0) {
            die("xenevtchn_notify");
        }
        take(x, (evtchn_port_t)local);
    }
    double rtt = (double)(now_ns() - t0) / (double)rounds;
    printf("client_events=%ld\n", rounds);
    printf("client_quiet=%d\n", quiet(x));
    printf("evtchn_rtt_us=%.2f\n", rtt / 1000);
    if (floor) {
        double f = eventfd_rtt(rounds);
        printf("eventfd_rtt_us=%.2f\n", f / 1000);
        printf("ratio=%.2f\n", rtt / f);
    }
    xenevtchn_close(x);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "server") == 0) {
        return server(atoi(argv[2]), atol(argv[3]));
    }
    if (argc >= 5 && strcmp(argv[1], "client") == 0) {
        int floor = argc > 5 && strncmp(argv[5], "floor", 5) == 0;
        if (floor && argv[5][5] == '=') {
            floor_cpu = atoi(argv[5] + 6);
        }
        return client(atoi(argv[2]), atoi(argv[3]), atol(argv[4]), floor);
    }
    fprintf(stderr, "usage: evtchn_pingpong server REMOTE ROUNDS | client "
                    "SERVER PORT ROUNDS [floor]\n");
    return 2;
}
