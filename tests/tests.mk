# tests/: unit (C, no privileges), integration (root, namespaces), VM (QEMU).
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(B)/%)
ALL_OBJS += $(UNIT_SRCS:%.c=$(B)/%.o)
TEST_PROGRAMS += $(UNIT_BINS)
FORMAT_FILES += $(UNIT_SRCS) tests/unit/test.h

# Every unit test links every engine library; --as-needed drops the rest.
UNIT_LINK := $(BUILD_A) $(SYSTEMD_A) $(CONTAINER_A) $(REGISTRY_A) $(IMAGE_A) $(RUNTIME_A) $(LIB_A)
UNIT_LIBS := $(REGISTRY_LIBS) $(IMAGE_LIBS) $(RUNTIME_LIBS) $(LIB_LIBS)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(UNIT_LINK)
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $< $(UNIT_LINK) $(UNIT_LIBS)

$(B)/tests/unit/%.o: EXTRA_CFLAGS_tests/unit := -Itests/unit

# Benchmark helpers (tests/bench/*.c), built beside the tests.
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:%.c=$(B)/%)
ALL_OBJS += $(BENCH_SRCS:%.c=$(B)/%.o)
TEST_PROGRAMS += $(BENCH_BINS)
FORMAT_FILES += $(BENCH_SRCS)

$(B)/tests/bench/%: $(B)/tests/bench/%.o
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $<

# Helpers the integration tests run (tests/helpers/*.c): beside the runtime,
# and the registry's token issuer and fault proxy (tests/lib/registry.sh).
# --as-needed keeps each to the libraries it uses.
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(HELPER_SRCS:%.c=$(B)/%)
ALL_OBJS += $(HELPER_SRCS:%.c=$(B)/%.o)
TEST_PROGRAMS += $(HELPER_BINS)
FORMAT_FILES += $(HELPER_SRCS)

$(B)/tests/helpers/%: $(B)/tests/helpers/%.o
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $< -lseccomp -ljson-c -lcrypto

# sdnotify also runs inside busybox containers: static.
$(B)/tests/helpers/sdnotify: $(B)/tests/helpers/sdnotify.o
	$(call say,LD,$@)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) $(if $(SANITIZE),,-static) -o $@ $<

PROVE := prove --exec '' --timer --failures --comments
INTEGRATION := $(sort $(wildcard tests/integration/t*.sh))
# tests/vm/PENDING names VM tests not yet proven, kept out of every target.
VM_PENDING := $(addprefix tests/vm/,$(shell sed -e 's/\#.*//' tests/vm/PENDING 2>/dev/null))
VM_TESTS := $(filter-out $(VM_PENDING),$(sort $(wildcard tests/vm/t*.sh)))

.PHONY: check check-sanitize check-quick check-format check-unit check-integration check-vm tests
tests: $(TEST_PROGRAMS) $(PROGRAMS)

check-format:
	$(Q)tests/lint/check-format.sh $(FORMAT_FILES)

# Fast tiers: format and unit tests.  No root needed.
check-quick: tests
	$(PROVE) tests/lint/check-format.sh tests/lint/check-seccomp.sh $(UNIT_BINS)

check-unit: tests
	$(PROVE) $(UNIT_BINS)

check-sanitize:
	$(MAKE) --no-print-directory SANITIZE=address,undefined tests
	$(PROVE) tests/integration/t0190-runtime-sanitized.sh

check-integration: tests
	KEEL_BUILD=$(abspath $(B)) $(PROVE) $(INTEGRATION)

# The VM tier boots the built image (VM_PREREQS, from image-build/image.mk).
check-vm: tests
	$(Q)$(MAKE) --no-print-directory $(VM_PREREQS)
	KEEL_BUILD=$(abspath $(B)) $(PROVE) $(VM_TESTS)

# Every tier, one prove run, one summary at the end.
check: deps
	$(MAKE) --no-print-directory tests $(VM_PREREQS)
	$(MAKE) --no-print-directory SANITIZE=address,undefined tests
	KEEL_BUILD=$(abspath $(B)) $(PROVE) -j2 tests/lint/check-format.sh tests/lint/check-seccomp.sh $(UNIT_BINS) $(INTEGRATION) $(VM_TESTS)

