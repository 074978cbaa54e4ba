/* SPDX-License-Identifier: MIT */
/*
 * evtchn_probe.c - event channels through libprocvisor's public API, driven
 * line by line from stdin so a shell can make two domains talk.
 *
 * Each input line is "LABEL OP ARGS..."; the answer is "LABEL=VALUE" (plus
 * "LABEL_x=..." details), flushed at once.  VALUE is the hypercall's result:
 * a port for the bind/alloc ops, else 0 or a negative errno.  Ops:
 *   alloc L RDOM           EVTCHNOP_alloc_unbound (dom SELF) for RDOM
 *   bind L RDOM RPORT      EVTCHNOP_bind_interdomain; L_pending: the new
 *                          local port's pending bit right after the bind
 *   virq L VIRQ VCPU       EVTCHNOP_bind_virq
 *   send L PORT            EVTCHNOP_send
 *   close L PORT           EVTCHNOP_close
 *   status L PORT          EVTCHNOP_status (dom SELF): L_status, L_vcpu,
 *                          L_dom, L_port, L_virq
 *   pending L PORT         the port's bit in shared_info's evtchn_pending
 *   count L                how many evtchn_pending bits are set
 *   ack L                  the upcall handler: upcall_pending, selectors and
 *                          pending bits cleared, the upcall pipe drained
 *   upcall L MS            whether vCPU 0's upcall pipe becomes readable
 *                          within MS ms (1 or 0), and drains it
 *   poll L PORT MS         SCHEDOP_poll on PORT, timeout now + MS ms: L_ms
 *                          is the time it took; "L_start=1" comes first
 *   timer L PORT MS        set_timer_op(now + MS ms) then SCHEDOP_block:
 *                          L_ms, and L_pending for PORT (VIRQ_TIMER's)
 * It prints "domid=N" and "ready=1" once its pages and upcall pipe are
 * set up, and exits at the end of its input.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xen_abi.h"

#include "procvisor/procvisor.h"

static pv_handle *h;
static struct shared_info *s;
static int upfd;

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long evtchn_op(unsigned int cmd, void *arg)
{
    return pv_hypercall(h, __HYPERVISOR_event_channel_op, cmd,
                        (unsigned long)arg, 0, 0, 0);
}

static int pending_bit(uint32_t port)
{
    return (int)((__atomic_load_n(&s->evtchn_pending[port / 64],
                                  __ATOMIC_SEQ_CST) >>
                  (port % 64)) &
                 1);
}

static void drain_upcall(void)
{
    uint64_t n;

    while (read(upfd, &n, sizeof(n)) == (ssize_t)sizeof(n)) {
    }
}

static void ack(void)
{
    for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++) {
        __atomic_store_n(&s->vcpu_info[i].evtchn_upcall_pending, 0,
                         __ATOMIC_SEQ_CST);
        __atomic_store_n(&s->vcpu_info[i].evtchn_pending_sel, 0,
                         __ATOMIC_SEQ_CST);
    }
    for (unsigned int i = 0; i < 64; i++) {
        __atomic_store_n(&s->evtchn_pending[i], 0, __ATOMIC_SEQ_CST);
    }
    drain_upcall();
}

static unsigned int count_pending(void)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < 64; i++) {
        n += (unsigned int)__builtin_popcountll(
            __atomic_load_n(&s->evtchn_pending[i], __ATOMIC_SEQ_CST));
    }
    return n;
}

static int upcall_within(int ms)
{
    struct pollfd p = {.fd = upfd, .events = POLLIN};
    int r = poll(&p, 1, ms);

    if (r > 0) {
        drain_upcall();
        return 1;
    }
    return 0;
}

static void run(const char *l, const char *op, unsigned long x, unsigned long y)
{
    if (strcmp(op, "alloc") == 0) {
        struct evtchn_alloc_unbound a = {.dom = DOMID_SELF,
                                         .remote_dom = (domid_t)x};
        long rc = evtchn_op(EVTCHNOP_alloc_unbound, &a);
        printf("%s=%ld\n", l, rc == 0 ? (long)a.port : rc);
    } else if (strcmp(op, "bind") == 0) {
        struct evtchn_bind_interdomain b = {.remote_dom = (domid_t)x,
                                            .remote_port = (uint32_t)y};
        long rc = evtchn_op(EVTCHNOP_bind_interdomain, &b);
        printf("%s=%ld\n", l, rc == 0 ? (long)b.local_port : rc);
        if (rc == 0) {
            printf("%s_pending=%d\n", l, pending_bit(b.local_port));
        }
    } else if (strcmp(op, "virq") == 0) {
        struct evtchn_bind_virq b = {.virq = (uint32_t)x, .vcpu = (uint32_t)y};
        long rc = evtchn_op(EVTCHNOP_bind_virq, &b);
        printf("%s=%ld\n", l, rc == 0 ? (long)b.port : rc);
    } else if (strcmp(op, "send") == 0) {
        struct evtchn_send sd = {.port = (uint32_t)x};
        printf("%s=%ld\n", l, evtchn_op(EVTCHNOP_send, &sd));
    } else if (strcmp(op, "close") == 0) {
        struct evtchn_close c = {.port = (uint32_t)x};
        printf("%s=%ld\n", l, evtchn_op(EVTCHNOP_close, &c));
    } else if (strcmp(op, "status") == 0) {
        struct evtchn_status st = {.dom = DOMID_SELF, .port = (uint32_t)x};
        long rc = evtchn_op(EVTCHNOP_status, &st);
        if (rc == 0) {
            printf("%s_status=%u\n%s_vcpu=%u\n", l, st.status, l, st.vcpu);
            if (st.status == EVTCHNSTAT_unbound) {
                printf("%s_dom=%u\n", l, st.u.unbound.dom);
            } else if (st.status == EVTCHNSTAT_interdomain) {
                printf("%s_dom=%u\n%s_port=%u\n", l, st.u.interdomain.dom, l,
                       st.u.interdomain.port);
            } else if (st.status == EVTCHNSTAT_virq) {
                printf("%s_virq=%u\n", l, st.u.virq);
            }
        }
        printf("%s=%ld\n", l, rc);
    } else if (strcmp(op, "pending") == 0) {
        printf("%s=%d\n", l, pending_bit((uint32_t)x));
    } else if (strcmp(op, "count") == 0) {
        printf("%s=%u\n", l, count_pending());
    } else if (strcmp(op, "ack") == 0) {
        ack();
        printf("%s=0\n", l);
    } else if (strcmp(op, "upcall") == 0) {
        printf("%s=%d\n", l, upcall_within((int)x));
    } else if (strcmp(op, "poll") == 0) {
        evtchn_port_t port = (evtchn_port_t)x;
        struct sched_poll p = {.nr_ports = 1};
        uint64_t t0;
        long rc;
        set_xen_guest_handle(p.ports, &port);
        p.timeout = pv_system_time(h, 0) + (uint64_t)y * 1000000ull;
        printf("%s_start=1\n", l);
        fflush(stdout);
        t0 = mono_ns();
        rc = pv_hypercall(h, __HYPERVISOR_sched_op, SCHEDOP_poll,
                          (unsigned long)&p, 0, 0, 0);
        printf("%s_ms=%" PRIu64 "\n", l,
               (uint64_t)((mono_ns() - t0) / 1000000u));
        printf("%s_pending=%d\n", l, pending_bit(port));
        printf("%s=%ld\n", l, rc);
    } else if (strcmp(op, "timer") == 0) {
        uint64_t t0;
        long rc;
        ack();
        rc = pv_hypercall(
            h, __HYPERVISOR_set_timer_op,
            (unsigned long)(pv_system_time(h, 0) + (uint64_t)y * 1000000ull), 0,
            0, 0, 0);
        if (rc != 0) {
            printf("%s=%ld\n", l, rc);
            return;
        }
        t0 = mono_ns();
        rc = pv_hypercall(h, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0);
        printf("%s_ms=%" PRIu64 "\n", l,
               (uint64_t)((mono_ns() - t0) / 1000000u));
        printf("%s_pending=%d\n", l, pending_bit((uint32_t)x));
        /* block enabled event delivery: mask it again */
        s->vcpu_info[0].evtchn_upcall_mask = 1;
        printf("%s=%ld\n", l, rc);
    } else {
        printf("%s=unknown\n", l);
    }
}

int main(void)
{
    char line[256], label[64], op[32];
    unsigned long x, y;

    h = pv_open();
    if (!h) {
        perror("pv_open");
        return 1;
    }
    s = pv_shared_info(h);
    upfd = pv_upcall_fd(h, 0);
    if (!s || upfd < 0) {
        perror("evtchn_probe setup");
        return 1;
    }
    printf("domid=%d\nready=1\n", pv_domid(h));
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
        x = y = 0;
        if (sscanf(line, "%63s %31s %lu %lu", label, op, &x, &y) < 2) {
            continue;
        }
        run(label, op, x, y);
        fflush(stdout);
    }
    pv_close(h);
    return 0;
}
