# engine/monitor: keel-monitor, one small process per container (conmon's
# role).  The library part (log writer, attach protocol, state-directory
# contract) is what `keel` links to read and talk to monitors; the program
# lives in engine/cli/monitor.
MONITOR_SRCS := $(wildcard engine/monitor/*.c)
MONITOR_OBJS := $(MONITOR_SRCS:%.c=$(B)/%.o)
MONITOR_A := $(B)/libkeel-monitor.a
ALL_OBJS += $(MONITOR_OBJS)
FORMAT_FILES += $(MONITOR_SRCS) $(wildcard engine/monitor/*.h)

$(MONITOR_A): $(MONITOR_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^

MONITOR_CLI_SRCS := $(wildcard engine/cli/monitor/*.c)
MONITOR_CLI_OBJS := $(MONITOR_CLI_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(MONITOR_CLI_OBJS)
FORMAT_FILES += $(MONITOR_CLI_SRCS) $(wildcard engine/cli/monitor/*.h)

# Linked fully static: a monitor lives as long as its container, so what
# counts is its resident memory, and a dynamic glibc alone keeps ~700 KiB
# of libc.so text mapped (page-cache folios come back whole on a fault)
# where the static binary idles at ~0.7 MiB in all (README: "keel-monitor
# memory").  The runtime's dlopen() of libsystemd (--systemd-cgroup only)
# still works when the host's glibc is the one we linked, as on a Keel
# image; the linker warns about it.  Sanitizer builds stay dynamic.
ifeq ($(SANITIZE),)
MONITOR_STATIC := -static
endif
MONITOR_LIBS := -lseccomp -ljson-c -ldl

$(B)/keel-monitor: $(MONITOR_CLI_OBJS) $(MONITOR_A) $(RUNTIME_A) $(LIB_A)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) $(MONITOR_STATIC) -o $@ $(MONITOR_CLI_OBJS) \
	  $(MONITOR_A) $(RUNTIME_A) $(LIB_A) $(MONITOR_LIBS) 2>$@.ld; r=$$?; \
	  grep -v "statically linked applications\|in function .cg_sdbus" $@.ld >&2; rm -f $@.ld; exit $$r

ifneq ($(MONITOR_CLI_SRCS),)
PROGRAMS += $(B)/keel-monitor
endif

# Unit tests and the test client link the monitor library; these explicit
# rules win over the generic ones in tests/tests.mk.
$(B)/tests/unit/test-monitor: $(B)/tests/unit/test-monitor.o $(MONITOR_A) $(LIB_A)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $< $(MONITOR_A) $(LIB_A) -ljson-c

$(B)/tests/helpers/monitor-client: $(B)/tests/helpers/monitor-client.o $(MONITOR_A) $(LIB_A)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $< $(MONITOR_A) $(LIB_A) -ljson-c
