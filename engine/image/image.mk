# engine/image: the image store (blobs, layers, image records), OCI
# document parsing and the layer unpacker.
IMAGE_SRCS := $(wildcard engine/image/*.c)
IMAGE_OBJS := $(IMAGE_SRCS:%.c=$(B)/%.o)
IMAGE_A := $(B)/libkeel-image.a
ALL_OBJS += $(IMAGE_OBJS)
FORMAT_FILES += $(IMAGE_SRCS) $(wildcard engine/image/*.h)

IMAGE_LIBS := -larchive -lz -lzstd -lpthread

$(IMAGE_A): $(IMAGE_OBJS)
	$(call say,AR,$@)$(AR) rcs $@ $^
