/* SPDX-License-Identifier: MIT */
/*
 * test_wire.c - unit tests for the wire encoding: hypercall request decoding
 * and reply encoding (src/common/hcall_wire.c) and message header checks
 * (src/common/proto.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guest.h"
#include "hcall_wire.h"
#include "proto.h"

#define HDR_SZ sizeof(struct pv_hcall_req)
#define REG_SZ sizeof(struct pv_region)
#define BUF_SZ (2 * PV_MSG_MAX)
/* the largest OUT region one reply can carry */
#define OUT_MAX (PV_PAYLOAD_MAX - sizeof(struct pv_hcall_rep) - REG_SZ)

/* A request under construction, and what decoding fills. */
struct wire {
    uint8_t payload[BUF_SZ];
    size_t len;
    uint32_t nr;
    uint8_t scratch[PV_PAYLOAD_MAX];
    struct gm_region r[PV_REGIONS_MAX + 8];
    struct guest_mem gm;
    struct pv_hcall_req req;
};

static int setup(void **state)
{
    struct wire *w = calloc(1, sizeof(*w));

    if (!w) {
        return -1;
    }
    memset(w->scratch, 0xEE, sizeof(w->scratch));
    w->gm.r = w->r;
    w->gm.nr = 0xdead;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* Start a request with nr regions: the table follows the fixed part. */
static void req_begin(struct wire *w, uint64_t op, uint32_t vcpu, uint32_t nr)
{
    struct pv_hcall_req req = {.op = op, .vcpu = vcpu, .nr_regions = nr};

    for (unsigned int i = 0; i < 5; i++) {
        req.args[i] = 0x100 + i;
    }
    memcpy(w->payload, &req, sizeof(req));
    w->nr = 0;
    w->len = HDR_SZ + (size_t)nr * REG_SZ;
}

static void req_region(struct wire *w, uint64_t addr, uint32_t len,
                       uint32_t flags)
{
    struct pv_region r = {.addr = addr, .len = len, .flags = flags};

    memcpy(w->payload + HDR_SZ + w->nr * REG_SZ, &r, sizeof(r));
    w->nr++;
}

static void req_data(struct wire *w, const void *p, size_t n)
{
    memcpy(w->payload + w->len, p, n);
    w->len += n;
}

static void req_fill(struct wire *w, uint8_t byte, size_t n)
{
    memset(w->payload + w->len, byte, n);
    w->len += n;
}

static int decode(struct wire *w)
{
    return hcall_req_decode(w->payload, w->len, &w->req, &w->gm, w->scratch,
                            sizeof(w->scratch));
}

/* IN at 0x1000 (8 bytes), OUT at 0x2000 (16), IN|OUT at 0x3000 (4). */
static void build_valid(struct wire *w)
{
    req_begin(w, 17, 3, 3);
    req_region(w, 0x1000, 8, PV_REGION_IN);
    req_region(w, 0x2000, 16, PV_REGION_OUT);
    req_region(w, 0x3000, 4, PV_REGION_IN | PV_REGION_OUT);
    req_data(w, "ABCDEFGH", 8);
    req_data(w, "wxyz", 4);
}

static void test_decode_valid(void **state)
{
    struct wire *w = *state;

    build_valid(w);
    assert_int_equal(w->len, HDR_SZ + 3 * REG_SZ + 12);
    assert_int_equal(decode(w), 0);
    assert_int_equal(w->req.op, 17);
    assert_int_equal(w->req.vcpu, 3);
    assert_int_equal(w->req.nr_regions, 3);
    for (unsigned int i = 0; i < 5; i++) {
        assert_int_equal(w->req.args[i], 0x100 + i);
    }
    assert_int_equal(w->gm.nr, 3);
    assert_ptr_equal(w->gm.r, w->r);

    /* IN: the data is used in place, in region order after the table */
    assert_int_equal(w->r[0].addr, 0x1000);
    assert_int_equal(w->r[0].len, 8);
    assert_int_equal(w->r[0].flags, GM_IN);
    assert_ptr_equal(w->r[0].data, w->payload + HDR_SZ + 3 * REG_SZ);
    assert_memory_equal(w->r[0].data, "ABCDEFGH", 8);

    /* OUT-only: zeroed scratch, and only as much of it as needed */
    assert_int_equal(w->r[1].addr, 0x2000);
    assert_int_equal(w->r[1].len, 16);
    assert_int_equal(w->r[1].flags, GM_OUT);
    assert_ptr_equal(w->r[1].data, w->scratch);
    for (unsigned int i = 0; i < 16; i++) {
        assert_int_equal(w->r[1].data[i], 0);
    }
    assert_int_equal(w->scratch[16], 0xEE);

    /* IN|OUT: in place, after the previous IN data */
    assert_int_equal(w->r[2].addr, 0x3000);
    assert_int_equal(w->r[2].len, 4);
    assert_int_equal(w->r[2].flags, GM_IN | GM_OUT);
    assert_ptr_equal(w->r[2].data, w->payload + HDR_SZ + 3 * REG_SZ + 8);
    assert_memory_equal(w->r[2].data, "wxyz", 4);

    for (unsigned int i = 0; i < 3; i++) {
        assert_int_equal(w->r[i].dirty_lo, 0);
        assert_int_equal(w->r[i].dirty_hi, 0);
    }
}

static void test_decode_no_regions(void **state)
{
    struct wire *w = *state;

    req_begin(w, 0, 0, 0);
    assert_int_equal(decode(w), 0);
    assert_int_equal(w->gm.nr, 0);
    assert_int_equal(w->req.args[4], 0x104);
}

static void test_decode_scratch_packing(void **state)
{
    struct wire *w = *state;

    /* two OUT-only regions take consecutive scratch */
    req_begin(w, 1, 0, 3);
    req_region(w, 0x1000, 5, PV_REGION_OUT);
    req_region(w, 0x9000, 2, PV_REGION_IN);
    req_region(w, 0x2000, 7, PV_REGION_OUT);
    req_data(w, "qq", 2);
    assert_int_equal(decode(w), 0);
    assert_ptr_equal(w->r[0].data, w->scratch);
    assert_ptr_equal(w->r[2].data, w->scratch + 5);
    assert_int_equal(w->scratch[11], 0);
    assert_int_equal(w->scratch[12], 0xEE);
    assert_ptr_equal(w->r[1].data, w->payload + HDR_SZ + 3 * REG_SZ);
}

static void test_decode_too_short(void **state)
{
    struct wire *w = *state;

    req_begin(w, 1, 0, 0);
    assert_int_equal(hcall_req_decode(w->payload, HDR_SZ - 1, &w->req, &w->gm,
                                      w->scratch, sizeof(w->scratch)),
                     -EINVAL);
    assert_int_equal(w->gm.nr, 0);
    assert_int_equal(hcall_req_decode(w->payload, 0, &w->req, &w->gm,
                                      w->scratch, sizeof(w->scratch)),
                     -EINVAL);
}

static void test_decode_region_count(void **state)
{
    struct wire *w = *state;

    /* PV_REGIONS_MAX small OUT regions are fine ... */
    req_begin(w, 1, 0, PV_REGIONS_MAX);
    for (unsigned int i = 0; i < PV_REGIONS_MAX; i++) {
        req_region(w, 0x1000 + 0x100 * i, 1, PV_REGION_OUT);
    }
    assert_int_equal(decode(w), 0);
    assert_int_equal(w->gm.nr, PV_REGIONS_MAX);
    assert_ptr_equal(w->r[PV_REGIONS_MAX - 1].data,
                     w->scratch + PV_REGIONS_MAX - 1);

    /* ... one more is malformed even though each entry is valid */
    req_begin(w, 1, 0, PV_REGIONS_MAX + 1);
    for (unsigned int i = 0; i < PV_REGIONS_MAX + 1; i++) {
        req_region(w, 0x1000 + 0x100 * i, 1, PV_REGION_OUT);
    }
    assert_int_equal(decode(w), -EINVAL);
    assert_int_equal(w->gm.nr, 0);

    /* a count far too large, with no table behind it */
    req_begin(w, 1, 0, UINT32_MAX);
    w->len = HDR_SZ;
    assert_int_equal(decode(w), -EINVAL);
}

static void test_decode_table_beyond_payload(void **state)
{
    struct wire *w = *state;

    /* two regions declared, one present */
    req_begin(w, 1, 0, 2);
    req_region(w, 0x1000, 4, PV_REGION_OUT);
    w->len = HDR_SZ + REG_SZ;
    assert_int_equal(decode(w), -EINVAL);
    assert_int_equal(w->gm.nr, 0);

    /* one region, one byte short */
    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, 4, PV_REGION_OUT);
    w->len = HDR_SZ + REG_SZ - 1;
    assert_int_equal(decode(w), -EINVAL);
}

static void test_decode_zero_len(void **state)
{
    struct wire *w = *state;

    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, 0, PV_REGION_OUT);
    assert_int_equal(decode(w), -EINVAL);

    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, 0, PV_REGION_IN);
    assert_int_equal(decode(w), -EINVAL);
}

static void test_decode_bad_flags(void **state)
{
    struct wire *w = *state;
    const uint32_t bad[] = {0, 0x4, PV_REGION_IN | 0x4, 0x80000002u};

    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        req_begin(w, 1, 0, 1);
        req_region(w, 0x1000, 4, bad[i]);
        if (bad[i] & PV_REGION_IN) {
            req_data(w, "abcd", 4);
        }
        assert_int_equal(decode(w), -EINVAL);
    }
}

static void test_decode_wrapping_addr(void **state)
{
    struct wire *w = *state;

    req_begin(w, 1, 0, 1);
    req_region(w, UINT64_MAX - 3, 8, PV_REGION_OUT);
    assert_int_equal(decode(w), -EINVAL);

    req_begin(w, 1, 0, 1);
    req_region(w, UINT64_MAX - 3, 8, PV_REGION_IN);
    req_data(w, "abcdefgh", 8);
    assert_int_equal(decode(w), -EINVAL);

    /* just below the top is fine */
    req_begin(w, 1, 0, 1);
    req_region(w, UINT64_MAX - 8, 8, PV_REGION_OUT);
    assert_int_equal(decode(w), 0);
    assert_int_equal(w->r[0].addr, UINT64_MAX - 8);
}

static void test_decode_region_too_long(void **state)
{
    struct wire *w = *state;

    /* no region may exceed a payload */
    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, PV_PAYLOAD_MAX + 1, PV_REGION_IN);
    req_fill(w, 'x', PV_PAYLOAD_MAX + 1);
    assert_int_equal(decode(w), -EINVAL);
}

static void test_decode_in_data_short(void **state)
{
    struct wire *w = *state;

    req_begin(w, 1, 0, 2);
    req_region(w, 0x1000, 8, PV_REGION_IN);
    req_region(w, 0x2000, 4, PV_REGION_IN | PV_REGION_OUT);
    req_data(w, "ABCDEFGH", 8);
    req_data(w, "xyz", 3); /* one byte missing */
    assert_int_equal(decode(w), -EINVAL);

    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, 8, PV_REGION_IN);
    assert_int_equal(decode(w), -EINVAL); /* no data at all */
}

static void test_decode_trailing_bytes(void **state)
{
    struct wire *w = *state;

    build_valid(w);
    req_data(w, "!", 1);
    assert_int_equal(decode(w), -EINVAL);
    assert_int_equal(w->gm.nr, 0);

    /* trailing bytes with no regions at all */
    req_begin(w, 1, 0, 0);
    req_data(w, "!", 1);
    assert_int_equal(decode(w), -EINVAL);

    /* an OUT-only region carries no data */
    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, 4, PV_REGION_OUT);
    req_data(w, "abcd", 4);
    assert_int_equal(decode(w), -EINVAL);
}

static void test_decode_out_too_large(void **state)
{
    struct wire *w = *state;

    /* the largest OUT region a reply can hold */
    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, (uint32_t)OUT_MAX, PV_REGION_OUT);
    assert_int_equal(decode(w), 0);
    assert_ptr_equal(w->r[0].data, w->scratch);

    /* one byte more does not fit */
    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, (uint32_t)OUT_MAX + 1, PV_REGION_OUT);
    assert_int_equal(decode(w), -E2BIG);

    /* nor do two that fit alone, counting each region's header */
    req_begin(w, 1, 0, 2);
    req_region(w, 0x1000, 40000, PV_REGION_OUT);
    req_region(w, 0x20000, 40000, PV_REGION_OUT);
    assert_int_equal(decode(w), -E2BIG);

    req_begin(w, 1, 0, 2);
    req_region(w, 0x1000, (uint32_t)OUT_MAX - 1 - REG_SZ, PV_REGION_OUT);
    req_region(w, 0x20000, 1, PV_REGION_OUT);
    assert_int_equal(decode(w), 0);
    req_begin(w, 1, 0, 2);
    req_region(w, 0x1000, (uint32_t)OUT_MAX - REG_SZ, PV_REGION_OUT);
    req_region(w, 0x20000, 1, PV_REGION_OUT);
    assert_int_equal(decode(w), -E2BIG);

    /* IN|OUT counts too (its data arrives in the request) */
    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, (uint32_t)OUT_MAX + 1, PV_REGION_IN | PV_REGION_OUT);
    req_fill(w, 'x', OUT_MAX + 1);
    assert_int_equal(decode(w), -E2BIG);

    /* IN-only regions do not */
    req_begin(w, 1, 0, 2);
    req_region(w, 0x1000, (uint32_t)OUT_MAX, PV_REGION_OUT);
    req_region(w, 0x30000, 1000, PV_REGION_IN);
    req_fill(w, 'i', 1000);
    assert_int_equal(decode(w), 0);
}

static void test_decode_scratch_too_small(void **state)
{
    struct wire *w = *state;

    req_begin(w, 1, 0, 1);
    req_region(w, 0x1000, 16, PV_REGION_OUT);
    assert_int_equal(
        hcall_req_decode(w->payload, w->len, &w->req, &w->gm, w->scratch, 15),
        -E2BIG);
    assert_int_equal(w->scratch[0], 0xEE);
    assert_int_equal(
        hcall_req_decode(w->payload, w->len, &w->req, &w->gm, w->scratch, 16),
        0);
}

static void test_reply_empty(void **state)
{
    struct wire *w = *state;
    uint8_t out[64];
    struct pv_hcall_rep rep;

    build_valid(w);
    assert_int_equal(decode(w), 0);
    assert_int_equal(hcall_rep_size(&w->gm), sizeof(struct pv_hcall_rep));
    memset(out, 0xCC, sizeof(out));
    assert_int_equal(hcall_rep_encode(&w->gm, 0x40011, out),
                     sizeof(struct pv_hcall_rep));
    memcpy(&rep, out, sizeof(rep));
    assert_int_equal(rep.ret, 0x40011);
    assert_int_equal(rep.nr_out, 0);
    assert_int_equal(rep.pad, 0);
    assert_int_equal(out[sizeof(rep)], 0xCC);
}

static void test_reply_round_trip(void **state)
{
    struct wire *w = *state;
    uint8_t out[256];
    struct pv_hcall_rep rep;
    struct pv_region reg;
    const size_t expect = sizeof(rep) + (REG_SZ + 6) + (REG_SZ + 2);
    size_t off;

    build_valid(w);
    assert_int_equal(decode(w), 0);
    /* two writes to the OUT region (span 4..10) and one to IN|OUT */
    assert_int_equal(copy_to_guest(&w->gm, 0x2004, "PQ", 2), 0);
    assert_int_equal(copy_to_guest(&w->gm, 0x2008, "RS", 2), 0);
    assert_int_equal(copy_to_guest(&w->gm, 0x3001, "!?", 2), 0);
    /* the IN|OUT write lands in the payload */
    assert_memory_equal(w->payload + HDR_SZ + 3 * REG_SZ + 8, "w!?z", 4);
    /* the IN-only region cannot be written */
    assert_int_equal(copy_to_guest(&w->gm, 0x1000, "no", 2), -EFAULT);

    assert_int_equal(hcall_rep_size(&w->gm), expect);
    memset(out, 0xCC, sizeof(out));
    assert_int_equal(hcall_rep_encode(&w->gm, -22, out), expect);
    assert_int_equal(out[expect], 0xCC);

    /* parse it back by hand */
    memcpy(&rep, out, sizeof(rep));
    assert_int_equal(rep.ret, -22);
    assert_int_equal(rep.nr_out, 2);
    assert_int_equal(rep.pad, 0);
    off = sizeof(rep);
    memcpy(&reg, out + off, sizeof(reg));
    assert_int_equal(reg.addr, 0x2004);
    assert_int_equal(reg.len, 6);
    assert_int_equal(reg.flags, 0);
    memcpy(&reg, out + off + REG_SZ, sizeof(reg));
    assert_int_equal(reg.addr, 0x3001);
    assert_int_equal(reg.len, 2);
    assert_int_equal(reg.flags, 0);
    off += 2 * REG_SZ;
    /* the gap in the span is the region's zeroes */
    assert_memory_equal(out + off, "PQ\0\0RS", 6);
    assert_memory_equal(out + off + 6, "!?", 2);
}

static void test_reply_large(void **state)
{
    struct wire *w = *state;
    uint8_t *out = malloc(PV_PAYLOAD_MAX);
    uint8_t *src = malloc(OUT_MAX);
    struct pv_hcall_rep rep;
    struct pv_region reg;

    assert_non_null(out);
    assert_non_null(src);
    for (size_t i = 0; i < OUT_MAX; i++) {
        src[i] = (uint8_t)(i * 7);
    }
    /* the largest accepted OUT region, written entirely, fits a payload */
    req_begin(w, 1, 0, 1);
    req_region(w, 0x100000, (uint32_t)OUT_MAX, PV_REGION_OUT);
    assert_int_equal(decode(w), 0);
    assert_int_equal(copy_to_guest(&w->gm, 0x100000, src, OUT_MAX), 0);
    assert_int_equal(hcall_rep_size(&w->gm), PV_PAYLOAD_MAX);
    assert_int_equal(hcall_rep_encode(&w->gm, 7, out), PV_PAYLOAD_MAX);
    memcpy(&rep, out, sizeof(rep));
    assert_int_equal(rep.ret, 7);
    assert_int_equal(rep.nr_out, 1);
    memcpy(&reg, out + sizeof(rep), sizeof(reg));
    assert_int_equal(reg.addr, 0x100000);
    assert_int_equal(reg.len, OUT_MAX);
    assert_memory_equal(out + sizeof(rep) + REG_SZ, src, OUT_MAX);
    free(out);
    free(src);
}

/* pv_hdr_check */

static size_t msg(uint8_t *buf, uint16_t type, uint32_t len, uint32_t seq)
{
    struct pv_hdr h;

    pv_hdr_init(&h, type, PV_F_REPLY, len, seq);
    memcpy(buf, &h, sizeof(h));
    memset(buf + sizeof(h), 'p', len);
    return sizeof(h) + len;
}

static void test_hdr_valid(void **state)
{
    struct wire *w = *state;
    struct pv_hdr h;
    size_t n = msg(w->payload, PV_MSG_HELLO, 8, 0x12345678);

    memset(&h, 0, sizeof(h));
    assert_int_equal(pv_hdr_check(w->payload, n, &h), 0);
    assert_int_equal(h.magic, PV_PROTO_MAGIC);
    assert_int_equal(h.version, PV_PROTO_VERSION);
    assert_int_equal(h.type, PV_MSG_HELLO);
    assert_int_equal(h.flags, PV_F_REPLY);
    assert_int_equal(h.len, 8);
    assert_int_equal(h.seq, 0x12345678);

    /* no payload, and the largest message */
    n = msg(w->payload, PV_MSG_LIST, 0, 1);
    assert_int_equal(pv_hdr_check(w->payload, n, &h), 0);
    n = msg(w->payload, PV_MSG_TYPE_MAX - 1, PV_PAYLOAD_MAX, 2);
    assert_int_equal(n, PV_MSG_MAX);
    assert_int_equal(pv_hdr_check(w->payload, n, &h), 0);
    assert_int_equal(h.type, PV_MSG_TYPE_MAX - 1);
}

static void test_hdr_short(void **state)
{
    struct wire *w = *state;
    struct pv_hdr h;

    msg(w->payload, PV_MSG_HELLO, 0, 1);
    assert_int_equal(pv_hdr_check(w->payload, sizeof(h) - 1, &h), -EPROTO);
    assert_int_equal(pv_hdr_check(w->payload, 0, &h), -EPROTO);
}

static void test_hdr_oversized(void **state)
{
    struct wire *w = *state;
    struct pv_hdr h;
    size_t n = msg(w->payload, PV_MSG_HELLO, PV_PAYLOAD_MAX + 1, 1);

    assert_int_equal(n, PV_MSG_MAX + 1);
    assert_int_equal(pv_hdr_check(w->payload, n, &h), -EMSGSIZE);
}

static void test_hdr_bad_magic_version(void **state)
{
    struct wire *w = *state;
    struct pv_hdr h, bad;
    size_t n = msg(w->payload, PV_MSG_HELLO, 4, 1);

    memcpy(&bad, w->payload, sizeof(bad));
    bad.magic = 0x7077;
    memcpy(w->payload, &bad, sizeof(bad));
    assert_int_equal(pv_hdr_check(w->payload, n, &h), -EPROTO);

    n = msg(w->payload, PV_MSG_HELLO, 4, 1);
    memcpy(&bad, w->payload, sizeof(bad));
    bad.version = PV_PROTO_VERSION + 1;
    memcpy(w->payload, &bad, sizeof(bad));
    assert_int_equal(pv_hdr_check(w->payload, n, &h), -EPROTO);

    n = msg(w->payload, PV_MSG_HELLO, 4, 1);
    memcpy(&bad, w->payload, sizeof(bad));
    bad.version = 0;
    memcpy(w->payload, &bad, sizeof(bad));
    assert_int_equal(pv_hdr_check(w->payload, n, &h), -EPROTO);
}

static void test_hdr_len_mismatch(void **state)
{
    struct wire *w = *state;
    struct pv_hdr h;
    size_t n = msg(w->payload, PV_MSG_HELLO, 8, 1);

    assert_int_equal(pv_hdr_check(w->payload, n + 1, &h), -EPROTO);
    assert_int_equal(pv_hdr_check(w->payload, n - 1, &h), -EPROTO);
    /* a length that wraps when added to the header */
    n = msg(w->payload, PV_MSG_HELLO, 0, 1);
    memcpy(&h, w->payload, sizeof(h));
    h.len = UINT32_MAX;
    memcpy(w->payload, &h, sizeof(h));
    assert_int_equal(pv_hdr_check(w->payload, n, &h), -EPROTO);
}

static void test_hdr_bad_type(void **state)
{
    struct wire *w = *state;
    struct pv_hdr h;
    size_t n;

    n = msg(w->payload, 0, 4, 1);
    assert_int_equal(pv_hdr_check(w->payload, n, &h), -EPROTO);
    n = msg(w->payload, PV_MSG_TYPE_MAX, 4, 1);
    assert_int_equal(pv_hdr_check(w->payload, n, &h), -EPROTO);
    n = msg(w->payload, UINT16_MAX, 4, 1);
    assert_int_equal(pv_hdr_check(w->payload, n, &h), -EPROTO);
    n = msg(w->payload, 1, 4, 1);
    assert_int_equal(pv_hdr_check(w->payload, n, &h), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_decode_valid),
        T(test_decode_no_regions),
        T(test_decode_scratch_packing),
        T(test_decode_too_short),
        T(test_decode_region_count),
        T(test_decode_table_beyond_payload),
        T(test_decode_zero_len),
        T(test_decode_bad_flags),
        T(test_decode_wrapping_addr),
        T(test_decode_region_too_long),
        T(test_decode_in_data_short),
        T(test_decode_trailing_bytes),
        T(test_decode_out_too_large),
        T(test_decode_scratch_too_small),
        T(test_reply_empty),
        T(test_reply_round_trip),
        T(test_reply_large),
        T(test_hdr_valid),
        T(test_hdr_short),
        T(test_hdr_oversized),
        T(test_hdr_bad_magic_version),
        T(test_hdr_len_mismatch),
        T(test_hdr_bad_type),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
