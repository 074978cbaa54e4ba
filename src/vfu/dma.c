/* SPDX-License-Identifier: MIT */
/*
 * dma.c - the client's DMA maps as the server sees them, and the device's
 * DMA through them.
 *
 * A map with a descriptor is mmap-ed at DMA_MAP time (MAP_SHARED, with the
 * map's permissions) or, with VFU_DMA_FILE_IO, kept for pread/pwrite; a map
 * without one is reached by DMA_READ/DMA_WRITE messages to the client.  A
 * device DMA is checked whole first (every byte mapped, with the right
 * permission, bus mastering on): a refusal moves nothing.  Copies from a
 * mapped file survive a client that shrinks the file under us: SIGBUS in
 * the copy becomes -EIO, not a crash.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfu_impl.h"

/* ---- the table ---- */

static uint64_t end_of(const struct vfu_dma_map_ent *e)
{
    return e->addr + e->size; /* may be 0 for a map ending at 2^64 */
}

/* the first map that ends after addr (may start after it too) */
static unsigned int first_after(const struct vfu_dev *d, uint64_t addr)
{
    unsigned int lo = 0, hi = d->ndma;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;
        const struct vfu_dma_map_ent *e = &d->dma[mid];

        if (end_of(e) != 0 && end_of(e) <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static void ent_release(struct vfu_dma_map_ent *e)
{
    if (e->map) {
        munmap(e->map, e->size);
        e->map = NULL;
    }
    if (e->fd >= 0) {
        close(e->fd);
        e->fd = -1;
    }
}

int vfu_dma_map_add(struct vfu_dev *d, const struct vfu_dma_map *m, int fd)
{
    struct vfu_dma_map_ent e = {
        .addr = m->addr,
        .size = m->size,
        .prot = m->flags & (VFU_DMA_READ | VFU_DMA_WRITE),
        .fd = -1,
    };
    unsigned int i;

    if (d->ndma >= VFU_SERVER_MAX_DMA_MAPS) {
        return -ENOSPC;
    }
    i = first_after(d, m->addr);
    if (i < d->ndma && d->dma[i].addr <= m->addr + (m->size - 1)) {
        return -EEXIST;
    }
    if (fd >= 0) {
        struct stat st;

        if (fstat(fd, &st) < 0) {
            return -errno;
        }
        if (S_ISREG(st.st_mode) &&
            ((uint64_t)st.st_size < m->offset ||
             (uint64_t)st.st_size - m->offset < m->size)) {
            return -EINVAL; /* beyond the end of the file */
        }
        if (m->size > SIZE_MAX) {
            return -ENOMEM;
        }
        e.offset = m->offset;
        if (m->flags & VFU_DMA_FILE_IO) {
            e.file_io = true;
        } else {
            int prot = ((e.prot & VFU_DMA_READ) ? PROT_READ : 0) |
                       ((e.prot & VFU_DMA_WRITE) ? PROT_WRITE : 0);
            void *p = mmap(NULL, (size_t)m->size, prot, MAP_SHARED, fd,
                           (off_t)m->offset);

            if (p == MAP_FAILED) {
                return -errno;
            }
            e.map = p;
        }
    }
    if (d->ndma == d->dma_cap) {
        unsigned int cap = d->dma_cap ? d->dma_cap * 2 : 16;
        struct vfu_dma_map_ent *n = realloc(d->dma, cap * sizeof(*n));

        if (!n) {
            ent_release(&e);
            return -ENOMEM;
        }
        d->dma = n;
        d->dma_cap = cap;
    }
    if (fd >= 0) {
        if (e.file_io) {
            e.fd = fd; /* ours from here */
        } else {
            close(fd); /* the mapping holds the file */
        }
    }
    memmove(&d->dma[i + 1], &d->dma[i], (d->ndma - i) * sizeof(*d->dma));
    d->dma[i] = e;
    d->ndma++;
    return 0;
}

void vfu_dma_unmap_all(struct vfu_dev *d)
{
    for (unsigned int i = 0; i < d->ndma; i++) {
        ent_release(&d->dma[i]);
    }
    free(d->dma);
    d->dma = NULL;
    d->ndma = d->dma_cap = 0;
}

int vfu_dma_map_remove(struct vfu_dev *d, const struct vfu_dma_unmap *u)
{
    unsigned int i;

    /* the spec: every reference dropped before the reply; by construction
     * none is held here (vfu_impl.h) */
    if (d->dma_busy) {
        return -EBUSY;
    }
    if (u->flags & VFU_DMA_UNMAP_ALL) {
        vfu_dma_unmap_all(d);
        return 0;
    }
    i = first_after(d, u->addr);
    if (i >= d->ndma || d->dma[i].addr != u->addr ||
        d->dma[i].size != u->size) {
        return -ENOENT; /* the spec wants an exact match */
    }
    ent_release(&d->dma[i]);
    memmove(&d->dma[i], &d->dma[i + 1], (d->ndma - i - 1) * sizeof(*d->dma));
    d->ndma--;
    return 0;
}

unsigned int vfu_dev_dma_count(const struct vfu_dev *d)
{
    return d->ndma;
}

/* ---- copies that survive SIGBUS ---- */

static sigjmp_buf *volatile copy_env;
static struct sigaction old_bus;
static bool bus_installed;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    if (copy_env) {
        siglongjmp(*copy_env, 1);
    }
    /* not ours: the previous handler gets the retried fault */
    sigaction(sig, &old_bus, NULL);
}

static int safe_copy(void *dst, const void *src, size_t n)
{
    sigjmp_buf env;

    if (!bus_installed) {
        struct sigaction sa = {.sa_sigaction = on_sigbus,
                               .sa_flags = SA_SIGINFO | SA_NODEFER};

        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGBUS, &sa, &old_bus) == 0) {
            bus_installed = true;
        }
    }
    if (sigsetjmp(env, 1)) {
        copy_env = NULL;
        return -EIO;
    }
    copy_env = &env;
    memcpy(dst, src, n);
    copy_env = NULL;
    return 0;
}

static int file_io(const struct vfu_dma_map_ent *e, bool write, void *buf,
                   uint64_t off, size_t n)
{
    uint8_t *b = buf;

    while (n) {
        ssize_t r = write ? pwrite(e->fd, b, n, (off_t)off)
                          : pread(e->fd, b, n, (off_t)off);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -EIO;
        }
        b += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return 0;
}

/* ---- the device's DMA ---- */

static int fault(struct vfu_dev *d, const char *why, bool write, uint64_t iova,
                 size_t len, int rc)
{
    d->dma_faults++;
    vfu_log(d, "DMA fault: %s of %zu bytes at IOVA 0x%" PRIx64 ": %s",
            write ? "write" : "read", len, iova, why);
    return rc;
}

/* every byte of [iova, iova + len) mapped with prot */
static int check_range(const struct vfu_dev *d, uint64_t iova, size_t len,
                       uint32_t prot)
{
    uint64_t pos = iova, left = len;

    if (iova + (len - 1) < iova) {
        return -EFAULT;
    }
    while (left) {
        unsigned int i = first_after(d, pos);
        const struct vfu_dma_map_ent *e;
        uint64_t n;

        if (i >= d->ndma || d->dma[i].addr > pos) {
            return -EFAULT;
        }
        e = &d->dma[i];
        if (!(e->prot & prot)) {
            return -EFAULT;
        }
        n = e->addr + (e->size - 1) - pos + 1; /* 0: to the top */
        if (n == 0 || n > left) {
            n = left;
        }
        pos += n;
        left -= n;
    }
    return 0;
}

static int dma_rw(struct vfu_dev *d, bool write, uint64_t iova, void *buf,
                  size_t len)
{
    uint8_t *b = buf;
    uint64_t pos = iova, left = len;
    int rc = 0;

    if (len == 0) {
        return 0;
    }
    if (!(vfu_pci_command(&d->pci) & VFU_PCI_CMD_MASTER)) {
        return fault(d, "bus mastering is off", write, iova, len, -EPERM);
    }
    if (check_range(d, iova, len, write ? VFU_DMA_WRITE : VFU_DMA_READ)) {
        /* Not all of it is mapped here: the client is the IOMMU and
         * decides, by message, for the whole range (procvisor's daemon
         * refuses it and logs the fault where dom0 sees it).  Nothing is
         * moved unless the client allows all of a chunk. */
        d->dma_busy++;
        rc = vfu_peer_dma(d, write, iova, b, len);
        d->dma_busy--;
        if (rc) {
            return fault(d, "not mapped for it", write, iova, len, -EFAULT);
        }
        return 0;
    }
    d->dma_busy++;
    while (left && !rc) {
        const struct vfu_dma_map_ent *e = &d->dma[first_after(d, pos)];
        uint64_t off = pos - e->addr, n = e->size - off;

        if (n == 0 || n > left) {
            n = left;
        }
        if (e->map) {
            rc = write ? safe_copy(e->map + off, b, (size_t)n)
                       : safe_copy(b, e->map + off, (size_t)n);
        } else if (e->file_io) {
            rc = file_io(e, write, b, e->offset + off, (size_t)n);
        } else {
            rc = vfu_peer_dma(d, write, pos, b, n);
        }
        pos += n;
        b += n;
        left -= n;
    }
    d->dma_busy--;
    if (rc == -EFAULT) {
        /* the client refused a DMA message: its IOMMU says no */
        return fault(d, "refused by the client", write, iova, len, -EFAULT);
    }
    if (rc) {
        return fault(d, "the client's memory failed", write, iova, len, -EIO);
    }
    return 0;
}

int vfu_dma_read(struct vfu_dev *d, uint64_t iova, void *buf, size_t len)
{
    return dma_rw(d, false, iova, buf, len);
}

int vfu_dma_write(struct vfu_dev *d, uint64_t iova, const void *buf, size_t len)
{
    return dma_rw(d, true, iova, (void *)buf, len);
}
