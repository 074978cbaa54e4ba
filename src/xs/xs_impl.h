/* SPDX-License-Identifier: MIT */
/*
 * xs_impl.h - the store's private structures, shared by util.c (allocation
 * accounting, the string map, paths and permission strings), store.c (the
 * database, transactions, watches, node operations) and wire.c (the request
 * handler and CONTROL).
 *
 * The layout follows C xenstored 4.17: the committed tree is a map from
 * canonical path to a node record (value bytes, permission entries, the
 * children's names as a NUL-separated list in creation order, generation),
 * like its TDB.  A transaction is an overlay of the nodes it accessed, each
 * with the generation it had when first accessed; commit re-checks those.
 */
#ifndef PROCVISOR_XS_IMPL_H
#define PROCVISOR_XS_IMPL_H

#include "store.h"

#define XS_NO_GENERATION UINT64_MAX

/* sizeof(struct xs_tdb_record_hdr) of 4.17: u64 + 3 * u32, 8-aligned */
#define XS_RECORD_HDR  24u
#define XS_RECORD_PERM 8u

struct xs_node {
    char *name; /* canonical path */
    char *data;
    uint32_t datalen;
    struct xs_perm *perms;
    uint32_t nperms;
    char *children; /* "a\0b\0", creation order */
    uint32_t childlen;
    uint64_t generation;
};

struct xs_map_ent {
    struct xs_map_ent *next;
    char *key;
    void *val;
};

/* A string-keyed hash map with chaining; the map owns its keys. */
struct xs_map {
    struct xs_map_ent **b;
    size_t nb, n;
};

struct xs_watch {
    struct xs_watch *next;
    char *node; /* canonical path or "@..." */
    char *token;
    bool relative; /* events are reported relative to the domain's path */
};

/* One node a transaction accessed. */
struct xs_acc {
    struct xs_acc *next;
    char *path;
    uint64_t gen;   /* generation at first access, or XS_NO_GENERATION */
    bool check_gen; /* first access was a read: check it at commit */
    bool modified;
    bool fire, exact;          /* queued watch event: exact only if all were */
    struct xs_perm *old_perms; /* permissions at first access, if it existed */
    uint32_t nold;
    struct xs_node *node; /* the transaction's view; NULL: absent */
    size_t charged;       /* bytes charged for it to the transaction's domain */
};

struct xs_tx {
    struct xs_tx *next;
    uint32_t id;
    unsigned int domid; /* whose memory it is charged to */
    uint64_t generation;
    struct xs_map acc;            /* path -> struct xs_acc */
    struct xs_acc *ahead, *atail; /* order of first access */
    unsigned int nodes;
    bool node_created;
    bool fail;  /* an error left it half-done: commit answers ENOMEM */
    size_t mem; /* bytes charged to domid */
};

struct xs_conn {
    struct xs_store *s;
    struct xs_conn *next;
    unsigned int domid;
    bool priv;
    bool closed; /* released with its domain: ops.conn_closed was called */
    struct xs_watch *watches; /* registration order */
    struct xs_tx *txs;
    unsigned int ntx;
    uint32_t next_txid;
    struct xs_tx *cur; /* the transaction of the request being handled */
    struct xs_msg *qhead, *qtail;
    size_t qlen, qbytes;
    char prefix[32]; /* "/local/domain/<domid>" */
};

struct xs_dom {
    unsigned int domid;
    int nentry; /* nodes it owns in the committed tree */
    int nwatch;
    bool introduced;
    bool shutdown; /* @releaseDomain fired for its shutdown (until RESUME) */
    bool has_target;
    bool soft_reported, hard_reported; /* memory quota log lines */
    unsigned int target;
    /* the store's generation when it learnt of this incarnation of the
     * domain; XS_NO_GENERATION: none alive (released, dead, or unknown) */
    uint64_t generation;
    long memory;               /* bytes held on its behalf */
    unsigned int ntx;          /* open transactions, all connections */
    unsigned int nconn;        /* connections, closed ones included */
    unsigned int noutstanding; /* replies queued, all connections */
};

struct xs_store {
    struct xs_store_ops ops;
    void *opaque;
    size_t nalloc; /* live allocations: the leak check */
    uint64_t generation;
    struct xs_map db;
    struct xs_dom *doms;
    size_t ndoms, capdoms;
    struct xs_conn *conns;
    struct xs_quota q;
    struct xs_perm *intro_perms, *rel_perms; /* @introduceDomain etc. */
    uint32_t nintro, nrel;
    bool log_on;
};

/* util.c */
void *xs_zalloc(struct xs_store *s, size_t size);
void *xs_realloc(struct xs_store *s, void *p, size_t size);
void xs_free(struct xs_store *s, void *p);
char *xs_strdup(struct xs_store *s, const char *str);
void *xs_memdup(struct xs_store *s, const void *p, size_t len);
char *xs_asprintf(struct xs_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void *xs_map_get(const struct xs_map *m, const char *key);
int xs_map_put(struct xs_store *s, struct xs_map *m, const char *key,
               void *val);
void *xs_map_del(struct xs_store *s, struct xs_map *m, const char *key);
/* frees every entry, calling fn(s, val) on each value first */
void xs_map_clear(struct xs_store *s, struct xs_map *m,
                  void (*fn)(struct xs_store *, void *));

/* store.c, for wire.c */
/* xs_dom_get may move every record: hold no struct xs_dom * across it */
struct xs_dom *xs_dom_get(struct xs_store *s, unsigned int domid);
struct xs_dom *xs_dom_find(const struct xs_store *s, unsigned int domid);
/* the store learns that domid exists now: its record, with a generation */
int xs_dom_alive(struct xs_store *s, unsigned int domid);
/*
 * 4.17's perm_for_conn() for permissions of a node of generation gen
 * (XS_NO_GENERATION: now, for the special paths): entries and an owner
 * naming a domain younger than gen, or none alive, do not count.
 */
unsigned int xs_perm_for_conn(struct xs_conn *c, const struct xs_perm *p,
                              uint32_t n, uint64_t gen);
void xs_log(struct xs_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void xs_node_free(struct xs_store *s, struct xs_node *n);
char *xs_canonicalize(struct xs_conn *c, const char *name);
int xs_get_node(struct xs_conn *c, const char *name, unsigned int perm,
                struct xs_node **out);
int xs_do_write(struct xs_conn *c, const char *name, const char *data,
                uint32_t len, bool mkdir);
int xs_do_rm(struct xs_conn *c, const char *name);
int xs_do_set_perms(struct xs_conn *c, const char *name,
                    const struct xs_perm *p, uint32_t n);
void xs_fire_special(struct xs_store *s, const char *name);
void xs_send_event(struct xs_conn *c, const char *path, const char *token);
int xs_queue(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
             const void *body, size_t len);
void xs_tx_free(struct xs_store *s, struct xs_tx *t);
struct xs_tx *xs_tx_start(struct xs_conn *c);
/* takes t off c's list (the transaction ends); free it with xs_tx_free */
void xs_tx_detach(struct xs_conn *c, struct xs_tx *t);
int xs_tx_commit(struct xs_conn *c, struct xs_tx *t);
void xs_conn_reset(struct xs_conn *c);
struct xs_perm **xs_special_perms(struct xs_store *s, const char *name,
                                  uint32_t **n);

#endif
