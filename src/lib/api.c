/* SPDX-License-Identifier: MIT */
/*
 * api.c - libprocvisor's public API (include/procvisor/procvisor.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <x86intrin.h>

#include "xen_abi.h"

#include "client.h"
#include "pvclock.h"
#include "procvisor/procvisor.h"

#define PV_EXPORT __attribute__((visibility("default")))

struct pv_handle {
    struct pvc conn;
    unsigned int vcpu;
    struct shared_info *shinfo;
    struct start_info *sinfo;
    int upcall[XEN_LEGACY_MAX_VCPUS];
    grant_entry_v1_t *gnttab;
    size_t gnttab_bytes;
};

PV_EXPORT pv_handle *pv_open(void)
{
    pv_handle *h = calloc(1, sizeof(*h));
    int fd, rc;

    if (!h) {
        return NULL;
    }
    fd = pvc_domain_socket();
    if (fd < 0) {
        free(h);
        errno = -fd;
        return NULL;
    }
    rc = pvc_init(&h->conn, fd);
    if (rc) {
        close(fd);
        free(h);
        errno = -rc;
        return NULL;
    }
    for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++) {
        h->upcall[i] = -1;
    }
    return h;
}

PV_EXPORT void pv_close(pv_handle *h)
{
    if (!h) {
        return;
    }
    if (h->shinfo) {
        munmap(h->shinfo, XEN_PAGE_SIZE);
    }
    if (h->sinfo) {
        munmap(h->sinfo, XEN_PAGE_SIZE);
    }
    if (h->gnttab) {
        munmap(h->gnttab, h->gnttab_bytes);
    }
    for (unsigned int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++) {
        if (h->upcall[i] >= 0) {
            close(h->upcall[i]);
        }
    }
    pvc_fini(&h->conn);
    free(h);
}

PV_EXPORT int pv_domid(const pv_handle *h)
{
    return (int)h->conn.domid;
}

PV_EXPORT int pv_set_vcpu(pv_handle *h, unsigned int vcpu)
{
    if (vcpu >= h->conn.max_vcpus) {
        errno = EINVAL;
        return -1;
    }
    h->vcpu = vcpu;
    return 0;
}

PV_EXPORT long pv_hypercall(pv_handle *h, unsigned int op, unsigned long a1,
                            unsigned long a2, unsigned long a3,
                            unsigned long a4, unsigned long a5)
{
    uint64_t a[5] = {a1, a2, a3, a4, a5};

    return (long)pvc_hypercall(&h->conn, h->vcpu, op, a);
}

/* Map a shared object of the domain; len 0 maps all of it. */
static void *map_shared(pv_handle *h, uint32_t what, int prot, size_t *len)
{
    struct pv_map_req req = {.what = what};
    struct stat st;
    int fd = -1;
    int64_t r;
    void *va;

    r = pvc_call(&h->conn, PV_MSG_MAP, &req, sizeof(req), NULL, 0, NULL, &fd);
    if (r < 0 || fd < 0) {
        errno = r < 0 ? (int)-r : EPROTO;
        return NULL;
    }
    if (*len == 0) {
        if (fstat(fd, &st) < 0 || st.st_size <= 0) {
            close(fd);
            errno = EPROTO;
            return NULL;
        }
        *len = (size_t)st.st_size;
    }
    va = mmap(NULL, *len, prot, MAP_SHARED, fd, 0);
    close(fd);
    return va == MAP_FAILED ? NULL : va;
}

static void *map_page(pv_handle *h, uint32_t what, int prot)
{
    size_t len = XEN_PAGE_SIZE;

    return map_shared(h, what, prot, &len);
}

PV_EXPORT struct grant_entry_v1 *pv_grant_table(pv_handle *h, unsigned int *nr)
{
    if (!h->gnttab) {
        size_t len = 0;
        h->gnttab =
            map_shared(h, PV_MAP_GRANT_TABLE, PROT_READ | PROT_WRITE, &len);
        h->gnttab_bytes = h->gnttab ? len : 0;
    }
    if (nr) {
        *nr = (unsigned int)(h->gnttab_bytes / sizeof(grant_entry_v1_t));
    }
    return h->gnttab;
}

PV_EXPORT struct shared_info *pv_shared_info(pv_handle *h)
{
    if (!h->shinfo) {
        h->shinfo = map_page(h, PV_MAP_SHARED_INFO, PROT_READ | PROT_WRITE);
    }
    return h->shinfo;
}

PV_EXPORT const struct start_info *pv_start_info(pv_handle *h)
{
    if (!h->sinfo) {
        h->sinfo = map_page(h, PV_MAP_START_INFO, PROT_READ);
    }
    return h->sinfo;
}

PV_EXPORT int pv_upcall_fd(pv_handle *h, unsigned int vcpu)
{
    struct pv_map_req req = {.what = PV_MAP_VCPU_UPCALL + vcpu};
    int fd = -1;
    int64_t r;

    if (vcpu >= h->conn.max_vcpus || vcpu >= XEN_LEGACY_MAX_VCPUS) {
        errno = EINVAL;
        return -1;
    }
    if (h->upcall[vcpu] >= 0) {
        return h->upcall[vcpu];
    }
    r = pvc_call(&h->conn, PV_MSG_MAP, &req, sizeof(req), NULL, 0, NULL, &fd);
    if (r < 0 || fd < 0) {
        errno = r < 0 ? (int)-r : EPROTO;
        return -1;
    }
    h->upcall[vcpu] = fd;
    return fd;
}

PV_EXPORT uint64_t pv_system_time(pv_handle *h, unsigned int vcpu)
{
    struct shared_info *s = pv_shared_info(h);
    const struct vcpu_time_info *t;
    uint32_t v;
    uint64_t ns;

    if (!s || vcpu >= h->conn.max_vcpus) {
        return 0;
    }
    t = &s->vcpu_info[vcpu].time;
    do {
        v = __atomic_load_n(&t->version, __ATOMIC_ACQUIRE);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        ns = t->system_time + pvclock_scale(__rdtsc() - t->tsc_timestamp,
                                            t->tsc_to_system_mul, t->tsc_shift);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((v & 1) || v != __atomic_load_n(&t->version, __ATOMIC_ACQUIRE));
    return ns;
}
