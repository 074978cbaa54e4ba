/* SPDX-License-Identifier: MIT */
/*
 * vfu_impl.h - the server library's private structures, shared by
 * server.c (connections, framing, the poll loop, message DMA round trips),
 * dispatch.c (one handler per command), dma.c (the DMA map table and the
 * device's DMA) and irq.c (interrupt state and SET_IRQS).
 *
 * Single-threaded: everything runs on the loop.  A device callback may
 * block the loop only inside a message DMA round trip, which reads nothing
 * but its reply (and, without a twin socket, queues the client's commands
 * that arrive meanwhile for afterwards): so no command, DMA_UNMAP included,
 * is ever handled while a DMA is in progress.
 */
#ifndef PROCVISOR_VFU_IMPL_H
#define PROCVISOR_VFU_IMPL_H

#include "vfu_server.h"

enum vfu_conn_kind {
    VFU_CONN_MAIN,       /* the client: every command */
    VFU_CONN_RESTRICTED, /* PV_ADD_CLIENT: REGION_READ/WRITE only */
    VFU_CONN_TWIN,       /* server-to-client commands and their replies */
};

/* One received message; the payload is malloc-ed, fds are owned. */
struct vfu_msg {
    struct vfu_hdr h;
    uint8_t *payload;
    uint32_t len;
    int fds[VFU_MAX_MSG_FDS];
    unsigned int nfds;
    bool too_many_fds; /* more came than fit: they were closed */
    struct vfu_msg *next;
};

/* A message being received on a stream: exactly its header's bytes, then
 * exactly its payload's, so descriptors belong to the message they came
 * with. */
struct vfu_rx {
    uint8_t hdr[VFU_HDR_SIZE];
    uint32_t have; /* bytes of the header */
    struct vfu_msg *m;
    uint32_t body_have;
};

struct vfu_conn {
    struct vfu_dev *d;
    enum vfu_conn_kind kind;
    int fd; /* -1: virtual */
    bool dead;
    struct vfu_rx rx;
    vfu_sink_fn *sink;
    vfu_peer_dma_fn *peer_dma;
    void *ctx;
    struct vfu_conn *next; /* restricted clients */
};

struct vfu_dma_map_ent {
    uint64_t addr, size;
    uint32_t prot; /* VFU_DMA_READ | VFU_DMA_WRITE */
    int fd;        /* -1: message DMA */
    bool file_io;  /* pread/pwrite fd at offset */
    uint64_t offset;
    uint8_t *map; /* mmap-ed: the region's bytes */
};

/* ERR and REQ: one trigger each */
struct vfu_dev {
    char name[32];
    const struct vfu_dev_ops *ops;
    void *opaque;
    bool quiet;
    int send_timeout_ms;
    struct vfu_pci pci;
    struct vfu_region regions[VFU_NUM_REGIONS];
    uint32_t irq_count[VFU_NUM_IRQS];

    /* the session with the current client */
    struct vfu_conn *main, *twin, *clients;
    unsigned int nclients;
    bool negotiated;
    bool twin_used;       /* DMA messages go on the twin, or nowhere */
    struct vfu_caps peer; /* the client's capabilities */
    uint16_t next_id;     /* msg_id of our next server-to-client command */
    struct vfu_msg *defer_head, *defer_tail; /* commands that came during a
                                                message DMA */
    unsigned int ndefer;
    bool work_pending;

    /* DMA maps, sorted by address, not overlapping */
    struct vfu_dma_map_ent *dma;
    unsigned int ndma, dma_cap;
    unsigned int dma_busy; /* vfu_dma_* in progress */
    uint64_t dma_faults;

    /* interrupts, as vfio-pci's: one mode at a time */
    int irq_mode; /* -1 none, VFIO_PCI_INTX/MSI/MSIX_IRQ_INDEX */
    int *vec;     /* MSI/MSI-X triggers, nvec of them (-1: none) */
    uint32_t nvec;
    int intx_trigger;        /* -1: none */
    int intx_unmask_fd;      /* an eventfd that unmasks when signalled */
    bool intx_masked;        /* auto-mask or MASK */
    bool intx_line;          /* the device's line */
    bool intx_virq_disabled; /* COMMAND.INTX_DISABLE */
    int err_trigger, req_trigger;
};

/* server.c */
void vfu_send(struct vfu_conn *c, const struct vfu_hdr *h, const void *p,
              size_t len, const int *fds, unsigned int nfds);
void vfu_send2(struct vfu_conn *c, const struct vfu_hdr *h, const void *p1,
               size_t l1, const void *p2, size_t l2, const int *fds,
               unsigned int nfds);
int vfu_peer_dma(struct vfu_dev *d, bool write, uint64_t addr, void *buf,
                 uint64_t len);
int vfu_conn_add_client(struct vfu_dev *d, int fd);
struct vfu_conn *vfu_conn_new(struct vfu_dev *d, enum vfu_conn_kind kind,
                              int fd);
void vfu_msg_free(struct vfu_msg *m);
void vfu_session_end(struct vfu_dev *d);

/* dispatch.c: handle one message from c; replies are sent from here */
void vfu_dispatch(struct vfu_conn *c, struct vfu_msg *m);
void vfu_run_work(struct vfu_dev *d);

/* dma.c */
int vfu_dma_map_add(struct vfu_dev *d, const struct vfu_dma_map *m, int fd);
int vfu_dma_map_remove(struct vfu_dev *d, const struct vfu_dma_unmap *u);
void vfu_dma_unmap_all(struct vfu_dev *d);

/* irq.c */
void vfu_irq_init(struct vfu_dev *d);
int vfu_irq_info(struct vfu_dev *d, uint32_t index, struct vfu_irq_info *out);
int vfu_irq_set(struct vfu_dev *d, const struct vfu_irq_set *is,
                const uint8_t *data, int *fds, unsigned int nfds);
void vfu_irq_disable_all(struct vfu_dev *d);
void vfu_irq_command_changed(struct vfu_dev *d);
void vfu_irq_unmask_event(struct vfu_dev *d);

#endif
