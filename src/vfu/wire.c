/* SPDX-License-Identifier: MIT */
/*
 * wire.c - the vfio-user codec: headers, every payload's checks in both
 * directions, the VERSION JSON capabilities (a small strict parser and a
 * writer), and the region-info reply with its sparse-mmap capability.
 * Pure: no I/O, no allocation.  Everything it reads is untrusted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vfu_wire.h"

/* ---- JSON ---- */

#define JSON_MAX_DEPTH 8

struct json {
    const char *s;
    size_t n, i;
    int depth;
};

static void json_ws(struct json *j)
{
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' ||
                           j->s[j->i] == '\n' || j->s[j->i] == '\r')) {
        j->i++;
    }
}

static bool json_eat(struct json *j, char c)
{
    json_ws(j);
    if (j->i < j->n && j->s[j->i] == c) {
        j->i++;
        return true;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * A string at j->i (after whitespace).  Its decoded text goes to out (cap
 * bytes, NUL-terminated) as far as it fits and is plain ASCII; *exact says
 * whether out holds all of it.  Control characters and bad escapes are
 * -EINVAL; other bytes pass (the document is UTF-8 by the spec, and only
 * ASCII keys are compared).
 */
static int json_string(struct json *j, char *out, size_t cap, bool *exact)
{
    size_t o = 0;
    bool ok = true;

    json_ws(j);
    if (j->i >= j->n || j->s[j->i] != '"') {
        return -EINVAL;
    }
    j->i++;
    for (;;) {
        unsigned char c;
        unsigned int cp;

        if (j->i >= j->n) {
            return -EINVAL;
        }
        c = (unsigned char)j->s[j->i++];
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return -EINVAL;
        }
        cp = c;
        if (c == '\\') {
            if (j->i >= j->n) {
                return -EINVAL;
            }
            c = (unsigned char)j->s[j->i++];
            switch (c) {
            case '"':
            case '\\':
            case '/':
                cp = c;
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u':
                cp = 0;
                if (j->n - j->i < 4) {
                    return -EINVAL;
                }
                for (int k = 0; k < 4; k++) {
                    int h = hexval(j->s[j->i++]);
                    if (h < 0) {
                        return -EINVAL;
                    }
                    cp = cp << 4 | (unsigned int)h;
                }
                break;
            default:
                return -EINVAL;
            }
        }
        if (cp == 0 || cp >= 0x80) {
            ok = false; /* never equal to a key we know */
        } else if (o + 1 < cap) {
            out[o++] = (char)cp;
        } else {
            ok = false;
        }
    }
    if (cap) {
        out[o] = '\0';
    }
    *exact = ok;
    return 0;
}

/* A non-negative integer fitting 64 bits: 0 or [1-9][0-9]*, no fraction,
 * no exponent, no sign. */
static int json_uint(struct json *j, uint64_t *v)
{
    uint64_t x = 0;
    size_t start;

    json_ws(j);
    start = j->i;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
        unsigned int d = (unsigned int)(j->s[j->i] - '0');

        if (x > (UINT64_MAX - d) / 10) {
            return -EINVAL;
        }
        x = x * 10 + d;
        j->i++;
    }
    if (j->i == start || (j->s[start] == '0' && j->i - start > 1)) {
        return -EINVAL;
    }
    if (j->i < j->n &&
        (j->s[j->i] == '.' || j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        return -EINVAL;
    }
    *v = x;
    return 0;
}

static int json_lit(struct json *j, const char *lit)
{
    size_t l = strlen(lit);

    json_ws(j);
    if (j->n - j->i < l || memcmp(j->s + j->i, lit, l) != 0) {
        return -EINVAL;
    }
    j->i += l;
    return 0;
}

static int json_bool(struct json *j, bool *v)
{
    json_ws(j);
    if (json_lit(j, "true") == 0) {
        *v = true;
        return 0;
    }
    if (json_lit(j, "false") == 0) {
        *v = false;
        return 0;
    }
    return -EINVAL;
}

/* Any JSON number, validated and skipped. */
static int json_skip_number(struct json *j)
{
    size_t d;

    json_ws(j);
    if (j->i < j->n && j->s[j->i] == '-') {
        j->i++;
    }
    d = j->i;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
        j->i++;
    }
    if (j->i == d || (j->s[d] == '0' && j->i - d > 1)) {
        return -EINVAL;
    }
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        d = j->i;
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
            j->i++;
        }
        if (j->i == d) {
            return -EINVAL;
        }
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-')) {
            j->i++;
        }
        d = j->i;
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
            j->i++;
        }
        if (j->i == d) {
            return -EINVAL;
        }
    }
    return 0;
}

static int json_skip_value(struct json *j);

/*
 * Walk an object: for each member, member(key, exact) parses or skips the
 * value.  Empty objects are fine; trailing commas are not.
 */
typedef int (*json_member_fn)(struct json *j, void *ctx, const char *key,
                              bool exact);

static int json_object(struct json *j, json_member_fn member, void *ctx)
{
    int rc;

    if (!json_eat(j, '{')) {
        return -EINVAL;
    }
    if (++j->depth > JSON_MAX_DEPTH) {
        return -EINVAL;
    }
    if (json_eat(j, '}')) {
        j->depth--;
        return 0;
    }
    for (;;) {
        char key[32];
        bool exact;

        rc = json_string(j, key, sizeof(key), &exact);
        if (rc) {
            return rc;
        }
        if (!json_eat(j, ':')) {
            return -EINVAL;
        }
        rc = member(j, ctx, key, exact);
        if (rc) {
            return rc;
        }
        if (json_eat(j, ',')) {
            continue;
        }
        if (json_eat(j, '}')) {
            break;
        }
        return -EINVAL;
    }
    j->depth--;
    return 0;
}

static int skip_member(struct json *j, void *ctx, const char *key, bool exact)
{
    (void)ctx;
    (void)key;
    (void)exact;
    return json_skip_value(j);
}

static int json_skip_value(struct json *j)
{
    bool b, exact;
    char c;

    json_ws(j);
    if (j->i >= j->n) {
        return -EINVAL;
    }
    c = j->s[j->i];
    if (c == '{') {
        return json_object(j, skip_member, NULL);
    }
    if (c == '[') {
        int rc;

        j->i++;
        if (++j->depth > JSON_MAX_DEPTH) {
            return -EINVAL;
        }
        if (json_eat(j, ']')) {
            j->depth--;
            return 0;
        }
        for (;;) {
            rc = json_skip_value(j);
            if (rc) {
                return rc;
            }
            if (json_eat(j, ',')) {
                continue;
            }
            if (json_eat(j, ']')) {
                break;
            }
            return -EINVAL;
        }
        j->depth--;
        return 0;
    }
    if (c == '"') {
        return json_string(j, NULL, 0, &exact);
    }
    if (c == 't' || c == 'f') {
        return json_bool(j, &b);
    }
    if (c == 'n') {
        return json_lit(j, "null");
    }
    return json_skip_number(j);
}

/* the keys seen, to refuse duplicates */
enum {
    SEEN_MAX_FDS = 1 << 0,
    SEEN_XFER = 1 << 1,
    SEEN_DMA_MAPS = 1 << 2,
    SEEN_PGSIZES = 1 << 3,
    SEEN_MIGRATION = 1 << 4,
    SEEN_TWIN = 1 << 5,
    SEEN_WRITE_MULTI = 1 << 6,
    SEEN_CAPS = 1 << 7,
    SEEN_SUPPORTED = 1 << 8,
    SEEN_FD_INDEX = 1 << 9,
};

struct caps_ctx {
    struct vfu_caps *caps;
    unsigned int seen;
};

static int once(struct caps_ctx *c, unsigned int bit)
{
    if (c->seen & bit) {
        return -EINVAL;
    }
    c->seen |= bit;
    return 0;
}

static int twin_member(struct json *j, void *ctx, const char *key, bool exact)
{
    struct caps_ctx *c = ctx;
    uint64_t v;
    int rc;

    if (exact && strcmp(key, "supported") == 0) {
        rc = once(c, SEEN_SUPPORTED);
        return rc ? rc : json_bool(j, &c->caps->twin_supported);
    }
    if (exact && strcmp(key, "fd_index") == 0) {
        rc = once(c, SEEN_FD_INDEX);
        if (!rc) {
            rc = json_uint(j, &v);
        }
        if (rc || v > UINT32_MAX) {
            return -EINVAL;
        }
        c->caps->twin_has_index = true;
        c->caps->twin_fd_index = (uint32_t)v;
        return 0;
    }
    return json_skip_value(j);
}

static int uint_member(struct json *j, struct caps_ctx *c, unsigned int bit,
                       uint64_t *v)
{
    int rc = once(c, bit);

    return rc ? rc : json_uint(j, v);
}

static int caps_member(struct json *j, void *ctx, const char *key, bool exact)
{
    struct caps_ctx *c = ctx;
    int rc;

    if (!exact) {
        return json_skip_value(j);
    }
    if (strcmp(key, "max_msg_fds") == 0) {
        return uint_member(j, c, SEEN_MAX_FDS, &c->caps->max_msg_fds);
    }
    if (strcmp(key, "max_data_xfer_size") == 0) {
        return uint_member(j, c, SEEN_XFER, &c->caps->max_data_xfer_size);
    }
    if (strcmp(key, "max_dma_maps") == 0) {
        return uint_member(j, c, SEEN_DMA_MAPS, &c->caps->max_dma_maps);
    }
    if (strcmp(key, "pgsizes") == 0) {
        return uint_member(j, c, SEEN_PGSIZES, &c->caps->pgsizes);
    }
    if (strcmp(key, "write_multiple") == 0) {
        rc = once(c, SEEN_WRITE_MULTI);
        return rc ? rc : json_bool(j, &c->caps->write_multiple);
    }
    if (strcmp(key, "twin_socket") == 0) {
        rc = once(c, SEEN_TWIN);
        return rc ? rc : json_object(j, twin_member, c);
    }
    if (strcmp(key, "migration") == 0) {
        rc = once(c, SEEN_MIGRATION);
        return rc ? rc : json_skip_value(j);
    }
    return json_skip_value(j);
}

static int top_member(struct json *j, void *ctx, const char *key, bool exact)
{
    struct caps_ctx *c = ctx;
    int rc;

    if (exact && strcmp(key, "capabilities") == 0) {
        rc = once(c, SEEN_CAPS);
        return rc ? rc : json_object(j, caps_member, c);
    }
    return json_skip_value(j);
}

void vfu_caps_default(struct vfu_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    caps->max_msg_fds = VFU_DEFAULT_MAX_MSG_FDS;
    caps->max_data_xfer_size = VFU_MAX_DATA_XFER;
    caps->max_dma_maps = VFU_DEFAULT_MAX_DMA_MAPS;
    caps->pgsizes = VFU_DEFAULT_PGSIZES;
}

int vfu_caps_check(const struct vfu_caps *caps)
{
    if (caps->max_msg_fds > VFU_PEER_MAX_MSG_FDS ||
        caps->max_data_xfer_size < VFU_MIN_DATA_XFER ||
        caps->max_dma_maps == 0 || caps->pgsizes == 0 ||
        (caps->twin_has_index && !caps->twin_supported)) {
        return -EINVAL;
    }
    return 0;
}

int vfu_caps_parse(const char *json, size_t len, struct vfu_caps *caps)
{
    struct json j = {.s = json, .n = len};
    struct caps_ctx c = {.caps = caps};
    int rc;

    vfu_caps_default(caps);
    if (memchr(json, '\0', len)) {
        return -EINVAL;
    }
    rc = json_object(&j, top_member, &c);
    if (rc) {
        return rc;
    }
    json_ws(&j);
    if (j.i != j.n) {
        return -EINVAL;
    }
    return vfu_caps_check(caps);
}

int vfu_caps_format(const struct vfu_caps *caps, char *buf, size_t cap)
{
    char twin[64] = "";
    int n;

    if (caps->twin_supported) {
        if (caps->twin_has_index) {
            snprintf(
                twin, sizeof(twin),
                ",\"twin_socket\":{\"supported\":true,\"fd_index\":%" PRIu32
                "}",
                caps->twin_fd_index);
        } else {
            snprintf(twin, sizeof(twin),
                     ",\"twin_socket\":{\"supported\":true}");
        }
    }
    n = snprintf(buf, cap,
                 "{\"capabilities\":{\"max_msg_fds\":%" PRIu64
                 ",\"max_data_xfer_size\":%" PRIu64 ",\"max_dma_maps\":%" PRIu64
                 ",\"pgsizes\":%" PRIu64 "%s%s}}",
                 caps->max_msg_fds, caps->max_data_xfer_size,
                 caps->max_dma_maps, caps->pgsizes,
                 caps->write_multiple ? ",\"write_multiple\":true" : "", twin);
    if (n < 0 || (size_t)n + 1 > cap) {
        return -ENOSPC;
    }
    return n + 1;
}

/* ---- header ---- */

void vfu_hdr_init(struct vfu_hdr *h, uint16_t msg_id, uint16_t cmd,
                  uint32_t payload_len, uint32_t flags)
{
    h->msg_id = msg_id;
    h->cmd = cmd;
    h->msg_size = VFU_HDR_SIZE + payload_len;
    h->flags = flags;
    h->error_no = 0;
}

int vfu_hdr_parse(const void *buf, size_t len, struct vfu_hdr *h)
{
    if (len < VFU_HDR_SIZE) {
        return -EINVAL;
    }
    memcpy(h, buf, sizeof(*h));
    if (h->msg_size < VFU_HDR_SIZE) {
        return -EINVAL;
    }
    if (h->msg_size > VFU_MAX_MSG_SIZE) {
        return -EMSGSIZE;
    }
    return 0;
}

int vfu_hdr_check(const struct vfu_hdr *h)
{
    uint32_t type = h->flags & VFU_F_TYPE_MASK;

    if (h->flags & ~VFU_F_KNOWN) {
        return -EINVAL;
    }
    if (type == VFU_F_TYPE_COMMAND) {
        return (h->flags & VFU_F_ERROR) ? -EINVAL : 0;
    }
    if (type == VFU_F_TYPE_REPLY) {
        return (h->flags & VFU_F_NO_REPLY) ? -EINVAL : 0;
    }
    return -EINVAL;
}

long vfu_msg_build(void *buf, size_t cap, uint16_t msg_id, uint16_t cmd,
                   uint32_t flags, const struct vfu_piece *pieces, int n)
{
    size_t total = VFU_HDR_SIZE;
    struct vfu_hdr h;
    uint8_t *o = buf;

    for (int i = 0; i < n; i++) {
        if (pieces[i].len > VFU_MAX_MSG_SIZE) {
            return -EMSGSIZE;
        }
        total += pieces[i].len;
        if (total > VFU_MAX_MSG_SIZE) {
            return -EMSGSIZE;
        }
    }
    if (total > cap) {
        return -EMSGSIZE;
    }
    vfu_hdr_init(&h, msg_id, cmd, (uint32_t)(total - VFU_HDR_SIZE), flags);
    memcpy(o, &h, sizeof(h));
    o += sizeof(h);
    for (int i = 0; i < n; i++) {
        if (pieces[i].len) {
            memcpy(o, pieces[i].p, pieces[i].len);
            o += pieces[i].len;
        }
    }
    return (long)total;
}

void vfu_error_reply(struct vfu_hdr *out, const struct vfu_hdr *cmd,
                     uint32_t err)
{
    vfu_hdr_init(out, cmd->msg_id, cmd->cmd, 0, VFU_F_TYPE_REPLY | VFU_F_ERROR);
    out->error_no = err;
}

const char *vfu_cmd_name(uint16_t cmd)
{
    static const char *const names[] = {
        [VFU_CMD_VERSION] = "VERSION",
        [VFU_CMD_DMA_MAP] = "DMA_MAP",
        [VFU_CMD_DMA_UNMAP] = "DMA_UNMAP",
        [VFU_CMD_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
        [VFU_CMD_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
        [VFU_CMD_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
        [VFU_CMD_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
        [VFU_CMD_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
        [VFU_CMD_REGION_READ] = "REGION_READ",
        [VFU_CMD_REGION_WRITE] = "REGION_WRITE",
        [VFU_CMD_DMA_READ] = "DMA_READ",
        [VFU_CMD_DMA_WRITE] = "DMA_WRITE",
        [VFU_CMD_DEVICE_RESET] = "DEVICE_RESET",
        [VFU_CMD_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
        [VFU_CMD_DEVICE_FEATURE] = "DEVICE_FEATURE",
        [VFU_CMD_MIG_DATA_READ] = "MIG_DATA_READ",
        [VFU_CMD_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
    };

    if (cmd == VFU_CMD_PV_ADD_CLIENT) {
        return "PV_ADD_CLIENT";
    }
    if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd]) {
        return names[cmd];
    }
    return "?";
}

/* ---- requests ---- */

static bool page_aligned(uint64_t v)
{
    return (v & (VFU_PAGE_SIZE - 1)) == 0;
}

static bool wraps(uint64_t start, uint64_t len)
{
    return len && start + (len - 1) < start;
}

int vfu_check_version(const void *p, size_t len, struct vfu_version *v,
                      struct vfu_caps *caps)
{
    const char *json = (const char *)p + sizeof(*v);
    size_t jlen;

    if (len < sizeof(*v)) {
        return -EINVAL;
    }
    memcpy(v, p, sizeof(*v));
    jlen = len - sizeof(*v);
    if (jlen == 0) {
        vfu_caps_default(caps);
        return 0;
    }
    /* the document ends in the payload's only NUL */
    if (jlen > VFU_MAX_JSON || json[jlen - 1] != '\0') {
        return -EINVAL;
    }
    return vfu_caps_parse(json, jlen - 1, caps);
}

int vfu_check_dma_map(const void *p, size_t len, unsigned nfds,
                      struct vfu_dma_map *m)
{
    const uint32_t known =
        VFU_DMA_READ | VFU_DMA_WRITE | VFU_DMA_MMAP | VFU_DMA_FILE_IO;

    if (len != sizeof(*m)) {
        return -EINVAL;
    }
    memcpy(m, p, sizeof(*m));
    if (m->argsz != sizeof(*m) || nfds > 1 || (m->flags & ~known) ||
        !(m->flags & (VFU_DMA_READ | VFU_DMA_WRITE))) {
        return -EINVAL;
    }
    if ((m->flags & VFU_DMA_MMAP) && (m->flags & VFU_DMA_FILE_IO)) {
        return -EINVAL;
    }
    if ((m->flags & (VFU_DMA_MMAP | VFU_DMA_FILE_IO)) && nfds == 0) {
        return -EINVAL;
    }
    if (m->size == 0 || !page_aligned(m->addr) || !page_aligned(m->size)) {
        return -EINVAL;
    }
    if (nfds && !page_aligned(m->offset)) {
        return -EINVAL;
    }
    if (!nfds && m->offset) {
        return -EINVAL;
    }
    if (wraps(m->addr, m->size) || wraps(m->offset, m->size)) {
        return -EOVERFLOW;
    }
    return 0;
}

int vfu_check_dma_unmap(const void *p, size_t len, unsigned nfds,
                        struct vfu_dma_unmap *u)
{
    if (len != sizeof(*u)) {
        return -EINVAL;
    }
    memcpy(u, p, sizeof(*u));
    if (u->argsz < sizeof(*u) || nfds || (u->flags & ~VFU_DMA_UNMAP_ALL)) {
        return -EINVAL;
    }
    if (u->flags & VFU_DMA_UNMAP_ALL) {
        return (u->addr || u->size) ? -EINVAL : 0;
    }
    if (u->size == 0 || !page_aligned(u->addr) || !page_aligned(u->size)) {
        return -EINVAL;
    }
    return wraps(u->addr, u->size) ? -EOVERFLOW : 0;
}

int vfu_check_device_info(const void *p, size_t len, unsigned nfds,
                          struct vfu_device_info *di)
{
    if (len != sizeof(*di)) {
        return -EINVAL;
    }
    memcpy(di, p, sizeof(*di));
    return (di->argsz < sizeof(*di) || nfds) ? -EINVAL : 0;
}

int vfu_check_region_info(const void *p, size_t len, unsigned nfds,
                          struct vfu_region_info *ri)
{
    if (len != sizeof(*ri)) {
        return -EINVAL;
    }
    memcpy(ri, p, sizeof(*ri));
    return (ri->argsz < sizeof(*ri) || nfds) ? -EINVAL : 0;
}

int vfu_check_io_fds(const void *p, size_t len, unsigned nfds,
                     struct vfu_io_fds *q)
{
    if (len != sizeof(*q)) {
        return -EINVAL;
    }
    memcpy(q, p, sizeof(*q));
    return (q->argsz < sizeof(*q) || q->flags || q->count || nfds) ? -EINVAL
                                                                   : 0;
}

int vfu_check_irq_info(const void *p, size_t len, unsigned nfds,
                       struct vfu_irq_info *ii)
{
    if (len != sizeof(*ii)) {
        return -EINVAL;
    }
    memcpy(ii, p, sizeof(*ii));
    return (ii->argsz < sizeof(*ii) || nfds) ? -EINVAL : 0;
}

int vfu_check_irq_set(const void *p, size_t len, unsigned nfds,
                      const uint32_t *counts, uint32_t nidx,
                      struct vfu_irq_set *is, const uint8_t **data)
{
    const uint32_t known =
        VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK;
    const uint8_t *d = (const uint8_t *)p + sizeof(*is);
    size_t dlen;

    *data = NULL;
    if (len < sizeof(*is)) {
        return -EINVAL;
    }
    memcpy(is, p, sizeof(*is));
    dlen = len - sizeof(*is);
    if (is->argsz < sizeof(*is) || is->index >= nidx ||
        is->count >= UINT32_MAX - is->start || (is->flags & ~known)) {
        return -EINVAL;
    }
    if (is->start >= counts[is->index] ||
        is->start + is->count > counts[is->index]) {
        return -EINVAL;
    }
    switch (is->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
    case VFIO_IRQ_SET_DATA_NONE:
        return (dlen || nfds) ? -EINVAL : 0;
    case VFIO_IRQ_SET_DATA_BOOL:
        if (dlen != is->count || nfds) {
            return -EINVAL;
        }
        *data = dlen ? d : NULL;
        return 0;
    case VFIO_IRQ_SET_DATA_EVENTFD:
        break;
    default:
        return -EINVAL;
    }
    if (nfds > is->count) {
        return -EINVAL;
    }
    if (dlen == 0) {
        return (nfds == 0 || nfds == is->count) ? 0 : -EINVAL;
    }
    if (dlen != (size_t)is->count * sizeof(int32_t)) {
        return -EINVAL;
    }
    {
        /* the index array: each fd used exactly once */
        uint32_t used = 0;
        bool seen[VFU_MAX_MSG_FDS] = {false};

        if (nfds > VFU_MAX_MSG_FDS) {
            return -EINVAL;
        }
        for (uint32_t i = 0; i < is->count; i++) {
            int32_t k;

            memcpy(&k, d + (size_t)i * sizeof(k), sizeof(k));
            if (k == -1) {
                continue;
            }
            if (k < 0 || (uint32_t)k >= nfds || seen[k]) {
                return -EINVAL;
            }
            seen[k] = true;
            used++;
        }
        if (used != nfds) {
            return -EINVAL;
        }
    }
    *data = d;
    return 0;
}

int vfu_irq_set_fd_index(const struct vfu_irq_set *is, const uint8_t *data,
                         unsigned nfds, uint32_t i)
{
    int32_t k;

    if (i >= is->count) {
        return -1;
    }
    if (!data) {
        return nfds ? (int)i : -1;
    }
    memcpy(&k, data + (size_t)i * sizeof(k), sizeof(k));
    return k;
}

int vfu_check_region_access(uint16_t cmd, const void *p, size_t len,
                            unsigned nfds, uint32_t max_xfer,
                            struct vfu_region_access *ra, const uint8_t **data)
{
    *data = NULL;
    if (len < sizeof(*ra) || nfds) {
        return -EINVAL;
    }
    memcpy(ra, p, sizeof(*ra));
    if (cmd == VFU_CMD_REGION_WRITE) {
        if (len - sizeof(*ra) != ra->count) {
            return -EINVAL;
        }
        *data = (const uint8_t *)p + sizeof(*ra);
    } else if (len != sizeof(*ra)) {
        return -EINVAL;
    }
    if (ra->count > max_xfer) {
        return -EMSGSIZE;
    }
    return wraps(ra->offset, ra->count) ? -EOVERFLOW : 0;
}

int vfu_check_write_multi(const void *p, size_t len, unsigned nfds,
                          uint64_t *wr_cnt, const uint8_t **entries)
{
    const uint8_t *e = (const uint8_t *)p + sizeof(*wr_cnt);

    if (len < sizeof(*wr_cnt) || nfds) {
        return -EINVAL;
    }
    memcpy(wr_cnt, p, sizeof(*wr_cnt));
    if (*wr_cnt == 0 || *wr_cnt > VFU_WRITE_MULTI_MAX ||
        len - sizeof(*wr_cnt) != *wr_cnt * sizeof(struct vfu_write_multi)) {
        return -EINVAL;
    }
    for (uint64_t i = 0; i < *wr_cnt; i++) {
        struct vfu_write_multi w;

        memcpy(&w, e + i * sizeof(w), sizeof(w));
        if (w.count == 0 || w.count > sizeof(w.data)) {
            return -EINVAL;
        }
        if (wraps(w.offset, w.count)) {
            return -EOVERFLOW;
        }
    }
    *entries = e;
    return 0;
}

int vfu_check_device_feature(const void *p, size_t len, unsigned nfds,
                             struct vfu_device_feature *f)
{
    const uint32_t get = 1u << 16, set = 1u << 17, probe = 1u << 18;

    if (len < sizeof(*f) || nfds) {
        return -EINVAL;
    }
    memcpy(f, p, sizeof(*f));
    if (f->argsz < sizeof(*f) || (f->flags & ~(0xffffu | get | set | probe))) {
        return -EINVAL;
    }
    if ((f->flags & get) && (f->flags & set) && !(f->flags & probe)) {
        return -EINVAL;
    }
    return 0;
}

int vfu_check_mig_data(uint16_t cmd, const void *p, size_t len, unsigned nfds,
                       struct vfu_mig_data *m)
{
    if (len < sizeof(*m) || nfds) {
        return -EINVAL;
    }
    memcpy(m, p, sizeof(*m));
    if (cmd == VFU_CMD_MIG_DATA_WRITE && len - sizeof(*m) != m->size) {
        return -EINVAL;
    }
    if (cmd == VFU_CMD_MIG_DATA_READ && len != sizeof(*m)) {
        return -EINVAL;
    }
    return 0;
}

int vfu_check_device_reset(size_t len, unsigned nfds)
{
    return (len || nfds) ? -EINVAL : 0;
}

int vfu_check_pv_add_client(const void *p, size_t len, unsigned nfds)
{
    struct vfu_pv_add_client a;

    if (len != sizeof(a) || nfds != 1) {
        return -EINVAL;
    }
    memcpy(&a, p, sizeof(a));
    return (a.flags || a.reserved) ? -EINVAL : 0;
}

int vfu_check_dma_access(uint16_t cmd, const void *p, size_t len, unsigned nfds,
                         uint64_t max_xfer, struct vfu_dma_access *da,
                         const uint8_t **data)
{
    *data = NULL;
    if (len < sizeof(*da) || nfds) {
        return -EINVAL;
    }
    memcpy(da, p, sizeof(*da));
    if (cmd == VFU_CMD_DMA_WRITE) {
        if (len - sizeof(*da) != da->count) {
            return -EINVAL;
        }
        *data = (const uint8_t *)p + sizeof(*da);
    } else if (len != sizeof(*da)) {
        return -EINVAL;
    }
    if (da->count == 0) {
        return -EINVAL;
    }
    if (da->count > max_xfer || da->count > VFU_MAX_DATA_XFER) {
        return -EMSGSIZE;
    }
    return wraps(da->addr, da->count) ? -EOVERFLOW : 0;
}

/* ---- replies ---- */

int vfu_check_version_reply(const void *p, size_t len, unsigned nfds,
                            const struct vfu_version *proposed,
                            const struct vfu_caps *proposed_caps,
                            struct vfu_version *v, struct vfu_caps *caps)
{
    int rc = vfu_check_version(p, len, v, caps);

    if (rc) {
        return rc;
    }
    if (v->major != proposed->major || v->minor > proposed->minor) {
        return -EINVAL;
    }
    if (caps->twin_supported) {
        if (!proposed_caps->twin_supported || !caps->twin_has_index ||
            caps->twin_fd_index >= nfds) {
            return -EINVAL;
        }
        return nfds == 1 ? 0 : -EINVAL;
    }
    return nfds ? -EINVAL : 0;
}

int vfu_check_dma_unmap_reply(const void *p, size_t len,
                              struct vfu_dma_unmap *u)
{
    if (len != sizeof(*u)) {
        return -EINVAL;
    }
    memcpy(u, p, sizeof(*u));
    return 0;
}

int vfu_check_device_info_reply(const void *p, size_t len,
                                struct vfu_device_info *di)
{
    if (len != sizeof(*di)) {
        return -EINVAL;
    }
    memcpy(di, p, sizeof(*di));
    if (di->argsz < sizeof(*di) || !(di->flags & VFIO_DEVICE_FLAGS_PCI) ||
        di->num_regions < VFIO_PCI_NUM_REGIONS ||
        di->num_regions > VFU_MAX_REGIONS ||
        di->num_irqs > VFU_MAX_IRQ_INDEXES) {
        return -EINVAL;
    }
    return 0;
}

/* the sparse areas of a reply's chain, checked against the region */
static int walk_caps(const uint8_t *b, size_t len,
                     const struct vfu_region_info *ri,
                     struct vfu_sparse_area *areas, uint32_t max_areas,
                     uint32_t *nr_areas)
{
    uint64_t off = ri->cap_offset;
    unsigned int ncaps = 0;
    bool sparse_seen = false;

    while (off) {
        struct vfu_cap_hdr h;

        if (off < sizeof(*ri) || off % 4 || off > len ||
            len - off < sizeof(h) || ++ncaps > VFU_MAX_CAPS) {
            return -EINVAL;
        }
        memcpy(&h, b + off, sizeof(h));
        if (h.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
            struct vfu_cap_sparse s;

            if (sparse_seen || len - off < sizeof(s)) {
                return -EINVAL;
            }
            sparse_seen = true;
            memcpy(&s, b + off, sizeof(s));
            if (s.nr_areas > VFU_MAX_SPARSE_AREAS ||
                (len - off - sizeof(s)) / sizeof(struct vfu_sparse_area) <
                    s.nr_areas) {
                return -EINVAL;
            }
            for (uint32_t i = 0; i < s.nr_areas; i++) {
                struct vfu_sparse_area a;

                memcpy(&a, b + off + sizeof(s) + i * sizeof(a), sizeof(a));
                if (a.size == 0 || a.offset > ri->size ||
                    a.size > ri->size - a.offset) {
                    return -EINVAL;
                }
                if (i < max_areas) {
                    areas[i] = a;
                }
            }
            *nr_areas = s.nr_areas;
        }
        if (h.next && h.next <= off) {
            return -EINVAL; /* forward only: no cycle */
        }
        off = h.next;
    }
    return 0;
}

int vfu_check_region_info_reply(const void *p, size_t len, unsigned nfds,
                                uint32_t index, uint32_t argsz,
                                struct vfu_region_info *ri,
                                struct vfu_sparse_area *areas,
                                uint32_t max_areas, uint32_t *nr_areas)
{
    const uint32_t known =
        VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
        VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;

    *nr_areas = 0;
    if (len < sizeof(*ri) || len > argsz) {
        return -EINVAL;
    }
    memcpy(ri, p, sizeof(*ri));
    if (ri->index != index || ri->argsz < sizeof(*ri) || (ri->flags & ~known)) {
        return -EINVAL;
    }
    if ((ri->flags & VFIO_REGION_INFO_FLAG_MMAP) ? nfds != 1 : nfds != 0) {
        return -EINVAL;
    }
    if (!(ri->flags & VFIO_REGION_INFO_FLAG_CAPS)) {
        return ri->cap_offset ? -EINVAL : 0;
    }
    if (ri->cap_offset == 0) {
        /* as VFIO: the caps did not fit (argsz says the size needed) */
        return ri->argsz > len ? 0 : -EINVAL;
    }
    return walk_caps(p, len, ri, areas, max_areas, nr_areas);
}

int vfu_check_io_fds_reply(const void *p, size_t len, unsigned nfds,
                           uint32_t index, struct vfu_io_fds *q)
{
    const uint8_t *b = p;

    if (len < sizeof(*q)) {
        return -EINVAL;
    }
    memcpy(q, p, sizeof(*q));
    if (q->index != index || q->flags || q->count > VFU_MAX_IO_FDS ||
        q->argsz < sizeof(*q) + (uint64_t)q->count * 40) {
        return -EINVAL;
    }
    if (len == sizeof(*q)) {
        /* the entries did not fit (or there are none) */
        return nfds ? -EINVAL : 0;
    }
    if (len != sizeof(*q) + (size_t)q->count * 40) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < q->count; i++) {
        struct vfu_sub_region s;

        memcpy(&s, b + sizeof(*q) + (size_t)i * sizeof(s), sizeof(s));
        if (s.fd_index >= nfds ||
            (s.type != VFU_IO_FD_IOEVENTFD && s.type != VFU_IO_FD_IOREGIONFD)) {
            return -EINVAL;
        }
    }
    return 0;
}

int vfu_check_irq_info_reply(const void *p, size_t len, uint32_t index,
                             struct vfu_irq_info *ii)
{
    const uint32_t known = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
                           VFIO_IRQ_INFO_AUTOMASKED | VFIO_IRQ_INFO_NORESIZE;

    if (len != sizeof(*ii)) {
        return -EINVAL;
    }
    memcpy(ii, p, sizeof(*ii));
    if (ii->index != index || ii->argsz < sizeof(*ii) ||
        ii->count > VFU_MAX_IRQ_COUNT || (ii->flags & ~known)) {
        return -EINVAL;
    }
    return 0;
}

int vfu_check_region_access_reply(uint16_t cmd, const void *p, size_t len,
                                  const struct vfu_region_access *req)
{
    struct vfu_region_access ra;
    size_t want = sizeof(ra);

    if (cmd == VFU_CMD_REGION_READ) {
        want += req->count;
    }
    if (len != want) {
        return -EINVAL;
    }
    memcpy(&ra, p, sizeof(ra));
    if (ra.offset != req->offset || ra.region != req->region ||
        ra.count != req->count) {
        return -EINVAL;
    }
    return 0;
}

int vfu_check_dma_access_reply(uint16_t cmd, const void *p, size_t len,
                               const struct vfu_dma_access *req)
{
    struct vfu_dma_access da = {0};

    if (cmd == VFU_CMD_DMA_READ) {
        if (len != sizeof(da) + req->count) {
            return -EINVAL;
        }
        memcpy(&da, p, sizeof(da));
    } else if (len == sizeof(da)) {
        memcpy(&da, p, sizeof(da));
    } else if (len == 12) {
        uint32_t c;

        memcpy(&da.addr, p, sizeof(da.addr));
        memcpy(&c, (const uint8_t *)p + 8, sizeof(c));
        da.count = c;
    } else {
        return -EINVAL;
    }
    return (da.addr == req->addr && da.count == req->count) ? 0 : -EINVAL;
}

int vfu_check_write_multi_reply(const void *p, size_t len, uint64_t sent,
                                uint64_t *done)
{
    if (len != sizeof(*done)) {
        return -EINVAL;
    }
    memcpy(done, p, sizeof(*done));
    return *done <= sent ? 0 : -EINVAL;
}

/* ---- building ---- */

long vfu_region_info_build(void *buf, size_t cap, uint32_t req_argsz,
                           const struct vfu_region_info *ri,
                           const struct vfu_sparse_area *areas,
                           uint32_t nr_areas)
{
    struct vfu_region_info out = *ri;
    size_t full = sizeof(out), len;
    uint8_t *b = buf;

    if (nr_areas > VFU_MAX_SPARSE_AREAS) {
        return -EINVAL;
    }
    if (nr_areas) {
        full += sizeof(struct vfu_cap_sparse) +
                nr_areas * sizeof(struct vfu_sparse_area);
    }
    out.argsz = (uint32_t)full;
    out.cap_offset = 0;
    out.flags &= ~(uint32_t)VFIO_REGION_INFO_FLAG_CAPS;
    if (nr_areas) {
        /* as VFIO: CAPS says there are some even when they do not fit,
         * with cap_offset 0 and argsz the size to ask again with */
        out.flags |= VFIO_REGION_INFO_FLAG_CAPS;
    }
    len = sizeof(out);
    if (nr_areas && req_argsz >= full) {
        struct vfu_cap_sparse s = {
            .hdr = {.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1},
            .nr_areas = nr_areas,
        };

        if (cap < full) {
            return -ENOSPC;
        }
        out.cap_offset = sizeof(out);
        memcpy(b + sizeof(out), &s, sizeof(s));
        memcpy(b + sizeof(out) + sizeof(s), areas,
               nr_areas * sizeof(struct vfu_sparse_area));
        len = full;
    }
    if (cap < sizeof(out)) {
        return -ENOSPC;
    }
    memcpy(b, &out, sizeof(out));
    return (long)len;
}
