/* SPDX-License-Identifier: MIT */
/*
 * gnt_probe.c - a domain's end of the grant tests, through Debian's
 * libxengnttab (xengntshr_* to share, xengnttab_* to map) and
 * libxenevtchn.  It prints key=value lines for gnttab.sh; the sharing side
 * takes commands on stdin so the script can order the two domains.
 *
 *   share DOM COUNT rw|ro       share pages, print refs=..., then obey
 *                               stdin: peek, unshare, quit
 *   map DOM REFS rw|ro          map REFS (comma-separated) in one mapping
 *   copy DOM REF                xengnttab_grant_copy both ways
 *   share-notify DOM            share a page, clear-byte + event notify
 *   map-notify DOM REF PORT     map it with a notify, then wait to be killed
 *   map-hold DOM REF            map one page, then obey stdin: read, write,
 *                               unmap, quit
 *   map-fork DOM REF            map, fork: the child must not see the page
 *   map2 DOM1 REF1 DOM2 REF2    one mapping of grants from two domains
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>

static uint32_t parse_refs(const char *s, uint32_t *refs, uint32_t max)
{
    uint32_t n = 0;
    char *end;

    while (*s && n < max) {
        refs[n++] = (uint32_t)strtoul(s, &end, 10);
        s = *end == ',' ? end + 1 : end;
        if (!*end) {
            break;
        }
    }
    return n;
}

static int share(int dom, uint32_t count, int writable)
{
    xengntshr_handle *sh = xengntshr_open(NULL, 0);
    uint32_t refs[64];
    char line[64];
    uint8_t *p;

    if (!sh || count > 64) {
        printf("open=%d\n", -errno);
        return 1;
    }
    p = xengntshr_share_pages(sh, (uint32_t)dom, (int)count, refs, writable);
    if (!p) {
        printf("share=%d\n", -errno);
        return 1;
    }
    for (uint32_t i = 0; i < count; i++) {
        snprintf((char *)p + i * 4096, 16, "page-%u", i);
    }
    printf("refs=");
    for (uint32_t i = 0; i < count; i++) {
        printf("%s%u", i ? "," : "", refs[i]);
    }
    printf("\nrefs_above_7=%d\n", refs[0] >= 8);
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
        if (strncmp(line, "peek", 4) == 0) {
            printf("p0=%.15s\n", (char *)p + 64);
        } else if (strncmp(line, "unshare", 7) == 0) {
            printf("unshare=%d\n", xengntshr_unshare(sh, p, count));
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        }
        fflush(stdout);
    }
    xengntshr_close(sh);
    return 0;
}

static int map(int dom, const char *list, int writable)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    uint32_t refs[64], domids[64], n = parse_refs(list, refs, 64);
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    uint8_t *p;

    for (uint32_t i = 0; i < n; i++) {
        domids[i] = (uint32_t)dom;
    }
    p = xengnttab_map_grant_refs(h, n, domids, refs, prot);
    if (!p) {
        printf("mapped=%d\n", -errno);
        return 0;
    }
    printf("mapped=1\n");
    int ok = 1;
    for (uint32_t i = 0; i < n; i++) {
        char want[16];
        snprintf(want, sizeof(want), "page-%u", i);
        ok &= strcmp((char *)p + i * 4096, want) == 0;
    }
    printf("contents=%d\n", ok);
    if (writable) {
        memcpy(p + 64, "from-client", 12);
    } else {
        printf("mprotect_rw=%d\n",
               mprotect(p, 4096, PROT_READ | PROT_WRITE) < 0 ? -errno : 0);
    }
    printf("unmap=%d\n", xengnttab_unmap(h, p, n));
    xengnttab_close(h);
    return 0;
}

static int copy(int dom, uint32_t ref)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    xengnttab_grant_copy_segment_t seg[2];
    char in[16] = {0}, out[] = "copied-in";

    memset(seg, 0, sizeof(seg));
    seg[0].source.foreign.ref = ref;
    seg[0].source.foreign.domid = (uint16_t)dom;
    seg[0].source.foreign.offset = 0;
    seg[0].dest.virt = in;
    seg[0].len = 6;
    seg[0].flags = GNTCOPY_source_gref;
    seg[1].source.virt = out;
    seg[1].dest.foreign.ref = ref;
    seg[1].dest.foreign.domid = (uint16_t)dom;
    seg[1].dest.foreign.offset = 64;
    seg[1].len = sizeof(out);
    seg[1].flags = GNTCOPY_dest_gref;
    printf("copy=%d\n", xengnttab_grant_copy(h, 2, seg));
    printf("copy_status=%d,%d\n", seg[0].status, seg[1].status);
    printf("copied_out=%s\n", in);
    /* a ref never granted: the segment fails, the call does not */
    seg[0].source.foreign.ref = 4000;
    printf("copy_bad=%d\n", xengnttab_grant_copy(h, 1, seg));
    printf("copy_bad_status=%d\n", seg[0].status);
    xengnttab_close(h);
    return 0;
}

static int share_notify(int dom)
{
    xengntshr_handle *sh = xengntshr_open(NULL, 0);
    xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
    uint32_t ref;
    int port;
    uint8_t *p;

    port = xenevtchn_bind_unbound_port(ev, (uint32_t)dom);
    p = xengntshr_share_page_notify(sh, (uint32_t)dom, &ref, 1, 4095,
                                    (uint32_t)-1);
    if (!p || port < 0) {
        printf("share=%d\n", -errno);
        return 1;
    }
    p[0] = 1;
    printf("ref=%u\nport=%d\n", ref, port);
    fflush(stdout);
    int got = xenevtchn_pending(ev);
    printf("event=%d\n", got == port);
    printf("byte0=%d\n", p[0]);
    fflush(stdout);
    xengntshr_unshare(sh, p, 1);
    return 0;
}

static __attribute__((noreturn)) void map_notify(int dom, uint32_t ref,
                                                 uint32_t rport)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    xenevtchn_handle *ev = xenevtchn_open(NULL, 0);
    int local = xenevtchn_bind_interdomain(ev, (uint32_t)dom, rport);
    uint8_t *p;

    p = xengnttab_map_grant_ref_notify(
        h, (uint32_t)dom, ref, PROT_READ | PROT_WRITE, 0, (uint32_t)local);
    printf("mapped=%d\nbyte0=%d\n", p != NULL, p ? p[0] : -1);
    fflush(stdout);
    for (;;) {
        pause(); /* until SIGKILL */
    }
}

static int map_hold(int dom, uint32_t ref)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    uint8_t *p =
        xengnttab_map_grant_ref(h, (uint32_t)dom, ref, PROT_READ | PROT_WRITE);
    char line[64];

    printf("mapped=%d\n", p != NULL);
    while (p && fgets(line, sizeof(line), stdin)) {
        if (strncmp(line, "read", 4) == 0) {
            printf("at128=%.15s\n", (char *)p + 128);
        } else if (strncmp(line, "write ", 6) == 0) {
            line[strcspn(line, "\n")] = 0;
            memcpy(p + 128, line + 6, strnlen(line + 6, 15) + 1);
            printf("wrote=1\n");
        } else if (strncmp(line, "unmap", 5) == 0) {
            printf("unmap=%d\n", xengnttab_unmap(h, p, 1));
            p = NULL;
        }
    }
    xengnttab_close(h);
    return 0;
}

static int map_fork(int dom, uint32_t ref)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    volatile uint8_t *p =
        xengnttab_map_grant_ref(h, (uint32_t)dom, ref, PROT_READ);
    int st = 0;
    pid_t c;

    printf("mapped=%d\n", p != NULL);
    fflush(stdout);
    if (!p) {
        return 1;
    }
    c = fork();
    if (c == 0) {
        /* not inherited: nothing is mapped there in the child (mincore
         * says ENOMEM; a read would fault) */
        unsigned char vec;
        _exit(mincore((void *)p, 4096, &vec) < 0 && errno == ENOMEM ? 0 : 1);
    }
    waitpid(c, &st, 0);
    printf("child_unmapped=%d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("parent_read=%d\n", p[0] == 'p');
    xengnttab_unmap(h, (void *)p, 1);
    return 0;
}

static int map2(uint32_t d1, uint32_t r1, uint32_t d2, uint32_t r2)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    uint32_t doms[2] = {d1, d2}, refs[2] = {r1, r2};
    uint8_t *p =
        xengnttab_map_grant_refs(h, 2, doms, refs, PROT_READ | PROT_WRITE);

    printf("mapped=%d\n", p != NULL);
    if (p) {
        /* each sharer wrote "page-0" in its first page */
        printf("first=%.6s\nsecond=%.6s\n", (char *)p, (char *)p + 4096);
        memcpy(p + 64, "from-client", 12);
        memcpy(p + 4096 + 64, "from-client", 12);
        printf("unmap=%d\n", xengnttab_unmap(h, p, 2));
    }
    xengnttab_close(h);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 5 && strcmp(argv[1], "share") == 0) {
        return share(atoi(argv[2]), (uint32_t)atoi(argv[3]),
                     strcmp(argv[4], "rw") == 0);
    }
    if (argc >= 5 && strcmp(argv[1], "map") == 0) {
        return map(atoi(argv[2]), argv[3], strcmp(argv[4], "rw") == 0);
    }
    if (argc >= 4 && strcmp(argv[1], "copy") == 0) {
        return copy(atoi(argv[2]), (uint32_t)atoi(argv[3]));
    }
    if (argc >= 3 && strcmp(argv[1], "share-notify") == 0) {
        return share_notify(atoi(argv[2]));
    }
    if (argc >= 5 && strcmp(argv[1], "map-notify") == 0) {
        map_notify(atoi(argv[2]), (uint32_t)atoi(argv[3]),
                   (uint32_t)atoi(argv[4]));
    }
    if (argc >= 4 && strcmp(argv[1], "map-hold") == 0) {
        return map_hold(atoi(argv[2]), (uint32_t)atoi(argv[3]));
    }
    if (argc >= 6 && strcmp(argv[1], "map2") == 0) {
        return map2((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]),
                    (uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[5]));
    }
    if (argc >= 4 && strcmp(argv[1], "map-fork") == 0) {
        return map_fork(atoi(argv[2]), (uint32_t)atoi(argv[3]));
    }
    fprintf(stderr, "usage: see the comment at the top of gnt_probe.c\n");
    return 2;
}
