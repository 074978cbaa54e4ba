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
#define HV_DEFAULT_EVTCHN       1023u
#define HV_DEFAULT_MEMORY_KIB   (64u * 1024u)
#define HV_MAX_EVTCHN_2L        4096u
/* ports a domain may hand to devices: each costs the daemon a pipe and a
 * page, so one domain cannot spend everyone's descriptors */
#define HV_MAX_ATTACHED 256u

/* handler result meaning "the vCPU blocked; the reply comes later" */
#define HCALL_BLOCKED INT64_MIN

struct hv;
struct hv_domain;
struct hv_vcpu;

/* A page the environment allocated and shares with the domain. */
struct hv_page {
    void *va;     /* hypervisor's mapping */
    void *cookie; /* the environment's handle (a memfd) */
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
    /* Allocate/free one zeroed shareable page. */
    int (*page_alloc)(void *ctx, struct hv_page *pg);
    void (*page_free)(void *ctx, struct hv_page *pg);
    /* Seal a page read-only for the domain (start_info). */
    int (*page_seal)(void *ctx, struct hv_page *pg);
    /* A blocked vCPU's wait ended: deliver `ret` to `waiter`. */
    void (*wake)(void *ctx, void *waiter, int64_t ret);
    /* The earliest timer deadline may have changed. */
    void (*timers_changed)(void *ctx);
    /* A domain must lose its processes (destroy): close its connections. */
    void (*domain_kill)(void *ctx, struct hv_domain *d);
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
    domid_t owner; /* DOMID_INVALID when free */
    uint64_t gpfn; /* M2P */
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

/* hypercall.c: run one hypercall for call->d on call->v */
int64_t hv_hypercall(struct hv_call *call, uint64_t op, const uint64_t a[5]);

#endif
