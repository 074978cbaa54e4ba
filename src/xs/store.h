/* SPDX-License-Identifier: MIT */
/*
 * store.h - a xenstored-compatible store as a pure data structure: the node
 * tree with permissions and generation counts, transactions, watches,
 * per-domain quotas and a request handler for <xen/io/xs_wire.h> messages.
 *
 * Nothing here does I/O, starts threads or keeps global state.  The caller
 * (the daemon, or a unit test) owns the transport: it creates one struct
 * xs_conn per client connection, hands each decoded request to xs_handle(),
 * and drains the connection's output queue with xs_conn_pop().  xs_handle()
 * queues exactly one reply on the requesting connection and any number of
 * WATCH_EVENTs on any connection (the requester's included), in the order C
 * xenstored 4.17 would send them.
 *
 * Every function returning int returns 0 or a negative errno.
 */
#ifndef PROCVISOR_XS_STORE_H
#define PROCVISOR_XS_STORE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

/*
 * 4.17's default quotas (xenstored_core.c); CONTROL "quota set" changes them.
 * They hold unprivileged domains (any domid but 0) across all of a domain's
 * connections, as 4.17's one connection per domain does.
 */
#define XS_QUOTA_NODES        1000 /* nodes owned per domain */
#define XS_QUOTA_WATCHES      128  /* watches per domain */
#define XS_QUOTA_TRANSACTIONS 10   /* open transactions per domain (+1) */
#define XS_QUOTA_OUTSTANDING  20   /* replies queued per domain: stop reading */
#define XS_QUOTA_TRANS_NODES  1024 /* nodes accessed per transaction */
/* bytes held for a domain (see xs_domain_memory): refuse, stop reading */
#define XS_QUOTA_MEMORY      (2 * 1024 * 1024 + 512 * 1024)
#define XS_QUOTA_MEMORY_SOFT (2 * 1024 * 1024) /* logged once when passed */
#define XS_QUOTA_NODE_SIZE   2048              /* bytes of a node record */
#define XS_QUOTA_PATH_MAX    XENSTORE_REL_PATH_MAX
#define XS_QUOTA_PERMS       5 /* permission entries per node */

/* Messages queued on one connection beyond which watch events are dropped. */
#define XS_QUEUE_MAX 4096

/* Permission bits of one entry (tools/include/xenstore_lib.h values). */
#define XS_PERM_NONE   0x00u
#define XS_PERM_READ   0x01u
#define XS_PERM_WRITE  0x02u
#define XS_PERM_OWNER  0x08u /* internal: what the owner has */
#define XS_PERM_IGNORE 0x10u /* internal: the entry names no live domain */

#define XS_DOMID_SELF 0x7FF0u

struct xs_perm {
    uint32_t id;    /* domid */
    uint32_t perms; /* XS_PERM_* */
};

struct xs_quota {
    int nodes, watches, transactions, outstanding, trans_nodes, memory;
    int memory_soft, node_size, path_max, perms;
};

struct xs_conn;

/* What the store asks of its embedder; every member may be NULL. */
struct xs_store_ops {
    /*
     * Whether a domain exists, asked when SET_PERMS names one: entries for a
     * missing domain are kept but ignored, a missing owner is ENOENT, and
     * INTRODUCE of a missing domain is EINVAL.  NULL: every domain exists.
     */
    bool (*domain_exists)(void *opaque, unsigned int domid);
    /* CONTROL "print" text and "log on|off" switches, for the daemon's log */
    void (*log)(void *opaque, const char *msg);
    /*
     * The store is done with c (its domain was released or died): nothing
     * it sends is handled any more (xs_handle answers -EPIPE) and it gets
     * nothing.  The embedder drops the transport and calls xs_conn_free
     * later: never from inside this call.
     */
    void (*conn_closed)(void *opaque, struct xs_conn *c);
    /* CONTROL "logfile <file>": log to file from now on; 0 or -errno */
    int (*logfile)(void *opaque, const char *file);
    /*
     * CONTROL "memreport [<file>]": append text to file, or to the log file
     * when file is NULL (-EBADF if there is none: the report is then the
     * reply); 0 or -errno.
     */
    int (*report)(void *opaque, const char *file, const char *text);
};

/* One queued outgoing message: a reply or a WATCH_EVENT. */
struct xs_msg {
    struct xs_msg *next;
    struct xsd_sockmsg hdr;
    char body[]; /* hdr.len bytes */
};

struct xs_store;

/*
 * A store with 4.17's initial tree ("/", "/tool", "/tool/xenstored", all
 * "n0") and domain 0 introduced.
 */
int xs_store_new(struct xs_store **out, const struct xs_store_ops *ops,
                 void *opaque);
/*
 * Frees the store and every connection, watch, transaction and queued
 * message it still has.  Returns how many of its allocations were not
 * freed: anything but 0 is a leak.
 */
size_t xs_store_free(struct xs_store *s);

/* The current quotas; the caller may change them. */
struct xs_quota *xs_store_quota(struct xs_store *s);

/*
 * A connection of domain domid.  privileged: C xenstored's "not
 * unprivileged", i.e. dom0 or a local socket: full access, no quotas.
 */
int xs_conn_new(struct xs_store *s, unsigned int domid, bool privileged,
                struct xs_conn **out);
/* Drops the connection's watches, transactions and queued output. */
void xs_conn_free(struct xs_conn *c);

/*
 * Handles one request: hdr->len bytes at payload.  Returns 0 with exactly
 * one reply queued on c (an XS_ERROR one included), -E2BIG when hdr->len
 * exceeds XENSTORE_PAYLOAD_MAX (C xenstored then drops the connection
 * without a reply, and so must the caller), or -EPIPE without a reply when
 * c was closed by the store (ops.conn_closed).
 */
int xs_handle(struct xs_conn *c, const struct xsd_sockmsg *hdr,
              const void *payload);
/*
 * 4.17's domain_can_read(): false while c's domain (unprivileged) holds its
 * hard memory quota or more, or has its outstanding quota of replies
 * queued; the transport then stops reading from every connection of the
 * domain until this turns true again (after output is taken, or a
 * transaction or connection goes).  Also false for a closed connection.
 */
bool xs_conn_can_read(const struct xs_conn *c);
bool xs_conn_closed(const struct xs_conn *c);

/* The oldest queued message of c (NULL if none); free it with xs_msg_free */
struct xs_msg *xs_conn_pop(struct xs_conn *c);
void xs_msg_free(struct xs_store *s, struct xs_msg *m);
size_t xs_conn_queued(const struct xs_conn *c);
size_t xs_conn_queued_bytes(const struct xs_conn *c); /* headers included */
unsigned int xs_conn_domid(const struct xs_conn *c);

/*
 * A domain's life as the hypervisor sees it.
 *
 * introduce: mark it introduced and fire @introduceDomain (not for domain
 * 0), as XS_INTRODUCE does; a domain introduced again keeps its
 * connections, watches and transactions (docs/protocol.md).
 *
 * shutdown: the domains in domids[] are seen shut down or crashed (4.17's
 * check_domains() on VIRQ_DOM_EXC): @releaseDomain fires once if any of
 * them is introduced and was not seen so since it was introduced or
 * resumed (XS_RESUME re-arms it).  Returns how many were newly seen.
 *
 * release: XS_RELEASE: its store connections are closed (ops.conn_closed),
 * the nodes it owns deleted, it is dropped from the special paths'
 * permissions, and @releaseDomain fires.  -ENOENT if not introduced.
 *
 * dead: the domain is gone for good: as release, whether it is introduced
 * or not (a released domain may have got nodes since); its domid may then
 * be reused.  -ENOENT (and no event) if the store never knew it.
 *
 * A domain the store knows has a generation: the store's generation count
 * when it learnt of it (a connection, an introduction, or a SET_PERMS
 * naming it while it exists).  A permission entry naming a domain younger
 * than the node, or one that was released or died, is ignored, and such an
 * owner counts as domain 0 (4.17's chk_domain_generation): a new domain
 * with a reused domid inherits nothing.
 */
int xs_domain_introduce(struct xs_store *s, unsigned int domid);
int xs_domains_shutdown(struct xs_store *s, const unsigned int *domids,
                        size_t n);
int xs_domain_release(struct xs_store *s, unsigned int domid);
int xs_domain_dead(struct xs_store *s, unsigned int domid);
bool xs_domain_introduced(const struct xs_store *s, unsigned int domid);
/* Store connections of domid, closed ones not yet freed included */
unsigned int xs_domain_conns(const struct xs_store *s, unsigned int domid);

/*
 * Consistency (CONTROL "check"): children lists, and every domain's node,
 * transaction, connection, outstanding and memory counts: 0 or -EIO.
 */
int xs_store_check(struct xs_store *s);
/* Nodes owned by domid in the committed tree */
int xs_domain_nodes(struct xs_store *s, unsigned int domid);
/*
 * Bytes the store holds on domid's behalf (4.17's per-domain memory):
 * the records and paths of the committed nodes it owns, everything its
 * transactions hold (accessed nodes, their copies, paths and bookkeeping)
 * and the messages queued on its connections.
 */
long xs_domain_memory(struct xs_store *s, unsigned int domid);

/* ---- pure helpers, also used by the handler ---- */

/*
 * 4.17's is_valid_nodename(): leading '/', no trailing '/' (but "/"), no
 * "//", only [A-Za-z0-9-/_@], and at most path_max characters after a
 * "/local/domain/<id>/" prefix.
 */
bool xs_path_valid(const char *path, int path_max);
/* The error string sent for err (a positive errno): "EINVAL" if unknown */
const char *xs_errstr(int err);
/*
 * One permission entry in xenstored's form: 'n' 'r' 'w' 'b' then a number
 * (strtol base 0, as xs_strings_to_perms()).  0 or -EINVAL.
 */
int xs_perm_parse(const char *str, struct xs_perm *out);
/* "r5\0" into buf (>= 13 bytes); returns strlen or -EINVAL */
int xs_perm_print(const struct xs_perm *p, char *buf, size_t len);

#endif
