/* SPDX-License-Identifier: MIT */
/*
 * core.c - the hypervisor's global state: boot, the frame table, logging.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv.h"

int hv_init(struct hv *hv, const struct hv_env *env, uint64_t host_pages)
{
    memset(hv, 0, sizeof(*hv));
    hv->env = *env;
    hv->boot_ns = env->now_ns(env->ctx);
    hv->next_domid = 1;
    hv->console_write_all = true;
    hv->gntalloc_limit = HV_DEFAULT_GNTALLOC;
    hv->nr_frames = host_pages;
    hv->frames = calloc(host_pages ? host_pages : 1, sizeof(*hv->frames));
    hv->cons_ring = calloc(1, HV_CONSOLE_RING);
    if (!hv->frames || !hv->cons_ring) {
        free(hv->frames);
        free(hv->cons_ring);
        return -ENOMEM;
    }
    for (uint64_t i = 0; i < host_pages; i++) {
        hv->frames[i].owner = DOMID_INVALID;
        hv->frames[i].gpfn = HV_INVALID_GPFN;
    }
    hv->free_frames = host_pages;
    /* mfn 0 is never handed out, so 0 is never a valid frame for a guest */
    if (host_pages) {
        hv->frames[0].owner = DOMID_XEN;
        hv->free_frames--;
        hv->next_frame = 1;
    }
    snprintf(hv->extraversion, sizeof(hv->extraversion), ".0-procvisor");
    /* until the environment anchors the clock: a 1 GHz TSC */
    hv->tsc_hz = 1000000000ull;
    hv_time_scale(hv->tsc_hz, &hv->tsc_mul, &hv->tsc_shift);
    return 0;
}

static void domain_free_all(struct hv *hv, struct hv_domain *list)
{
    while (list) {
        struct hv_domain *n = list->next;
        if (list->shinfo_pg.va) {
            hv->env.page_free(hv->env.ctx, &list->shinfo_pg);
        }
        if (list->startinfo_pg.va) {
            hv->env.page_free(hv->env.ctx, &list->startinfo_pg);
        }
        if (list->evtchn_gen_pg.va) {
            hv->env.page_free(hv->env.ctx, &list->evtchn_gen_pg);
        }
        if (list->evtchn) {
            for (uint32_t p = 0; p <= list->max_evtchn; p++) {
                if (list->evtchn[p].notifier && hv->env.port_release) {
                    hv->env.port_release(hv->env.ctx, list->evtchn[p].notifier);
                }
                if (list->evtchn[p].cell.va) {
                    hv->env.page_free(hv->env.ctx, &list->evtchn[p].cell);
                }
            }
        }
        for (unsigned int i = 0; i < list->max_vcpus; i++) {
            if (list->vcpu[i].upcall && hv->env.upcall_release) {
                hv->env.upcall_release(hv->env.ctx, list->vcpu[i].upcall);
            }
        }
        free(list->evtchn);
        free(list->p2m);
        free(list->cons_ring);
        free(list);
        list = n;
    }
}

/* Drop every reference to shared memory: mappings, then frames. */
static void mem_release_all(struct hv *hv, struct hv_domain *list)
{
    for (; list; list = list->next) {
        for (uint32_t h = 0; h < list->gt.mt_size; h++) {
            if (list->gt.mt[h].used) {
                hv_mem_put(hv, list->gt.mt[h].mem);
                list->gt.mt[h].used = false;
            }
        }
        hv_gnttab_fini(hv, list);
    }
}

void hv_fini(struct hv *hv)
{
    mem_release_all(hv, hv->domains);
    for (uint64_t m = 0; m < hv->nr_frames; m++) {
        hv_mem_put(hv, hv->frames[m].mem);
        hv->frames[m].mem = NULL;
    }
    domain_free_all(hv, hv->domains);
    domain_free_all(hv, hv->dead);
    free(hv->frames);
    free(hv->cons_ring);
    memset(hv, 0, sizeof(*hv));
}

uint64_t hv_now(const struct hv *hv)
{
    return hv->env.now_ns(hv->env.ctx) - hv->boot_ns;
}

void hv_logf(struct hv *hv, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof(line)) {
        n = sizeof(line) - 1;
    }
    hv_console_put(hv, "(XEN) ", 6);
    hv_console_put(hv, line, (size_t)n);
    hv_console_put(hv, "\n", 1);
    if (hv->env.log) {
        hv->env.log(hv->env.ctx, line);
    }
}
