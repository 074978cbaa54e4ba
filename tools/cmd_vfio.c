/* SPDX-License-Identifier: MIT */
/*
 * cmd_vfio.c - `procvisor device ...` and `procvisor vfio ...`: dom0 adds
 * emulated PCI devices (each in a device-model process), assigns whole IOMMU
 * groups to domains, and reads the IOMMU's fault log (docs/vfio.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One control request; the reply payload after pv_rep goes to *payload
 * (a PV_PAYLOAD_MAX buffer the caller frees).  Exits on an error. */
static int64_t vfio_ctl(struct pv_vfio_ctl_req *r, const char *what,
                        uint8_t **payload, size_t *len)
{
    uint8_t *buf = malloc(PV_PAYLOAD_MAX);
    size_t got = 0;
    int64_t n;

    if (!buf) {
        cli_die("out of memory");
    }
    n = pvc_call(cli_ctl(), PV_MSG_VFIO_CTL, r, sizeof(*r), buf, PV_PAYLOAD_MAX,
                 &got, NULL);
    if (n < 0) {
        cli_fail(n, what);
    }
    if (got < sizeof(struct pv_rep)) {
        cli_die("%s: short reply", what);
    }
    if (payload) {
        *payload = buf;
        *len = got - sizeof(struct pv_rep);
    } else {
        free(buf);
    }
    return n;
}

static void copy_field(char *dst, size_t cap, const char *src, const char *what)
{
    if (strlen(src) >= cap) {
        cli_die("%s is too long (at most %zu bytes)", what, cap - 1);
    }
    strcpy(dst, src);
}

static uint32_t parse_group(const char *s)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v == 0 || v > UINT32_MAX) {
        cli_die("bad group number '%s'", s);
    }
    return (uint32_t)v;
}

/* `procvisor device add TYPE [--group N] [--name BDF] [MODEL OPTIONS...]`:
 * prints "NAME GROUP". */
static int device_add(int argc, char **argv)
{
    struct pv_vfio_ctl_req r = {.op = PV_VFIO_CTL_DEVICE_ADD};
    size_t used = 0;
    uint8_t *buf;
    size_t len;
    int64_t group;

    if (argc < 2) {
        cli_die("usage: procvisor device add TYPE [--group N] [--name "
                "DDDD:BB:DD.F] [MODEL OPTIONS...]");
    }
    copy_field(r.type, sizeof(r.type), argv[1], "the device type");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
            r.group = parse_group(argv[++i]);
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            copy_field(r.name, sizeof(r.name), argv[++i], "the name");
        } else {
            /* the model's own options, space-separated for the daemon */
            size_t n = strlen(argv[i]);
            if (strchr(argv[i], ' ') || used + n + 2 > sizeof(r.options)) {
                cli_die("model options: too long, or '%s' has a space",
                        argv[i]);
            }
            if (used) {
                r.options[used++] = ' ';
            }
            memcpy(r.options + used, argv[i], n + 1);
            used += n;
        }
    }
    group = vfio_ctl(&r, "device add", &buf, &len);
    if (len >= PV_VFIO_NAME_MAX &&
        memchr(buf + sizeof(struct pv_rep), 0, PV_VFIO_NAME_MAX)) {
        printf("%s %" PRId64 "\n", (char *)buf + sizeof(struct pv_rep), group);
    } else {
        printf("? %" PRId64 "\n", group);
    }
    free(buf);
    return 0;
}

static int device_del(int argc, char **argv)
{
    struct pv_vfio_ctl_req r = {.op = PV_VFIO_CTL_DEVICE_DEL};

    if (argc != 2) {
        cli_die("usage: procvisor device del NAME");
    }
    copy_field(r.name, sizeof(r.name), argv[1], "the name");
    vfio_ctl(&r, "device del", NULL, NULL);
    return 0;
}

static int vfio_list(void)
{
    struct pv_vfio_ctl_req r = {.op = PV_VFIO_CTL_LIST};
    struct pv_vfio_devinfo *d;
    uint8_t *buf;
    size_t len;
    int64_t n = vfio_ctl(&r, "vfio list", &buf, &len);

    if ((size_t)n > len / sizeof(*d)) {
        cli_die("vfio list: short reply");
    }
    d = (struct pv_vfio_devinfo *)(buf + sizeof(struct pv_rep));
    printf("%-14s %-6s %5s %-9s %-6s %7s %5s %6s %s\n", "Device", "Type",
           "Group", "Vendor", "Domain", "Model", "Opens", "Faults", "State");
    for (int64_t i = 0; i < n; i++) {
        char dom[16] = "-", pid[16] = "-";
        d[i].name[PV_VFIO_NAME_MAX - 1] = '\0';
        d[i].type[PV_VFIO_NAME_MAX - 1] = '\0';
        if (d[i].domid != 0x7ff4u) {
            snprintf(dom, sizeof(dom), "d%u", d[i].domid);
        }
        if (d[i].pid > 0) {
            snprintf(pid, sizeof(pid), "%d", d[i].pid);
        }
        printf("%-14s %-6s %5u %04x:%04x %-6s %7s %5u %6" PRIu64 " %s\n",
               d[i].name, d[i].type, d[i].group, d[i].vendor, d[i].device, dom,
               pid, d[i].opens, d[i].faults,
               (d[i].flags & PV_VFIO_DEV_DEAD) ? "dead" : "running");
    }
    free(buf);
    return 0;
}

static int vfio_faults(void)
{
    struct pv_vfio_ctl_req r = {.op = PV_VFIO_CTL_FAULTS};
    struct pv_vfio_fault *f;
    uint8_t *buf;
    size_t len;
    int64_t n = vfio_ctl(&r, "vfio faults", &buf, &len);

    if ((size_t)n > len / sizeof(*f)) {
        cli_die("vfio faults: short reply");
    }
    f = (struct pv_vfio_fault *)(buf + sizeof(struct pv_rep));
    printf("%14s %-14s %-6s %-5s %18s %8s %s\n", "Time(s)", "Device", "Domain",
           "Dir", "IOVA", "Length", "Reason");
    for (int64_t i = 0; i < n; i++) {
        f[i].name[PV_VFIO_NAME_MAX - 1] = '\0';
        printf("%14.6f %-14s d%-5u %-5s %#18" PRIx64 " %8" PRIu64 " %s\n",
               (double)f[i].time_ns / 1e9, f[i].name, f[i].domid,
               (f[i].flags & 1) ? "write" : "read", f[i].iova, f[i].len,
               strerror(-f[i].reason));
    }
    free(buf);
    return 0;
}

/* `procvisor device add|del ...` */
int cmd_device(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "add") == 0) {
        return device_add(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "del") == 0) {
        return device_del(argc - 1, argv + 1);
    }
    cli_die("usage: procvisor device add TYPE [OPTIONS] | device del NAME");
}

/* `procvisor vfio list|assign GROUP DOMAIN|release GROUP|faults` */
int cmd_vfio(int argc, char **argv)
{
    struct pv_vfio_ctl_req r = {0};

    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        return vfio_list();
    }
    if (argc == 2 && strcmp(argv[1], "faults") == 0) {
        return vfio_faults();
    }
    if (argc == 4 && strcmp(argv[1], "assign") == 0) {
        r.op = PV_VFIO_CTL_ASSIGN;
        r.group = parse_group(argv[2]);
        r.domid = cli_domid(argv[3]);
        vfio_ctl(&r, "vfio assign", NULL, NULL);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "release") == 0) {
        r.op = PV_VFIO_CTL_RELEASE;
        r.group = parse_group(argv[2]);
        vfio_ctl(&r, "vfio release", NULL, NULL);
        return 0;
    }
    cli_die("usage: procvisor vfio list | assign GROUP DOMAIN | release GROUP "
            "| faults");
}
