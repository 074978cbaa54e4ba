/* SPDX-License-Identifier: MIT */
/*
 * bench_hypercall.c - the hypercall round trip (xen_version through Debian's
 * libxencall, under `procvisor run`) against its floor measured in the same
 * run: a raw AF_UNIX SOCK_SEQPACKET round trip between two processes, the
 * transport a hypercall rides on.
 *
 * usage: bench_hypercall [-c CPU] [ITERATIONS [BATCHES]]
 * -c pins the floor's echo process to CPU (the daemon's placement, which
 * scripts/bench.sh sets), so floor and hypercall cross the same cores.
 * Prints the median time per round trip of each, and hypercall/floor.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#include <stddef.h>
#include <stdint.h>
#include <xencall.h>
#include <xen/xen.h>
#include <xen/version.h>

/* The floor: a request and a reply of a hypercall's size over a socket. */
static int echo_cpu = -1;

static double socket_rtt(int iters)
{
    char msg[72] = {0}, rep[24];
    int sv[2];
    pid_t pid;
    uint64_t t0;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
        perror("socketpair");
        exit(1);
    }
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        if (echo_cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(echo_cpu, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
        for (;;) {
            if (recv(sv[1], msg, sizeof(msg), 0) <= 0 ||
                send(sv[1], rep, sizeof(rep), 0) < 0) {
                _exit(0);
            }
        }
    }
    close(sv[1]);
    t0 = now_ns();
    for (int i = 0; i < iters; i++) {
        send(sv[0], msg, sizeof(msg), 0);
        recv(sv[0], rep, sizeof(rep), 0);
    }
    double per = (double)(now_ns() - t0) / iters;
    close(sv[0]);
    waitpid(pid, NULL, 0);
    return per;
}

static double hypercall_rtt(xencall_handle *xc, int iters)
{
    uint64_t t0 = now_ns();

    for (int i = 0; i < iters; i++) {
        if (xencall2(xc, __HYPERVISOR_xen_version, XENVER_version, 0) < 0) {
            perror("xen_version");
            exit(1);
        }
    }
    return (double)(now_ns() - t0) / iters;
}

int main(int argc, char **argv)
{
    int a = 1;
    if (argc > 2 && strcmp(argv[1], "-c") == 0) {
        echo_cpu = atoi(argv[2]);
        a = 3;
    }
    int iters = argc > a ? atoi(argv[a]) : 20000;
    int batches = argc > a + 1 ? atoi(argv[a + 1]) : 9;
    double *fl = calloc((size_t)batches, sizeof(double));
    double *hc = calloc((size_t)batches, sizeof(double));
    xencall_handle *xc = xencall_open(NULL, 0);

    if (!xc || iters <= 0 || batches <= 0 || !fl || !hc) {
        fprintf(stderr, "usage: procvisor run DOMAIN -- bench_hypercall "
                        "[ITERATIONS [BATCHES]]\n");
        return 1;
    }
    hypercall_rtt(xc, iters / 10 + 1); /* warm up */
    socket_rtt(iters / 10 + 1);
    /* interleave the two so drift affects both alike */
    for (int b = 0; b < batches; b++) {
        fl[b] = socket_rtt(iters);
        hc[b] = hypercall_rtt(xc, iters);
    }
    double f = median(fl, batches), h = median(hc, batches);
    printf("floor: unix seqpacket round trip   %8.2f us (median of %d x %d)\n",
           f / 1000, batches, iters);
    printf("xen_version through libxencall     %8.2f us\n", h / 1000);
    printf("ratio hypercall/floor              %8.2f   (goal <= 1.3)\n", h / f);
    xencall_close(xc);
    free(fl);
    free(hc);
    return 0;
}
