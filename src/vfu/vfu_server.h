/* SPDX-License-Identifier: MIT */
/*
 * vfu_server.h - a vfio-user device-model library (server side): one PCI
 * function served to one client at a time over an AF_UNIX stream socket,
 * plus the restricted clients that client adds (VFU_CMD_PV_ADD_CLIENT) and
 * the twin socket for server-to-client commands.  Single-threaded: one
 * poll loop; device callbacks run on it and may call the services below.
 *
 * A device (edu.c, mtty.c) creates a struct vfu_dev, fills its PCI
 * configuration (vfu_dev_pci), declares its regions and interrupt counts,
 * and hands it to vfu_dev_serve_fd() or vfu_dev_serve_socket().  The
 * library answers every command (docs/vfio-user.md): configuration space
 * (region 7) through vfu_pci.h, BARs through the device's access callback,
 * DMA maps, interrupts with VFIO's SET_IRQS rules (INTx level with
 * auto-mask, MSI, MSI-X), reset.
 *
 * Errors are negative errno values throughout.
 */
#ifndef PROCVISOR_VFU_SERVER_H
#define PROCVISOR_VFU_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu_pci.h"
#include "vfu_wire.h"

#define VFU_NUM_REGIONS                                                        \
    VFIO_PCI_NUM_REGIONS /* BAR0-5, ROM 6, CONFIG 7,                           \
                            VGA 8 */
#define VFU_NUM_IRQS                                                           \
    VFIO_PCI_NUM_IRQS /* INTX 0, MSI 1, MSIX 2, ERR 3,                         \
                         REQ 4 */
#define VFU_REGION_MAX_AREAS 4u

/* What this server accepts and announces. */
#define VFU_SERVER_MAX_DMA_MAPS 16384u /* mmaps stay under max_map_count */
#define VFU_SERVER_MAX_CLIENTS  64u    /* restricted clients at once */
#define VFU_SERVER_DMA_TIMEOUT  10000  /* ms a DMA message waits */
#define VFU_SERVER_SEND_TIMEOUT 5000   /* ms a reply may block */
#define VFU_SERVER_MAX_DEFERRED 64u    /* commands queued during a DMA */

struct vfu_dev;

/*
 * A trapped access to BAR/ROM region `region`: offset + count lie inside
 * it, count >= 1.  Reads fill buf.  Returns 0, or a negative errno the
 * client gets in the error reply.
 */
typedef int vfu_access_fn(void *opaque, unsigned int region, uint64_t offset,
                          void *buf, uint32_t count, bool is_write);

struct vfu_dev_ops {
    vfu_access_fn *access;
    /* DEVICE_RESET: back to the power-on state (the configuration space
     * and the interrupt set-up stay, as vfio-pci's reset restores them) */
    void (*reset)(void *opaque);
    /* deferred work asked for with vfu_dev_kick(), run once the message
     * being handled has been answered (may be NULL) */
    void (*work)(void *opaque);
};

struct vfu_region {
    uint64_t size;  /* BARs: the BAR's size (from vfu_pci_set_bar) */
    uint32_t flags; /* VFIO_REGION_INFO_FLAG_READ | _WRITE */
    /* A descriptor the client may mmap (the region at offset 0 of it), or
     * -1.  With areas, only those are mmap-able (sparse mmap). */
    int fd;
    uint32_t nr_areas;
    struct vfu_sparse_area areas[VFU_REGION_MAX_AREAS];
};

/* A device named name (for logs) with these callbacks. */
int vfu_dev_new(struct vfu_dev **out, const char *name,
                const struct vfu_dev_ops *ops, void *opaque);

/* Ends any session and frees the library's state (region fds and the
 * opaque state stay the device's). */
void vfu_dev_free(struct vfu_dev *d);

/* The opaque pointer given to vfu_dev_new. */
void *vfu_dev_opaque(const struct vfu_dev *d);

/* The configuration space to set up before serving. */
struct vfu_pci *vfu_dev_pci(struct vfu_dev *d);

/* Region idx 0-6 (BARs, ROM); a BAR's size must be its PCI BAR's.  The
 * struct is copied. */
int vfu_dev_set_region(struct vfu_dev *d, unsigned int idx,
                       const struct vfu_region *r);

/* How many interrupts index (VFIO_PCI_*_IRQ_INDEX) has: INTx 0 or 1 (needs
 * an interrupt pin), MSI the MSI capability's vectors, MSI-X its table
 * size, ERR/REQ 0 or 1. */
int vfu_dev_set_irqs(struct vfu_dev *d, unsigned int index, uint32_t count);

/* How long a reply may block on a client that does not read before its
 * connection is dropped (VFU_SERVER_SEND_TIMEOUT by default), for the
 * connections made from now on. */
void vfu_dev_set_send_timeout(struct vfu_dev *d, int ms);

/* Log to stderr with the device's name (off with quiet). */
void vfu_dev_set_quiet(struct vfu_dev *d, bool quiet);
void vfu_log(struct vfu_dev *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- services for the device ---- */

/*
 * DMA between the device and the client's memory at IOVA iova.  The whole
 * range must lie in DMA_MAP-ped regions with the needed permission (READ
 * for vfu_dma_read, which reads client memory; WRITE for vfu_dma_write),
 * and bus mastering must be on; then fd-backed parts are copied directly
 * and the rest travel as DMA_READ/DMA_WRITE messages (on the twin socket if
 * there is one), max_data_xfer_size at a time.  Returns 0; -EPERM (bus
 * master off), -EFAULT (not mapped, or no permission: nothing moved; or
 * the client answered a DMA message with an error: refused), -EIO (no
 * answer, a malformed one, or a mapped file failed).  After -EFAULT from
 * the client or -EIO, a vfu_dma_write may have moved the chunks before
 * (a vfu_dma_read's buffer holds garbage).  Every failure is a DMA fault
 * the device must report, and is logged.  DMA_UNMAP never runs while one
 * of these is in progress.
 */
int vfu_dma_read(struct vfu_dev *d, uint64_t iova, void *buf, size_t len);
int vfu_dma_write(struct vfu_dev *d, uint64_t iova, const void *buf,
                  size_t len);

/* The INTx line.  With INTx enabled, asserting it (or unmasking while it
 * is asserted) signals the trigger eventfd once and masks (AUTOMASKED). */
void vfu_irq_intx(struct vfu_dev *d, bool asserted);

/* True if SET_IRQS enabled MSI (the device then sends MSI, not INTx). */
bool vfu_irq_msi_enabled(const struct vfu_dev *d);

/* Send MSI vector v: signals its eventfd if MSI is enabled and it has
 * one.  Returns true if signalled. */
bool vfu_irq_msi(struct vfu_dev *d, unsigned int v);

/* Ask for ops->work to run after the current message's reply. */
void vfu_dev_kick(struct vfu_dev *d);

/* Bus mastering and memory/I-O decode as the driver set them. */
uint16_t vfu_dev_command(const struct vfu_dev *d);

/* ---- serving ---- */

/*
 * Serve the connected socket fd (taken over) until the client closes it:
 * returns 0 then, 1 if stop_fd (>= 0) became readable first, or a
 * negative errno.  Everything the client set up is released either way.
 */
int vfu_dev_serve_fd(struct vfu_dev *d, int fd, int stop_fd);

/*
 * Listen on a new UNIX socket at path (removed first if it is a socket)
 * and serve one client at a time, each like vfu_dev_serve_fd (the device
 * keeps its state between clients, as the spec asks).  Returns 1 when
 * stop_fd fires, or a negative errno.  The socket file is removed.
 */
int vfu_dev_serve_socket(struct vfu_dev *d, const char *path, int stop_fd);

/* ---- in-process connections (tests, fuzzing) ---- */

struct vfu_conn;

/* Where a virtual connection's messages go: every reply (and every
 * server-to-client command) as whole bytes, with the descriptors it
 * carries, which the sink must close. */
typedef void vfu_sink_fn(void *ctx, const void *msg, size_t len, const int *fds,
                         unsigned int nfds);

/* The client side of message DMA for a virtual connection: copy len bytes
 * from/to the client's memory at addr.  0, or a positive errno for the
 * error reply. */
typedef int vfu_peer_dma_fn(void *ctx, bool write, uint64_t addr, void *buf,
                            uint64_t len);

/* The device's main connection, without a socket.  -EBUSY if it has one. */
int vfu_conn_virtual(struct vfu_dev *d, vfu_sink_fn *sink,
                     vfu_peer_dma_fn *peer_dma, void *ctx,
                     struct vfu_conn **out);

/* One whole message (header and payload, len bytes) with its descriptors,
 * which the library owns from here on.  Returns 0, or -ENOTCONN once the
 * connection is closed (after a framing error or a bad VERSION). */
int vfu_conn_feed(struct vfu_conn *c, const void *msg, size_t len,
                  const int *fds, unsigned int nfds);

/* Close a virtual main connection: the session ends as if the client had
 * gone (maps, interrupts and restricted clients released). */
void vfu_conn_close(struct vfu_conn *c);

/* Serve the sockets the device has (restricted clients of a virtual main
 * connection) for up to timeout_ms.  Returns the messages handled or a
 * negative errno. */
int vfu_dev_run_once(struct vfu_dev *d, int timeout_ms);

/* Introspection for tests: DMA maps, restricted clients, the interrupt
 * mode (-1 none, else the VFIO index). */
unsigned int vfu_dev_dma_count(const struct vfu_dev *d);
unsigned int vfu_dev_client_count(const struct vfu_dev *d);
int vfu_dev_irq_mode(const struct vfu_dev *d);
bool vfu_dev_intx_masked(const struct vfu_dev *d);

#endif
