/* SPDX-License-Identifier: MIT */
/*
 * sched.c - sched_op, set_timer_op and vcpu_op: yield, block, shutdown and
 * its reasons, the domain watchdogs, and the per-vCPU singleshot and
 * periodic timers that raise VIRQ_TIMER.
 */
#include <errno.h>
#include <string.h>

#include "xen_abi.h"

#include "hcall.h"
#include "hv.h"

#define MS_NS          1000000ull
#define S_NS           1000000000ull
#define TIMER_FAR_BITS 50 /* Xen: a timeout 2^50 ns ahead is a guest bug */

static void runstate_set(const struct hv *hv, struct hv_vcpu *v, int state)
{
    uint64_t now = hv_now(hv);

    v->runstate_time[v->runstate] += now - v->runstate_entry;
    v->runstate_entry = now;
    v->runstate = state;
}

void hv_vcpu_wake(struct hv *hv, struct hv_vcpu *v)
{
    void *w = v->waiter;

    if (!w) {
        return;
    }
    v->waiter = NULL;
    v->polling = false;
    v->poll_deadline = 0;
    runstate_set(hv, v, RUNSTATE_running);
    hv->env.wake(hv->env.ctx, w, 0);
}

/* Deadlines are Xen's s_time_t: a negative one is due at once; none is
 * later than 2^62 ns (about 146 years), so sums never wrap. */
#define DEADLINE_MAX (1ull << 62)

static void timer_arm(struct hv *hv, struct hv_timer *t, uint64_t deadline)
{
    if ((int64_t)deadline <= 0) {
        deadline = 1; /* 0 means disarmed; 1 is long past */
    } else if (deadline > DEADLINE_MAX) {
        deadline = DEADLINE_MAX;
    }
    t->deadline = deadline;
    hv->env.timers_changed(hv->env.ctx);
}

static bool events_pending(const struct hv_call *c)
{
    const struct shared_info *s = c->d->shinfo_pg.va;
    const struct vcpu_info *vi = &s->vcpu_info[c->v->id];

    return __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE) &&
           !__atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_ACQUIRE);
}

/* SCHEDOP_block: enable event delivery, then sleep until an event. */
static int64_t sched_block(struct hv_call *c)
{
    struct shared_info *s = c->d->shinfo_pg.va;

    __atomic_store_n(&s->vcpu_info[c->v->id].evtchn_upcall_mask, 0,
                     __ATOMIC_RELEASE);
    if (events_pending(c) || !c->waiter || c->v->waiter) {
        return 0;
    }
    c->v->waiter = c->waiter;
    runstate_set(c->hv, c->v, RUNSTATE_blocked);
    return HCALL_BLOCKED;
}

#define POLL_MAX_PORTS 128

/*
 * SCHEDOP_poll: return at once if a listed port is pending or an upcall is
 * due; else sleep until a listed port (with several listed: any port)
 * becomes pending, an upcall is raised, or the absolute timeout passes.
 * Unlike block, the upcall mask is left alone.
 */
static int64_t sched_poll(struct hv_call *c, uint64_t arg)
{
    struct sched_poll p;
    struct hv_domain *d = c->d;
    uint32_t port = 0;

    if (copy_from_guest(c->gm, &p, arg, sizeof(p))) {
        return -EFAULT;
    }
    if (p.nr_ports > POLL_MAX_PORTS) {
        return -EINVAL;
    }
    if (!guest_range_ok(c->gm, (uint64_t)(uintptr_t)p.ports.p,
                        (size_t)p.nr_ports * sizeof(port), GM_IN)) {
        return -EFAULT;
    }
    if (events_pending(c)) {
        return 0;
    }
    for (unsigned int i = 0; i < p.nr_ports; i++) {
        copy_from_guest(c->gm, &port,
                        (uint64_t)(uintptr_t)p.ports.p + i * sizeof(port),
                        sizeof(port));
        if (port > d->max_evtchn || port >= HV_MAX_EVTCHN_2L) {
            return -EINVAL;
        }
        if (hv_evtchn_is_pending(d, port)) {
            return 0;
        }
    }
    if (!c->waiter || c->v->waiter) {
        return 0; /* inside a multicall: a spurious return is allowed */
    }
    c->v->waiter = c->waiter;
    c->v->polling = true;
    c->v->poll_port = p.nr_ports == 1 ? (int32_t)port : -1;
    if (p.timeout) {
        /* an absolute s_time_t: a negative one is due at once */
        c->v->poll_deadline = (int64_t)p.timeout <= 0    ? 1
                              : p.timeout > DEADLINE_MAX ? DEADLINE_MAX
                                                         : p.timeout;
        c->hv->env.timers_changed(c->hv->env.ctx);
    }
    runstate_set(c->hv, c->v, RUNSTATE_blocked);
    return HCALL_BLOCKED;
}

static int64_t sched_watchdog(struct hv_call *c, uint32_t id, uint32_t timeout)
{
    struct hv_domain *d = c->d;
    uint64_t deadline = hv_now(c->hv) + (uint64_t)timeout * S_NS;

    if (id > HV_WATCHDOGS) {
        return -EINVAL;
    }
    if (id == 0) {
        for (unsigned int i = 0; i < HV_WATCHDOGS; i++) {
            if (!d->watchdog[i].used) {
                d->watchdog[i].used = true;
                d->watchdog[i].timeout_s = timeout;
                d->watchdog[i].deadline = deadline ? deadline : 1;
                c->hv->env.timers_changed(c->hv->env.ctx);
                return i + 1;
            }
        }
        return -ENOSPC;
    }
    if (!d->watchdog[id - 1].used) {
        return -EINVAL;
    }
    if (timeout == 0) {
        d->watchdog[id - 1].used = false;
    } else {
        d->watchdog[id - 1].timeout_s = timeout;
        d->watchdog[id - 1].deadline = deadline;
    }
    c->hv->env.timers_changed(c->hv->env.ctx);
    return 0;
}

int64_t do_sched_op(struct hv_call *c, const uint64_t *a)
{
    uint64_t cmd = (uint32_t)a[0], arg = a[1]; /* int cmd */
    int rc;

    switch (cmd) {
    case SCHEDOP_yield:
        return 0;
    case SCHEDOP_block:
        return sched_block(c);
    case SCHEDOP_shutdown: {
        struct sched_shutdown s;
        rc = copy_from_guest(c->gm, &s, arg, sizeof(s));
        if (rc) {
            return rc;
        }
        hv_domain_shutdown(c->hv, c->d, (uint8_t)s.reason);
        return 0;
    }
    case SCHEDOP_remote_shutdown: {
        struct sched_remote_shutdown s;
        struct hv_domain *t;
        rc = copy_from_guest(c->gm, &s, arg, sizeof(s));
        if (rc) {
            return rc;
        }
        t = hv_domain_find(c->hv, s.domain_id);
        if (!t) {
            return -ESRCH;
        }
        if (!c->d->privileged) {
            return -EPERM;
        }
        hv_domain_shutdown(c->hv, t, (uint8_t)s.reason);
        return 0;
    }
    case SCHEDOP_shutdown_code: {
        struct sched_shutdown s;
        rc = copy_from_guest(c->gm, &s, arg, sizeof(s));
        if (rc) {
            return rc;
        }
        /* 0xff is Xen's SHUTDOWN_CODE_INVALID: latching it sets nothing */
        if (c->d->shutdown_code < 0 && (uint8_t)s.reason != 0xff) {
            c->d->shutdown_code = (uint8_t)s.reason;
        }
        return 0;
    }
    case SCHEDOP_watchdog: {
        struct sched_watchdog w;
        rc = copy_from_guest(c->gm, &w, arg, sizeof(w));
        if (rc) {
            return rc;
        }
        return sched_watchdog(c, w.id, w.timeout);
    }
    case SCHEDOP_poll:
        return sched_poll(c, arg);
    case SCHEDOP_pin_override:
        return c->d->privileged ? -ENOSYS : -EPERM;
    }
    return -ENOSYS;
}

/* The legacy form: the argument is the value itself. */
int64_t do_sched_op_compat(struct hv_call *c, const uint64_t *a)
{
    switch (a[0]) {
    case SCHEDOP_yield:
        return 0;
    case SCHEDOP_block:
        return sched_block(c);
    case SCHEDOP_shutdown:
        hv_domain_shutdown(c->hv, c->d, (uint8_t)a[1]);
        return 0;
    }
    return -ENOSYS;
}

/* The singleshot timer at an absolute system time; 0 cancels. */
int64_t do_set_timer_op(struct hv_call *c, const uint64_t *a)
{
    int64_t timeout = (int64_t)a[0];
    int64_t now = (int64_t)hv_now(c->hv);
    /* (only computed for a positive timeout: no signed overflow) */
    int64_t offset = timeout > 0 ? timeout - now : 0;

    if (timeout == 0) {
        c->v->singleshot.deadline = 0;
        c->hv->env.timers_changed(c->hv->env.ctx);
    } else if (timeout < 0 || (offset > 0 && (offset >> TIMER_FAR_BITS))) {
        /* Xen's workaround for wrapped guest timeouts: fire in 100 ms */
        timer_arm(c->hv, &c->v->singleshot, (uint64_t)now + 100 * MS_NS);
    } else {
        timer_arm(c->hv, &c->v->singleshot, (uint64_t)timeout);
    }
    return 0;
}

static void runstate_fill(const struct hv *hv, const struct hv_vcpu *v,
                          struct vcpu_runstate_info *ri)
{
    uint64_t now = hv_now(hv);

    memset(ri, 0, sizeof(*ri));
    ri->state = v->runstate;
    ri->state_entry_time = v->runstate_entry;
    memcpy(ri->time, v->runstate_time, sizeof(ri->time));
    ri->time[v->runstate] += now - v->runstate_entry;
}

int64_t do_vcpu_op(struct hv_call *c, const uint64_t *a)
{
    /* int cmd, unsigned int vcpuid */
    uint64_t cmd = (uint32_t)a[0], vcpuid = (uint32_t)a[1], arg = a[2];
    struct hv_domain *d = c->d;
    struct hv_vcpu *v;
    int rc;

    if (vcpuid >= d->max_vcpus) {
        return -ENOENT;
    }
    v = &d->vcpu[vcpuid];
    switch (cmd) {
    case VCPUOP_initialise:
        return -EEXIST; /* a process domain's vCPUs exist from creation */
    case VCPUOP_up:
        v->up = true;
        return 0;
    case VCPUOP_down: {
        unsigned int up = 0;
        v->up = false;
        for (unsigned int i = 0; i < d->max_vcpus; i++) {
            up += d->vcpu[i].up;
        }
        if (up == 0) {
            hv_domain_shutdown(c->hv, d, SHUTDOWN_poweroff);
        }
        return 0;
    }
    case VCPUOP_is_up:
        return v->up;
    case VCPUOP_get_runstate_info: {
        struct vcpu_runstate_info ri;
        runstate_fill(c->hv, v, &ri);
        return copy_to_guest(c->gm, arg, &ri, sizeof(ri));
    }
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer p;
        rc = copy_from_guest(c->gm, &p, arg, sizeof(p));
        if (rc) {
            return rc;
        }
        if (p.period_ns < MS_NS || p.period_ns > INT64_MAX / 2) {
            return -EINVAL;
        }
        v->periodic.period = p.period_ns;
        timer_arm(c->hv, &v->periodic, hv_now(c->hv) + p.period_ns);
        return 0;
    }
    case VCPUOP_stop_periodic_timer:
        v->periodic.period = 0;
        v->periodic.deadline = 0;
        c->hv->env.timers_changed(c->hv->env.ctx);
        return 0;
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer s;
        if (v != c->v) {
            return -EINVAL;
        }
        rc = copy_from_guest(c->gm, &s, arg, sizeof(s));
        if (rc) {
            return rc;
        }
        /* 4.17: a time already past with VCPU_SSHOTTMR_future is -ETIME;
         * otherwise a past time fires at once */
        if ((s.flags & VCPU_SSHOTTMR_future) &&
            s.timeout_abs_ns < hv_now(c->hv)) {
            return -ETIME;
        }
        timer_arm(c->hv, &v->singleshot, s.timeout_abs_ns);
        return 0;
    }
    case VCPUOP_stop_singleshot_timer:
        if (v != c->v) {
            return -EINVAL;
        }
        v->singleshot.deadline = 0;
        c->hv->env.timers_changed(c->hv->env.ctx);
        return 0;
    }
    return -ENOSYS;
}

void hv_virq_timer(struct hv *hv, struct hv_domain *d, struct hv_vcpu *v)
{
    v->timer_virqs++;
    hv_send_vcpu_virq(hv, d, v, VIRQ_TIMER);
}

static uint64_t earliest(uint64_t best, uint64_t t)
{
    return t && (!best || t < best) ? t : best;
}

uint64_t hv_next_deadline(const struct hv *hv)
{
    uint64_t best = 0;

    for (const struct hv_domain *d = hv->domains; d; d = d->next) {
        for (unsigned int i = 0; i < d->max_vcpus; i++) {
            best = earliest(best, d->vcpu[i].singleshot.deadline);
            best = earliest(best, d->vcpu[i].periodic.deadline);
            best = earliest(best, d->vcpu[i].poll_deadline);
        }
        for (unsigned int i = 0; i < HV_WATCHDOGS; i++) {
            if (d->watchdog[i].used) {
                best = earliest(best, d->watchdog[i].deadline);
            }
        }
    }
    return best;
}

void hv_run_timers(struct hv *hv)
{
    uint64_t now = hv_now(hv);

    for (struct hv_domain *d = hv->domains; d; d = d->next) {
        for (unsigned int i = 0; i < d->max_vcpus; i++) {
            struct hv_vcpu *v = &d->vcpu[i];
            if (v->singleshot.deadline && v->singleshot.deadline <= now) {
                v->singleshot.deadline = 0;
                hv_virq_timer(hv, d, v);
            }
            if (v->periodic.deadline && v->periodic.deadline <= now) {
                v->periodic.deadline += v->periodic.period;
                if (v->periodic.deadline <= now) {
                    v->periodic.deadline = now + v->periodic.period;
                }
                hv_virq_timer(hv, d, v);
            }
            if (v->poll_deadline && v->poll_deadline <= now) {
                hv_vcpu_wake(hv, v); /* a poll's timeout: returns 0 */
            }
        }
        for (unsigned int i = 0; i < HV_WATCHDOGS; i++) {
            struct hv_watchdog *w = &d->watchdog[i];
            if (w->used && w->deadline <= now) {
                w->used = false;
                hv_logf(hv, "watchdog timer %u fired for d%u", i + 1, d->id);
                hv_domain_shutdown(hv, d, SHUTDOWN_watchdog);
            }
        }
    }
}

void hv_cancel_wait(struct hv *hv, void *waiter)
{
    for (struct hv_domain *d = hv->domains; d; d = d->next) {
        for (unsigned int i = 0; i < d->max_vcpus; i++) {
            if (d->vcpu[i].waiter == waiter) {
                d->vcpu[i].waiter = NULL;
                d->vcpu[i].polling = false;
                d->vcpu[i].poll_deadline = 0;
                runstate_set(hv, &d->vcpu[i], RUNSTATE_running);
            }
        }
    }
}
