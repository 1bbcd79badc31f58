# engine/cli/init: keel-init, the tiny init of `keel run --init` (static).
INIT_CLI_SRCS := $(wildcard engine/cli/init/*.c)
INIT_CLI_OBJS := $(INIT_CLI_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(INIT_CLI_OBJS)
FORMAT_FILES += $(INIT_CLI_SRCS)

$(B)/keel-init: $(INIT_CLI_OBJS)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) $(if $(SANITIZE),,-static) -o $@ $(INIT_CLI_OBJS)

PROGRAMS += $(B)/keel-init
