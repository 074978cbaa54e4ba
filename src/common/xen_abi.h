/* SPDX-License-Identifier: MIT */
/*
 * xen_abi.h - the Xen ABI as procvisor uses it: libxen-dev's public headers
 * (which need <stdint.h> first), and a static check of every layout we
 * rely on, against the sizes and offsets of x86_64 Xen.
 */
#ifndef PROCVISOR_XEN_ABI_H
#define PROCVISOR_XEN_ABI_H

#include <stddef.h>
#include <stdint.h>

/* the newest interface of the headers, as Xen's own tools see it */
#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>

#ifndef XEN_PAGE_SHIFT
#define XEN_PAGE_SHIFT 12
#endif
#ifndef XEN_PAGE_SIZE
#define XEN_PAGE_SIZE (1u << XEN_PAGE_SHIFT)
#endif
/* memory_op's cmd carries a continuation index above the op (Xen's
 * include/xen/hypercall.h, not a public header) */
#ifndef MEMOP_EXTENT_SHIFT
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK     ((1u << MEMOP_EXTENT_SHIFT) - 1)
#endif

#define PV_ABI_SIZE(t, n)   _Static_assert(sizeof(t) == (n), #t " size")
#define PV_ABI_OFF(t, f, n) _Static_assert(offsetof(t, f) == (n), #t "." #f)

PV_ABI_SIZE(struct shared_info, 3136);
PV_ABI_OFF(struct shared_info, evtchn_pending, 2048);
PV_ABI_OFF(struct shared_info, evtchn_mask, 2560);
PV_ABI_OFF(struct shared_info, wc_version, 3072);
PV_ABI_OFF(struct shared_info, wc_sec, 3076);
PV_ABI_OFF(struct shared_info, wc_nsec, 3080);
PV_ABI_OFF(struct shared_info, xen_wc_sec_hi, 3084);
PV_ABI_SIZE(struct vcpu_info, 64);
PV_ABI_OFF(struct vcpu_info, evtchn_upcall_mask, 1);
PV_ABI_OFF(struct vcpu_info, evtchn_pending_sel, 8);
PV_ABI_OFF(struct vcpu_info, time, 32);
PV_ABI_SIZE(struct vcpu_time_info, 32);
PV_ABI_OFF(struct vcpu_time_info, tsc_timestamp, 8);
PV_ABI_OFF(struct vcpu_time_info, system_time, 16);
PV_ABI_OFF(struct vcpu_time_info, tsc_to_system_mul, 24);
PV_ABI_OFF(struct vcpu_time_info, tsc_shift, 28);
PV_ABI_OFF(struct vcpu_time_info, flags, 29);
PV_ABI_SIZE(struct start_info, 1168);
PV_ABI_OFF(struct start_info, nr_pages, 32);
PV_ABI_OFF(struct start_info, shared_info, 40);
PV_ABI_OFF(struct start_info, flags, 48);
PV_ABI_OFF(struct start_info, store_mfn, 56);
PV_ABI_OFF(struct start_info, cmd_line, 128);
PV_ABI_SIZE(struct multicall_entry, 64);
PV_ABI_OFF(struct multicall_entry, result, 8);
PV_ABI_OFF(struct multicall_entry, args, 16);
PV_ABI_SIZE(struct xen_memory_reservation, 32);
PV_ABI_OFF(struct xen_memory_reservation, nr_extents, 8);
PV_ABI_OFF(struct xen_memory_reservation, extent_order, 16);
PV_ABI_OFF(struct xen_memory_reservation, mem_flags, 20);
PV_ABI_OFF(struct xen_memory_reservation, domid, 24);
PV_ABI_SIZE(struct xen_add_to_physmap, 24);
PV_ABI_OFF(struct xen_add_to_physmap, space, 4);
PV_ABI_OFF(struct xen_add_to_physmap, idx, 8);
PV_ABI_OFF(struct xen_add_to_physmap, gpfn, 16);
PV_ABI_SIZE(struct xen_compile_info, 144);
PV_ABI_SIZE(struct xen_feature_info, 8);
PV_ABI_SIZE(struct sched_remote_shutdown, 8);
PV_ABI_OFF(struct sched_remote_shutdown, reason, 4);
PV_ABI_SIZE(struct sched_watchdog, 8);
PV_ABI_SIZE(struct vcpu_runstate_info, 48);
PV_ABI_OFF(struct vcpu_runstate_info, state_entry_time, 8);
PV_ABI_OFF(struct vcpu_runstate_info, time, 16);
PV_ABI_SIZE(struct vcpu_set_singleshot_timer, 16);
PV_ABI_SIZE(struct vcpu_set_periodic_timer, 8);
PV_ABI_SIZE(struct sched_poll, 24);
PV_ABI_OFF(struct sched_poll, nr_ports, 8);
PV_ABI_OFF(struct sched_poll, timeout, 16);
PV_ABI_SIZE(struct evtchn_alloc_unbound, 8);
PV_ABI_OFF(struct evtchn_alloc_unbound, port, 4);
PV_ABI_SIZE(struct evtchn_bind_interdomain, 12);
PV_ABI_OFF(struct evtchn_bind_interdomain, remote_port, 4);
PV_ABI_OFF(struct evtchn_bind_interdomain, local_port, 8);
PV_ABI_SIZE(struct evtchn_bind_virq, 12);
PV_ABI_SIZE(struct evtchn_bind_ipi, 8);
PV_ABI_SIZE(struct evtchn_status, 24);
PV_ABI_OFF(struct evtchn_status, port, 4);
PV_ABI_OFF(struct evtchn_status, status, 8);
PV_ABI_OFF(struct evtchn_status, vcpu, 12);
PV_ABI_OFF(struct evtchn_status, u, 16);
PV_ABI_SIZE(struct evtchn_bind_vcpu, 8);
PV_ABI_SIZE(struct evtchn_reset, 2);
PV_ABI_SIZE(struct evtchn_init_control, 24);
PV_ABI_SIZE(struct evtchn_op, 28);
PV_ABI_SIZE(grant_entry_v1_t, 8);
PV_ABI_OFF(grant_entry_v1_t, domid, 2);
PV_ABI_OFF(grant_entry_v1_t, frame, 4);
PV_ABI_SIZE(struct gnttab_map_grant_ref, 32);
PV_ABI_OFF(struct gnttab_map_grant_ref, ref, 12);
PV_ABI_OFF(struct gnttab_map_grant_ref, dom, 16);
PV_ABI_OFF(struct gnttab_map_grant_ref, status, 18);
PV_ABI_OFF(struct gnttab_map_grant_ref, handle, 20);
PV_ABI_OFF(struct gnttab_map_grant_ref, dev_bus_addr, 24);
PV_ABI_SIZE(struct gnttab_unmap_grant_ref, 24);
PV_ABI_OFF(struct gnttab_unmap_grant_ref, handle, 16);
PV_ABI_OFF(struct gnttab_unmap_grant_ref, status, 20);
PV_ABI_SIZE(struct gnttab_setup_table, 24);
PV_ABI_OFF(struct gnttab_setup_table, status, 8);
PV_ABI_OFF(struct gnttab_setup_table, frame_list, 16);
PV_ABI_SIZE(struct gnttab_copy, 40);
PV_ABI_OFF(struct gnttab_copy, dest, 16);
PV_ABI_OFF(struct gnttab_copy, len, 32);
PV_ABI_OFF(struct gnttab_copy, flags, 34);
PV_ABI_OFF(struct gnttab_copy, status, 36);
PV_ABI_SIZE(struct gnttab_query_size, 16);
PV_ABI_OFF(struct gnttab_query_size, status, 12);
PV_ABI_SIZE(struct gnttab_unmap_and_replace, 24);
PV_ABI_SIZE(struct gnttab_set_version, 4);
PV_ABI_SIZE(struct gnttab_get_status_frames, 16);
PV_ABI_SIZE(struct gnttab_get_version, 8);
PV_ABI_SIZE(struct gnttab_swap_grant_ref, 12);
_Static_assert(DOMID_SELF == 0x7FF0 && DOMID_XEN == 0x7FF2 &&
                   DOMID_INVALID == 0x7FF4,
               "DOMID_*");

#endif
