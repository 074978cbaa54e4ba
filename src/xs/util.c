/* SPDX-License-Identifier: MIT */
/*
 * util.c - the store's small pieces: allocations counted per store (the
 * unit tests' leak check is that the count is 0 once everything is freed),
 * a string-keyed hash map, 4.17's path validity rule, permission strings
 * and error strings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xs_impl.h"

void *xs_zalloc(struct xs_store *s, size_t size)
{
    void *p = calloc(1, size ? size : 1);

    if (p) {
        s->nalloc++;
    }
    return p;
}

void *xs_realloc(struct xs_store *s, void *p, size_t size)
{
    void *n = realloc(p, size ? size : 1);

    if (n && !p) {
        s->nalloc++;
    }
    return n;
}

void xs_free(struct xs_store *s, void *p)
{
    if (p) {
        s->nalloc--;
        free(p);
    }
}

char *xs_strdup(struct xs_store *s, const char *str)
{
    return xs_memdup(s, str, strlen(str) + 1);
}

void *xs_memdup(struct xs_store *s, const void *p, size_t len)
{
    void *n = xs_zalloc(s, len);

    if (n && len) {
        memcpy(n, p, len);
    }
    return n;
}

char *xs_asprintf(struct xs_store *s, const char *fmt, ...)
{
    va_list ap;
    int len;
    char *p;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        return NULL;
    }
    p = xs_zalloc(s, (size_t)len + 1);
    if (!p) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* ---- the map ---- */

static size_t hash(const char *key)
{
    size_t h = 5381; /* djb2 */

    for (; *key; key++) {
        h = h * 33 + (unsigned char)*key;
    }
    return h;
}

void *xs_map_get(const struct xs_map *m, const char *key)
{
    if (!m->nb) {
        return NULL;
    }
    for (struct xs_map_ent *e = m->b[hash(key) % m->nb]; e; e = e->next) {
        if (!strcmp(e->key, key)) {
            return e->val;
        }
    }
    return NULL;
}

/* doubles the buckets when the map gets full; a failure just keeps them */
static void grow(struct xs_store *s, struct xs_map *m)
{
    size_t nb = m->nb ? m->nb * 2 : 64;
    struct xs_map_ent **b;

    if (m->n < m->nb) {
        return;
    }
    b = xs_zalloc(s, nb * sizeof(*b));
    if (!b) {
        return;
    }
    for (size_t i = 0; i < m->nb; i++) {
        while (m->b[i]) {
            struct xs_map_ent *e = m->b[i];

            m->b[i] = e->next;
            e->next = b[hash(e->key) % nb];
            b[hash(e->key) % nb] = e;
        }
    }
    xs_free(s, m->b);
    m->b = b;
    m->nb = nb;
}

/* Inserts or replaces; the old value of a replaced key is the caller's. */
int xs_map_put(struct xs_store *s, struct xs_map *m, const char *key, void *val)
{
    struct xs_map_ent *e;
    size_t i;

    grow(s, m);
    if (!m->nb) {
        return -ENOMEM;
    }
    i = hash(key) % m->nb;
    for (e = m->b[i]; e; e = e->next) {
        if (!strcmp(e->key, key)) {
            e->val = val;
            return 0;
        }
    }
    e = xs_zalloc(s, sizeof(*e));
    if (!e) {
        return -ENOMEM;
    }
    e->key = xs_strdup(s, key);
    if (!e->key) {
        xs_free(s, e);
        return -ENOMEM;
    }
    e->val = val;
    e->next = m->b[i];
    m->b[i] = e;
    m->n++;
    return 0;
}

/* Removes key and returns its value (NULL if absent). */
void *xs_map_del(struct xs_store *s, struct xs_map *m, const char *key)
{
    struct xs_map_ent **pp;

    if (!m->nb) {
        return NULL;
    }
    for (pp = &m->b[hash(key) % m->nb]; *pp; pp = &(*pp)->next) {
        struct xs_map_ent *e = *pp;

        if (!strcmp(e->key, key)) {
            void *val = e->val;

            *pp = e->next;
            xs_free(s, e->key);
            xs_free(s, e);
            m->n--;
            return val;
        }
    }
    return NULL;
}

void xs_map_clear(struct xs_store *s, struct xs_map *m,
                  void (*fn)(struct xs_store *, void *))
{
    for (size_t i = 0; i < m->nb; i++) {
        while (m->b[i]) {
            struct xs_map_ent *e = m->b[i];

            m->b[i] = e->next;
            if (fn) {
                fn(s, e->val);
            }
            xs_free(s, e->key);
            xs_free(s, e);
        }
    }
    xs_free(s, m->b);
    m->b = NULL;
    m->nb = m->n = 0;
}

/* ---- paths ---- */

/*
 * The length of a "/local/domain/<id>/" prefix as sscanf's
 * "/local/domain/%5u/%n" measures it (an optional sign and at most five
 * characters of number), or 0.
 */
static size_t local_prefix(const char *p)
{
    static const char pre[] = "/local/domain/";
    size_t i = sizeof(pre) - 1, start, digits = 0;

    if (strncmp(p, pre, i)) {
        return 0;
    }
    start = i;
    if (p[i] == '+' || p[i] == '-') {
        i++;
    }
    while (i - start < 5 && p[i] >= '0' && p[i] <= '9') {
        i++;
        digits++;
    }
    if (!digits || p[i] != '/') {
        return 0;
    }
    return i + 1;
}

bool xs_path_valid(const char *path, int path_max)
{
    size_t len = strlen(path);

    if (path[0] != '/') {
        return false;
    }
    if (len > 1 && path[len - 1] == '/') {
        return false;
    }
    if (strstr(path, "//")) {
        return false;
    }
    if (path_max < 0 || len > local_prefix(path) + (size_t)path_max) {
        return false;
    }
    return strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "abcdefghijklmnopqrstuvwxyz"
                        "0123456789-/_@") == len;
}

const char *xs_errstr(int err)
{
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
        if (xsd_errors[i].errnum == err) {
            return xsd_errors[i].errstring;
        }
    }
    return "EINVAL"; /* 4.17 sends untranslatable errors as EINVAL */
}

/* ---- permission strings ---- */

int xs_perm_parse(const char *str, struct xs_perm *out)
{
    char *end;

    switch (str[0]) {
    case 'n':
        out->perms = XS_PERM_NONE;
        break;
    case 'r':
        out->perms = XS_PERM_READ;
        break;
    case 'w':
        out->perms = XS_PERM_WRITE;
        break;
    case 'b':
        out->perms = XS_PERM_READ | XS_PERM_WRITE;
        break;
    default:
        return -EINVAL;
    }
    if (!str[1]) {
        return -EINVAL;
    }
    /* strtol then a store into unsigned int, as 4.17 does: "r-1" is ~0 */
    out->id = (uint32_t)strtol(str + 1, &end, 0);
    if (*end) {
        return -EINVAL;
    }
    return 0;
}

int xs_perm_print(const struct xs_perm *p, char *buf, size_t len)
{
    char c;

    switch (p->perms & ~XS_PERM_IGNORE) {
    case XS_PERM_NONE:
        c = 'n';
        break;
    case XS_PERM_READ:
        c = 'r';
        break;
    case XS_PERM_WRITE:
        c = 'w';
        break;
    case XS_PERM_READ | XS_PERM_WRITE:
        c = 'b';
        break;
    default:
        return -EINVAL;
    }
    /* printed as a signed int, as xs_perm_to_string() does */
    return snprintf(buf, len, "%c%i", c, (int)p->id);
}
