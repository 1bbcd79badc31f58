# engine/systemd: unit-file syntax and the Quadlet-style translation of
# .container files into services; keel-systemd-generator, the systemd
# generator (systemd.generator(7)) over it.  Above engine/lib only.
SYSTEMD_SRCS := $(wildcard engine/systemd/*.c)
SYSTEMD_OBJS := $(SYSTEMD_SRCS:%.c=$(B)/%.o)
SYSTEMD_A := $(B)/libkeel-systemd.a
ALL_OBJS += $(SYSTEMD_OBJS)
FORMAT_FILES += $(SYSTEMD_SRCS) $(wildcard engine/systemd/*.h)

$(SYSTEMD_A): $(SYSTEMD_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^

GENERATOR_CLI_SRCS := $(wildcard engine/cli/generator/*.c)
GENERATOR_CLI_OBJS := $(GENERATOR_CLI_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(GENERATOR_CLI_OBJS)
FORMAT_FILES += $(GENERATOR_CLI_SRCS)

# Generators run before /var and most of the system are there: the
# program needs nothing but libc (json-c and OpenSSL of LIB_A are not
# pulled in by what it uses).
$(B)/keel-systemd-generator: $(GENERATOR_CLI_OBJS) $(SYSTEMD_A) $(LIB_A)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $(GENERATOR_CLI_OBJS) $(SYSTEMD_A) $(LIB_A)

PROGRAMS += $(B)/keel-systemd-generator
