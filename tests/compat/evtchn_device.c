/* SPDX-License-Identifier: MIT */
/*
 * evtchn_device.c - /dev/xen/evtchn as Linux's driver answers it, checked
 * through Debian's libxenevtchn and with raw ioctls: readiness under
 * select/poll/epoll, masking until written back, O_NONBLOCK, the errors of
 * every ioctl, RESTRICT_DOMID, and what survives a dead peer.  Prints
 * key=value lines.
 *
 *   evtchn_device local           one domain, loopback channels
 *   evtchn_device limits          port exhaustion (run with --max-evtchn 8)
 *   evtchn_device hold DOMID      bind an unbound port for DOMID, print it,
 *                                 then report each event until stdin closes
 *   evtchn_device orphan DOM PORT bind to DOM:PORT, notify once, wait for
 *                                 stdin to close (the peer dies meanwhile),
 *                                 notify again
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <unistd.h>

#include "xen_abi.h"
#include <xenevtchn.h>
#include <xen/sys/evtchn.h>

static int rc_of(int r)
{
    return r < 0 ? -errno : r;
}

/* readable within ms, by poll */
static int readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static int cmd_local(void)
{
    xenevtchn_handle *a = xenevtchn_open(NULL, 0);
    xenevtchn_handle *b = xenevtchn_open(NULL, 0);
    int fa, fb, pa, pb, ep;
    fd_set set;
    struct timeval tv = {0, 200000};
    struct epoll_event e = {.events = EPOLLIN}, out;

    if (!a || !b) {
        perror("xenevtchn_open");
        return 1;
    }
    fa = xenevtchn_fd(a);
    fb = xenevtchn_fd(b);
    pa = xenevtchn_bind_unbound_port(a, DOMID_SELF);
    pb = xenevtchn_bind_interdomain(b, DOMID_SELF, (uint32_t)pa);
    printf("ports_nonzero=%d\n", pa > 0 && pb > 0);
    /* the binder's first event (Xen's), then nothing */
    printf("first_event=%d\n",
           readable(fb, 1000) && xenevtchn_pending(b) == pb);
    xenevtchn_unmask(b, (evtchn_port_t)pb);
    printf("a_quiet=%d\n", !readable(fa, 100));

    /* select, poll and epoll see a send */
    xenevtchn_notify(b, (evtchn_port_t)pb);
    FD_ZERO(&set);
    FD_SET(fa, &set);
    printf("select_readable=%d\n", select(fa + 1, &set, NULL, NULL, &tv) == 1);
    ep = epoll_create1(0);
    epoll_ctl(ep, EPOLL_CTL_ADD, fa, &e);
    printf("epoll_readable=%d\n", epoll_wait(ep, &out, 1, 200) == 1);
    printf("pending=%d\n", xenevtchn_pending(a) == pa);

    /* masked until written back: more sends stay pending, the descriptor
     * is not readable, and the one event comes after the unmask */
    xenevtchn_notify(b, (evtchn_port_t)pb);
    xenevtchn_notify(b, (evtchn_port_t)pb);
    printf("masked_not_readable=%d\n", !readable(fa, 100));
    printf("epoll_masked_quiet=%d\n", epoll_wait(ep, &out, 1, 100) == 0);
    xenevtchn_unmask(a, (evtchn_port_t)pa);
    printf("after_unmask_readable=%d\n", readable(fa, 1000));
    printf("coalesced_one=%d\n", xenevtchn_pending(a) == pa);
    xenevtchn_unmask(a, (evtchn_port_t)pa);
    printf("then_quiet=%d\n", !readable(fa, 100));

    /* O_NONBLOCK: EAGAIN, not a hang */
    fcntl(fa, F_SETFL, fcntl(fa, F_GETFL) | O_NONBLOCK);
    uint32_t port;
    errno = 0;
    printf("nonblock_read=%d\n", rc_of((int)read(fa, &port, 4)));
    fcntl(fa, F_SETFL, fcntl(fa, F_GETFL) & ~O_NONBLOCK);
    printf("read_zero=%d\n", (int)read(fa, &port, 0));

    /* a write of a port that is not this descriptor's is ignored */
    uint32_t other[2] = {(uint32_t)pb, (uint32_t)pb};
    printf("write_foreign=%d\n", (int)write(fa, other, 4));
    printf("write_rounds_down=%d\n", (int)write(fa, other, 7));

    /* ioctl errors */
    struct ioctl_evtchn_notify n = {.port = 4096};
    printf("notify_out_of_range=%d\n",
           rc_of(ioctl(fa, IOCTL_EVTCHN_NOTIFY, &n)));
    n.port = (uint32_t)pb; /* b's, not a's */
    printf("notify_not_bound_here=%d\n",
           rc_of(ioctl(fa, IOCTL_EVTCHN_NOTIFY, &n)));
    struct ioctl_evtchn_unbind u = {.port = (uint32_t)pb};
    printf("unbind_not_bound_here=%d\n",
           rc_of(ioctl(fa, IOCTL_EVTCHN_UNBIND, &u)));
    printf("unknown_ioctl=%d\n",
           rc_of(ioctl(fa, _IOC(_IOC_NONE, 'E', 99, 0), 0)));
    printf("bad_virq=%d\n", rc_of(xenevtchn_bind_virq(a, 24)));
    printf("global_virq_domu=%d\n",
           rc_of(xenevtchn_bind_virq(a, VIRQ_DOM_EXC)));
    int t = xenevtchn_bind_virq(a, VIRQ_TIMER);
    printf("virq_timer_bound=%d\n", t > 0);
    printf("virq_timer_twice=%d\n", rc_of(xenevtchn_bind_virq(b, VIRQ_TIMER)));
    printf("bind_not_offered=%d\n",
           rc_of(xenevtchn_bind_interdomain(b, DOMID_SELF, (uint32_t)t)));
    printf("bind_no_domain=%d\n",
           rc_of(xenevtchn_bind_interdomain(b, 0x7000, 1)));
    printf("bind_bad_port=%d\n",
           rc_of(xenevtchn_bind_interdomain(b, DOMID_SELF, 5000)));

    /* RESTRICT_DOMID: once, never dom0 or a reserved id, then only
     * interdomain binds to that domain */
    struct ioctl_evtchn_restrict_domid r = {.domid = 0};
    printf("restrict_dom0=%d\n",
           rc_of(ioctl(fb, IOCTL_EVTCHN_RESTRICT_DOMID, &r)));
    r.domid = 5;
    printf("restrict=%d\n", rc_of(ioctl(fb, IOCTL_EVTCHN_RESTRICT_DOMID, &r)));
    printf("restrict_again=%d\n",
           rc_of(ioctl(fb, IOCTL_EVTCHN_RESTRICT_DOMID, &r)));
    printf("restricted_unbound=%d\n",
           rc_of(xenevtchn_bind_unbound_port(b, DOMID_SELF)));
    printf("restricted_virq=%d\n", rc_of(xenevtchn_bind_virq(b, VIRQ_DEBUG)));
    printf("restricted_other_dom=%d\n",
           rc_of(xenevtchn_bind_interdomain(b, 6, 1)));
    /* earlier ports keep working */
    printf("restricted_notify=%d\n", xenevtchn_notify(b, (evtchn_port_t)pb));
    printf("restricted_event=%d\n", readable(fa, 1000));

    /* unbind, then the port is gone for this descriptor */
    printf("unbind=%d\n", xenevtchn_unbind(b, (evtchn_port_t)pb));
    printf("unbind_again=%d\n", rc_of(xenevtchn_unbind(b, (evtchn_port_t)pb)));
    xenevtchn_close(a);
    xenevtchn_close(b);
    return 0;
}

static int cmd_limits(void)
{
    xenevtchn_handle *a = xenevtchn_open(NULL, 0);
    int n = 0, last = 0;

    while ((last = xenevtchn_bind_unbound_port(a, DOMID_SELF)) > 0) {
        n++;
    }
    printf("bound=%d\n", n);
    printf("exhausted=%d\n", last < 0 ? -errno : last);
    /* freeing one makes room for one */
    printf("unbind=%d\n", xenevtchn_unbind(a, 1));
    printf("again=%d\n", xenevtchn_bind_unbound_port(a, DOMID_SELF));
    xenevtchn_close(a);
    return 0;
}

/* Bind for a peer, then report events until stdin closes. */
static int cmd_hold(int dom)
{
    xenevtchn_handle *a = xenevtchn_open(NULL, 0);
    int port = xenevtchn_bind_unbound_port(a, (uint32_t)dom);
    struct pollfd p[2] = {{.fd = xenevtchn_fd(a), .events = POLLIN},
                          {.fd = 0, .events = POLLIN}};
    int events = 0;

    printf("port=%d\n", port);
    fflush(stdout);
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            break;
        }
        if (p[0].revents & POLLIN) {
            int q = xenevtchn_pending(a);
            xenevtchn_unmask(a, (evtchn_port_t)q);
            events++;
            printf("event=%d\n", events);
            fflush(stdout);
        }
        if (p[1].revents) {
            char c;
            if (read(0, &c, 1) <= 0) {
                break;
            }
        }
    }
    xenevtchn_close(a);
    return 0;
}

/* Bind to DOM:PORT; when stdin closes (the peer is dead by then), send. */
static int cmd_orphan(int dom, int rport)
{
    xenevtchn_handle *a = xenevtchn_open(NULL, 0);
    int local = xenevtchn_bind_interdomain(a, (uint32_t)dom, (uint32_t)rport);
    char c;

    printf("local=%d\n", local);
    printf("first_notify=%d\n", xenevtchn_notify(a, (evtchn_port_t)local));
    fflush(stdout);
    while (read(0, &c, 1) > 0) {
    }
    /* the peer is gone: the send is dropped, not an error */
    printf("notify_after_peer_died=%d\n",
           rc_of(xenevtchn_notify(a, (evtchn_port_t)local)));
    fflush(stdout);
    xenevtchn_close(a);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "local") == 0) {
        return cmd_local();
    }
    if (argc >= 2 && strcmp(argv[1], "limits") == 0) {
        return cmd_limits();
    }
    if (argc >= 3 && strcmp(argv[1], "hold") == 0) {
        return cmd_hold(atoi(argv[2]));
    }
    if (argc >= 4 && strcmp(argv[1], "orphan") == 0) {
        return cmd_orphan(atoi(argv[2]), atoi(argv[3]));
    }
    fprintf(stderr, "usage: evtchn_device local|limits|hold DOM|orphan DOM "
                    "PORT\n");
    return 2;
}
