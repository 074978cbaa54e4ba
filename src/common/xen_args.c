/* SPDX-License-Identifier: MIT */
/*
 * xen_args.c - sizes of hypercall argument blocks, shared by the
 * hypervisor (which copies them in and out) and the client marshaller
 * (which carries them).
 */
#include "xen_args.h"

/* The argument block of each EVTCHNOP; 0 for an unknown one. */
size_t xen_evtchn_arg_size(uint64_t cmd)
{
    switch (cmd) {
    case EVTCHNOP_bind_interdomain:
        return sizeof(struct evtchn_bind_interdomain);
    case EVTCHNOP_bind_virq:
        return sizeof(struct evtchn_bind_virq);
    case EVTCHNOP_bind_pirq:
        return sizeof(struct evtchn_bind_pirq);
    case EVTCHNOP_close:
        return sizeof(struct evtchn_close);
    case EVTCHNOP_send:
        return sizeof(struct evtchn_send);
    case EVTCHNOP_status:
        return sizeof(struct evtchn_status);
    case EVTCHNOP_alloc_unbound:
        return sizeof(struct evtchn_alloc_unbound);
    case EVTCHNOP_bind_ipi:
        return sizeof(struct evtchn_bind_ipi);
    case EVTCHNOP_bind_vcpu:
        return sizeof(struct evtchn_bind_vcpu);
    case EVTCHNOP_unmask:
        return sizeof(struct evtchn_unmask);
    case EVTCHNOP_reset:
        return sizeof(struct evtchn_reset);
    case EVTCHNOP_init_control:
        return sizeof(struct evtchn_init_control);
    case EVTCHNOP_expand_array:
        return sizeof(struct evtchn_expand_array);
    case EVTCHNOP_set_priority:
        return sizeof(struct evtchn_set_priority);
    }
    return 0;
}
