/* SPDX-License-Identifier: MIT */
/*
 * xencall_probe.c - makes hypercalls through Debian's unmodified libxencall
 * (so through /dev/xen/privcmd, which the preload library emulates) and
 * prints what Xen answered as key=value lines for the integration tests.
 *
 * usage: xencall_probe COMMAND [ARGS]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xen_abi.h"
#include <xencall.h>

static xencall_handle *xc;

/* xencallN returns -1/errno for a negative hypercall result */
static long rc_of(int r)
{
    return r < 0 ? -errno : r;
}

static long call2(unsigned int op, uint64_t a, uint64_t b)
{
    return rc_of(xencall2(xc, op, a, b));
}

static long call3(unsigned int op, uint64_t a, uint64_t b, uint64_t c)
{
    return rc_of(xencall3(xc, op, a, b, c));
}

static void *buf(size_t n)
{
    void *p = xencall_alloc_buffer(xc, n);
    if (!p) {
        perror("xencall_alloc_buffer");
        exit(1);
    }
    memset(p, 0, n);
    return p;
}

static int cmd_version(void)
{
    long v = call2(__HYPERVISOR_xen_version, XENVER_version, 0);
    char *ev = buf(sizeof(xen_extraversion_t));
    char *caps = buf(sizeof(xen_capabilities_info_t));
    char *cl = buf(sizeof(xen_commandline_t));
    struct xen_compile_info *ci = buf(sizeof(*ci));
    struct xen_feature_info *fi = buf(sizeof(*fi));
    struct xen_platform_parameters *pp = buf(sizeof(*pp));

    printf("version=%ld.%ld\n", v >> 16, v & 0xffff);
    printf("extraversion_rc=%ld\n",
           call2(__HYPERVISOR_xen_version, XENVER_extraversion, (uintptr_t)ev));
    printf("extraversion=%s\n", ev);
    call2(__HYPERVISOR_xen_version, XENVER_capabilities, (uintptr_t)caps);
    printf("capabilities=%s|\n", caps);
    call2(__HYPERVISOR_xen_version, XENVER_compile_info, (uintptr_t)ci);
    printf("compile_by=%s\n", ci->compile_by);
    fi->submap_idx = 0;
    printf("get_features_rc=%ld\n",
           call2(__HYPERVISOR_xen_version, XENVER_get_features, (uintptr_t)fi));
    printf("features=%#x\n", fi->submap);
    fi->submap_idx = 1;
    printf("get_features_idx1=%ld\n",
           call2(__HYPERVISOR_xen_version, XENVER_get_features, (uintptr_t)fi));
    printf("pagesize=%ld\n",
           call2(__HYPERVISOR_xen_version, XENVER_pagesize, 0));
    printf("pagesize_arg=%ld\n",
           call2(__HYPERVISOR_xen_version, XENVER_pagesize, (uintptr_t)fi));
    call2(__HYPERVISOR_xen_version, XENVER_platform_parameters, (uintptr_t)pp);
    printf("virt_start=%#lx\n", (unsigned long)pp->virt_start);
    call2(__HYPERVISOR_xen_version, XENVER_commandline, (uintptr_t)cl);
    printf("commandline=%s\n", cl);
    printf("build_id_size=%ld\n",
           call2(__HYPERVISOR_xen_version, XENVER_build_id, 0));
    printf("unknown_subop=%ld\n", call2(__HYPERVISOR_xen_version, 99, 0));
    printf("bad_pointer=%ld\n",
           call2(__HYPERVISOR_xen_version, XENVER_extraversion, 8));
    printf("unknown_op=%ld\n", rc_of(xencall0(xc, 60)));
    return 0;
}

static int cmd_console(const char *text)
{
    size_t n = strlen(text);
    char *b = buf(n + 1);

    memcpy(b, text, n);
    b[n] = '\n';
    printf("console_write=%ld\n", call3(__HYPERVISOR_console_io,
                                        CONSOLEIO_write, n + 1, (uintptr_t)b));
    return 0;
}

static int cmd_conread(void)
{
    char *b = buf(256);
    long n = call3(__HYPERVISOR_console_io, CONSOLEIO_read, 255, (uintptr_t)b);

    printf("console_read=%ld\n", n);
    if (n > 0) {
        printf("console_text=%.*s\n", (int)n, b);
    }
    printf("console_read_e2big=%ld\n",
           call3(__HYPERVISOR_console_io, CONSOLEIO_read, 0x80000000ul,
                 (uintptr_t)b));
    return 0;
}

static long reservation(unsigned int op, xen_pfn_t *list, unsigned long n,
                        unsigned int order, domid_t dom)
{
    struct xen_memory_reservation *r = buf(sizeof(*r));

    set_xen_guest_handle(r->extent_start, list);
    r->nr_extents = n;
    r->extent_order = order;
    r->domid = dom;
    return call2(__HYPERVISOR_memory_op, op, (uintptr_t)r);
}

static int cmd_memory(void)
{
    struct xen_memory_domain *md = buf(sizeof(*md));
    struct xen_add_to_physmap *x = buf(sizeof(*x));
    xen_pfn_t *list = buf(4 * sizeof(xen_pfn_t));

    md->domid = DOMID_SELF;
    printf("current=%ld\n", call2(__HYPERVISOR_memory_op,
                                  XENMEM_current_reservation, (uintptr_t)md));
    printf("maximum=%ld\n", call2(__HYPERVISOR_memory_op,
                                  XENMEM_maximum_reservation, (uintptr_t)md));
    printf("max_ram_page=%ld\n",
           call2(__HYPERVISOR_memory_op, XENMEM_maximum_ram_page, 0));
    /* full: no room to grow */
    printf("increase_full=%ld\n",
           reservation(XENMEM_increase_reservation, list, 1, 0, DOMID_SELF));
    list[0] = 3;
    list[1] = 5;
    printf("decrease=%ld\n",
           reservation(XENMEM_decrease_reservation, list, 2, 0, DOMID_SELF));
    printf("current_after_decrease=%ld\n",
           call2(__HYPERVISOR_memory_op, XENMEM_current_reservation,
                 (uintptr_t)md));
    list[0] = 3;
    printf("decrease_again=%ld\n",
           reservation(XENMEM_decrease_reservation, list, 1, 0, DOMID_SELF));
    list[0] = 3;
    printf("populate=%ld\n",
           reservation(XENMEM_populate_physmap, list, 1, 0, DOMID_SELF));
    list[0] = 3;
    printf("populate_again=%ld\n",
           reservation(XENMEM_populate_physmap, list, 1, 0, DOMID_SELF));
    printf("increase=%ld\n",
           reservation(XENMEM_increase_reservation, list, 1, 0, DOMID_SELF));
    printf("order_too_big=%ld\n",
           reservation(XENMEM_increase_reservation, list, 1, 10, DOMID_SELF));
    printf("other_domain=%ld\n",
           reservation(XENMEM_increase_reservation, list, 1, 0, 0));
    md->domid = 0;
    printf("current_dom0=%ld\n",
           call2(__HYPERVISOR_memory_op, XENMEM_current_reservation,
                 (uintptr_t)md));
    md->domid = 0x7000;
    printf("current_nodomain=%ld\n",
           call2(__HYPERVISOR_memory_op, XENMEM_current_reservation,
                 (uintptr_t)md));
    x->domid = DOMID_SELF;
    x->space = XENMAPSPACE_shared_info;
    x->idx = 0;
    x->gpfn = 0x10;
    printf("add_to_physmap=%ld\n",
           call2(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (uintptr_t)x));
    x->idx = 1;
    printf("add_to_physmap_idx1=%ld\n",
           call2(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (uintptr_t)x));
    md->domid = DOMID_SELF;
    printf("current_after_physmap=%ld\n",
           call2(__HYPERVISOR_memory_op, XENMEM_current_reservation,
                 (uintptr_t)md));
    printf("unknown_memop=%ld\n", call2(__HYPERVISOR_memory_op, 63, 0));
    return 0;
}

static int cmd_sched(int argc, char **argv)
{
    struct sched_shutdown *s = buf(sizeof(*s));
    struct sched_watchdog *w = buf(sizeof(*w));
    struct sched_remote_shutdown *rs = buf(sizeof(*rs));

    if (argc > 0 && strcmp(argv[0], "shutdown") == 0 && argc > 1) {
        s->reason = (unsigned int)strtoul(argv[1], NULL, 0);
        printf("shutdown=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (uintptr_t)s));
        return 0;
    }
    if (argc > 0 && strcmp(argv[0], "code") == 0 && argc > 1) {
        s->reason = (unsigned int)strtoul(argv[1], NULL, 0);
        printf(
            "shutdown_code=%ld\n",
            call2(__HYPERVISOR_sched_op, SCHEDOP_shutdown_code, (uintptr_t)s));
        return 0;
    }
    if (argc > 0 && strcmp(argv[0], "remote") == 0 && argc > 2) {
        rs->domain_id = (domid_t)strtoul(argv[1], NULL, 0);
        rs->reason = (unsigned int)strtoul(argv[2], NULL, 0);
        printf("remote_shutdown=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_remote_shutdown,
                     (uintptr_t)rs));
        return 0;
    }
    if (argc > 0 && strcmp(argv[0], "watchdog") == 0) {
        w->id = 0;
        w->timeout = 30;
        printf("wd_first=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_watchdog, (uintptr_t)w));
        printf("wd_second=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_watchdog, (uintptr_t)w));
        printf("wd_third=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_watchdog, (uintptr_t)w));
        w->id = 3;
        printf("wd_bad_id=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_watchdog, (uintptr_t)w));
        w->id = 2;
        w->timeout = 0;
        printf("wd_stop=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_watchdog, (uintptr_t)w));
        printf("wd_stop_again=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_watchdog, (uintptr_t)w));
        /* timer 1 now expires in a second: the domain shuts down */
        w->id = 1;
        w->timeout = 1;
        printf("wd_rearm=%ld\n",
               call2(__HYPERVISOR_sched_op, SCHEDOP_watchdog, (uintptr_t)w));
        fflush(stdout);
        sleep(2);
        return 0;
    }
    printf("yield=%ld\n", call2(__HYPERVISOR_sched_op, SCHEDOP_yield, 0));
    printf("poll_null=%ld\n", call2(__HYPERVISOR_sched_op, SCHEDOP_poll, 0));
    printf("pin_override=%ld\n",
           call2(__HYPERVISOR_sched_op, SCHEDOP_pin_override, 0));
    printf("unknown_sched=%ld\n", call2(__HYPERVISOR_sched_op, 99, 0));
    return 0;
}

static int cmd_timer(void)
{
    struct vcpu_set_periodic_timer *p = buf(sizeof(*p));
    struct vcpu_runstate_info *ri = buf(sizeof(*ri));

    p->period_ns = 999999;
    printf("periodic_too_short=%ld\n",
           call3(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0,
                 (uintptr_t)p));
    p->period_ns = 1000000;
    printf("periodic=%ld\n", call3(__HYPERVISOR_vcpu_op,
                                   VCPUOP_set_periodic_timer, 0, (uintptr_t)p));
    usleep(200 * 1000);
    printf("periodic_stop=%ld\n",
           call3(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0));
    printf("set_timer_far=%ld\n",
           rc_of(xencall1(xc, __HYPERVISOR_set_timer_op, 1ull << 62)));
    printf("set_timer_cancel=%ld\n",
           rc_of(xencall1(xc, __HYPERVISOR_set_timer_op, 0)));
    printf("is_up=%ld\n", call3(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 0, 0));
    printf("is_up_bad_vcpu=%ld\n",
           call3(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 77, 0));
    printf("runstate=%ld\n", call3(__HYPERVISOR_vcpu_op,
                                   VCPUOP_get_runstate_info, 0, (uintptr_t)ri));
    printf("runstate_state=%d\n", ri->state);
    printf("initialise=%ld\n",
           call3(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 0, 0));
    return 0;
}

static int cmd_multicall(void)
{
    multicall_entry_t *mc = buf(5 * sizeof(*mc));
    char *ev = buf(sizeof(xen_extraversion_t));

    mc[0].op = __HYPERVISOR_xen_version;
    mc[0].args[0] = XENVER_version;
    mc[1].op = __HYPERVISOR_xen_version;
    mc[1].args[0] = 99;
    mc[2].op = __HYPERVISOR_vm_assist;
    mc[2].args[0] = VMASST_CMD_enable;
    mc[2].args[1] = 31;
    mc[3].op = __HYPERVISOR_multicall;
    mc[3].args[0] = (uintptr_t)mc;
    mc[3].args[1] = 1;
    mc[4].op = __HYPERVISOR_xen_version;
    mc[4].args[0] = XENVER_extraversion;
    mc[4].args[1] = (uintptr_t)ev;
    printf("multicall=%ld\n", call2(__HYPERVISOR_multicall, (uintptr_t)mc, 5));
    for (int i = 0; i < 5; i++) {
        printf("mc%d=%ld\n", i, (long)mc[i].result);
    }
    printf("mc_extraversion=%s\n", ev);
    printf("vm_assist_ok=%ld\n",
           call2(__HYPERVISOR_vm_assist, VMASST_CMD_enable,
                 VMASST_TYPE_runstate_update_flag));
    printf("vm_assist_badcmd=%ld\n",
           call2(__HYPERVISOR_vm_assist, 7, VMASST_TYPE_runstate_update_flag));
    return 0;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 2) {
        fprintf(stderr, "usage: xencall_probe COMMAND [ARGS]\n");
        return 2;
    }
    xc = xencall_open(NULL, 0);
    if (!xc) {
        perror("xencall_open");
        return 1;
    }
    if (strcmp(argv[1], "version") == 0) {
        rc = cmd_version();
    } else if (strcmp(argv[1], "console") == 0 && argc > 2) {
        rc = cmd_console(argv[2]);
    } else if (strcmp(argv[1], "conread") == 0) {
        rc = cmd_conread();
    } else if (strcmp(argv[1], "memory") == 0) {
        rc = cmd_memory();
    } else if (strcmp(argv[1], "sched") == 0) {
        rc = cmd_sched(argc - 2, argv + 2);
    } else if (strcmp(argv[1], "timer") == 0) {
        rc = cmd_timer();
    } else if (strcmp(argv[1], "multicall") == 0) {
        rc = cmd_multicall();
    } else {
        fprintf(stderr, "unknown command %s\n", argv[1]);
        rc = 2;
    }
    xencall_close(xc);
    return rc;
}
