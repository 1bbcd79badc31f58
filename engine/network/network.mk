# engine/network: bridge networks, veth over rtnetlink, leases, nftables
# (libnftables), hosts files; and keel-net, the small CLI its tests drive
# until `keel network` exists.
NETWORK_SRCS := $(wildcard engine/network/*.c)
NETWORK_OBJS := $(NETWORK_SRCS:%.c=$(B)/%.o)
NETWORK_A := $(B)/libkeel-network.a
ALL_OBJS += $(NETWORK_OBJS)
FORMAT_FILES += $(NETWORK_SRCS) $(wildcard engine/network/*.h)

NETWORK_LIBS := -lnftables

$(NETWORK_A): $(NETWORK_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^

NETNET_CLI_SRCS := $(wildcard engine/cli/keel-net/*.c)
NETNET_CLI_OBJS := $(NETNET_CLI_SRCS:%.c=$(B)/%.o)
ALL_OBJS += $(NETNET_CLI_OBJS)
FORMAT_FILES += $(NETNET_CLI_SRCS)

$(B)/keel-net: $(NETNET_CLI_OBJS) $(NETWORK_A) $(LIB_A)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $(NETNET_CLI_OBJS) $(NETWORK_A) $(LIB_A) $(NETWORK_LIBS) $(LIB_LIBS)

TEST_PROGRAMS += $(B)/keel-net

# The network unit test links the network library (tests.mk's generic rule
# does not know it).
$(B)/tests/unit/test-network: $(B)/tests/unit/test-network.o $(NETWORK_A) $(LIB_A)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $< $(NETWORK_A) $(LIB_A) $(NETWORK_LIBS) $(LIB_LIBS)
