# host/: the `host` program (C over libostree and glib).
HOST_SRCS := $(wildcard host/*.c)
# Objects live in $(B)/host-objs/: $(B)/host is the program itself.
HOST_OBJS := $(HOST_SRCS:host/%.c=$(B)/host-objs/%.o)
ALL_OBJS += $(HOST_OBJS)
FORMAT_FILES += $(HOST_SRCS) $(wildcard host/*.h)

# pkg-config runs only when the packages are there (make deps installs them),
# so a tree without libostree-dev still builds the engine.
HOST_PKGS := ostree-1 glib-2.0 gio-2.0 json-c
HOST_HAVE := $(shell pkg-config --exists $(HOST_PKGS) 2>/dev/null && echo yes)
HOST_CFLAGS := $(if $(HOST_HAVE),$(shell pkg-config --cflags $(HOST_PKGS)))
HOST_LIBS := $(if $(HOST_HAVE),$(shell pkg-config --libs $(HOST_PKGS)))

$(B)/host-objs/%.o: host/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_BASE) $(CFLAGS) $(HOST_CFLAGS) -c -o $@ $<

$(B)/host: $(HOST_OBJS)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $(HOST_OBJS) $(HOST_LIBS)

ifneq ($(HOST_HAVE),)
PROGRAMS += $(B)/host
endif

# Unit tests of the pure parts (host.conf, state file, grubenv): glib only.
HOST_UNIT_OBJS := $(B)/host-objs/config.o $(B)/host-objs/grubenv.o
$(B)/tests/unit/test-host-config.o: CFLAGS += $(HOST_CFLAGS)
$(B)/tests/unit/test-host-config: $(B)/tests/unit/test-host-config.o $(HOST_UNIT_OBJS)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)
