/* SPDX-License-Identifier: MIT */
/*
 * xen_args.h - sizes of hypercall argument blocks.
 */
#ifndef PROCVISOR_XEN_ARGS_H
#define PROCVISOR_XEN_ARGS_H

#include "xen_abi.h"

/* The argument block of EVTCHNOP cmd in bytes, or 0 for an unknown cmd. */
size_t xen_evtchn_arg_size(uint64_t cmd);

#endif
