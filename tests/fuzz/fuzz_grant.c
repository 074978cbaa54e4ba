/* SPDX-License-Identifier: MIT */
/*
 * fuzz_grant.c - libFuzzer target for grants in the daemon: the grant
 * messages (gntalloc, gntdev, `procvisor gnttab`), GNTTABOP_* hypercalls
 * and the pin protocol, against a granter that rewrites its grant table
 * between and during operations.
 *
 * A fresh daemon per input: dom0 (0), domain A (1, the granter) and domain
 * B (2, the grantee), both PVH with 64 pages, 2 grant frames and 1 maptrack
 * frame (256 handles), and a gntalloc limit of 96 pages, so every limit is
 * a few records away.  Five connections, picked by `conn` % 5:
 *   0: A's   1: B's   2: dom0's control   3: A's second   4: B's second
 * (a domain with a second connection outlives the close of its first,
 * which then releases only what that connection owns).  HELLO is done.
 *
 * Input: a sequence of records, each a kind byte (% 15) then its fields,
 * little-endian; a short input reads as zeroes.  `dom` fields are domain
 * selectors, % 8: A, B, 0, DOMID_SELF, DOMID_INVALID, 3 (not a domain),
 * 0xffff, 0x10001 (past domid_t: gntdev's u32).
 *    0 RAW     conn u8, len u16, len bytes: one datagram, header included
 *    1 WRITE   how u8, off u16, then len u8 + len bytes, or (how & 4) a
 *              fill: len u16 + an 8-byte pattern.  The granter (how & 1:
 *              B, else A) writes its grant table at off (mod its size),
 *              through a mapping of its own of the table's memfd (the
 *              pages of d->gt.shared.va, still there when the core has
 *              let go of them).
 *              With how & 2 the write is armed instead: it lands at the
 *              ((how >> 4) & 3)th call the core makes into its environment
 *              (page alloc/seal/free, kick, port notify, log) during the
 *              next record, or after that record if none came.
 *    2 RACE    how u8, ref u16, a u32, b u32: during the next record a
 *              thread of the granter (how & 1: B) keeps storing a and b in
 *              turn into the entry's flags+domid word (how & 2: frame).
 *              The only record whose effect depends on scheduling: it
 *              reaches the compare-and-swap retries of the pin protocol.
 *    3 GNTALLOC conn, dom, flags u8 (bit 0 writable, bit 1 a bad flag),
 *              count u16
 *    4 FREE    conn (bit 7: PV_F_NOREPLY), id u8, first u16, count u16
 *    5 NOTIFY  conn, id u8 (0: a gntdev handle), target u16, off u16,
 *              action u8, port u8
 *    6 MAP     conn, n u8 (1 + n % 64), readonly u8, n x {dom, ref u16}
 *    7 UNMAP   conn (bit 7: PV_F_NOREPLY), n u8, n x handle u16
 *    8 COPY    conn, n u8 (1 + n % 32), n x {flags u8 (bit 0 source is a
 *              grant, bit 1 dest is; neither: source), sdom, ddom, sref
 *              u16, dref u16, soff u16, doff u16, len u16 (% 4097)}; the
 *              local bytes are a pattern (lengths trimmed to 48 KiB)
 *    9 HCALL   conn, cmd u8, count u8, mode u8, count x the GNTTABOP
 *              argument struct: grant_table_op(cmd, ARG, count) with ARG
 *              one IN|OUT region (mode 1: IN only; 2: ARG + 1; 4: keep
 *              setup_table's frame_list, else it is pointed at an OUT
 *              region; 8: count | 0x80000000; (mode >> 4) & 3: vcpu)
 *   10 EVTCHN  conn, op u8, a u8, b u8: op % 4: alloc_unbound (remote
 *              dom a), bind_interdomain (dom a, port b), close (port a),
 *              PV_MSG_EVTCHN_ATTACH (port a)
 *   11 CTL     op u8, dom: op % 4: GNTTAB, DESTROY, EVTCHN, LIST
 *   12 CLOSE   conn: the peer closes its end; the daemon reads the EOF
 *   13 OPEN    conn: a closed connection's slot gets a new connection
 *              (its domain's, while the domain runs)
 *   14 STALL   conn: its peer stops (or again starts) reading replies, and
 *              the daemon's end a small send buffer, so its sends fail
 *              after a few
 * Every reply is read and its descriptors closed after each record, and
 * at the end of the input.  After each record the core's grant
 * bookkeeping is checked (fz_check_core: pins equal mappings, counts
 * agree), so a leaked pin or handle stops the run, not only a crash.
 * Datagrams reach conn_handle() in heap buffers of exactly their length,
 * so a handler reading past its message is an ASan report.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xen_abi.h"

#include "fuzz_daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NCONN      5
#define ARG_ADDR   0x100000ull /* where hypercall arguments "live" */
#define FRAME_ADDR 0x200000ull /* setup_table's frame_list */
#define VIEW_MAX   (2u * 4096u)

static struct daemon dm;
static struct hv_domain *dom[3]; /* 0, A, B */
static struct conn *conns[NCONN];
static int peers[NCONN];
static bool stalled[NCONN];
static int sndbuf_default;
static const int slot_dom[NCONN] = {1, 2, 0, 1, 2};
static uint32_t seq;

/* the granters' own mappings of their tables: valid whatever the core
 * does with its mapping */
static uint8_t *view[2];
static size_t view_len[2];

/* an armed write */
static struct {
    bool on;
    int who, countdown;
    uint32_t off, len;
    uint8_t bytes[VIEW_MAX];
} armed;

struct race {
    uint32_t *word;
    uint32_t a, b;
    int stop, started;
};

static uint32_t domsel(uint8_t s)
{
    static const uint32_t ids[8] = {
        1, 2, 0, DOMID_SELF, DOMID_INVALID, 3, 0xffff, 0x10001,
    };

    return ids[s & 7];
}

/* ---- the granter's writes ---- */

static void granter_write(int who, uint32_t off, const uint8_t *src,
                          uint32_t len)
{
    if (!view[who]) {
        return;
    }
    off %= (uint32_t)view_len[who];
    if (len > view_len[who] - off) {
        len = (uint32_t)(view_len[who] - off);
    }
    memcpy(view[who] + off, src, len);
}

static void armed_fire(void)
{
    if (armed.on) {
        armed.on = false;
        granter_write(armed.who, armed.off, armed.bytes, armed.len);
    }
}

/* the core calls into its environment: an armed write may land now */
static void env_point(void)
{
    if (armed.on && armed.countdown-- == 0) {
        armed_fire();
    }
}

static int hook_page_alloc(void *ctx, struct hv_page *pg)
{
    env_point();
    return daemon_env_template.page_alloc(ctx, pg);
}

static void hook_page_free(void *ctx, struct hv_page *pg)
{
    env_point();
    daemon_env_template.page_free(ctx, pg);
}

static int hook_page_seal(void *ctx, struct hv_page *pg)
{
    env_point();
    return daemon_env_template.page_seal(ctx, pg);
}

static void hook_kick(void *ctx, struct hv_domain *d, struct hv_vcpu *v)
{
    env_point();
    daemon_env_template.kick(ctx, d, v);
}

static void hook_port_notify(void *ctx, void *notifier)
{
    env_point();
    daemon_env_template.port_notify(ctx, notifier);
}

static void hook_log(void *ctx, const char *line)
{
    env_point();
    daemon_env_template.log(ctx, line);
}

static void *racer(void *arg)
{
    struct race *r = arg;

    __atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(r->word, r->a, __ATOMIC_SEQ_CST);
        __atomic_store_n(r->word, r->b, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

/* ---- messages ---- */

static void refresh_conns(void)
{
    for (int i = 0; i < NCONN; i++) {
        bool live = false;
        for (struct conn *x = dm.conns; x; x = x->next) {
            live |= x == conns[i];
        }
        if (!live) {
            conns[i] = NULL;
        }
    }
}

/* One datagram, whole, on connection i. */
static void deliver(unsigned int i, const uint8_t *msg, size_t len)
{
    uint8_t *buf;

    i %= NCONN;
    if (!conns[i] || conns[i]->dead) {
        return;
    }
    /* exactly the datagram, as the daemon's buffer would hold it */
    buf = malloc(len ? len : 1);
    if (!buf) {
        abort();
    }
    memcpy(buf, msg, len);
    conn_handle(&dm, conns[i], buf, len, NULL, 0);
    free(buf);
    conn_reap(&dm);
    refresh_conns();
}

/* A well-formed request: header (flags PV_F_*) and payload. */
static void send_msg_flags(unsigned int i, uint16_t type, uint16_t flags,
                           const void *payload, size_t len)
{
    uint8_t *m = malloc(sizeof(struct pv_hdr) + len);

    if (!m) {
        abort();
    }
    pv_hdr_init((struct pv_hdr *)m, type, flags, (uint32_t)len, ++seq);
    memcpy(m + sizeof(struct pv_hdr), payload, len);
    deliver(i, m, sizeof(struct pv_hdr) + len);
    free(m);
}

static void send_msg(unsigned int i, uint16_t type, const void *payload,
                     size_t len)
{
    send_msg_flags(i, type, 0, payload, len);
}

/* FREE and UNMAP: bit 7 of their conn byte asks for no reply */
static uint16_t noreply(unsigned int c)
{
    return (c & 0x80) ? PV_F_NOREPLY : 0;
}

static void send_hypercall(unsigned int i, uint32_t vcpu, uint64_t op,
                           const uint64_t args[5], const struct pv_region *r,
                           uint32_t nr, const uint8_t *in, size_t in_len)
{
    struct pv_hcall_req req = {.op = op, .vcpu = vcpu, .nr_regions = nr};
    size_t len = sizeof(req) + nr * sizeof(*r) + in_len;
    uint8_t *p = malloc(len);

    if (!p) {
        abort();
    }
    memcpy(req.args, args, sizeof(req.args));
    memcpy(p, &req, sizeof(req));
    memcpy(p + sizeof(req), r, nr * sizeof(*r));
    memcpy(p + sizeof(req) + nr * sizeof(*r), in, in_len);
    send_msg(i, PV_MSG_HYPERCALL, p, len);
    free(p);
}

/* ---- records ---- */

static size_t gnttab_arg_size(uint8_t cmd)
{
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        return sizeof(struct gnttab_map_grant_ref);
    case GNTTABOP_unmap_grant_ref:
        return sizeof(struct gnttab_unmap_grant_ref);
    case GNTTABOP_setup_table:
        return sizeof(struct gnttab_setup_table);
    case GNTTABOP_transfer:
        return sizeof(struct gnttab_transfer);
    case GNTTABOP_copy:
        return sizeof(struct gnttab_copy);
    case GNTTABOP_query_size:
        return sizeof(struct gnttab_query_size);
    case GNTTABOP_unmap_and_replace:
        return sizeof(struct gnttab_unmap_and_replace);
    case GNTTABOP_set_version:
        return sizeof(struct gnttab_set_version);
    case GNTTABOP_get_status_frames:
        return sizeof(struct gnttab_get_status_frames);
    case GNTTABOP_get_version:
        return sizeof(struct gnttab_get_version);
    case GNTTABOP_swap_grant_ref:
        return sizeof(struct gnttab_swap_grant_ref);
    default:
        return 8;
    }
}

static void rec_hcall(struct input *in)
{
    unsigned int c = u8(in);
    uint8_t cmd = u8(in), count = u8(in), mode = u8(in);
    size_t sz = gnttab_arg_size(cmd), len = count * sz;
    uint8_t *arg = malloc(len ? len : 1);
    struct pv_region r[2];
    uint32_t nr = 0;
    uint64_t a[5] = {cmd, ARG_ADDR, count, 0, 0};

    if (!arg) {
        abort();
    }
    bytes(in, arg, len);
    if (cmd == GNTTABOP_setup_table && count && !(mode & 4)) {
        struct gnttab_setup_table st;
        memcpy(&st, arg, sizeof(st));
        set_xen_guest_handle(st.frame_list, (xen_pfn_t *)FRAME_ADDR);
        memcpy(arg, &st, sizeof(st));
        r[nr].addr = FRAME_ADDR;
        r[nr].len = (st.nr_frames % 8 + 1) * sizeof(xen_pfn_t);
        r[nr++].flags = PV_REGION_OUT;
    }
    if (len) {
        r[nr].addr = ARG_ADDR;
        r[nr].len = (uint32_t)len;
        r[nr++].flags = PV_REGION_IN | ((mode & 1) ? 0 : PV_REGION_OUT);
    }
    if (mode & 2) {
        a[1]++;
    }
    if (mode & 8) {
        a[2] |= 0x80000000u;
    }
    send_hypercall(c, (mode >> 4) & 3, __HYPERVISOR_grant_table_op, a, r, nr,
                   arg, len);
    free(arg);
}

static void rec_evtchn(struct input *in)
{
    unsigned int c = u8(in);
    uint8_t op = u8(in), x = u8(in), y = u8(in);
    union {
        struct evtchn_alloc_unbound au;
        struct evtchn_bind_interdomain bi;
        struct evtchn_close cl;
    } u;
    struct pv_region r = {.addr = ARG_ADDR,
                          .flags = PV_REGION_IN | PV_REGION_OUT};
    uint64_t a[5] = {0, ARG_ADDR, 0, 0, 0};

    memset(&u, 0, sizeof(u));
    switch (op % 4) {
    case 0:
        u.au.dom = DOMID_SELF;
        u.au.remote_dom = (domid_t)domsel(x);
        a[0] = EVTCHNOP_alloc_unbound;
        r.len = sizeof(u.au);
        break;
    case 1:
        u.bi.remote_dom = (domid_t)domsel(x);
        u.bi.remote_port = y;
        a[0] = EVTCHNOP_bind_interdomain;
        r.len = sizeof(u.bi);
        break;
    case 2:
        u.cl.port = x;
        a[0] = EVTCHNOP_close;
        r.len = sizeof(u.cl);
        break;
    default: {
        struct pv_port_req req = {.port = x};
        send_msg(c, PV_MSG_EVTCHN_ATTACH, &req, sizeof(req));
        return;
    }
    }
    send_hypercall(c, 0, __HYPERVISOR_event_channel_op, a, &r, 1,
                   (const uint8_t *)&u, r.len);
}

static void rec_copy(struct input *in)
{
    unsigned int c = u8(in);
    uint32_t n = 1 + u8(in) % 32;
    struct pv_gntcopy_req req = {.count = n};
    size_t need_in = 0, need_out = 0;
    size_t len =
        sizeof(req) + n * sizeof(struct pv_gntcopy_seg) + PV_GNTCOPY_BYTES;
    uint8_t *p = malloc(len), *data;

    if (!p) {
        abort();
    }
    memcpy(p, &req, sizeof(req));
    data = p + sizeof(req) + n * sizeof(struct pv_gntcopy_seg);
    for (uint32_t i = 0; i < n; i++) {
        struct pv_gntcopy_seg s;
        uint8_t f = u8(in);
        memset(&s, 0, sizeof(s));
        s.src_gref = (f & 1) || !(f & 2);
        s.dst_gref = (f & 2) != 0;
        s.src_dom = (uint16_t)domsel(u8(in));
        s.dst_dom = (uint16_t)domsel(u8(in));
        s.src_ref = u16(in);
        s.dst_ref = u16(in);
        s.src_off = u16(in);
        s.dst_off = u16(in);
        s.len = u16(in) % (XEN_PAGE_SIZE + 1);
        /* the local bytes either way stay within one message */
        size_t room = PV_GNTCOPY_BYTES - (s.src_gref ? need_out : need_in);
        if (!s.src_gref || !s.dst_gref) {
            size_t r2 = PV_GNTCOPY_BYTES - (s.dst_gref ? need_in : need_out);
            room = room < r2 ? room : r2;
        }
        if (s.len > room) {
            s.len = (uint16_t)room;
        }
        if (!s.src_gref) {
            memset(data + need_in, 0xa0 + (int)i, s.len);
            need_in += s.len;
        }
        if (!s.dst_gref) {
            need_out += s.len;
        }
        memcpy(p + sizeof(req) + i * sizeof(s), &s, sizeof(s));
    }
    send_msg(c, PV_MSG_GNTDEV_COPY, p,
             sizeof(req) + n * sizeof(struct pv_gntcopy_seg) + need_in);
    free(p);
}

/* A write now, or armed (may_arm: none is armed yet): whether armed. */
static bool rec_write(struct input *in, bool may_arm)
{
    uint8_t how = u8(in);
    uint32_t off = u16(in), len;
    int who = how & 1;
    bool arm = may_arm && (how & 2);
    static uint8_t buf[VIEW_MAX];
    uint8_t *dst = arm ? armed.bytes : buf;

    if (how & 4) {
        uint8_t pat[8];
        len = u16(in) % (VIEW_MAX + 1);
        bytes(in, pat, sizeof(pat));
        for (uint32_t i = 0; i < len; i++) {
            dst[i] = pat[(off + i) % 8];
        }
    } else {
        len = u8(in);
        bytes(in, dst, len);
    }
    if (arm) {
        armed.on = true;
        armed.who = who;
        armed.off = off;
        armed.len = len;
        armed.countdown = (how >> 4) & 3;
    } else {
        granter_write(who, off, buf, len);
    }
    return arm;
}

static void rec_ctl(struct input *in)
{
    static const uint16_t types[4] = {PV_MSG_GNTTAB, PV_MSG_DESTROY,
                                      PV_MSG_EVTCHN, PV_MSG_LIST};
    uint8_t op = u8(in) % 4;
    struct pv_domid_req req = {.domid = domsel(u8(in))};

    send_msg(2, types[op], &req, op == 3 ? 0 : sizeof(req));
}

static void rec_close(struct input *in)
{
    unsigned int i = u8(in) % NCONN;

    if (peers[i] < 0) {
        return;
    }
    close(peers[i]);
    peers[i] = -1;
    if (conns[i] && !conns[i]->dead) {
        conn_input(&dm, conns[i]); /* reads the end of the stream */
    }
    conn_reap(&dm);
    refresh_conns();
}

static void rec_open(struct input *in)
{
    unsigned int i = u8(in) % NCONN;
    struct hv_domain *d = NULL;

    if (conns[i]) {
        return;
    }
    if (slot_dom[i]) {
        d = hv_domain_find(&dm.hv, (domid_t)slot_dom[i]);
        if (!d || d->state != PV_DOM_RUNNING) {
            return;
        }
    }
    if (peers[i] >= 0) {
        close(peers[i]);
    }
    peers[i] = fz_conn(&dm, d ? CONN_DOMAIN : CONN_CONTROL, d, true, &conns[i]);
    stalled[i] = false; /* a new peer reads its replies */
}

/* A stalled peer's daemon end gets a small send buffer (the kernel
 * doubles it): a few unread replies fill it. */
static void stall(unsigned int i)
{
    int v = stalled[i] ? 4096 : sndbuf_default / 2;

    if (conns[i]) {
        setsockopt(conns[i]->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    }
}

static void record(struct input *in, int depth);

/* The next record runs with a thread of the granter writing meanwhile. */
static void rec_race(struct input *in, int depth)
{
    uint8_t how = u8(in);
    uint16_t ref = u16(in);
    struct race r = {0};
    int who = how & 1;
    pthread_t t;

    r.a = u32(in);
    r.b = u32(in);
    if (!view[who]) {
        record(in, depth + 1);
        return;
    }
    r.word = (uint32_t *)(view[who] +
                          ((size_t)ref * 8 % view_len[who] & ~(size_t)7) +
                          ((how & 2) ? 4 : 0));
    if (pthread_create(&t, NULL, racer, &r)) {
        abort();
    }
    while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE)) {
        sched_yield();
    }
    record(in, depth + 1);
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
}

static void record(struct input *in, int depth)
{
    uint8_t kind = u8(in) % 15;
    unsigned int c;

    switch (kind) {
    case 0: {
        uint16_t len;
        c = u8(in);
        len = u16(in);
        if (len > in->n) {
            len = (uint16_t)in->n;
        }
        deliver(c, in->p, len);
        in->p += len;
        in->n -= len;
        break;
    }
    case 1:
        /* an armed write inside another record lands at once */
        if (rec_write(in, depth == 0)) {
            record(in, depth + 1);
            armed_fire();
        }
        break;
    case 2:
        if (depth == 0) {
            rec_race(in, depth);
        } else {
            u8(in);
            u16(in);
            u32(in);
            u32(in);
        }
        break;
    case 3: {
        struct pv_gntalloc_req req;
        c = u8(in);
        req.domid = (uint16_t)domsel(u8(in));
        uint8_t f = u8(in);
        req.flags = (uint16_t)((f & 1) | ((f & 2) << 1));
        req.count = u16(in);
        send_msg(c, PV_MSG_GNTALLOC, &req, sizeof(req));
        break;
    }
    case 4: {
        struct pv_gntalloc_free_req req;
        c = u8(in);
        req.id = u8(in);
        req.first = u16(in);
        req.count = u16(in);
        send_msg_flags(c & 0x7f, PV_MSG_GNTALLOC_FREE, noreply(c), &req,
                       sizeof(req));
        break;
    }
    case 5: {
        struct pv_gnt_notify_req req;
        c = u8(in);
        req.id = u8(in);
        req.target = u16(in);
        req.off = u16(in);
        req.action = u8(in);
        req.port = u8(in);
        send_msg(c, PV_MSG_GNT_NOTIFY, &req, sizeof(req));
        break;
    }
    case 6: {
        struct {
            struct pv_gntmap_req h;
            struct pv_gntref r[PV_GNTMAP_BATCH];
        } req;
        c = u8(in);
        req.h.count = 1 + u8(in) % PV_GNTMAP_BATCH;
        req.h.flags = u8(in) & 3;
        for (uint32_t i = 0; i < req.h.count; i++) {
            req.r[i].domid = domsel(u8(in));
            req.r[i].ref = u16(in);
        }
        send_msg(c, PV_MSG_GNTDEV_MAP, &req,
                 sizeof(req.h) + req.h.count * sizeof(req.r[0]));
        break;
    }
    case 7: {
        uint32_t req[2 + 255];
        c = u8(in);
        req[0] = u8(in);
        req[1] = 0;
        for (uint32_t i = 0; i < req[0]; i++) {
            req[2 + i] = u16(in);
        }
        send_msg_flags(c & 0x7f, PV_MSG_GNTDEV_UNMAP, noreply(c), req,
                       (2 + req[0]) * sizeof(req[0]));
        break;
    }
    case 8:
        rec_copy(in);
        break;
    case 9:
        rec_hcall(in);
        break;
    case 10:
        rec_evtchn(in);
        break;
    case 11:
        rec_ctl(in);
        break;
    case 12:
        rec_close(in);
        break;
    case 13:
        rec_open(in);
        break;
    default:
        c = u8(in) % NCONN;
        stalled[c] = !stalled[c];
        stall(c);
        break;
    }
}

static void view_map(int who, struct hv_domain *d)
{
    int fd = dup((int)(intptr_t)d->gt.shared.cookie);
    size_t len = (size_t)d->gt.shared.npages * 4096u;

    if (fd < 0 || len > VIEW_MAX) {
        abort();
    }
    view[who] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (view[who] == MAP_FAILED) {
        abort();
    }
    view_len[who] = len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hv_env env = daemon_env_template;
    struct hv_domain_cfg cfg = {
        .name = "Domain-0",
        .memory_kib = 256,
        .max_grant_frames = 2,
        .max_maptrack = 1,
        .max_evtchn = 64,
        .max_vcpus = 2,
        .flags = PV_CREATE_PV,
    };
    struct input in = {data, size};
    int fds_before = fz_count_fds();

    env.page_alloc = hook_page_alloc;
    env.page_free = hook_page_free;
    env.page_seal = hook_page_seal;
    env.kick = hook_kick;
    env.port_notify = hook_port_notify;
    env.log = hook_log;
    env.ctx = &dm;
    fz_daemon_init(&dm, &env, 1024); /* host pages: loops walk them all */
    dm.hv.gntalloc_limit = 96;
    seq = 0;
    memset(&armed, 0, sizeof(armed));
    if (hv_domain_create(&dm.hv, &cfg, &dom[0])) {
        abort();
    }
    cfg.flags = 0;
    cfg.name = "granter";
    if (hv_domain_create(&dm.hv, &cfg, &dom[1])) {
        abort();
    }
    cfg.name = "grantee";
    if (hv_domain_create(&dm.hv, &cfg, &dom[2])) {
        abort();
    }
    if (dom[1]->id != 1 || dom[2]->id != 2) {
        abort();
    }
    view_map(0, dom[1]);
    view_map(1, dom[2]);
    for (int i = 0; i < NCONN; i++) {
        struct hv_domain *d = slot_dom[i] ? dom[slot_dom[i]] : NULL;
        peers[i] =
            fz_conn(&dm, d ? CONN_DOMAIN : CONN_CONTROL, d, true, &conns[i]);
        if (peers[i] < 0) {
            abort();
        }
    }
    if (!sndbuf_default) {
        socklen_t sl = sizeof(sndbuf_default);
        getsockopt(conns[0]->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf_default, &sl);
    }

    memset(stalled, 0, sizeof(stalled));
    while (in.n) {
        record(&in, 0);
        fz_check_core(&dm);
        for (int i = 0; i < NCONN; i++) {
            if (!stalled[i]) {
                fz_drain(peers[i]);
            }
        }
    }
    for (int i = 0; i < NCONN; i++) {
        fz_drain(peers[i]); /* the descriptors in flight are closed */
    }

    fz_daemon_fini(&dm);
    for (int i = 0; i < NCONN; i++) {
        if (peers[i] >= 0) {
            close(peers[i]);
        }
        peers[i] = -1;
        conns[i] = NULL;
    }
    for (int i = 0; i < 2; i++) {
        munmap(view[i], view_len[i]);
        view[i] = NULL;
    }
    fz_check_fds(fds_before);
    return 0;
}
