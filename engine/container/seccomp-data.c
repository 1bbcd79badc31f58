/* The default seccomp profile, compiled in from seccomp-default.json (a
 * copy of what containers-common's default makes podman write) so that a
 * container is confined even when no file is installed. */
#include "container/container.h"

__asm__(".section .rodata\n"
        ".global keel_ctr_seccomp_json\n"
        "keel_ctr_seccomp_json:\n"
        ".incbin \"engine/container/seccomp-default.json\"\n"
        ".byte 0\n"
        ".previous\n");

extern const char keel_ctr_seccomp_json[];

const char *
keel_ctr_seccomp_default(void)
{
  return keel_ctr_seccomp_json;
}
