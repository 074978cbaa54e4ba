/* SPDX-License-Identifier: MIT */
/*
 * store.c - the xenstore database as C xenstored 4.17 keeps it: committed
 * nodes in a map from canonical path to record, node operations with 4.17's
 * permission and error rules, transactions as overlays checked by
 * generation count at commit, watches and their events, domains' node
 * counts, and the connections' output queues.
 *
 * The structure of each operation mirrors 4.17 closely on purpose: which
 * nodes are read (and so recorded by a transaction), the order of checks,
 * and the order in which events and replies are queued all decide what a
 * client observes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_impl.h"

/* ---- nodes ---- */

void xs_node_free(struct xs_store *s, struct xs_node *n)
{
    if (n) {
        xs_free(s, n->name);
        xs_free(s, n->data);
        xs_free(s, n->perms);
        xs_free(s, n->children);
        xs_free(s, n);
    }
}

static void node_free_v(struct xs_store *s, void *n)
{
    xs_node_free(s, n);
}

static struct xs_node *node_dup(struct xs_store *s, const struct xs_node *o)
{
    struct xs_node *n = xs_zalloc(s, sizeof(*n));

    if (!n) {
        return NULL;
    }
    *n = *o;
    n->name = xs_strdup(s, o->name);
    n->data = xs_memdup(s, o->data, o->datalen);
    n->perms = xs_memdup(s, o->perms, o->nperms * sizeof(*o->perms));
    n->children = xs_memdup(s, o->children, o->childlen);
    if (!n->name || !n->data || !n->perms || !n->children) {
        xs_node_free(s, n);
        return NULL;
    }
    return n;
}

/* the size 4.17 checks against the node-size quota: its TDB record's */
static size_t node_size(const struct xs_node *n)
{
    return XS_RECORD_HDR + n->nperms * XS_RECORD_PERM + n->datalen +
           n->childlen;
}

/* "/a/b" -> "/a", "/a" -> "/"; NULL on ENOMEM */
static char *parent_of(struct xs_store *s, const char *name)
{
    const char *slash = strrchr(name + 1, '/');

    if (!slash) {
        return xs_strdup(s, "/");
    }
    return xs_asprintf(s, "%.*s", (int)(slash - name), name);
}

static char *child_path(struct xs_store *s, const char *parent,
                        const char *child)
{
    if (!strcmp(parent, "/")) {
        return xs_asprintf(s, "/%s", child);
    }
    return xs_asprintf(s, "%s/%s", parent, child);
}

static int add_child(struct xs_store *s, struct xs_node *parent,
                     const char *name)
{
    const char *base = strrchr(name, '/') + 1;
    size_t len = strlen(base) + 1;
    char *c = xs_realloc(s, parent->children, parent->childlen + len);

    if (!c) {
        return -ENOMEM;
    }
    memcpy(c + parent->childlen, base, len);
    parent->children = c;
    parent->childlen += (uint32_t)len;
    return 0;
}

static int remove_child(struct xs_node *parent, const char *base)
{
    for (uint32_t i = 0; i < parent->childlen;) {
        size_t len = strlen(parent->children + i) + 1;

        if (!strcmp(parent->children + i, base)) {
            memmove(parent->children + i, parent->children + i + len,
                    parent->childlen - i - len);
            parent->childlen -= (uint32_t)len;
            return 0;
        }
        i += (uint32_t)len;
    }
    return -EIO; /* 4.17: "corrupt", EIO */
}

/* ---- domains ---- */

struct xs_dom *xs_dom_find(const struct xs_store *s, unsigned int domid)
{
    for (size_t i = 0; i < s->ndoms; i++) {
        if (s->doms[i].domid == domid) {
            return &s->doms[i];
        }
    }
    return NULL;
}

struct xs_dom *xs_dom_get(struct xs_store *s, unsigned int domid)
{
    struct xs_dom *d = xs_dom_find(s, domid);

    if (d) {
        return d;
    }
    if (s->ndoms == s->capdoms) {
        size_t cap = s->capdoms ? s->capdoms * 2 : 16;
        struct xs_dom *n = xs_realloc(s, s->doms, cap * sizeof(*n));

        if (!n) {
            return NULL;
        }
        s->doms = n;
        s->capdoms = cap;
    }
    d = &s->doms[s->ndoms++];
    memset(d, 0, sizeof(*d));
    d->domid = domid;
    /* domain 0 is older than everything; others are not known alive yet */
    d->generation = domid == 0 ? 0 : XS_NO_GENERATION;
    return d;
}

int xs_dom_alive(struct xs_store *s, unsigned int domid)
{
    struct xs_dom *d = xs_dom_get(s, domid);

    if (!d) {
        return -ENOMEM;
    }
    /* as 4.17's alloc_domain(): the generation when first learnt of,
     * a new one: younger than every node written so far */
    if (d->generation == XS_NO_GENERATION) {
        d->generation = ++s->generation;
    }
    return 0;
}

/*
 * 4.17's chk_domain_generation(): does domid's live incarnation date from
 * gen or before?  A released or dead domain has none.
 */
static bool dom_older(const struct xs_store *s, unsigned int domid,
                      uint64_t gen)
{
    const struct xs_dom *d;

    if (domid == 0) {
        return true;
    }
    d = xs_dom_find(s, domid);
    return d && d->generation != XS_NO_GENERATION && d->generation <= gen;
}

/*
 * 4.17's domain_adjust_node_perms(), on a node's copy: entries naming a
 * domain younger than the node are ignored from now on (a write keeps it).
 */
static void adjust_perms(const struct xs_store *s, struct xs_node *n)
{
    for (uint32_t i = 1; i < n->nperms; i++) {
        if (!(n->perms[i].perms & XS_PERM_IGNORE) &&
            !dom_older(s, n->perms[i].id, n->generation)) {
            n->perms[i].perms |= XS_PERM_IGNORE;
        }
    }
}

void xs_log(struct xs_store *s, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!s->ops.log) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->ops.log(s->opaque, msg);
}

/*
 * 4.17's domain_chk_quota() log lines: a domain passing its soft or hard
 * quota is logged once; again only after it went below half the soft
 * quota (4.17 waits 10 s; this keeps a domain near a quota, whose every
 * reply crosses it, from filling the log).
 */
static void memory_report(struct xs_store *s, struct xs_dom *d)
{
    if (d->domid == 0) {
        return;
    }
    if (d->memory >= s->q.memory && !d->hard_reported) {
        d->hard_reported = d->soft_reported = true;
        xs_log(s,
               "domain %u exceeds hard memory quota, xenstore interface to "
               "domain stalled",
               d->domid);
    } else if (d->memory >= s->q.memory_soft && !d->soft_reported) {
        d->soft_reported = true;
        xs_log(s, "domain %u exceeds soft memory quota", d->domid);
    } else if (d->memory < s->q.memory_soft / 2 &&
               (d->soft_reported || d->hard_reported)) {
        d->soft_reported = d->hard_reported = false;
        xs_log(s, "domain %u below its memory quotas again", d->domid);
    }
}

/* adds delta bytes to domid's memory, without a quota check */
static void charge(struct xs_store *s, unsigned int domid, long delta)
{
    struct xs_dom *d = xs_dom_find(s, domid);

    /* every charged domain has a record: its connection or node made it */
    if (d && delta) {
        d->memory += delta;
        memory_report(s, d);
    }
}

/* would add more bytes take unprivileged domid to its hard quota? */
static bool over_quota(const struct xs_store *s, unsigned int domid, long add)
{
    const struct xs_dom *d;

    if (domid == 0 || add <= 0) {
        return false;
    }
    d = xs_dom_find(s, domid);
    return d && d->memory + add >= s->q.memory;
}

/* what a committed node costs its owner: record and key, as in 4.17 */
static long node_mem(const struct xs_node *n)
{
    return (long)(node_size(n) + strlen(n->name));
}

/* adds delta to the node count (and memory) of a node's owner */
static void count_owner(struct xs_store *s, const struct xs_node *n, int delta)
{
    struct xs_dom *d = xs_dom_get(s, n->perms[0].id);

    /* on ENOMEM the count drifts; xs_store_check() reports it */
    if (d) {
        d->nentry += delta;
        d->memory += delta * node_mem(n);
        memory_report(s, d);
    }
}

static bool unpriv(const struct xs_conn *c)
{
    return c && !c->priv;
}

/* 4.17's perm_for_conn(): the owner, its target's controller and the
 * privileged get everything; others the first matching entry, or entry 0.
 * Entries (and an owner) naming a domain younger than the node do not
 * count: such an owner is domain 0. */
unsigned int xs_perm_for_conn(struct xs_conn *c, const struct xs_perm *p,
                              uint32_t n, uint64_t gen)
{
    const unsigned int all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
    struct xs_dom *d;
    unsigned int owner;
    bool tgt;

    if (c->priv) {
        return all;
    }
    d = xs_dom_find(c->s, c->domid);
    tgt = d && d->has_target;
    owner = dom_older(c->s, p[0].id, gen) ? p[0].id : 0;
    if (owner == c->domid || (tgt && owner == d->target)) {
        return all;
    }
    for (uint32_t i = 1; i < n; i++) {
        if (!(p[i].perms & XS_PERM_IGNORE) &&
            (p[i].id == c->domid || (tgt && p[i].id == d->target)) &&
            dom_older(c->s, p[i].id, gen)) {
            return p[i].perms & all;
        }
    }
    return p[0].perms & all;
}

/* ---- the committed database ---- */

/* Stores a copy of n as committed, keeping the owners' counts. */
static int db_set(struct xs_store *s, const struct xs_node *n)
{
    struct xs_node *copy = node_dup(s, n);
    struct xs_node *old = xs_map_get(&s->db, n->name);

    if (!copy) {
        return -ENOMEM;
    }
    if (xs_map_put(s, &s->db, n->name, copy)) {
        xs_node_free(s, copy);
        return -ENOMEM;
    }
    if (old) {
        count_owner(s, old, -1);
        xs_node_free(s, old);
    }
    count_owner(s, copy, 1);
    return 0;
}

static void db_del(struct xs_store *s, const char *name)
{
    struct xs_node *old = xs_map_del(s, &s->db, name);

    if (old) {
        count_owner(s, old, -1);
        xs_node_free(s, old);
    }
}

/* ---- transactions' accessed nodes ---- */

static void acc_free(struct xs_store *s, void *v)
{
    struct xs_acc *a = v;

    xs_node_free(s, a->node);
    xs_free(s, a->old_perms);
    xs_free(s, a->path);
    xs_free(s, a);
}

/* what an accessed node costs: entry, its path twice (entry and map
 * key), the permissions kept for events, and the node's copy */
static long acc_mem(const char *path, const struct xs_node *n, uint32_t nold)
{
    long m = (long)(sizeof(struct xs_acc) + sizeof(struct xs_map_ent) +
                    2 * (strlen(path) + 1) + nold * sizeof(struct xs_perm));

    if (n) {
        m += (long)sizeof(*n) + node_mem(n);
    }
    return m;
}

/* charges a's current size to the transaction's domain */
static void acc_recharge(struct xs_store *s, struct xs_tx *t, struct xs_acc *a)
{
    long now = acc_mem(a->path, a->node, a->nold);

    charge(s, t->domid, now - (long)a->charged);
    t->mem = (size_t)((long)t->mem + now - (long)a->charged);
    a->charged = (size_t)now;
}

/*
 * May c's transaction t grow by add bytes?  Not past its domain's hard
 * memory quota: that fails the transaction with ENOMEM.
 */
static int tx_room(struct xs_conn *c, struct xs_tx *t, long add)
{
    if (unpriv(c) && over_quota(c->s, t->domid, add)) {
        t->fail = true;
        return -ENOMEM;
    }
    return 0;
}

/*
 * A new accessed-node entry, within the transaction-nodes quota and the
 * domain's memory (node: the copy it will get, if any).
 */
static int acc_new(struct xs_conn *c, struct xs_tx *t, const char *path,
                   const struct xs_node *node, struct xs_acc **out)
{
    struct xs_store *s = c->s;
    struct xs_acc *a;
    int rc;

    if (unpriv(c) && t->nodes >= (unsigned int)s->q.trans_nodes) {
        t->fail = true;
        return -ENOSPC;
    }
    rc = tx_room(c, t, acc_mem(path, node, node ? node->nperms : 0));
    if (rc) {
        return rc;
    }
    a = xs_zalloc(s, sizeof(*a));
    if (!a || !(a->path = xs_strdup(s, path)) ||
        xs_map_put(s, &t->acc, path, a)) {
        if (a) {
            xs_free(s, a->path);
        }
        xs_free(s, a);
        t->fail = true;
        return -ENOMEM;
    }
    if (t->atail) {
        t->atail->next = a;
    } else {
        t->ahead = a;
    }
    t->atail = a;
    t->nodes++;
    acc_recharge(s, t, a);
    *out = a;
    return 0;
}

/*
 * read_node(): a copy of the node as c sees it (its transaction's view, or
 * the committed tree), its permissions adjusted to the domains alive.
 * Inside a transaction the first access records the node's generation (or
 * its absence) for the commit-time check.
 */
static int read_node(struct xs_store *s, struct xs_conn *c, const char *name,
                     struct xs_node **out)
{
    struct xs_tx *t = c ? c->cur : NULL;
    struct xs_node *g = xs_map_get(&s->db, name);
    struct xs_acc *a;
    int rc;

    *out = NULL;
    if (t) {
        a = xs_map_get(&t->acc, name);
        if (a) {
            g = a->node;
        } else {
            rc = acc_new(c, t, name, g, &a);
            if (rc) {
                return rc;
            }
            a->check_gen = true;
            a->gen = g ? g->generation : XS_NO_GENERATION;
            if (g) {
                a->old_perms =
                    xs_memdup(s, g->perms, g->nperms * sizeof(*g->perms));
                a->nold = g->nperms;
                a->node = node_dup(s, g);
                if (!a->old_perms || !a->node) {
                    t->fail = true;
                    acc_recharge(s, t, a);
                    return -ENOMEM;
                }
                adjust_perms(s, a->node);
                acc_recharge(s, t, a);
            }
            g = a->node;
        }
    }
    if (!g) {
        return -ENOENT;
    }
    *out = node_dup(s, g);
    if (!*out) {
        return -ENOMEM;
    }
    adjust_perms(s, *out);
    return 0;
}

/*
 * write_node(): commits n (or puts it in c's transaction).  Every write
 * takes a new generation.  Unprivileged writers are held to the node-size
 * quota unless no_quota (4.17 skips it when removing a child entry).
 */
static int write_node(struct xs_store *s, struct xs_conn *c, struct xs_node *n,
                      bool no_quota)
{
    struct xs_tx *t = c ? c->cur : NULL;
    struct xs_acc *a = NULL;
    struct xs_node *copy;
    int rc;

    n->generation = ++s->generation;
    if (t) {
        a = xs_map_get(&t->acc, n->name);
        if (!a && (rc = acc_new(c, t, n->name, n, &a))) {
            return rc;
        }
        a->modified = true;
    }
    if (!no_quota && unpriv(c) && node_size(n) >= (size_t)s->q.node_size) {
        if (t) {
            t->fail = true; /* as 4.17: the transaction cannot commit */
        }
        return -ENOSPC;
    }
    if (!t) {
        /* the owner's memory, checked when the unprivileged write */
        const struct xs_node *g = xs_map_get(&s->db, n->name);
        long add = node_mem(n);

        if (g && g->perms[0].id == n->perms[0].id) {
            add -= node_mem(g);
        }
        if (unpriv(c) && over_quota(s, n->perms[0].id, add)) {
            return -ENOMEM;
        }
        return db_set(s, n);
    }
    rc = tx_room(c, t,
                 acc_mem(a->path, n, a->nold) -
                     acc_mem(a->path, a->node, a->nold));
    if (rc) {
        return rc;
    }
    copy = node_dup(s, n);
    if (!copy) {
        t->fail = true;
        return -ENOMEM;
    }
    xs_node_free(s, a->node);
    a->node = copy;
    acc_recharge(s, t, a);
    return 0;
}

static int delete_node(struct xs_store *s, struct xs_conn *c, const char *name)
{
    struct xs_tx *t = c ? c->cur : NULL;
    struct xs_acc *a;
    int rc;

    ++s->generation;
    if (!t) {
        db_del(s, name);
        return 0;
    }
    a = xs_map_get(&t->acc, name);
    if (!a && (rc = acc_new(c, t, name, NULL, &a))) {
        return rc;
    }
    a->modified = true;
    xs_node_free(s, a->node);
    a->node = NULL;
    acc_recharge(s, t, a);
    return 0;
}

/* ---- output ---- */

int xs_queue(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
             const void *body, size_t len)
{
    struct xs_msg *m = xs_zalloc(c->s, sizeof(*m) + len);

    if (!m) {
        return -ENOMEM;
    }
    m->hdr.type = type;
    m->hdr.req_id = req_id;
    m->hdr.tx_id = tx_id;
    m->hdr.len = (uint32_t)len;
    if (len) {
        memcpy(m->body, body, len);
    }
    if (c->qtail) {
        c->qtail->next = m;
    } else {
        c->qhead = m;
    }
    c->qtail = m;
    c->qlen++;
    /* charged to the domain until the transport takes it (4.17: until it
     * is written), and a reply is outstanding until then */
    c->qbytes += sizeof(m->hdr) + len;
    charge(c->s, c->domid, (long)(sizeof(m->hdr) + len));
    if (type != XS_WATCH_EVENT) {
        struct xs_dom *d = xs_dom_find(c->s, c->domid);

        if (d) {
            d->noutstanding++;
        }
    }
    return 0;
}

/* takes m (c's first message) off c's queue and c's domain's counts */
static void unqueue(struct xs_conn *c, struct xs_msg *m)
{
    struct xs_dom *d = xs_dom_find(c->s, c->domid);

    c->qhead = m->next;
    if (!c->qhead) {
        c->qtail = NULL;
    }
    c->qlen--;
    c->qbytes -= sizeof(m->hdr) + m->hdr.len;
    charge(c->s, c->domid, -(long)(sizeof(m->hdr) + m->hdr.len));
    if (d && m->hdr.type != XS_WATCH_EVENT && d->noutstanding) {
        d->noutstanding--;
    }
    m->next = NULL;
}

/*
 * 4.17's send_event(): an over-long event is not sent, and an event equal
 * to one still queued on the connection is dropped (not for "@" events).
 */
void xs_send_event(struct xs_conn *c, const char *path, const char *token)
{
    size_t pl = strlen(path) + 1, len = pl + strlen(token) + 1;
    char *body;

    /* nor one the domain's memory cannot take (4.17's send_event) */
    if (len > XENSTORE_PAYLOAD_MAX || c->qlen >= XS_QUEUE_MAX || c->closed ||
        (unpriv(c) && over_quota(c->s, c->domid,
                                 (long)(sizeof(struct xsd_sockmsg) + len)))) {
        return;
    }
    body = xs_zalloc(c->s, len);
    if (!body) {
        return;
    }
    memcpy(body, path, pl);
    memcpy(body + pl, token, len - pl);
    if (path[0] != '@') {
        for (struct xs_msg *m = c->qhead; m; m = m->next) {
            if (m->hdr.type == XS_WATCH_EVENT && m->hdr.len == len &&
                !memcmp(m->body, body, len)) {
                xs_free(c->s, body);
                return;
            }
        }
    }
    xs_queue(c, XS_WATCH_EVENT, 0, 0, body, len);
    xs_free(c->s, body);
}

/* ---- watches ---- */

/* Is name the watched path or below it?  "/" watches everything. */
static bool watch_matches(const char *name, const char *watch, bool exact)
{
    size_t len = strlen(watch);

    if (exact) {
        return !strcmp(name, watch);
    }
    if (!strcmp(watch, "/")) {
        return true;
    }
    return !strncmp(name, watch, len) &&
           (name[len] == '/' || name[len] == '\0');
}

/* the event path: relative watches see paths relative to their domain */
static const char *watch_path(const struct xs_conn *c, const struct xs_watch *w,
                              const char *name)
{
    size_t len = strlen(c->prefix);

    if (!w->relative || strncmp(name, c->prefix, len)) {
        return name;
    }
    name += len;
    return *name == '/' ? name + 1 : name;
}

/*
 * 4.17's watch_permitted(): a watcher hears of a node it can read, or whose
 * parent it can read; for a change of permissions the old ones count too.
 * node is the node's new state, or NULL to look it up after the change.
 */
static bool watch_permitted(struct xs_conn *i, const char *name,
                            const struct xs_node *node,
                            const struct xs_perm *old, uint32_t nold,
                            uint64_t oldgen)
{
    struct xs_store *s = i->s;
    const struct xs_node *parent;
    char *pname;

    if (old && (xs_perm_for_conn(i, old, nold, oldgen) & XS_PERM_READ)) {
        return true;
    }
    if (!node) {
        node = xs_map_get(&s->db, name);
        if (!node) {
            return false;
        }
    }
    if (xs_perm_for_conn(i, node->perms, node->nperms, node->generation) &
        XS_PERM_READ) {
        return true;
    }
    pname = parent_of(s, name);
    if (!pname) {
        return false;
    }
    parent = xs_map_get(&s->db, pname);
    xs_free(s, pname);
    return parent && (xs_perm_for_conn(i, parent->perms, parent->nperms,
                                       parent->generation) &
                      XS_PERM_READ);
}

/* Queues the event on c's transaction (fired at commit). */
static void queue_tx_event(struct xs_conn *c, const char *name, bool exact)
{
    struct xs_acc *a = xs_map_get(&c->cur->acc, name);

    if (!a) {
        c->cur->fail = true;
        return;
    }
    if (!a->fire) {
        a->fire = true;
        a->exact = exact;
    } else if (!exact) {
        a->exact = false;
    }
}

/*
 * 4.17's fire_watches(): a change of name (by c, NULL for the store
 * itself) fires every watch on name or above it, or with exact only
 * watches on name itself (the descendants of a removed node).
 */
static void fire_watches(struct xs_store *s, struct xs_conn *c,
                         const char *name, const struct xs_node *node,
                         bool exact, const struct xs_perm *old, uint32_t nold,
                         uint64_t oldgen)
{
    if (c && c->cur) {
        queue_tx_event(c, name, exact);
        return;
    }
    for (struct xs_conn *i = s->conns; i; i = i->next) {
        if (!i->watches || !watch_permitted(i, name, node, old, nold, oldgen)) {
            continue;
        }
        for (struct xs_watch *w = i->watches; w; w = w->next) {
            if (watch_matches(name, w->node, exact)) {
                xs_send_event(i, watch_path(i, w, name), w->token);
            }
        }
    }
}

struct xs_perm **xs_special_perms(struct xs_store *s, const char *name,
                                  uint32_t **n)
{
    if (!strcmp(name, "@releaseDomain")) {
        *n = &s->nrel;
        return &s->rel_perms;
    }
    if (!strcmp(name, "@introduceDomain")) {
        *n = &s->nintro;
        return &s->intro_perms;
    }
    return NULL;
}

/* @introduceDomain/@releaseDomain: watchers that may read its perms */
void xs_fire_special(struct xs_store *s, const char *name)
{
    uint32_t *n;
    struct xs_perm **p = xs_special_perms(s, name, &n);

    for (struct xs_conn *i = s->conns; i; i = i->next) {
        if (!p ||
            !(xs_perm_for_conn(i, *p, *n, XS_NO_GENERATION) & XS_PERM_READ)) {
            continue;
        }
        for (struct xs_watch *w = i->watches; w; w = w->next) {
            if (!strcmp(w->node, name)) {
                xs_send_event(i, name, w->token);
            }
        }
    }
}

/* ---- node operations ---- */

char *xs_canonicalize(struct xs_conn *c, const char *name)
{
    if (name[0] == '/' || name[0] == '@') {
        return xs_strdup(c->s, name);
    }
    return xs_asprintf(c->s, "%s/%s", c->prefix, name);
}

/*
 * 4.17's errno_from_parents(): a failure on name is reported as such only
 * if c has (any of) perm on the nearest existing ancestor, else EACCES, so
 * that nothing leaks about nodes c may not see.
 */
static int errno_from_parents(struct xs_conn *c, const char *name, int err,
                              unsigned int perm)
{
    struct xs_store *s = c->s;
    struct xs_node *node = NULL;
    unsigned int pperm = XS_PERM_NONE;
    char *cur = xs_strdup(s, name);
    int rc;

    if (err == -ENOMEM || !cur) {
        xs_free(s, cur);
        return -ENOMEM;
    }
    do {
        char *p = parent_of(s, cur);

        xs_free(s, cur);
        cur = p;
        if (!cur) {
            return -ENOMEM;
        }
        rc = read_node(s, c, cur, &node);
        if (!rc) {
            break;
        }
        if (rc == -ENOMEM || rc == -ENOSPC) {
            xs_free(s, cur);
            return rc;
        }
    } while (strcmp(cur, "/"));
    xs_free(s, cur);
    if (node) {
        pperm =
            xs_perm_for_conn(c, node->perms, node->nperms, node->generation);
        xs_node_free(s, node);
    }
    return (pperm & perm) ? err : -EACCES;
}

/* 4.17's get_node(): a valid path, the node, and perm on it */
int xs_get_node(struct xs_conn *c, const char *name, unsigned int perm,
                struct xs_node **out)
{
    struct xs_node *n;
    int rc;

    *out = NULL;
    if (!name || !xs_path_valid(name, c->s->q.path_max)) {
        return -EINVAL;
    }
    rc = read_node(c->s, c, name, &n);
    if (!rc && (xs_perm_for_conn(c, n->perms, n->nperms, n->generation) &
                perm) != perm) {
        xs_node_free(c->s, n);
        rc = -EACCES;
    }
    if (rc && rc != -ENOMEM && rc != -ENOSPC) {
        rc = errno_from_parents(c, name, rc, perm);
    }
    if (!rc) {
        *out = n;
    }
    return rc;
}

/*
 * 4.17's create_node(): reads up to the nearest existing ancestor, builds
 * the missing nodes with the parent's permissions (an unprivileged creator
 * owns them), then writes bottom up with the node quota checked for each
 * new one; a failure deletes what was already written.
 */
static int create_node(struct xs_conn *c, const char *name, const char *data,
                       uint32_t datalen, struct xs_node **out)
{
    struct xs_store *s = c->s;
    struct xs_node **chain = NULL;
    char **names = NULL;
    struct xs_node *parent = NULL;
    size_t levels = 0, written = 0;
    int rc = 0;

    /* names[0] is name, names[k] its k-th ancestor; parent exists */
    for (char *cur = xs_strdup(s, name);;) {
        char **nn =
            cur ? xs_realloc(s, names, (levels + 1) * sizeof(*nn)) : NULL;
        char *pname;

        if (!nn) {
            xs_free(s, cur);
            rc = -ENOMEM;
            goto out;
        }
        names = nn;
        names[levels++] = cur;
        pname = parent_of(s, cur);
        if (!pname) {
            rc = -ENOMEM;
            goto out;
        }
        rc = read_node(s, c, pname, &parent);
        if (!rc) {
            xs_free(s, pname);
            break;
        }
        if (rc != -ENOENT || !strcmp(pname, "/")) {
            xs_free(s, pname);
            goto out;
        }
        cur = pname;
    }

    if (c->cur) {
        c->cur->node_created = true;
    }
    chain = xs_zalloc(s, (levels + 1) * sizeof(*chain));
    if (!chain) {
        rc = -ENOMEM;
        goto out;
    }
    chain[levels] = parent;
    parent = NULL;
    for (size_t k = levels; k-- > 0;) {
        struct xs_node *p = chain[k + 1], *n = xs_zalloc(s, sizeof(*n));

        chain[k] = n;
        if (!n || add_child(s, p, names[k])) {
            rc = -ENOMEM;
            goto out;
        }
        n->name = names[k];
        names[k] = NULL;
        n->perms = xs_memdup(s, p->perms, p->nperms * sizeof(*p->perms));
        n->nperms = p->nperms;
        n->data = xs_zalloc(s, 1);
        n->children = xs_zalloc(s, 1);
        if (!n->perms || !n->data || !n->children) {
            rc = -ENOMEM;
            goto out;
        }
        if (unpriv(c)) {
            n->perms[0].id = c->domid;
        }
    }
    if (datalen) {
        char *d = xs_memdup(s, data, datalen);

        if (!d) {
            rc = -ENOMEM;
            goto out;
        }
        xs_free(s, chain[0]->data);
        chain[0]->data = d;
        chain[0]->datalen = datalen;
    }
    for (written = 0; written <= levels; written++) {
        if (written < levels && unpriv(c)) {
            struct xs_dom *d = xs_dom_find(s, c->domid);

            if (d && d->nentry >= s->q.nodes) {
                rc = -ENOSPC;
                break;
            }
        }
        rc = write_node(s, c, chain[written], false);
        if (rc) {
            break;
        }
    }
    if (rc) {
        /* undo: the new nodes written so far go again */
        for (size_t j = 0; j < written; j++) {
            delete_node(s, c, chain[j]->name);
        }
        if (c->cur) {
            c->cur->fail = true;
        }
        goto out;
    }
    *out = chain[0];
    chain[0] = NULL;
out:
    for (size_t k = 0; chain && k <= levels; k++) {
        xs_node_free(s, chain[k]);
    }
    xs_free(s, chain);
    for (size_t k = 0; names && k < levels; k++) {
        xs_free(s, names[k]);
    }
    xs_free(s, names);
    xs_node_free(s, parent);
    return rc;
}

/* WRITE and MKDIR: name is as the client sent it */
int xs_do_write(struct xs_conn *c, const char *name, const char *data,
                uint32_t len, bool mkdir)
{
    struct xs_store *s = c->s;
    char *canon = xs_canonicalize(c, name);
    struct xs_node *node = NULL;
    int rc;

    if (!canon) {
        return -ENOMEM;
    }
    rc = xs_get_node(c, canon, XS_PERM_WRITE, &node);
    if (!rc) {
        if (mkdir) {
            goto out; /* an existing node is fine, and changes nothing */
        }
        char *d = xs_memdup(s, data, len);

        if (!d) {
            rc = -ENOMEM;
            goto out;
        }
        xs_free(s, node->data);
        node->data = d;
        node->datalen = len;
        rc = write_node(s, c, node, false);
    } else if (rc == -ENOENT) {
        rc = create_node(c, canon, data, len, &node);
    }
    if (!rc) {
        fire_watches(s, c, canon, node, false, NULL, 0, 0);
    }
out:
    xs_node_free(s, node);
    xs_free(s, canon);
    return rc;
}

/*
 * Deletes name and everything below it, children first (4.17's walk): each
 * descendant fires the watches set exactly on it, then name fires its own
 * and its ancestors' watches.
 */
static int del_subtree(struct xs_store *s, struct xs_conn *c, const char *name,
                       const char *root)
{
    struct xs_node *n;
    int rc = read_node(s, c, name, &n);

    if (rc) {
        return rc == -ENOENT ? -EIO : rc;
    }
    for (uint32_t off = 0; off < n->childlen;) {
        const char *child = n->children + off;
        char *cp = child_path(s, name, child);

        off += (uint32_t)strlen(child) + 1;
        rc = cp ? del_subtree(s, c, cp, root) : -ENOMEM;
        xs_free(s, cp);
        if (rc) {
            goto out;
        }
    }
    rc = delete_node(s, c, name);
    if (!rc) {
        fire_watches(s, c, name, n, strcmp(name, root) != 0, NULL, 0, 0);
    }
out:
    xs_node_free(s, n);
    return rc;
}

/* 4.17's rm_node(): the subtree, then the entry in the parent */
static int rm_node(struct xs_store *s, struct xs_conn *c, const char *name)
{
    char *pname = parent_of(s, name);
    struct xs_node *parent = NULL;
    int rc;

    if (!pname) {
        return -ENOMEM;
    }
    rc = read_node(s, c, pname, &parent);
    xs_free(s, pname);
    if (rc) {
        return (rc == -ENOMEM || rc == -ENOSPC) ? rc : -EINVAL;
    }
    rc = del_subtree(s, c, name, name);
    if (!rc) {
        rc = remove_child(parent, strrchr(name, '/') + 1);
    }
    if (!rc) {
        rc = write_node(s, c, parent, true) ? -EIO : 0;
    }
    xs_node_free(s, parent);
    return rc;
}

int xs_do_rm(struct xs_conn *c, const char *name)
{
    struct xs_store *s = c->s;
    char *canon = xs_canonicalize(c, name);
    struct xs_node *node = NULL;
    int rc;

    if (!canon) {
        return -ENOMEM;
    }
    rc = xs_get_node(c, canon, XS_PERM_WRITE, &node);
    if (rc == -ENOENT) {
        /* a missing node is fine if its parent exists */
        char *pname = parent_of(s, canon);

        rc = pname ? read_node(s, c, pname, &node) : -ENOMEM;
        xs_free(s, pname);
        if (rc && rc != -ENOMEM && rc != -ENOSPC) {
            rc = -ENOENT;
        }
    } else if (!rc) {
        rc = strcmp(canon, "/") ? rm_node(s, c, canon) : -EINVAL;
    }
    xs_node_free(s, node);
    xs_free(s, canon);
    return rc;
}

int xs_do_set_perms(struct xs_conn *c, const char *name,
                    const struct xs_perm *p, uint32_t n)
{
    struct xs_store *s = c->s;
    char *canon = xs_canonicalize(c, name);
    struct xs_node *node = NULL;
    struct xs_perm *old = NULL, *np;
    uint32_t nold;
    uint64_t oldgen;
    int rc;

    if (!canon) {
        return -ENOMEM;
    }
    /* we must own the node (the privileged do too) */
    rc = xs_get_node(c, canon, XS_PERM_WRITE | XS_PERM_OWNER, &node);
    if (rc) {
        goto out;
    }
    if (unpriv(c) && p[0].id != node->perms[0].id) {
        rc = -EPERM; /* only the privileged may give a node away */
        goto out;
    }
    np = xs_memdup(s, p, n * sizeof(*p));
    if (!np) {
        rc = -ENOMEM;
        goto out;
    }
    old = node->perms;
    nold = node->nperms;
    oldgen = node->generation;
    node->perms = np;
    node->nperms = n;
    rc = write_node(s, c, node, false);
    if (!rc) {
        fire_watches(s, c, canon, node, false, old, nold, oldgen);
    }
out:
    xs_free(s, old);
    xs_node_free(s, node);
    xs_free(s, canon);
    return rc;
}

/* ---- transactions ---- */

void xs_tx_free(struct xs_store *s, struct xs_tx *t)
{
    if (t) {
        charge(s, t->domid, -(long)t->mem);
        xs_map_clear(s, &t->acc, acc_free);
        xs_free(s, t);
    }
}

/* A new transaction on c with the first free id from 1 on (0 is none). */
struct xs_tx *xs_tx_start(struct xs_conn *c)
{
    struct xs_tx *t = xs_zalloc(c->s, sizeof(*t));
    struct xs_dom *d = xs_dom_find(c->s, c->domid);
    bool used;

    if (!t) {
        return NULL;
    }
    t->domid = c->domid;
    t->generation = ++c->s->generation;
    do {
        t->id = c->next_txid++;
        used = t->id == 0;
        for (struct xs_tx *o = c->txs; o && !used; o = o->next) {
            used = o->id == t->id;
        }
    } while (used);
    t->next = c->txs;
    c->txs = t;
    c->ntx++;
    if (d) {
        d->ntx++;
    }
    return t;
}

void xs_tx_detach(struct xs_conn *c, struct xs_tx *t)
{
    struct xs_dom *d = xs_dom_find(c->s, c->domid);

    for (struct xs_tx **pp = &c->txs; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            c->ntx--;
            if (d && d->ntx) {
                d->ntx--;
            }
            break;
        }
    }
    if (c->cur == t) {
        c->cur = NULL;
    }
    t->next = NULL;
}

struct delta {
    unsigned int domid;
    int n;
    long mem;
};

/* adds d (and mem) to domid's entry in a small array of deltas */
static int add_delta(struct xs_store *s, struct delta **v, size_t *n,
                     unsigned int domid, int d, long mem)
{
    struct delta *nv;

    for (size_t i = 0; i < *n; i++) {
        if ((*v)[i].domid == domid) {
            (*v)[i].n += d;
            (*v)[i].mem += mem;
            return 0;
        }
    }
    nv = xs_realloc(s, *v, (*n + 1) * sizeof(*nv));
    if (!nv) {
        return -ENOMEM;
    }
    *v = nv;
    nv[*n].domid = domid;
    nv[*n].mem = mem;
    nv[(*n)++].n = d;
    return 0;
}

/*
 * 4.17's transaction_fix_domains() check: after the commit no unprivileged
 * domain whose node count the transaction changed may reach the quota.
 */
static int tx_check_quota(struct xs_store *s, struct xs_tx *t)
{
    struct delta *v = NULL;
    size_t n = 0;
    int rc = 0;

    for (struct xs_acc *a = t->ahead; a && !rc; a = a->next) {
        struct xs_node *g = xs_map_get(&s->db, a->path);

        if (!a->modified) {
            continue;
        }
        if (g) {
            rc = add_delta(s, &v, &n, g->perms[0].id, -1, 0);
        }
        if (!rc && a->node) {
            rc = add_delta(s, &v, &n, a->node->perms[0].id, 1, 0);
        }
    }
    for (size_t i = 0; i < n && !rc; i++) {
        struct xs_dom *d = xs_dom_find(s, v[i].domid);
        int cnt = (d ? d->nentry : 0) + v[i].n;

        if (v[i].domid != 0 && cnt >= s->q.nodes) {
            rc = -ENOSPC;
        }
    }
    xs_free(s, v);
    return rc;
}

/*
 * Commits t (already detached from c): ENOMEM if an error left it
 * half-done, ENOSPC over quota, EAGAIN if a node it read changed since (a
 * deletion or creation counts); else every modified node is committed with
 * a new generation, and the events it queued fire in order of access.
 */
int xs_tx_commit(struct xs_conn *c, struct xs_tx *t)
{
    struct xs_store *s = c->s;
    int rc;

    if (t->fail) {
        return -ENOMEM;
    }
    /*
     * The domains a written node's permissions name must date from when
     * the transaction wrote it: an entry for one released since (its domid
     * maybe reused already) is ignored, and such an owner becomes dom0.
     */
    for (struct xs_acc *a = t->ahead; a; a = a->next) {
        if (a->modified && a->node) {
            adjust_perms(s, a->node);
            if (!dom_older(s, a->node->perms[0].id, a->node->generation)) {
                a->node->perms[0].id = 0;
            }
        }
    }
    if (t->node_created && unpriv(c) && (rc = tx_check_quota(s, t))) {
        return rc;
    }
    for (struct xs_acc *a = t->ahead; a; a = a->next) {
        struct xs_node *g = xs_map_get(&s->db, a->path);

        if (a->check_gen && (g ? g->generation : XS_NO_GENERATION) != a->gen) {
            return -EAGAIN;
        }
    }
    for (struct xs_acc *a = t->ahead; a; a = a->next) {
        if (!a->modified) {
            continue;
        }
        if (a->node) {
            a->node->generation = ++s->generation;
            if (db_set(s, a->node)) {
                return -ENOMEM; /* 4.17 calls this "corrupt" */
            }
        } else {
            db_del(s, a->path);
        }
        if (a->fire) {
            fire_watches(s, NULL, a->path, NULL, a->exact, a->old_perms,
                         a->nold, a->gen);
        }
    }
    return 0;
}

/* ---- connections ---- */

int xs_conn_new(struct xs_store *s, unsigned int domid, bool privileged,
                struct xs_conn **out)
{
    struct xs_conn *c = xs_zalloc(s, sizeof(*c));
    struct xs_conn **pp = &s->conns;

    /* a domain with a connection exists: the store knows it from now on */
    if (!c || xs_dom_alive(s, domid)) {
        xs_free(s, c);
        return -ENOMEM;
    }
    xs_dom_find(s, domid)->nconn++;
    c->s = s;
    c->domid = domid;
    c->priv = privileged;
    snprintf(c->prefix, sizeof(c->prefix), "/local/domain/%u", domid);
    /* append: events reach connections in the order they came */
    while (*pp) {
        pp = &(*pp)->next;
    }
    *pp = c;
    *out = c;
    return 0;
}

/* RESET_WATCHES: every watch and transaction of c goes */
void xs_conn_reset(struct xs_conn *c)
{
    struct xs_store *s = c->s;
    struct xs_dom *d = xs_dom_find(s, c->domid);

    while (c->watches) {
        struct xs_watch *w = c->watches;

        c->watches = w->next;
        if (d && d->nwatch) {
            d->nwatch--;
        }
        xs_free(s, w->node);
        xs_free(s, w->token);
        xs_free(s, w);
    }
    while (c->txs) {
        struct xs_tx *t = c->txs;

        xs_tx_detach(c, t);
        xs_tx_free(s, t);
    }
    c->cur = NULL;
}

static void drop_output(struct xs_conn *c)
{
    while (c->qhead) {
        struct xs_msg *m = c->qhead;

        unqueue(c, m);
        xs_free(c->s, m);
    }
}

/*
 * 4.17's ignore_connection() for a released domain's connection: its
 * watches, transactions and output go, and the embedder is told to drop it.
 */
static void conn_close(struct xs_conn *c)
{
    if (c->closed) {
        return;
    }
    c->closed = true;
    xs_conn_reset(c);
    drop_output(c);
    if (c->s->ops.conn_closed) {
        c->s->ops.conn_closed(c->s->opaque, c);
    }
}

void xs_conn_free(struct xs_conn *c)
{
    struct xs_store *s;
    struct xs_dom *d;

    if (!c) {
        return;
    }
    s = c->s;
    for (struct xs_conn **pp = &s->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    xs_conn_reset(c);
    drop_output(c);
    d = xs_dom_find(s, c->domid);
    if (d && d->nconn) {
        d->nconn--;
    }
    xs_free(s, c);
}

struct xs_msg *xs_conn_pop(struct xs_conn *c)
{
    struct xs_msg *m = c->qhead;

    if (m) {
        unqueue(c, m);
    }
    return m;
}

void xs_msg_free(struct xs_store *s, struct xs_msg *m)
{
    xs_free(s, m);
}

size_t xs_conn_queued(const struct xs_conn *c)
{
    return c->qlen;
}

size_t xs_conn_queued_bytes(const struct xs_conn *c)
{
    return c->qbytes;
}

unsigned int xs_conn_domid(const struct xs_conn *c)
{
    return c->domid;
}

bool xs_conn_closed(const struct xs_conn *c)
{
    return c->closed;
}

bool xs_conn_can_read(const struct xs_conn *c)
{
    const struct xs_dom *d;

    if (c->closed) {
        return false;
    }
    if (c->priv || c->domid == 0) {
        return true;
    }
    d = xs_dom_find(c->s, c->domid);
    return !d || (d->memory < c->s->q.memory &&
                  d->noutstanding < (unsigned int)c->s->q.outstanding);
}

/* ---- domains ---- */

int xs_domain_introduce(struct xs_store *s, unsigned int domid)
{
    struct xs_dom *d;

    if (xs_dom_alive(s, domid)) {
        return -ENOMEM;
    }
    d = xs_dom_find(s, domid);
    if (!d->introduced) {
        d->introduced = true;
        d->shutdown = false;
        if (domid != 0) {
            xs_fire_special(s, "@introduceDomain");
        }
    }
    return 0;
}

bool xs_domain_introduced(const struct xs_store *s, unsigned int domid)
{
    const struct xs_dom *d = xs_dom_find(s, domid);

    return d && d->introduced;
}

unsigned int xs_domain_conns(const struct xs_store *s, unsigned int domid)
{
    const struct xs_dom *d = xs_dom_find(s, domid);

    return d ? d->nconn : 0;
}

int xs_domains_shutdown(struct xs_store *s, const unsigned int *domids,
                        size_t n)
{
    int seen = 0;

    for (size_t i = 0; i < n; i++) {
        struct xs_dom *d = xs_dom_find(s, domids[i]);

        if (d && d->introduced && !d->shutdown) {
            d->shutdown = true;
            seen++;
        }
    }
    /* 4.17's check_domains(): one event for what a scan found */
    if (seen) {
        xs_fire_special(s, "@releaseDomain");
    }
    return seen;
}

/* deletes, from name down, the subtrees whose top domid owns */
static void remove_owned(struct xs_store *s, const char *name,
                         unsigned int domid)
{
    struct xs_node *n = xs_map_get(&s->db, name);
    char *children;
    uint32_t len;

    if (!n) {
        return;
    }
    if (n->perms[0].id == domid) {
        rm_node(s, NULL, name); /* errors: 4.17 logs and goes on */
        return;
    }
    len = n->childlen;
    children = xs_memdup(s, n->children, len);
    if (!children) {
        return;
    }
    for (uint32_t off = 0; off < len;) {
        char *cp = child_path(s, name, children + off);

        off += (uint32_t)strlen(children + off) + 1;
        if (cp) {
            remove_owned(s, cp, domid);
            xs_free(s, cp);
        }
    }
    xs_free(s, children);
}

/* drops domid's entries; an owner that goes becomes domain 0 */
static void perms_drop(struct xs_perm *p, uint32_t *n, unsigned int domid)
{
    uint32_t j = 1;

    if (p[0].id == domid) {
        p[0].id = 0;
    }
    for (uint32_t i = 1; i < *n; i++) {
        if (p[i].id != domid) {
            p[j++] = p[i];
        }
    }
    *n = j;
}

/*
 * 4.17's destroy_domain() of a domain's record: its connections close, the
 * nodes it owns go, nothing names it any more (its entries are ignored by
 * the generation rule from now on), and @releaseDomain fires.
 */
static void domain_forget(struct xs_store *s, unsigned int domid)
{
    struct xs_dom *d;

    for (struct xs_conn *c = s->conns; c; c = c->next) {
        if (c->domid == domid) {
            conn_close(c);
        }
    }
    d = xs_dom_find(s, domid);
    d->introduced = false;
    d->shutdown = false;
    d->has_target = false;
    d->generation = XS_NO_GENERATION;
    /* a controller of it (SET_TARGET) must not reach a reused domid */
    for (size_t i = 0; i < s->ndoms; i++) {
        if (s->doms[i].has_target && s->doms[i].target == domid) {
            s->doms[i].has_target = false;
        }
    }
    if (d->nentry > 0) {
        remove_owned(s, "/", domid);
    }
    perms_drop(s->rel_perms, &s->nrel, domid);
    perms_drop(s->intro_perms, &s->nintro, domid);
    xs_fire_special(s, "@releaseDomain");
}

int xs_domain_release(struct xs_store *s, unsigned int domid)
{
    if (domid == 0) {
        return -EINVAL;
    }
    if (!xs_domain_introduced(s, domid)) {
        return -ENOENT;
    }
    domain_forget(s, domid);
    return 0;
}

int xs_domain_dead(struct xs_store *s, unsigned int domid)
{
    if (domid == 0) {
        return -EINVAL;
    }
    if (!xs_dom_find(s, domid)) {
        return -ENOENT;
    }
    domain_forget(s, domid);
    return 0;
}

int xs_domain_nodes(struct xs_store *s, unsigned int domid)
{
    struct xs_dom *d = xs_dom_find(s, domid);

    return d ? d->nentry : 0;
}

long xs_domain_memory(struct xs_store *s, unsigned int domid)
{
    struct xs_dom *d = xs_dom_find(s, domid);

    return d ? d->memory : 0;
}

/* ---- the store ---- */

struct xs_quota *xs_store_quota(struct xs_store *s)
{
    return &s->q;
}

/* one node of the initial tree, owned by domain 0 with "n0" */
static int initial_node(struct xs_store *s, const char *name, const char *child)
{
    struct xs_perm p = {0, XS_PERM_NONE};
    struct xs_node n = {
        .name = (char *)name,
        .data = (char *)"",
        .perms = &p,
        .nperms = 1,
        .children = (char *)(child ? child : ""),
        .childlen = child ? (uint32_t)strlen(child) + 1 : 0,
        .generation = ++s->generation,
    };

    return db_set(s, &n);
}

int xs_store_new(struct xs_store **out, const struct xs_store_ops *ops,
                 void *opaque)
{
    struct xs_store *s = calloc(1, sizeof(*s));
    const struct xs_perm none = {0, XS_PERM_NONE};

    if (!s) {
        return -ENOMEM;
    }
    if (ops) {
        s->ops = *ops;
    }
    s->opaque = opaque;
    s->q = (struct xs_quota){
        .nodes = XS_QUOTA_NODES,
        .watches = XS_QUOTA_WATCHES,
        .transactions = XS_QUOTA_TRANSACTIONS,
        .outstanding = XS_QUOTA_OUTSTANDING,
        .trans_nodes = XS_QUOTA_TRANS_NODES,
        .memory = XS_QUOTA_MEMORY,
        .memory_soft = XS_QUOTA_MEMORY_SOFT,
        .node_size = XS_QUOTA_NODE_SIZE,
        .path_max = XS_QUOTA_PATH_MAX,
        .perms = XS_QUOTA_PERMS,
    };
    s->intro_perms = xs_memdup(s, &none, sizeof(none));
    s->rel_perms = xs_memdup(s, &none, sizeof(none));
    s->nintro = s->nrel = 1;
    if (!s->intro_perms || !s->rel_perms || initial_node(s, "/", "tool") ||
        initial_node(s, "/tool", "xenstored") ||
        initial_node(s, "/tool/xenstored", NULL) || xs_domain_introduce(s, 0)) {
        xs_store_free(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

size_t xs_store_free(struct xs_store *s)
{
    size_t left;

    if (!s) {
        return 0;
    }
    while (s->conns) {
        xs_conn_free(s->conns);
    }
    xs_map_clear(s, &s->db, node_free_v);
    xs_free(s, s->doms);
    xs_free(s, s->intro_perms);
    xs_free(s, s->rel_perms);
    left = s->nalloc;
    free(s);
    return left;
}

/* what c holds for its domain: its transactions and its queued output;
 * -1 if a count does not match what it has */
static long conn_mem(const struct xs_conn *c, unsigned int *ntx,
                     unsigned int *nout)
{
    long mem = (long)c->qbytes, q = 0;
    size_t qlen = 0;

    *ntx = 0;
    *nout = 0;
    for (const struct xs_msg *m = c->qhead; m; m = m->next) {
        q += (long)(sizeof(m->hdr) + m->hdr.len);
        qlen++;
        *nout += m->hdr.type != XS_WATCH_EVENT;
    }
    if (q != (long)c->qbytes || qlen != c->qlen) {
        return -1;
    }
    for (const struct xs_tx *t = c->txs; t; t = t->next) {
        long tm = 0;

        (*ntx)++;
        for (const struct xs_acc *a = t->ahead; a; a = a->next) {
            if ((long)a->charged != acc_mem(a->path, a->node, a->nold)) {
                return -1;
            }
            tm += (long)a->charged;
        }
        if (tm != (long)t->mem || t->domid != c->domid) {
            return -1;
        }
        mem += tm;
    }
    return *ntx == c->ntx ? mem : -1;
}

/*
 * CONTROL "check": every listed child exists, every node but "/" is listed
 * by its parent, and every domain's counts match what the store holds:
 * nodes owned, open transactions, connections, outstanding replies and
 * memory (the nodes' records, transactions and queued messages).
 */
int xs_store_check(struct xs_store *s)
{
    struct delta *v = NULL;
    size_t n = 0;
    int rc = 0;

    for (size_t i = 0; i < s->db.nb && !rc; i++) {
        for (struct xs_map_ent *e = s->db.b[i]; e && !rc; e = e->next) {
            struct xs_node *node = e->val, *p;
            char *pname;

            rc = add_delta(s, &v, &n, node->perms[0].id, 1, node_mem(node))
                     ? -ENOMEM
                     : 0;
            for (uint32_t off = 0; off < node->childlen && !rc;) {
                char *cp = child_path(s, node->name, node->children + off);

                off += (uint32_t)strlen(node->children + off) + 1;
                rc = !cp ? -ENOMEM : xs_map_get(&s->db, cp) ? 0 : -EIO;
                xs_free(s, cp);
            }
            if (rc || !strcmp(node->name, "/")) {
                continue;
            }
            pname = parent_of(s, node->name);
            p = pname ? xs_map_get(&s->db, pname) : NULL;
            xs_free(s, pname);
            rc = -EIO;
            for (uint32_t off = 0; p && off < p->childlen;) {
                if (!strcmp(p->children + off, strrchr(node->name, '/') + 1)) {
                    rc = 0;
                    break;
                }
                off += (uint32_t)strlen(p->children + off) + 1;
            }
        }
    }
    for (size_t i = 0; i < s->ndoms && !rc; i++) {
        const struct xs_dom *d = &s->doms[i];
        unsigned int ntx = 0, nconn = 0, nout = 0;
        long mem = 0;
        int want = 0;

        for (size_t k = 0; k < n; k++) {
            if (v[k].domid == d->domid) {
                want = v[k].n;
                mem = v[k].mem;
            }
        }
        for (const struct xs_conn *c = s->conns; c && mem >= 0; c = c->next) {
            unsigned int ct, co;
            long cm;

            if (c->domid != d->domid) {
                continue;
            }
            cm = conn_mem(c, &ct, &co);
            mem = cm < 0 ? -1 : mem + cm;
            ntx += ct;
            nout += co;
            nconn++;
        }
        if (want != d->nentry || mem != d->memory || ntx != d->ntx ||
            nconn != d->nconn || nout != d->noutstanding) {
            rc = -EIO;
        }
    }
    xs_free(s, v);
    return rc;
}
