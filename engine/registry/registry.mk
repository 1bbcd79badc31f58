# engine/registry: references, the distribution-API client over libcurl,
# and pull (registry → image store).
REGISTRY_SRCS := $(wildcard engine/registry/*.c)
REGISTRY_OBJS := $(REGISTRY_SRCS:%.c=$(B)/%.o)
REGISTRY_A := $(B)/libkeel-registry.a
ALL_OBJS += $(REGISTRY_OBJS)
FORMAT_FILES += $(REGISTRY_SRCS) $(wildcard engine/registry/*.h)

REGISTRY_LIBS := -lcurl

$(REGISTRY_A): $(REGISTRY_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^
