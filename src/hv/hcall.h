/* SPDX-License-Identifier: MIT */
/*
 * hcall.h - the hypercall handlers, for hypercall.c's table.
 */
#ifndef PROCVISOR_HCALL_H
#define PROCVISOR_HCALL_H

#include <stdint.h>

#include "hv.h"

/* The Xen interface version procvisor reports: that of the ABI headers. */
#define PV_XEN_MAJOR 4
#define PV_XEN_MINOR 17
#define PV_BUILD_ID                                                            \
    "procvisor-" PV_XEN_STR(PV_XEN_MAJOR) "." PV_XEN_STR(PV_XEN_MINOR)
#define PV_XEN_STR_(x) #x
#define PV_XEN_STR(x)  PV_XEN_STR_(x)
#ifdef __VERSION__
#define PV_COMPILER __VERSION__
#else
#define PV_COMPILER "cc"
#endif

typedef int64_t (*hcall_fn)(struct hv_call *c, const uint64_t *args);

struct hcall_desc {
    const char *name;
    hcall_fn fn;
};

int64_t do_memory_op(struct hv_call *c, const uint64_t *a);
int64_t do_set_timer_op(struct hv_call *c, const uint64_t *a);
int64_t do_vcpu_op(struct hv_call *c, const uint64_t *a);
int64_t do_sched_op(struct hv_call *c, const uint64_t *a);
int64_t do_sched_op_compat(struct hv_call *c, const uint64_t *a);
int64_t do_event_channel_op(struct hv_call *c, const uint64_t *a);
int64_t do_event_channel_op_compat(struct hv_call *c, const uint64_t *a);
int64_t do_grant_table_op(struct hv_call *c, const uint64_t *a);

const char *hv_hypercall_name(uint64_t op);

#endif
