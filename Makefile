# Keel — the one front door.  Non-recursive: every directory contributes a
# .mk fragment that appends to the variables below; all outputs go to $(B).
#
#   make            build every program into build/
#   make deps       install the Debian packages the build and the tests need
#   make check      every test tier through prove (installs deps first)
#   make check-quick  the fast tiers only (format, unit)
#   V=1             show full commands
#   SANITIZE=address,undefined   build with sanitizers

B := build
CC ?= gcc
OPT ?= -O2
CFLAGS_BASE := -std=gnu11 -g $(OPT) -D_GNU_SOURCE -fno-strict-aliasing \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wshadow -Wformat=2 -Wno-format-truncation -Wformat-security -Wvla -Wimplicit-fallthrough \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP -Iengine
LDFLAGS_BASE := -Wl,-z,relro,-z,now -Wl,--as-needed

ifneq ($(SANITIZE),)
CFLAGS_BASE += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -U_FORTIFY_SOURCE
LDFLAGS_BASE += -fsanitize=$(SANITIZE)
# A sanitized build lives apart so the two never mix objects.
B := build/sanitize
endif

ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

PROGRAMS :=
TEST_PROGRAMS :=
ALL_OBJS :=

.PHONY: all
all: programs

# compile one C file: $(B)/path/x.o from path/x.c
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(CFLAGS_BASE) $(CFLAGS) $(EXTRA_CFLAGS_$(<D)) -c -o $@ $<

include mk/deps.mk
include engine/engine.mk
include host/host.mk
include tests/tests.mk
include image-build/image.mk

.PHONY: programs
programs: $(PROGRAMS)

.PHONY: clean
clean:
	rm -rf build

.PHONY: format
format:
	clang-format -i $(FORMAT_FILES)

-include $(ALL_OBJS:.o=.d)
.SECONDARY:
