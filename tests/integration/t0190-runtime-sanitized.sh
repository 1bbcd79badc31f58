#!/bin/bash
# The runtime's integration tests again, against the build made with
# SANITIZE=address,undefined (build/sanitize, made by `make check`): one
# TAP line per test file, the failing file's output when one fails.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/runtime.sh" # one runtime test file at a time
SAN=${KEEL_SANITIZE_BUILD:-$TEST_SRCDIR/build/sanitize}
[ -x "$SAN/keel-runtime" ] || { echo "no sanitized build at $SAN: run make check (or make SANITIZE=address,undefined tests)" >&2; exit 1; }

for t in "$TEST_SRCDIR"/tests/integration/t01[0-8]*.sh; do
  name=$(basename "$t" .sh)
  test_expect_success "$name under ASan and UBSan" '
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      KEEL_BUILD="$SAN" KEEL_RUNTIME="$SAN/keel-runtime" bash "$t" >out 2>&1 ||
      { grep -v "^ok" out; false; }
  '
done
for u in "$SAN"/tests/unit/test-*; do
  [ -x "$u" ] || continue
  test_expect_success "$(basename "$u") under ASan and UBSan" '
    (cd "$TEST_SRCDIR" && "$u") >out 2>&1 || { grep -v "^ok" out; false; }
  '
done

test_done
