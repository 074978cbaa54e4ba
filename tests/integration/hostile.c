/* SPDX-License-Identifier: MIT */
/*
 * hostile.c - a domain process that speaks the wire protocol with raw
 * syscalls and breaks every rule it can: short, oversized and malformed
 * datagrams, wrong versions, messages out of order, control requests from
 * a domU, lying region tables, descriptors where none belong, garbage on
 * the shared token.  After each attack it checks how the hypervisor
 * answered, and at the end that it still serves this domain normally.
 *
 * Prints one line per attack and "survived" at the end; exits 1 on any
 * unexpected answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "xen_abi.h"

#include "client.h"
#include "sock.h"

static int failures;

/* What the hypervisor did with a connection after an attack. */
enum outcome { CLOSED, REPLIED, SILENT };

static enum outcome outcome_of(int fd, int64_t *ret)
{
    uint8_t b[PV_MSG_MAX + 1];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    long n;

    if (poll(&p, 1, 2000) <= 0) {
        return SILENT;
    }
    n = recv(fd, b, sizeof(b), 0);
    if (n <= 0) {
        return CLOSED;
    }
    if (ret && n >= (long)(sizeof(struct pv_hdr) + sizeof(int64_t))) {
        memcpy(ret, b + sizeof(struct pv_hdr), sizeof(*ret));
    }
    return REPLIED;
}

static void expect(const char *what, enum outcome got, enum outcome want)
{
    static const char *const names[] = {"closed", "replied", "silent"};

    printf("%-40s %s\n", what, names[got]);
    if (got != want) {
        printf("  expected %s\n", names[want]);
        failures++;
    }
}

/* An operation that must be refused by the kernel or the hypervisor. */
static void expect_refused(const char *what, bool refused)
{
    printf("%-40s %s\n", what, refused ? "refused" : "ALLOWED");
    if (!refused) {
        failures++;
    }
}

static int fresh(bool hello)
{
    int fd = pvc_domain_socket();

    if (fd < 0) {
        fprintf(stderr, "cannot attach: %s\n", strerror(-fd));
        exit(1);
    }
    if (hello) {
        struct pv_hdr h;
        struct pv_hello_req req = {.version = PV_PROTO_VERSION};
        uint8_t msg[sizeof(h) + sizeof(req)];
        pv_hdr_init(&h, PV_MSG_HELLO, 0, sizeof(req), 1);
        memcpy(msg, &h, sizeof(h));
        memcpy(msg + sizeof(h), &req, sizeof(req));
        send(fd, msg, sizeof(msg), 0);
        if (outcome_of(fd, NULL) != REPLIED) {
            fprintf(stderr, "hello failed\n");
            exit(1);
        }
    }
    return fd;
}

static void send_raw(int fd, const void *b, size_t n)
{
    send(fd, b, n, MSG_NOSIGNAL);
}

static void send_msg(int fd, uint16_t type, uint16_t flags, const void *p,
                     size_t n)
{
    uint8_t *b = malloc(sizeof(struct pv_hdr) + n);
    struct pv_hdr h;

    pv_hdr_init(&h, type, flags, (uint32_t)n, 7);
    memcpy(b, &h, sizeof(h));
    if (n) {
        memcpy(b + sizeof(h), p, n);
    }
    send_raw(fd, b, sizeof(h) + n);
    free(b);
}

static void attack_header(void)
{
    int fd;
    struct pv_hdr h;
    uint8_t big[PV_MSG_MAX + 100];

    fd = fresh(false);
    send_raw(fd, "x", 1);
    expect("1-byte datagram", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(false);
    pv_hdr_init(&h, PV_MSG_HELLO, 0, 8, 1);
    h.magic = 0xdead;
    send_raw(fd, &h, sizeof(h));
    expect("bad magic", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(false);
    pv_hdr_init(&h, PV_MSG_HELLO, 0, 1000, 1);
    send_raw(fd, &h, sizeof(h));
    expect("length larger than datagram", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(false);
    memset(big, 0, sizeof(big));
    pv_hdr_init(&h, PV_MSG_HELLO, 0, sizeof(big) - sizeof(h), 1);
    memcpy(big, &h, sizeof(h));
    send_raw(fd, big, sizeof(big));
    expect("oversized datagram", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(false);
    struct pv_hello_req req = {.version = 99};
    send_msg(fd, PV_MSG_HELLO, 0, &req, sizeof(req));
    int64_t ret = 0;
    expect("wrong protocol version", outcome_of(fd, &ret), REPLIED);
    if (ret != -EPROTONOSUPPORT) {
        printf("  expected -EPROTONOSUPPORT, got %lld\n", (long long)ret);
        failures++;
    }
    close(fd);
}

static void attack_order(void)
{
    int fd;
    struct pv_hcall_req hr = {.op = __HYPERVISOR_xen_version};
    struct pv_hello_req req = {.version = PV_PROTO_VERSION};
    struct pv_create_req cr;

    fd = fresh(false);
    send_msg(fd, PV_MSG_HYPERCALL, 0, &hr, sizeof(hr));
    expect("hypercall before hello", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(true);
    send_msg(fd, PV_MSG_HELLO, 0, &req, sizeof(req));
    expect("second hello", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(true);
    memset(&cr, 0, sizeof(cr));
    strcpy(cr.name, "evil");
    send_msg(fd, PV_MSG_CREATE, 0, &cr, sizeof(cr));
    expect("control request from a domU", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(true);
    send_msg(fd, PV_MSG_DOWN, 0, NULL, 0);
    expect("DOWN from a domU", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(true);
    send_msg(fd, PV_MSG_HYPERCALL, PV_F_REPLY, &hr, sizeof(hr));
    expect("a reply sent as a request", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(true);
    send_msg(fd, 31, 0, NULL, 0);
    expect("unknown message type", outcome_of(fd, NULL), CLOSED);
    close(fd);

    fd = fresh(true);
    send_msg(fd, PV_MSG_ATTACH, 0, NULL, 0);
    expect("attach on a process connection", outcome_of(fd, NULL), CLOSED);
    close(fd);
}

static void attack_regions(void)
{
    struct {
        struct pv_hcall_req r;
        struct pv_region g[2];
        uint8_t data[64];
    } m;
    int fd;
    int64_t ret;

    memset(&m, 0, sizeof(m));
    m.r.op = __HYPERVISOR_xen_version;
    m.r.nr_regions = 100000;
    fd = fresh(true);
    send_msg(fd, PV_MSG_HYPERCALL, 0, &m.r, sizeof(m.r));
    expect("region count beyond the payload", outcome_of(fd, NULL), CLOSED);
    close(fd);

    m.r.nr_regions = 1;
    m.g[0].addr = ~0ull - 4;
    m.g[0].len = 16;
    m.g[0].flags = PV_REGION_OUT;
    fd = fresh(true);
    send_msg(fd, PV_MSG_HYPERCALL, 0, &m, sizeof(m.r) + sizeof(m.g[0]));
    expect("region wrapping the address space", outcome_of(fd, NULL), CLOSED);
    close(fd);

    m.g[0].addr = 0x1000;
    m.g[0].len = 64;
    m.g[0].flags = PV_REGION_IN;
    fd = fresh(true);
    send_msg(fd, PV_MSG_HYPERCALL, 0, &m, sizeof(m.r) + sizeof(m.g[0]) + 10);
    expect("IN region longer than its data", outcome_of(fd, NULL), CLOSED);
    close(fd);

    m.g[0].flags = 0x80;
    fd = fresh(true);
    send_msg(fd, PV_MSG_HYPERCALL, 0, &m, sizeof(m));
    expect("unknown region flags", outcome_of(fd, NULL), CLOSED);
    close(fd);

    m.g[0].flags = PV_REGION_OUT;
    m.g[0].len = PV_MSG_MAX - 100;
    m.g[1] = m.g[0];
    m.r.nr_regions = 2;
    fd = fresh(true);
    send_msg(fd, PV_MSG_HYPERCALL, 0, &m, sizeof(m.r) + 2 * sizeof(m.g[0]));
    ret = 0;
    expect("OUT regions larger than a reply", outcome_of(fd, &ret), REPLIED);
    if (ret != -E2BIG) {
        printf("  expected -E2BIG, got %lld\n", (long long)ret);
        failures++;
    }
    close(fd);

    /* a well-formed call whose pointer was not carried: -EFAULT */
    m.r.nr_regions = 0;
    m.r.args[0] = XENVER_extraversion;
    m.r.args[1] = 0x5000;
    fd = fresh(true);
    send_msg(fd, PV_MSG_HYPERCALL, 0, &m.r, sizeof(m.r));
    ret = 0;
    expect("pointer outside every region", outcome_of(fd, &ret), REPLIED);
    if (ret != -EFAULT) {
        printf("  expected -EFAULT, got %lld\n", (long long)ret);
        failures++;
    }
    close(fd);

    m.r.vcpu = 1000;
    fd = fresh(true);
    send_msg(fd, PV_MSG_HYPERCALL, 0, &m.r, sizeof(m.r));
    ret = 0;
    expect("nonexistent vcpu", outcome_of(fd, &ret), REPLIED);
    if (ret != -EINVAL) {
        printf("  expected -EINVAL, got %lld\n", (long long)ret);
        failures++;
    }
    close(fd);
}

static void attack_token(void)
{
    const char *tok = getenv(PV_ENV_FD);
    int t = tok ? atoi(tok) : -1;
    int p[2], fds[4];
    struct pv_hdr h;
    struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};

    if (t < 0) {
        printf("no token: skipping token attacks\n");
        return;
    }
    /* garbage, a pipe instead of a socket, and too many descriptors */
    send_raw(t, "garbage", 7);
    pv_hdr_init(&h, PV_MSG_HYPERCALL, 0, 0, 1);
    send_raw(t, &h, sizeof(h));
    if (pipe(p) == 0) {
        pv_hdr_init(&h, PV_MSG_ATTACH, 0, 0, 0);
        pv_send(t, &iov, 1, p, 1, 0);
        close(p[1]);
        char c;
        expect("pipe handed over as a connection",
               read(p[0], &c, 1) == 0 ? CLOSED : SILENT, CLOSED);
        close(p[0]);
    }
    for (int i = 0; i < 4; i++) {
        fds[i] = open("/dev/null", O_RDONLY);
    }
    pv_send(t, &iov, 1, fds, 4, 0);
    for (int i = 0; i < 4; i++) {
        close(fds[i]);
    }
    /* the token still works: a new connection makes a hypercall */
    struct pvc c;
    uint64_t v[5] = {XENVER_version};
    expect_refused("token broken by garbage",
                   pvc_init(&c, fresh(false)) == 0 &&
                       pvc_hypercall(&c, 0, __HYPERVISOR_xen_version, v) ==
                           ((4 << 16) | 17));
    pvc_fini(&c);
}

/* Shared pages stay what they were granted as, even with raw syscalls. */
static void attack_pages(void)
{
    struct pvc c;
    struct pv_map_req req = {.what = PV_MAP_START_INFO};
    char path[64], b = 1;
    int fd = -1, again;

    if (pvc_init(&c, fresh(false)) != 0) {
        failures++;
        return;
    }
    if (pvc_call(&c, PV_MSG_MAP, &req, sizeof(req), NULL, 0, NULL, &fd) < 0 ||
        fd < 0) {
        printf("map start_info failed\n");
        failures++;
        pvc_fini(&c);
        return;
    }
    expect_refused("start_info mapped writable",
                   mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                        0) == MAP_FAILED);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    again = open(path, O_RDWR);
    expect_refused("start_info reopened and written",
                   again < 0 || pwrite(again, &b, 1, 0) != 1);
    expect_refused("start_info resized", ftruncate(fd, 0) != 0);
    if (again >= 0) {
        close(again);
    }
    close(fd);
    req.what = PV_MAP_SHARED_INFO;
    fd = -1;
    if (pvc_call(&c, PV_MSG_MAP, &req, sizeof(req), NULL, 0, NULL, &fd) >= 0 &&
        fd >= 0) {
        expect_refused("shared_info resized", ftruncate(fd, 1 << 20) != 0);
        close(fd);
    }
    req.what = 77;
    int64_t r =
        pvc_call(&c, PV_MSG_MAP, &req, sizeof(req), NULL, 0, NULL, NULL);
    expect_refused("map of an unknown page (-EINVAL)", r == -EINVAL);
    pvc_fini(&c);
}

/*
 * A domain jams the wake-up of its own device-attached port (fills the
 * pipe, makes its write end blocking, clears the cell's pending flag) and
 * has the hypervisor raise the port: the hypervisor must not block on it.
 */
static void attack_signal(void)
{
    struct pvc c;
    struct evtchn_bind_ipi ipi = {.vcpu = 0};
    struct evtchn_send snd;
    struct pv_port_req req;
    int fds[3] = {-1, -1, -1}, nfds = 3;
    uint64_t a[5] = {EVTCHNOP_bind_ipi, (uint64_t)(uintptr_t)&ipi};
    char junk[4096];
    struct pv_evtchn_cell *cell;

    if (pvc_init(&c, fresh(false)) != 0 ||
        pvc_hypercall(&c, 0, __HYPERVISOR_event_channel_op, a) != 0) {
        printf("bind_ipi failed\n");
        failures++;
        return;
    }
    req.port = ipi.port;
    req.pad = 0;
    if (pvc_call_fds(&c, PV_MSG_EVTCHN_ATTACH, &req, sizeof(req), NULL, 0, NULL,
                     fds, &nfds) < 0 ||
        nfds != 3) {
        printf("attach failed\n");
        failures++;
        return;
    }
    cell = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fds[2], 0);
    memset(junk, 1, sizeof(junk));
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    while (write(fds[1], junk, sizeof(junk)) > 0) {
    }
    fcntl(fds[1], F_SETFL, 0); /* blocking, for anyone who writes next */
    for (int i = 0; i < 3; i++) {
        cell->pending = 0;
        cell->masked = 0;
        snd.port = ipi.port;
        a[0] = EVTCHNOP_send;
        a[1] = (uint64_t)(uintptr_t)&snd;
        pvc_hypercall(&c, 0, __HYPERVISOR_event_channel_op, a);
    }
    /* the hypervisor still answers */
    uint64_t v[5] = {XENVER_version};
    expect_refused("hypervisor blocked on a jammed wake-up",
                   pvc_hypercall(&c, 0, __HYPERVISOR_xen_version, v) ==
                       ((4 << 16) | 17));
    munmap(cell, 4096);
    for (int i = 0; i < 3; i++) {
        close(fds[i]);
    }
    pvc_fini(&c);
}

int main(void)
{
    struct pvc c;
    uint64_t a[5] = {XENVER_version};
    int64_t v;
    int fd;

    attack_header();
    attack_order();
    attack_regions();
    attack_token();
    attack_pages();
    attack_signal();

    fd = pvc_domain_socket();
    if (fd < 0 || pvc_init(&c, fd)) {
        printf("cannot reconnect\n");
        return 1;
    }
    v = pvc_hypercall(&c, 0, __HYPERVISOR_xen_version, a);
    printf("xen_version after the attacks: %lld.%lld\n", (long long)(v >> 16),
           (long long)(v & 0xffff));
    pvc_fini(&c);
    if (v != ((4 << 16) | 17)) {
        failures++;
    }
    if (failures) {
        printf("%d unexpected answers\n", failures);
        return 1;
    }
    printf("survived\n");
    return 0;
}
