#!/bin/bash
# Pull progress: on a terminal (a pty from util-linux's script) one bar per
# layer redrawn in place, each ending in its final state; off a terminal
# one plain line per layer and no escape sequences; --quiet prints only
# the image id.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root
command -v script >/dev/null || skip_all "script (util-linux) is not installed"

registry_start plain
registry_push_fixture layers layers >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push layers" && cat "$TEST_TMP/push.log" && exit 1
}
digests=$(jq -r '.layers[].digest | sub("sha256:"; "") | .[0:12]' \
  "$(fixture_dir layers)/docker/manifest.json")

# Run keel with ARGS on a pty; the screen bytes go to FILE, with CRs and
# the cursor/erase sequences kept.
on_tty() {
  local out=$1
  shift
  script -qec "$KEEL --root $KEEL_STORE $*" /dev/null >"$out"
}
has_esc() { grep -q "$(printf '\033')${2:-}" "$1"; }
has_cr() { grep -q "$(printf '\r')" "$1"; }
# The last line printed for each layer, with the escape sequences removed.
final_lines() { sed 's/\x1b\[[0-9]*[AK]//g; s/\r$//' "$1" | grep "^Copying blob" | tail -n 3; }

test_expect_success 'on a terminal: a bar per layer, redrawn, ending in "done"' '
  on_tty out pull --tls-verify=false $REGISTRY/layers &&
  has_esc out "\\[3A" && test "$(grep -c "^Trying to pull" out)" = 1 &&
  final_lines out >final && test "$(wc -l <final)" = 3 &&
  for d in $digests; do
    grep -Eq "^Copying blob $d \[={30}\] [0-9.]+k?M?B / [0-9.]+k?M?B done$" final || exit 1
  done &&
  test "$(grep -c "^Copying blob" final)" = 3 &&
  tail -n 2 out | head -n 1 | grep -q "^Writing manifest to image destination"
'

test_expect_success 'on a terminal again: every layer ends as "already exists"' '
  on_tty out pull --tls-verify=false $REGISTRY/layers && final_lines out >final &&
  test "$(grep -c " already exists$" final)" = 3
'

test_expect_success 'off a terminal: one plain line per layer, no escape sequences' '
  rm -rf "$KEEL_STORE" && keel pull --tls-verify=false $REGISTRY/layers >id 2>err &&
  ! has_esc err && ! has_cr err &&
  test "$(wc -l <err)" = 5 && test "$(grep -c "^Copying blob [0-9a-f]\{12\} done$" err)" = 3 &&
  for d in $digests; do grep -q "^Copying blob $d done$" err || exit 1; done &&
  head -n 1 err | grep -q "^Trying to pull" && tail -n 1 err | grep -q "^Writing manifest"
'

test_expect_success '--quiet on a terminal: only the image id' '
  rm -rf "$KEEL_STORE" && on_tty out pull -q --tls-verify=false $REGISTRY/layers &&
  test "$(wc -l <out)" = 1 && tr -d "\r" <out | grep -Eqx "[0-9a-f]{64}"
'

test_done
