# engine/cli/keel: the keel program, one file per verb over a command table.
KEEL_CLI_SRCS := $(wildcard engine/cli/keel/*.c)
KEEL_CLI_OBJS := $(KEEL_CLI_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(KEEL_CLI_OBJS)
FORMAT_FILES += $(KEEL_CLI_SRCS) $(wildcard engine/cli/keel/*.h)

$(B)/keel: $(KEEL_CLI_OBJS) $(BUILD_A) $(SYSTEMD_A) $(CONTAINER_A) $(NETWORK_A) $(MONITOR_A) $(RUNTIME_A) $(REGISTRY_A) $(IMAGE_A) $(LIB_A)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $(KEEL_CLI_OBJS) $(BUILD_A) $(SYSTEMD_A) $(CONTAINER_A) $(NETWORK_A) $(MONITOR_A) $(RUNTIME_A) $(REGISTRY_A) $(IMAGE_A) $(LIB_A) $(NETWORK_LIBS) $(RUNTIME_LIBS) $(REGISTRY_LIBS) $(IMAGE_LIBS) $(LIB_LIBS)

ifneq ($(KEEL_CLI_SRCS),)
PROGRAMS += $(B)/keel
endif
