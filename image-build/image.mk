# image-build/: compose (packages -> ostree commit) and disk images.
#
#   make compose    the ostree commit keel/$(ARCH)/$(VARIANT) in build/repo
#   make image      build/images/keel-$(ARCH)-$(VARIANT).qcow2 (and .raw)
#   make run        boot it in QEMU: serial console here, SSH on 127.0.0.1:$(SSH_PORT)
#
#   VARIANT=server ARCH=x86_64     which image (image-build/variants/VARIANT)
#   SSH_KEY=FILE|KEY               authorized key for root and the admin user
#   PASSWORD_HASH='$y$...'         console password hash for the same accounts
#   KEEL_APT_CACHE=DIR             apt cache kept between builds (build/cache/apt)
#   KEEL_MIRROR=URI                Debian mirror (default: this machine's apt sources)
# Composing and writing disks need root (mmdebstrap, chroot, loop devices).

VARIANT ?= server
ARCH ?= x86_64
IMAGE_NAME := keel-$(ARCH)-$(VARIANT)
IMAGE_QCOW2 := $(B)/images/$(IMAGE_NAME).qcow2
COMPOSE_STAMP := $(B)/compose/$(VARIANT)/commit

# Everything the compose reads; a change to any of it makes a new commit.
COMPOSE_INPUTS := image-build/compose.sh image-build/customize.sh image-build/lib.sh \
	image-build/no-initramfs-hook.sh image-build/grub-mkconfig image-build/kernel-options \
	image-build/check-kernel-config \
	$(wildcard image-build/variants/$(VARIANT)/*) \
	$(shell find image-build/overlays initramfs -type f 2>/dev/null)
# Keel's programs go into the image's /usr/bin when they are built (the
# generator into /usr/lib/systemd/system-generators).
IMAGE_PROGRAMS := $(filter $(B)/keel $(B)/keel-runtime $(B)/keel-monitor $(B)/keel-init $(B)/host \
	$(B)/keel-systemd-generator,$(PROGRAMS))

IMAGE_ENV = KEEL_BUILD=$(abspath $(B)) ARCH=$(ARCH)

# Access settings reach the scripts through the environment, unexpanded (a
# crypt hash is full of '$').  The image is rewritten when they change.
override SSH_KEY := $(value SSH_KEY)
override PASSWORD_HASH := $(value PASSWORD_HASH)
export SSH_KEY PASSWORD_HASH
IMAGE_ACCESS := $(B)/images/.$(IMAGE_NAME).access
$(IMAGE_ACCESS): FORCE
	@mkdir -p $(@D)
	@{ printf '%s\n' "$$SSH_KEY" "$$PASSWORD_HASH"; [ ! -f "$$SSH_KEY" ] || cat "$$SSH_KEY"; } | \
		sha256sum >$@.new; if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi
.PHONY: FORCE

.PHONY: compose image run
compose: $(COMPOSE_STAMP)
image: $(IMAGE_QCOW2)

$(COMPOSE_STAMP): $(COMPOSE_INPUTS) $(IMAGE_PROGRAMS) | programs
	$(call say,COMPOSE,$(VARIANT))$(IMAGE_ENV) image-build/compose.sh $(VARIANT)

$(IMAGE_QCOW2): $(COMPOSE_STAMP) $(IMAGE_ACCESS) image-build/disk.sh image-build/lib.sh \
		image-build/grub-mkconfig
	$(call say,IMAGE,$@)$(IMAGE_ENV) image-build/disk.sh $(VARIANT)

run: deps
	$(Q)$(MAKE) --no-print-directory image
	$(IMAGE_ENV) SSH_PORT='$(SSH_PORT)' image-build/run.sh $(VARIANT)

# The VM tier boots this image.
VM_PREREQS += $(IMAGE_QCOW2)
