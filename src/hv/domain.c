/* SPDX-License-Identifier: MIT */
/*
 * domain.c - domain lifecycle: created -> running -> shutdown(reason) ->
 * dying -> dead.  A domain runs while it has connections (processes); when
 * the last one closes, or dom0 destroys it, it is torn down and a record is
 * kept so `list` can show how it ended.  Domain ids are not reused while a
 * record of the old domain remains.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen_abi.h"

#include "hv.h"
#include "hcall.h"
#include "proto.h"

const char *hv_state_name(int state)
{
    switch (state) {
    case PV_DOM_CREATED:
        return "created";
    case PV_DOM_RUNNING:
        return "running";
    case PV_DOM_SHUTDOWN:
        return "shutdown";
    case PV_DOM_DYING:
        return "dying";
    case PV_DOM_DEAD:
        return "dead";
    }
    return "?";
}

const char *hv_reason_name(int reason)
{
    static const char *const xen[] = {
        [SHUTDOWN_poweroff] = "poweroff", [SHUTDOWN_reboot] = "reboot",
        [SHUTDOWN_suspend] = "suspend",   [SHUTDOWN_crash] = "crash",
        [SHUTDOWN_watchdog] = "watchdog", [SHUTDOWN_soft_reset] = "soft_reset",
    };

    if (reason >= 0 && reason < (int)(sizeof(xen) / sizeof(xen[0]))) {
        return xen[reason];
    }
    switch (reason) {
    case PV_REASON_NONE:
        return "-";
    case PV_REASON_EXITED:
        return "exited";
    case PV_REASON_DESTROYED:
        return "destroyed";
    }
    return "unknown";
}

static bool domid_in_use(const struct hv *hv, domid_t id)
{
    for (const struct hv_domain *d = hv->domains; d; d = d->next) {
        if (d->id == id) {
            return true;
        }
    }
    for (const struct hv_domain *d = hv->dead; d; d = d->next) {
        if (d->id == id) {
            return true;
        }
    }
    return false;
}

static int domid_alloc(struct hv *hv, domid_t *out)
{
    for (unsigned int tries = 0; tries < HV_MAX_DOMID; tries++) {
        domid_t id = hv->next_domid;
        hv->next_domid = id >= HV_MAX_DOMID ? 1 : (domid_t)(id + 1);
        if (!domid_in_use(hv, id)) {
            *out = id;
            return 0;
        }
    }
    return -ENOSPC;
}

struct hv_domain *hv_domain_find(struct hv *hv, domid_t id)
{
    for (struct hv_domain *d = hv->domains; d; d = d->next) {
        if (d->id == id) {
            return d;
        }
    }
    return NULL;
}

struct hv_domain *hv_domain_find_name(struct hv *hv, const char *name)
{
    for (struct hv_domain *d = hv->domains; d; d = d->next) {
        if (strcmp(d->name, name) == 0) {
            return d;
        }
    }
    return NULL;
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= PV_NAME_MAX) {
        return false;
    }
    /* a name must not look like a domid */
    if (strspn(name, "0123456789") == n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

static void start_info_fill(struct hv *hv, struct hv_domain *d)
{
    struct start_info *si = d->startinfo_pg.va;

    snprintf(si->magic, sizeof(si->magic), "xen-%d.%d-x86_64", PV_XEN_MAJOR,
             PV_XEN_MINOR);
    si->nr_pages = d->tot_pages;
    si->shared_info = d->shinfo_mfn << XEN_PAGE_SHIFT;
    si->flags = d->privileged ? (SIF_PRIVILEGED | SIF_INITDOMAIN) : 0;
    si->store_mfn = 0; /* xenstore arrives with its own issue */
    si->store_evtchn = 0;
    (void)hv;
}

int hv_domain_create(struct hv *hv, const struct hv_domain_cfg *cfg,
                     struct hv_domain **out)
{
    struct hv_domain *d;
    domid_t id;
    int rc;
    bool dom0 = !hv->domains && cfg->name && strcmp(cfg->name, "Domain-0") == 0;

    if (!cfg->name || (!dom0 && !name_ok(cfg->name))) {
        return -EINVAL;
    }
    if (hv_domain_find_name(hv, cfg->name)) {
        return -EEXIST;
    }
    if (!dom0 && strcmp(cfg->name, "Domain-0") == 0) {
        return -EINVAL; /* the name is dom0's alone */
    }
    if (cfg->max_vcpus == 0 || cfg->max_vcpus > HV_MAX_VCPUS ||
        cfg->max_evtchn == 0 || cfg->max_evtchn > HV_MAX_EVTCHN_2L ||
        cfg->max_grant_frames == 0 ||
        cfg->max_grant_frames > HV_MAX_GRANT_FRAMES || cfg->max_maptrack == 0 ||
        cfg->max_maptrack > HV_MAX_MAPTRACK) {
        return -EINVAL;
    }
    if (cfg->memory_kib < 4 || cfg->memory_kib / 4 > hv->nr_frames) {
        return -EINVAL;
    }
    if (dom0) {
        id = 0;
    } else {
        rc = domid_alloc(hv, &id);
        if (rc) {
            return rc;
        }
    }

    d = calloc(1, sizeof(*d));
    if (!d) {
        return -ENOMEM;
    }
    d->id = id;
    snprintf(d->name, sizeof(d->name), "%s", cfg->name);
    d->state = dom0 ? PV_DOM_RUNNING : PV_DOM_CREATED;
    d->reason = PV_REASON_NONE;
    d->shutdown_code = -1;
    d->privileged = dom0;
    d->flags = cfg->flags;
    d->is_console = (cfg->flags & PV_CREATE_IS_CONSOLE) != 0;
    d->translated = !(cfg->flags & PV_CREATE_PV);
    d->max_pages = cfg->memory_kib / 4;
    d->max_grant_frames = cfg->max_grant_frames;
    d->max_maptrack = cfg->max_maptrack;
    d->max_evtchn = cfg->max_evtchn;
    d->max_vcpus = cfg->max_vcpus;
    d->shinfo_gpfn = HV_INVALID_GPFN;
    d->shinfo_mfn = HV_INVALID_MFN;
    d->created_ns = hv_now(hv);
    /* the guest-physical space: memory plus room for add_to_physmap */
    d->p2m_size = d->max_pages + 1024;
    d->p2m = malloc(d->p2m_size * sizeof(*d->p2m));
    d->cons_ring = calloc(1, HV_DOMCONS_RING);
    /* dom0's limit is the ABI's; port 0 is reserved, never handed out */
    if (dom0) {
        d->max_evtchn = HV_MAX_EVTCHN_2L - 1;
    }
    d->evtchn = calloc(d->max_evtchn + 1, sizeof(*d->evtchn));
    if (!d->p2m || !d->cons_ring || !d->evtchn) {
        rc = -ENOMEM;
        goto out_free;
    }
    for (uint64_t i = 0; i < d->p2m_size; i++) {
        d->p2m[i] = HV_INVALID_MFN;
    }
    d->evtchn[0].state = ECS_RESERVED;
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        d->vcpu[i].id = i;
        d->vcpu[i].up = true;
        d->vcpu[i].runstate = RUNSTATE_running;
        d->vcpu[i].runstate_entry = d->created_ns;
        d->vcpu[i].upcall = 0;
    }

    rc = hv->env.page_alloc(hv->env.ctx, &d->shinfo_pg);
    if (rc) {
        goto out_free;
    }
    rc = hv->env.page_alloc(hv->env.ctx, &d->startinfo_pg);
    if (rc) {
        goto out_shinfo;
    }
    rc = hv->env.page_alloc(hv->env.ctx, &d->evtchn_gen_pg);
    if (rc) {
        goto out_startinfo;
    }
    rc = hv->env.page_seal(hv->env.ctx, &d->evtchn_gen_pg);
    if (rc) {
        goto out_genpg;
    }
    /* shared_info is a hypervisor page the domain may map: give it an mfn */
    rc = hv_frame_alloc(hv, NULL, HV_INVALID_GPFN, &d->shinfo_mfn);
    if (rc) {
        goto out_genpg;
    }
    hv->frames[d->shinfo_mfn].owner = id;

    /* the builder populates the domain's memory from gpfn 0 */
    for (uint64_t g = 0; g < d->max_pages; g++) {
        uint64_t mfn;
        rc = hv_alloc_extent(hv, d, 0, g, &mfn);
        if (rc) {
            goto out_frames;
        }
    }
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        struct vcpu_info *vi =
            &((struct shared_info *)d->shinfo_pg.va)->vcpu_info[i];
        vi->evtchn_upcall_mask = 1;
        /* a PV vCPU starts with Xen's 10 ms periodic timer (dom0's processes
         * are a toolstack, not a kernel that would stop it: none there) */
        if (!d->translated && !dom0) {
            d->vcpu[i].periodic.period = 10 * 1000 * 1000;
            d->vcpu[i].periodic.deadline =
                d->created_ns + d->vcpu[i].periodic.period;
        }
    }
    rc = hv_gnttab_init(hv, d);
    if (rc) {
        goto out_frames;
    }
    d->serial = ++hv->next_serial;
    hv_time_publish(hv, d);
    start_info_fill(hv, d);
    rc = hv->env.page_seal(hv->env.ctx, &d->startinfo_pg);
    if (rc) {
        hv_gnttab_fini(hv, d);
        goto out_frames;
    }

    hv->env.timers_changed(hv->env.ctx);
    /* append: the list stays in creation order */
    struct hv_domain **pp = &hv->domains;
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = d;
    hv_logf(hv, "created d%u (%s): %" PRIu64 " pages, %u vcpus", id, d->name,
            d->max_pages, d->max_vcpus);
    *out = d;
    return 0;

out_frames:
    for (uint64_t m = 1; m < hv->nr_frames; m++) {
        if (hv->frames[m].owner == id) {
            hv_frame_free(hv, m);
        }
    }
out_genpg:
    hv->env.page_free(hv->env.ctx, &d->evtchn_gen_pg);
out_startinfo:
    hv->env.page_free(hv->env.ctx, &d->startinfo_pg);
out_shinfo:
    hv->env.page_free(hv->env.ctx, &d->shinfo_pg);
out_free:
    free(d->p2m);
    free(d->cons_ring);
    free(d->evtchn);
    free(d);
    return rc;
}

/* Release everything the domain holds and move it to the dead list. */
static void domain_teardown(struct hv *hv, struct hv_domain *d)
{
    struct hv_domain **pp;

    d->state = PV_DOM_DYING;
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        struct hv_vcpu *v = &d->vcpu[i];
        v->singleshot.deadline = 0;
        v->periodic.deadline = 0;
        v->poll_deadline = 0;
        v->polling = false;
        v->waiter = NULL; /* its connection is gone or going */
        if (v->upcall && hv->env.upcall_release) {
            hv->env.upcall_release(hv->env.ctx, v->upcall);
        }
        v->upcall = 0;
    }
    /* its mappings go (their notifications with them), then its grants */
    hv_gnttab_teardown(hv, d);
    /* every port closes: interdomain peers go back to UNBOUND */
    hv_evtchn_reset(hv, d);
    free(d->evtchn);
    d->evtchn = NULL;
    for (unsigned int i = 0; i < HV_WATCHDOGS; i++) {
        d->watchdog[i].used = false;
    }
    /* every frame it owns, in its physmap or not (PV extents) */
    for (uint64_t m = 1; m < hv->nr_frames; m++) {
        if (hv->frames[m].owner == d->id) {
            hv_frame_free(hv, m);
        }
    }
    free(d->p2m);
    d->p2m = NULL;
    d->p2m_size = 0;
    d->tot_pages = 0;
    hv->env.page_free(hv->env.ctx, &d->shinfo_pg);
    hv->env.page_free(hv->env.ctx, &d->startinfo_pg);
    hv->env.page_free(hv->env.ctx, &d->evtchn_gen_pg);
    memset(&d->evtchn_gen_pg, 0, sizeof(d->evtchn_gen_pg));
    memset(&d->shinfo_pg, 0, sizeof(d->shinfo_pg));
    memset(&d->startinfo_pg, 0, sizeof(d->startinfo_pg));
    if (d->cons_line_len) {
        hv_domcons_flush(hv, d);
    }

    for (pp = &hv->domains; *pp && *pp != d; pp = &(*pp)->next) {
    }
    if (*pp) {
        *pp = d->next;
    }
    d->state = PV_DOM_DEAD;
    d->next = hv->dead;
    hv->dead = d;
    hv->nr_dead++;
    hv_logf(hv, "d%u (%s) is dead: %s", d->id, d->name,
            hv_reason_name(d->reason));
    /* the toolstack learns of it as of any domain exception */
    hv_send_global_virq(hv, VIRQ_DOM_EXC);
    if (hv->env.domain_dead) {
        hv->env.domain_dead(hv->env.ctx, d);
    }
    /* keep the newest HV_DEAD_KEPT records; their ids stay reserved */
    if (hv->nr_dead > HV_DEAD_KEPT) {
        struct hv_domain *p = hv->dead;
        while (p->next && p->next->next) {
            p = p->next;
        }
        free(p->next->cons_ring);
        free(p->next);
        p->next = NULL;
        hv->nr_dead--;
    }
    hv->env.timers_changed(hv->env.ctx);
}

void hv_domain_conn_get(struct hv *hv, struct hv_domain *d)
{
    (void)hv;
    d->nr_conns++;
    if (d->state == PV_DOM_CREATED) {
        d->state = PV_DOM_RUNNING;
    }
}

void hv_domain_conn_put(struct hv *hv, struct hv_domain *d)
{
    if (d->nr_conns == 0) {
        return;
    }
    d->nr_conns--;
    if (d->nr_conns == 0 && d->id != 0 &&
        (d->state == PV_DOM_RUNNING || d->state == PV_DOM_SHUTDOWN)) {
        if (d->reason == PV_REASON_NONE) {
            d->reason = PV_REASON_EXITED;
        }
        domain_teardown(hv, d);
    } else if (d->nr_conns == 0 && d->state == PV_DOM_DYING) {
        domain_teardown(hv, d);
    }
}

int hv_domain_destroy(struct hv *hv, struct hv_domain *d)
{
    if (d->id == 0) {
        return -EPERM;
    }
    if (d->state == PV_DOM_DYING) {
        return 0;
    }
    if (d->reason == PV_REASON_NONE) {
        d->reason = PV_REASON_DESTROYED;
    }
    if (d->nr_conns == 0) {
        domain_teardown(hv, d);
        return 0;
    }
    d->state = PV_DOM_DYING;
    /* the environment closes the connections; the last close tears down */
    hv->env.domain_kill(hv->env.ctx, d);
    return 0;
}

void hv_domain_shutdown(struct hv *hv, struct hv_domain *d, uint8_t reason)
{
    if (d->state == PV_DOM_SHUTDOWN || d->state == PV_DOM_DYING) {
        return; /* the first latched code wins */
    }
    if (d->shutdown_code >= 0) {
        reason = (uint8_t)d->shutdown_code;
    }
    d->reason = reason;
    d->state = PV_DOM_SHUTDOWN;
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        d->vcpu[i].singleshot.deadline = 0;
        d->vcpu[i].periodic.deadline = 0;
    }
    hv_logf(hv, "d%u (%s) shut down: %s", d->id, d->name,
            hv_reason_name(reason));
    hv_send_global_virq(hv, VIRQ_DOM_EXC);
    if (hv->env.domain_shutdown) {
        hv->env.domain_shutdown(hv->env.ctx, d);
    }
    hv->env.timers_changed(hv->env.ctx);
}
