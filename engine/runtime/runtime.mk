# engine/runtime: the OCI runtime library and the keel-runtime program.
RUNTIME_SRCS := $(wildcard engine/runtime/*.c)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(B)/%.o)
RUNTIME_A := $(B)/libkeel-runtime.a
ALL_OBJS += $(RUNTIME_OBJS)
FORMAT_FILES += $(RUNTIME_SRCS) $(wildcard engine/runtime/*.h)

# libseccomp and json-c are linked statically into keel-runtime: fewer
# shared objects to map is most of what a short-lived runtime spends on
# startup.  libsystemd is only dlopen()ed for --systemd-cgroup.
RUNTIME_LIBS := -Wl,-Bstatic -lseccomp -Wl,-Bdynamic -ldl

$(RUNTIME_A): $(RUNTIME_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^

RUNTIME_CLI_SRCS := $(wildcard engine/cli/runtime/*.c)
RUNTIME_CLI_OBJS := $(RUNTIME_CLI_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(RUNTIME_CLI_OBJS)
FORMAT_FILES += $(RUNTIME_CLI_SRCS) $(wildcard engine/cli/runtime/*.h)

$(B)/keel-runtime: $(RUNTIME_CLI_OBJS) $(RUNTIME_A) $(LIB_A)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $(RUNTIME_CLI_OBJS) $(RUNTIME_A) $(LIB_A) $(RUNTIME_LIBS) -Wl,-Bstatic -ljson-c -Wl,-Bdynamic

ifneq ($(RUNTIME_CLI_SRCS),)
PROGRAMS += $(B)/keel-runtime
endif
