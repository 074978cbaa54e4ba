/* SPDX-License-Identifier: MIT */
/*
 * hello_xen.c - an ordinary Xen program: it asks the hypervisor's version
 * and writes to the console with hypercalls through Debian's libxencall.
 * Under procvisor it runs unmodified: `procvisor run DOMAIN -- hello_xen`.
 *
 * usage: hello_xen [NAME [LINGER_SECONDS]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stddef.h>
#include <stdint.h>
#include <xencall.h>
#include <xen/xen.h>
#include <xen/version.h>

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "a domain";
    xencall_handle *xc = xencall_open(NULL, 0);
    char *extra, *caps, *line;
    int ver, n;

    if (!xc) {
        perror("xencall_open (is this running under `procvisor run`?)");
        return 1;
    }
    /* hypercall arguments live in libxencall's hypercall buffers */
    extra = xencall_alloc_buffer(xc, sizeof(xen_extraversion_t));
    caps = xencall_alloc_buffer(xc, sizeof(xen_capabilities_info_t));
    line = xencall_alloc_buffer(xc, 128);
    if (!extra || !caps || !line) {
        perror("xencall_alloc_buffer");
        return 1;
    }
    ver = xencall2(xc, __HYPERVISOR_xen_version, XENVER_version, 0);
    xencall2(xc, __HYPERVISOR_xen_version, XENVER_extraversion,
             (uintptr_t)extra);
    xencall2(xc, __HYPERVISOR_xen_version, XENVER_capabilities,
             (uintptr_t)caps);
    printf("%s: Xen %d.%d%s, capabilities \"%s\"\n", name, ver >> 16,
           ver & 0xffff, extra, caps);

    n = snprintf(line, 128, "hello from %s (pid %d)\n", name, (int)getpid());
    if (xencall3(xc, __HYPERVISOR_console_io, CONSOLEIO_write, (unsigned)n,
                 (uintptr_t)line) < 0) {
        fprintf(stderr, "console_io: %s\n", strerror(errno));
        return 1;
    }
    printf("%s: wrote to the console: %s", name, line);
    fflush(stdout);
    if (argc > 2) {
        sleep((unsigned)atoi(argv[2]));
    }
    xencall_close(xc);
    return 0;
}
