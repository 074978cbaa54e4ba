/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - procvisord's event loop: the control socket, connections,
 * the hypervisor timers and the periodic pvclock re-anchoring.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "devmodel.h"

/* epoll cookies for the daemon's own descriptors */
static char tag_listen, tag_xs_listen, tag_timer, tag_clock, tag_signal;

void daemon_log(struct daemon *dm, const char *fmt, ...)
{
    char line[640];
    struct timespec ts;
    va_list ap;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    n = snprintf(line, sizeof(line), "[%lld.%06ld] ", (long long)ts.tv_sec,
                 ts.tv_nsec / 1000);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2) {
        n = (int)sizeof(line) - 2;
    }
    line[n++] = '\n';
    if (dm->log_fd >= 0) {
        (void)!write(dm->log_fd, line, (size_t)n);
    }
    if (dm->verbose) {
        (void)!write(STDERR_FILENO, line, (size_t)n);
    }
}

void daemon_arm_timer(struct daemon *dm)
{
    uint64_t next = hv_next_deadline(&dm->hv);
    struct itimerspec its = {0};

    if (dm->timer_fd < 0) {
        return;
    }
    if (next) {
        /* deadlines are bounded by the core (2^62 ns); saturate anyway */
        uint64_t abs = dm->hv.boot_ns + next < next ? UINT64_MAX / 2
                                                    : dm->hv.boot_ns + next;
        its.it_value.tv_sec = (time_t)(abs / 1000000000ull);
        its.it_value.tv_nsec = (long)(abs % 1000000000ull);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) {
            its.it_value.tv_nsec = 1;
        }
    }
    timerfd_settime(dm->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void clock_anchor(struct daemon *dm)
{
    struct timespec m, w;
    uint64_t tsc;

    clock_gettime(CLOCK_MONOTONIC, &m);
    tsc = daemon_rdtsc();
    clock_gettime(CLOCK_REALTIME, &w);
    hv_time_anchor(&dm->hv, dm->tsc_hz, dm->tsc_stable, tsc,
                   (uint64_t)m.tv_sec * 1000000000ull + (uint64_t)m.tv_nsec,
                   (uint64_t)w.tv_sec * 1000000000ull + (uint64_t)w.tv_nsec);
}

static int epoll_add(struct daemon *dm, int fd, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};

    return epoll_ctl(dm->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int listen_on(struct daemon *dm)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char lock[300];
    int fd;

    snprintf(lock, sizeof(lock), "%s/procvisord.lock", dm->dir);
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return -errno;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return -EADDRINUSE; /* another daemon serves this directory */
    }
    /* the lock is held for the daemon's life through this descriptor; it
     * also says which process serves the directory */
    char pid[24];
    int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == 0) {
        (void)!pwrite(fd, pid, (size_t)n, 0);
    }
    if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock", dm->dir) >=
        (int)sizeof(sa.sun_path)) {
        return -ENAMETOOLONG;
    }
    unlink(sa.sun_path);
    dm->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (dm->listen_fd < 0) {
        return -errno;
    }
    mode_t old = umask(0077);
    int rc = bind(dm->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || chmod(sa.sun_path, 0600) < 0 ||
        listen(dm->listen_fd, 128) < 0) {
        return -errno;
    }
    return 0;
}

int daemon_init(struct daemon *dm, const struct daemon_opts *o)
{
    struct hv_env env = daemon_env_template;
    struct hv_domain_cfg dom0 = {
        .name = "Domain-0",
        .memory_kib = HV_DEFAULT_MEMORY_KIB,
        .max_grant_frames = HV_DEFAULT_GRANT_FRAMES,
        .max_maptrack = HV_DEFAULT_MAPTRACK,
        .max_evtchn = HV_DEFAULT_EVTCHN,
        .max_vcpus = 1,
        .flags = PV_CREATE_PV, /* dom0 is a PV guest, as in Xen */
    };
    struct hv_domain *d0;
    char path[300];
    sigset_t ss;
    int rc;

    memset(dm, 0, sizeof(*dm));
    dm->listen_fd = dm->timer_fd = dm->signal_fd = dm->log_fd = -1;
    dm->spare_fd = -1;
    dm->xs_listen_fd = -1;
    dm->xs_log_fd = -1;
    /* as many descriptors as allowed; connection caps follow from it */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    uint64_t fds = rl.rlim_cur > 1u << 20 ? 1u << 20 : rl.rlim_cur;
    uint64_t reserved = 2 * DAEMON_MAX_CONTROL + DAEMON_MAX_XS + 64;
    uint64_t room = fds > reserved ? (fds - reserved) / 2 : 16;
    dm->max_conns =
        room < DAEMON_MAX_CONNS ? (unsigned int)room : DAEMON_MAX_CONNS;
    dm->max_dom_conns = dm->max_conns < DAEMON_MAX_DOMAIN_CONNS * 2
                            ? dm->max_conns / 2
                            : DAEMON_MAX_DOMAIN_CONNS;
    dm->clock_fd = -1;
    dm->epfd = -1;
    dm->verbose = o->verbose;
    if (snprintf(dm->dir, sizeof(dm->dir), "%s", o->dir) >=
        (int)sizeof(dm->dir)) {
        return -ENAMETOOLONG;
    }
    if (mkdir(dm->dir, 0700) < 0 && errno != EEXIST) {
        return -errno;
    }
    /* a directory someone else made or can write is not ours to trust */
    struct stat st;
    if (lstat(dm->dir, &st) < 0) {
        return -errno;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
        return -EPERM;
    }
    snprintf(path, sizeof(path), "%s/procvisord.log", dm->dir);
    dm->log_fd = open(
        path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);

    dm->rx = malloc(PV_MSG_MAX + 1);
    dm->tx = malloc(PV_MSG_MAX);
    dm->out = malloc(PV_MSG_MAX);
    dm->scratch = malloc(PV_PAYLOAD_MAX);
    dm->regions = calloc(PV_REGIONS_MAX, sizeof(*dm->regions));
    if (!dm->rx || !dm->tx || !dm->out || !dm->scratch || !dm->regions) {
        return -ENOMEM;
    }
    rc = listen_on(dm);
    if (rc) {
        return rc;
    }
    /* the store and its socket, there as soon as ctl.sock is */
    rc = xsd_init(dm);
    if (rc) {
        return rc;
    }
    rc = vfiod_init(dm);
    if (rc) {
        return rc;
    }
    dm->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    dm->epfd = epoll_create1(EPOLL_CLOEXEC);
    dm->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    dm->clock_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGHUP);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    signal(SIGPIPE, SIG_IGN);
    dm->signal_fd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
    if (dm->epfd < 0 || dm->timer_fd < 0 || dm->clock_fd < 0 ||
        dm->signal_fd < 0) {
        return -errno;
    }
    struct itimerspec every = {.it_interval = {1, 0}, .it_value = {1, 0}};
    timerfd_settime(dm->clock_fd, 0, &every, NULL);
    if ((rc = epoll_add(dm, dm->listen_fd, &tag_listen)) ||
        (rc = epoll_add(dm, dm->timer_fd, &tag_timer)) ||
        (rc = epoll_add(dm, dm->clock_fd, &tag_clock)) ||
        (rc = epoll_add(dm, dm->signal_fd, &tag_signal)) ||
        (rc = epoll_add(dm, dm->xs_listen_fd, &tag_xs_listen))) {
        return rc;
    }

    rc = daemon_tsc_calibrate(&dm->tsc_hz, &dm->tsc_stable);
    if (rc) {
        return rc;
    }
    /* Xen sets TSC_STABLE only with clocksource=tsc; so do we, on request */
    dm->tsc_stable = dm->tsc_stable && o->tsc_stable;
    env.ctx = dm;
    rc = hv_init(&dm->hv, &env, o->host_pages);
    if (rc) {
        return rc;
    }
    dm->hv.console_write_all = !o->strict_console;
    if (o->gntalloc_limit) {
        dm->hv.gntalloc_limit = o->gntalloc_limit;
    }
    clock_anchor(dm);
    rc = hv_domain_create(&dm->hv, &dom0, &d0);
    if (rc) {
        return rc;
    }
    /* dom0's nodes; domains' nodes follow their life */
    xsd_domain_created(dm, d0);
    daemon_log(dm,
               "procvisord %d up in %s: tsc %" PRIu64 " Hz, %" PRIu64
               " host pages",
               (int)getpid(), dm->dir, dm->tsc_hz, o->host_pages);
    return 0;
}

/*
 * Accept a dom0 client on a listening socket: -1 when there is none, when
 * it is not the daemon's own uid or root, or when the daemon is out of
 * descriptors (the spare one is then used to take the client off the queue
 * and refuse it, instead of spinning on a ready listener).
 */
int daemon_accept(struct daemon *dm, int listen_fd, int flags, const char *what)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | flags);
    struct ucred cr;
    socklen_t sl = sizeof(cr);

    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && dm->spare_fd >= 0) {
        close(dm->spare_fd);
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            close(fd);
        }
        dm->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        daemon_log(dm, "out of descriptors: refused a %s client", what);
        return -1;
    }
    if (fd < 0) {
        return -1;
    }
    /* the socket is mode 0600, and only its owner (or root) is dom0 */
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0 ||
        (cr.uid != geteuid() && cr.uid != 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void on_accept(struct daemon *dm)
{
    int fd = daemon_accept(dm, dm->listen_fd, 0, "control");

    if (fd >= 0) {
        conn_new(dm, fd, CONN_CONTROL, NULL);
    }
}

int daemon_run(struct daemon *dm)
{
    struct epoll_event evs[64];

    while (!dm->stop) {
        int n = epoll_wait(dm->epfd, evs, 64, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            uint64_t ticks;
            if (tag == &tag_listen) {
                on_accept(dm);
            } else if (tag == &tag_xs_listen) {
                xsd_accept(dm);
            } else if (tag == &tag_timer) {
                (void)!read(dm->timer_fd, &ticks, sizeof(ticks));
                hv_run_timers(&dm->hv);
                daemon_arm_timer(dm);
            } else if (tag == &tag_clock) {
                (void)!read(dm->clock_fd, &ticks, sizeof(ticks));
                clock_anchor(dm);
            } else if (tag == &tag_signal) {
                struct signalfd_siginfo si;
                (void)!read(dm->signal_fd, &si, sizeof(si));
                daemon_log(dm, "signal %u: shutting down", si.ssi_signo);
                dm->stop = true;
            } else {
                struct conn *c = tag;
                if (!c->dead && (evs[i].events & EPOLLOUT)) {
                    conn_output(dm, c);
                }
                if (!c->dead && (evs[i].events & ~(uint32_t)EPOLLOUT)) {
                    conn_input(dm, c);
                }
            }
        }
        conn_reap(dm);
        /* output taken and connections gone may have freed the quotas of
         * a domain whose store connections are not read */
        xsd_resume(dm);
    }
    return 0;
}

void daemon_fini(struct daemon *dm)
{
    /* first the name, so nobody connects to a daemon that is going away */
    if (dm->listen_fd >= 0) {
        char path[300];
        snprintf(path, sizeof(path), "%s/ctl.sock", dm->dir);
        unlink(path);
    }
    for (struct conn *c = dm->conns; c; c = c->next) {
        conn_close(dm, c);
    }
    conn_reap(dm);
    hv_fini(&dm->hv);
    xsd_fini(dm);
    vfiod_fini(dm);
    free(dm->rx);
    free(dm->tx);
    free(dm->out);
    free(dm->scratch);
    free(dm->regions);
    if (dm->listen_fd >= 0) {
        close(dm->listen_fd);
    }
    int fds[] = {dm->epfd, dm->timer_fd, dm->clock_fd, dm->signal_fd};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    daemon_log(dm, "procvisord stopped");
    if (dm->log_fd >= 0) {
        close(dm->log_fd);
    }
    if (dm->spare_fd >= 0) {
        close(dm->spare_fd);
    }
}
