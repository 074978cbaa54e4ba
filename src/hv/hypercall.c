/* SPDX-License-Identifier: MIT */
/*
 * hypercall.c - the hypercall table, and the small informational calls:
 * xen_version, vm_assist, console_io and multicall.
 *
 * Each entry takes the five argument registers and returns what the guest
 * sees in rax: a result >= 0 or a negative Xen errno.  Guest memory is
 * reached only through copy_{from,to}_guest().  A number with no entry is
 * -ENOSYS.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "xen_abi.h"

#include "hv.h"
#include "hcall.h"

/* The xen_varbuf sub-ops 11-14 (extraversion2 ...) came after 4.17, whose
 * interface procvisor reports: like 4.17 it answers them -ENOSYS. */

#define PV_VIRT_START                                                          \
    0xFFFF800000000000ull /* 64-bit PV: HYPERVISOR_VIRT_START */

static const char capabilities[] = "xen-3.0-x86_64 ";
static const char changeset[] = "procvisor";

/* A varbuf answer: NULL handle asks the size; else len bytes must fit. */
static int64_t varbuf_put(struct hv_call *c, uint64_t arg, const void *data,
                          uint32_t size)
{
    uint32_t len;
    int rc;

    if (arg == 0) {
        return (int64_t)size;
    }
    rc = copy_from_guest(c->gm, &len, arg, sizeof(len));
    if (rc) {
        return rc;
    }
    if (len < size) {
        return -ENOBUFS;
    }
    rc = copy_to_guest(c->gm, arg + sizeof(uint32_t), data, size);
    return rc ? rc : (int64_t)size;
}

static int64_t do_xen_version(struct hv_call *c, const uint64_t *a)
{
    uint64_t cmd = (uint32_t)a[0], arg = a[1]; /* int cmd */
    struct hv *hv = c->hv;
    bool priv = c->d->privileged;

    switch (cmd) {
    case XENVER_version:
        return (PV_XEN_MAJOR << 16) | PV_XEN_MINOR;
    case XENVER_extraversion: {
        xen_extraversion_t ev = {0};
        snprintf(ev, sizeof(ev), "%s", hv->extraversion);
        return copy_to_guest(c->gm, arg, ev, sizeof(ev));
    }
    case XENVER_compile_info: {
        struct xen_compile_info ci;
        memset(&ci, 0, sizeof(ci));
        snprintf(ci.compiler, sizeof(ci.compiler), "%s", PV_COMPILER);
        snprintf(ci.compile_by, sizeof(ci.compile_by), "procvisor");
        snprintf(ci.compile_domain, sizeof(ci.compile_domain), "localdomain");
        snprintf(ci.compile_date, sizeof(ci.compile_date), "%s", __DATE__);
        return copy_to_guest(c->gm, arg, &ci, sizeof(ci));
    }
    case XENVER_capabilities: {
        xen_capabilities_info_t caps = {0};
        memcpy(caps, capabilities, sizeof(capabilities));
        return copy_to_guest(c->gm, arg, caps, sizeof(caps));
    }
    case XENVER_changeset: {
        xen_changeset_info_t cs = {0};
        memcpy(cs, changeset, sizeof(changeset));
        return copy_to_guest(c->gm, arg, cs, sizeof(cs));
    }
    case XENVER_platform_parameters: {
        struct xen_platform_parameters pp = {.virt_start = PV_VIRT_START};
        return copy_to_guest(c->gm, arg, &pp, sizeof(pp));
    }
    case XENVER_get_features: {
        struct xen_feature_info fi;
        int rc = copy_from_guest(c->gm, &fi, arg, sizeof(fi));
        if (rc) {
            return rc;
        }
        if (fi.submap_idx != 0) {
            return -EINVAL;
        }
        /* Xen 4.17's set for a PV guest, or for a PVH (HVM) one */
        fi.submap = 1u << XENFEAT_memory_op_vnode_supported;
        if (c->d->translated) {
            fi.submap |= (1u << XENFEAT_writable_page_tables) |
                         (1u << XENFEAT_auto_translated_physmap) |
                         (1u << XENFEAT_hvm_callback_vector) |
                         (1u << XENFEAT_hvm_safe_pvclock) |
                         (1u << XENFEAT_not_direct_mapped);
        } else {
            fi.submap |= (1u << XENFEAT_mmu_pt_update_preserve_ad) |
                         (1u << XENFEAT_highmem_assist) |
                         (1u << XENFEAT_gnttab_map_avail_bits) |
                         (1u << XENFEAT_direct_mapped);
        }
        if (priv) {
            fi.submap |= 1u << XENFEAT_dom0;
        }
        if (c->d->vm_assist & (1ull << VMASST_TYPE_pae_extended_cr3)) {
            fi.submap |= 1u << XENFEAT_pae_pgdir_above_4gb;
        }
        return copy_to_guest(c->gm, arg, &fi, sizeof(fi));
    }
    case XENVER_pagesize:
        return arg ? -EINVAL : (int64_t)XEN_PAGE_SIZE;
    case XENVER_guest_handle: {
        uint8_t h[16] = {0};
        return copy_to_guest(c->gm, arg, h, sizeof(h));
    }
    case XENVER_commandline: {
        static const char denied[] = "<denied>";
        xen_commandline_t cl = {0};
        if (!priv) {
            /* only the string and its NUL, as Xen copies it */
            return copy_to_guest(c->gm, arg, denied, sizeof(denied));
        }
        snprintf(cl, sizeof(cl), "%s", hv->commandline);
        return copy_to_guest(c->gm, arg, cl, sizeof(cl));
    }
    case XENVER_build_id: {
        uint32_t len;
        if (!priv) {
            return -EPERM;
        }
        /* 4.17: a buffer must say how large it is */
        if (arg && (copy_from_guest(c->gm, &len, arg, sizeof(len)) == 0) &&
            len == 0) {
            return -EINVAL;
        }
        return varbuf_put(c, arg, PV_BUILD_ID, sizeof(PV_BUILD_ID) - 1);
    }
    }
    return -ENOSYS;
}

static int64_t do_vm_assist(struct hv_call *c, const uint64_t *a)
{
    /* unsigned int cmd, unsigned int type */
    uint64_t cmd = (uint32_t)a[0], type = (uint32_t)a[1];
    /* 64-bit PV: types 0-5 and m2p_strict; HVM: runstate_update_flag */
    const uint64_t valid = c->d->translated
                               ? 1ull << VMASST_TYPE_runstate_update_flag
                               : 0x3full | (1ull << VMASST_TYPE_m2p_strict);

    /* the type is checked before the command, as in Xen */
    if (type >= 64 || !(valid & (1ull << type))) {
        return -EINVAL;
    }
    if (cmd != VMASST_CMD_enable && cmd != VMASST_CMD_disable) {
        return -ENOSYS;
    }
    if (cmd == VMASST_CMD_enable) {
        c->d->vm_assist |= 1ull << type;
    } else {
        c->d->vm_assist &= ~(1ull << type);
    }
    return 0;
}

/* A domU's console line: printable characters and tabs, flushed at '\n'
 * or when the line buffer would overflow. */
static void domcons_char(struct hv *hv, struct hv_domain *d, char ch)
{
    if (ch == '\n') {
        hv_domcons_flush(hv, d);
        return;
    }
    if (!((ch >= 0x20 && ch < 0x7f) || ch == '\t')) {
        return;
    }
    d->cons_line[d->cons_line_len++] = ch;
    if (d->cons_line_len >= sizeof(d->cons_line) - 1) {
        hv_domcons_flush(hv, d);
    }
}

static int64_t do_console_io(struct hv_call *c, const uint64_t *a)
{
    /* unsigned int cmd, unsigned int count */
    uint64_t cmd = (uint32_t)a[0], count = (uint32_t)a[1], buf = a[2];
    struct hv_domain *d = c->d;
    struct hv *hv = c->hv;

    /* XSM's default: the control domain and is_console domains; a verbose
     * debug build lets every domain write */
    if (!d->privileged && !d->is_console &&
        !(cmd == CONSOLEIO_write && hv->console_write_all)) {
        return -EPERM;
    }
    switch (cmd) {
    case CONSOLEIO_write: {
        char chunk[128];
        for (uint64_t off = 0; off < count; off += sizeof(chunk)) {
            size_t n =
                count - off < sizeof(chunk) ? count - off : sizeof(chunk);
            int rc = copy_from_guest(c->gm, chunk, buf + off, n);
            if (rc) {
                return rc;
            }
            if (d->privileged) {
                /* the hardware domain writes raw */
                hv_console_put(hv, chunk, n);
                for (size_t i = 0; i < n; i++) {
                    d->cons_ring[d->cons_prod++ % HV_DOMCONS_RING] = chunk[i];
                }
            } else {
                for (size_t i = 0; i < n; i++) {
                    domcons_char(hv, d, chunk[i]);
                }
            }
        }
        return 0;
    }
    case CONSOLEIO_read: {
        size_t n;
        int rc;
        if (count > INT_MAX) {
            return -E2BIG;
        }
        n = count < hv->cons_in_len ? count : hv->cons_in_len;
        rc = copy_to_guest(c->gm, buf, hv->cons_in, n);
        if (rc) {
            return rc;
        }
        memmove(hv->cons_in, hv->cons_in + n, hv->cons_in_len - n);
        hv->cons_in_len -= n;
        return (int64_t)n;
    }
    }
    return -ENOSYS;
}

static int64_t do_multicall(struct hv_call *c, const uint64_t *a)
{
    uint64_t list = a[0], nr = (uint32_t)a[1]; /* uint32_t nr_calls */
    struct hv_call sub = *c;

    if (c->depth > 0) {
        return -EINVAL; /* no nesting */
    }
    /* Xen checks the whole list before running any entry */
    if (nr && !guest_range_ok(c->gm, list, nr * sizeof(struct multicall_entry),
                              GM_IN | GM_OUT)) {
        return -EFAULT;
    }
    sub.depth = 1;
    sub.waiter = NULL; /* a blocking entry does not defer the batch */
    for (uint64_t i = 0; i < nr; i++) {
        struct multicall_entry e;
        uint64_t addr = list + i * sizeof(e);
        int rc;

        if (addr < list) {
            return -EFAULT;
        }
        rc = copy_from_guest(c->gm, &e, addr, sizeof(e));
        if (rc) {
            return rc;
        }
        e.result = (xen_ulong_t)hv_hypercall(&sub, e.op, e.args);
        rc = copy_to_guest(c->gm,
                           addr + offsetof(struct multicall_entry, result),
                           &e.result, sizeof(e.result));
        if (rc) {
            return rc;
        }
    }
    return 0;
}

static const struct hcall_desc hcall_table[] = {
    [__HYPERVISOR_memory_op] = {"memory_op", do_memory_op},
    [__HYPERVISOR_multicall] = {"multicall", do_multicall},
    [__HYPERVISOR_set_timer_op] = {"set_timer_op", do_set_timer_op},
    [__HYPERVISOR_xen_version] = {"xen_version", do_xen_version},
    [__HYPERVISOR_console_io] = {"console_io", do_console_io},
    [__HYPERVISOR_vm_assist] = {"vm_assist", do_vm_assist},
    [__HYPERVISOR_vcpu_op] = {"vcpu_op", do_vcpu_op},
    [__HYPERVISOR_sched_op_compat] = {"sched_op_compat", do_sched_op_compat},
    [__HYPERVISOR_sched_op] = {"sched_op", do_sched_op},
    [__HYPERVISOR_event_channel_op_compat] = {"event_channel_op_compat",
                                              do_event_channel_op_compat},
    [__HYPERVISOR_event_channel_op] = {"event_channel_op", do_event_channel_op},
    [__HYPERVISOR_grant_table_op] = {"grant_table_op", do_grant_table_op},
};

const char *hv_hypercall_name(uint64_t op)
{
    if (op < sizeof(hcall_table) / sizeof(hcall_table[0]) &&
        hcall_table[op].name) {
        return hcall_table[op].name;
    }
    return NULL;
}

int64_t hv_hypercall(struct hv_call *c, uint64_t op, const uint64_t a[5])
{
    c->d->hypercalls++;
    if (op >= sizeof(hcall_table) / sizeof(hcall_table[0]) ||
        !hcall_table[op].fn) {
        return -ENOSYS;
    }
    return hcall_table[op].fn(c, a);
}
