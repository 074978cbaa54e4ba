/* SPDX-License-Identifier: MIT */
/*
 * test_vfu_pci.c - unit tests for the emulated configuration space
 * (src/vfu/pci.c): IDs and read-only fields, COMMAND's writable bits,
 * STATUS's write-1-to-clear and INTx bits, BAR sizing for 32-bit, 64-bit
 * and I/O BARs through full and narrow writes, the capability chain, MSI
 * enable through configuration writes of every width, MSI-X's structure,
 * reset, and accesses outside the space.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/pci_regs.h>

#include "vfu_pci.h"

static const struct vfu_pci_ids ids = {
    .vendor = 0x1234,
    .device = 0x11e8,
    .subsys_vendor = 0x1af4,
    .subsys_device = 0x1100,
    .revision = 0x10,
    .class_code = 0x00ff00,
    .irq_pin = 1,
};

static uint32_t rd(const struct vfu_pci *p, uint32_t off, uint32_t len)
{
    uint32_t v = 0;

    assert_int_equal(vfu_pci_read(p, off, &v, len), 0);
    return v;
}

static int wr(struct vfu_pci *p, uint32_t off, uint32_t v, uint32_t len)
{
    return vfu_pci_write(p, off, &v, len);
}

static int setup(void **state)
{
    struct vfu_pci *p = calloc(1, sizeof(*p));

    assert_non_null(p);
    vfu_pci_init(p, &ids);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void test_ids_readonly(void **state)
{
    struct vfu_pci *p = *state;
    uint8_t before[VFU_PCI_CFG_SIZE], after[VFU_PCI_CFG_SIZE];

    vfu_pci_finalize(p);
    assert_int_equal(rd(p, 0, 4), 0x11e81234);
    assert_int_equal(rd(p, PCI_CLASS_REVISION, 4), 0x00ff0010);
    assert_int_equal(rd(p, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
    assert_int_equal(rd(p, PCI_INTERRUPT_PIN, 1), 1);
    assert_int_equal(rd(p, PCI_HEADER_TYPE, 1), 0);
    /* a device without BARs decodes nothing: only the other bits stick */
    assert_int_equal(wr(p, PCI_COMMAND, 0xffff, 2), VFU_PCI_CHG_COMMAND);
    assert_int_equal(rd(p, PCI_COMMAND, 2),
                     VFU_PCI_CMD_MASTER | PCI_COMMAND_PARITY |
                         PCI_COMMAND_SERR | VFU_PCI_CMD_INTX_DISABLE);
    wr(p, PCI_COMMAND, 0, 2);
    /* writing ones everywhere changes only the writable bytes */
    assert_int_equal(vfu_pci_read(p, 0, before, sizeof(before)), 0);
    for (uint32_t off = 0; off < VFU_PCI_CFG_SIZE; off += 4) {
        wr(p, off, 0xffffffff, 4);
    }
    assert_int_equal(vfu_pci_read(p, 0, after, sizeof(after)), 0);
    for (uint32_t i = 0; i < VFU_PCI_CFG_SIZE; i++) {
        bool writable = i == PCI_COMMAND || i == PCI_COMMAND + 1 ||
                        i == PCI_CACHE_LINE_SIZE || i == PCI_LATENCY_TIMER ||
                        i == PCI_INTERRUPT_LINE;

        if (!writable && before[i] != after[i]) {
            fail_msg("byte 0x%x changed from 0x%x to 0x%x", i, before[i],
                     after[i]);
        }
    }
    assert_int_equal(rd(p, PCI_INTERRUPT_LINE, 1), 0xff);
    assert_int_equal(rd(p, PCI_INTERRUPT_PIN, 1), 1);
    assert_int_equal(rd(p, 0, 4), 0x11e81234);
    /* narrow writes: one byte of the line, the vendor untouched */
    wr(p, PCI_INTERRUPT_LINE, 0x0b, 1);
    assert_int_equal(rd(p, PCI_INTERRUPT_LINE, 1), 0x0b);
    wr(p, 1, 0x00, 1);
    assert_int_equal(rd(p, 0, 2), 0x1234);
    /* reset: back to the image */
    vfu_pci_reset(p);
    assert_int_equal(rd(p, PCI_COMMAND, 2), 0);
    assert_int_equal(rd(p, PCI_INTERRUPT_LINE, 1), 0);
}

static void test_status(void **state)
{
    struct vfu_pci *p = *state;

    /* no capability yet */
    assert_int_equal(rd(p, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
    /* the INTx status bit follows the line, read-only */
    vfu_pci_set_intx(p, true);
    assert_int_equal(rd(p, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
                     PCI_STATUS_INTERRUPT);
    assert_int_equal(rd(p, PCI_COMMAND, 4) >> 16 & PCI_STATUS_INTERRUPT,
                     PCI_STATUS_INTERRUPT);
    wr(p, PCI_STATUS, 0, 2);
    assert_int_equal(rd(p, PCI_STATUS, 1) & PCI_STATUS_INTERRUPT,
                     PCI_STATUS_INTERRUPT);
    vfu_pci_set_intx(p, false);
    assert_int_equal(rd(p, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    /* error bits: write 1 to clear (set here behind the model's back) */
    p->cfg[PCI_STATUS + 1] = 0xf9;
    wr(p, PCI_STATUS, 0x0100, 2); /* clears bit 8 only */
    assert_int_equal(rd(p, PCI_STATUS, 2), 0xf800);
    wr(p, PCI_STATUS, 0, 2); /* zeros clear nothing */
    assert_int_equal(rd(p, PCI_STATUS, 2), 0xf800);
    wr(p, PCI_STATUS + 1, 0xff, 1);
    assert_int_equal(rd(p, PCI_STATUS, 2), 0);
}

static void test_bar32(void **state)
{
    struct vfu_pci *p = *state;

    assert_int_equal(vfu_pci_set_bar(p, 0, VFU_BAR_MEM32, 1 << 20, false), 0);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_0, 4), 0);
    assert_int_equal(wr(p, PCI_BASE_ADDRESS_0, 0xffffffff, 4), VFU_PCI_CHG_BAR);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_0, 4), 0xfff00000);
    /* the size from the mask, as a driver computes it */
    assert_int_equal(~(rd(p, PCI_BASE_ADDRESS_0, 4) & ~0xfu) + 1, 1 << 20);
    wr(p, PCI_BASE_ADDRESS_0, 0xfeb12345, 4);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_0, 4), 0xfeb00000);
    assert_int_equal(vfu_pci_bar_addr(p, 0), 0xfeb00000);
    /* narrow: the top byte alone */
    wr(p, PCI_BASE_ADDRESS_0 + 3, 0xc0, 1);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_0, 4), 0xc0b00000);
    /* a 16-bit write of the low half cannot touch the flags */
    wr(p, PCI_BASE_ADDRESS_0, 0xffff, 2);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_0, 4), 0xc0b00000);
    /* memory decode becomes writable */
    wr(p, PCI_COMMAND, VFU_PCI_CMD_MEMORY | VFU_PCI_CMD_IO, 2);
    assert_int_equal(rd(p, PCI_COMMAND, 2), VFU_PCI_CMD_MEMORY);
    /* prefetchable 32-bit */
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_MEM32, 4096, true), 0);
    vfu_pci_finalize(p); /* the set-up is done: the power-on image */
    wr(p, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_1, 4), 0xfffff008);
    /* absent BARs read 0 and stay 0 */
    wr(p, PCI_BASE_ADDRESS_4, 0xffffffff, 4);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_4, 4), 0);
    /* no ROM */
    wr(p, PCI_ROM_ADDRESS, 0xffffffff, 4);
    assert_int_equal(rd(p, PCI_ROM_ADDRESS, 4), 0);
    /* reset: the addresses go, the flags stay, decode is off */
    wr(p, PCI_BASE_ADDRESS_1, 0x12345000, 4);
    vfu_pci_reset(p);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_1, 4), 0x8);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_0, 4), 0);
    assert_int_equal(rd(p, PCI_COMMAND, 2), 0);
}

static void test_bar64_io(void **state)
{
    struct vfu_pci *p = *state;

    assert_int_equal(vfu_pci_set_bar(p, 2, VFU_BAR_MEM64, 16384, true), 0);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_2, 4), 0xc);
    wr(p, PCI_BASE_ADDRESS_2, 0xffffffff, 4);
    wr(p, PCI_BASE_ADDRESS_3, 0xffffffff, 4);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_2, 4), 0xffffc00c);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
    wr(p, PCI_BASE_ADDRESS_2, 0x00004000, 4);
    wr(p, PCI_BASE_ADDRESS_3, 0x00000012, 4);
    assert_int_equal(vfu_pci_bar_addr(p, 2), 0x1200004000ull);
    /* the upper half is taken */
    assert_int_equal(vfu_pci_set_bar(p, 3, VFU_BAR_MEM32, 4096, false), -EBUSY);
    /* a 8 GiB BAR: the low dword's address bits and one more are fixed */
    assert_int_equal(vfu_pci_set_bar(p, 4, VFU_BAR_MEM64, 8ull << 30, false),
                     0);
    wr(p, PCI_BASE_ADDRESS_4, 0xffffffff, 4);
    wr(p, PCI_BASE_ADDRESS_5, 0xffffffff, 4);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_4, 4), 0x4);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_5, 4), 0xfffffffe);
    /* I/O */
    assert_int_equal(vfu_pci_set_bar(p, 0, VFU_BAR_IO, 8, false), 0);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_0, 4), 1);
    wr(p, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
    assert_int_equal(rd(p, PCI_BASE_ADDRESS_0, 4), 0xfffffff9);
    assert_int_equal(~(rd(p, PCI_BASE_ADDRESS_0, 4) & ~3u) + 1, 8);
    wr(p, PCI_BASE_ADDRESS_0, 0xc010, 2);
    assert_int_equal(vfu_pci_bar_addr(p, 0), 0xffffc010);
    wr(p, PCI_COMMAND, VFU_PCI_CMD_IO | VFU_PCI_CMD_MEMORY, 2);
    assert_int_equal(rd(p, PCI_COMMAND, 2),
                     VFU_PCI_CMD_IO | VFU_PCI_CMD_MEMORY);
    /* bad declarations */
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_MEM32, 3000, false),
                     -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_MEM32, 8, false), -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_MEM32, 1ull << 32, false),
                     -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_IO, 512, false), -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_IO, 2, false), -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_IO, 8, true), -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 5, VFU_BAR_MEM64, 4096, false), -EBUSY);
    assert_int_equal(vfu_pci_set_bar(p, 6, VFU_BAR_MEM32, 4096, false),
                     -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 0, VFU_BAR_MEM32, 4096, false), -EBUSY);
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_NONE, 4096, false), -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_MEM64, 4096, false),
                     -EBUSY); /* BAR2 is taken */
}

static void test_msi(void **state)
{
    struct vfu_pci *p = *state;
    int off = vfu_pci_add_msi(p, 1, true, false);

    assert_int_equal(off, 0x40);
    assert_int_equal(rd(p, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
                     PCI_STATUS_CAP_LIST);
    assert_int_equal(rd(p, PCI_CAPABILITY_LIST, 1), 0x40);
    assert_int_equal(rd(p, 0x40, 1), PCI_CAP_ID_MSI);
    assert_int_equal(rd(p, 0x41, 1), 0); /* the end */
    assert_int_equal(rd(p, 0x42, 2), PCI_MSI_FLAGS_64BIT);
    assert_false(vfu_pci_msi_enabled(p));
    /* the driver programs address and data, then enables with a byte */
    wr(p, 0x44, 0xfee00003, 4); /* bits 1:0 read 0 */
    wr(p, 0x48, 0x1, 4);
    wr(p, 0x4c, 0xbeef4041, 4); /* only 16 bits of data */
    assert_int_equal(rd(p, 0x44, 4), 0xfee00000);
    assert_int_equal(rd(p, 0x48, 4), 1);
    assert_int_equal(rd(p, 0x4c, 4), 0x4041);
    assert_int_equal(wr(p, 0x42, PCI_MSI_FLAGS_ENABLE, 1), VFU_PCI_CHG_MSI);
    assert_true(vfu_pci_msi_enabled(p));
    /* a 16-bit write: Multiple Message Enable stays 0 with 1 vector,
     * 64-bit stays */
    wr(p, 0x42, 0x0071, 2);
    assert_int_equal(rd(p, 0x42, 2),
                     PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_ENABLE);
    /* a dword write at the capability's start: id and next stay */
    assert_int_equal(wr(p, 0x40, 0x0000ffff, 4), VFU_PCI_CHG_MSI);
    assert_int_equal(rd(p, 0x40, 4), PCI_MSI_FLAGS_64BIT << 16 | 0x0005);
    assert_false(vfu_pci_msi_enabled(p));
    /* the server's mirror */
    vfu_pci_set_msi_enabled(p, true);
    assert_int_equal(rd(p, 0x42, 2) & PCI_MSI_FLAGS_ENABLE,
                     PCI_MSI_FLAGS_ENABLE);
    vfu_pci_set_msi_enabled(p, false);
    assert_false(vfu_pci_msi_enabled(p));
    /* one MSI only; a second capability links after it */
    assert_int_equal(vfu_pci_add_msi(p, 1, true, false), -EINVAL);
}

static void test_msi_multi(void **state)
{
    struct vfu_pci *p = *state;
    int off = vfu_pci_add_msi(p, 4, false, true);

    assert_int_equal(off, 0x40);
    assert_int_equal(rd(p, 0x42, 2) & PCI_MSI_FLAGS_QMASK, 2 << 1);
    assert_int_equal(rd(p, 0x42, 2) & PCI_MSI_FLAGS_MASKBIT,
                     PCI_MSI_FLAGS_MASKBIT);
    /* MME can be written up to MMC */
    wr(p, 0x42, 2 << 4, 2);
    assert_int_equal((rd(p, 0x42, 2) & PCI_MSI_FLAGS_QSIZE) >> 4, 2);
    wr(p, 0x42, 5 << 4, 2);
    assert_int_equal((rd(p, 0x42, 2) & PCI_MSI_FLAGS_QSIZE) >> 4, 2);
    /* per-vector mask: 4 bits */
    wr(p, off + PCI_MSI_MASK_32, 0xffffffff, 4);
    assert_int_equal(rd(p, off + PCI_MSI_MASK_32, 4), 0xf);
    /* pending: read-only */
    wr(p, off + PCI_MSI_PENDING_32, 0xffffffff, 4);
    assert_int_equal(rd(p, off + PCI_MSI_PENDING_32, 4), 0);
    assert_int_equal(vfu_pci_add_msi(p, 3, false, false), -EINVAL);
}

static void test_msix(void **state)
{
    struct vfu_pci *p = *state;
    int moff, xoff;

    assert_int_equal(vfu_pci_add_msix(p, 8, 0, 0, 0, 0x800), -EINVAL);
    assert_int_equal(vfu_pci_set_bar(p, 0, VFU_BAR_MEM32, 4096, false), 0);
    assert_int_equal(vfu_pci_set_bar(p, 1, VFU_BAR_IO, 8, false), 0);
    moff = vfu_pci_add_msi(p, 1, true, false);
    assert_int_equal(moff, 0x40);
    /* bad layouts: unaligned, outside, overlapping, an I/O BAR, sizes */
    assert_int_equal(vfu_pci_add_msix(p, 8, 0, 4, 0, 0x800), -EINVAL);
    assert_int_equal(vfu_pci_add_msix(p, 8, 0, 0xf90, 0, 0x800), -EINVAL);
    assert_int_equal(vfu_pci_add_msix(p, 8, 0, 0, 0, 0x40), -EINVAL);
    assert_int_equal(vfu_pci_add_msix(p, 8, 1, 0, 0, 0x800), -EINVAL);
    assert_int_equal(vfu_pci_add_msix(p, 0, 0, 0, 0, 0x800), -EINVAL);
    assert_int_equal(vfu_pci_add_msix(p, 2049, 0, 0, 0, 0x800), -EINVAL);
    xoff = vfu_pci_add_msix(p, 8, 0, 0, 0, 0x800);
    assert_int_equal(xoff, 0x50); /* after MSI's 14 bytes, dword-aligned */
    assert_int_equal(rd(p, moff + 1, 1), xoff); /* linked */
    assert_int_equal(rd(p, xoff, 1), PCI_CAP_ID_MSIX);
    assert_int_equal(rd(p, xoff + 2, 2), 7);
    assert_int_equal(rd(p, xoff + 4, 4), 0);
    assert_int_equal(rd(p, xoff + 8, 4), 0x800);
    wr(p, xoff + 4, 0xffffffff, 4);
    assert_int_equal(rd(p, xoff + 4, 4), 0);
    assert_int_equal(wr(p, xoff + 3, 0xff, 1), VFU_PCI_CHG_MSIX);
    assert_int_equal(rd(p, xoff + 2, 2),
                     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 7);
    assert_true(vfu_pci_msix_enabled(p));
    vfu_pci_set_msix_enabled(p, false);
    assert_false(vfu_pci_msix_enabled(p));
}

static void test_bounds(void **state)
{
    struct vfu_pci *p = *state;
    uint8_t b[8];

    assert_int_equal(vfu_pci_read(p, 252, b, 4), 0);
    assert_int_equal(vfu_pci_read(p, 253, b, 4), -EINVAL);
    assert_int_equal(vfu_pci_read(p, 256, b, 0), 0);
    assert_int_equal(vfu_pci_read(p, 257, b, 0), -EINVAL);
    assert_int_equal(vfu_pci_read(p, UINT32_MAX, b, 2), -EINVAL);
    assert_int_equal(vfu_pci_write(p, 255, b, 2), -EINVAL);
    assert_int_equal(vfu_pci_write(p, 0, b, 257), -EINVAL);
    /* the capability space runs out */
    {
        struct vfu_pci q;

        vfu_pci_init(&q, &ids);
        q.next_free = 250;
        assert_int_equal(vfu_pci_add_msi(&q, 1, true, false), -ENOSPC);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ids_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar64_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msi_multi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
