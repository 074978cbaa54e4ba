/* SPDX-License-Identifier: MIT */
/*
 * control.c - dom0's control operations: create, destroy, list, console,
 * token (a new process connection for `procvisor run`), input and down.
 * The request sizes were checked by conn.c's table; the contents are
 * checked here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

static struct hv_domain *lookup(struct daemon *dm, const uint8_t *p)
{
    struct pv_domid_req r;

    memcpy(&r, p, sizeof(r));
    if (r.domid > HV_MAX_DOMID) {
        return NULL;
    }
    return hv_domain_find(&dm->hv, (domid_t)r.domid);
}

void ctl_create(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                uint8_t *p, int *fds, int nfds)
{
    (void)fds;
    (void)nfds;
    struct pv_create_req r;
    struct hv_domain_cfg cfg;
    struct hv_domain *d;
    int rc;

    memcpy(&r, p, sizeof(r));
    if (memchr(r.name, '\0', sizeof(r.name)) == NULL ||
        (r.flags & ~(PV_CREATE_IS_CONSOLE | PV_CREATE_PV))) {
        conn_reply_ret(dm, c, h, -EINVAL);
        return;
    }
    cfg.name = r.name;
    cfg.memory_kib = r.memory_kib ? r.memory_kib : HV_DEFAULT_MEMORY_KIB;
    cfg.max_grant_frames =
        r.max_grant_frames ? r.max_grant_frames : HV_DEFAULT_GRANT_FRAMES;
    cfg.max_maptrack = r.max_maptrack ? r.max_maptrack : HV_DEFAULT_MAPTRACK;
    cfg.max_evtchn = r.max_evtchn ? r.max_evtchn : HV_DEFAULT_EVTCHN;
    cfg.max_vcpus = r.max_vcpus ? r.max_vcpus : 1;
    cfg.flags = r.flags;
    rc = hv_domain_create(&dm->hv, &cfg, &d);
    if (rc == 0) {
        xsd_domain_created(dm, d); /* its nodes, as xl writes them */
    }
    conn_reply_ret(dm, c, h, rc ? rc : d->id);
}

void ctl_destroy(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                 uint8_t *p, int *fds, int nfds)
{
    (void)fds;
    (void)nfds;
    struct hv_domain *d = lookup(dm, p);

    conn_reply_ret(dm, c, h, d ? hv_domain_destroy(&dm->hv, d) : -ESRCH);
}

static void fill_info(struct pv_dominfo *o, const struct hv_domain *d)
{
    memset(o, 0, sizeof(*o));
    o->domid = d->id;
    o->state = (uint32_t)d->state;
    o->reason = d->reason;
    o->nr_conns = d->nr_conns;
    o->tot_pages = d->tot_pages;
    o->max_pages = d->max_pages;
    o->max_grant_frames = d->max_grant_frames;
    o->max_maptrack = d->max_maptrack;
    o->max_evtchn = d->max_evtchn;
    o->max_vcpus = d->max_vcpus;
    o->created_ns = d->created_ns;
    o->cpu_hypercalls = d->hypercalls;
    o->shinfo_gpfn = d->shinfo_gpfn;
    for (unsigned int i = 0; i < d->max_vcpus; i++) {
        o->timer_virqs += d->vcpu[i].timer_virqs;
    }
    o->flags = d->flags;
    memcpy(o->name, d->name, sizeof(o->name));
}

void ctl_list(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
              uint8_t *p, int *fds, int nfds)
{
    (void)fds;
    (void)nfds;
    size_t max =
        (PV_PAYLOAD_MAX - sizeof(struct pv_rep)) / sizeof(struct pv_dominfo);
    struct pv_dominfo *out =
        (struct pv_dominfo *)(dm->tx + sizeof(struct pv_rep));
    struct pv_rep r;
    size_t n = 0;

    (void)p;
    for (struct hv_domain *d = dm->hv.domains; d && n < max; d = d->next) {
        fill_info(&out[n++], d);
    }
    for (struct hv_domain *d = dm->hv.dead; d && n < max; d = d->next) {
        fill_info(&out[n++], d);
    }
    r.ret = (int64_t)n;
    memcpy(dm->tx, &r, sizeof(r));
    conn_reply(dm, c, h, dm->tx, sizeof(r) + n * sizeof(*out), NULL, 0);
}

void ctl_console(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                 uint8_t *p, int *fds, int nfds)
{
    (void)fds;
    (void)nfds;
    struct pv_domid_req q;
    struct pv_rep r;
    size_t n;
    char *out = (char *)dm->tx + sizeof(r);
    size_t cap = PV_PAYLOAD_MAX - sizeof(r);

    memcpy(&q, p, sizeof(q));
    if (q.domid == DOMID_XEN) {
        n = hv_console_read(dm->hv.cons_ring, dm->hv.cons_prod, HV_CONSOLE_RING,
                            out, cap);
    } else {
        struct hv_domain *d = NULL;
        if (q.domid <= HV_MAX_DOMID) {
            d = hv_domain_find(&dm->hv, (domid_t)q.domid);
            for (struct hv_domain *x = dm->hv.dead; !d && x; x = x->next) {
                if (x->id == q.domid) {
                    d = x;
                }
            }
        }
        if (!d) {
            conn_reply_ret(dm, c, h, -ESRCH);
            return;
        }
        n = hv_console_read(d->cons_ring, d->cons_prod, HV_DOMCONS_RING, out,
                            cap);
    }
    r.ret = (int64_t)n;
    memcpy(dm->tx, &r, sizeof(r));
    conn_reply(dm, c, h, dm->tx, sizeof(r) + n, NULL, 0);
}

/*
 * A token: one end of a new socketpair, for `procvisor run`.  The process
 * that inherits it attaches its own connections through it; the domain
 * lives while any of them is open.
 */
void ctl_token(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
               uint8_t *p, int *fds, int nfds)
{
    (void)fds;
    (void)nfds;
    struct hv_domain *d = lookup(dm, p);
    int sv[2];

    if (!d) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    if (d->state == PV_DOM_DYING || d->state == PV_DOM_DEAD) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        conn_reply_ret(dm, c, h, -errno);
        return;
    }
    /* the kernel attaches each sender's credentials to what it reads */
    int on = 1;
    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
    if (!conn_new(dm, sv[0], CONN_TOKEN, d)) {
        close(sv[1]);
        conn_reply_ret(dm, c, h, -EMFILE);
        return;
    }
    struct pv_rep r = {.ret = d->id};
    conn_reply(dm, c, h, &r, sizeof(r), &sv[1], 1);
    close(sv[1]);
}

void ctl_down(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
              uint8_t *p, int *fds, int nfds)
{
    (void)fds;
    (void)nfds;
    (void)p;
    daemon_log(dm, "shutting down on request");
    conn_reply_ret(dm, c, h, 0);
    dm->stop = true;
}

void ctl_input(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
               uint8_t *p, int *fds, int nfds)
{
    (void)fds;
    (void)nfds;
    hv_console_input(&dm->hv, (const char *)p, h->len);
    conn_reply_ret(dm, c, h, 0);
}

void ctl_evtchn(struct daemon *dm, struct conn *c, const struct pv_hdr *h,
                uint8_t *p, int *fds, int nfds)
{
    (void)fds;
    (void)nfds;
    struct hv_domain *d = lookup(dm, p);
    struct pv_evtchn_info *out =
        (struct pv_evtchn_info *)(dm->tx + sizeof(struct pv_rep));
    size_t max = (PV_PAYLOAD_MAX - sizeof(struct pv_rep)) / sizeof(*out);
    struct shared_info *s;
    struct pv_rep r;
    size_t n = 0;

    if (!d || !d->evtchn) {
        conn_reply_ret(dm, c, h, -ESRCH);
        return;
    }
    s = d->shinfo_pg.va;
    for (uint32_t port = 1; port <= d->max_evtchn && n < max; port++) {
        const struct hv_evtchn *ch = &d->evtchn[port];
        if (ch->state == ECS_FREE) {
            continue;
        }
        memset(&out[n], 0, sizeof(out[n]));
        out[n].port = port;
        out[n].state = ch->state;
        out[n].vcpu = ch->notify_vcpu;
        out[n].remote_dom = ch->remote_dom;
        out[n].remote_port = ch->state == ECS_VIRQ ? ch->virq : ch->remote_port;
        if (ch->cell.va) {
            /* a device's port: its cell holds its pending/mask pair */
            const struct pv_evtchn_cell *cl = ch->cell.va;
            out[n].pending =
                __atomic_load_n(&cl->pending, __ATOMIC_SEQ_CST) != 0;
            out[n].masked = __atomic_load_n(&cl->masked, __ATOMIC_SEQ_CST) != 0;
        } else {
            out[n].pending = (s->evtchn_pending[port / 64] >> (port % 64)) & 1;
            out[n].masked = (s->evtchn_mask[port / 64] >> (port % 64)) & 1;
        }
        n++;
    }
    r.ret = (int64_t)n;
    memcpy(dm->tx, &r, sizeof(r));
    conn_reply(dm, c, h, dm->tx, sizeof(r) + n * sizeof(*out), NULL, 0);
}
