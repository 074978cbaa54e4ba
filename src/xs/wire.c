/* SPDX-License-Identifier: MIT */
/*
 * wire.c - the request handler: one <xen/io/xs_wire.h> message in, exactly
 * one reply out (with the request's type, req_id and tx_id, or XS_ERROR and
 * 4.17's error string), argument parsing with 4.17's rules for missing or
 * extra NULs, the privileged-only and transaction-less message types, and
 * CONTROL's help, check, log, logfile, memreport, print, quota and
 * quota-soft commands.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_impl.h"

/* one request being handled; buf has a NUL after its used bytes */
struct req {
    struct xs_conn *c;
    const struct xsd_sockmsg *h;
    char *buf;
    uint32_t used;
};

/* ---- arguments, as 4.17's get_string()/get_strings()/onearg() ---- */

/* the length (with its NUL) of the string at off, 0 if unterminated */
static uint32_t get_string(const struct req *r, uint32_t off)
{
    const char *nul;

    if (off >= r->used) {
        return 0;
    }
    nul = memchr(r->buf + off, 0, r->used - off);
    return nul ? (uint32_t)(nul - (r->buf + off)) + 1 : 0;
}

/* how many NUL-terminated strings; fills up to num of vec */
static uint32_t get_strings(const struct req *r, char **vec, uint32_t num)
{
    uint32_t off = 0, i = 0, len;

    while ((len = get_string(r, off)) != 0) {
        if (i < num) {
            vec[i] = r->buf + off;
        }
        i++;
        off += len;
    }
    return i;
}

/* the number of NULs, as xs_count_strings() */
static uint32_t count_strings(const struct req *r)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < r->used; i++) {
        n += r->buf[i] == '\0';
    }
    return n;
}

/* exactly one NUL, at the end */
static const char *onearg(const struct req *r)
{
    if (!r->used || get_string(r, 0) != r->used) {
        return NULL;
    }
    return r->buf;
}

/* ---- replies ---- */

static int reply(struct req *r, uint32_t type, const void *body, size_t len);

static int send_error(struct req *r, int err)
{
    const char *e = xs_errstr(err);

    return reply(r, XS_ERROR, e, strlen(e) + 1);
}

/* a reply too long for the wire becomes E2BIG, as in 4.17 */
static int reply(struct req *r, uint32_t type, const void *body, size_t len)
{
    if (len > XENSTORE_PAYLOAD_MAX) {
        return send_error(r, E2BIG);
    }
    return xs_queue(r->c, type, r->h->req_id, r->h->tx_id, body, len);
}

static int ack(struct req *r)
{
    return reply(r, r->h->type, "OK", 3);
}

/* the "OK" of a request whose work returned rc, or rc */
static int then_ack(struct req *r, int rc)
{
    return rc ? rc : ack(r);
}

/*
 * Handlers return 0 once they queued their reply, or a negative errno for
 * xs_handle() to send as an error.
 */

/* ---- nodes ---- */

static int do_read(struct req *r)
{
    const char *arg = onearg(r);
    char *canon = arg ? xs_canonicalize(r->c, arg) : NULL;
    struct xs_node *n;
    int rc;

    if (arg && !canon) {
        return -ENOMEM;
    }
    rc = xs_get_node(r->c, canon, XS_PERM_READ, &n);
    xs_free(r->c->s, canon);
    if (rc) {
        return rc;
    }
    if (r->h->type == XS_READ) {
        rc = reply(r, XS_READ, n->data, n->datalen);
    } else {
        rc = reply(r, XS_DIRECTORY, n->children, n->childlen);
    }
    xs_node_free(r->c->s, n);
    return rc;
}

/*
 * DIRECTORY_PART "path\0offset\0": the node's generation, then as many
 * children from byte offset on as fit; the list's end is marked by an
 * empty string (and an offset past it gives only that).
 */
static int do_directory_part(struct req *r)
{
    struct xs_store *s = r->c->s;
    struct xs_node *n;
    char gen[24], *canon, *data;
    uint32_t off, len = 0, maxlen, genlen;
    const char *child;
    int rc;

    if (count_strings(r) != 2) {
        return -EINVAL;
    }
    canon = xs_canonicalize(r->c, r->buf);
    if (!canon) {
        return -ENOMEM;
    }
    rc = xs_get_node(r->c, canon, XS_PERM_READ, &n);
    xs_free(s, canon);
    if (rc) {
        return rc;
    }
    off = (uint32_t)atoi(r->buf + strlen(r->buf) + 1);
    genlen =
        (uint32_t)snprintf(gen, sizeof(gen), "%" PRIu64, n->generation) + 1;
    if (off >= n->childlen) {
        gen[genlen] = 0;
        rc = reply(r, XS_DIRECTORY_PART, gen, genlen + 1);
        xs_node_free(s, n);
        return rc;
    }
    maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
    child = n->children + off;
    while (len + strlen(child) < maxlen) {
        len += (uint32_t)strlen(child) + 1;
        child += strlen(child) + 1;
        if (off + len == n->childlen) {
            break;
        }
    }
    data = xs_zalloc(s, genlen + len + 1);
    if (!data) {
        xs_node_free(s, n);
        return -ENOMEM;
    }
    memcpy(data, gen, genlen);
    memcpy(data + genlen, n->children + off, len);
    if (off + len == n->childlen) {
        data[genlen + len] = 0;
        len++;
    }
    rc = reply(r, XS_DIRECTORY_PART, data, genlen + len);
    xs_free(s, data);
    xs_node_free(s, n);
    return rc;
}

static int do_get_perms(struct req *r)
{
    struct xs_store *s = r->c->s;
    const char *arg = onearg(r);
    char *canon = arg ? xs_canonicalize(r->c, arg) : NULL, *out;
    struct xs_node *n;
    size_t len = 0;
    int rc;

    if (arg && !canon) {
        return -ENOMEM;
    }
    rc = xs_get_node(r->c, canon, XS_PERM_READ, &n);
    xs_free(s, canon);
    if (rc) {
        return rc;
    }
    out = xs_zalloc(s, (size_t)n->nperms * 13 + 1);
    for (uint32_t i = 0; out && i < n->nperms; i++) {
        int l = xs_perm_print(&n->perms[i], out + len, 13);

        if (l < 0) {
            rc = -EINVAL;
            break;
        }
        len += (size_t)l + 1;
    }
    if (!out) {
        rc = -ENOMEM;
    } else if (!rc) {
        rc = reply(r, XS_GET_PERMS, out, len);
    }
    xs_free(s, out);
    xs_node_free(s, n);
    return rc;
}

static int do_write(struct req *r)
{
    char *vec[1];
    uint32_t off;

    /* binary data may hold more NULs: only the path's counts */
    if (get_strings(r, vec, 1) < 1) {
        return -EINVAL;
    }
    off = (uint32_t)strlen(vec[0]) + 1;
    return then_ack(
        r, xs_do_write(r->c, vec[0], r->buf + off, r->used - off, false));
}

static int do_mkdir(struct req *r)
{
    const char *arg = onearg(r);

    if (!arg) {
        return -EINVAL;
    }
    return then_ack(r, xs_do_write(r->c, arg, NULL, 0, true));
}

static int do_rm(struct req *r)
{
    const char *arg = onearg(r);

    if (!arg) {
        return -EINVAL;
    }
    return then_ack(r, xs_do_rm(r->c, arg));
}

/*
 * Does a permission entry name a domain that exists?  4.17's
 * domain_alloc_permrefs(): one the store did not know yet is known from
 * now on, with the current generation.
 */
static int dom_exists(struct xs_store *s, unsigned int domid, bool *yes)
{
    *yes = xs_domain_introduced(s, domid) || !s->ops.domain_exists ||
           s->ops.domain_exists(s->opaque, domid);
    return *yes ? xs_dom_alive(s, domid) : 0;
}

/* SET_PERMS "path\0perm\0perm\0..." */
static int do_set_perms(struct req *r)
{
    struct xs_store *s = r->c->s;
    uint32_t n = count_strings(r), *pn;
    struct xs_perm *p, **sp;
    const char *str;
    int rc = 0;

    if (n < 2) {
        return -EINVAL;
    }
    n--;
    if (!r->c->priv && n > (uint32_t)s->q.perms) {
        return -ENOSPC;
    }
    p = xs_zalloc(s, n * sizeof(*p));
    if (!p) {
        return -ENOMEM;
    }
    str = r->buf + strlen(r->buf) + 1;
    for (uint32_t i = 0; i < n && !rc; i++) {
        bool yes;

        rc = xs_perm_parse(str, &p[i]);
        str += strlen(str) + 1;
        /* entries for domains that do not exist are kept but ignored */
        rc = rc ? rc : dom_exists(s, p[i].id, &yes);
        if (!rc && !yes) {
            p[i].perms |= XS_PERM_IGNORE;
        }
    }
    if (!rc && (p[0].perms & XS_PERM_IGNORE)) {
        rc = -ENOENT;
    }
    if (rc) {
        goto out;
    }
    if (r->buf[0] == '@') {
        sp = xs_special_perms(s, r->buf, &pn);
        if (!sp) {
            rc = -EINVAL;
        } else if ((xs_perm_for_conn(r->c, *sp, *pn, XS_NO_GENERATION) &
                    (XS_PERM_WRITE | XS_PERM_OWNER)) !=
                   (XS_PERM_WRITE | XS_PERM_OWNER)) {
            rc = -EACCES;
        } else {
            xs_free(s, *sp);
            *sp = p;
            *pn = n;
            p = NULL;
            rc = ack(r);
        }
        goto out;
    }
    rc = then_ack(r, xs_do_set_perms(r->c, r->buf, p, n));
out:
    xs_free(s, p);
    return rc;
}

/* ---- watches ---- */

static int do_watch(struct req *r)
{
    struct xs_store *s = r->c->s;
    struct xs_watch *w, **pp;
    struct xs_dom *d;
    char *vec[2], *canon;
    bool relative = false;
    int rc;

    if (get_strings(r, vec, 2) != 2) {
        return -EINVAL;
    }
    if (vec[0][0] == '@') {
        if (strlen(vec[0]) > XENSTORE_REL_PATH_MAX) {
            return -EINVAL;
        }
        canon = xs_strdup(s, vec[0]);
    } else {
        relative = vec[0][0] != '/';
        canon = xs_canonicalize(r->c, vec[0]);
    }
    if (!canon) {
        return -ENOMEM;
    }
    if (vec[0][0] != '@' && !xs_path_valid(canon, s->q.path_max)) {
        rc = -EINVAL;
        goto out;
    }
    for (pp = &r->c->watches; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->node, canon) && !strcmp((*pp)->token, vec[1])) {
            rc = -EEXIST;
            goto out;
        }
    }
    d = xs_dom_get(s, r->c->domid);
    if (!d) {
        rc = -ENOMEM;
        goto out;
    }
    if (!r->c->priv && d->nwatch > s->q.watches) {
        rc = -E2BIG;
        goto out;
    }
    w = xs_zalloc(s, sizeof(*w));
    if (!w || !(w->token = xs_strdup(s, vec[1]))) {
        xs_free(s, w);
        rc = -ENOMEM;
        goto out;
    }
    w->node = canon;
    w->relative = relative;
    *pp = w;
    d->nwatch++;
    rc = ack(r);
    /* the first event, right away: the path as the watcher gave it */
    xs_send_event(r->c, relative ? vec[0] : canon, vec[1]);
    return rc;
out:
    xs_free(s, canon);
    return rc;
}

static int do_unwatch(struct req *r)
{
    struct xs_store *s = r->c->s;
    char *vec[2], *canon;

    if (get_strings(r, vec, 2) != 2) {
        return -EINVAL;
    }
    canon = xs_canonicalize(r->c, vec[0]);
    if (!canon) {
        return -ENOMEM;
    }
    for (struct xs_watch **pp = &r->c->watches; *pp; pp = &(*pp)->next) {
        struct xs_watch *w = *pp;

        if (!strcmp(w->node, canon) && !strcmp(w->token, vec[1])) {
            struct xs_dom *d = xs_dom_find(s, r->c->domid);

            *pp = w->next;
            if (d && d->nwatch) {
                d->nwatch--;
            }
            xs_free(s, w->node);
            xs_free(s, w->token);
            xs_free(s, w);
            xs_free(s, canon);
            return ack(r);
        }
    }
    xs_free(s, canon);
    return -ENOENT;
}

static int do_reset_watches(struct req *r)
{
    xs_conn_reset(r->c);
    return ack(r);
}

/* ---- transactions ---- */

static int do_tx_start(struct req *r)
{
    struct xs_tx *t;
    struct xs_dom *d;
    char id[16];

    if (r->c->cur) {
        return -EBUSY; /* no nesting */
    }
    /* 4.17 compares with '>': an unprivileged domain gets quota + 1, on
     * all of its connections together (4.17 has one per domain) */
    d = xs_dom_find(r->c->s, r->c->domid);
    if (!r->c->priv && d && d->ntx > (unsigned int)r->c->s->q.transactions) {
        return -ENOSPC;
    }
    t = xs_tx_start(r->c);
    if (!t) {
        return -ENOMEM;
    }
    snprintf(id, sizeof(id), "%u", t->id);
    return reply(r, XS_TRANSACTION_START, id, strlen(id) + 1);
}

static int do_tx_end(struct req *r)
{
    const char *arg = onearg(r);
    struct xs_conn *c = r->c;
    struct xs_tx *t = c->cur;
    int rc = 0;

    if (!arg || (strcmp(arg, "T") && strcmp(arg, "F"))) {
        return -EINVAL;
    }
    if (!t) {
        return -ENOENT;
    }
    /* the transaction ends whatever the outcome */
    xs_tx_detach(c, t);
    if (!strcmp(arg, "T")) {
        rc = xs_tx_commit(c, t);
    }
    xs_tx_free(c->s, t);
    return then_ack(r, rc);
}

/* ---- domains ---- */

static int do_get_domain_path(struct req *r)
{
    const char *arg = onearg(r);
    char path[32];

    if (!arg) {
        return -EINVAL;
    }
    snprintf(path, sizeof(path), "/local/domain/%u", (unsigned int)atoi(arg));
    return reply(r, XS_GET_DOMAIN_PATH, path, strlen(path) + 1);
}

/* "domid\0gfn\0evtchn\0": the gfn is ignored, the port must not be 0 */
static int do_introduce(struct req *r)
{
    struct xs_store *s = r->c->s;
    char *vec[3];
    unsigned int domid;

    if (get_strings(r, vec, 3) < 3) {
        return -EINVAL;
    }
    domid = (unsigned int)atoi(vec[0]);
    if ((uint32_t)atoi(vec[2]) == 0) {
        return -EINVAL;
    }
    if (s->ops.domain_exists && !s->ops.domain_exists(s->opaque, domid)) {
        return -EINVAL;
    }
    return then_ack(r, xs_domain_introduce(s, domid));
}

/* 4.17's onearg_domain(): one nonzero domid of an introduced domain */
static int onearg_domain(struct req *r, unsigned int *domid)
{
    const char *arg = onearg(r);

    if (!arg || !(*domid = (unsigned int)atoi(arg))) {
        return -EINVAL;
    }
    return xs_domain_introduced(r->c->s, *domid) ? 0 : -ENOENT;
}

static int do_release(struct req *r)
{
    unsigned int domid;

    int rc = onearg_domain(r, &domid);

    return then_ack(r, rc ? rc : xs_domain_release(r->c->s, domid));
}

/* the domain runs again: its next shutdown fires @releaseDomain again */
static int do_resume(struct req *r)
{
    unsigned int domid;
    int rc = onearg_domain(r, &domid);

    if (!rc) {
        xs_dom_find(r->c->s, domid)->shutdown = false;
    }
    return then_ack(r, rc);
}

static int do_set_target(struct req *r)
{
    char *vec[2];
    unsigned int domid, tdomid;
    struct xs_dom *d;

    if (get_strings(r, vec, 2) < 2) {
        return -EINVAL;
    }
    domid = (unsigned int)atoi(vec[0]);
    tdomid = (unsigned int)atoi(vec[1]);
    if (!xs_domain_introduced(r->c->s, domid) ||
        !xs_domain_introduced(r->c->s, tdomid)) {
        return -ENOENT;
    }
    d = xs_dom_find(r->c->s, domid);
    d->has_target = true;
    d->target = tdomid;
    return ack(r);
}

static int do_is_introduced(struct req *r)
{
    const char *arg = onearg(r);
    unsigned int domid;
    bool yes;

    if (!arg) {
        return -EINVAL;
    }
    domid = (unsigned int)atoi(arg);
    yes = domid == XS_DOMID_SELF || xs_domain_introduced(r->c->s, domid);
    return reply(r, XS_IS_DOMAIN_INTRODUCED, yes ? "T" : "F", 2);
}

/* ---- CONTROL ---- */

struct quota_desc {
    const char *name;
    size_t off;
    const char *descr;
};

#define Q(f) offsetof(struct xs_quota, f)
static const struct quota_desc hard_quotas[] = {
    {"nodes", Q(nodes), "Nodes per domain"},
    {"watches", Q(watches), "Watches per domain"},
    {"transactions", Q(transactions), "Transactions per domain"},
    {"outstanding", Q(outstanding), "Outstanding requests per domain"},
    {"transaction-nodes", Q(trans_nodes),
     "Max. number of accessed nodes per transaction"},
    {"memory", Q(memory), "Total Xenstore memory per domain (error level)"},
    {"node-size", Q(node_size), "Max. size of a node"},
    {"path-max", Q(path_max), "Max. length of a node path"},
    {"permissions", Q(perms), "Max. number of permissions per node"},
    {NULL, 0, NULL},
};
static const struct quota_desc soft_quotas[] = {
    {"memory", Q(memory_soft),
     "Total Xenstore memory per domain (warning level)"},
    {NULL, 0, NULL},
};
#undef Q

static int *quota_ref(struct xs_store *s, const struct quota_desc *q)
{
    return (int *)((char *)&s->q + q->off);
}

/* appends to a reply being built; *p stays valid or becomes NULL */
static void append(struct xs_store *s, char **p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(struct xs_store *s, char **p, const char *fmt, ...)
{
    char add[256], *n;
    size_t len;
    va_list ap;

    if (!*p) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(add, sizeof(add), fmt, ap);
    va_end(ap);
    len = strlen(*p);
    n = xs_realloc(s, *p, len + strlen(add) + 1);
    if (!n) {
        xs_free(s, *p);
        *p = NULL;
        return;
    }
    strcpy(n + len, add);
    *p = n;
}

static int reply_text(struct req *r, char *text)
{
    int rc = text ? reply(r, XS_CONTROL, text, strlen(text) + 1) : -ENOMEM;

    xs_free(r->c->s, text);
    return rc;
}

static int quota_cmd(struct req *r, char **vec, uint32_t num,
                     const struct quota_desc *qs, bool soft)
{
    struct xs_store *s = r->c->s;
    char *text;

    if (num == 0) {
        text = xs_strdup(s, "Quota settings:\n");
        for (size_t i = 0; qs[i].name; i++) {
            append(s, &text, "%-17s: %8d %s\n", qs[i].name,
                   *quota_ref(s, &qs[i]), qs[i].descr);
        }
        return reply_text(r, text);
    }
    if (!strcmp(vec[0], "set")) {
        int val;

        if (num != 3 || (val = atoi(vec[2])) < 1) {
            return -EINVAL;
        }
        for (size_t i = 0; qs[i].name; i++) {
            if (!strcmp(vec[1], qs[i].name)) {
                *quota_ref(s, &qs[i]) = val;
                return ack(r);
            }
        }
        return -EINVAL;
    }
    if (soft || num != 1) {
        return -EINVAL;
    }
    /* a domain's usage */
    {
        unsigned int domid = (unsigned int)atoi(vec[0]);
        struct xs_dom *d = xs_dom_find(s, domid);

        if (!d) {
            return -ENOENT;
        }
        text = xs_asprintf(s, "Domain %u:\n", domid);
        append(s, &text, "%-16s: %8d\n", "nodes", d->nentry);
        append(s, &text, "%-16s: %8d\n", "watches", d->nwatch);
        append(s, &text, "%-16s: %8u\n", "transactions", d->ntx);
        append(s, &text, "%-16s: %8u\n", "outstanding", d->noutstanding);
        append(s, &text, "%-16s: %8ld\n", "memory", d->memory);
        return reply_text(r, text);
    }
}

static int ctl_check(struct req *r, char **vec, uint32_t num)
{
    (void)vec;
    if (num) {
        return -EINVAL;
    }
    /* 4.17 logs what it finds wrong and still answers OK */
    if (xs_store_check(r->c->s) && r->c->s->ops.log) {
        r->c->s->ops.log(r->c->s->opaque, "xenstore: store inconsistent");
    }
    return ack(r);
}

static int ctl_log(struct req *r, char **vec, uint32_t num)
{
    struct xs_store *s = r->c->s;

    if (num != 1 || (strcmp(vec[0], "on") && strcmp(vec[0], "off"))) {
        return -EINVAL;
    }
    s->log_on = !strcmp(vec[0], "on");
    if (s->ops.log) {
        s->ops.log(s->opaque,
                   s->log_on ? "xenstore: log on" : "xenstore: log off");
    }
    return ack(r);
}

static int ctl_print(struct req *r, char **vec, uint32_t num)
{
    struct xs_store *s = r->c->s;

    if (num != 1) {
        return -EINVAL;
    }
    if (s->ops.log) {
        s->ops.log(s->opaque, vec[0]);
    }
    return ack(r);
}

static int ctl_quota(struct req *r, char **vec, uint32_t num)
{
    return quota_cmd(r, vec, num, hard_quotas, false);
}

static int ctl_quota_soft(struct req *r, char **vec, uint32_t num)
{
    return quota_cmd(r, vec, num, soft_quotas, true);
}

/* "logfile <file>": the embedder logs the store's lines to file */
static int ctl_logfile(struct req *r, char **vec, uint32_t num)
{
    struct xs_store *s = r->c->s;
    int rc;

    if (num != 1) {
        return -EINVAL;
    }
    rc = s->ops.logfile ? s->ops.logfile(s->opaque, vec[0]) : -ENOSYS;
    return then_ack(r, rc);
}

/* one line per domain the store holds anything for */
static char *memreport(struct xs_store *s)
{
    size_t nodes = s->db.n, conns = 0;
    char *text;

    for (struct xs_conn *c = s->conns; c; c = c->next) {
        conns++;
    }
    text = xs_asprintf(s,
                       "Xenstore memory report: %zu nodes, %zu connections, "
                       "%zu allocations\n"
                       "%6s %6s %7s %12s %11s %11s %8s\n",
                       nodes, conns, s->nalloc, "domain", "nodes", "watches",
                       "transactions", "connections", "outstanding", "memory");
    for (size_t i = 0; i < s->ndoms; i++) {
        const struct xs_dom *d = &s->doms[i];

        if (d->generation == XS_NO_GENERATION && !d->nentry && !d->nwatch &&
            !d->ntx && !d->nconn && !d->memory) {
            continue; /* a domain gone with nothing left */
        }
        append(s, &text, "%6u %6d %7d %12u %11u %11u %8ld\n", d->domid,
               d->nentry, d->nwatch, d->ntx, d->nconn, d->noutstanding,
               d->memory);
    }
    return text;
}

/*
 * "memreport [<file>]": as 4.17 appends its talloc report to the file or
 * to the log file, we do the store's report per domain; with neither (4.17
 * answers EBADF) the report is the reply, cut to what the wire takes.
 */
static int ctl_memreport(struct req *r, char **vec, uint32_t num)
{
    struct xs_store *s = r->c->s;
    char *text;
    int rc;

    if (num > 1) {
        return -EINVAL;
    }
    text = memreport(s);
    if (!text) {
        return -ENOMEM;
    }
    rc = s->ops.report ? s->ops.report(s->opaque, num ? vec[0] : NULL, text)
                       : -EBADF;
    if (rc == -EBADF && !num) {
        if (strlen(text) >= XENSTORE_PAYLOAD_MAX) {
            char *cut = text + XENSTORE_PAYLOAD_MAX - 32;

            while (cut > text && cut[-1] != '\n') {
                cut--;
            }
            strcpy(cut, "(more: memreport <file>)\n");
        }
        return reply_text(r, text);
    }
    xs_free(s, text);
    return then_ack(r, rc);
}

static int ctl_help(struct req *r, char **vec, uint32_t num);

/* 4.17's commands, in its order, as a daemon built without live update
 * (NO_LIVE_UPDATE): "live-update" is an unknown command (EINVAL) */
static const struct {
    const char *cmd;
    int (*fn)(struct req *r, char **vec, uint32_t num);
    const char *pars;
} ctl_cmds[] = {
    {"check", ctl_check, ""},
    {"log", ctl_log, "on|off"},
    {"logfile", ctl_logfile, "<file>"},
    {"memreport", ctl_memreport, "[<file>]"},
    {"print", ctl_print, "<string>"},
    {"quota", ctl_quota, "[set <name> <val>|<domid>]"},
    {"quota-soft", ctl_quota_soft, "[set <name> <val>]"},
    {"help", ctl_help, ""},
};

static int ctl_help(struct req *r, char **vec, uint32_t num)
{
    char *text;

    (void)vec;
    if (num) {
        return -EINVAL;
    }
    text = xs_strdup(r->c->s, "");
    for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
        append(r->c->s, &text, "%s\t%s\n", ctl_cmds[i].cmd, ctl_cmds[i].pars);
    }
    return reply_text(r, text);
}

/* CONTROL "cmd\0arg\0...": unknown commands are EINVAL */
static int do_control(struct req *r)
{
    size_t i, n = sizeof(ctl_cmds) / sizeof(ctl_cmds[0]);
    uint32_t num;
    char **vec;
    int rc;

    if (!get_string(r, 0)) {
        return -EINVAL;
    }
    for (i = 0; i < n && strcmp(r->buf, ctl_cmds[i].cmd); i++) {
    }
    if (i == n) {
        return -EINVAL;
    }
    num = count_strings(r);
    vec = xs_zalloc(r->c->s, num * sizeof(*vec));
    if (!vec) {
        return -ENOMEM;
    }
    get_strings(r, vec, num);
    rc = ctl_cmds[i].fn(r, vec + 1, num - 1);
    xs_free(r->c->s, vec);
    return rc;
}

/* ---- dispatch ---- */

#define F_NOTID 1u /* the tx_id is ignored */
#define F_PRIV  2u /* privileged connections only */

static const struct {
    int (*fn)(struct req *r);
    unsigned int flags;
} handlers[XS_TYPE_COUNT] = {
    [XS_CONTROL] = {do_control, F_PRIV},
    [XS_DIRECTORY] = {do_read, 0},
    [XS_READ] = {do_read, 0},
    [XS_GET_PERMS] = {do_get_perms, 0},
    [XS_WATCH] = {do_watch, F_NOTID},
    [XS_UNWATCH] = {do_unwatch, F_NOTID},
    [XS_TRANSACTION_START] = {do_tx_start, 0},
    [XS_TRANSACTION_END] = {do_tx_end, 0},
    [XS_INTRODUCE] = {do_introduce, F_PRIV},
    [XS_RELEASE] = {do_release, F_PRIV},
    [XS_GET_DOMAIN_PATH] = {do_get_domain_path, 0},
    [XS_WRITE] = {do_write, 0},
    [XS_MKDIR] = {do_mkdir, 0},
    [XS_RM] = {do_rm, 0},
    [XS_SET_PERMS] = {do_set_perms, 0},
    [XS_IS_DOMAIN_INTRODUCED] = {do_is_introduced, F_PRIV},
    [XS_RESUME] = {do_resume, F_PRIV},
    [XS_SET_TARGET] = {do_set_target, F_PRIV},
    [XS_RESET_WATCHES] = {do_reset_watches, 0},
    [XS_DIRECTORY_PART] = {do_directory_part, 0},
};

int xs_handle(struct xs_conn *c, const struct xsd_sockmsg *hdr,
              const void *payload)
{
    struct req r = {.c = c, .h = hdr, .used = hdr->len};
    struct xs_tx *t = NULL;
    int rc;

    /* 4.17 drops a connection that sends more than the wire allows */
    if (hdr->len > XENSTORE_PAYLOAD_MAX) {
        return -E2BIG;
    }
    /* a released domain's connection is not served any more */
    if (c->closed) {
        return -EPIPE;
    }
    if (hdr->type >= XS_TYPE_COUNT || !handlers[hdr->type].fn) {
        return send_error(&r, ENOSYS);
    }
    if ((handlers[hdr->type].flags & F_PRIV) && !c->priv) {
        return send_error(&r, EACCES);
    }
    if (!(handlers[hdr->type].flags & F_NOTID) && hdr->tx_id) {
        for (t = c->txs; t && t->id != hdr->tx_id; t = t->next) {
        }
        if (!t) {
            return send_error(&r, ENOENT);
        }
    }
    /* a copy with a NUL after it, so that no string runs off the end */
    r.buf = xs_zalloc(c->s, (size_t)hdr->len + 1);
    if (!r.buf) {
        return send_error(&r, ENOMEM);
    }
    if (hdr->len) {
        memcpy(r.buf, payload, hdr->len);
    }
    c->cur = t;
    rc = handlers[hdr->type].fn(&r);
    c->cur = NULL;
    xs_free(c->s, r.buf);
    if (rc) {
        rc = send_error(&r, -rc);
    }
    return rc;
}
