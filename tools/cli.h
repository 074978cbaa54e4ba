/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the procvisor command line: one file per group of subcommands,
 * one table in main.c.
 */
#ifndef PROCVISOR_CLI_H
#define PROCVISOR_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"

struct cli {
    bool verbose;
    char exe[4096]; /* this binary, to start the daemon */
    struct pvc ctl;
    bool have_ctl;
};

extern struct cli cli;

/* The control connection, starting the daemon if none runs.  Exits with a
 * message on failure. */
struct pvc *cli_ctl(void);
/* Resolve a domain name or id (exits on failure). */
uint32_t cli_domid(const char *arg);
/* Fetch all domain records; returns the count (exits on failure). */
int cli_list(struct pv_dominfo **out);
void cli_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void cli_fail(int64_t err, const char *what) __attribute__((noreturn));

int cmd_daemon(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_dmesg(int argc, char **argv);
int cmd_input(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_env(int argc, char **argv);
int cmd_evtchn(int argc, char **argv);
int cmd_gnttab(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_vfio(int argc, char **argv);

#endif
