/* SPDX-License-Identifier: MIT */
/*
 * test_guest.c - unit tests for src/hv/guest.c: bounded copies to and from
 * the guest memory a hypercall carried, range checks and dirty tracking.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest.h"

#define BASE_A 0x1000u
#define BASE_B 0x2000u

/* Two regions: A is IN-only (0x1000, 64 bytes), B is OUT-only (0x2000, 32). */
struct fixture {
    uint8_t a[64];
    uint8_t b[32];
    struct gm_region r[4];
    struct guest_mem gm;
};

static struct fixture fx;

static void fixture_init(void)
{
    memset(&fx, 0, sizeof(fx));
    for (unsigned int i = 0; i < sizeof(fx.a); i++) {
        fx.a[i] = (uint8_t)(0x40 + i);
    }
    memset(fx.b, 0xEE, sizeof(fx.b));
    fx.r[0] = (struct gm_region){
        .addr = BASE_A, .len = sizeof(fx.a), .flags = GM_IN, .data = fx.a};
    fx.r[1] = (struct gm_region){
        .addr = BASE_B, .len = sizeof(fx.b), .flags = GM_OUT, .data = fx.b};
    fx.gm.nr = 2;
    fx.gm.r = fx.r;
}

static int setup(void **state)
{
    (void)state;
    fixture_init();
    return 0;
}

static void test_copy_from_in_bounds(void **state)
{
    uint8_t buf[64];

    (void)state;
    memset(buf, 0, sizeof(buf));
    assert_int_equal(copy_from_guest(&fx.gm, buf, BASE_A + 0x10, 16), 0);
    assert_memory_equal(buf, fx.a + 0x10, 16);

    /* the whole region */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(copy_from_guest(&fx.gm, buf, BASE_A, 64), 0);
    assert_memory_equal(buf, fx.a, 64);

    /* the last byte */
    buf[0] = 0;
    assert_int_equal(copy_from_guest(&fx.gm, buf, BASE_A + 63, 1), 0);
    assert_int_equal(buf[0], 0x40 + 63);
}

static void test_copy_to_in_bounds(void **state)
{
    const uint8_t src[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    (void)state;
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B + 4, src, sizeof(src)), 0);
    assert_memory_equal(fx.b + 4, src, sizeof(src));
    /* the bytes around it are untouched */
    assert_int_equal(fx.b[3], 0xEE);
    assert_int_equal(fx.b[12], 0xEE);
    assert_int_equal(fx.r[1].dirty_lo, 4);
    assert_int_equal(fx.r[1].dirty_hi, 12);

    /* ends exactly at the region end */
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B + 24, src, 8), 0);
    assert_memory_equal(fx.b + 24, src, 8);
}

static void test_range_crossing_end(void **state)
{
    uint8_t buf[64];

    (void)state;
    memset(buf, 0x5A, sizeof(buf));
    /* one byte past the end of A */
    assert_int_equal(copy_from_guest(&fx.gm, buf, BASE_A + 0x30, 17), -EFAULT);
    assert_int_equal(buf[0], 0x5A);
    /* starts at the end */
    assert_int_equal(copy_from_guest(&fx.gm, buf, BASE_A + 64, 1), -EFAULT);
    /* starts one byte before the start */
    assert_int_equal(copy_from_guest(&fx.gm, buf, BASE_A - 1, 2), -EFAULT);
    assert_int_equal(guest_range_ok(&fx.gm, BASE_A + 0x30, 17, GM_IN), 0);
    assert_int_equal(guest_range_ok(&fx.gm, BASE_A + 0x30, 16, GM_IN), 1);

    /* the same for writes: nothing written, nothing marked dirty */
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B + 31, buf, 2), -EFAULT);
    assert_int_equal(fx.b[31], 0xEE);
    assert_int_equal(fx.r[1].dirty_lo, 0);
    assert_int_equal(fx.r[1].dirty_hi, 0);
}

static void test_range_spanning_two_regions(void **state)
{
    uint8_t lo[16], hi[16], buf[32];

    (void)state;
    memset(lo, 1, sizeof(lo));
    memset(hi, 2, sizeof(hi));
    /* adjacent regions: a range over both is not "in one region" */
    fx.r[2] = (struct gm_region){
        .addr = 0x3000, .len = 16, .flags = GM_IN, .data = lo};
    fx.r[3] = (struct gm_region){
        .addr = 0x3010, .len = 16, .flags = GM_IN, .data = hi};
    fx.gm.nr = 4;
    assert_int_equal(copy_from_guest(&fx.gm, buf, 0x3008, 16), -EFAULT);
    assert_int_equal(guest_range_ok(&fx.gm, 0x3008, 16, GM_IN), 0);
    assert_int_equal(copy_from_guest(&fx.gm, buf, 0x3010, 16), 0);
    assert_int_equal(buf[0], 2);
    assert_int_equal(buf[15], 2);
}

static void test_addr_wraparound(void **state)
{
    uint8_t bogus[16], buf[16];

    (void)state;
    memset(bogus, 0x77, sizeof(bogus));
    /* a region that itself wraps (guest.c trusts its caller for regions),
     * so only the addr+len overflow check stands in the way */
    fx.r[2] = (struct gm_region){.addr = UINT64_MAX - 7,
                                 .len = 16,
                                 .flags = GM_IN | GM_OUT,
                                 .data = bogus};
    fx.gm.nr = 3;
    assert_int_equal(copy_from_guest(&fx.gm, buf, UINT64_MAX - 7, 16), -EFAULT);
    assert_int_equal(copy_to_guest(&fx.gm, UINT64_MAX - 7, buf, 16), -EFAULT);
    assert_int_equal(guest_range_ok(&fx.gm, UINT64_MAX - 7, 16, GM_IN), 0);
    assert_int_equal(guest_range_ok(&fx.gm, UINT64_MAX, 2, GM_IN), 0);
    /* ending at 2^64 already overflows; ending just below it is fine */
    assert_int_equal(copy_from_guest(&fx.gm, buf, UINT64_MAX - 7, 8), -EFAULT);
    assert_int_equal(copy_from_guest(&fx.gm, buf, UINT64_MAX - 7, 7), 0);
    assert_int_equal(buf[0], 0x77);

    /* a huge length from inside a normal region */
    assert_int_equal(copy_from_guest(&fx.gm, buf, BASE_A + 8, SIZE_MAX),
                     -EFAULT);
    assert_int_equal(guest_range_ok(&fx.gm, BASE_A + 8, SIZE_MAX, GM_IN), 0);
}

static void test_zero_length(void **state)
{
    uint8_t buf[4] = {9, 9, 9, 9};
    struct guest_mem empty = {.nr = 0, .r = NULL};

    (void)state;
    /* nothing to copy is never a fault, even with no regions at all */
    assert_int_equal(copy_from_guest(&empty, buf, 0xdead0000, 0), 0);
    assert_int_equal(copy_to_guest(&empty, 0xdead0000, buf, 0), 0);
    assert_int_equal(guest_range_ok(&empty, 0xdead0000, 0, GM_IN | GM_OUT), 1);
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B + 5, buf, 0), 0);
    assert_int_equal(fx.r[1].dirty_lo, 0);
    assert_int_equal(fx.r[1].dirty_hi, 0);
    assert_int_equal(fx.b[5], 0xEE);
    assert_int_equal(buf[0], 9);

    /* a non-empty range with no regions is a fault */
    assert_int_equal(copy_from_guest(&empty, buf, 0xdead0000, 1), -EFAULT);
    assert_int_equal(guest_range_ok(&empty, 0xdead0000, 1, 0), 0);
}

static void test_in_out_flags(void **state)
{
    uint8_t buf[8] = {0};
    uint8_t both[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    (void)state;
    /* an IN-only region cannot be written, an OUT-only one cannot be read */
    assert_int_equal(copy_to_guest(&fx.gm, BASE_A, buf, 4), -EFAULT);
    assert_int_equal(fx.a[0], 0x40);
    assert_int_equal(fx.r[0].dirty_hi, 0);
    assert_int_equal(copy_from_guest(&fx.gm, buf, BASE_B, 4), -EFAULT);

    assert_int_equal(guest_range_ok(&fx.gm, BASE_A, 4, GM_IN), 1);
    assert_int_equal(guest_range_ok(&fx.gm, BASE_A, 4, GM_OUT), 0);
    assert_int_equal(guest_range_ok(&fx.gm, BASE_A, 4, GM_IN | GM_OUT), 0);
    assert_int_equal(guest_range_ok(&fx.gm, BASE_B, 4, GM_OUT), 1);
    assert_int_equal(guest_range_ok(&fx.gm, BASE_B, 4, GM_IN), 0);
    assert_int_equal(guest_range_ok(&fx.gm, BASE_B, 4, 0), 1);

    /* IN|OUT allows both; a write is visible to a later read */
    fx.r[2] = (struct gm_region){
        .addr = 0x4000, .len = 8, .flags = GM_IN | GM_OUT, .data = both};
    fx.gm.nr = 3;
    assert_int_equal(guest_range_ok(&fx.gm, 0x4000, 8, GM_IN | GM_OUT), 1);
    assert_int_equal(copy_from_guest(&fx.gm, buf, 0x4000, 8), 0);
    assert_memory_equal(buf, both, 8);
    buf[0] = 0xAB;
    assert_int_equal(copy_to_guest(&fx.gm, 0x4002, buf, 1), 0);
    assert_int_equal(copy_from_guest(&fx.gm, buf + 4, 0x4002, 1), 0);
    assert_int_equal(buf[4], 0xAB);
    assert_int_equal(both[2], 0xAB);
}

static void test_overlapping_picks_matching_flags(void **state)
{
    uint8_t in[16], out[16], buf[4] = {0x11, 0x22, 0x33, 0x44};

    (void)state;
    memset(in, 0xA0, sizeof(in));
    memset(out, 0, sizeof(out));
    /* the same addresses offered twice: a read and a write each use the
     * region that allows them */
    fx.r[0] = (struct gm_region){
        .addr = 0x5000, .len = 16, .flags = GM_IN, .data = in};
    fx.r[1] = (struct gm_region){
        .addr = 0x5000, .len = 16, .flags = GM_OUT, .data = out};
    assert_int_equal(copy_to_guest(&fx.gm, 0x5004, buf, 4), 0);
    assert_memory_equal(out + 4, buf, 4);
    assert_int_equal(in[4], 0xA0);
    assert_int_equal(copy_from_guest(&fx.gm, buf, 0x5004, 4), 0);
    assert_int_equal(buf[0], 0xA0);
    assert_int_equal(fx.r[0].dirty_hi, 0);
    assert_int_equal(fx.r[1].dirty_lo, 4);
    assert_int_equal(fx.r[1].dirty_hi, 8);
}

static void test_dirty_span(void **state)
{
    const uint8_t x[4] = {0xA1, 0xA2, 0xA3, 0xA4};
    uint8_t other[16];

    (void)state;
    /* clean: lo == hi */
    assert_int_equal(fx.r[1].dirty_lo, fx.r[1].dirty_hi);

    /* first write sets the span exactly */
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B + 10, x, 4), 0);
    assert_int_equal(fx.r[1].dirty_lo, 10);
    assert_int_equal(fx.r[1].dirty_hi, 14);

    /* a second, disjoint write above extends hi only */
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B + 20, x, 2), 0);
    assert_int_equal(fx.r[1].dirty_lo, 10);
    assert_int_equal(fx.r[1].dirty_hi, 22);

    /* a write inside the span changes nothing */
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B + 12, x, 4), 0);
    assert_int_equal(fx.r[1].dirty_lo, 10);
    assert_int_equal(fx.r[1].dirty_hi, 22);

    /* a write below extends lo only, down to offset 0 */
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B, x, 1), 0);
    assert_int_equal(fx.r[1].dirty_lo, 0);
    assert_int_equal(fx.r[1].dirty_hi, 22);
    assert_int_equal(fx.b[0], 0xA1);
    assert_int_equal(fx.b[20], 0xA1);
    assert_int_equal(fx.b[21], 0xA2);
    assert_int_equal(fx.b[22], 0xEE);

    /* spans are per region */
    memset(other, 0, sizeof(other));
    fx.r[2] = (struct gm_region){
        .addr = 0x6000, .len = 16, .flags = GM_OUT, .data = other};
    fx.gm.nr = 3;
    assert_int_equal(copy_to_guest(&fx.gm, 0x600F, x, 1), 0);
    assert_int_equal(fx.r[2].dirty_lo, 15);
    assert_int_equal(fx.r[2].dirty_hi, 16);
    assert_int_equal(fx.r[1].dirty_lo, 0);
    assert_int_equal(fx.r[1].dirty_hi, 22);
}

static void test_dirty_two_writes_low_then_high(void **state)
{
    const uint8_t x[2] = {1, 2};

    (void)state;
    /* starting at offset 0 must not look "clean" after the second write */
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B, x, 2), 0);
    assert_int_equal(fx.r[1].dirty_lo, 0);
    assert_int_equal(fx.r[1].dirty_hi, 2);
    assert_int_equal(copy_to_guest(&fx.gm, BASE_B + 30, x, 2), 0);
    assert_int_equal(fx.r[1].dirty_lo, 0);
    assert_int_equal(fx.r[1].dirty_hi, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_copy_from_in_bounds, setup),
        cmocka_unit_test_setup(test_copy_to_in_bounds, setup),
        cmocka_unit_test_setup(test_range_crossing_end, setup),
        cmocka_unit_test_setup(test_range_spanning_two_regions, setup),
        cmocka_unit_test_setup(test_addr_wraparound, setup),
        cmocka_unit_test_setup(test_zero_length, setup),
        cmocka_unit_test_setup(test_in_out_flags, setup),
        cmocka_unit_test_setup(test_overlapping_picks_matching_flags, setup),
        cmocka_unit_test_setup(test_dirty_span, setup),
        cmocka_unit_test_setup(test_dirty_two_writes_low_then_high, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
