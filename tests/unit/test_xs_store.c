/* SPDX-License-Identifier: MIT */
/*
 * test_xs_store.c - unit tests for the xenstore store (src/xs/): requests
 * through xs_handle() with exact replies, error strings and req_id/tx_id
 * echo; paths, permissions, watches and their events, transactions and
 * their conflicts, quotas, domains and CONTROL, as C xenstored 4.17
 * behaves.
 *
 * Each test runs on a fresh store with three connections: dom0 (the
 * privileged one) and the unprivileged domains 5 and 6.  Teardown frees the
 * store and checks that every allocation it made was freed: the leak check.
 * Watch events that arrive before a reply are kept per connection and
 * checked with expect_event()/expect_no_event().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"

#define MAXEV 256

struct ev {
    char path[4096];
    char token[256];
};

struct cstate {
    struct xs_conn *c;
    struct ev ev[MAXEV];
    unsigned int head, tail;
};

struct reply {
    uint32_t type, req_id, tx_id, len;
    char body[XENSTORE_PAYLOAD_MAX + 1];
};

struct t {
    struct xs_store *s;
    struct cstate d0, u5, u6, x; /* x: a further connection, made by a test */
    bool missing[16];            /* domains domain_exists() says are gone */
    char log[256];
    struct xs_conn *closed[8]; /* what ops.conn_closed was told */
    unsigned int nclosed;
    char logfile[64], report_file[64], report[4096];
    int report_rc; /* what ops.report answers */
};

static struct t *T; /* the current test's fixture */
static struct reply R;

static bool dom_exists(void *opaque, unsigned int domid)
{
    struct t *t = opaque;

    return domid >= 16 || !t->missing[domid];
}

static void log_cb(void *opaque, const char *msg)
{
    struct t *t = opaque;

    snprintf(t->log, sizeof(t->log), "%s", msg);
}

static void conn_closed_cb(void *opaque, struct xs_conn *c)
{
    struct t *t = opaque;

    assert_true(t->nclosed < 8);
    t->closed[t->nclosed++] = c;
}

static int logfile_cb(void *opaque, const char *file)
{
    struct t *t = opaque;

    snprintf(t->logfile, sizeof(t->logfile), "%s", file);
    return 0;
}

static int report_cb(void *opaque, const char *file, const char *text)
{
    struct t *t = opaque;

    snprintf(t->report_file, sizeof(t->report_file), "%s",
             file ? file : "(log)");
    snprintf(t->report, sizeof(t->report), "%s", text);
    return t->report_rc;
}

static const struct xs_store_ops ops = {dom_exists, log_cb, conn_closed_cb,
                                        logfile_cb, report_cb};

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    assert_int_equal(xs_store_new(&t->s, &ops, t), 0);
    assert_int_equal(xs_conn_new(t->s, 0, true, &t->d0.c), 0);
    assert_int_equal(xs_conn_new(t->s, 5, false, &t->u5.c), 0);
    assert_int_equal(xs_conn_new(t->s, 6, false, &t->u6.c), 0);
    T = t;
    *state = t;
    return 0;
}

/* the leak check: every allocation of the store was freed */
static int teardown(void **state)
{
    struct t *t = *state;

    assert_int_equal(xs_store_check(t->s), 0);
    assert_int_equal(xs_store_free(t->s), 0);
    free(t);
    return 0;
}

static struct cstate *cs(struct xs_conn *c)
{
    if (c == T->d0.c) {
        return &T->d0;
    }
    if (c == T->u5.c) {
        return &T->u5;
    }
    if (c == T->x.c) {
        return &T->x;
    }
    return &T->u6;
}

/* moves queued events into the connection's list; returns the reply */
static bool drain(struct xs_conn *c, struct reply *out)
{
    struct cstate *st = cs(c);
    struct xs_msg *m;
    bool got = false;

    while ((m = xs_conn_pop(c))) {
        if (m->hdr.type == XS_WATCH_EVENT) {
            struct ev *e = &st->ev[st->tail++ % MAXEV];
            size_t pl = strlen(m->body);

            assert_true(m->hdr.len > pl + 1);
            assert_int_equal(m->hdr.req_id, 0);
            assert_int_equal(m->hdr.tx_id, 0);
            assert_int_equal(m->body[m->hdr.len - 1], '\0');
            snprintf(e->path, sizeof(e->path), "%s", m->body);
            snprintf(e->token, sizeof(e->token), "%s", m->body + pl + 1);
        } else {
            assert_false(got); /* exactly one reply */
            got = true;
            out->type = m->hdr.type;
            out->req_id = m->hdr.req_id;
            out->tx_id = m->hdr.tx_id;
            out->len = m->hdr.len;
            assert_true(m->hdr.len <= XENSTORE_PAYLOAD_MAX);
            memcpy(out->body, m->body, m->hdr.len);
            out->body[m->hdr.len] = 0;
        }
        xs_msg_free(T->s, m);
    }
    return got;
}

/* one request with req_id 0; the reply is in R */
static struct reply *rqi(struct xs_conn *c, uint32_t type, uint32_t tx,
                         uint32_t req_id, const void *p, size_t len)
{
    struct xsd_sockmsg h = {type, req_id, tx, (uint32_t)len};

    assert_int_equal(xs_handle(c, &h, p), 0);
    assert_true(drain(c, &R));
    assert_int_equal(R.req_id, req_id);
    assert_int_equal(R.tx_id, tx);
    if (R.type != XS_ERROR) {
        assert_int_equal(R.type, type);
    }
    return &R;
}

static struct reply *rq(struct xs_conn *c, uint32_t type, uint32_t tx,
                        const void *p, size_t len)
{
    return rqi(c, type, tx, 0, p, len);
}

/* a literal with its explicit NULs, without the implicit one */
#define L(lit) lit, sizeof(lit) - 1

#define D0 (T->d0.c)
#define U5 (T->u5.c)
#define U6 (T->u6.c)
#define X  (T->x.c)

/* X becomes a new connection of domid (its events start afresh) */
static struct xs_conn *new_x(unsigned int domid)
{
    memset(&T->x, 0, sizeof(T->x));
    assert_int_equal(xs_conn_new(T->s, domid, domid == 0, &T->x.c), 0);
    return T->x.c;
}

static void expect_ok(struct reply *r)
{
    assert_int_equal(r->type, r->type == XS_ERROR ? 0xdead : r->type);
    assert_int_equal(r->len, 3);
    assert_string_equal(r->body, "OK");
}

static void expect_err(struct reply *r, const char *err)
{
    assert_int_equal(r->type, XS_ERROR);
    assert_int_equal(r->len, strlen(err) + 1);
    assert_string_equal(r->body, err);
}

static void expect_body(struct reply *r, const void *body, size_t len)
{
    assert_int_not_equal(r->type, XS_ERROR);
    assert_int_equal(r->len, len);
    assert_memory_equal(r->body, body, len);
}

#define OK(c, type, tx, lit)      expect_ok(rq(c, type, tx, L(lit)))
#define ERR(c, type, tx, lit, e)  expect_err(rq(c, type, tx, L(lit)), e)
#define BODY(c, type, tx, lit, b) expect_body(rq(c, type, tx, L(lit)), L(b))

static void expect_event(struct xs_conn *c, const char *path, const char *token)
{
    struct cstate *st = cs(c);
    struct ev *e;

    drain(c, &R);
    assert_true(st->head != st->tail);
    e = &st->ev[st->head++ % MAXEV];
    assert_string_equal(e->path, path);
    assert_string_equal(e->token, token);
}

/* forgets the events c got so far */
static void skip_events(struct xs_conn *c)
{
    drain(c, &R);
    cs(c)->head = cs(c)->tail;
}

static void expect_no_event(struct xs_conn *c)
{
    struct cstate *st = cs(c);

    drain(c, &R);
    if (st->head != st->tail) {
        fail_msg("unexpected event %s %s", st->ev[st->head % MAXEV].path,
                 st->ev[st->head % MAXEV].token);
    }
}

/* dom0 makes /local/domain/<d> owned by d, as a toolstack would */
static void domain_home(unsigned int d)
{
    char b[64];
    int n = snprintf(b, sizeof(b), "/local/domain/%u", d);

    expect_ok(rq(D0, XS_MKDIR, 0, b, (size_t)n + 1));
    n += snprintf(b + n + 1, sizeof(b) - (size_t)n - 1, "n%u", d) + 1;
    expect_ok(rq(D0, XS_SET_PERMS, 0, b, (size_t)n + 1));
}

/* ---- the tree ---- */

static void test_initial_tree(void **state)
{
    (void)state;
    BODY(D0, XS_DIRECTORY, 0, "/\0", "tool\0");
    BODY(D0, XS_DIRECTORY, 0, "/tool\0", "xenstored\0");
    BODY(D0, XS_GET_PERMS, 0, "/\0", "n0\0");
    BODY(D0, XS_GET_PERMS, 0, "/tool/xenstored\0", "n0\0");
    BODY(D0, XS_READ, 0, "/tool/xenstored\0", "");
    BODY(D0, XS_DIRECTORY, 0, "/tool/xenstored\0", "");
    assert_int_equal(xs_domain_nodes(T->s, 0), 3);
}

static void test_write_read_binary(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/a\0hel\0lo");
    /* the value comes back as written, NULs included, no NUL added */
    BODY(D0, XS_READ, 0, "/a\0", "hel\0lo");
    OK(D0, XS_WRITE, 0, "/a\0");
    BODY(D0, XS_READ, 0, "/a\0", "");
}

static void test_write_creates_parents(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/x/y/z\0v");
    BODY(D0, XS_READ, 0, "/x/y\0", "");
    BODY(D0, XS_READ, 0, "/x\0", "");
    OK(D0, XS_WRITE, 0, "/x/b\0");
    OK(D0, XS_WRITE, 0, "/x/a\0");
    /* creation order, not sorted */
    BODY(D0, XS_DIRECTORY, 0, "/x\0", "y\0b\0a\0");
    BODY(D0, XS_DIRECTORY, 0, "/\0", "tool\0x\0");
}

static void test_read_errors(void **state)
{
    (void)state;
    ERR(D0, XS_READ, 0, "/nope\0", "ENOENT");
    ERR(D0, XS_READ, 0, "/tool/\0", "EINVAL");
    ERR(D0, XS_READ, 0, "/a//b\0", "EINVAL");
    ERR(D0, XS_READ, 0, "/a b\0", "EINVAL");
    ERR(D0, XS_READ, 0, "/a.b\0", "EINVAL");
    ERR(D0, XS_READ, 0, "@releaseDomain\0", "EINVAL");
    ERR(D0, XS_WRITE, 0, "/a/\0x", "EINVAL");
    ERR(D0, XS_MKDIR, 0, "/a:b\0", "EINVAL");
    ERR(D0, XS_RM, 0, "//\0", "EINVAL");
    /* characters 4.17 accepts */
    OK(D0, XS_WRITE, 0, "/A-z_0@9\0v");
}

static void test_path_length(void **state)
{
    char p[4096 + 1];
    size_t n;

    (void)state;
    /* at most 2048 characters outside a domain's directory */
    memset(p, 'a', sizeof(p));
    p[0] = '/';
    p[2048] = 0;
    expect_ok(rq(D0, XS_WRITE, 0, p, 2049));
    p[2048] = 'a';
    p[2049] = 0;
    expect_err(rq(D0, XS_WRITE, 0, p, 2050), "EINVAL");
    /* and 2048 after "/local/domain/<id>/" */
    n = (size_t)snprintf(p, sizeof(p), "/local/domain/12/");
    memset(p + n, 'b', 2048);
    p[n + 2048] = 0;
    expect_ok(rq(D0, XS_WRITE, 0, p, n + 2049));
    p[n + 2048] = 'b';
    p[n + 2049] = 0;
    expect_err(rq(D0, XS_WRITE, 0, p, n + 2050), "EINVAL");
    assert_true(xs_path_valid("/", 2048));
    assert_false(xs_path_valid("", 2048));
    assert_false(xs_path_valid("a", 2048));
}

static void test_relative_paths(void **state)
{
    (void)state;
    domain_home(5);
    OK(U5, XS_WRITE, 0, "foo/bar\0v");
    BODY(D0, XS_READ, 0, "/local/domain/5/foo/bar\0", "v");
    BODY(U5, XS_READ, 0, "foo/bar\0", "v");
    /* the privileged connection's relative paths are dom0's */
    OK(D0, XS_WRITE, 0, "rel\0w");
    BODY(D0, XS_READ, 0, "/local/domain/0/rel\0", "w");
    /* an empty relative path is the domain's path with a '/' */
    ERR(U5, XS_READ, 0, "\0", "EINVAL");
}

static void test_malformed_args(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/a\0v");
    ERR(D0, XS_READ, 0, "/a", "EINVAL");     /* no NUL */
    ERR(D0, XS_READ, 0, "/a\0\0", "EINVAL"); /* two */
    ERR(D0, XS_READ, 0, "", "EINVAL");       /* nothing */
    ERR(D0, XS_WRITE, 0, "/a", "EINVAL");    /* no NUL at all */
    ERR(D0, XS_DIRECTORY, 0, "/a\0x", "EINVAL");
    ERR(D0, XS_GET_PERMS, 0, "/a\0/b\0", "EINVAL");
    ERR(D0, XS_WATCH, 0, "/a\0", "EINVAL");
    ERR(D0, XS_WATCH, 0, "/a\0t\0x\0", "EINVAL");
    ERR(D0, XS_UNWATCH, 0, "/a", "EINVAL");
    ERR(D0, XS_TRANSACTION_END, 0, "T", "EINVAL");
    ERR(D0, XS_GET_DOMAIN_PATH, 0, "5", "EINVAL");
}

static void test_oversized_request(void **state)
{
    static char big[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg h = {XS_WRITE, 0, 0, sizeof(big)};

    (void)state;
    /* 4.17 drops the connection: no reply, the caller closes it */
    assert_int_equal(xs_handle(D0, &h, big), -E2BIG);
    assert_int_equal(xs_conn_queued(D0), 0);
    /* exactly the maximum is a request like any other */
    h.len = XENSTORE_PAYLOAD_MAX;
    memcpy(big, "/big", 5);
    assert_int_equal(xs_handle(D0, &h, big), 0);
    assert_true(drain(D0, &R));
    expect_ok(&R);
}

static void test_unknown_types(void **state)
{
    (void)state;
    ERR(D0, 20, 0, "x\0", "ENOSYS"); /* XS_RESTRICT, removed */
    ERR(D0, XS_TYPE_COUNT, 0, "x\0", "ENOSYS");
    ERR(D0, XS_INVALID, 0, "", "ENOSYS");
    ERR(D0, XS_WATCH_EVENT, 0, "/a\0t\0", "ENOSYS");
    ERR(D0, XS_ERROR, 0, "EINVAL\0", "ENOSYS");
    ERR(U5, 0x12345678, 0, "", "ENOSYS");
}

static void test_req_id_echo(void **state)
{
    struct reply *r;

    (void)state;
    r = rqi(D0, XS_WRITE, 0, 77, L("/a\0v"));
    expect_ok(r);
    assert_int_equal(r->req_id, 77);
    r = rqi(D0, XS_READ, 0, 0xfffffffe, L("/missing\0"));
    expect_err(r, "ENOENT");
    assert_int_equal(r->req_id, 0xfffffffe);
    r = rqi(D0, XS_TRANSACTION_START, 0, 3, L("\0"));
    expect_body(r, L("1\0"));
    /* the tx_id comes back too, and with an error */
    r = rqi(D0, XS_READ, 1, 4, L("/a\0"));
    expect_body(r, L("v"));
    assert_int_equal(r->tx_id, 1);
    r = rqi(D0, XS_READ, 9, 5, L("/a\0"));
    expect_err(r, "ENOENT");
    assert_int_equal(r->tx_id, 9);
}

static void test_mkdir(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/m\0val");
    OK(D0, XS_WATCH, 0, "/m\0t\0");
    expect_event(D0, "/m", "t");
    /* an existing node is fine, keeps its value and fires nothing */
    OK(D0, XS_MKDIR, 0, "/m\0");
    expect_no_event(D0);
    BODY(D0, XS_READ, 0, "/m\0", "val");
    OK(D0, XS_MKDIR, 0, "/m/n/o\0");
    expect_event(D0, "/m/n/o", "t");
    BODY(D0, XS_READ, 0, "/m/n/o\0", "");
}

static void test_rm(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/r/a/b\0v");
    OK(D0, XS_WRITE, 0, "/r/c\0v");
    OK(D0, XS_RM, 0, "/r/a\0");
    ERR(D0, XS_READ, 0, "/r/a/b\0", "ENOENT");
    ERR(D0, XS_READ, 0, "/r/a\0", "ENOENT");
    BODY(D0, XS_DIRECTORY, 0, "/r\0", "c\0");
    /* missing, but the parent exists: fine */
    OK(D0, XS_RM, 0, "/r/a\0");
    /* missing parent */
    ERR(D0, XS_RM, 0, "/r/a/b\0", "ENOENT");
    ERR(D0, XS_RM, 0, "/\0", "EINVAL");
    OK(D0, XS_RM, 0, "/r\0");
    BODY(D0, XS_DIRECTORY, 0, "/\0", "tool\0");
    assert_int_equal(xs_domain_nodes(T->s, 0), 3);
}

/* ---- permissions ---- */

static void test_perm_strings(void **state)
{
    struct xs_perm p;
    char b[16];

    (void)state;
    assert_int_equal(xs_perm_parse("n0", &p), 0);
    assert_int_equal(p.perms, XS_PERM_NONE);
    assert_int_equal(p.id, 0);
    assert_int_equal(xs_perm_parse("r1", &p), 0);
    assert_int_equal(p.perms, XS_PERM_READ);
    assert_int_equal(xs_perm_parse("w2", &p), 0);
    assert_int_equal(p.perms, XS_PERM_WRITE);
    assert_int_equal(xs_perm_parse("b32752", &p), 0);
    assert_int_equal(p.perms, XS_PERM_READ | XS_PERM_WRITE);
    assert_int_equal(p.id, 32752);
    /* strtol base 0, as 4.17 */
    assert_int_equal(xs_perm_parse("r0x10", &p), 0);
    assert_int_equal(p.id, 16);
    assert_int_equal(xs_perm_parse("x1", &p), -EINVAL);
    assert_int_equal(xs_perm_parse("r", &p), -EINVAL);
    assert_int_equal(xs_perm_parse("r1x", &p), -EINVAL);
    assert_int_equal(xs_perm_parse("", &p), -EINVAL);
    assert_int_equal(xs_perm_parse("r-1", &p), 0);
    assert_int_equal(xs_perm_print(&p, b, sizeof(b)), 3);
    assert_string_equal(b, "r-1");
    p.perms = XS_PERM_WRITE | XS_PERM_IGNORE;
    p.id = 7;
    assert_int_equal(xs_perm_print(&p, b, sizeof(b)), 2);
    assert_string_equal(b, "w7");
    assert_string_equal(xs_errstr(ENOENT), "ENOENT");
    assert_string_equal(xs_errstr(EPERM), "EPERM");
    assert_string_equal(xs_errstr(EDOM), "EINVAL");
}

static void test_set_get_perms(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/p\0v");
    OK(D0, XS_SET_PERMS, 0, "/p\0n0\0r5\0b6\0");
    BODY(D0, XS_GET_PERMS, 0, "/p\0", "n0\0r5\0b6\0");
    ERR(D0, XS_SET_PERMS, 0, "/p\0", "EINVAL");
    ERR(D0, XS_SET_PERMS, 0, "/p\0q0\0", "EINVAL");
    ERR(D0, XS_SET_PERMS, 0, "/p\0r\0", "EINVAL");
    ERR(D0, XS_SET_PERMS, 0, "/missing\0n0\0", "ENOENT");
    ERR(D0, XS_SET_PERMS, 0, "/p/\0n0\0", "EINVAL");
    BODY(D0, XS_GET_PERMS, 0, "/p\0", "n0\0r5\0b6\0");
}

static void test_read_access(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/p\0v");
    ERR(U5, XS_READ, 0, "/p\0", "EACCES");
    ERR(U5, XS_DIRECTORY, 0, "/p\0", "EACCES");
    ERR(U5, XS_GET_PERMS, 0, "/p\0", "EACCES");
    OK(D0, XS_SET_PERMS, 0, "/p\0n0\0r5\0");
    BODY(U5, XS_READ, 0, "/p\0", "v");
    ERR(U6, XS_READ, 0, "/p\0", "EACCES");
    ERR(U5, XS_WRITE, 0, "/p\0x", "EACCES");
    /* entry 0 is the default for every other domain */
    OK(D0, XS_SET_PERMS, 0, "/p\0r0\0n5\0");
    ERR(U5, XS_READ, 0, "/p\0", "EACCES");
    BODY(U6, XS_READ, 0, "/p\0", "v");
    /* the first matching entry wins */
    OK(D0, XS_SET_PERMS, 0, "/p\0n0\0w6\0r6\0");
    ERR(U6, XS_READ, 0, "/p\0", "EACCES");
    OK(U6, XS_WRITE, 0, "/p\0six");
}

static void test_owner_access(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/o\0v");
    OK(D0, XS_SET_PERMS, 0, "/o\0n5\0");
    /* the owner can do anything, whatever entry 0's letter says */
    BODY(U5, XS_READ, 0, "/o\0", "v");
    OK(U5, XS_WRITE, 0, "/o\0w");
    OK(U5, XS_SET_PERMS, 0, "/o\0n5\0r6\0");
    BODY(U6, XS_READ, 0, "/o\0", "w");
    ERR(U6, XS_SET_PERMS, 0, "/o\0n5\0b6\0", "EACCES");
}

static void test_enoent_masking(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/hid\0");
    /* what the parent does not let one see is EACCES, not ENOENT */
    ERR(U5, XS_READ, 0, "/hid/x\0", "EACCES");
    ERR(U5, XS_READ, 0, "/hid/x/y/z\0", "EACCES");
    OK(D0, XS_SET_PERMS, 0, "/hid\0r0\0");
    ERR(U5, XS_READ, 0, "/hid/x\0", "ENOENT");
    ERR(U5, XS_READ, 0, "/hid/x/y/z\0", "ENOENT");
    /* creating needs write access to the nearest existing ancestor */
    ERR(U5, XS_WRITE, 0, "/hid/x/y\0v", "EACCES");
    ERR(U5, XS_MKDIR, 0, "/hid/x\0", "EACCES");
    /* removal of a missing node whose parent is readable */
    ERR(U5, XS_RM, 0, "/hid/x\0", "EACCES");
    OK(D0, XS_SET_PERMS, 0, "/hid\0b0\0");
    OK(U5, XS_RM, 0, "/hid/x\0");
}

static void test_inheritance(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/i\0");
    OK(D0, XS_SET_PERMS, 0, "/i\0n0\0b5\0r6\0");
    /* an unprivileged creator owns what it creates, the rest is copied */
    OK(U5, XS_WRITE, 0, "/i/a/b\0v");
    BODY(D0, XS_GET_PERMS, 0, "/i/a\0", "n5\0b5\0r6\0");
    BODY(D0, XS_GET_PERMS, 0, "/i/a/b\0", "n5\0b5\0r6\0");
    assert_int_equal(xs_domain_nodes(T->s, 5), 2);
    /* a privileged creator inherits the parent's owner */
    OK(D0, XS_WRITE, 0, "/i/c\0");
    BODY(D0, XS_GET_PERMS, 0, "/i/c\0", "n0\0b5\0r6\0");
    /* and writing an existing node keeps its permissions */
    OK(U5, XS_WRITE, 0, "/i/c\0new");
    BODY(D0, XS_GET_PERMS, 0, "/i/c\0", "n0\0b5\0r6\0");
}

static void test_set_perms_rules(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/s\0");
    OK(D0, XS_SET_PERMS, 0, "/s\0n0\0b5\0");
    /* read+write is not ownership */
    ERR(U5, XS_SET_PERMS, 0, "/s\0n0\0b5\0", "EACCES");
    OK(U5, XS_WRITE, 0, "/s/mine\0");
    /* an owner may not give its node away */
    ERR(U5, XS_SET_PERMS, 0, "/s/mine\0n6\0", "EPERM");
    OK(U5, XS_SET_PERMS, 0, "/s/mine\0r5\0b6\0");
    BODY(D0, XS_GET_PERMS, 0, "/s/mine\0", "r5\0b6\0");
    /* the privileged may */
    OK(D0, XS_SET_PERMS, 0, "/s/mine\0n6\0");
    assert_int_equal(xs_domain_nodes(T->s, 5), 0);
    assert_int_equal(xs_domain_nodes(T->s, 6), 1);
    BODY(U6, XS_READ, 0, "/s/mine\0", "");
}

static void test_perms_quota_and_missing_domains(void **state)
{
    (void)state;
    domain_home(5);
    OK(U5, XS_WRITE, 0, "q\0");
    ERR(U5, XS_SET_PERMS, 0, "q\0n5\0r1\0r2\0r3\0r4\0r6\0", "ENOSPC");
    OK(U5, XS_SET_PERMS, 0, "q\0n5\0r1\0r2\0r3\0r4\0");
    OK(D0, XS_SET_PERMS, 0, "/local/domain/5/q\0n5\0r1\0r2\0r3\0r4\0r6\0");
    /* entries for a domain that does not exist are kept, but ignored */
    T->missing[6] = true;
    OK(D0, XS_SET_PERMS, 0, "/local/domain/5/q\0n5\0r6\0");
    BODY(D0, XS_GET_PERMS, 0, "/local/domain/5/q\0", "n5\0r6\0");
    ERR(U6, XS_READ, 0, "/local/domain/5/q\0", "EACCES");
    /* a missing owner is ENOENT */
    ERR(D0, XS_SET_PERMS, 0, "/local/domain/5/q\0n6\0", "ENOENT");
}

static void test_set_target(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/t\0v");
    OK(D0, XS_SET_PERMS, 0, "/t\0n5\0");
    ERR(U6, XS_READ, 0, "/t\0", "EACCES");
    ERR(D0, XS_SET_TARGET, 0, "6\0005\0", "ENOENT");
    assert_int_equal(xs_domain_introduce(T->s, 5), 0);
    assert_int_equal(xs_domain_introduce(T->s, 6), 0);
    ERR(U6, XS_SET_TARGET, 0, "6\0005\0", "EACCES");
    OK(D0, XS_SET_TARGET, 0, "6\0005\0");
    /* 6 controls 5: it has what 5's ownership gives */
    BODY(U6, XS_READ, 0, "/t\0", "v");
    OK(U6, XS_WRITE, 0, "/t\0w");
}

/* ---- watches ---- */

static void test_watch_first_event(void **state)
{
    (void)state;
    OK(D0, XS_WATCH, 0, "/w\0tok\0");
    /* the event comes right after the OK, for a node that need not exist */
    expect_event(D0, "/w", "tok");
    expect_no_event(D0);
    ERR(D0, XS_WATCH, 0, "/w\0tok\0", "EEXIST");
    OK(D0, XS_WATCH, 0, "/w\0tok2\0");
    expect_event(D0, "/w", "tok2");
    ERR(D0, XS_WATCH, 0, "/w/\0t\0", "EINVAL");
    ERR(D0, XS_UNWATCH, 0, "/w\0nope\0", "ENOENT");
    OK(D0, XS_UNWATCH, 0, "/w\0tok\0");
    ERR(D0, XS_UNWATCH, 0, "/w\0tok\0", "ENOENT");
    /* the tx_id of WATCH is ignored, even an unknown one */
    OK(D0, XS_WATCH, 42, "/v\0t\0");
    expect_event(D0, "/v", "t");
}

static void test_watch_subtree(void **state)
{
    (void)state;
    OK(D0, XS_WATCH, 0, "/a\0t\0");
    expect_event(D0, "/a", "t");
    OK(D0, XS_WRITE, 0, "/a/b/c\0v");
    expect_event(D0, "/a/b/c", "t");
    OK(D0, XS_WRITE, 0, "/a\0v");
    expect_event(D0, "/a", "t");
    /* neither a sibling with the same prefix nor a parent */
    OK(D0, XS_WRITE, 0, "/ab\0v");
    OK(D0, XS_WRITE, 0, "/\0v");
    expect_no_event(D0);
    OK(D0, XS_SET_PERMS, 0, "/a/b\0n0\0r5\0");
    expect_event(D0, "/a/b", "t");
}

static void test_watch_root(void **state)
{
    (void)state;
    OK(D0, XS_WATCH, 0, "/\0all\0");
    expect_event(D0, "/", "all");
    OK(D0, XS_WRITE, 0, "/x\0v");
    expect_event(D0, "/x", "all");
    OK(D0, XS_RM, 0, "/x\0");
    expect_event(D0, "/x", "all");
    expect_no_event(D0);
}

static void test_watch_rm_events(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/r/a/b/c\0v");
    OK(D0, XS_WATCH, 0, "/r\0up\0");
    OK(D0, XS_WATCH, 0, "/r/a/b\0down\0");
    OK(D0, XS_WATCH, 0, "/r/a/b/c/d\0none\0");
    expect_event(D0, "/r", "up");
    expect_event(D0, "/r/a/b", "down");
    expect_event(D0, "/r/a/b/c/d", "none");
    OK(D0, XS_RM, 0, "/r/a\0");
    /* children first: the descendant's own watch, then the removed root */
    expect_event(D0, "/r/a/b", "down");
    expect_event(D0, "/r/a", "up");
    expect_no_event(D0);
}

static void test_watch_relative(void **state)
{
    (void)state;
    domain_home(5);
    OK(U5, XS_WATCH, 0, "data\0rel\0");
    expect_event(U5, "data", "rel");
    OK(U5, XS_WRITE, 0, "data/x\0v");
    expect_event(U5, "data/x", "rel");
    OK(D0, XS_WRITE, 0, "/local/domain/5/data\0v");
    expect_event(U5, "data", "rel");
    /* an absolute watch on the same node is reported absolute */
    OK(U5, XS_WATCH, 0, "/local/domain/5/data\0abs\0");
    expect_event(U5, "/local/domain/5/data", "abs");
    /* UNWATCH takes the relative form too */
    OK(U5, XS_UNWATCH, 0, "data\0rel\0");
    OK(U5, XS_WRITE, 0, "data\0w");
    expect_event(U5, "/local/domain/5/data", "abs");
    expect_no_event(U5);
}

static void test_watch_permissions(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/sec/x\0v");
    OK(U5, XS_WATCH, 0, "/sec\0t\0");
    expect_event(U5, "/sec", "t"); /* the first one always comes */
    OK(D0, XS_WRITE, 0, "/sec/x\0w");
    expect_no_event(U5);
    /* readable node, or readable parent */
    OK(D0, XS_SET_PERMS, 0, "/sec\0n0\0r5\0");
    expect_event(U5, "/sec", "t");
    OK(D0, XS_WRITE, 0, "/sec/x\0w");
    expect_event(U5, "/sec/x", "t");
    /* losing access still tells of the change that took it */
    OK(D0, XS_SET_PERMS, 0, "/sec/x\0n0\0r5\0");
    expect_event(U5, "/sec/x", "t");
    OK(D0, XS_SET_PERMS, 0, "/sec\0n0\0");
    expect_event(U5, "/sec", "t");
    OK(D0, XS_SET_PERMS, 0, "/sec/x\0n0\0");
    expect_event(U5, "/sec/x", "t");
    OK(D0, XS_WRITE, 0, "/sec/x\0z");
    expect_no_event(U5);
}

static void test_event_dedup(void **state)
{
    struct xs_msg *m;
    size_t n = 0;

    (void)state;
    OK(D0, XS_WATCH, 0, "/d\0t\0");
    expect_event(D0, "/d", "t");
    OK(U6, XS_WATCH, 0, "/\0t\0");
    while ((m = xs_conn_pop(U6))) {
        xs_msg_free(T->s, m);
    }
    OK(D0, XS_SET_PERMS, 0, "/\0r0\0");
    /* an event equal to one still queued is not queued again */
    OK(D0, XS_WRITE, 0, "/d\0a");
    OK(D0, XS_WRITE, 0, "/d\0b");
    while ((m = xs_conn_pop(U6))) {
        n++;
        xs_msg_free(T->s, m);
    }
    assert_int_equal(n, 2); /* "/" from SET_PERMS, then "/d" once */
    expect_event(D0, "/d", "t");
    expect_event(D0, "/d", "t");
}

static void test_special_watches(void **state)
{
    (void)state;
    OK(D0, XS_WATCH, 0, "@introduceDomain\0i\0");
    OK(D0, XS_WATCH, 0, "@releaseDomain\0r\0");
    expect_event(D0, "@introduceDomain", "i");
    expect_event(D0, "@releaseDomain", "r");
    OK(U5, XS_WATCH, 0, "@releaseDomain\0r5\0");
    expect_event(U5, "@releaseDomain", "r5");
    OK(U6, XS_WATCH, 0, "/\0all\0");
    expect_event(U6, "/", "all");
    OK(D0, XS_INTRODUCE, 0, "7\0000\0001\0");
    expect_event(D0, "@introduceDomain", "i");
    expect_no_event(D0);
    OK(D0, XS_RELEASE, 0, "7\0");
    expect_event(D0, "@releaseDomain", "r");
    /* unprivileged watchers hear nothing until SET_PERMS lets them */
    expect_no_event(U5);
    expect_no_event(U6); /* and "/" does not cover special paths */
    ERR(U5, XS_SET_PERMS, 0, "@releaseDomain\0n0\0r5\0", "EACCES");
    ERR(D0, XS_SET_PERMS, 0, "@other\0n0\0", "EINVAL");
    OK(D0, XS_SET_PERMS, 0, "@releaseDomain\0n0\0r5\0");
    ERR(D0, XS_GET_PERMS, 0, "@releaseDomain\0", "EINVAL");
    assert_int_equal(xs_domain_introduce(T->s, 8), 0);
    assert_int_equal(xs_domain_release(T->s, 8), 0);
    expect_event(U5, "@releaseDomain", "r5");
    expect_event(D0, "@introduceDomain", "i");
    expect_event(D0, "@releaseDomain", "r");
    /* special watch paths have only a length limit */
    OK(D0, XS_WATCH, 0, "@any.thing\0t\0");
    expect_event(D0, "@any.thing", "t");
}

static void test_reset_watches(void **state)
{
    (void)state;
    OK(U5, XS_WATCH, 0, "/a\0t\0");
    expect_event(U5, "/a", "t");
    BODY(U5, XS_TRANSACTION_START, 0, "\0", "1\0");
    OK(U5, XS_RESET_WATCHES, 0, "\0");
    OK(D0, XS_WRITE, 0, "/a\0v");
    expect_no_event(U5);
    ERR(U5, XS_READ, 1, "/a\0", "ENOENT");
    OK(U5, XS_WATCH, 0, "/a\0t\0");
    expect_event(U5, "/a", "t");
}

/* ---- transactions ---- */

static void test_tx_isolation(void **state)
{
    (void)state;
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "1\0");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "2\0");
    OK(D0, XS_WRITE, 1, "/tx/a\0in");
    /* the transaction sees its own writes, nobody else does */
    BODY(D0, XS_READ, 1, "/tx/a\0", "in");
    BODY(D0, XS_DIRECTORY, 1, "/tx\0", "a\0");
    ERR(D0, XS_READ, 0, "/tx/a\0", "ENOENT");
    ERR(D0, XS_READ, 2, "/tx/a\0", "ENOENT");
    OK(D0, XS_TRANSACTION_END, 1, "T\0");
    BODY(D0, XS_READ, 0, "/tx/a\0", "in");
    OK(D0, XS_TRANSACTION_END, 2, "F\0");
    ERR(D0, XS_TRANSACTION_END, 2, "F\0", "ENOENT");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "3\0");
}

static void test_tx_abort(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/k\0old");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "1\0");
    OK(D0, XS_WRITE, 1, "/k\0new");
    OK(D0, XS_RM, 1, "/tool\0");
    ERR(D0, XS_READ, 1, "/tool\0", "ENOENT");
    OK(D0, XS_TRANSACTION_END, 1, "F\0");
    BODY(D0, XS_READ, 0, "/k\0", "old");
    BODY(D0, XS_DIRECTORY, 0, "/tool\0", "xenstored\0");
}

static void test_tx_conflict(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0,
       "/c\0"
       "0");
    BODY(U5, XS_TRANSACTION_START, 0, "\0", "1\0");
    OK(D0, XS_SET_PERMS, 0, "/c\0b5\0");
    BODY(U5, XS_TRANSACTION_START, 0, "\0", "2\0");
    BODY(U5, XS_READ, 2, "/c\0", "0");
    OK(U5, XS_WRITE, 2, "/c/other\0x");
    OK(D0, XS_WRITE, 0, "/c\0changed");
    ERR(U5, XS_TRANSACTION_END, 2, "T\0", "EAGAIN");
    /* the transaction is gone, and wrote nothing */
    ERR(U5, XS_TRANSACTION_END, 2, "T\0", "ENOENT");
    ERR(D0, XS_READ, 0, "/c/other\0", "ENOENT");
    ERR(U5, XS_READ, 2, "/c\0", "ENOENT");
    /* a transaction that read nothing anyone changed commits */
    OK(U5, XS_TRANSACTION_END, 1, "T\0");
}

static void test_tx_conflict_delete_and_create(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/d\0v");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "1\0");
    BODY(D0, XS_READ, 1, "/d\0", "v");
    ERR(D0, XS_READ, 1, "/new\0", "ENOENT");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "2\0");
    ERR(D0, XS_READ, 2, "/new\0", "ENOENT");
    /* a deletion is a change */
    OK(D0, XS_RM, 0, "/d\0");
    ERR(D0, XS_TRANSACTION_END, 1, "T\0", "EAGAIN");
    /* so is the creation of a node read as missing */
    OK(D0, XS_WRITE, 0, "/new\0v");
    ERR(D0, XS_TRANSACTION_END, 2, "T\0", "EAGAIN");
}

static void test_tx_no_conflict_unrelated(void **state)
{
    (void)state;
    OK(D0, XS_WRITE, 0, "/u/a\0v");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "1\0");
    BODY(D0, XS_READ, 1, "/u/a\0", "v");
    OK(D0, XS_WRITE, 1, "/u/a\0w");
    OK(D0, XS_WRITE, 0, "/elsewhere\0x");
    OK(D0, XS_TRANSACTION_END, 1, "T\0");
    BODY(D0, XS_READ, 0, "/u/a\0", "w");
    BODY(D0, XS_READ, 0, "/elsewhere\0", "x");
}

static void test_tx_errors(void **state)
{
    (void)state;
    ERR(D0, XS_TRANSACTION_END, 0, "T\0", "ENOENT");
    ERR(D0, XS_TRANSACTION_END, 0, "X\0", "EINVAL");
    ERR(D0, XS_READ, 5, "/tool\0", "ENOENT");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "1\0");
    ERR(D0, XS_TRANSACTION_START, 1, "\0", "EBUSY");
    ERR(D0, XS_TRANSACTION_END, 1, "t\0", "EINVAL");
    ERR(D0, XS_TRANSACTION_END, 1, "T", "EINVAL");
    /* transactions are per connection */
    ERR(U5, XS_READ, 1, "/tool\0", "ENOENT");
    OK(D0, XS_TRANSACTION_END, 1, "T\0");
}

static void test_tx_events_at_commit(void **state)
{
    (void)state;
    OK(D0, XS_WATCH, 0, "/e\0t\0");
    expect_event(D0, "/e", "t");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "1\0");
    OK(D0, XS_WRITE, 1, "/e/a\0v");
    OK(D0, XS_WRITE, 1, "/e/b\0v");
    expect_no_event(D0);
    OK(D0, XS_TRANSACTION_END, 1, "T\0");
    expect_event(D0, "/e/a", "t");
    expect_event(D0, "/e/b", "t");
    expect_no_event(D0);
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "2\0");
    OK(D0, XS_RM, 2, "/e/a\0");
    OK(D0, XS_TRANSACTION_END, 2, "F\0");
    expect_no_event(D0);
    BODY(D0, XS_READ, 0, "/e/a\0", "v");
}

static void test_tx_quota(void **state)
{
    char id[16];

    (void)state;
    /* 4.17 compares the count with '>': quota + 1 transactions open */
    for (int i = 1; i <= XS_QUOTA_TRANSACTIONS + 1; i++) {
        int n = snprintf(id, sizeof(id), "%d", i);

        expect_body(rq(U5, XS_TRANSACTION_START, 0, L("\0")), id,
                    (size_t)n + 1);
    }
    ERR(U5, XS_TRANSACTION_START, 0, "\0", "ENOSPC");
    OK(U5, XS_TRANSACTION_END, 3, "F\0");
    BODY(U5, XS_TRANSACTION_START, 0, "\0", "12\0");
    for (int i = 0; i < 30; i++) {
        assert_int_not_equal(rq(D0, XS_TRANSACTION_START, 0, L("\0"))->type,
                             XS_ERROR);
    }
}

static void test_tx_nodes_quota(void **state)
{
    char p[32];

    (void)state;
    xs_store_quota(T->s)->trans_nodes = 4;
    domain_home(5);
    BODY(U5, XS_TRANSACTION_START, 0, "\0", "1\0");
    /* each read, missing nodes and ancestors included, is an access */
    for (int i = 0;; i++) {
        struct reply *r;
        int n = snprintf(p, sizeof(p), "k%d", i);

        r = rq(U5, XS_READ, 1, p, (size_t)n + 1);
        if (r->type == XS_ERROR && !strcmp(r->body, "ENOSPC")) {
            break;
        }
        expect_err(r, "ENOENT");
        assert_true(i < 4);
    }
    /* a transaction that hit the quota cannot commit */
    ERR(U5, XS_TRANSACTION_END, 1, "T\0", "ENOMEM");
}

/* ---- quotas ---- */

/* 4.17 has one connection per domain: its quota holds a domain's
 * connections together */
static void test_tx_quota_per_domain(void **state)
{
    (void)state;
    new_x(5);
    for (int i = 1; i <= XS_QUOTA_TRANSACTIONS + 1; i++) {
        assert_int_not_equal(
            rq(i % 2 ? U5 : X, XS_TRANSACTION_START, 0, L("\0"))->type,
            XS_ERROR);
    }
    ERR(U5, XS_TRANSACTION_START, 0, "\0", "ENOSPC");
    ERR(X, XS_TRANSACTION_START, 0, "\0", "ENOSPC");
    /* another domain has its own */
    BODY(U6, XS_TRANSACTION_START, 0, "\0", "1\0");
    rq(D0, XS_CONTROL, 0, L("quota\0005\0"));
    assert_non_null(strstr(R.body, "transactions    :       11\n"));
    /* a connection that goes takes its transactions with it */
    xs_conn_free(X);
    T->x.c = NULL;
    assert_int_not_equal(rq(U5, XS_TRANSACTION_START, 0, L("\0"))->type,
                         XS_ERROR);
}

/*
 * The hostile pattern: every transaction a domain may open, on several
 * connections, reading long missing paths.  What the store holds for the
 * domain stays under its memory quota: past it, ENOMEM.
 */
static void test_memory_quota_transactions(void **state)
{
    static char p[2100];
    long base, peak = 0;
    unsigned int refused = 0;

    (void)state;
    domain_home(5);
    new_x(5);
    base = xs_domain_memory(T->s, 5);
    assert_true(base > 0); /* its home */
    for (int t = 1; t <= XS_QUOTA_TRANSACTIONS + 1; t++) {
        struct xs_conn *c = t % 2 ? U5 : X;
        uint32_t id;

        rq(c, XS_TRANSACTION_START, 0, L("\0"));
        assert_int_equal(R.type, XS_TRANSACTION_START);
        id = (uint32_t)atoi(R.body);
        for (int i = 0; i < XS_QUOTA_TRANS_NODES; i++) {
            int n = snprintf(p, sizeof(p), "%04d-%04d-", t, i);
            struct reply *r;

            memset(p + n, 'a', 2048 - (size_t)n);
            p[2048] = 0;
            r = rq(c, XS_READ, id, p, 2049);
            assert_int_equal(r->type, XS_ERROR);
            if (!strcmp(r->body, "ENOMEM")) {
                refused++;
                break;
            }
            assert_string_equal(r->body, "ENOENT");
            if (xs_domain_memory(T->s, 5) > peak) {
                peak = xs_domain_memory(T->s, 5);
            }
        }
    }
    /* every transaction but the first ran into the quota */
    assert_true(refused >= XS_QUOTA_TRANSACTIONS);
    assert_true(peak < XS_QUOTA_MEMORY);
    rq(D0, XS_CONTROL, 0, L("quota\0005\0"));
    assert_non_null(strstr(R.body, "memory          :  "));
    /* a failed transaction cannot commit; ending them gives it all back */
    for (uint32_t id = 1; id <= XS_QUOTA_TRANSACTIONS + 1; id++) {
        struct xs_conn *c = id % 2 ? U5 : X;
        uint32_t tx = (id + 1) / 2;

        rq(c, XS_TRANSACTION_END, tx, L("T\0"));
        assert_int_equal(R.type, XS_ERROR);
    }
    assert_int_equal(xs_domain_memory(T->s, 5), base);
    /* dom0 has no quota */
    rq(D0, XS_TRANSACTION_START, 0, L("\0"));
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(p, sizeof(p), "/%05d-", i);

        memset(p + n, 'a', 2000 - (size_t)n);
        p[2000] = 0;
        expect_err(rq(D0, XS_READ, 1, p, 2001), "ENOENT");
    }
    assert_true(xs_domain_memory(T->s, 0) > XS_QUOTA_MEMORY);
}

/* what a domain's nodes and queued messages cost it */
static void test_memory_accounting(void **state)
{
    struct xsd_sockmsg h = {XS_READ, 1, 0, sizeof("v")};
    long base, with;

    (void)state;
    domain_home(5);
    base = xs_domain_memory(T->s, 5);
    OK(U5, XS_WRITE, 0, "v\0value");
    /* a record (header, one permission, 5 bytes) and its key */
    with = base + 24 + 8 + 5 + (long)strlen("/local/domain/5/v");
    /* and the parent's list of children grew by "v\0" */
    assert_int_equal(xs_domain_memory(T->s, 5), with + 2);
    /* a queued reply counts until taken */
    assert_int_equal(xs_handle(U5, &h, "v"), 0);
    assert_int_equal(xs_domain_memory(T->s, 5),
                     with + 2 + 16 + (long)strlen("value"));
    drain(U5, &R);
    assert_int_equal(xs_domain_memory(T->s, 5), with + 2);
    OK(U5, XS_RM, 0, "v\0");
    assert_int_equal(xs_domain_memory(T->s, 5), base);
    /* a node dom0 gives the domain is the domain's */
    OK(D0, XS_WRITE, 0, "/given\0");
    OK(D0, XS_SET_PERMS, 0, "/given\0n5\0");
    assert_int_equal(xs_domain_memory(T->s, 5),
                     base + 24 + 8 + (long)strlen("/given"));
}

/* past its hard memory quota a domain's writes fail, its watches fire no
 * more and it is not read (xs_conn_can_read) until it is back under */
static void test_memory_quota_enforced(void **state)
{
    static char b[2100];
    struct xsd_sockmsg h = {XS_READ, 0, 0, 0};
    long base;
    int i;

    (void)state;
    domain_home(5);
    OK(U5, XS_WATCH, 0, "/local/domain/5\0t\0");
    expect_event(U5, "/local/domain/5", "t");
    base = xs_domain_memory(T->s, 5);
    xs_store_quota(T->s)->memory = (int)base + 4000;
    for (i = 0;; i++) {
        int n = snprintf(b, sizeof(b), "n%d", i) + 1;
        struct reply *r;

        memset(b + n, 'x', 1000);
        r = rq(U5, XS_WRITE, 0, b, (size_t)n + 1000);
        if (r->type == XS_ERROR) {
            expect_err(r, "ENOMEM");
            break;
        }
        skip_events(U5);
        assert_true(i < 4);
    }
    assert_true(xs_domain_memory(T->s, 5) < base + 4000);
    assert_true(xs_conn_can_read(U5));
    /* the privileged may still give it more: then it is over */
    memcpy(b, "/local/domain/5/n0", sizeof("/local/domain/5/n0"));
    memset(b + sizeof("/local/domain/5/n0"), 'y', 2000);
    expect_ok(rq(D0, XS_WRITE, 0, b, sizeof("/local/domain/5/n0") + 2000));
    assert_true(xs_domain_memory(T->s, 5) >= base + 4000);
    assert_false(xs_conn_can_read(U5));
    assert_true(xs_conn_can_read(U6));
    assert_true(xs_conn_can_read(D0));
    expect_no_event(U5); /* dropped: no memory for it */
    OK(D0, XS_RM, 0, "/local/domain/5/n0\0");
    assert_true(xs_conn_can_read(U5));
    expect_event(U5, "/local/domain/5/n0", "t"); /* under it again */
    /* outstanding replies: 4.17 stops reading at the quota, 20 */
    h.len = 2;
    for (i = 0; i < XS_QUOTA_OUTSTANDING; i++) {
        assert_true(xs_conn_can_read(U5));
        assert_int_equal(xs_handle(U5, &h, "v"), 0);
    }
    assert_false(xs_conn_can_read(U5));
    rq(D0, XS_CONTROL, 0, L("quota\0005\0"));
    assert_non_null(strstr(R.body, "outstanding     :       20\n"));
    for (struct xs_msg *m; (m = xs_conn_pop(U5));) {
        assert_int_equal(m->hdr.type, XS_ERROR); /* ENOENT */
        xs_msg_free(T->s, m);
        assert_true(xs_conn_can_read(U5));
    }
}

static void test_watch_quota(void **state)
{
    char b[32];
    int i;

    (void)state;
    /* '>' again: quota + 1 watches */
    for (i = 0; i <= XS_QUOTA_WATCHES; i++) {
        int n = snprintf(b, sizeof(b), "/w%d", i);

        b[n + 1] = 't';
        b[n + 2] = 0;
        expect_ok(rq(U5, XS_WATCH, 0, b, (size_t)n + 3));
        drain(U5, &R);
        cs(U5)->head = cs(U5)->tail;
    }
    ERR(U5, XS_WATCH, 0, "/one-more\0t\0", "E2BIG");
    OK(U5, XS_UNWATCH, 0, "/w0\0t\0");
    OK(U5, XS_WATCH, 0, "/one-more\0t\0");
    expect_event(U5, "/one-more", "t");
    rq(D0, XS_CONTROL, 0, L("quota\0005\0"));
    assert_non_null(strstr(R.body, "watches         :      129\n"));
}

static void test_node_quota(void **state)
{
    (void)state;
    domain_home(5); /* owned by 5: one node already */
    OK(D0, XS_CONTROL, 0, "quota\0set\0nodes\0003\0");
    OK(U5, XS_WRITE, 0, "a\0");
    OK(U5, XS_WRITE, 0, "b\0");
    ERR(U5, XS_WRITE, 0, "c\0", "ENOSPC");
    ERR(U5, XS_MKDIR, 0, "x/y\0", "ENOSPC");
    /* nothing half-made stays behind */
    BODY(D0, XS_DIRECTORY, 0, "/local/domain/5\0", "a\0b\0");
    /* the privileged have no quota */
    OK(D0, XS_WRITE, 0, "/local/domain/5/c\0");
    assert_int_equal(xs_domain_nodes(T->s, 5), 4);
    OK(U5, XS_RM, 0, "a\0");
    OK(U5, XS_RM, 0, "c\0");
    OK(U5, XS_WRITE, 0, "d\0");
    assert_int_equal(xs_domain_nodes(T->s, 5), 3);
}

static void test_node_quota_in_tx(void **state)
{
    (void)state;
    domain_home(5);
    OK(D0, XS_CONTROL, 0, "quota\0set\0nodes\0003\0");
    BODY(U5, XS_TRANSACTION_START, 0, "\0", "1\0");
    /* inside, the check sees the committed count; commit checks the sum */
    OK(U5, XS_WRITE, 1, "a\0");
    OK(U5, XS_WRITE, 1, "b\0");
    ERR(U5, XS_TRANSACTION_END, 1, "T\0", "ENOSPC");
    BODY(D0, XS_DIRECTORY, 0, "/local/domain/5\0", "");
    BODY(U5, XS_TRANSACTION_START, 0, "\0", "2\0");
    OK(U5, XS_WRITE, 2, "a\0");
    OK(U5, XS_TRANSACTION_END, 2, "T\0");
    assert_int_equal(xs_domain_nodes(T->s, 5), 2);
}

static void test_node_size_quota(void **state)
{
    static char b[XENSTORE_PAYLOAD_MAX];
    size_t pl = sizeof("/local/domain/5/v");
    size_t fixed = 24 + 8; /* record header + one permission */

    (void)state;
    domain_home(5);
    memcpy(b, "/local/domain/5/v", pl);
    memset(b + pl, 'x', sizeof(b) - pl);
    /* a node record reaching 2048 bytes is refused to the unprivileged */
    expect_ok(rq(U5, XS_WRITE, 0, b, pl + 2047 - fixed));
    expect_err(rq(U5, XS_WRITE, 0, b, pl + 2048 - fixed), "ENOSPC");
    rq(U5, XS_READ, 0, L("v\0"));
    assert_int_equal(R.len, 2047 - fixed);
    expect_ok(rq(D0, XS_WRITE, 0, b, sizeof(b)));
}

/* ---- DIRECTORY and DIRECTORY_PART ---- */

static void test_directory_part(void **state)
{
    static char all[8192];
    char p[64], q[80];
    size_t alllen = 0, got = 0;
    unsigned int off = 0;
    char gen[24] = "";

    (void)state;
    /* 400 children of 11 characters: 4800 bytes of list */
    for (int i = 0; i < 400; i++) {
        int n = snprintf(p, sizeof(p), "/big/child-%05d", i);

        expect_ok(rq(D0, XS_MKDIR, 0, p, (size_t)n + 1));
        alllen += strlen(p + 5) + 1;
        memcpy(all + alllen - strlen(p + 5) - 1, p + 5, strlen(p + 5) + 1);
    }
    ERR(D0, XS_DIRECTORY, 0, "/big\0", "E2BIG");
    for (;;) {
        int n = snprintf(q, sizeof(q), "/big%c%u", 0, off);
        struct reply *r = rq(D0, XS_DIRECTORY_PART, 0, q, (size_t)n + 1);
        size_t gl = strlen(r->body) + 1, pl = r->len - gl;
        const char *part = r->body + gl;
        bool last;

        assert_int_equal(r->type, XS_DIRECTORY_PART);
        assert_true(r->len > gl);
        if (gen[0]) {
            assert_string_equal(gen, r->body); /* unchanged node */
        }
        snprintf(gen, sizeof(gen), "%s", r->body);
        /* the last part ends with an extra empty string */
        last = pl == 1 || (part[pl - 1] == 0 && part[pl - 2] == 0);
        if (last) {
            pl--;
        }
        assert_memory_equal(part, all + got, pl);
        got += pl;
        off += (unsigned int)pl;
        if (last) {
            break;
        }
        assert_true(pl > 0);
    }
    assert_int_equal(got, alllen);
    /* past the end: the generation and an empty string */
    {
        int n = snprintf(q, sizeof(q), "/big%c%u", 0, 99999u);
        struct reply *r = rq(D0, XS_DIRECTORY_PART, 0, q, (size_t)n + 1);

        assert_int_equal(r->len, strlen(gen) + 2);
        assert_string_equal(r->body, gen);
        assert_int_equal(r->body[r->len - 1], 0);
    }
    ERR(D0, XS_DIRECTORY_PART, 0, "/big\0", "EINVAL");
    ERR(D0, XS_DIRECTORY_PART, 0, "/big\0000\0x\0", "EINVAL");
    ERR(D0, XS_DIRECTORY_PART, 0, "/nope\0000\0", "ENOENT");
    ERR(U5, XS_DIRECTORY_PART, 0, "/big\0000\0", "EACCES");
}

static void test_directory_part_generation(void **state)
{
    char g1[24];

    (void)state;
    OK(D0, XS_WRITE, 0, "/g/a\0");
    rq(D0, XS_DIRECTORY_PART, 0, L("/g\0000\0"));
    assert_int_equal(R.len, strlen(R.body) + 1 + 3);
    assert_memory_equal(R.body + strlen(R.body) + 1, "a\0", 3);
    snprintf(g1, sizeof(g1), "%s", R.body);
    /* a change of the list changes the generation */
    OK(D0, XS_WRITE, 0, "/g/b\0");
    rq(D0, XS_DIRECTORY_PART, 0, L("/g\0000\0"));
    assert_string_not_equal(R.body, g1);
    assert_memory_equal(R.body + strlen(R.body) + 1, "a\0b\0", 5);
}

/* ---- domains ---- */

static void test_domain_messages(void **state)
{
    (void)state;
    BODY(U5, XS_GET_DOMAIN_PATH, 0, "7\0", "/local/domain/7\0");
    BODY(D0, XS_GET_DOMAIN_PATH, 0, "0\0", "/local/domain/0\0");
    BODY(D0, XS_GET_DOMAIN_PATH, 0, "x\0", "/local/domain/0\0");
    ERR(U5, XS_INTRODUCE, 0, "5\0000\0001\0", "EACCES");
    ERR(U5, XS_RELEASE, 0, "5\0", "EACCES");
    ERR(U5, XS_IS_DOMAIN_INTRODUCED, 0, "5\0", "EACCES");
    ERR(U5, XS_RESUME, 0, "5\0", "EACCES");
    BODY(D0, XS_IS_DOMAIN_INTRODUCED, 0, "5\0", "F\0");
    BODY(D0, XS_IS_DOMAIN_INTRODUCED, 0, "0\0", "T\0");
    BODY(D0, XS_IS_DOMAIN_INTRODUCED, 0, "32752\0", "T\0"); /* DOMID_SELF */
    ERR(D0, XS_INTRODUCE, 0, "5\0000\0000\0", "EINVAL");
    ERR(D0, XS_INTRODUCE, 0, "5\0000\0", "EINVAL");
    OK(D0, XS_INTRODUCE, 0, "5\0000\0001\0");
    BODY(D0, XS_IS_DOMAIN_INTRODUCED, 0, "5\0", "T\0");
    OK(D0, XS_INTRODUCE, 0, "5\0000\0002\0"); /* again: fine */
    OK(D0, XS_RESUME, 0, "5\0");
    ERR(D0, XS_RELEASE, 0, "0\0", "EINVAL");
    ERR(D0, XS_RELEASE, 0, "9\0", "ENOENT");
    ERR(D0, XS_RELEASE, 0, "5", "EINVAL");
    OK(D0, XS_RELEASE, 0, "5\0");
    BODY(D0, XS_IS_DOMAIN_INTRODUCED, 0, "5\0", "F\0");
    ERR(D0, XS_RESUME, 0, "5\0", "ENOENT");
    T->missing[9] = true;
    ERR(D0, XS_INTRODUCE, 0, "9\0000\0001\0", "EINVAL");
}

static void test_release_removes_owned_nodes(void **state)
{
    (void)state;
    assert_int_equal(xs_domain_introduce(T->s, 5), 0);
    domain_home(5);
    OK(U5, XS_WRITE, 0, "data/x\0v");
    OK(D0, XS_WRITE, 0, "/shared\0v");
    OK(D0, XS_SET_PERMS, 0, "/shared\0n0\0r5\0r6\0");
    OK(D0, XS_WATCH, 0, "/local/domain\0t\0");
    expect_event(D0, "/local/domain", "t");
    OK(D0, XS_RELEASE, 0, "5\0");
    /* 4.17 deletes what the domain owned, with the usual events: the
     * descendants fire only watches set exactly on them */
    expect_event(D0, "/local/domain/5", "t");
    expect_no_event(D0);
    ERR(D0, XS_READ, 0, "/local/domain/5\0", "ENOENT");
    assert_int_equal(xs_domain_nodes(T->s, 5), 0);
    /* and a released domain's entries no longer count, not even for the
     * domain introduced again */
    assert_int_equal(xs_domain_introduce(T->s, 5), 0);
    ERR(new_x(5), XS_READ, 0, "/shared\0", "EACCES");
    BODY(U6, XS_READ, 0, "/shared\0", "v");
    /* they are still there, ignored */
    BODY(D0, XS_GET_PERMS, 0, "/shared\0", "n0\0r5\0r6\0");
}

/* a domain's connections close with its release: 4.17 frees its
 * connection; what they had goes with them */
static void test_release_closes_connections(void **state)
{
    struct xsd_sockmsg h = {XS_READ, 0, 0, 2};

    (void)state;
    assert_int_equal(xs_domain_introduce(T->s, 5), 0);
    new_x(5);
    OK(U5, XS_WATCH, 0, "/w\0t\0");
    expect_event(U5, "/w", "t");
    BODY(X, XS_TRANSACTION_START, 0, "\0", "1\0");
    OK(D0, XS_WATCH, 0, "@releaseDomain\0r\0");
    expect_event(D0, "@releaseDomain", "r");
    assert_int_equal(xs_domain_conns(T->s, 5), 2);
    OK(D0, XS_RELEASE, 0, "5\0");
    assert_int_equal(T->nclosed, 2);
    assert_true(xs_conn_closed(U5) && xs_conn_closed(X));
    assert_false(xs_conn_can_read(U5));
    assert_int_equal(xs_handle(U5, &h, "v"), -EPIPE);
    assert_null(xs_conn_pop(U5));
    expect_event(D0, "@releaseDomain", "r");
    rq(D0, XS_CONTROL, 0, L("quota\0005\0"));
    assert_non_null(strstr(R.body, "watches         :        0\n"
                                   "transactions    :        0\n"));
    /* the embedder frees them */
    xs_conn_free(X);
    T->x.c = NULL;
    assert_int_equal(xs_domain_conns(T->s, 5), 1);
    /* dom0's and other domains' are not closed */
    assert_false(xs_conn_closed(U6));
    ERR(D0, XS_RELEASE, 0, "5\0", "ENOENT");
}

/* a domain's death cleans up whether it was released before or not */
static void test_dead_after_release(void **state)
{
    (void)state;
    assert_int_equal(xs_domain_introduce(T->s, 5), 0);
    OK(D0, XS_WATCH, 0, "@releaseDomain\0r\0");
    expect_event(D0, "@releaseDomain", "r");
    OK(D0, XS_RELEASE, 0, "5\0");
    expect_event(D0, "@releaseDomain", "r");
    /* it still exists: dom0 may give it a node */
    OK(D0, XS_WRITE, 0, "/late\0");
    OK(D0, XS_SET_PERMS, 0, "/late\0n5\0");
    assert_int_equal(xs_domain_nodes(T->s, 5), 1);
    assert_int_equal(xs_domain_dead(T->s, 5), 0);
    expect_event(D0, "@releaseDomain", "r");
    ERR(D0, XS_READ, 0, "/late\0", "ENOENT");
    assert_int_equal(xs_domain_nodes(T->s, 5), 0);
    /* a domain the store never knew */
    assert_int_equal(xs_domain_dead(T->s, 9), -ENOENT);
    expect_no_event(D0);
}

/* @releaseDomain fires when a domain is seen shut down, once until
 * RESUME (4.17's check_domains()), and again when it dies */
static void test_shutdown_fires_release(void **state)
{
    const unsigned int five = 5, both[] = {5, 6};

    (void)state;
    OK(D0, XS_WATCH, 0, "@releaseDomain\0r\0");
    expect_event(D0, "@releaseDomain", "r");
    /* not introduced: nothing */
    assert_int_equal(xs_domains_shutdown(T->s, &five, 1), 0);
    expect_no_event(D0);
    assert_int_equal(xs_domain_introduce(T->s, 5), 0);
    assert_int_equal(xs_domain_introduce(T->s, 6), 0);
    assert_int_equal(xs_domains_shutdown(T->s, &five, 1), 1);
    expect_event(D0, "@releaseDomain", "r");
    expect_no_event(D0);
    assert_int_equal(xs_domains_shutdown(T->s, &five, 1), 0);
    expect_no_event(D0);
    /* one event for what one scan found */
    OK(D0, XS_RESUME, 0, "5\0");
    assert_int_equal(xs_domains_shutdown(T->s, both, 2), 2);
    expect_event(D0, "@releaseDomain", "r");
    expect_no_event(D0);
    /* still introduced, its connection still served */
    BODY(D0, XS_IS_DOMAIN_INTRODUCED, 0, "5\0", "T\0");
    BODY(U5, XS_GET_DOMAIN_PATH, 0, "5\0", "/local/domain/5\0");
    assert_int_equal(xs_domain_dead(T->s, 5), 0);
    expect_event(D0, "@releaseDomain", "r");
}

/*
 * Domain ids are reused: a permission entry naming a domain that was
 * released after the node was written must not give the next domain with
 * that id access, whether the transaction that wrote it commits before or
 * after the new domain is introduced (4.17's generation rule).
 */
static void test_domid_reuse(void **state)
{
    (void)state;
    for (int late = 0; late < 2; late++) {
        assert_int_equal(xs_domain_introduce(T->s, 5), 0);
        rq(D0, XS_TRANSACTION_START, 0, L("\0"));
        assert_int_equal(atoi(R.body), late + 1);
        expect_ok(rq(D0, XS_WRITE, late + 1, L("/secret\0s")));
        expect_ok(rq(D0, XS_SET_PERMS, late + 1, L("/secret\0n0\0r5\0")));
        expect_ok(rq(D0, XS_WRITE, late + 1, L("/mine\0m")));
        expect_ok(rq(D0, XS_SET_PERMS, late + 1, L("/mine\0n5\0")));
        OK(D0, XS_RELEASE, 0, "5\0");
        if (late) {
            /* the new domain 5 is there before the commit */
            assert_int_equal(xs_domain_introduce(T->s, 5), 0);
            new_x(5);
        }
        expect_ok(rq(D0, XS_TRANSACTION_END, late + 1, L("T\0")));
        if (!late) {
            assert_int_equal(xs_domain_introduce(T->s, 5), 0);
            new_x(5);
        }
        ERR(X, XS_READ, 0, "/secret\0", "EACCES");
        ERR(X, XS_WRITE, 0, "/mine\0x", "EACCES");
        /* the dead domain's node went to dom0; its entry stays, ignored */
        BODY(D0, XS_GET_PERMS, 0, "/secret\0", "n0\0r5\0");
        BODY(D0, XS_GET_PERMS, 0, "/mine\0", "n0\0");
        assert_int_equal(xs_domain_nodes(T->s, 5), 0);
        /* what dom0 grants the new domain works */
        OK(D0, XS_SET_PERMS, 0, "/secret\0n0\0r5\0");
        BODY(X, XS_READ, 0, "/secret\0", "s");
        OK(D0, XS_RM, 0, "/secret\0");
        OK(D0, XS_RM, 0, "/mine\0");
        OK(D0, XS_RELEASE, 0, "5\0");
    }
}

/* the generation rule on committed nodes and inside transactions */
static void test_domid_reuse_committed(void **state)
{
    (void)state;
    assert_int_equal(xs_domain_introduce(T->s, 7), 0);
    OK(D0, XS_WRITE, 0, "/n\0v");
    OK(D0, XS_SET_PERMS, 0, "/n\0n0\0b7\0");
    BODY(new_x(7), XS_READ, 0, "/n\0", "v");
    OK(D0, XS_RELEASE, 0, "7\0");
    assert_int_equal(xs_domain_introduce(T->s, 7), 0);
    /* the new domain 7: no access, in a transaction neither, and a write
     * by dom0 (of data only) keeps the entry ignored */
    ERR(new_x(7), XS_READ, 0, "/n\0", "EACCES");
    BODY(X, XS_TRANSACTION_START, 0, "\0", "1\0");
    ERR(X, XS_READ, 1, "/n\0", "EACCES");
    OK(X, XS_TRANSACTION_END, 1, "F\0");
    OK(D0, XS_WRITE, 0, "/n\0w");
    ERR(X, XS_WRITE, 0, "/n\0x", "EACCES");
    BODY(D0, XS_TRANSACTION_START, 0, "\0", "1\0");
    OK(D0, XS_WRITE, 1, "/n\0z");
    OK(D0, XS_TRANSACTION_END, 1, "T\0");
    ERR(X, XS_READ, 0, "/n\0", "EACCES");
    /* a watcher of the new domain hears nothing through the old entry */
    OK(X, XS_WATCH, 0, "/n\0t\0");
    expect_event(X, "/n", "t");
    OK(D0, XS_WRITE, 0, "/n\0y");
    expect_no_event(X);
}

/* ---- CONTROL ---- */

static void test_control(void **state)
{
    (void)state;
    ERR(U5, XS_CONTROL, 0, "help\0", "EACCES");
    BODY(D0, XS_CONTROL, 0, "help\0",
         "check\t\nlog\ton|off\nlogfile\t<file>\nmemreport\t[<file>]\n"
         "print\t<string>\n"
         "quota\t[set <name> <val>|<domid>]\n"
         "quota-soft\t[set <name> <val>]\nhelp\t\n\0");
    ERR(D0, XS_CONTROL, 0, "help\0x\0", "EINVAL");
    ERR(D0, XS_CONTROL, 0, "nosuch\0", "EINVAL");
    ERR(D0, XS_CONTROL, 0, "help", "EINVAL");
    OK(D0, XS_CONTROL, 0, "check\0");
    ERR(D0, XS_CONTROL, 0, "check\0x\0", "EINVAL");
    OK(D0, XS_CONTROL, 0, "log\0on\0");
    assert_string_equal(T->log, "xenstore: log on");
    ERR(D0, XS_CONTROL, 0, "log\0maybe\0", "EINVAL");
    ERR(D0, XS_CONTROL, 0, "log\0", "EINVAL");
    OK(D0, XS_CONTROL, 0, "print\0hello there\0");
    assert_string_equal(T->log, "hello there");
}

static void test_control_quota(void **state)
{
    (void)state;
    rq(D0, XS_CONTROL, 0, L("quota\0"));
    assert_int_equal(R.type, XS_CONTROL);
    assert_int_equal(R.len, strlen(R.body) + 1);
    assert_non_null(strstr(R.body, "Quota settings:\n"
                                   "nodes            :     1000 Nodes per "
                                   "domain\n"
                                   "watches          :      128 Watches per "
                                   "domain\n"));
    assert_non_null(strstr(R.body, "node-size        :     2048 Max. size "
                                   "of a node\n"));
    OK(D0, XS_CONTROL, 0, "quota\0set\0nodes\0002000\0");
    assert_int_equal(xs_store_quota(T->s)->nodes, 2000);
    ERR(D0, XS_CONTROL, 0, "quota\0set\0nodes\0000\0", "EINVAL");
    ERR(D0, XS_CONTROL, 0, "quota\0set\0bogus\0005\0", "EINVAL");
    ERR(D0, XS_CONTROL, 0, "quota\0set\0nodes\0", "EINVAL");
    ERR(D0, XS_CONTROL, 0, "quota\00042\0", "ENOENT");
    BODY(D0, XS_CONTROL, 0, "quota\0000\0",
         "Domain 0:\n"
         "nodes           :        3\n"
         "watches         :        0\n"
         "transactions    :        0\n"
         "outstanding     :        0\n"
         "memory          :      132\n\0"); /* 3 records with keys */
    rq(D0, XS_CONTROL, 0, L("quota-soft\0"));
    assert_string_equal(R.body, "Quota settings:\nmemory           :  "
                                "2097152 Total Xenstore memory per domain "
                                "(warning level)\n");
    ERR(D0, XS_CONTROL, 0, "quota-soft\0005\0", "EINVAL");
}

static void test_control_logfile_memreport(void **state)
{
    (void)state;
    ERR(D0, XS_CONTROL, 0, "logfile\0", "EINVAL");
    OK(D0, XS_CONTROL, 0, "logfile\0/tmp/x.log\0");
    assert_string_equal(T->logfile, "/tmp/x.log");
    domain_home(5);
    /* no log file: 4.17 answers EBADF, we answer with the report */
    T->report_rc = -EBADF;
    rq(D0, XS_CONTROL, 0, L("memreport\0"));
    assert_int_equal(R.type, XS_CONTROL);
    assert_non_null(strstr(R.body, "Xenstore memory report: "));
    assert_non_null(strstr(R.body, "\n     5      1       0            0 "
                                   "          1           0 "));
    /* to the log file, or to a file */
    T->report_rc = 0;
    OK(D0, XS_CONTROL, 0, "memreport\0");
    assert_string_equal(T->report_file, "(log)");
    OK(D0, XS_CONTROL, 0, "memreport\0/tmp/r\0");
    assert_string_equal(T->report_file, "/tmp/r");
    assert_non_null(strstr(T->report, "domain  nodes watches transactions"));
    /* EBADF, which the wire has no string for: EINVAL, as in 4.17 */
    T->report_rc = -EBADF;
    ERR(D0, XS_CONTROL, 0, "memreport\0/nope/r\0", "EINVAL");
    ERR(D0, XS_CONTROL, 0, "memreport\0a\0b\0", "EINVAL");
    /* a xenstored built without live update does not know it */
    ERR(D0, XS_CONTROL, 0, "live-update\0-s\0", "EINVAL");
    ERR(U5, XS_CONTROL, 0, "memreport\0", "EACCES");
}

/* ---- robustness ---- */

static void test_garbage_requests(void **state)
{
    static const char *pieces[] = {"/", "/a", "a",  "@", "T",  "F",  "0",
                                   "5", "n0", "b5", "",  "//", "-1", "x"};
    uint32_t seed = 12345;
    char buf[256];

    (void)state;
    OK(D0, XS_WRITE, 0, "/a/b\0v");
    for (int i = 0; i < 20000; i++) {
        struct xs_conn *c = (i % 3) == 0 ? D0 : (i % 3) == 1 ? U5 : U6;
        struct xsd_sockmsg h;
        size_t len = 0;
        int parts;

        seed = seed * 1103515245u + 12345u;
        parts = (int)((seed >> 16) % 5);
        for (int k = 0; k < parts && len < 200; k++) {
            const char *p;

            seed = seed * 1103515245u + 12345u;
            p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(*pieces))];
            memcpy(buf + len, p, strlen(p));
            len += strlen(p);
            if ((seed >> 8) % 4) {
                buf[len++] = 0;
            }
        }
        seed = seed * 1103515245u + 12345u;
        h.type = (seed >> 16) % (XS_TYPE_COUNT + 2);
        h.req_id = (uint32_t)i;
        h.tx_id = (seed >> 4) % 3;
        h.len = (uint32_t)len;
        if (h.type == XS_RELEASE || h.type == XS_CONTROL) {
            continue; /* would change the fixture's ground rules */
        }
        assert_int_equal(xs_handle(c, &h, buf), 0);
        assert_true(drain(c, &R));
        assert_int_equal(R.req_id, (uint32_t)i);
        cs(c)->head = cs(c)->tail;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T_(test_initial_tree),
        T_(test_write_read_binary),
        T_(test_write_creates_parents),
        T_(test_read_errors),
        T_(test_path_length),
        T_(test_relative_paths),
        T_(test_malformed_args),
        T_(test_oversized_request),
        T_(test_unknown_types),
        T_(test_req_id_echo),
        T_(test_mkdir),
        T_(test_rm),
        T_(test_perm_strings),
        T_(test_set_get_perms),
        T_(test_read_access),
        T_(test_owner_access),
        T_(test_enoent_masking),
        T_(test_inheritance),
        T_(test_set_perms_rules),
        T_(test_perms_quota_and_missing_domains),
        T_(test_set_target),
        T_(test_watch_first_event),
        T_(test_watch_subtree),
        T_(test_watch_root),
        T_(test_watch_rm_events),
        T_(test_watch_relative),
        T_(test_watch_permissions),
        T_(test_event_dedup),
        T_(test_special_watches),
        T_(test_reset_watches),
        T_(test_tx_isolation),
        T_(test_tx_abort),
        T_(test_tx_conflict),
        T_(test_tx_conflict_delete_and_create),
        T_(test_tx_no_conflict_unrelated),
        T_(test_tx_errors),
        T_(test_tx_events_at_commit),
        T_(test_tx_quota),
        T_(test_tx_nodes_quota),
        T_(test_tx_quota_per_domain),
        T_(test_memory_quota_transactions),
        T_(test_memory_accounting),
        T_(test_memory_quota_enforced),
        T_(test_watch_quota),
        T_(test_node_quota),
        T_(test_node_quota_in_tx),
        T_(test_node_size_quota),
        T_(test_directory_part),
        T_(test_directory_part_generation),
        T_(test_domain_messages),
        T_(test_release_removes_owned_nodes),
        T_(test_release_closes_connections),
        T_(test_dead_after_release),
        T_(test_shutdown_fires_release),
        T_(test_domid_reuse),
        T_(test_domid_reuse_committed),
        T_(test_control),
        T_(test_control_quota),
        T_(test_control_logfile_memreport),
        T_(test_garbage_requests),
#undef T_
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
