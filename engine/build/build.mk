# engine/build: Containerfile front end (parser, ignore rules, stage graph,
# cache keys) and the builder.
BUILD_SRCS := $(wildcard engine/build/*.c)
BUILD_OBJS := $(BUILD_SRCS:%.c=$(B)/%.o)
BUILD_A := $(B)/libkeel-build.a
ALL_OBJS += $(BUILD_OBJS)
FORMAT_FILES += $(BUILD_SRCS) $(wildcard engine/build/*.h)

BUILD_LIBS := -ljson-c

$(BUILD_A): $(BUILD_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^
