# engine/: the container engine and runtime.
#   engine/lib      libc + json-c + OpenSSL helpers (errors, JSON, paths, digests)
#   engine/runtime  the OCI runtime library (namespaces, mounts, cgroups, ...)
#   engine/cli      the thin command-line programs

LIB_SRCS := $(wildcard engine/lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LIB_A := $(B)/libkeel-lib.a
ALL_OBJS += $(LIB_OBJS)

$(LIB_A): $(LIB_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^

LIB_LIBS := -ljson-c -lcrypto

FORMAT_FILES += $(LIB_SRCS) $(wildcard engine/lib/*.h)

include engine/runtime/runtime.mk
include engine/image/image.mk
include engine/registry/registry.mk
include engine/network/network.mk
include engine/container/container.mk
include engine/build/build.mk
include engine/monitor/monitor.mk
include engine/systemd/systemd.mk
include engine/cli/keel/keel.mk
include engine/cli/init/init.mk
