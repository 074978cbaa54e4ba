/* SPDX-License-Identifier: MIT */
/*
 * env.c - what the hypervisor core gets from the daemon: clocks, shareable
 * pages (sealed memfds), wake-ups of blocked callers and timer re-arming.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "daemon.h"
#include "devmodel.h"
#include "sock.h"

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t daemon_rdtsc(void)
{
    return __rdtsc();
}

/*
 * Measure the TSC rate against CLOCK_MONOTONIC_RAW.  Each end is sampled
 * between two clock reads and the tightest bracket is kept, so scheduling
 * noise does not leak into the rate.
 */
static void sample(uint64_t *tsc, uint64_t *ns)
{
    uint64_t best = UINT64_MAX;

    for (int i = 0; i < 16; i++) {
        uint64_t a = clock_ns(CLOCK_MONOTONIC_RAW);
        uint64_t t = __rdtsc();
        uint64_t b = clock_ns(CLOCK_MONOTONIC_RAW);
        if (b - a < best) {
            best = b - a;
            *tsc = t;
            *ns = a + (b - a) / 2;
        }
    }
}

int daemon_tsc_calibrate(uint64_t *hz, bool *stable)
{
    uint64_t t0, n0, t1, n1;
    struct timespec gap = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};

    sample(&t0, &n0);
    nanosleep(&gap, NULL);
    sample(&t1, &n1);
    if (n1 <= n0 || t1 <= t0) {
        return -EIO;
    }
    *hz =
        (uint64_t)(((unsigned __int128)(t1 - t0) * 1000000000ull) / (n1 - n0));
    /* the kernel keeps tsc as its clocksource only when it is invariant */
    *stable = false;
    int fd = open("/sys/devices/system/clocksource/clocksource0/"
                  "current_clocksource",
                  O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[16] = {0};
        if (read(fd, buf, sizeof(buf) - 1) > 0 && strncmp(buf, "tsc", 3) == 0) {
            *stable = true;
        }
        close(fd);
    }
    return 0;
}

static uint64_t env_now(void *ctx)
{
    (void)ctx;
    return clock_ns(CLOCK_MONOTONIC);
}

static size_t pg_bytes(const struct hv_page *pg)
{
    return (size_t)(pg->npages ? pg->npages : 1) * 4096u;
}

static int env_page_alloc(void *ctx, struct hv_page *pg)
{
    int fd, e;
    void *va;

    (void)ctx;
    fd = memfd_create("procvisor-page", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return -errno;
    }
    if (ftruncate(fd, (off_t)pg_bytes(pg)) < 0) {
        goto fail;
    }
    /* nobody who receives this page may resize it under the hypervisor */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
        goto fail;
    }
    va = mmap(NULL, pg_bytes(pg), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (va == MAP_FAILED) {
        goto fail;
    }
    pg->va = va;
    pg->cookie = (void *)(intptr_t)fd;
    return 0;
fail:
    e = errno;
    close(fd);
    return -e;
}

static void env_page_free(void *ctx, struct hv_page *pg)
{
    (void)ctx;
    if (pg->va) {
        munmap(pg->va, pg_bytes(pg));
        close((int)(intptr_t)pg->cookie);
        pg->va = NULL;
    }
}

/* The domain gets read-only access: even a reopen through /proc cannot
 * write (F_SEAL_FUTURE_WRITE leaves the hypervisor's own mapping). */
static int env_page_seal(void *ctx, struct hv_page *pg)
{
    (void)ctx;
    if (fcntl((int)(intptr_t)pg->cookie, F_ADD_SEALS,
              F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0) {
        return -errno;
    }
    return 0;
}

static void env_wake(void *ctx, void *waiter, int64_t ret)
{
    struct daemon *dm = ctx;
    struct waiter *w = waiter;
    struct conn *c = w->conn;
    struct pv_hdr h;

    if (!c->waiting) {
        return;
    }
    c->waiting = false;
    pv_hdr_init(&h, PV_MSG_HYPERCALL, 0, 0, w->seq);
    struct pv_hcall_rep rep = {.ret = ret};
    conn_reply(dm, c, &h, &rep, sizeof(rep), NULL, 0);
}

static void env_timers_changed(void *ctx)
{
    daemon_arm_timer(ctx);
}

static void env_domain_kill(void *ctx, struct hv_domain *d)
{
    conn_kill_domain(ctx, d);
}

static void env_domain_dead(void *ctx, struct hv_domain *d)
{
    xsd_domain_dead(ctx, d);
    vfiod_domain_dead(ctx, d->id);
}

static void env_domain_shutdown(void *ctx, struct hv_domain *d)
{
    xsd_domain_shutdown(ctx, d);
}

struct signal *signal_new(bool nonblock)
{
    struct signal *s = malloc(sizeof(*s));
    int p[2];

    if (!s) {
        return NULL;
    }
    /* writers use RWF_NOWAIT, so O_NONBLOCK only says how the domain's
     * reads behave (a device waits in read() on its port's pipe) */
    if (pipe2(p, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0)) < 0) {
        free(s);
        return NULL;
    }
    s->rd = p[0];
    s->wr = p[1];
    return s;
}

void signal_raise(const struct signal *s)
{
    pv_kick(s->wr);
}

void signal_free(struct signal *s)
{
    if (s) {
        close(s->rd);
        close(s->wr);
        free(s);
    }
}

static void env_kick(void *ctx, struct hv_domain *d, struct hv_vcpu *v)
{
    (void)ctx;
    (void)d;
    if (v->upcall) {
        signal_raise((struct signal *)v->upcall);
    }
}

static void env_port_notify(void *ctx, void *notifier)
{
    (void)ctx;
    signal_raise(notifier);
}

static void env_close_handle(void *ctx, void *notifier)
{
    (void)ctx;
    signal_free(notifier);
}

static void env_upcall_release(void *ctx, intptr_t upcall)
{
    (void)ctx;
    signal_free((struct signal *)upcall);
}

static void env_log(void *ctx, const char *line)
{
    daemon_log(ctx, "%s", line);
}

const struct hv_env daemon_env_template = {
    .now_ns = env_now,
    .page_alloc = env_page_alloc,
    .page_free = env_page_free,
    .page_seal = env_page_seal,
    .wake = env_wake,
    .timers_changed = env_timers_changed,
    .domain_kill = env_domain_kill,
    .domain_dead = env_domain_dead,
    .domain_shutdown = env_domain_shutdown,
    .kick = env_kick,
    .port_notify = env_port_notify,
    .port_release = env_close_handle,
    .upcall_release = env_upcall_release,
    .log = env_log,
};
