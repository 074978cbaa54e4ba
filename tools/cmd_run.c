/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - `procvisor run DOMAIN -- CMD ARGS...`: run CMD as a process
 * of DOMAIN.  The child inherits a token for the domain (PROCVISOR_FD) and
 * the preload library; as root, a domU's processes also get their own
 * unprivileged uid so they cannot reach dom0's socket or other domains'
 * processes.  The child's exit status is passed through.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define DOMAIN_UID_BASE 0x70000000u /* domain N runs as uid base + N */

static pid_t child;

static void forward(int sig)
{
    if (child > 0) {
        kill(child, sig);
    }
}

static void preload_path(char *out, size_t n)
{
    const char *e = getenv("PROCVISOR_PRELOAD");
    char exe[sizeof(cli.exe)];

    if (e && *e) {
        snprintf(out, n, "%s", e);
        return;
    }
    snprintf(exe, sizeof(exe), "%s", cli.exe);
    snprintf(out, n, "%s/libprocvisor-preload.so", dirname(exe));
}

static void drop_privileges(uint32_t domid)
{
    const char *e = getenv("PROCVISOR_DOMAIN_UIDS");
    uid_t uid = DOMAIN_UID_BASE + domid;

    if (geteuid() != 0 || domid == 0 || (e && strcmp(e, "0") == 0)) {
        return;
    }
    if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
        setresuid(uid, uid, uid) < 0) {
        fprintf(stderr, "procvisor: cannot become uid %u: %s\n", uid,
                strerror(errno));
        _exit(126);
    }
}

int cmd_run(int argc, char **argv)
{
    struct pv_domid_req r = {0};
    char preload[4096], ldp[8192], num[32];
    int token = -1, status, i = 1;
    int64_t rc;
    struct stat st;

    if (i < argc && strcmp(argv[i], "--") == 0) {
        i++;
    }
    if (i + 2 >= argc + 0 || strcmp(argv[i + 1], "--") != 0 || i + 2 >= argc) {
        cli_die("usage: procvisor run DOMAIN -- CMD [ARGS...]");
    }
    r.domid = cli_domid(argv[i]);
    preload_path(preload, sizeof(preload));
    if (stat(preload, &st) < 0) {
        cli_die("preload library %s: %s", preload, strerror(errno));
    }
    rc =
        pvc_call(cli_ctl(), PV_MSG_TOKEN, &r, sizeof(r), NULL, 0, NULL, &token);
    if (rc < 0) {
        cli_fail(rc, "run");
    }
    if (token < 0) {
        cli_die("run: no token from the hypervisor");
    }

    const char *old = getenv("LD_PRELOAD");
    const char *first = getenv("PROCVISOR_PRELOAD_FIRST");
    /* ours goes last: a sanitizer runtime must stay first */
    snprintf(ldp, sizeof(ldp), "%s%s%s%s%s", first && *first ? first : "",
             first && *first ? ":" : "", old && *old ? old : "",
             old && *old ? ":" : "", preload);

    child = fork();
    if (child < 0) {
        cli_die("fork: %s", strerror(errno));
    }
    if (child == 0) {
        close(cli.ctl.fd);
        fcntl(token, F_SETFD, 0);
        snprintf(num, sizeof(num), "%d", token);
        setenv(PV_ENV_FD, num, 1);
        snprintf(num, sizeof(num), "%u", r.domid);
        setenv(PV_ENV_DOMID, num, 1);
        setenv("LD_PRELOAD", ldp, 1);
        if (r.domid == 0) {
            /* dom0's libxenstore talks to the store's socket directly; a
             * domU's reaches it through the preload library */
            char dir[256], xs[300];
            if (pvc_runtime_dir(dir, sizeof(dir)) == 0) {
                snprintf(xs, sizeof(xs), "%s/xenstored.sock", dir);
                setenv("XENSTORED_PATH", xs, 1);
            }
        }
        drop_privileges(r.domid);
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        execvp(argv[i + 2], argv + i + 2);
        fprintf(stderr, "procvisor: cannot run %s in d%u: %s\n", argv[i + 2],
                r.domid, strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    /* the domain lives in the child now, not here */
    close(token);
    pvc_fini(&cli.ctl);
    cli.have_ctl = false;
    signal(SIGINT, forward);
    signal(SIGTERM, forward);
    signal(SIGHUP, forward);
    signal(SIGQUIT, forward);
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            cli_die("waitpid: %s", strerror(errno));
        }
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 128 + WTERMSIG(status);
}
