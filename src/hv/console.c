/* SPDX-License-Identifier: MIT */
/*
 * console.c - the hypervisor console ring (what `procvisor dmesg` shows),
 * each domain's console, and the serial input that CONSOLEIO_read takes.
 */
#include <stdio.h>
#include <string.h>

#include "hv.h"

static void ring_put(char *ring, uint64_t *prod, size_t ringsz, const char *s,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ring[(*prod)++ % ringsz] = s[i];
    }
}

size_t hv_console_read(const char *ring, uint64_t prod, size_t ringsz,
                       char *out, size_t cap)
{
    uint64_t start = prod > ringsz ? prod - ringsz : 0;
    size_t n = 0;

    if (prod - start > cap) {
        start = prod - cap;
    }
    for (uint64_t i = start; i < prod; i++) {
        out[n++] = ring[i % ringsz];
    }
    return n;
}

void hv_console_put(struct hv *hv, const char *s, size_t n)
{
    ring_put(hv->cons_ring, &hv->cons_prod, HV_CONSOLE_RING, s, n);
    /* xenconsoled's cue: the console ring has new bytes */
    hv_send_global_virq(hv, VIRQ_CON_RING);
}

void hv_domcons_flush(struct hv *hv, struct hv_domain *d)
{
    char pfx[16];
    int n = snprintf(pfx, sizeof(pfx), "(d%u) ", d->id);

    hv_console_put(hv, pfx, (size_t)n);
    hv_console_put(hv, d->cons_line, d->cons_line_len);
    hv_console_put(hv, "\n", 1);
    ring_put(d->cons_ring, &d->cons_prod, HV_DOMCONS_RING, d->cons_line,
             d->cons_line_len);
    ring_put(d->cons_ring, &d->cons_prod, HV_DOMCONS_RING, "\n", 1);
    d->cons_line_len = 0;
}

void hv_console_input(struct hv *hv, const char *s, size_t n)
{
    size_t room = sizeof(hv->cons_in) - hv->cons_in_len;

    if (n > room) {
        n = room; /* a full serial ring drops, like a UART */
    }
    memcpy(hv->cons_in + hv->cons_in_len, s, n);
    hv->cons_in_len += n;
    hv_send_global_virq(hv, VIRQ_CONSOLE);
}
