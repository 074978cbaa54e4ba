/* SPDX-License-Identifier: MIT */
/*
 * marshal.c - carry a hypercall's argument memory to the hypervisor.
 *
 * For each hypercall (and sub-op) a plan names the memory the call reads
 * (IN) and may write (OUT).  IN bytes travel straight from the caller's
 * memory through sendmsg's iovecs (a bad pointer fails as EFAULT there);
 * OUT bytes from the reply are written back with a checked copy.  Memory a
 * plan does not name is unreachable, so the hypervisor answers -EFAULT,
 * as Xen does for a bad guest handle.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "xen_abi.h"

#include "client.h"
#include "xen_args.h"
#include "sock.h"

/* the reply must fit: keep every plan comfortably inside one message */
#define PLAN_BYTES (PV_PAYLOAD_MAX / 2)

struct plan {
    unsigned int nr;
    struct pv_region r[PV_REGIONS_MAX];
    size_t bytes;     /* IN + OUT bytes and region records */
    bool full;        /* something did not fit */
    uint64_t extents; /* a reservation: how many of its extents travel */
};

static void plan_add(struct plan *p, uint64_t addr, size_t len, uint32_t flags)
{
    size_t cost;

    if (addr == 0 || len == 0) {
        return;
    }
    cost = sizeof(struct pv_region) + len * ((flags & PV_REGION_IN) ? 1 : 0) +
           len * ((flags & PV_REGION_OUT) ? 1 : 0);
    if (p->nr == PV_REGIONS_MAX || p->bytes + cost > PLAN_BYTES ||
        len > PLAN_BYTES) {
        p->full = true;
        return;
    }
    p->r[p->nr].addr = addr;
    p->r[p->nr].len = (uint32_t)len;
    p->r[p->nr].flags = flags;
    p->nr++;
    p->bytes += cost;
}

#define IN    PV_REGION_IN
#define OUT   PV_REGION_OUT
#define INOUT (PV_REGION_IN | PV_REGION_OUT)

/* How many extents of a list can travel in what is left of the plan. */
static uint64_t extents_fit(const struct plan *p, uint64_t want, bool inout)
{
    size_t left = PLAN_BYTES - p->bytes - sizeof(struct pv_region);
    uint64_t fit = left / (sizeof(xen_pfn_t) * (inout ? 2 : 1));

    return want < fit ? want : fit;
}

static void plan_memory_op(struct plan *p, const uint64_t *a)
{
    unsigned int op = (unsigned int)(a[0] & MEMOP_CMD_MASK);
    uint64_t start = a[0] >> MEMOP_EXTENT_SHIFT;
    struct xen_memory_reservation r;

    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        plan_add(p, a[1], sizeof(r), IN);
        if (pvc_peek(&r, a[1], sizeof(r)) || start >= r.nr_extents) {
            return;
        }
        /* what does not fit is left for the caller to continue, as after a
         * preempted Xen call: the count done comes back */
        uint64_t n = extents_fit(p, r.nr_extents - start, true);
        plan_add(p,
                 (uint64_t)(uintptr_t)r.extent_start.p +
                     start * sizeof(xen_pfn_t),
                 n * sizeof(xen_pfn_t), INOUT);
        p->extents = n;
        return;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
        plan_add(p, a[1], sizeof(struct xen_memory_domain), IN);
        return;
    case XENMEM_add_to_physmap:
        plan_add(p, a[1], sizeof(struct xen_add_to_physmap), IN);
        return;
    }
}

static void plan_xen_version(struct plan *p, const uint64_t *a)
{
    static const uint32_t out_size[] = {
        [XENVER_extraversion] = sizeof(xen_extraversion_t),
        [XENVER_compile_info] = sizeof(struct xen_compile_info),
        [XENVER_capabilities] = sizeof(xen_capabilities_info_t),
        [XENVER_changeset] = sizeof(xen_changeset_info_t),
        [XENVER_platform_parameters] = sizeof(struct xen_platform_parameters),
        [XENVER_guest_handle] = sizeof(xen_domain_handle_t),
        [XENVER_commandline] = sizeof(xen_commandline_t),
    };
    uint64_t cmd = a[0], arg = a[1];
    uint32_t len;

    if (cmd == XENVER_get_features) {
        plan_add(p, arg, sizeof(struct xen_feature_info), INOUT);
    } else if (cmd >= 10 && cmd <= 14) {
        /* xen_varbuf: u32 len, then len bytes */
        plan_add(p, arg, sizeof(len), IN);
        if (arg && pvc_peek(&len, arg, sizeof(len)) == 0) {
            /* no answer is longer than a page: offer no more than that */
            plan_add(p, arg + sizeof(len), len < 4096 ? len : 4096, OUT);
        }
    } else if (cmd < sizeof(out_size) / sizeof(out_size[0]) && out_size[cmd]) {
        plan_add(p, arg, out_size[cmd], OUT);
    }
}

/* The size of one GNTTABOP_* argument struct, 0 for an unknown cmd. */
static size_t gnttab_arg_size(uint64_t cmd)
{
    static const uint8_t size[] = {
        [GNTTABOP_map_grant_ref] = sizeof(struct gnttab_map_grant_ref),
        [GNTTABOP_unmap_grant_ref] = sizeof(struct gnttab_unmap_grant_ref),
        [GNTTABOP_setup_table] = sizeof(struct gnttab_setup_table),
        [GNTTABOP_transfer] = sizeof(struct gnttab_transfer),
        [GNTTABOP_copy] = sizeof(struct gnttab_copy),
        [GNTTABOP_query_size] = sizeof(struct gnttab_query_size),
        [GNTTABOP_unmap_and_replace] = sizeof(struct gnttab_unmap_and_replace),
        [GNTTABOP_set_version] = sizeof(struct gnttab_set_version),
        [GNTTABOP_get_status_frames] = sizeof(struct gnttab_get_status_frames),
        [GNTTABOP_get_version] = sizeof(struct gnttab_get_version),
        [GNTTABOP_swap_grant_ref] = sizeof(struct gnttab_swap_grant_ref),
    };

    return cmd < sizeof(size) / sizeof(size[0]) ? size[cmd] : 0;
}

static void plan_grant_table_op(struct plan *p, const uint64_t *a)
{
    uint64_t cmd = a[0], arg = a[1], count = (uint32_t)a[2];
    size_t sz = gnttab_arg_size(cmd);

    if (sz == 0 || (int32_t)count < 0) {
        return;
    }
    plan_add(p, arg, count * sz, INOUT);
    if (cmd == GNTTABOP_setup_table && count == 1) {
        struct gnttab_setup_table st;
        /* no more than a table can have frames */
        if (pvc_peek(&st, arg, sizeof(st)) == 0 && st.nr_frames <= 1024) {
            plan_add(p, (uint64_t)(uintptr_t)st.frame_list.p,
                     st.nr_frames * sizeof(xen_pfn_t), OUT);
        }
    }
}

/* Batched grant ops are independent: too many for one message go as
 * consecutive batches, as Xen continues a preempted call. */
static int64_t gnttab_split(struct pvc *c, unsigned int vcpu,
                            const uint64_t a[5]);

static void plan_op(struct plan *p, uint64_t op, const uint64_t *a, int depth);

static void plan_multicall(struct plan *p, const uint64_t *a, int depth)
{
    uint64_t list = a[0], nr = a[1];

    plan_add(p, list, nr * sizeof(struct multicall_entry), INOUT);
    if (depth > 0) {
        return; /* nesting is refused by the hypervisor */
    }
    for (uint64_t i = 0; i < nr && !p->full; i++) {
        struct multicall_entry e;
        if (pvc_peek(&e, list + i * sizeof(e), sizeof(e))) {
            return;
        }
        plan_op(p, e.op, (const uint64_t *)e.args, depth + 1);
    }
}

static void plan_op(struct plan *p, uint64_t op, const uint64_t *a, int depth)
{
    switch (op) {
    case __HYPERVISOR_memory_op:
        plan_memory_op(p, a);
        break;
    case __HYPERVISOR_multicall:
        plan_multicall(p, a, depth);
        break;
    case __HYPERVISOR_xen_version:
        plan_xen_version(p, a);
        break;
    case __HYPERVISOR_console_io:
        if (a[0] == CONSOLEIO_write) {
            plan_add(p, a[2], a[1], IN);
        } else if (a[0] == CONSOLEIO_read && a[1] <= 0x7fffffff) {
            /* (a larger count is refused with -E2BIG before any copy) */
            plan_add(p, a[2], a[1], OUT);
        }
        break;
    case __HYPERVISOR_event_channel_op:
        plan_add(p, a[1], xen_evtchn_arg_size(a[0]), INOUT);
        break;
    case __HYPERVISOR_event_channel_op_compat:
        plan_add(p, a[0], sizeof(struct evtchn_op), INOUT);
        break;
    case __HYPERVISOR_grant_table_op:
        plan_grant_table_op(p, a);
        break;
    case __HYPERVISOR_sched_op:
        switch (a[0]) {
        case SCHEDOP_poll: {
            struct sched_poll sp;
            plan_add(p, a[1], sizeof(sp), IN);
            if (pvc_peek(&sp, a[1], sizeof(sp)) == 0 && sp.nr_ports <= 128) {
                plan_add(p, (uint64_t)(uintptr_t)sp.ports.p,
                         sp.nr_ports * sizeof(evtchn_port_t), IN);
            }
            break;
        }
        case SCHEDOP_shutdown:
        case SCHEDOP_shutdown_code:
            plan_add(p, a[1], sizeof(struct sched_shutdown), IN);
            break;
        case SCHEDOP_remote_shutdown:
            plan_add(p, a[1], sizeof(struct sched_remote_shutdown), IN);
            break;
        case SCHEDOP_watchdog:
            plan_add(p, a[1], sizeof(struct sched_watchdog), IN);
            break;
        }
        break;
    case __HYPERVISOR_vcpu_op:
        switch (a[0]) {
        case VCPUOP_get_runstate_info:
            plan_add(p, a[2], sizeof(struct vcpu_runstate_info), OUT);
            break;
        case VCPUOP_set_periodic_timer:
            plan_add(p, a[2], sizeof(struct vcpu_set_periodic_timer), IN);
            break;
        case VCPUOP_set_singleshot_timer:
            plan_add(p, a[2], sizeof(struct vcpu_set_singleshot_timer), IN);
            break;
        }
        break;
    }
}

/* Send the call and write back what the reply carries. */
static int64_t exchange(struct pvc *c, unsigned int vcpu, uint64_t op,
                        const uint64_t a[5], const struct plan *p)
{
    struct pv_hcall_req req = {.op = op, .vcpu = vcpu, .nr_regions = p->nr};
    struct iovec iov[3 + PV_REGIONS_MAX];
    struct pv_hdr h, rh;
    struct pv_hcall_rep rep;
    size_t len = sizeof(req) + p->nr * sizeof(struct pv_region);
    int niov = 3;
    long n;
    int rc;

    memcpy(req.args, a, sizeof(req.args));
    for (unsigned int i = 0; i < p->nr; i++) {
        if (p->r[i].flags & IN) {
            iov[niov].iov_base = (void *)(uintptr_t)p->r[i].addr;
            iov[niov].iov_len = p->r[i].len;
            len += p->r[i].len;
            niov++;
        }
    }
    pthread_mutex_lock(&c->lock);
    pv_hdr_init(&h, PV_MSG_HYPERCALL, 0, (uint32_t)len, ++c->seq);
    iov[0].iov_base = &h;
    iov[0].iov_len = sizeof(h);
    iov[1].iov_base = &req;
    iov[1].iov_len = sizeof(req);
    iov[2].iov_base = (void *)p->r;
    iov[2].iov_len = p->nr * sizeof(struct pv_region);
    if (p->nr == 0) {
        /* nothing from the caller's memory: one contiguous datagram */
        uint8_t one[sizeof(h) + sizeof(req)];
        memcpy(one, &h, sizeof(h));
        memcpy(one + sizeof(h), &req, sizeof(req));
        iov[0].iov_base = one;
        iov[0].iov_len = sizeof(one);
        rc = pv_send(c->fd, iov, 1, NULL, 0, 0);
    } else {
        rc = pv_send(c->fd, iov, niov, NULL, 0, 0);
    }
    if (rc) {
        pthread_mutex_unlock(&c->lock);
        return rc;
    }
    n = pv_recv(c->fd, c->buf, PV_MSG_MAX + 1, NULL, NULL, 0);
    if (n <= 0) {
        pthread_mutex_unlock(&c->lock);
        return n == 0 ? -ECONNRESET : n;
    }
    if (pv_hdr_check(c->buf, (size_t)n, &rh) || rh.type != PV_MSG_HYPERCALL ||
        rh.seq != h.seq || rh.len < sizeof(rep)) {
        pthread_mutex_unlock(&c->lock);
        return -EPROTO;
    }
    memcpy(&rep, c->buf + sizeof(rh), sizeof(rep));
    size_t off = sizeof(rh) + sizeof(rep);
    size_t data = off + (size_t)rep.nr_out * sizeof(struct pv_region);
    if (rep.nr_out > p->nr || data > (size_t)n) {
        pthread_mutex_unlock(&c->lock);
        return -EPROTO;
    }
    for (uint32_t i = 0; i < rep.nr_out; i++) {
        struct pv_region w;
        bool ok = false;
        memcpy(&w, c->buf + off + i * sizeof(w), sizeof(w));
        /* only into memory this call offered for writing */
        for (unsigned int j = 0; j < p->nr && !ok; j++) {
            const struct pv_region *r = &p->r[j];
            ok = (r->flags & OUT) && w.addr >= r->addr && w.len <= r->len &&
                 w.addr - r->addr <= r->len - w.len;
        }
        if (!ok || w.len > (size_t)n - data) {
            pthread_mutex_unlock(&c->lock);
            return -EPROTO;
        }
        if (pvc_poke(w.addr, c->buf + data, w.len)) {
            rep.ret = -EFAULT;
        }
        data += w.len;
    }
    pthread_mutex_unlock(&c->lock);
    return rep.ret;
}

/* A multicall too large for one message runs as consecutive batches;
 * entries are independent, so the results are the same. */
static int64_t multicall_split(struct pvc *c, unsigned int vcpu,
                               const uint64_t a[5])
{
    uint64_t list = a[0], nr = a[1], done = 0;

    while (done < nr) {
        uint64_t lo = 1, hi = nr - done, best = 0;
        /* the largest batch whose plan fits */
        while (lo <= hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            uint64_t b[5] = {list + done * sizeof(struct multicall_entry), mid};
            struct plan p = {0};
            plan_multicall(&p, b, 0);
            if (p.full) {
                hi = mid - 1;
            } else {
                best = mid;
                lo = mid + 1;
            }
        }
        if (best == 0) {
            return -E2BIG;
        }
        uint64_t b[5] = {list + done * sizeof(struct multicall_entry), best};
        struct plan p = {0};
        plan_multicall(&p, b, 0);
        int64_t rc = exchange(c, vcpu, __HYPERVISOR_multicall, b, &p);
        if (rc) {
            return rc;
        }
        done += best;
    }
    return 0;
}

static int64_t gnttab_split(struct pvc *c, unsigned int vcpu,
                            const uint64_t a[5])
{
    uint64_t cmd = a[0], count = (uint32_t)a[2], done = 0;
    size_t sz = gnttab_arg_size(cmd);
    uint64_t batch = (PLAN_BYTES - 1024) / (2 * sz);

    if (cmd != GNTTABOP_map_grant_ref && cmd != GNTTABOP_unmap_grant_ref &&
        cmd != GNTTABOP_copy && cmd != GNTTABOP_unmap_and_replace &&
        cmd != GNTTABOP_swap_grant_ref) {
        return -E2BIG;
    }
    while (done < count) {
        uint64_t n = count - done < batch ? count - done : batch;
        uint64_t b[5] = {cmd, a[1] + done * sz, n};
        struct plan p = {0};
        plan_grant_table_op(&p, b);
        int64_t rc = exchange(c, vcpu, __HYPERVISOR_grant_table_op, b, &p);
        if (rc) {
            return rc;
        }
        done += n;
    }
    return 0;
}

static bool is_reservation(uint64_t op, const uint64_t *a)
{
    unsigned int cmd = (unsigned int)(a[0] & MEMOP_CMD_MASK);

    return op == __HYPERVISOR_memory_op &&
           (cmd == XENMEM_increase_reservation ||
            cmd == XENMEM_decrease_reservation ||
            cmd == XENMEM_populate_physmap);
}

/*
 * A reservation whose extent list does not fit one message goes as
 * consecutive batches, continued with the start index in cmd exactly as
 * Xen continues a preempted call, so the caller sees one call.  Memory
 * that cannot be read is Xen's "count done so far", not -EFAULT.
 */
static int64_t reservation(struct pvc *c, unsigned int vcpu,
                           const uint64_t a[5])
{
    struct xen_memory_reservation r;
    uint64_t start = a[0] >> MEMOP_EXTENT_SHIFT;

    if (pvc_peek(&r, a[1], sizeof(r))) {
        return (int64_t)start;
    }
    for (;;) {
        uint64_t b[5] = {
            (a[0] & MEMOP_CMD_MASK) | (start << MEMOP_EXTENT_SHIFT), a[1]};
        struct plan p = {0};
        plan_memory_op(&p, b);
        uint64_t batch = p.extents;
        int64_t done = exchange(c, vcpu, __HYPERVISOR_memory_op, b, &p);
        if (done == -EFAULT) {
            return (int64_t)start;
        }
        if (done < 0 || (uint64_t)done != start + batch ||
            (uint64_t)done >= r.nr_extents || batch == 0) {
            return done;
        }
        start = (uint64_t)done;
    }
}

int64_t pvc_hypercall(struct pvc *c, unsigned int vcpu, uint64_t op,
                      const uint64_t a[5])
{
    struct plan p = {0};

    if (is_reservation(op, a)) {
        return reservation(c, vcpu, a);
    }

    plan_op(&p, op, a, 0);
    if (p.full) {
        if (op == __HYPERVISOR_multicall) {
            return multicall_split(c, vcpu, a);
        }
        if (op == __HYPERVISOR_grant_table_op) {
            return gnttab_split(c, vcpu, a);
        }
        if (op == __HYPERVISOR_console_io && a[0] == CONSOLEIO_write) {
            /* a long write goes as consecutive writes of what fits */
            uint64_t off = 0, chunk = PLAN_BYTES - 64;
            while (off < a[1]) {
                uint64_t n = a[1] - off < chunk ? a[1] - off : chunk;
                uint64_t b[5] = {CONSOLEIO_write, n, a[2] + off};
                int64_t rc = pvc_hypercall(c, vcpu, op, b);
                if (rc) {
                    return rc;
                }
                off += n;
            }
            return 0;
        }
        if (op == __HYPERVISOR_console_io && a[0] == CONSOLEIO_read) {
            uint64_t b[5] = {CONSOLEIO_read, PLAN_BYTES - 64, a[2]};
            return pvc_hypercall(c, vcpu, op, b);
        }
        return -E2BIG;
    }
    return exchange(c, vcpu, op, a, &p);
}
