# engine/build: working containers (from, run, copy, config, commit) and
# the layer writer that keel build and the buildah-style verbs stand on.
# Above image, container, runtime and network; below engine/cli/keel.
BUILD_SRCS := $(wildcard engine/build/*.c)
BUILD_OBJS := $(BUILD_SRCS:%.c=$(B)/%.o)
BUILD_A := $(B)/libkeel-build.a
ALL_OBJS += $(BUILD_OBJS)
FORMAT_FILES += $(BUILD_SRCS) $(wildcard engine/build/*.h)

$(BUILD_A): $(BUILD_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^
