#!/bin/bash
# Bench for the host image (issue 5's bars), printed as RESULT lines:
#   compose + image wall time with a warm apt cache, the qcow2's size, and
#   boot to multi-user under TCG of the Keel image against a plain Debian
#   image with the same packages and no ostree (tests/bench/plain-image.sh),
#   each booted BOOTS times (default 3), alternating; medians.  The ratio
#   is the median of the per-pair ratios: each pair of boots ran back to
#   back, so load from other work on the machine cancels out.
# Builds into build/bench (never touches build/images); needs root.
#   sudo tests/bench/image.sh     # BOOTS=1 SKIP_PLAIN=1 for a quick look,
#                                 # SKIP_BUILD=1 to boot the last build again
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../vm/lib.sh"
test_require_root
BOOTS=${BOOTS:-3}
bench=$TEST_SRCDIR/build/bench
export KEEL_APT_CACHE=${KEEL_APT_CACHE:-$TEST_SRCDIR/build/cache/apt}
# the image carries the programs built in this tree, as make image's does
export KEEL_PROGRAMS_DIR=${KEEL_PROGRAMS_DIR:-$TEST_SRCDIR/build}
mkdir -p "$bench"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# The apt cache is warm once one compose has run; make sure it has.
if [ ! -d "$KEEL_APT_CACHE/archives" ] || [ -z "$(ls "$KEEL_APT_CACHE/archives" 2>/dev/null)" ]; then
  say "warming the apt cache (one compose, not measured)"
  KEEL_BUILD=$bench "$TEST_SRCDIR/image-build/compose.sh" server >/dev/null 2>&1
fi

keel_img=$bench/images/keel-x86_64-server.qcow2
plain_img=$bench/plain-x86_64-server.qcow2
if [ "${SKIP_BUILD:-0}" = 1 ] && [ -f "$keel_img" ]; then
  say "SKIP_BUILD=1: booting the images already in $bench"
else
say "compose + image (warm apt cache)"
t0=$(now)
KEEL_BUILD=$bench "$TEST_SRCDIR/image-build/compose.sh" server 2>&1 | sed 's/^/# /'
t1=$(now)
KEEL_BUILD=$bench "$TEST_SRCDIR/image-build/disk.sh" server 2>&1 | sed 's/^/# /'
t2=$(now)
[ -f "$keel_img" ] || { echo "# image build failed"; exit 1; }
echo "RESULT compose wall=$(secs "$t0" "$t1")s"
echo "RESULT image wall=$(secs "$t1" "$t2")s"
echo "RESULT compose+image wall=$(secs "$t0" "$t2")s"
echo "RESULT qcow2 size=$(($(stat -c %s "$keel_img") / 1048576))MiB"

# The plain image does not change with Keel's work: built once, reused
# (REBUILD_PLAIN=1 builds it again).
if [ "${SKIP_PLAIN:-0}" != 1 ] && { [ ! -f "$plain_img" ] || [ "${REBUILD_PLAIN:-0}" = 1 ]; }; then
  say "plain Debian image (same packages, no ostree)"
  t3=$(now)
  KEEL_BUILD=$bench "$(dirname "$0")/plain-image.sh" "$plain_img" 2>&1 | sed 's/^/# /'
  echo "RESULT plain-image wall=$(secs "$t3" "$(now)")s size=$(($(stat -c %s "$plain_img") / 1048576))MiB"
fi
fi

printf '#!/bin/sh\ntrue\n' >"$TEST_TMP/noop.sh"
# boot_once KIND IMAGE N: seconds from QEMU start to the multi-user marker.
boot_once() {
  local kind=$1 n=$3 t
  KEEL_IMAGE=$2
  vm_boot "$kind$n" "$TEST_TMP/noop.sh" 6G >/dev/null
  if ! vm_wait "$kind$n" "KEEL-BOOT: multi-user" 900 >"$TEST_TMP/wait.err" 2>&1; then
    sed 's/^/# /' "$TEST_TMP/wait.err"
    vm_kill "$kind$n"
    return 1
  fi
  t=$(awk '$1 == "multi-user" { print $2 }' "$(_vm_dir "$kind$n")/seen")
  vm_finish "$kind$n" 120 >/dev/null
  echo "$t" >>"$TEST_TMP/$kind.times"
  say "boot $n $kind: multi-user after ${t}s"
}
for n in $(seq "$BOOTS"); do
  boot_once keel "$keel_img" "$n"
  [ "${SKIP_PLAIN:-0}" = 1 ] || boot_once plain "$plain_img" "$n"
done
k=$(median <"$TEST_TMP/keel.times")
echo "RESULT boot keel wall=${k}s (median of $BOOTS)"
if [ "${SKIP_PLAIN:-0}" != 1 ]; then
  p=$(median <"$TEST_TMP/plain.times")
  echo "RESULT boot plain wall=${p}s (median of $BOOTS)"
  r=$(paste "$TEST_TMP/keel.times" "$TEST_TMP/plain.times" | awk '{ printf "%.3f\n", $1 / $2 }' | median)
  echo "RESULT boot keel/plain wall=$(printf '%.2f' "$r")"
fi
