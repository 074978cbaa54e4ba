/* SPDX-License-Identifier: MIT */
/*
 * procvisor.h - the public C API of libprocvisor.
 *
 * A program running in a procvisor domain (started by `procvisor run`)
 * opens a handle and makes Xen hypercalls, maps its shared_info and
 * start_info pages and reads the pvclock.  Outside any domain, a handle
 * speaks for dom0 through the control socket, if the caller may open it.
 *
 * Errors: functions returning int or pointers return -1 / NULL and set
 * errno.  pv_hypercall() returns what Xen's hypercall returns: a value
 * >= 0, or a negative Xen errno (equal to Linux's).
 */
#ifndef PROCVISOR_PROCVISOR_H
#define PROCVISOR_PROCVISOR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shared_info;
struct start_info;
struct grant_entry_v1;

typedef struct pv_handle pv_handle;

/* Open a handle for this process's domain. */
pv_handle *pv_open(void);
void pv_close(pv_handle *h);

/* The domain id this handle speaks for. */
int pv_domid(const pv_handle *h);

/* Which vCPU later calls on this handle run on (default 0). */
int pv_set_vcpu(pv_handle *h, unsigned int vcpu);

/* A hypercall with up to five arguments, as HYPERVISOR_*() in a kernel. */
long pv_hypercall(pv_handle *h, unsigned int op, unsigned long a1,
                  unsigned long a2, unsigned long a3, unsigned long a4,
                  unsigned long a5);

/* The domain's shared_info page (read-write) and start_info (read-only),
 * mapped on first use and valid until pv_close(). */
struct shared_info *pv_shared_info(pv_handle *h);
const struct start_info *pv_start_info(pv_handle *h);

/*
 * The vCPU's upcall: the non-blocking read end of a pipe the hypervisor
 * writes to each time the vCPU's evtchn_upcall_pending goes from 0 to 1
 * (poll it, read it until EAGAIN to reset it, then scan shared_info's
 * selector and bitmaps).  Valid until pv_close(); -1 with errno on
 * failure.
 */
int pv_upcall_fd(pv_handle *h, unsigned int vcpu);

/*
 * The domain's grant table (v1), shared with the hypervisor: grant a page
 * by writing an entry (domid and frame, a write barrier, then flags), as a
 * Xen guest does.  All max_grant_frames frames are mapped; *nr gets the
 * number of entries, of which GNTTABOP_setup_table/query_size say how many
 * are in use.  Valid until pv_close(); NULL with errno on failure.
 */
struct grant_entry_v1 *pv_grant_table(pv_handle *h, unsigned int *nr);

/* Xen system time (ns) from this vCPU's pvclock, read with rdtsc. */
uint64_t pv_system_time(pv_handle *h, unsigned int vcpu);

#ifdef __cplusplus
}
#endif

#endif
