/* SPDX-License-Identifier: MIT */
/*
 * cmd_vfio.c - `procvisor device ...` and `procvisor vfio ...`: dom0 adds
 * emulated PCI devices (each in a device-model process), assigns whole IOMMU
 * groups to domains, and reads the IOMMU's fault log (docs/vfio.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <grp.h>

#include "cli.h"

/* As root, a device model runs as uid DM_UID_BASE + its pid, with no new
 * privileges: it holds only what the hypervisor hands it (docs/vfio.md). */
#define DM_UID_BASE 0x6f000000u

/* The device-model program: $PROCVISOR_DM, or procvisor-dm beside us. */
static void dm_path(char *out, size_t n)
{
    const char *e = getenv("PROCVISOR_DM");
    char exe[sizeof(cli.exe)];

    if (e && *e) {
        snprintf(out, n, "%s", e);
        return;
    }
    snprintf(exe, sizeof(exe), "%s", cli.exe);
    snprintf(out, n, "%s/procvisor-dm", dirname(exe));
}

/* In the child: become the device model, serving the socket as fd 3. */
static void dm_exec(const char *path, const char *type, char *options, int sock)
{
    const char *e = getenv("PROCVISOR_DOMAIN_UIDS");
    char *argv[64], log[512], dir[256];
    int argc = 0, fd;

    setsid();
    if (dup2(sock, 3) < 0) {
        _exit(126);
    }
    if (pvc_runtime_dir(dir, sizeof(dir)) == 0) {
        snprintf(log, sizeof(log), "%s/devmodel-%d.log", dir, (int)getpid());
        fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
    }
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
    }
    closefrom(4);
    if (geteuid() == 0 && !(e && strcmp(e, "0") == 0)) {
        uid_t uid = DM_UID_BASE + (uid_t)getpid();
        if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
            setresuid(uid, uid, uid) < 0) {
            _exit(126);
        }
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    argv[argc++] = (char *)path;
    argv[argc++] = (char *)type;
    for (char *save = NULL, *t = strtok_r(options, " ", &save); t && argc < 60;
         t = strtok_r(NULL, " ", &save)) {
        argv[argc++] = t;
    }
    argv[argc++] = (char *)"--fd";
    argv[argc++] = (char *)"3";
    argv[argc] = NULL;
    execv(path, argv);
    fprintf(stderr, "procvisor: cannot run %s: %s\n", path, strerror(errno));
    _exit(127);
}

/* A connected socket to the device's vfio-user server: a device model we
 * start, or (type vfio-user, --socket PATH) a server already listening. */
static int dm_start(const char *type, const char *options, const char *sock,
                    pid_t *pid)
{
    char path[4096], opts[PV_VFIO_OPTS_MAX];
    struct stat st;
    int sv[2];

    *pid = -1;
    if (sock) {
        /* vfio-user is a byte stream */
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (strlen(sock) >= sizeof(sa.sun_path)) {
            cli_die("device add: socket path too long");
        }
        strcpy(sa.sun_path, sock);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            cli_die("device add: connect %s: %s", sock, strerror(errno));
        }
        return fd;
    }
    dm_path(path, sizeof(path));
    if (stat(path, &st) < 0) {
        cli_die("device model %s: %s", path, strerror(errno));
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        cli_die("socketpair: %s", strerror(errno));
    }
    snprintf(opts, sizeof(opts), "%s", options);
    *pid = fork();
    if (*pid < 0) {
        cli_die("fork: %s", strerror(errno));
    }
    if (*pid == 0) {
        close(sv[0]);
        dm_exec(path, type, opts, sv[1]);
    }
    close(sv[1]);
    return sv[0];
}

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

/* `procvisor device add TYPE [--group N] [--name BDF] [--socket PATH]
 * [MODEL OPTIONS...]`: prints "NAME GROUP". */
static int device_add(int argc, char **argv)
{
    struct pv_vfio_ctl_req r = {.op = PV_VFIO_CTL_DEVICE_ADD};
    const char *sock = NULL;
    size_t used = 0, got = 0;
    uint8_t *buf = malloc(PV_PAYLOAD_MAX);
    int64_t group;
    pid_t pid;
    int fd;

    if (argc < 2) {
        cli_die("usage: procvisor device add TYPE [--group N] [--name "
                "DDDD:BB:DD.F] [--socket PATH] [MODEL OPTIONS...]");
    }
    copy_field(r.type, sizeof(r.type), argv[1], "the device type");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
            r.group = parse_group(argv[++i]);
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            copy_field(r.name, sizeof(r.name), argv[++i], "the name");
        } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            sock = argv[++i];
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
    if (!buf) {
        cli_die("out of memory");
    }
    if (sock && strcmp(r.type, "vfio-user") != 0) {
        cli_die("device add: --socket goes with type vfio-user");
    }
    if (!sock && strcmp(r.type, "vfio-user") == 0) {
        cli_die("device add: type vfio-user needs --socket PATH");
    }
    fd = dm_start(r.type, r.options, sock, &pid);
    r.pid = pid > 0 ? (int32_t)pid : 0;
    group = pvc_call_full(cli_ctl(), PV_MSG_VFIO_CTL, &r, sizeof(r), &fd, 1,
                          buf, PV_PAYLOAD_MAX, &got, NULL, NULL);
    close(fd);
    if (group < 0) {
        if (pid > 0) {
            kill(pid, SIGKILL);
        }
        cli_fail(group, "device add");
    }
    if (got >= sizeof(struct pv_rep) + PV_VFIO_NAME_MAX &&
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
        char dom[16] = "-";
        if (f[i].domid != 0x7ff4u) {
            snprintf(dom, sizeof(dom), "d%u", f[i].domid);
        }
        printf("%14.6f %-14s %-6s %-5s %#18" PRIx64 " %8" PRIu64 " %s\n",
               (double)f[i].time_ns / 1e9, f[i].name, dom,
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
    cli_die("usage: procvisor device add TYPE [--group N] [--name BDF] "
            "[OPTIONS] | device add vfio-user --socket PATH | device del NAME");
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
