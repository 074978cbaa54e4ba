/* SPDX-License-Identifier: MIT */
/*
 * main.c - `procvisor COMMAND ...`: the command table and what the
 * commands share (the control connection, domain lookup, errors).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct cli cli;

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    {"daemon", cmd_daemon,
     "[-v] [--host-memory MIB] [--strict-console] "
     "[--tsc-stable] [--gntalloc-limit N]   run the hypervisor"},
    {"down", cmd_down, "                     stop the hypervisor"},
    {"create", cmd_create,
     "NAME [--memory MIB] [--vcpus N] [--max-grant-frames N] "
     "[--max-maptrack N] [--max-evtchn N] [--pv] [--console-io]"},
    {"list", cmd_list, "[--json]             domains and their state"},
    {"info", cmd_info, "DOMAIN               one domain in detail"},
    {"destroy", cmd_destroy, "DOMAIN            kill a domain's processes"},
    {"console", cmd_console, "DOMAIN            that domain's console output"},
    {"dmesg", cmd_dmesg, "                    the hypervisor's console ring"},
    {"input", cmd_input,
     "TEXT                feed the hypervisor's serial "
     "input (CONSOLEIO_read)"},
    {"evtchn", cmd_evtchn, "DOMAIN            a domain's event channel ports"},
    {"gnttab", cmd_gnttab,
     "DOMAIN            a domain's grants, pins and mappers"},
    {"device", cmd_device,
     "add TYPE [--group N] [--name BDF] [OPTS] | del NAME   "
     "device models"},
    {"vfio", cmd_vfio,
     "list | assign GROUP DOMAIN | release GROUP | faults   VFIO groups"},
    {"run", cmd_run, "DOMAIN -- CMD ARGS...   run CMD as a process of DOMAIN"},
    {"env", cmd_env, "                        shell exports for this instance"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: procvisor [-v] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].usage);
    }
    fprintf(f, "\nDOMAIN is a name or a domain id; 0 is the control domain.\n"
               "The runtime directory is $PROCVISOR_DIR (default "
               "$XDG_RUNTIME_DIR/procvisor,\nor /run/procvisor for root). "
               "Any command starts the hypervisor if none runs.\n");
}

void cli_die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "procvisor: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void cli_fail(int64_t err, const char *what)
{
    cli_die("%s: %s", what, strerror((int)-err));
}

struct pvc *cli_ctl(void)
{
    int fd, rc;

    if (cli.have_ctl) {
        return &cli.ctl;
    }
    fd = pvc_control_socket(true, cli.exe, cli.verbose);
    if (fd < 0) {
        cli_fail(fd, "cannot reach the hypervisor");
    }
    rc = pvc_init(&cli.ctl, fd);
    if (rc) {
        cli_fail(rc, "hypervisor handshake");
    }
    cli.have_ctl = true;
    return &cli.ctl;
}

int cli_list(struct pv_dominfo **out)
{
    struct pvc *c = cli_ctl();
    uint8_t *buf = malloc(PV_PAYLOAD_MAX);
    size_t got = 0;
    int64_t n;

    if (!buf) {
        cli_die("out of memory");
    }
    n = pvc_call(c, PV_MSG_LIST, NULL, 0, buf, PV_PAYLOAD_MAX, &got, NULL);
    if (n < 0) {
        cli_fail(n, "list");
    }
    if (got < sizeof(struct pv_rep) + (size_t)n * sizeof(struct pv_dominfo)) {
        cli_die("list: short reply");
    }
    memmove(buf, buf + sizeof(struct pv_rep),
            (size_t)n * sizeof(struct pv_dominfo));
    *out = (struct pv_dominfo *)buf;
    return (int)n;
}

uint32_t cli_domid(const char *arg)
{
    struct pv_dominfo *d;
    char *end;
    unsigned long id = strtoul(arg, &end, 10);
    int n;

    if (*arg && !*end) {
        return (uint32_t)id;
    }
    n = cli_list(&d);
    for (int i = 0; i < n; i++) {
        if (strcmp(d[i].name, arg) == 0 && d[i].state != PV_DOM_DEAD) {
            uint32_t r = d[i].domid;
            free(d);
            return r;
        }
    }
    cli_die("no domain named '%s'", arg);
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", cli.exe, sizeof(cli.exe) - 1);
    int i = 1;

    if (n <= 0) {
        cli_die("cannot find my own executable");
    }
    cli.exe[n] = '\0';
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-v") == 0) {
            cli.verbose = true;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (strcmp(argv[i], commands[k].name) == 0) {
            return commands[k].fn(argc - i, argv + i);
        }
    }
    fprintf(stderr, "procvisor: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return 2;
}
