/* SPDX-License-Identifier: MIT */
/*
 * vfu_pci.h - a conventional PCI function's configuration space: the
 * 256-byte type-0 header and a standard capability list, with per-bit
 * write masks so read-only fields stay read-only and writes of any width
 * and alignment inside the space work byte by byte.
 *
 * What it models: IDs, class, revision, subsystem; COMMAND (I/O and memory
 * decode, bus master, parity, SERR, INTx disable; a decode bit is writable
 * only if a BAR of that kind exists) and STATUS (capability list, the INTx
 * status bit from the device's line, write-1-to-clear error bits); BARs
 * 0-5 of 32-bit memory, 64-bit memory (two slots) and I/O kind with the
 * sizing protocol (the address bits below the size are read-only zero, so
 * writing all-ones and reading back gives the size mask); interrupt line
 * (RW) and pin (RO); no expansion ROM.  Capabilities: MSI (1-32 vectors,
 * 32- or 64-bit address, optional per-vector mask) and MSI-X (the
 * capability structure: table and PBA location and size, enable and
 * function mask; the table and PBA themselves live in a BAR and are the
 * client's to emulate, as with vfio-pci).
 *
 * Pure data: no I/O.  The server mirrors its interrupt state here (MSI
 * enable follows SET_IRQS, see docs/vfio-user.md).
 */
#ifndef PROCVISOR_VFU_PCI_H
#define PROCVISOR_VFU_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define VFU_PCI_CFG_SIZE 256u
#define VFU_PCI_NUM_BARS 6u

enum vfu_bar_type {
    VFU_BAR_NONE = 0,
    VFU_BAR_MEM32 = 1,
    VFU_BAR_MEM64 = 2, /* takes this BAR and the next */
    VFU_BAR_IO = 3,
    VFU_BAR_MEM64_HI = 4, /* the upper half of the BAR before */
};

struct vfu_pci_ids {
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_device;
    uint8_t revision;
    uint32_t class_code; /* base << 16 | sub << 8 | prog-if */
    uint8_t irq_pin;     /* 0: none, 1: INTA# */
};

struct vfu_pci {
    uint8_t cfg[VFU_PCI_CFG_SIZE];
    uint8_t wmask[VFU_PCI_CFG_SIZE];   /* writable bits */
    uint8_t w1cmask[VFU_PCI_CFG_SIZE]; /* write-1-to-clear bits */
    uint8_t reset[VFU_PCI_CFG_SIZE];   /* the power-on image */
    uint64_t bar_size[VFU_PCI_NUM_BARS];
    uint8_t bar_type[VFU_PCI_NUM_BARS]; /* enum vfu_bar_type */
    uint8_t msi_off, msix_off;          /* capability offsets, 0 if absent */
    uint8_t last_cap;                   /* the chain's tail, 0 if none */
    uint8_t next_free;                  /* where the next capability goes */
    bool intx;                          /* the device's INTx line */
};

/* COMMAND bits (<linux/pci_regs.h> has the same) */
#define VFU_PCI_CMD_IO           0x0001u
#define VFU_PCI_CMD_MEMORY       0x0002u
#define VFU_PCI_CMD_MASTER       0x0004u
#define VFU_PCI_CMD_INTX_DISABLE 0x0400u

/* what a configuration write changed (vfu_pci_write's result) */
#define VFU_PCI_CHG_COMMAND 0x1u
#define VFU_PCI_CHG_MSI     0x2u
#define VFU_PCI_CHG_MSIX    0x4u
#define VFU_PCI_CHG_BAR     0x8u

/* A header with these IDs, no BAR, no capability. */
void vfu_pci_init(struct vfu_pci *p, const struct vfu_pci_ids *ids);

/*
 * Declare BAR bar (0-5): memory sizes are powers of two from 16 bytes (a
 * 32-bit BAR up to 2 GiB), I/O sizes powers of two from 4 to 256 bytes; a
 * 64-bit BAR needs bar <= 4 and takes bar + 1 too.  -EINVAL on a bad
 * argument, -EBUSY if a slot is taken.
 */
int vfu_pci_set_bar(struct vfu_pci *p, unsigned int bar, enum vfu_bar_type t,
                    uint64_t size, bool prefetch);

/* An MSI capability: vectors a power of two 1..32.  Returns its offset or
 * -EINVAL / -ENOSPC. */
int vfu_pci_add_msi(struct vfu_pci *p, unsigned int vectors, bool addr64,
                    bool per_vector_mask);

/* An MSI-X capability of entries (1..2048) vectors whose table and PBA
 * are at 8-aligned offsets of memory BARs, inside them.  Returns its
 * offset or -EINVAL / -ENOSPC. */
int vfu_pci_add_msix(struct vfu_pci *p, unsigned int entries,
                     unsigned int table_bar, uint32_t table_off,
                     unsigned int pba_bar, uint32_t pba_off);

/* Take the current space as the power-on image (after the set-up calls). */
void vfu_pci_finalize(struct vfu_pci *p);

/* Back to the power-on image: decode and bus master off, BAR addresses
 * 0, MSI and MSI-X disabled.  The INTx line is the device's and stays. */
void vfu_pci_reset(struct vfu_pci *p);

/* Read len bytes at off: -EINVAL outside the space, else 0. */
int vfu_pci_read(const struct vfu_pci *p, uint32_t off, void *buf,
                 uint32_t len);

/* Write len bytes at off through the masks: -EINVAL outside the space,
 * else the VFU_PCI_CHG_* bits of what changed. */
int vfu_pci_write(struct vfu_pci *p, uint32_t off, const void *buf,
                  uint32_t len);

uint16_t vfu_pci_command(const struct vfu_pci *p);

/* The BAR's programmed base address (64-bit BARs combined), flags masked. */
uint64_t vfu_pci_bar_addr(const struct vfu_pci *p, unsigned int bar);

/* The MSI Enable bit; the server sets it to follow SET_IRQS. */
bool vfu_pci_msi_enabled(const struct vfu_pci *p);
void vfu_pci_set_msi_enabled(struct vfu_pci *p, bool on);

/* MSI-X Enable and Function Mask. */
bool vfu_pci_msix_enabled(const struct vfu_pci *p);
void vfu_pci_set_msix_enabled(struct vfu_pci *p, bool on);

/* The device's INTx line, shown in STATUS bit 3. */
void vfu_pci_set_intx(struct vfu_pci *p, bool asserted);

#endif
