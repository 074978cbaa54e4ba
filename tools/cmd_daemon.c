/* SPDX-License-Identifier: MIT */
/*
 * cmd_daemon.c - `procvisor daemon`, `down` and `env`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"

int cmd_daemon(int argc, char **argv)
{
    struct daemon_opts o = {.verbose = cli.verbose,
                            .host_pages = 4ull * 1024 * 1024 / 4};
    static struct daemon dm;
    char dir[256];
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            o.verbose = true;
        } else if (strcmp(argv[i], "--strict-console") == 0) {
            o.strict_console = true;
        } else if (strcmp(argv[i], "--tsc-stable") == 0) {
            o.tsc_stable = true;
        } else if (strcmp(argv[i], "--host-memory") == 0 && i + 1 < argc) {
            unsigned long mib = strtoul(argv[++i], NULL, 10);
            if (mib < 16 || mib > 1024 * 1024) {
                cli_die("--host-memory: 16 to 1048576 MiB");
            }
            o.host_pages = (uint64_t)mib * 256;
        } else if (strcmp(argv[i], "--gntalloc-limit") == 0 && i + 1 < argc) {
            /* Linux gntalloc's module parameter `limit` */
            unsigned long n = strtoul(argv[++i], NULL, 10);
            if (n < 1 || n > HV_MAX_GNTALLOC) {
                cli_die("--gntalloc-limit: 1 to %u pages", HV_MAX_GNTALLOC);
            }
            o.gntalloc_limit = (uint32_t)n;
        } else {
            cli_die("daemon: unknown option '%s'", argv[i]);
        }
    }
    rc = pvc_runtime_dir(dir, sizeof(dir));
    if (rc) {
        cli_fail(rc, "runtime directory");
    }
    o.dir = dir;
    rc = daemon_init(&dm, &o);
    if (rc) {
        if (rc == -EADDRINUSE) {
            cli_die("a hypervisor already serves %s", dir);
        }
        if (rc == -EPERM) {
            cli_die("%s must be a directory of this user with mode 0700", dir);
        }
        cli_fail(rc, "daemon");
    }
    rc = daemon_run(&dm);
    daemon_fini(&dm);
    return rc ? 1 : 0;
}

int cmd_down(int argc, char **argv)
{
    char dir[256];
    int fd;

    (void)argc;
    (void)argv;
    if (pvc_runtime_dir(dir, sizeof(dir)) == 0) {
        /* only stop a running hypervisor; never start one to stop it */
        fd = pvc_control_socket(false, cli.exe, false);
        if (fd < 0) {
            printf("no hypervisor is running in %s\n", dir);
            return 0;
        }
        if (pvc_init(&cli.ctl, fd) == 0) {
            int64_t r =
                pvc_call(&cli.ctl, PV_MSG_DOWN, NULL, 0, NULL, 0, NULL, NULL);
            if (r < 0) {
                cli_fail(r, "down");
            }
            /* wait until it has closed the socket */
            char b;
            while (read(fd, &b, 1) > 0) {
            }
            printf("hypervisor in %s stopped\n", dir);
        }
    }
    return 0;
}

int cmd_env(int argc, char **argv)
{
    char dir[256];

    (void)argc;
    (void)argv;
    if (pvc_runtime_dir(dir, sizeof(dir))) {
        cli_die("runtime directory name too long");
    }
    printf("export PROCVISOR_DIR='%s'\n", dir);
    printf("export XENSTORED_PATH='%s/xenstored.sock'\n", dir);
    return 0;
}
