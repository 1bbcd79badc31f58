#!/bin/bash
# keel-monitor at scale and at rest: 20 monitors with --rm leave no
# process, fd, state directory, runtime state or cgroup behind; an idle
# monitor stays within 1 MiB resident (the figure is printed).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
. "$TEST_SRCDIR/tests/lib/monitor.sh"
test_require_root

# every container waits for /tmp/go in the (shared) rootfs: all 20 run at once
make_bundle "$TEST_TMP/b" '.process.args = ["sh", "-c", "echo hi; while [ ! -e /tmp/go ]; do sleep 0.1; done"]'
make_bundle "$TEST_TMP/idle" '.process.args = ["sleep", "1000"]'

count_our_fds() {
  # fds anywhere on the machine that point into this test's directory
  ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c "$TEST_TMP/m" || true
}

test_expect_success '20 monitors with --rm leave nothing behind' '
  for i in $(seq 20); do mon_start "m$i" b --rm & done; wait &&
  for i in $(seq 20); do grep -q "^started" "m$i.sync"; done &&
  test "$(ls "$RT_ROOT" | wc -l)" = 20 &&
  touch b/rootfs/tmp/go &&
  for i in $(seq 100); do [ -z "$(ls "$RT_ROOT")" ] && ! ls -d m[0-9]* 2>/dev/null | grep -q . && break; sleep 0.1; done &&
  for i in $(seq 20); do test ! -e "m$i" && grep -qx "exited 0" "m$i.sync"; done &&
  test -z "$(ls "$RT_ROOT")" &&
  ! pgrep -f -- "--id $MON_PREFIX-m" &&
  test "$(count_our_fds)" = 0 &&
  for cg in /sys/fs/cgroup/pids/keel /sys/fs/cgroup/memory/keel; do
    ! ls -d "$cg/$MON_PREFIX"-* 2>/dev/null | grep -q .
  done
'

test_expect_success 'an idle monitor stays within 1 MiB resident' '
  mon_start rss idle &&
  sleep 2 &&
  pid=$(mon_pid rss) &&
  rss=$(awk "/^VmRSS:/ {print \$2}" /proc/$pid/status) &&
  pss=$(awk "/^Pss:/ {print \$2}" /proc/$pid/smaps_rollup) &&
  echo "# keel-monitor idle: VmRSS ${rss} kB, Pss ${pss} kB" >&3 &&
  test "$rss" -le 1024
' 3>&1

test_done
