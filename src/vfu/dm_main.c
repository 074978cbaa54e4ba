/* SPDX-License-Identifier: MIT */
/*
 * dm_main.c - procvisor-dm, a device-model process speaking vfio-user
 * (server side) for one emulated PCI function:
 *
 *   procvisor-dm TYPE [MODEL OPTIONS] --fd N        serve the connected
 *       AF_UNIX stream socket inherited as fd N; exit 0 when it closes
 *   procvisor-dm TYPE [MODEL OPTIONS] --socket PATH  listen at PATH and
 *       serve one client at a time until SIGTERM
 *
 * TYPE is edu ([--dma-mask BITS]) or mtty ([--ports 1|2]).  The spec's
 * backend conventions hold: no daemonizing, --fd=N and --socket-path=PATH
 * spellings too, SIGTERM (and SIGINT) end it cleanly with status 0.
 * -q silences the log of refused DMAs and protocol errors on stderr.
 * Exit status: 0 as above, 1 on a failure, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfu_devices.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: procvisor-dm TYPE [MODEL OPTIONS] (--fd N | --socket "
            "PATH) [-q]\n"
            "  edu  %s\n  mtty %s\n",
            vfu_model_edu.options, vfu_model_mtty.options);
    exit(2);
}

/* "--name VALUE" or "--name=VALUE": the value, advancing *i, or NULL */
static const char *opt(int argc, char **argv, int *i, const char *name)
{
    size_t l = strlen(name);

    if (strcmp(argv[*i], name) == 0) {
        if (*i + 1 >= argc) {
            usage();
        }
        return argv[++*i];
    }
    if (strncmp(argv[*i], name, l) == 0 && argv[*i][l] == '=') {
        return argv[*i] + l + 1;
    }
    return NULL;
}

static int parse_fd(const char *s)
{
    char *end;
    long v;
    int type = 0;
    socklen_t len = sizeof(type);

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < 0 || v > 1 << 20) {
        fprintf(stderr, "procvisor-dm: bad descriptor '%s'\n", s);
        exit(2);
    }
    if (getsockopt((int)v, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        type != SOCK_STREAM) {
        fprintf(stderr, "procvisor-dm: fd %ld is not a stream socket\n", v);
        exit(2);
    }
    fcntl((int)v, F_SETFD, FD_CLOEXEC);
    return (int)v;
}

int main(int argc, char **argv)
{
    const struct vfu_model *model;
    const char *path = NULL, *v;
    char **margv;
    int margc = 0, fd = -1, sfd, rc;
    bool quiet = false;
    struct vfu_dev *dev;
    sigset_t set;

    if (argc < 2 || argv[1][0] == '-') {
        usage();
    }
    model = vfu_model_find(argv[1]);
    if (!model) {
        fprintf(stderr, "procvisor-dm: unknown device type '%s'\n", argv[1]);
        usage();
    }
    margv = calloc((size_t)argc, sizeof(*margv));
    if (!margv) {
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        if ((v = opt(argc, argv, &i, "--fd"))) {
            fd = parse_fd(v);
        } else if ((v = opt(argc, argv, &i, "--socket")) ||
                   (v = opt(argc, argv, &i, "--socket-path"))) {
            path = v;
        } else if (strcmp(argv[i], "-q") == 0 ||
                   strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else {
            margv[margc++] = argv[i];
        }
    }
    if ((fd < 0) == (path == NULL)) {
        free(margv);
        usage();
    }
    rc = model->create(margc, margv, &dev);
    free(margv);
    if (rc) {
        fprintf(stderr, "procvisor-dm: cannot create %s: %s\n", model->name,
                strerror(-rc));
        return rc == -EINVAL ? 2 : 1;
    }
    vfu_dev_set_quiet(dev, quiet);

    /* SIGTERM and SIGINT arrive as a readable descriptor on the loop */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        perror("procvisor-dm: signalfd");
        model->destroy(dev);
        return 1;
    }
    if (path) {
        rc = vfu_dev_serve_socket(dev, path, sfd);
    } else {
        rc = vfu_dev_serve_fd(dev, fd, sfd);
    }
    model->destroy(dev);
    close(sfd);
    if (rc < 0) {
        fprintf(stderr, "procvisor-dm: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}
