/* SPDX-License-Identifier: MIT */
/*
 * test_vfu_wire.c - unit tests for the vfio-user codec (src/vfu/wire.c):
 * every command's payload check with valid input and with short,
 * oversized, badly flagged and wrapping input; the header's framing; the
 * VERSION JSON (defaults, every key, types, duplicates, nesting, numbers,
 * escapes, garbage) and its writer round-tripping through the parser; the
 * region-info reply with its capability chain both ways.
 *
 * The codec allocates nothing: the leak check is that no test opens a
 * descriptor it does not close (teardown compares /proc/self/fd), with
 * LeakSanitizer in the sanitized build.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vfu_wire.h"

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    assert_non_null(d);
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

static int fds_before;

static int setup(void **state)
{
    (void)state;
    fds_before = count_fds();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_int_equal(count_fds(), fds_before);
    return 0;
}

/* ---- header ---- */

static void test_hdr(void **state)
{
    uint8_t buf[64];
    struct vfu_hdr h, g;
    struct vfu_piece pc = {"abcd", 4};
    long n;

    (void)state;
    n = vfu_msg_build(buf, sizeof(buf), 7, VFU_CMD_REGION_READ,
                      VFU_F_TYPE_COMMAND, &pc, 1);
    assert_int_equal(n, 20);
    assert_int_equal(vfu_hdr_parse(buf, (size_t)n, &h), 0);
    assert_int_equal(h.msg_id, 7);
    assert_int_equal(h.cmd, VFU_CMD_REGION_READ);
    assert_int_equal(h.msg_size, 20);
    assert_int_equal(vfu_payload_len(&h), 4);
    assert_memory_equal(buf + 16, "abcd", 4);
    assert_int_equal(vfu_hdr_check(&h), 0);
    /* too short to hold a header */
    assert_int_equal(vfu_hdr_parse(buf, 15, &h), -EINVAL);
    /* msg_size below the header, above the maximum */
    vfu_hdr_init(&h, 1, 1, 0, 0);
    h.msg_size = 15;
    assert_int_equal(vfu_hdr_parse(&h, sizeof(h), &g), -EINVAL);
    h.msg_size = VFU_MAX_MSG_SIZE + 1;
    assert_int_equal(vfu_hdr_parse(&h, sizeof(h), &g), -EMSGSIZE);
    h.msg_size = VFU_MAX_MSG_SIZE;
    assert_int_equal(vfu_hdr_parse(&h, sizeof(h), &g), 0);
    h.msg_size = UINT32_MAX;
    assert_int_equal(vfu_hdr_parse(&h, sizeof(h), &g), -EMSGSIZE);
    /* flags */
    h.msg_size = 16;
    h.flags = VFU_F_TYPE_COMMAND | VFU_F_NO_REPLY;
    assert_int_equal(vfu_hdr_check(&h), 0);
    h.flags = VFU_F_TYPE_REPLY | VFU_F_ERROR;
    assert_int_equal(vfu_hdr_check(&h), 0);
    assert_true(vfu_is_reply(&h));
    h.flags = 2; /* no such type */
    assert_int_equal(vfu_hdr_check(&h), -EINVAL);
    h.flags = 0x40; /* undefined bit */
    assert_int_equal(vfu_hdr_check(&h), -EINVAL);
    h.flags = VFU_F_TYPE_COMMAND | VFU_F_ERROR;
    assert_int_equal(vfu_hdr_check(&h), -EINVAL);
    h.flags = VFU_F_TYPE_REPLY | VFU_F_NO_REPLY;
    assert_int_equal(vfu_hdr_check(&h), -EINVAL);
    /* building beyond the buffer or the protocol's maximum */
    assert_int_equal(vfu_msg_build(buf, 19, 1, 1, 0, &pc, 1), -EMSGSIZE);
    pc.len = VFU_MAX_MSG_SIZE;
    assert_int_equal(vfu_msg_build(buf, sizeof(buf), 1, 1, 0, &pc, 1),
                     -EMSGSIZE);
    /* the error reply */
    vfu_hdr_init(&h, 9, VFU_CMD_DMA_MAP, 32, 0);
    vfu_error_reply(&g, &h, EEXIST);
    assert_int_equal(g.msg_id, 9);
    assert_int_equal(g.cmd, VFU_CMD_DMA_MAP);
    assert_int_equal(g.msg_size, 16);
    assert_int_equal(g.flags, VFU_F_TYPE_REPLY | VFU_F_ERROR);
    assert_int_equal(g.error_no, EEXIST);
    assert_string_equal(vfu_cmd_name(VFU_CMD_DEVICE_SET_IRQS),
                        "DEVICE_SET_IRQS");
    assert_string_equal(vfu_cmd_name(VFU_CMD_PV_ADD_CLIENT), "PV_ADD_CLIENT");
    assert_string_equal(vfu_cmd_name(14), "?");
    assert_string_equal(vfu_cmd_name(9999), "?");
}

/* ---- VERSION and its JSON ---- */

static int parse(const char *json, struct vfu_caps *c)
{
    return vfu_caps_parse(json, strlen(json), c);
}

static void test_caps_parse(void **state)
{
    struct vfu_caps c;

    (void)state;
    assert_int_equal(parse("{}", &c), 0);
    assert_int_equal(c.max_msg_fds, 1);
    assert_int_equal(c.max_data_xfer_size, 1048576);
    assert_int_equal(c.max_dma_maps, 65535);
    assert_int_equal(c.pgsizes, 4096);
    assert_false(c.twin_supported);
    assert_false(c.write_multiple);

    assert_int_equal(
        parse(" { \"capabilities\" : { \"max_msg_fds\" : 8 , "
              "\"max_data_xfer_size\":65536, \"max_dma_maps\": 10,"
              "\"pgsizes\": 2101248, \"write_multiple\": true,"
              "\"migration\": {\"pgsize\": 4096, \"x\": [1, 2.5e3, null]},"
              "\"twin_socket\": {\"supported\": true, \"fd_index\": 0},"
              "\"future\": {\"a\": [\"b\", {\"c\": false}]}},"
              "\"other\": -1.5E-3 }\n",
              &c),
        0);
    assert_int_equal(c.max_msg_fds, 8);
    assert_int_equal(c.max_data_xfer_size, 65536);
    assert_int_equal(c.max_dma_maps, 10);
    assert_int_equal(c.pgsizes, 2101248);
    assert_true(c.write_multiple);
    assert_true(c.twin_supported);
    assert_true(c.twin_has_index);
    assert_int_equal(c.twin_fd_index, 0);

    /* escapes: a key spelled with \u is the same key */
    assert_int_equal(parse("{\"capabilities\":{\"max\\u005fmsg_fds\":3}}", &c),
                     0);
    assert_int_equal(c.max_msg_fds, 3);
    assert_int_equal(parse("{\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\":1}", &c),
                     0);
    /* unknown keys of any type are skipped */
    assert_int_equal(parse("{\"capabilities\":{\"x\":\"\\u0000\"}}", &c), 0);
}

static void test_caps_bad(void **state)
{
    static const char *const bad[] = {
        "",
        " ",
        "[]",
        "null",
        "{",
        "}",
        "{\"capabilities\":{}",
        "{\"capabilities\":{}}}",
        "{\"capabilities\":{}} x",
        "{\"capabilities\":[]}",
        "{\"capabilities\":1}",
        "{\"capabilities\":{},\"capabilities\":{}}",
        "{\"capabilities\":{\"max_msg_fds\":1,\"max_msg_fds\":1}}",
        "{\"capabilities\":{\"max_msg_fds\":-1}}",
        "{\"capabilities\":{\"max_msg_fds\":1.0}}",
        "{\"capabilities\":{\"max_msg_fds\":1e3}}",
        "{\"capabilities\":{\"max_msg_fds\":01}}",
        "{\"capabilities\":{\"max_msg_fds\":\"1\"}}",
        "{\"capabilities\":{\"max_msg_fds\":true}}",
        "{\"capabilities\":{\"max_msg_fds\":1025}}",
        "{\"capabilities\":{\"max_msg_fds\":18446744073709551616}}",
        "{\"capabilities\":{\"max_data_xfer_size\":0}}",
        "{\"capabilities\":{\"max_data_xfer_size\":7}}",
        "{\"capabilities\":{\"max_dma_maps\":0}}",
        "{\"capabilities\":{\"pgsizes\":0}}",
        "{\"capabilities\":{\"write_multiple\":1}}",
        "{\"capabilities\":{\"twin_socket\":true}}",
        "{\"capabilities\":{\"twin_socket\":{\"supported\":1}}}",
        "{\"capabilities\":{\"twin_socket\":{\"fd_index\":0}}}",
        "{\"capabilities\":{\"twin_socket\":{\"supported\":true,"
        "\"fd_index\":4294967296}}}",
        "{\"capabilities\":{\"migration\":{},\"migration\":{}}}",
        "{\"a\":1,}",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{a:1}",
        "{'a':1}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":1e}",
        "{\"a\":00}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u12g4\"}",
        "{\"a\":\"unterminated}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":[[[[[[[[[1]]]]]]]]]}",
        "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{}}}}}}}}}",
    };
    struct vfu_caps c;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &c) != -EINVAL) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
    /* a NUL inside the document */
    assert_int_equal(vfu_caps_parse("{}\0{}", 5, &c), -EINVAL);
    /* nesting up to the limit is fine */
    assert_int_equal(parse("{\"a\":[[[[[[1]]]]]]}", &c), 0);
}

static void test_caps_format(void **state)
{
    struct vfu_caps in, out;
    char buf[512];
    int n;

    (void)state;
    vfu_caps_default(&in);
    in.max_msg_fds = 16;
    in.max_data_xfer_size = 1 << 20;
    in.max_dma_maps = 16384;
    in.write_multiple = true;
    in.twin_supported = true;
    in.twin_has_index = true;
    in.twin_fd_index = 3;
    n = vfu_caps_format(&in, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf) + 1);
    assert_int_equal(vfu_caps_parse(buf, (size_t)n - 1, &out), 0);
    assert_int_equal(out.max_msg_fds, 16);
    assert_int_equal(out.max_dma_maps, 16384);
    assert_true(out.write_multiple);
    assert_true(out.twin_supported);
    assert_int_equal(out.twin_fd_index, 3);
    /* without twin or write_multiple, they are absent */
    in.twin_supported = in.twin_has_index = false;
    in.write_multiple = false;
    n = vfu_caps_format(&in, buf, sizeof(buf));
    assert_null(strstr(buf, "twin"));
    assert_null(strstr(buf, "write_multiple"));
    assert_int_equal(vfu_caps_parse(buf, (size_t)n - 1, &out), 0);
    assert_false(out.twin_supported);
    /* too small */
    assert_int_equal(vfu_caps_format(&in, buf, 10), -ENOSPC);
    assert_int_equal(vfu_caps_format(&in, buf, (size_t)n - 1), -ENOSPC);
}

static size_t version_msg(uint8_t *buf, uint16_t maj, uint16_t min,
                          const char *json, bool nul)
{
    struct vfu_version v = {maj, min};
    size_t l = json ? strlen(json) + (nul ? 1 : 0) : 0;

    memcpy(buf, &v, sizeof(v));
    if (json) {
        memcpy(buf + 4, json, l);
    }
    return 4 + l;
}

static void test_version(void **state)
{
    uint8_t b[VFU_MAX_JSON + 64];
    struct vfu_version v, prop = {0, 2}, rv;
    struct vfu_caps c, pc, rc;
    size_t n;

    (void)state;
    /* no JSON at all: the defaults */
    n = version_msg(b, 0, 1, NULL, false);
    assert_int_equal(vfu_check_version(b, n, &v, &c), 0);
    assert_int_equal(v.minor, 1);
    assert_int_equal(c.max_msg_fds, 1);
    n = version_msg(b, 0, 2, "{\"capabilities\":{\"max_msg_fds\":4}}", true);
    assert_int_equal(vfu_check_version(b, n, &v, &c), 0);
    assert_int_equal(c.max_msg_fds, 4);
    /* short, unterminated, bad JSON, a NUL early */
    assert_int_equal(vfu_check_version(b, 3, &v, &c), -EINVAL);
    n = version_msg(b, 0, 2, "{}", false);
    assert_int_equal(vfu_check_version(b, n, &v, &c), -EINVAL);
    n = version_msg(b, 0, 2, "{x}", true);
    assert_int_equal(vfu_check_version(b, n, &v, &c), -EINVAL);
    n = version_msg(b, 0, 2, "{}", true);
    b[n++] = 0;
    assert_int_equal(vfu_check_version(b, n, &v, &c), -EINVAL);
    /* oversized JSON */
    memset(b + 4, ' ', VFU_MAX_JSON + 8);
    b[4] = '{';
    b[4 + VFU_MAX_JSON + 6] = '}';
    b[4 + VFU_MAX_JSON + 7] = 0;
    assert_int_equal(vfu_check_version(b, 4 + VFU_MAX_JSON + 8, &v, &c),
                     -EINVAL);

    /* the client's view of a reply */
    vfu_caps_default(&pc);
    pc.twin_supported = true;
    n = version_msg(b, 0, 1,
                    "{\"capabilities\":{\"twin_socket\":{\"supported\":true,"
                    "\"fd_index\":0}}}",
                    true);
    assert_int_equal(vfu_check_version_reply(b, n, 1, &prop, &pc, &rv, &rc), 0);
    assert_true(rc.twin_supported);
    /* fd_index beyond the fds, or no index: inconsistent */
    assert_int_equal(vfu_check_version_reply(b, n, 0, &prop, &pc, &rv, &rc),
                     -EINVAL);
    n = version_msg(b, 0, 1,
                    "{\"capabilities\":{\"twin_socket\":{\"supported\":true}}}",
                    true);
    assert_int_equal(vfu_check_version_reply(b, n, 1, &prop, &pc, &rv, &rc),
                     -EINVAL);
    /* twin not proposed */
    pc.twin_supported = false;
    n = version_msg(b, 0, 1,
                    "{\"capabilities\":{\"twin_socket\":{\"supported\":true,"
                    "\"fd_index\":0}}}",
                    true);
    assert_int_equal(vfu_check_version_reply(b, n, 1, &prop, &pc, &rv, &rc),
                     -EINVAL);
    /* another major, a higher minor, fds without twin */
    n = version_msg(b, 1, 0, NULL, false);
    assert_int_equal(vfu_check_version_reply(b, n, 0, &prop, &pc, &rv, &rc),
                     -EINVAL);
    n = version_msg(b, 0, 3, NULL, false);
    assert_int_equal(vfu_check_version_reply(b, n, 0, &prop, &pc, &rv, &rc),
                     -EINVAL);
    n = version_msg(b, 0, 2, NULL, false);
    assert_int_equal(vfu_check_version_reply(b, n, 1, &prop, &pc, &rv, &rc),
                     -EINVAL);
    assert_int_equal(vfu_check_version_reply(b, n, 0, &prop, &pc, &rv, &rc), 0);
}

/* ---- DMA_MAP / DMA_UNMAP ---- */

static int map(uint32_t argsz, uint32_t flags, uint64_t off, uint64_t addr,
               uint64_t size, unsigned nfds, size_t len)
{
    struct vfu_dma_map m = {argsz, flags, off, addr, size}, out;
    uint8_t b[64] = {0};

    memcpy(b + 1, &m, sizeof(m)); /* unaligned on purpose */
    return vfu_check_dma_map(b + 1, len, nfds, &out);
}

static void test_dma_map(void **state)
{
    const uint32_t rw = VFU_DMA_READ | VFU_DMA_WRITE;

    (void)state;
    assert_int_equal(map(32, rw, 0, 0x10000, 0x4000, 0, 32), 0);
    assert_int_equal(map(32, VFU_DMA_READ, 0x1000, 0x10000, 0x4000, 1, 32), 0);
    assert_int_equal(map(32, rw | VFU_DMA_MMAP, 0, 0, 0x1000, 1, 32), 0);
    assert_int_equal(map(32, rw | VFU_DMA_FILE_IO, 0, 0, 0x1000, 1, 32), 0);
    /* the last page of the address space */
    assert_int_equal(map(32, rw, 0, ~0xfffull, 0x1000, 0, 32), 0);
    /* sizes */
    assert_int_equal(map(32, rw, 0, 0, 0x1000, 0, 31), -EINVAL);
    assert_int_equal(map(32, rw, 0, 0, 0x1000, 0, 33), -EINVAL);
    assert_int_equal(map(24, rw, 0, 0, 0x1000, 0, 32), -EINVAL);
    assert_int_equal(map(40, rw, 0, 0, 0x1000, 0, 32), -EINVAL);
    /* flags */
    assert_int_equal(map(32, 0, 0, 0, 0x1000, 0, 32), -EINVAL);
    assert_int_equal(map(32, rw | 0x10, 0, 0, 0x1000, 0, 32), -EINVAL);
    assert_int_equal(map(32, rw | VFU_DMA_MMAP, 0, 0, 0x1000, 0, 32), -EINVAL);
    assert_int_equal(
        map(32, rw | VFU_DMA_MMAP | VFU_DMA_FILE_IO, 0, 0, 0x1000, 1, 32),
        -EINVAL);
    /* fds */
    assert_int_equal(map(32, rw, 0, 0, 0x1000, 2, 32), -EINVAL);
    assert_int_equal(map(32, rw, 0x1000, 0, 0x1000, 0, 32), -EINVAL);
    /* zero, unaligned */
    assert_int_equal(map(32, rw, 0, 0, 0, 0, 32), -EINVAL);
    assert_int_equal(map(32, rw, 0, 0x10, 0x1000, 0, 32), -EINVAL);
    assert_int_equal(map(32, rw, 0, 0, 0x1001, 0, 32), -EINVAL);
    assert_int_equal(map(32, rw, 0x800, 0, 0x1000, 1, 32), -EINVAL);
    /* wrapping */
    assert_int_equal(map(32, rw, 0, ~0xfffull, 0x2000, 0, 32), -EOVERFLOW);
    assert_int_equal(map(32, rw, ~0xfffull, 0, 0x2000, 1, 32), -EOVERFLOW);
}

static int unmap(uint32_t argsz, uint32_t flags, uint64_t addr, uint64_t size,
                 unsigned nfds, size_t len)
{
    struct vfu_dma_unmap u = {argsz, flags, addr, size}, out;
    uint8_t b[64] = {0};

    memcpy(b, &u, sizeof(u));
    return vfu_check_dma_unmap(b, len, nfds, &out);
}

static void test_dma_unmap(void **state)
{
    struct vfu_dma_unmap u = {24, 0, 0x1000, 0x2000}, out;

    (void)state;
    assert_int_equal(unmap(24, 0, 0x1000, 0x1000, 0, 24), 0);
    assert_int_equal(unmap(4096, 0, 0x1000, 0x1000, 0, 24), 0);
    assert_int_equal(unmap(24, VFU_DMA_UNMAP_ALL, 0, 0, 0, 24), 0);
    assert_int_equal(unmap(24, VFU_DMA_UNMAP_ALL, 0x1000, 0, 0, 24), -EINVAL);
    assert_int_equal(unmap(24, VFU_DMA_UNMAP_ALL, 0, 0x1000, 0, 24), -EINVAL);
    assert_int_equal(unmap(24, VFU_DMA_UNMAP_DIRTY, 0, 0x1000, 0, 24), -EINVAL);
    assert_int_equal(unmap(24, 4, 0, 0x1000, 0, 24), -EINVAL);
    assert_int_equal(unmap(23, 0, 0, 0x1000, 0, 24), -EINVAL);
    assert_int_equal(unmap(24, 0, 0, 0x1000, 0, 23), -EINVAL);
    assert_int_equal(unmap(24, 0, 0, 0x1000, 0, 25), -EINVAL);
    assert_int_equal(unmap(24, 0, 0, 0x1000, 1, 24), -EINVAL);
    assert_int_equal(unmap(24, 0, 0, 0, 0, 24), -EINVAL);
    assert_int_equal(unmap(24, 0, 1, 0x1000, 0, 24), -EINVAL);
    assert_int_equal(unmap(24, 0, ~0xfffull, 0x2000, 0, 24), -EOVERFLOW);
    assert_int_equal(vfu_check_dma_unmap_reply(&u, sizeof(u), &out), 0);
    assert_int_equal(out.size, 0x2000);
    assert_int_equal(vfu_check_dma_unmap_reply(&u, 16, &out), -EINVAL);
}

/* ---- information ---- */

static void test_info(void **state)
{
    struct vfu_device_info di = {16, 0, 0, 0}, dio;
    struct vfu_region_info ri = {32, 0, 7, 0, 0, 0}, rio;
    struct vfu_io_fds q = {16, 0, 0, 0}, qo;
    struct vfu_irq_info ii = {16, 0, 1, 0}, iio;
    uint8_t b[64] = {0};

    (void)state;
    assert_int_equal(vfu_check_device_info(&di, 16, 0, &dio), 0);
    assert_int_equal(vfu_check_device_info(&di, 15, 0, &dio), -EINVAL);
    assert_int_equal(vfu_check_device_info(b, 20, 0, &dio), -EINVAL);
    assert_int_equal(vfu_check_device_info(&di, 16, 1, &dio), -EINVAL);
    di.argsz = 15;
    assert_int_equal(vfu_check_device_info(&di, 16, 0, &dio), -EINVAL);

    assert_int_equal(vfu_check_region_info(&ri, 32, 0, &rio), 0);
    assert_int_equal(rio.index, 7);
    assert_int_equal(vfu_check_region_info(&ri, 31, 0, &rio), -EINVAL);
    assert_int_equal(vfu_check_region_info(&ri, 32, 1, &rio), -EINVAL);
    ri.argsz = 16;
    assert_int_equal(vfu_check_region_info(&ri, 32, 0, &rio), -EINVAL);

    assert_int_equal(vfu_check_io_fds(&q, 16, 0, &qo), 0);
    q.count = 1;
    assert_int_equal(vfu_check_io_fds(&q, 16, 0, &qo), -EINVAL);
    q.count = 0;
    q.flags = 1;
    assert_int_equal(vfu_check_io_fds(&q, 16, 0, &qo), -EINVAL);
    q.flags = 0;
    assert_int_equal(vfu_check_io_fds(&q, 12, 0, &qo), -EINVAL);
    q.argsz = 8;
    assert_int_equal(vfu_check_io_fds(&q, 16, 0, &qo), -EINVAL);

    assert_int_equal(vfu_check_irq_info(&ii, 16, 0, &iio), 0);
    assert_int_equal(vfu_check_irq_info(&ii, 17, 0, &iio), -EINVAL);
    assert_int_equal(vfu_check_irq_info(&ii, 16, 1, &iio), -EINVAL);
    ii.argsz = 0;
    assert_int_equal(vfu_check_irq_info(&ii, 16, 0, &iio), -EINVAL);

    /* replies */
    di = (struct vfu_device_info){16, VFIO_DEVICE_FLAGS_PCI, 9, 5};
    assert_int_equal(vfu_check_device_info_reply(&di, 16, &dio), 0);
    di.num_regions = 8;
    assert_int_equal(vfu_check_device_info_reply(&di, 16, &dio), -EINVAL);
    di.num_regions = VFU_MAX_REGIONS + 1;
    assert_int_equal(vfu_check_device_info_reply(&di, 16, &dio), -EINVAL);
    di.num_regions = 9;
    di.num_irqs = 100;
    assert_int_equal(vfu_check_device_info_reply(&di, 16, &dio), -EINVAL);
    di.num_irqs = 5;
    di.flags = 0;
    assert_int_equal(vfu_check_device_info_reply(&di, 16, &dio), -EINVAL);

    ii = (struct vfu_irq_info){16, VFIO_IRQ_INFO_EVENTFD, 2, 2048};
    assert_int_equal(vfu_check_irq_info_reply(&ii, 16, 2, &iio), 0);
    assert_int_equal(vfu_check_irq_info_reply(&ii, 16, 1, &iio), -EINVAL);
    ii.count = 2049;
    assert_int_equal(vfu_check_irq_info_reply(&ii, 16, 2, &iio), -EINVAL);
    ii.count = 1;
    ii.flags = 0x10;
    assert_int_equal(vfu_check_irq_info_reply(&ii, 16, 2, &iio), -EINVAL);

    q = (struct vfu_io_fds){16, 0, 3, 0};
    assert_int_equal(vfu_check_io_fds_reply(&q, 16, 0, 3, &qo), 0);
    assert_int_equal(vfu_check_io_fds_reply(&q, 16, 0, 2, &qo), -EINVAL);
    q.count = 1; /* one that does not fit: argsz says so */
    q.argsz = 56;
    assert_int_equal(vfu_check_io_fds_reply(&q, 16, 0, 3, &qo), 0);
    q.argsz = 16;
    assert_int_equal(vfu_check_io_fds_reply(&q, 16, 0, 3, &qo), -EINVAL);
    {
        uint8_t r[56] = {0};
        struct vfu_sub_region s = {0, 4, 0, VFU_IO_FD_IOEVENTFD, 0, 0, 0};

        q = (struct vfu_io_fds){56, 0, 3, 1};
        memcpy(r, &q, 16);
        memcpy(r + 16, &s, sizeof(s));
        assert_int_equal(vfu_check_io_fds_reply(r, 56, 1, 3, &qo), 0);
        assert_int_equal(vfu_check_io_fds_reply(r, 56, 0, 3, &qo), -EINVAL);
        s.type = 7;
        memcpy(r + 16, &s, sizeof(s));
        assert_int_equal(vfu_check_io_fds_reply(r, 56, 1, 3, &qo), -EINVAL);
    }
}

/* ---- region info with capabilities ---- */

static void test_region_info_reply(void **state)
{
    struct vfu_sparse_area areas[2] = {{0x1000, 0x1000}, {0x4000, 0x2000}};
    struct vfu_sparse_area got[4];
    struct vfu_region_info ri = {.index = 0,
                                 .flags = VFIO_REGION_INFO_FLAG_READ |
                                          VFIO_REGION_INFO_FLAG_WRITE |
                                          VFIO_REGION_INFO_FLAG_MMAP,
                                 .size = 0x10000};
    struct vfu_region_info out;
    uint8_t b[256];
    uint32_t nr;
    long n;

    (void)state;
    /* room for the caps: the chain is there */
    n = vfu_region_info_build(b, sizeof(b), 256, &ri, areas, 2);
    assert_int_equal(n, 32 + 16 + 32);
    assert_int_equal(
        vfu_check_region_info_reply(b, (size_t)n, 1, 0, 256, &out, got, 4, &nr),
        0);
    assert_int_equal(out.argsz, 80);
    assert_true(out.flags & VFIO_REGION_INFO_FLAG_CAPS);
    assert_int_equal(out.cap_offset, 32);
    assert_int_equal(nr, 2);
    assert_int_equal(got[1].offset, 0x4000);
    assert_int_equal(got[1].size, 0x2000);
    /* only the first area copied, both counted */
    assert_int_equal(
        vfu_check_region_info_reply(b, (size_t)n, 1, 0, 256, &out, got, 1, &nr),
        0);
    assert_int_equal(nr, 2);
    /* MMAP needs its fd; a reply longer than asked */
    assert_int_equal(
        vfu_check_region_info_reply(b, (size_t)n, 0, 0, 256, &out, got, 4, &nr),
        -EINVAL);
    assert_int_equal(
        vfu_check_region_info_reply(b, (size_t)n, 1, 0, 64, &out, got, 4, &nr),
        -EINVAL);
    assert_int_equal(
        vfu_check_region_info_reply(b, (size_t)n, 1, 1, 256, &out, got, 4, &nr),
        -EINVAL);

    /* no room: VFIO's answer, CAPS with cap_offset 0 and the size needed */
    n = vfu_region_info_build(b, sizeof(b), 40, &ri, areas, 2);
    assert_int_equal(n, 32);
    memcpy(&out, b, sizeof(out));
    assert_int_equal(out.argsz, 80);
    assert_true(out.flags & VFIO_REGION_INFO_FLAG_CAPS);
    assert_int_equal(out.cap_offset, 0);
    assert_int_equal(
        vfu_check_region_info_reply(b, 32, 1, 0, 40, &out, got, 4, &nr), 0);
    assert_int_equal(nr, 0);

    /* no areas: no caps */
    ri.flags &= ~(uint32_t)VFIO_REGION_INFO_FLAG_MMAP;
    n = vfu_region_info_build(b, sizeof(b), 32, &ri, NULL, 0);
    assert_int_equal(n, 32);
    memcpy(&out, b, sizeof(out));
    assert_int_equal(out.argsz, 32);
    assert_false(out.flags & VFIO_REGION_INFO_FLAG_CAPS);
    assert_int_equal(
        vfu_check_region_info_reply(b, 32, 0, 0, 32, &out, got, 4, &nr), 0);
    assert_int_equal(vfu_region_info_build(b, 16, 32, &ri, NULL, 0), -ENOSPC);
    assert_int_equal(vfu_region_info_build(b, sizeof(b), 32, &ri, areas,
                                           VFU_MAX_SPARSE_AREAS + 1),
                     -EINVAL);
}

/* hostile chains: cycles, offsets out of the payload, areas outside */
static void test_region_info_chain(void **state)
{
    struct vfu_region_info ri = {.argsz = 128,
                                 .flags = VFIO_REGION_INFO_FLAG_READ |
                                          VFIO_REGION_INFO_FLAG_CAPS,
                                 .index = 2,
                                 .cap_offset = 32,
                                 .size = 0x2000};
    struct vfu_cap_sparse s = {{VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 0}, 1, 0};
    struct vfu_sparse_area a = {0x1000, 0x1000}, got[2];
    struct vfu_cap_hdr other = {99, 1, 0};
    struct vfu_region_info out;
    uint8_t b[128] = {0};
    uint32_t nr;

    (void)state;
    memcpy(b, &ri, sizeof(ri));
    memcpy(b + 32, &s, sizeof(s));
    memcpy(b + 48, &a, sizeof(a));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr), 0);
    assert_int_equal(nr, 1);
    /* a chain that loops back */
    s.hdr.next = 32;
    memcpy(b + 32, &s, sizeof(s));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    /* a next cap past the payload */
    s.hdr.next = 200;
    memcpy(b + 32, &s, sizeof(s));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    /* an unknown cap after it is walked past */
    s.hdr.next = 64;
    memcpy(b + 32, &s, sizeof(s));
    memcpy(b + 64, &other, sizeof(other));
    assert_int_equal(
        vfu_check_region_info_reply(b, 72, 0, 2, 128, &out, got, 2, &nr), 0);
    /* too many areas for the payload */
    s.hdr.next = 0;
    s.nr_areas = 2;
    memcpy(b + 32, &s, sizeof(s));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    s.nr_areas = 0x7fffffff;
    memcpy(b + 32, &s, sizeof(s));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    /* an area outside the region */
    s.nr_areas = 1;
    memcpy(b + 32, &s, sizeof(s));
    a.offset = 0x1800;
    memcpy(b + 48, &a, sizeof(a));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    a = (struct vfu_sparse_area){~0ull, 2};
    memcpy(b + 48, &a, sizeof(a));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    /* cap_offset inside the info, unaligned, without CAPS */
    ri.cap_offset = 8;
    memcpy(b, &ri, sizeof(ri));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    ri.cap_offset = 34;
    memcpy(b, &ri, sizeof(ri));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    ri.cap_offset = 32;
    ri.flags = VFIO_REGION_INFO_FLAG_READ;
    memcpy(b, &ri, sizeof(ri));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
    ri.flags = 0x100;
    ri.cap_offset = 0;
    memcpy(b, &ri, sizeof(ri));
    assert_int_equal(
        vfu_check_region_info_reply(b, 64, 0, 2, 128, &out, got, 2, &nr),
        -EINVAL);
}

/* ---- SET_IRQS ---- */

static const uint32_t counts[5] = {1, 1, 4, 0, 1};

static int irqset(uint32_t flags, uint32_t index, uint32_t start,
                  uint32_t count, const void *data, size_t dlen, unsigned nfds)
{
    struct vfu_irq_set is = {(uint32_t)(20 + dlen), flags, index, start, count},
                       out;
    const uint8_t *d;
    uint8_t b[128];

    memcpy(b, &is, sizeof(is));
    if (dlen) {
        memcpy(b + 20, data, dlen);
    }
    return vfu_check_irq_set(b, 20 + dlen, nfds, counts, 5, &out, &d);
}

#define NONE    VFIO_IRQ_SET_DATA_NONE
#define BOOL    VFIO_IRQ_SET_DATA_BOOL
#define EFD     VFIO_IRQ_SET_DATA_EVENTFD
#define TRIGGER VFIO_IRQ_SET_ACTION_TRIGGER
#define MASK    VFIO_IRQ_SET_ACTION_MASK
#define UNMASK  VFIO_IRQ_SET_ACTION_UNMASK

static void test_irq_set(void **state)
{
    uint8_t ones[4] = {1, 0, 1, 1};
    int32_t idx[4] = {1, -1, 0, -1};
    int32_t dup[2] = {0, 0};
    int32_t oob[2] = {2, -1};
    int32_t neg[2] = {-2, 0};

    (void)state;
    assert_int_equal(irqset(EFD | TRIGGER, 0, 0, 1, NULL, 0, 1), 0);
    assert_int_equal(irqset(EFD | TRIGGER, 0, 0, 1, NULL, 0, 0), 0);
    assert_int_equal(irqset(NONE | TRIGGER, 0, 0, 0, NULL, 0, 0), 0);
    assert_int_equal(irqset(NONE | UNMASK, 0, 0, 1, NULL, 0, 0), 0);
    assert_int_equal(irqset(BOOL | MASK, 0, 0, 1, ones, 1, 0), 0);
    assert_int_equal(irqset(EFD | TRIGGER, 2, 0, 4, NULL, 0, 4), 0);
    assert_int_equal(irqset(BOOL | TRIGGER, 2, 1, 3, ones, 3, 0), 0);
    /* the action is the device's to check, not the codec's */
    assert_int_equal(irqset(NONE | MASK | UNMASK, 0, 0, 1, NULL, 0, 0), 0);
    assert_int_equal(irqset(NONE, 0, 0, 1, NULL, 0, 0), 0);
    /* short, argsz */
    {
        struct vfu_irq_set is = {20, NONE | TRIGGER, 0, 0, 1}, out;
        const uint8_t *d;

        assert_int_equal(vfu_check_irq_set(&is, 19, 0, counts, 5, &out, &d),
                         -EINVAL);
        is.argsz = 19;
        assert_int_equal(vfu_check_irq_set(&is, 20, 0, counts, 5, &out, &d),
                         -EINVAL);
    }
    /* index, flags, ranges */
    assert_int_equal(irqset(NONE | TRIGGER, 5, 0, 1, NULL, 0, 0), -EINVAL);
    assert_int_equal(irqset(NONE | TRIGGER | 0x40, 0, 0, 1, NULL, 0, 0),
                     -EINVAL);
    assert_int_equal(irqset(NONE | TRIGGER, 0, 1, 0, NULL, 0, 0), -EINVAL);
    assert_int_equal(irqset(NONE | TRIGGER, 0, 0, 2, NULL, 0, 0), -EINVAL);
    assert_int_equal(irqset(NONE | TRIGGER, 2, 3, 2, NULL, 0, 0), -EINVAL);
    assert_int_equal(irqset(NONE | TRIGGER, 2, 1, UINT32_MAX, NULL, 0, 0),
                     -EINVAL);
    assert_int_equal(
        irqset(NONE | TRIGGER, 2, UINT32_MAX, UINT32_MAX, NULL, 0, 0), -EINVAL);
    /* an index with no interrupts: even count 0 */
    assert_int_equal(irqset(NONE | TRIGGER, 3, 0, 0, NULL, 0, 0), -EINVAL);
    /* data types: none, two */
    assert_int_equal(irqset(TRIGGER, 0, 0, 1, NULL, 0, 0), -EINVAL);
    assert_int_equal(irqset(NONE | BOOL | TRIGGER, 0, 0, 1, NULL, 0, 0),
                     -EINVAL);
    /* data sizes */
    assert_int_equal(irqset(NONE | TRIGGER, 0, 0, 1, ones, 1, 0), -EINVAL);
    assert_int_equal(irqset(BOOL | TRIGGER, 2, 0, 3, ones, 2, 0), -EINVAL);
    assert_int_equal(irqset(BOOL | TRIGGER, 2, 0, 3, ones, 4, 0), -EINVAL);
    /* fds where none belong, too many, not matching */
    assert_int_equal(irqset(NONE | TRIGGER, 0, 0, 1, NULL, 0, 1), -EINVAL);
    assert_int_equal(irqset(BOOL | TRIGGER, 0, 0, 1, ones, 1, 1), -EINVAL);
    assert_int_equal(irqset(EFD | TRIGGER, 0, 0, 1, NULL, 0, 2), -EINVAL);
    assert_int_equal(irqset(EFD | TRIGGER, 2, 0, 4, NULL, 0, 2), -EINVAL);
    /* the index array: sparse -1s */
    assert_int_equal(irqset(EFD | TRIGGER, 2, 0, 4, idx, sizeof(idx), 2), 0);
    assert_int_equal(irqset(EFD | TRIGGER, 2, 0, 4, idx, sizeof(idx), 3),
                     -EINVAL); /* fd 2 unused */
    assert_int_equal(irqset(EFD | TRIGGER, 2, 0, 2, dup, sizeof(dup), 1),
                     -EINVAL);
    assert_int_equal(irqset(EFD | TRIGGER, 2, 0, 2, oob, sizeof(oob), 2),
                     -EINVAL);
    assert_int_equal(irqset(EFD | TRIGGER, 2, 0, 2, neg, sizeof(neg), 1),
                     -EINVAL);
    assert_int_equal(irqset(EFD | TRIGGER, 2, 0, 2, idx, 7, 1), -EINVAL);
    {
        struct vfu_irq_set is = {36, EFD | TRIGGER, 2, 0, 4}, out;
        const uint8_t *d;
        uint8_t b[64];

        memcpy(b, &is, 20);
        memcpy(b + 20, idx, sizeof(idx));
        assert_int_equal(vfu_check_irq_set(b, 36, 2, counts, 5, &out, &d), 0);
        assert_int_equal(vfu_irq_set_fd_index(&out, d, 2, 0), 1);
        assert_int_equal(vfu_irq_set_fd_index(&out, d, 2, 1), -1);
        assert_int_equal(vfu_irq_set_fd_index(&out, d, 2, 2), 0);
        assert_int_equal(vfu_irq_set_fd_index(&out, d, 2, 4), -1);
        assert_int_equal(vfu_irq_set_fd_index(&out, NULL, 4, 3), 3);
        assert_int_equal(vfu_irq_set_fd_index(&out, NULL, 0, 3), -1);
    }
}

/* ---- accesses ---- */

static int access(uint16_t cmd, uint64_t off, uint32_t region, uint32_t count,
                  size_t dlen, unsigned nfds)
{
    struct vfu_region_access ra = {off, region, count}, out;
    static uint8_t b[16 + 4096];
    const uint8_t *d;

    memcpy(b, &ra, sizeof(ra));
    return vfu_check_region_access(cmd, b, 16 + dlen, nfds, 4096, &out, &d);
}

static void test_region_access(void **state)
{
    struct vfu_region_access req = {8, 0, 4};
    uint8_t rep[20] = {0};

    (void)state;
    assert_int_equal(access(VFU_CMD_REGION_READ, 0, 0, 4, 0, 0), 0);
    assert_int_equal(access(VFU_CMD_REGION_READ, 0, 0, 0, 0, 0), 0);
    assert_int_equal(access(VFU_CMD_REGION_WRITE, 0, 0, 4, 4, 0), 0);
    assert_int_equal(access(VFU_CMD_REGION_WRITE, 0, 0, 4096, 4096, 0), 0);
    assert_int_equal(access(VFU_CMD_REGION_READ, 0, 0, 4, 4, 0), -EINVAL);
    assert_int_equal(access(VFU_CMD_REGION_WRITE, 0, 0, 4, 3, 0), -EINVAL);
    assert_int_equal(access(VFU_CMD_REGION_WRITE, 0, 0, 4, 5, 0), -EINVAL);
    assert_int_equal(access(VFU_CMD_REGION_READ, 0, 0, 4097, 0, 0), -EMSGSIZE);
    assert_int_equal(access(VFU_CMD_REGION_READ, ~0ull, 0, 2, 0, 0),
                     -EOVERFLOW);
    assert_int_equal(access(VFU_CMD_REGION_READ, ~0ull, 0, 1, 0, 0), 0);
    assert_int_equal(access(VFU_CMD_REGION_READ, 0, 0, 4, 0, 1), -EINVAL);
    {
        struct vfu_region_access out;
        const uint8_t *d;

        assert_int_equal(vfu_check_region_access(VFU_CMD_REGION_READ, rep, 15,
                                                 0, 4096, &out, &d),
                         -EINVAL);
    }
    /* replies */
    memcpy(rep, &req, sizeof(req));
    assert_int_equal(
        vfu_check_region_access_reply(VFU_CMD_REGION_READ, rep, 20, &req), 0);
    assert_int_equal(
        vfu_check_region_access_reply(VFU_CMD_REGION_READ, rep, 16, &req),
        -EINVAL);
    assert_int_equal(
        vfu_check_region_access_reply(VFU_CMD_REGION_WRITE, rep, 16, &req), 0);
    req.region = 1;
    assert_int_equal(
        vfu_check_region_access_reply(VFU_CMD_REGION_WRITE, rep, 16, &req),
        -EINVAL);
}

static void test_write_multi(void **state)
{
    uint8_t b[8 + 24 * (VFU_WRITE_MULTI_MAX + 1)] = {0};
    struct vfu_write_multi w = {0x10, 0, 4, {1, 2, 3, 4}};
    const uint8_t *e;
    uint64_t n = 2, done;

    (void)state;
    memcpy(b, &n, 8);
    memcpy(b + 8, &w, sizeof(w));
    memcpy(b + 32, &w, sizeof(w));
    assert_int_equal(vfu_check_write_multi(b, 56, 0, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_ptr_equal(e, b + 8);
    assert_int_equal(vfu_check_write_multi(b, 55, 0, &n, &e), -EINVAL);
    assert_int_equal(vfu_check_write_multi(b, 56, 1, &n, &e), -EINVAL);
    w.count = 9;
    memcpy(b + 32, &w, sizeof(w));
    assert_int_equal(vfu_check_write_multi(b, 56, 0, &n, &e), -EINVAL);
    w.count = 0;
    memcpy(b + 32, &w, sizeof(w));
    assert_int_equal(vfu_check_write_multi(b, 56, 0, &n, &e), -EINVAL);
    w.count = 8;
    w.offset = ~0ull - 2;
    memcpy(b + 32, &w, sizeof(w));
    assert_int_equal(vfu_check_write_multi(b, 56, 0, &n, &e), -EOVERFLOW);
    n = 0;
    memcpy(b, &n, 8);
    assert_int_equal(vfu_check_write_multi(b, 8, 0, &n, &e), -EINVAL);
    n = VFU_WRITE_MULTI_MAX + 1;
    memcpy(b, &n, 8);
    assert_int_equal(vfu_check_write_multi(b, sizeof(b), 0, &n, &e), -EINVAL);
    n = UINT64_MAX / 24 + 2; /* len = 8 + 24 n wraps */
    memcpy(b, &n, 8);
    assert_int_equal(vfu_check_write_multi(b, 56, 0, &n, &e), -EINVAL);
    n = 2;
    assert_int_equal(vfu_check_write_multi_reply(&n, 8, 2, &done), 0);
    assert_int_equal(vfu_check_write_multi_reply(&n, 8, 1, &done), -EINVAL);
    assert_int_equal(vfu_check_write_multi_reply(&n, 4, 2, &done), -EINVAL);
}

static void test_dma_access(void **state)
{
    struct vfu_dma_access da = {0x1000, 16}, out;
    uint8_t b[64] = {0};
    const uint8_t *d;

    (void)state;
    memcpy(b, &da, sizeof(da));
    assert_int_equal(
        vfu_check_dma_access(VFU_CMD_DMA_READ, b, 16, 0, 4096, &out, &d), 0);
    assert_int_equal(
        vfu_check_dma_access(VFU_CMD_DMA_WRITE, b, 32, 0, 4096, &out, &d), 0);
    assert_ptr_equal(d, b + 16);
    assert_int_equal(
        vfu_check_dma_access(VFU_CMD_DMA_WRITE, b, 31, 0, 4096, &out, &d),
        -EINVAL);
    assert_int_equal(
        vfu_check_dma_access(VFU_CMD_DMA_READ, b, 17, 0, 4096, &out, &d),
        -EINVAL);
    assert_int_equal(
        vfu_check_dma_access(VFU_CMD_DMA_READ, b, 16, 1, 4096, &out, &d),
        -EINVAL);
    assert_int_equal(
        vfu_check_dma_access(VFU_CMD_DMA_READ, b, 16, 0, 15, &out, &d),
        -EMSGSIZE);
    da.count = 0;
    memcpy(b, &da, sizeof(da));
    assert_int_equal(
        vfu_check_dma_access(VFU_CMD_DMA_READ, b, 16, 0, 4096, &out, &d),
        -EINVAL);
    da = (struct vfu_dma_access){~0ull, 2};
    memcpy(b, &da, sizeof(da));
    assert_int_equal(
        vfu_check_dma_access(VFU_CMD_DMA_READ, b, 16, 0, 4096, &out, &d),
        -EOVERFLOW);
    /* replies: DMA_READ with data, DMA_WRITE in 16 or the spec's 12 */
    da = (struct vfu_dma_access){0x1000, 16};
    memcpy(b, &da, sizeof(da));
    assert_int_equal(vfu_check_dma_access_reply(VFU_CMD_DMA_READ, b, 32, &da),
                     0);
    assert_int_equal(vfu_check_dma_access_reply(VFU_CMD_DMA_READ, b, 16, &da),
                     -EINVAL);
    assert_int_equal(vfu_check_dma_access_reply(VFU_CMD_DMA_WRITE, b, 16, &da),
                     0);
    assert_int_equal(vfu_check_dma_access_reply(VFU_CMD_DMA_WRITE, b, 12, &da),
                     0);
    assert_int_equal(vfu_check_dma_access_reply(VFU_CMD_DMA_WRITE, b, 14, &da),
                     -EINVAL);
    out = da;
    out.addr++;
    assert_int_equal(vfu_check_dma_access_reply(VFU_CMD_DMA_WRITE, b, 16, &out),
                     -EINVAL);
}

static void test_misc(void **state)
{
    struct vfu_device_feature f = {8, 1u << 16 | 1}, fo;
    struct vfu_mig_data md = {8, 0}, mo;
    struct vfu_pv_add_client a = {0, 0};
    uint8_t b[32] = {0};

    (void)state;
    assert_int_equal(vfu_check_device_feature(&f, 8, 0, &fo), 0);
    assert_int_equal(vfu_check_device_feature(&f, 7, 0, &fo), -EINVAL);
    assert_int_equal(vfu_check_device_feature(&f, 8, 1, &fo), -EINVAL);
    f.flags = 3u << 16;
    assert_int_equal(vfu_check_device_feature(&f, 8, 0, &fo), -EINVAL);
    f.flags = 7u << 16;
    assert_int_equal(vfu_check_device_feature(&f, 8, 0, &fo), 0);
    f.flags = 1u << 19;
    assert_int_equal(vfu_check_device_feature(&f, 8, 0, &fo), -EINVAL);
    f = (struct vfu_device_feature){4, 1u << 16};
    assert_int_equal(vfu_check_device_feature(&f, 8, 0, &fo), -EINVAL);

    assert_int_equal(vfu_check_mig_data(VFU_CMD_MIG_DATA_READ, &md, 8, 0, &mo),
                     0);
    assert_int_equal(vfu_check_mig_data(VFU_CMD_MIG_DATA_READ, &md, 9, 0, &mo),
                     -EINVAL);
    md.size = 4;
    memcpy(b, &md, 8);
    assert_int_equal(vfu_check_mig_data(VFU_CMD_MIG_DATA_WRITE, b, 12, 0, &mo),
                     0);
    assert_int_equal(vfu_check_mig_data(VFU_CMD_MIG_DATA_WRITE, b, 11, 0, &mo),
                     -EINVAL);
    assert_int_equal(vfu_check_mig_data(VFU_CMD_MIG_DATA_WRITE, b, 12, 1, &mo),
                     -EINVAL);

    assert_int_equal(vfu_check_device_reset(0, 0), 0);
    assert_int_equal(vfu_check_device_reset(1, 0), -EINVAL);
    assert_int_equal(vfu_check_device_reset(0, 1), -EINVAL);

    assert_int_equal(vfu_check_pv_add_client(&a, 8, 1), 0);
    assert_int_equal(vfu_check_pv_add_client(&a, 8, 0), -EINVAL);
    assert_int_equal(vfu_check_pv_add_client(&a, 8, 2), -EINVAL);
    assert_int_equal(vfu_check_pv_add_client(&a, 4, 1), -EINVAL);
    a.flags = 1;
    assert_int_equal(vfu_check_pv_add_client(&a, 8, 1), -EINVAL);
    a = (struct vfu_pv_add_client){0, 1};
    assert_int_equal(vfu_check_pv_add_client(&a, 8, 1), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hdr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_unmap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_info_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_region_info_chain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_irq_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_multi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dma_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misc, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
