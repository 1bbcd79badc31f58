# Keel's shell-test library (TAP).  Source it from tests/*/tNNNN-area-what.sh:
#
#   . "$(dirname "$0")/../lib/test-lib.sh"
#   test_expect_success 'what it proves' '
#       step1 &&
#       step2
#   '
#   test_done
#
# Each body runs in a subshell with `set -e -o pipefail`, its output kept and
# shown (as TAP comments) only when it fails or when KEEL_TEST_VERBOSE=1.
# Every test file gets its own $TEST_TMP, removed at exit along with whatever
# test_cleanup registered.  Binaries come from $KEEL_BUILD (default: build/);
# KEEL_RUNTIME swaps in another OCI runtime (crun, runc, an installed keel-runtime).

set -u
TEST_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KEEL_BUILD=${KEEL_BUILD:-$TEST_SRCDIR/build}
KEEL_RUNTIME=${KEEL_RUNTIME:-$KEEL_BUILD/keel-runtime}
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/keel-$TEST_NAME.XXXXXX")
export TEST_SRCDIR KEEL_BUILD KEEL_RUNTIME TEST_TMP
_test_count=0
_test_failed=0
_test_cleanups=()
_test_t0=$(date +%s%N)

_test_run_cleanups() {
  local i
  for ((i = ${#_test_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${_test_cleanups[$i]}" >/dev/null 2>&1 || true
  done
  case "$TEST_TMP" in /tmp/keel-*) rm -rf "$TEST_TMP" ;; esac
}
trap _test_run_cleanups EXIT

# Run a command at exit (last registered runs first).
test_cleanup() { _test_cleanups+=("$1"); }

# Seconds since this test file started, for timelines in the output.
test_elapsed() {
  local ms=$((($(date +%s%N) - _test_t0) / 1000000))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

say() { echo "# [$(test_elapsed)s] $*"; }

skip_all() {
  echo "1..0 # SKIP $*"
  exit 0
}

test_require_root() {
  [ "$(id -u)" = 0 ] || skip_all "needs root"
}

test_expect_success() {
  local desc=$1 body=$2 out rc
  _test_count=$((_test_count + 1))
  out="$TEST_TMP/.out.$_test_count"
  (
    set -e -o pipefail
    cd "$TEST_TMP"
    eval "$body"
  ) >"$out" 2>&1 && rc=0 || rc=$?
  if [ $rc = 0 ]; then
    echo "ok $_test_count - $desc"
    [ "${KEEL_TEST_VERBOSE:-0}" = 1 ] && sed 's/^/# /' "$out"
  else
    echo "not ok $_test_count - $desc"
    echo "# body failed with status $rc after $(test_elapsed)s:"
    sed 's/^/#   /' <<<"$body"
    echo "# output:"
    tail -n 60 "$out" | sed 's/^/#   /'
    _test_failed=$((_test_failed + 1))
  fi
  return 0
}

# Expect a command to fail (non-zero, not a signal death).
test_must_fail() {
  local rc=0
  "$@" || rc=$?
  if [ $rc = 0 ]; then
    echo "test_must_fail: '$*' succeeded" >&2
    return 1
  fi
  if [ $rc -gt 128 ]; then
    echo "test_must_fail: '$*' died by signal $((rc - 128))" >&2
    return 1
  fi
  return 0
}

# Expect a command to exit with exactly CODE.
test_expect_code() {
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  [ "$rc" = "$want" ] || { echo "test_expect_code: '$*' exited $rc, not $want" >&2; return 1; }
}

assert_file_has_content() {
  grep -q -E -e "$2" "$1" || {
    echo "assert_file_has_content: '$1' lacks /$2/; it holds:" >&2
    head -n 40 "$1" >&2
    return 1
  }
}

assert_not_file_has_content() {
  if grep -q -E -e "$2" "$1"; then
    echo "assert_not_file_has_content: '$1' matches /$2/" >&2
    return 1
  fi
}

assert_streq() {
  [ "$1" = "$2" ] || {
    echo "assert_streq: '$1' != '$2'" >&2
    return 1
  }
}

test_done() {
  echo "1..$_test_count"
  [ $_test_failed = 0 ] || exit 1
  exit 0
}
