/* SPDX-License-Identifier: MIT */
/*
 * pci.c - configuration space of an emulated conventional PCI function
 * (vfu_pci.h): the header, BARs with their sizing protocol, MSI and MSI-X
 * capabilities, all through per-bit write and write-1-to-clear masks.
 */
#include <errno.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "vfu_pci.h"

#define STATUS_W1C 0xf900u /* parity, SERR, aborts, master parity error */

static void put8(uint8_t *a, uint32_t off, uint8_t v)
{
    a[off] = v;
}

static void put16(uint8_t *a, uint32_t off, uint16_t v)
{
    a[off] = (uint8_t)v;
    a[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *a, uint32_t off, uint32_t v)
{
    put16(a, off, (uint16_t)v);
    put16(a, off + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *a, uint32_t off)
{
    return (uint16_t)(a[off] | a[off + 1] << 8);
}

static uint32_t get32(const uint8_t *a, uint32_t off)
{
    return get16(a, off) | (uint32_t)get16(a, off + 2) << 16;
}

/* COMMAND's writable bits follow the BARs and the pin */
static void command_wmask(struct vfu_pci *p)
{
    uint16_t w = VFU_PCI_CMD_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR;

    for (unsigned int i = 0; i < VFU_PCI_NUM_BARS; i++) {
        if (p->bar_type[i] == VFU_BAR_IO) {
            w |= VFU_PCI_CMD_IO;
        } else if (p->bar_type[i] != VFU_BAR_NONE) {
            w |= VFU_PCI_CMD_MEMORY;
        }
    }
    if (p->cfg[PCI_INTERRUPT_PIN]) {
        w |= VFU_PCI_CMD_INTX_DISABLE;
    }
    put16(p->wmask, PCI_COMMAND, w);
}

void vfu_pci_init(struct vfu_pci *p, const struct vfu_pci_ids *ids)
{
    memset(p, 0, sizeof(*p));
    put16(p->cfg, PCI_VENDOR_ID, ids->vendor);
    put16(p->cfg, PCI_DEVICE_ID, ids->device);
    put8(p->cfg, PCI_REVISION_ID, ids->revision);
    put8(p->cfg, PCI_CLASS_PROG, (uint8_t)ids->class_code);
    put16(p->cfg, PCI_CLASS_DEVICE, (uint16_t)(ids->class_code >> 8));
    put8(p->cfg, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
    put16(p->cfg, PCI_SUBSYSTEM_VENDOR_ID, ids->subsys_vendor);
    put16(p->cfg, PCI_SUBSYSTEM_ID, ids->subsys_device);
    put8(p->cfg, PCI_INTERRUPT_PIN, ids->irq_pin);
    put16(p->w1cmask, PCI_STATUS, STATUS_W1C);
    put8(p->wmask, PCI_CACHE_LINE_SIZE, 0xff);
    put8(p->wmask, PCI_LATENCY_TIMER, 0xff);
    put8(p->wmask, PCI_INTERRUPT_LINE, 0xff);
    command_wmask(p);
    p->next_free = 0x40;
    memcpy(p->reset, p->cfg, sizeof(p->cfg));
}

static bool pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

int vfu_pci_set_bar(struct vfu_pci *p, unsigned int bar, enum vfu_bar_type t,
                    uint64_t size, bool prefetch)
{
    uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint32_t flags, mask;

    if (bar >= VFU_PCI_NUM_BARS || !pow2(size)) {
        return -EINVAL;
    }
    if (p->bar_type[bar] != VFU_BAR_NONE) {
        return -EBUSY;
    }
    switch (t) {
    case VFU_BAR_IO:
        if (size < 4 || size > 256 || prefetch) {
            return -EINVAL;
        }
        flags = PCI_BASE_ADDRESS_SPACE_IO;
        mask = ~(uint32_t)(size - 1) & ~3u;
        break;
    case VFU_BAR_MEM32:
        if (size < 16 || size > (1ull << 31)) {
            return -EINVAL;
        }
        flags = PCI_BASE_ADDRESS_MEM_TYPE_32;
        mask = ~(uint32_t)(size - 1) & ~0xfu;
        break;
    case VFU_BAR_MEM64:
        if (size < 16 || bar + 1 >= VFU_PCI_NUM_BARS) {
            return -EINVAL;
        }
        if (p->bar_type[bar + 1] != VFU_BAR_NONE) {
            return -EBUSY;
        }
        flags = PCI_BASE_ADDRESS_MEM_TYPE_64;
        mask = size >= (1ull << 32) ? 0 : ~(uint32_t)(size - 1) & ~0xfu;
        /* the upper half: the address bits above the size */
        put32(p->wmask, off + 4,
              size > (1ull << 32) ? ~(uint32_t)((size - 1) >> 32)
                                  : 0xffffffffu);
        p->bar_type[bar + 1] = VFU_BAR_MEM64_HI;
        break;
    default:
        return -EINVAL;
    }
    if (prefetch) {
        flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
    }
    p->bar_type[bar] = (uint8_t)t;
    p->bar_size[bar] = size;
    put32(p->cfg, off, flags);
    put32(p->wmask, off, mask);
    command_wmask(p);
    return 0;
}

/* Room for a capability of len bytes (dword-aligned), linked at the
 * chain's end. */
static int cap_alloc(struct vfu_pci *p, uint8_t id, unsigned int len)
{
    unsigned int off = p->next_free;

    if (off + len > VFU_PCI_CFG_SIZE) {
        return -ENOSPC;
    }
    put8(p->cfg, off, id);
    put8(p->cfg, off + 1, 0);
    if (p->last_cap) {
        put8(p->cfg, p->last_cap + 1, (uint8_t)off);
    } else {
        put8(p->cfg, PCI_CAPABILITY_LIST, (uint8_t)off);
        put16(p->cfg, PCI_STATUS,
              get16(p->cfg, PCI_STATUS) | PCI_STATUS_CAP_LIST);
    }
    p->last_cap = (uint8_t)off;
    p->next_free = (uint8_t)((off + len + 3) & ~3u);
    if (p->next_free < off) {
        p->next_free = 0xff; /* full */
    }
    return (int)off;
}

int vfu_pci_add_msi(struct vfu_pci *p, unsigned int vectors, bool addr64,
                    bool per_vector_mask)
{
    unsigned int mmc = 0, len = addr64 ? 14 : 10;
    uint16_t ctl = 0, ctlw = PCI_MSI_FLAGS_ENABLE;
    int off;

    if (!pow2(vectors) || vectors > 32 || p->msi_off) {
        return -EINVAL;
    }
    while ((1u << mmc) < vectors) {
        mmc++;
    }
    if (per_vector_mask) {
        len = addr64 ? 24 : 20;
    }
    off = cap_alloc(p, PCI_CAP_ID_MSI, len);
    if (off < 0) {
        return off;
    }
    ctl = (uint16_t)(mmc << 1);
    if (addr64) {
        ctl |= PCI_MSI_FLAGS_64BIT;
    }
    if (per_vector_mask) {
        ctl |= PCI_MSI_FLAGS_MASKBIT;
    }
    if (mmc) {
        ctlw |= PCI_MSI_FLAGS_QSIZE;
    }
    put16(p->cfg, (uint32_t)off + PCI_MSI_FLAGS, ctl);
    put16(p->wmask, (uint32_t)off + PCI_MSI_FLAGS, ctlw);
    put32(p->wmask, (uint32_t)off + PCI_MSI_ADDRESS_LO, 0xfffffffcu);
    if (addr64) {
        put32(p->wmask, (uint32_t)off + PCI_MSI_ADDRESS_HI, 0xffffffffu);
        put16(p->wmask, (uint32_t)off + PCI_MSI_DATA_64, 0xffff);
        if (per_vector_mask) {
            put32(p->wmask, (uint32_t)off + PCI_MSI_MASK_64,
                  vectors == 32 ? 0xffffffffu : (1u << vectors) - 1);
        }
    } else {
        put16(p->wmask, (uint32_t)off + PCI_MSI_DATA_32, 0xffff);
        if (per_vector_mask) {
            put32(p->wmask, (uint32_t)off + PCI_MSI_MASK_32,
                  vectors == 32 ? 0xffffffffu : (1u << vectors) - 1);
        }
    }
    p->msi_off = (uint8_t)off;
    return off;
}

static bool is_mem_bar(const struct vfu_pci *p, unsigned int bar)
{
    return bar < VFU_PCI_NUM_BARS && (p->bar_type[bar] == VFU_BAR_MEM32 ||
                                      p->bar_type[bar] == VFU_BAR_MEM64);
}

int vfu_pci_add_msix(struct vfu_pci *p, unsigned int entries,
                     unsigned int table_bar, uint32_t table_off,
                     unsigned int pba_bar, uint32_t pba_off)
{
    uint64_t tlen = (uint64_t)entries * PCI_MSIX_ENTRY_SIZE;
    uint64_t plen = ((entries + 63u) / 64u) * 8u;
    int off;

    if (entries == 0 || entries > 2048 || p->msix_off ||
        !is_mem_bar(p, table_bar) || !is_mem_bar(p, pba_bar) ||
        (table_off & 7) || (pba_off & 7) ||
        table_off + tlen > p->bar_size[table_bar] ||
        pba_off + plen > p->bar_size[pba_bar]) {
        return -EINVAL;
    }
    if (table_bar == pba_bar && table_off < pba_off + plen &&
        pba_off < table_off + tlen) {
        return -EINVAL;
    }
    off = cap_alloc(p, PCI_CAP_ID_MSIX, 12);
    if (off < 0) {
        return off;
    }
    put16(p->cfg, (uint32_t)off + PCI_MSIX_FLAGS, (uint16_t)(entries - 1));
    put16(p->wmask, (uint32_t)off + PCI_MSIX_FLAGS,
          PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    put32(p->cfg, (uint32_t)off + PCI_MSIX_TABLE, table_off | table_bar);
    put32(p->cfg, (uint32_t)off + PCI_MSIX_PBA, pba_off | pba_bar);
    p->msix_off = (uint8_t)off;
    return off;
}

void vfu_pci_finalize(struct vfu_pci *p)
{
    memcpy(p->reset, p->cfg, sizeof(p->cfg));
}

void vfu_pci_reset(struct vfu_pci *p)
{
    /* every writable bit of a conventional function resets to 0 */
    for (unsigned int i = 0; i < VFU_PCI_CFG_SIZE; i++) {
        p->cfg[i] = p->reset[i] & ~p->wmask[i];
    }
}

int vfu_pci_read(const struct vfu_pci *p, uint32_t off, void *buf, uint32_t len)
{
    uint8_t *o = buf;

    if (off > VFU_PCI_CFG_SIZE || len > VFU_PCI_CFG_SIZE - off) {
        return -EINVAL;
    }
    memcpy(o, p->cfg + off, len);
    /* STATUS bit 3, Interrupt Status: the line, whatever INTx disable */
    if (off <= PCI_STATUS && off + len > PCI_STATUS) {
        o[PCI_STATUS - off] =
            (uint8_t)((o[PCI_STATUS - off] & ~0x08u) | (p->intx ? 0x08u : 0));
    }
    return 0;
}

static uint16_t msi_ctl(const struct vfu_pci *p)
{
    return get16(p->cfg, p->msi_off + PCI_MSI_FLAGS);
}

static uint16_t msix_ctl(const struct vfu_pci *p)
{
    return get16(p->cfg, p->msix_off + PCI_MSIX_FLAGS);
}

static bool touches(uint32_t off, uint32_t len, uint32_t start, uint32_t n)
{
    return off < start + n && start < off + len;
}

int vfu_pci_write(struct vfu_pci *p, uint32_t off, const void *buf,
                  uint32_t len)
{
    const uint8_t *in = buf;
    uint16_t cmd = vfu_pci_command(p);
    uint16_t msi = p->msi_off ? msi_ctl(p) : 0;
    uint16_t msix = p->msix_off ? msix_ctl(p) : 0;
    int chg = 0;

    if (off > VFU_PCI_CFG_SIZE || len > VFU_PCI_CFG_SIZE - off) {
        return -EINVAL;
    }
    for (uint32_t i = 0; i < len; i++) {
        uint32_t a = off + i;
        uint8_t v =
            (uint8_t)((p->cfg[a] & ~p->wmask[a]) | (in[i] & p->wmask[a]));

        p->cfg[a] = (uint8_t)(v & ~(in[i] & p->w1cmask[a]));
    }
    if (p->msi_off) {
        uint16_t c = msi_ctl(p);
        unsigned int mmc = (c & PCI_MSI_FLAGS_QMASK) >> 1;
        unsigned int mme = (c & PCI_MSI_FLAGS_QSIZE) >> 4;

        /* Multiple Message Enable cannot exceed what is capable */
        if (mme > mmc) {
            c = (uint16_t)((c & ~PCI_MSI_FLAGS_QSIZE) | mmc << 4);
            put16(p->cfg, p->msi_off + PCI_MSI_FLAGS, c);
        }
        if (c != msi) {
            chg |= VFU_PCI_CHG_MSI;
        }
    }
    if (p->msix_off && msix_ctl(p) != msix) {
        chg |= VFU_PCI_CHG_MSIX;
    }
    if (vfu_pci_command(p) != cmd) {
        chg |= VFU_PCI_CHG_COMMAND;
    }
    if (touches(off, len, PCI_BASE_ADDRESS_0, 24)) {
        chg |= VFU_PCI_CHG_BAR;
    }
    return chg;
}

uint16_t vfu_pci_command(const struct vfu_pci *p)
{
    return get16(p->cfg, PCI_COMMAND);
}

uint64_t vfu_pci_bar_addr(const struct vfu_pci *p, unsigned int bar)
{
    uint32_t off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint64_t lo;

    if (bar >= VFU_PCI_NUM_BARS) {
        return 0;
    }
    lo = get32(p->cfg, off);
    switch (p->bar_type[bar]) {
    case VFU_BAR_IO:
        return lo & ~3ull;
    case VFU_BAR_MEM32:
        return lo & ~0xfull;
    case VFU_BAR_MEM64:
        return (lo & ~0xfull) | (uint64_t)get32(p->cfg, off + 4) << 32;
    default:
        return 0;
    }
}

bool vfu_pci_msi_enabled(const struct vfu_pci *p)
{
    return p->msi_off && (msi_ctl(p) & PCI_MSI_FLAGS_ENABLE);
}

void vfu_pci_set_msi_enabled(struct vfu_pci *p, bool on)
{
    uint16_t c;

    if (!p->msi_off) {
        return;
    }
    c = msi_ctl(p);
    c = on ? (uint16_t)(c | PCI_MSI_FLAGS_ENABLE)
           : (uint16_t)(c & ~PCI_MSI_FLAGS_ENABLE);
    put16(p->cfg, p->msi_off + PCI_MSI_FLAGS, c);
}

bool vfu_pci_msix_enabled(const struct vfu_pci *p)
{
    return p->msix_off && (msix_ctl(p) & PCI_MSIX_FLAGS_ENABLE);
}

void vfu_pci_set_msix_enabled(struct vfu_pci *p, bool on)
{
    uint16_t c;

    if (!p->msix_off) {
        return;
    }
    c = msix_ctl(p);
    c = on ? (uint16_t)(c | PCI_MSIX_FLAGS_ENABLE)
           : (uint16_t)(c & ~PCI_MSIX_FLAGS_ENABLE);
    put16(p->cfg, p->msix_off + PCI_MSIX_FLAGS, c);
}

void vfu_pci_set_intx(struct vfu_pci *p, bool asserted)
{
    p->intx = asserted;
}
