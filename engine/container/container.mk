# engine/container: container records, the OCI configuration built from an
# image and the flags, the overlay rootfs.  Above runtime, image, network
# and monitor; below engine/cli/keel.
CONTAINER_SRCS := $(wildcard engine/container/*.c)
CONTAINER_OBJS := $(CONTAINER_SRCS:%.c=$(B)/%.o)
CONTAINER_A := $(B)/libkeel-container.a
ALL_OBJS += $(CONTAINER_OBJS)
FORMAT_FILES += $(CONTAINER_SRCS) $(wildcard engine/container/*.h)

# seccomp-data.c embeds the profile with .incbin
$(B)/engine/container/seccomp-data.o: engine/container/seccomp-default.json

$(CONTAINER_A): $(CONTAINER_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^
