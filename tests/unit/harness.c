/* SPDX-License-Identifier: MIT */
/*
 * harness.c - the test harness shared by the hypervisor core unit tests:
 * the fake struct hv_env, the setup/teardown fixtures, domain builders,
 * hand-built guest memory and the hypercall helpers (harness.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xen_abi.h"

#include "guest.h"
#include "hcall.h"
#include "hv.h"
#include "proto.h"

#include "harness.h"

/* the fake environment */

static uint64_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static int fake_page_alloc(void *ctx, struct hv_page *pg)
{
    struct fake *f = ctx;

    pg->va = calloc(pg->npages ? pg->npages : 1, XEN_PAGE_SIZE);
    if (!pg->va) {
        return -ENOMEM;
    }
    pg->cookie = f;
    f->pages++;
    return 0;
}

static void fake_page_free(void *ctx, struct hv_page *pg)
{
    struct fake *f = ctx;

    if (pg->va) {
        free(pg->va);
        pg->va = NULL;
        f->pages--;
    }
}

static int fake_page_seal(void *ctx, struct hv_page *pg)
{
    (void)pg;
    ((struct fake *)ctx)->seals++;
    return 0;
}

static void fake_wake(void *ctx, void *waiter, int64_t ret)
{
    struct fake *f = ctx;

    f->wakes++;
    f->wake_waiter = waiter;
    f->wake_ret = ret;
}

static void fake_timers_changed(void *ctx)
{
    ((struct fake *)ctx)->timers_changed++;
}

static void fake_domain_kill(void *ctx, struct hv_domain *d)
{
    struct fake *f = ctx;

    f->kills++;
    f->killed = d;
}

static void fake_kick(void *ctx, struct hv_domain *d, struct hv_vcpu *v)
{
    struct fake *f = ctx;

    f->kicks++;
    f->kick_dom = d;
    f->kick_vcpu = v->id;
}

static void fake_port_notify(void *ctx, void *notifier)
{
    struct fake *f = ctx;

    f->notified[f->notifies % NOTE_MAX] = notifier;
    f->notifies++;
}

static void fake_port_release(void *ctx, void *notifier)
{
    struct fake *f = ctx;

    f->released[f->releases % NOTE_MAX] = notifier;
    f->releases++;
}

static void fake_upcall_release(void *ctx, intptr_t upcall)
{
    struct fake *f = ctx;

    f->upcall_releases++;
    f->upcall_released = upcall;
}

static void fake_log(void *ctx, const char *line)
{
    struct fake *f = ctx;

    snprintf(f->log[f->nlog % LOG_MAX], LINE_MAX_, "%s", line);
    f->nlog++;
}

bool log_has(const struct t *t, const char *needle)
{
    unsigned int n = t->f.nlog < LOG_MAX ? t->f.nlog : LOG_MAX;

    for (unsigned int i = 0; i < n; i++) {
        if (strstr(t->f.log[i], needle)) {
            return true;
        }
    }
    return false;
}

/* fixtures */

struct hv_domain_cfg cfg_of(const char *name, uint32_t flags)
{
    struct hv_domain_cfg c = {
        .name = name,
        .memory_kib = DOM_KIB,
        .max_grant_frames = HV_DEFAULT_GRANT_FRAMES,
        .max_maptrack = HV_DEFAULT_MAPTRACK,
        .max_evtchn = HV_DEFAULT_EVTCHN,
        .max_vcpus = 2,
        .flags = flags,
    };
    return c;
}

struct hv_domain *mkdom_cfg(struct t *t, const struct hv_domain_cfg *c)
{
    struct hv_domain *d = NULL;

    assert_int_equal(hv_domain_create(&t->hv, c, &d), 0);
    assert_non_null(d);
    return d;
}

struct hv_domain *mkdom(struct t *t, const char *name, uint32_t flags)
{
    struct hv_domain_cfg c = cfg_of(name, flags);

    return mkdom_cfg(t, &c);
}

int setup_hv(void **state)
{
    struct t *t = calloc(1, sizeof(*t));
    struct hv_env env = {
        .now_ns = fake_now,
        .page_alloc = fake_page_alloc,
        .page_free = fake_page_free,
        .page_seal = fake_page_seal,
        .wake = fake_wake,
        .timers_changed = fake_timers_changed,
        .domain_kill = fake_domain_kill,
        .kick = fake_kick,
        .port_notify = fake_port_notify,
        .port_release = fake_port_release,
        .upcall_release = fake_upcall_release,
        .log = fake_log,
    };

    if (!t) {
        return -1;
    }
    t->f.now = T0;
    env.ctx = &t->f;
    if (hv_init(&t->hv, &env, HOST_PAGES) != 0) {
        free(t);
        return -1;
    }
    t->gm.r = t->r;
    *state = t;
    return 0;
}

int setup_dom0(void **state)
{
    struct t *t;
    struct hv_domain_cfg c = cfg_of("Domain-0", 0);

    if (setup_hv(state) != 0) {
        return -1;
    }
    t = *state;
    if (hv_domain_create(&t->hv, &c, &t->dom0) != 0 || t->dom0->id != 0) {
        return -1;
    }
    return 0;
}

int teardown(void **state)
{
    struct t *t = *state;
    int pages;

    hv_fini(&t->hv);
    pages = t->f.pages;
    free(t);
    /* every page the core allocated went back */
    return pages == 0 ? 0 : -1;
}

/* guest memory and hypercalls */

void gm_clear(struct t *t)
{
    memset(t->r, 0, sizeof(t->r));
    t->gm.nr = 0;
}

struct gm_region *gm_add(struct t *t, uint64_t addr, void *buf, size_t len,
                         uint32_t flags)
{
    struct gm_region *r = &t->r[t->gm.nr++];

    assert_true(t->gm.nr <= NREG);
    r->addr = addr;
    r->len = (uint32_t)len;
    r->flags = flags;
    r->data = buf;
    r->dirty_lo = r->dirty_hi = 0;
    return r;
}

int64_t hcv(struct t *t, struct hv_domain *d, unsigned int vcpu, void *waiter,
            uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
    const uint64_t a[5] = {a0, a1, a2, 0, 0};
    struct hv_call c = {
        .hv = &t->hv,
        .d = d,
        .v = &d->vcpu[vcpu],
        .gm = &t->gm,
        .waiter = waiter,
    };

    return hv_hypercall(&c, op, a);
}

int64_t hc(struct t *t, struct hv_domain *d, uint64_t op, uint64_t a0,
           uint64_t a1, uint64_t a2)
{
    return hcv(t, d, 0, NULL, op, a0, a1, a2);
}

struct shared_info *shinfo(struct hv_domain *d)
{
    return d->shinfo_pg.va;
}

void advance(struct t *t, uint64_t ns)
{
    t->f.now += ns;
}

void kill_domain(struct t *t, struct hv_domain *d)
{
    hv_domain_conn_get(&t->hv, d);
    hv_domain_conn_put(&t->hv, d);
    assert_int_equal(d->state, PV_DOM_DEAD);
}
