/* SPDX-License-Identifier: MIT */
/*
 * hv.h - the hypervisor core: domains, vCPUs, frames, timers, console and
 * hypercalls.  Pure logic with no I/O: the daemon (or a unit test) supplies
 * time, shared pages and wake-ups through struct hv_env.
 *
 * Functions return 0 or -errno unless said otherwise.  Hypercall handlers
 * return what the hypercall returns to the guest.
 *
 * Locking: the core is not thread-safe.  The daemon calls it from its single
 * event-loop thread only (docs/locking.md).
 */
#ifndef PROCVISOR_HV_H
#define PROCVISOR_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen_abi.h"

#include "guest.h"

#define HV_MAX_VCPUS    XEN_LEGACY_MAX_VCPUS /* vcpu_info lives in shared_info */
#define HV_MAX_DOMID    (DOMID_FIRST_RESERVED - 1)
#define HV_CONSOLE_RING (64u * 1024u) /* hypervisor console ring bytes */
#define HV_DOMCONS_RING (32u * 1024u) /* per-domain console bytes kept */
#define HV_DEAD_KEPT    64u           /* dead domain records kept */
#define HV_WATCHDOGS    2u
#define HV_INVALID_MFN  (~0ull)
#define HV_INVALID_GPFN (~0ull)
#define HV_PAGE_BYTES   4096u

/* Xen's defaults (xl): grant frames and maptrack frames, event channels */
#define HV_DEFAULT_GRANT_FRAMES 64u
#define HV_DEFAULT_MAPTRACK     1024u
#define HV_MAX_GRANT_FRAMES     1024u  /* 512 Ki entries */
#define HV_MAX_MAPTRACK         16384u /* frames of 256 handles: 4 Mi maps */
#define HV_DEFAULT_GNTALLOC     1024u  /* Linux gntalloc's `limit` */
#define HV_MAX_GNTALLOC         16000u /* ids of one call fit a reply */
#define HV_MAX_MEMS                                                            \
    8192u /* live gntalloc allocations, all                                    \
             domains: the daemon's descriptors */
#define HV_DEFAULT_EVTCHN     1023u
#define HV_DEFAULT_MEMORY_KIB (64u * 1024u)
#define HV_MAX_EVTCHN_2L      4096u
/* ports a domain may hand to devices: each costs the daemon a pipe and a
 * page, so one domain cannot spend everyone's descriptors */
#define HV_MAX_ATTACHED 256u

/* handler result meaning "the vCPU blocked; the reply comes later" */
#define HCALL_BLOCKED INT64_MIN

struct hv;
struct hv_domain;
struct hv_vcpu;

/* Pages the environment allocated and shares with domains. */
struct hv_page {
    void *va;        /* hypervisor's mapping */
    void *cookie;    /* the environment's handle (a memfd) */
    uint32_t npages; /* set before page_alloc; 0 means 1 */
};

/* Xen's ECS_* port states */
enum {
    ECS_FREE = 0,
    ECS_RESERVED = 1,
    ECS_UNBOUND = 2,
    ECS_INTERDOMAIN = 3,
    ECS_PIRQ = 4,
    ECS_VIRQ = 5,
    ECS_IPI = 6,
};

/* One event channel port; the hypervisor's own record (the domain's
 * shared_info holds only its pending and mask bits). */
struct hv_evtchn {
    uint8_t state;        /* ECS_* */
    uint8_t notify_vcpu;  /* which vCPU's selector and upcall it raises */
    domid_t remote_dom;   /* UNBOUND: who may bind; INTERDOMAIN: the peer */
    uint32_t remote_port; /* INTERDOMAIN */
    uint32_t virq;        /* VIRQ */
    uint32_t gen;         /* changes whenever the port's binding does */
    void *notifier;       /* a device's wake-up (the daemon's pipe), or NULL */
    void *owner;          /* the device that attached it */
    bool orphan;          /* its device went; an unmap notification holds it */
    uint32_t holds;       /* unmap notifications that will send on it (Linux's
                             evtchn_get references) */
    struct hv_page cell;  /* with a notifier: struct pv_evtchn_cell */
};

/* Any EVTCHNOP argument block. */
union hv_evtchn_arg {
    struct evtchn_alloc_unbound alloc_unbound;
    struct evtchn_bind_interdomain bind_interdomain;
    struct evtchn_bind_virq bind_virq;
    struct evtchn_bind_pirq bind_pirq;
    struct evtchn_bind_ipi bind_ipi;
    struct evtchn_close close;
    struct evtchn_send send;
    struct evtchn_status status;
    struct evtchn_bind_vcpu bind_vcpu;
    struct evtchn_unmask unmask;
    struct evtchn_reset reset;
    struct evtchn_init_control init_control;
    struct evtchn_expand_array expand_array;
    struct evtchn_set_priority set_priority;
};

/* What the core needs from its environment. */
struct hv_env {
    /* CLOCK_MONOTONIC nanoseconds */
    uint64_t (*now_ns)(void *ctx);
    /* Allocate/free pg->npages zeroed shareable pages (one memfd). */
    int (*page_alloc)(void *ctx, struct hv_page *pg);
    void (*page_free)(void *ctx, struct hv_page *pg);
    /* Seal pages read-only for whoever receives them (start_info, a
     * read-only grant); existing mappings keep their access. */
    int (*page_seal)(void *ctx, struct hv_page *pg);
    /* A blocked vCPU's wait ended: deliver `ret` to `waiter`. */
    void (*wake)(void *ctx, void *waiter, int64_t ret);
    /* The earliest timer deadline may have changed. */
    void (*timers_changed)(void *ctx);
    /* A domain must lose its processes (destroy): close its connections. */
    void (*domain_kill)(void *ctx, struct hv_domain *d);
    /* A domain is dead (its record is on the dead list); may be NULL. */
    void (*domain_dead)(void *ctx, struct hv_domain *d);
    /* A domain shut down (or crashed): its state is PV_DOM_SHUTDOWN and
     * VIRQ_DOM_EXC was sent; may be NULL. */
    void (*domain_shutdown)(void *ctx, struct hv_domain *d);
    /* An upcall for v: its upcall_pending went 0 -> 1 (the vCPU's
     * pipe, in the daemon). */
    void (*kick)(void *ctx, struct hv_domain *d, struct hv_vcpu *v);
    /* A port with a notifier became pending; a notifier is dropped. */
    void (*port_notify)(void *ctx, void *notifier);
    void (*port_release)(void *ctx, void *notifier);
    /* A vCPU's upcall handle is no longer needed. */
    void (*upcall_release)(void *ctx, intptr_t upcall);
    /* Log a line (no newline). */
    void (*log)(void *ctx, const char *line);
    void *ctx;
};

struct hv_mem;
struct hv_galloc;

/*
 * Memory that can be shared: one memfd of npages, allocated for one
 * ALLOC_GREF call, so every page in it is granted to the same domain with
 * the same access (DESIGN.md, the isolation invariant).  Frames, mappings
 * and the gntalloc record each hold a reference; the memory outlives its
 * owner while anyone maps it.
 */
struct hv_mem {
    struct hv_page pg; /* npages; the hypervisor's own mapping */
    uint64_t id;       /* unique for the hypervisor's life */
    uint32_t refs;
    domid_t owner;   /* the granting domain */
    domid_t grantee; /* the only other domain that may map it */
    bool readonly;   /* the grantee may only read: sealed before it maps */
    bool sealed;
};

/* Xen's active grant entry: one per ref of the granting domain, the
 * hypervisor's own record of who pins it. */
struct hv_active {
    uint16_t rd_pins;   /* read-only host mappings and copies in progress */
    uint16_t wr_pins;   /* writable ones */
    domid_t domid;      /* the pinning domain, while pins != 0 */
    uint64_t mfn;       /* the frame pinned */
    struct hv_mem *mem; /* its memory when first pinned (a reference):
                           what every pin reaches, whatever happens to
                           the frame meanwhile */
    uint32_t mem_idx;
    struct hv_galloc *ga; /* the gntalloc record that owns this ref */
    uint32_t ga_idx;
};

/* A mapping of a grant, indexed by its handle in the mapper's table. */
struct hv_maptrack {
    bool used;
    uint32_t flags;     /* GNTMAP_* of the map */
    domid_t rd;         /* the granting domain */
    uint64_t rd_serial; /* ...and which incarnation of that id */
    uint32_t ref;
    uint64_t mfn;
    uint64_t host_addr;
    struct hv_mem *mem;
    uint32_t mem_idx;
    void *owner;    /* the device that made it; NULL for a hypercall's */
    uint8_t notify; /* UNMAP_NOTIFY_* applied when it is unmapped */
    uint16_t notify_off;
    uint32_t notify_port;
    uint32_t next_free;
};

/* gntalloc page states */
enum { GA_LIVE = 1, GA_DEFERRED = 2, GA_GONE = 0 };

/* One ALLOC_GREF call: count pages of one memfd, each granted by a ref. */
struct hv_galloc {
    uint64_t id;
    void *owner; /* the gntalloc device (connection) */
    struct hv_mem *mem;
    uint32_t count;
    uint32_t live; /* pages not yet GA_GONE */
    struct hv_galloc *next;
    struct {
        uint32_t ref;
        uint64_t gpfn;
        uint8_t state;  /* GA_* */
        uint8_t notify; /* UNMAP_NOTIFY_* */
        uint16_t notify_off;
        uint32_t notify_port;
    } page[];
};

/* A domain's grant table (v1). */
struct hv_gnttab {
    struct hv_page shared;  /* max_grant_frames pages of grant_entry_v1 */
    uint64_t *frame_mfn;    /* the table frames' machine numbers */
    uint64_t *frame_gpfn;   /* where a translated domain placed them */
    unsigned int nr_frames; /* current size, grows with setup_table */
    struct hv_active *act;  /* max_grant_frames * 512 */
    struct hv_maptrack *mt; /* this domain's mappings of others' grants */
    uint32_t mt_size;       /* entries allocated (lazily, up to the limit) */
    uint32_t mt_free;       /* head of the free list, UINT32_MAX none */
    uint32_t mt_used;
    struct hv_galloc *gallocs; /* gntalloc: this domain's grants */
    uint32_t ga_pages;         /* ...counted against hv->gntalloc_limit */
    uint64_t ga_next_id;
    uint32_t ref_cursor;  /* where the next free-ref search starts */
    uint64_t gpfn_cursor; /* where the next free-RAM search starts */
};

struct hv_timer {
    uint64_t deadline; /* 0 = disarmed; hypervisor system time, ns */
    uint64_t period;   /* periodic timers only */
};

struct hv_vcpu {
    unsigned int id;
    bool up;
    struct hv_timer singleshot;
    struct hv_timer periodic;
    uint64_t timer_virqs;   /* VIRQ_TIMER raised on this vCPU */
    void *waiter;           /* blocked in SCHEDOP_block/poll, or NULL */
    bool polling;           /* SCHEDOP_poll: wake on poll_port */
    int32_t poll_port;      /* the one port polled, -1 for any */
    uint64_t poll_deadline; /* 0 = none */
    uint32_t virq_to_port[NR_VIRQS];
    intptr_t upcall; /* the environment's upcall handle, or 0 for none */
    uint64_t runstate_entry; /* system time of the last state change */
    uint64_t runstate_time[4];
    int runstate;
};

struct hv_watchdog {
    bool used;
    uint32_t timeout_s;
    uint64_t deadline;
};

struct hv_domain {
    domid_t id;
    char name[64];
    int state;         /* enum pv_dom_state */
    int reason;        /* SHUTDOWN_* or PV_REASON_* */
    int shutdown_code; /* SCHEDOP_shutdown_code latch, -1 none */
    bool privileged;
    bool is_console;
    bool translated; /* PVH: the hypervisor keeps the P2M */
    uint32_t flags;  /* PV_CREATE_* */

    uint64_t max_pages;
    uint64_t tot_pages;
    uint64_t *p2m; /* gpfn -> mfn, HV_INVALID_MFN when empty */
    uint64_t p2m_size;
    uint64_t shinfo_gpfn;

    unsigned int max_grant_frames;
    unsigned int max_maptrack;
    unsigned int max_evtchn;
    unsigned int max_vcpus;
    struct hv_vcpu vcpu[HV_MAX_VCPUS];
    uint64_t vm_assist;
    struct hv_watchdog watchdog[HV_WATCHDOGS];

    struct hv_evtchn *evtchn; /* ports 0..max_evtchn */
    struct hv_page
        evtchn_gen_pg;    /* u8 per port: gen, read-only to the domain */
    uint64_t evtchn_sent; /* events raised into this domain */
    unsigned int evtchn_attached; /* ports with a device's cell */

    struct hv_gnttab gt;
    uint64_t serial; /* unique across the hypervisor's life */

    struct hv_page shinfo_pg;
    struct hv_page startinfo_pg;
    uint64_t shinfo_mfn;

    /* console: line being assembled, and everything the domain wrote */
    char cons_line[200]; /* Xen 4.17's DOMAIN_PBUF_SIZE */
    size_t cons_line_len;
    char *cons_ring;
    uint64_t cons_prod;

    unsigned int nr_conns;
    uint64_t created_ns;
    uint64_t hypercalls;

    struct hv_domain *next; /* hv.domains list, by creation */
};

struct hv_frame {
    domid_t owner;      /* DOMID_INVALID when free */
    uint64_t gpfn;      /* M2P */
    struct hv_mem *mem; /* the memory behind it, or NULL (accounting only) */
    uint32_t mem_idx;   /* its page in mem */
};

struct hv {
    struct hv_env env;
    uint64_t boot_ns; /* CLOCK_MONOTONIC at boot: system time 0 */

    /* pvclock: system time = sys_base + scale(tsc - tsc_base) */
    uint64_t tsc_hz;
    uint32_t tsc_mul;
    int8_t tsc_shift;
    bool tsc_stable;
    uint64_t tsc_base;
    uint64_t sys_base;
    uint32_t wc_sec, wc_sec_hi, wc_nsec; /* epoch time at system time 0 */

    struct hv_domain *domains; /* live and dying, newest last */
    struct hv_domain *dead;    /* dead records, newest first */
    unsigned int nr_dead;
    domid_t next_domid;

    /* the machine: frames and the M2P */
    struct hv_frame *frames;
    uint64_t nr_frames;
    uint64_t free_frames;
    uint64_t next_frame; /* allocation cursor */

    /* hypervisor console ring, and its serial input */
    char *cons_ring;
    uint64_t cons_prod;
    char cons_in[1024];
    size_t cons_in_len;

    /* like a CONFIG_VERBOSE_DEBUG build: any domain may write the console */
    bool console_write_all;

    /* gntalloc's module parameter `limit`: pages each domain's allocator
     * may have granted at once */
    uint32_t gntalloc_limit;
    uint64_t next_serial;
    uint64_t next_mem_id;
    uint32_t nr_mems; /* live struct hv_mem: each is a memfd and a mapping
                         in the daemon */

    char extraversion[XEN_EXTRAVERSION_LEN];
    char commandline[1024];
};

/* What a hypercall runs with. */
struct hv_call {
    struct hv *hv;
    struct hv_domain *d;
    struct hv_vcpu *v;
    struct guest_mem *gm;
    void *waiter; /* the reply handle, for calls that block */
    int depth;    /* multicall nesting */
};

/* Options for a new domain. */
struct hv_domain_cfg {
    const char *name;
    uint64_t memory_kib;
    unsigned int max_grant_frames;
    unsigned int max_maptrack;
    unsigned int max_evtchn;
    unsigned int max_vcpus;
    uint32_t flags; /* PV_CREATE_* */
};

/* core.c */
int hv_init(struct hv *hv, const struct hv_env *env, uint64_t host_pages);
void hv_fini(struct hv *hv);
uint64_t hv_now(const struct hv *hv); /* system time, ns */
void hv_logf(struct hv *hv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* domain.c */
int hv_domain_create(struct hv *hv, const struct hv_domain_cfg *cfg,
                     struct hv_domain **out);
struct hv_domain *hv_domain_find(struct hv *hv, domid_t id);
struct hv_domain *hv_domain_find_name(struct hv *hv, const char *name);
/* A connection of the domain opened or closed. */
void hv_domain_conn_get(struct hv *hv, struct hv_domain *d);
void hv_domain_conn_put(struct hv *hv, struct hv_domain *d);
/* dom0's destroy: kill its processes and tear it down. */
int hv_domain_destroy(struct hv *hv, struct hv_domain *d);
/* Latch a shutdown reason (SCHEDOP_shutdown semantics). */
void hv_domain_shutdown(struct hv *hv, struct hv_domain *d, uint8_t reason);
const char *hv_reason_name(int reason);
const char *hv_state_name(int state);

/* frames: memory.c */
int hv_frame_alloc(struct hv *hv, struct hv_domain *d, uint64_t gpfn,
                   uint64_t *mfn);
void hv_frame_free(struct hv *hv, uint64_t mfn);
int hv_alloc_extent(struct hv *hv, struct hv_domain *d, unsigned int order,
                    uint64_t gpfn, uint64_t *first);

/* time.c: the pvclock published in every vcpu_time_info */
void hv_time_scale(uint64_t tsc_hz, uint32_t *mul, int8_t *shift);
uint64_t hv_tsc_to_ns(uint64_t delta, uint32_t mul, int8_t shift);
/* Set the TSC rate and re-anchor (tsc, CLOCK_MONOTONIC, CLOCK_REALTIME)
 * sampled at one instant; publishes to every domain. */
void hv_time_anchor(struct hv *hv, uint64_t tsc_hz, bool stable, uint64_t tsc,
                    uint64_t mono_ns, uint64_t wall_ns);
void hv_time_publish(struct hv *hv, struct hv_domain *d);

/* timers.c */
uint64_t hv_next_deadline(const struct hv *hv); /* 0 = none */
void hv_run_timers(struct hv *hv);
void hv_virq_timer(struct hv *hv, struct hv_domain *d, struct hv_vcpu *v);
/* End a vCPU's SCHEDOP_block (an event became pending). */
void hv_vcpu_wake(struct hv *hv, struct hv_vcpu *v);
/* A blocked caller went away before its reply. */
void hv_cancel_wait(struct hv *hv, void *waiter);

/* console.c */
void hv_console_put(struct hv *hv, const char *s, size_t n);
size_t hv_console_read(const char *ring, uint64_t prod, size_t ringsz,
                       char *out, size_t cap);
void hv_console_input(struct hv *hv, const char *s, size_t n);
/* End a domU's pending console line: "(dN) line" in the hypervisor ring,
 * and the line in the domain's own console. */
void hv_domcons_flush(struct hv *hv, struct hv_domain *d);

/* evtchn.c */
void hv_evtchn_set_pending(struct hv *hv, struct hv_domain *d, uint32_t port);
int hv_evtchn_close(struct hv *hv, struct hv_domain *d, uint32_t port);
int hv_evtchn_unmask(struct hv *hv, struct hv_domain *d, uint32_t port);
void hv_evtchn_reset(struct hv *hv, struct hv_domain *d);
void hv_send_vcpu_virq(struct hv *hv, struct hv_domain *d, struct hv_vcpu *v,
                       uint32_t virq);
/* To the domain that owns global VIRQs (dom0, the hardware domain). */
void hv_send_global_virq(struct hv *hv, uint32_t virq);
/* A device takes delivery of port through a cell (struct pv_evtchn_cell)
 * and notifier: the cell protocol of proto.h (the pending bit moves into
 * the cell, and is due now).  0, -EINVAL, -EBUSY or the page allocation's
 * error. */
int hv_evtchn_attach(struct hv *hv, struct hv_domain *d, uint32_t port,
                     void *owner, void *notifier);
/* Close every port a device attached (its process went away). */
void hv_evtchn_close_owned(struct hv *hv, struct hv_domain *d, void *owner);
/* The port's interdomain peer if a device took it (else NULL: send by
 * hypercall), and the port's current gen. */
struct hv_evtchn *hv_evtchn_peer(struct hv *hv, struct hv_domain *d,
                                 uint32_t port, uint32_t *gen);
bool hv_evtchn_is_pending(struct hv_domain *d, uint32_t port);

/* gnttab.c: grant tables (v1), and the gntalloc/gntdev work the daemon
 * does for a domain's devices.  GNTST_* results are int16_t. */
int hv_gnttab_init(struct hv *hv, struct hv_domain *d);
/* The domain is dying: unmap what it maps, end what it grants. */
void hv_gnttab_teardown(struct hv *hv, struct hv_domain *d);
void hv_gnttab_fini(struct hv *hv, struct hv_domain *d);
/* Map one grant for d (GNTTABOP_map_grant_ref's rules).  A device's map
 * (owner != NULL) also gets the memory and page it reaches. */
int16_t hv_gnttab_map(struct hv *hv, struct hv_domain *d, void *owner,
                      domid_t dom, uint32_t ref, uint32_t flags,
                      uint64_t host_addr, uint32_t *handle, uint64_t *bus,
                      struct hv_mem **mem, uint32_t *mem_idx);
/* Unmap by handle; a device may unmap only its own maps. */
int16_t hv_gnttab_unmap(struct hv *hv, struct hv_domain *d, void *owner,
                        uint32_t handle, uint64_t host_addr, uint64_t bus);
/* gntdev SET_UNMAP_NOTIFY on a device's map: 0 or -errno */
int hv_gnttab_set_notify(struct hv *hv, struct hv_domain *d, void *owner,
                         uint32_t handle, uint32_t off, uint32_t action,
                         uint32_t port);
/* One copy; a NULL-gref side with `local` names the caller's buffer. */
struct hv_copy_side {
    bool gref;    /* else a frame of the caller's (or `local`) */
    uint32_t ref; /* or gmfn */
    uint64_t gmfn;
    domid_t domid;
    uint16_t offset;
    uint8_t *local; /* a device's bytes, instead of a frame */
};
int16_t hv_gnttab_copy(struct hv *hv, struct hv_domain *d,
                       const struct hv_copy_side *src,
                       const struct hv_copy_side *dst, uint16_t len);
/* gntalloc: grant count fresh zeroed pages to `grantee`; refs[count] out. */
int hv_gntalloc(struct hv *hv, struct hv_domain *d, void *owner,
                domid_t grantee, bool writable, uint32_t count, uint32_t *refs,
                struct hv_galloc **out);
struct hv_galloc *hv_galloc_find(struct hv_domain *d, void *owner, uint64_t id);
/* The pages' last local user went: notify, then end access (deferred
 * while mapped). */
int hv_gntalloc_free(struct hv *hv, struct hv_domain *d, void *owner,
                     uint64_t id, uint32_t first, uint32_t count);
int hv_gntalloc_set_notify(struct hv *hv, struct hv_domain *d, void *owner,
                           uint64_t id, uint32_t page, uint32_t off,
                           uint32_t action, uint32_t port);
/* A device went away (its process died or closed it). */
void hv_gnttab_release_owned(struct hv *hv, struct hv_domain *d, void *owner);
void hv_mem_put(struct hv *hv, struct hv_mem *m);
/* Send on d's local port, as EVTCHNOP_send does (evtchn.c). */
int hv_evtchn_send(struct hv *hv, struct hv_domain *d, uint32_t port);
/* Whether a pending unmap notification of d will send on port. */
bool hv_gnttab_notify_holds(struct hv_domain *d, uint32_t port);
/* Close a port whose device went, once nothing holds it. */
void hv_evtchn_put_orphan(struct hv *hv, struct hv_domain *d, uint32_t port);

/* hypercall.c: run one hypercall for call->d on call->v */
int64_t hv_hypercall(struct hv_call *call, uint64_t op, const uint64_t a[5]);

#endif
