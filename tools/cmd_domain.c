/* SPDX-License-Identifier: MIT */
/*
 * cmd_domain.c - `procvisor create`, `list`, `info`, `destroy`, `console`,
 * `dmesg` and `input`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen_abi.h"

#include "cli.h"
#include "hv.h"

static const char *state_name(uint32_t s)
{
    return hv_state_name((int)s);
}

static const char *reason_name(int32_t r)
{
    return hv_reason_name(r);
}

static unsigned long num_arg(const char *opt, const char *v, unsigned long max)
{
    char *end;
    unsigned long n = strtoul(v, &end, 0);

    if (!*v || *end || n == 0 || n > max) {
        cli_die("%s: expected a number from 1 to %lu", opt, max);
    }
    return n;
}

int cmd_create(int argc, char **argv)
{
    struct pv_create_req r;
    int64_t id;

    memset(&r, 0, sizeof(r));
    if (argc < 2 || argv[1][0] == '-') {
        cli_die("usage: procvisor create NAME [options]");
    }
    if (strlen(argv[1]) >= sizeof(r.name)) {
        cli_die("name too long");
    }
    strcpy(r.name, argv[1]);
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(o, "--memory") == 0) {
            r.memory_kib = num_arg(o, v, 1024 * 1024) * 1024ull;
            i++;
        } else if (strcmp(o, "--vcpus") == 0) {
            r.max_vcpus = (uint32_t)num_arg(o, v, 32);
            i++;
        } else if (strcmp(o, "--max-grant-frames") == 0) {
            r.max_grant_frames = (uint32_t)num_arg(o, v, 1u << 20);
            i++;
        } else if (strcmp(o, "--max-maptrack") == 0) {
            r.max_maptrack = (uint32_t)num_arg(o, v, 1u << 20);
            i++;
        } else if (strcmp(o, "--max-evtchn") == 0) {
            r.max_evtchn = (uint32_t)num_arg(o, v, 4096);
            i++;
        } else if (strcmp(o, "--pv") == 0) {
            r.flags |= PV_CREATE_PV;
        } else if (strcmp(o, "--console-io") == 0) {
            r.flags |= PV_CREATE_IS_CONSOLE;
        } else {
            cli_die("create: unknown option '%s'", o);
        }
    }
    id = pvc_call(cli_ctl(), PV_MSG_CREATE, &r, sizeof(r), NULL, 0, NULL, NULL);
    if (id < 0) {
        cli_fail(id, "create");
    }
    printf("%" PRId64 "\n", id);
    return 0;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            putchar('\\');
        }
        putchar(*s);
    }
    putchar('"');
}

int cmd_list(int argc, char **argv)
{
    struct pv_dominfo *d;
    bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
    int n = cli_list(&d);

    if (json) {
        printf("[");
        for (int i = 0; i < n; i++) {
            printf("%s{\"domid\":%u,\"name\":", i ? "," : "", d[i].domid);
            json_str(d[i].name);
            printf(",\"state\":\"%s\",\"reason\":\"%s\",\"memory_kib\":%" PRIu64
                   ",\"max_memory_kib\":%" PRIu64 ",\"vcpus\":%u,"
                   "\"connections\":%u,\"type\":\"%s\"}",
                   state_name(d[i].state), reason_name(d[i].reason),
                   d[i].tot_pages * 4, d[i].max_pages * 4, d[i].max_vcpus,
                   d[i].nr_conns,
                   d[i].domid == 0               ? "dom0"
                   : (d[i].flags & PV_CREATE_PV) ? "pv"
                                                 : "pvh");
        }
        printf("]\n");
    } else {
        printf("%-20s %5s %8s %5s %-9s %-10s %5s\n", "Name", "ID", "Mem(MiB)",
               "VCPUs", "State", "Reason", "Conns");
        for (int i = 0; i < n; i++) {
            printf("%-20s %5u %8" PRIu64 " %5u %-9s %-10s %5u\n", d[i].name,
                   d[i].domid, d[i].tot_pages / 256, d[i].max_vcpus,
                   state_name(d[i].state), reason_name(d[i].reason),
                   d[i].nr_conns);
        }
    }
    free(d);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    struct pv_dominfo *d;
    uint32_t id;
    int n;

    if (argc != 2) {
        cli_die("usage: procvisor info DOMAIN");
    }
    id = cli_domid(argv[1]);
    n = cli_list(&d);
    for (int i = 0; i < n; i++) {
        if (d[i].domid != id) {
            continue;
        }
        printf("domid:            %u\n", d[i].domid);
        printf("name:             %s\n", d[i].name);
        printf("type:             %s\n", d[i].domid == 0               ? "dom0"
                                         : (d[i].flags & PV_CREATE_PV) ? "pv"
                                                                       : "pvh");
        printf("state:            %s\n", state_name(d[i].state));
        printf("shutdown reason:  %s\n", reason_name(d[i].reason));
        printf("connections:      %u\n", d[i].nr_conns);
        printf("memory (KiB):     %" PRIu64 " of %" PRIu64 "\n",
               d[i].tot_pages * 4, d[i].max_pages * 4);
        printf("vcpus:            %u\n", d[i].max_vcpus);
        printf("max grant frames: %u\n", d[i].max_grant_frames);
        printf("max maptrack:     %u\n", d[i].max_maptrack);
        printf("max evtchn:       %u\n", d[i].max_evtchn);
        if (d[i].shinfo_gpfn == UINT64_MAX) {
            printf("shared_info gpfn: -\n");
        } else {
            printf("shared_info gpfn: %#" PRIx64 "\n", d[i].shinfo_gpfn);
        }
        printf("hypercalls:       %" PRIu64 "\n", d[i].cpu_hypercalls);
        printf("timer virqs:      %" PRIu64 "\n", d[i].timer_virqs);
        printf("created at (ns):  %" PRIu64 "\n", d[i].created_ns);
        free(d);
        return 0;
    }
    free(d);
    cli_die("no domain %u", id);
}

int cmd_destroy(int argc, char **argv)
{
    struct pv_domid_req r = {0};
    int64_t rc;

    if (argc != 2) {
        cli_die("usage: procvisor destroy DOMAIN");
    }
    r.domid = cli_domid(argv[1]);
    rc =
        pvc_call(cli_ctl(), PV_MSG_DESTROY, &r, sizeof(r), NULL, 0, NULL, NULL);
    if (rc < 0) {
        cli_fail(rc, "destroy");
    }
    return 0;
}

static int print_console(uint32_t domid)
{
    struct pv_domid_req r = {.domid = domid};
    uint8_t *buf = malloc(PV_PAYLOAD_MAX);
    size_t got = 0;
    int64_t n;

    if (!buf) {
        cli_die("out of memory");
    }
    n = pvc_call(cli_ctl(), PV_MSG_CONSOLE, &r, sizeof(r), buf, PV_PAYLOAD_MAX,
                 &got, NULL);
    if (n < 0) {
        cli_fail(n, "console");
    }
    if ((size_t)n > got - sizeof(struct pv_rep)) {
        n = (int64_t)(got - sizeof(struct pv_rep));
    }
    fwrite(buf + sizeof(struct pv_rep), 1, (size_t)n, stdout);
    free(buf);
    return 0;
}

int cmd_console(int argc, char **argv)
{
    if (argc != 2) {
        cli_die("usage: procvisor console DOMAIN");
    }
    return print_console(cli_domid(argv[1]));
}

int cmd_dmesg(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return print_console(DOMID_XEN);
}

int cmd_input(int argc, char **argv)
{
    int64_t rc;

    if (argc != 2 || strlen(argv[1]) == 0 || strlen(argv[1]) > 1024) {
        cli_die("usage: procvisor input TEXT (1 to 1024 bytes)");
    }
    rc = pvc_call(cli_ctl(), PV_MSG_INPUT, argv[1], strlen(argv[1]), NULL, 0,
                  NULL, NULL);
    if (rc < 0) {
        cli_fail(rc, "input");
    }
    return 0;
}

int cmd_evtchn(int argc, char **argv)
{
    static const char *const states[] = {
        "free", "reserved", "unbound", "interdomain", "pirq", "virq", "ipi"};
    struct pv_domid_req r = {0};
    uint8_t *buf = malloc(PV_PAYLOAD_MAX);
    struct pv_evtchn_info *e;
    size_t got = 0;
    int64_t n;

    if (argc != 2) {
        cli_die("usage: procvisor evtchn DOMAIN");
    }
    if (!buf) {
        cli_die("out of memory");
    }
    r.domid = cli_domid(argv[1]);
    n = pvc_call(cli_ctl(), PV_MSG_EVTCHN, &r, sizeof(r), buf, PV_PAYLOAD_MAX,
                 &got, NULL);
    if (n < 0) {
        cli_fail(n, "evtchn");
    }
    if (got < sizeof(struct pv_rep) + (size_t)n * sizeof(*e)) {
        cli_die("evtchn: short reply");
    }
    e = (struct pv_evtchn_info *)(buf + sizeof(struct pv_rep));
    printf("%5s %-12s %4s %-16s %7s %6s\n", "Port", "State", "VCPU", "Peer",
           "Pending", "Masked");
    for (int64_t i = 0; i < n; i++) {
        char peer[32] = "-";
        if (e[i].state == ECS_UNBOUND) {
            snprintf(peer, sizeof(peer), "d%u may bind", e[i].remote_dom);
        } else if (e[i].state == ECS_INTERDOMAIN) {
            snprintf(peer, sizeof(peer), "d%u:%u", e[i].remote_dom,
                     e[i].remote_port);
        } else if (e[i].state == ECS_VIRQ) {
            snprintf(peer, sizeof(peer), "virq %u", e[i].remote_port);
        }
        printf("%5u %-12s %4u %-16s %7u %6u\n", e[i].port,
               e[i].state < 7 ? states[e[i].state] : "?", e[i].vcpu, peer,
               e[i].pending, e[i].masked);
    }
    free(buf);
    return 0;
}

/* `procvisor gnttab DOMAIN`: the grant entries in use, their pins, and who
 * maps them. */
int cmd_gnttab(int argc, char **argv)
{
    struct pv_domid_req r = {0};
    uint8_t *buf = malloc(PV_PAYLOAD_MAX);
    struct pv_grant_info *g;
    size_t got = 0;
    int64_t n;

    if (argc != 2) {
        cli_die("usage: procvisor gnttab DOMAIN");
    }
    if (!buf) {
        cli_die("out of memory");
    }
    r.domid = cli_domid(argv[1]);
    n = pvc_call(cli_ctl(), PV_MSG_GNTTAB, &r, sizeof(r), buf, PV_PAYLOAD_MAX,
                 &got, NULL);
    if (n < 0) {
        cli_fail(n, "gnttab");
    }
    if (got < sizeof(struct pv_rep) + (size_t)n * sizeof(*g)) {
        cli_die("gnttab: short reply");
    }
    g = (struct pv_grant_info *)(buf + sizeof(struct pv_rep));
    printf("%6s %-7s %-18s %8s %6s %-6s %6s %s\n", "Ref", "Grantee", "Flags",
           "Frame", "RdPins", "WrPins", "Mapper", "Maps");
    for (int64_t i = 0; i < n; i++) {
        char flags[32], mapper[16] = "-";
        unsigned int type = g[i].flags & 3;
        snprintf(flags, sizeof(flags), "%s%s%s%s",
                 type == 1   ? "access"
                 : type == 2 ? "transfer"
                 : type == 3 ? "transitive"
                             : "invalid",
                 (g[i].flags & 4) ? ",ro" : "",
                 (g[i].flags & 8) ? ",reading" : "",
                 (g[i].flags & 16) ? ",writing" : "");
        if (g[i].mapper != 0x7ff4) {
            snprintf(mapper, sizeof(mapper), "d%u", g[i].mapper);
        }
        printf("%6u d%-6u %-18s %#8x %6u %6u %-6s %u\n", g[i].ref, g[i].domid,
               flags, g[i].frame, g[i].rd_pins, g[i].wr_pins, mapper,
               g[i].nmaps);
    }
    free(buf);
    return 0;
}
