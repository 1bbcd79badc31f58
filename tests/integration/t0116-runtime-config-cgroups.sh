#!/bin/bash
# runtime-spec linux.resources and cgroupsPath end to end on this host's
# cgroups (v1 controllers here): limits written and enforced, absolute and
# relative paths, the devices allow-list, update, and pause.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root
[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ] ||
  skip_all "these tests read cgroup v1 files; the v2 limits are proven in the VM tests"

# (busybox sh exits when a fork fails, hence the subshell in the pids test)

# cg CTRL PIDFILE: the host directory of the container's cgroup for CTRL
cg() { echo "/sys/fs/cgroup/$1$(grep -E "^[0-9]+:([^:]*,)?$1(,[^:]*)?:" /proc/$(cat "$2")/cgroup | cut -d: -f3)"; }

test_expect_success 'memory: the limit is written, and a process going beyond it is OOM-killed' '
  make_bundle mem ".linux.resources.memory = {\"limit\": 33554432, \"swap\": 33554432}
    | .process.args = [\"sh\", \"-c\", \"read go; dd if=/dev/zero of=/dev/null bs=64M count=1; echo status=\$?; sleep 100\"]" &&
  mkfifo mem.in && exec 7<>mem.in &&
  rt run -d --pid-file mem.pid --bundle mem cg1 <mem.in >out 2>err &&
  d=$(cg memory mem.pid) &&
  test "$(cat $d/memory.limit_in_bytes)" = 33554432 &&
  test "$(cat $d/memory.memsw.limit_in_bytes)" = 33554432 &&
  echo go >&7 &&
  for i in $(seq 100); do grep -q status= out && break; sleep 0.1; done &&
  assert_file_has_content out "^status=137$" &&
  grep -qE "^oom_kill [1-9]" $d/memory.oom_control &&
  rt delete --force cg1
'

test_expect_success 'pids: a container limited to 10 cannot fork beyond it' '
  make_bundle pids ".linux.resources.pids = {\"limit\": 10}
    | .process.args = [\"sh\", \"-c\", \"(for i in \$(seq 20); do sleep 100 & done); echo started; exec sleep 100\"]" &&
  rt run -d --pid-file pids.pid --bundle pids cg2 >out 2>err &&
  for i in $(seq 100); do grep -q started out && break; sleep 0.1; done &&
  d=$(cg pids pids.pid) &&
  test "$(cat $d/pids.max)" = 10 &&
  test "$(cat $d/pids.current)" -le 10 &&
  assert_file_has_content err "Resource temporarily unavailable" &&
  test "$(rt ps --format json cg2 | jq length)" -le 10 &&
  rt delete --force cg2
'

test_expect_success 'cpu: shares, quota and period are written' '
  make_bundle cpu ".linux.resources.cpu = {\"shares\": 512, \"quota\": 50000, \"period\": 100000}
    | .process.args = [\"sleep\", \"100\"]" &&
  rt run -d --pid-file cpu.pid --bundle cpu cg3 &&
  d=$(cg cpu cpu.pid) &&
  test "$(cat $d/cpu.shares)" = 512 &&
  test "$(cat $d/cpu.cfs_quota_us)" = 50000 &&
  test "$(cat $d/cpu.cfs_period_us)" = 100000 &&
  rt delete --force cg3
'

ABS=keel-t0116-$$
test_cleanup "rmdir /sys/fs/cgroup/*/$ABS"
test_expect_success 'cgroupsPath: absolute, and gone after delete' '
  make_bundle abs ".linux.cgroupsPath = \"/$ABS/c4\" | .process.args = [\"sleep\", \"100\"]" &&
  rt run -d --pid-file abs.pid --bundle abs cg4 &&
  for c in memory pids cpu devices freezer; do
    test "$(cg $c abs.pid)" = /sys/fs/cgroup/$c/$ABS/c4 &&
    grep -qx "$(cat abs.pid)" /sys/fs/cgroup/$c/$ABS/c4/cgroup.procs || return 1
  done &&
  rt delete --force cg4 &&
  test ! -e /sys/fs/cgroup/memory/$ABS/c4 && test ! -e /sys/fs/cgroup/pids/$ABS/c4
'

# A relative path is taken under the runtime's own cgroup, per controller.
test_expect_success 'cgroupsPath: relative to the runtime own cgroup' '
  make_bundle rel ".linux.cgroupsPath = \"keel-t0116-rel-$$\" | .process.args = [\"sleep\", \"100\"]" &&
  rt run -d --pid-file rel.pid --bundle rel cg5 &&
  for c in memory pids; do
    own=$(grep -E "^[0-9]+:$c:" /proc/self/cgroup | cut -d: -f3) &&
    test "$(cg $c rel.pid)" = "/sys/fs/cgroup/$c${own%/}/keel-t0116-rel-$$" || return 1
  done &&
  d=$(cg memory rel.pid) &&
  rt delete --force cg5 &&
  test ! -e "$d"
'

test_expect_success 'devices: a node off the allow-list cannot be opened, on it it can' '
  make_bundle dev ".process.capabilities |= with_entries(.value += [\"CAP_SYSLOG\"])
    | .linux.devices = [{\"path\": \"/dev/kmsg\", \"type\": \"c\", \"major\": 1, \"minor\": 11, \"fileMode\": 292}]
    | .process.args = [\"sh\", \"-c\", \"exec 3</dev/kmsg && echo OPENED\"]" &&
  test_must_fail rt run --bundle dev cg6 >out 2>err &&
  assert_file_has_content err "Operation not permitted" &&
  test ! -s out &&
  edit_config dev ".linux.resources.devices += [{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"}]" &&
  rt run --bundle dev cg7 >out &&
  test "$(cat out)" = OPENED
'

test_expect_success 'update changes memory, cpu and pids limits of a running container' '
  make_bundle up ".process.args = [\"sleep\", \"100\"]" &&
  rt run -d --pid-file up.pid --bundle up cg8 &&
  rt update --memory 50331648 --cpu-share 256 --pids-limit 33 cg8 &&
  test "$(cat $(cg memory up.pid)/memory.limit_in_bytes)" = 50331648 &&
  test "$(cat $(cg cpu up.pid)/cpu.shares)" = 256 &&
  test "$(cat $(cg pids up.pid)/pids.max)" = 33 &&
  echo "{\"pids\": {\"limit\": 44}}" | rt update -r - cg8 &&
  test "$(cat $(cg pids up.pid)/pids.max)" = 44 &&
  rt delete --force cg8
'

test_expect_success 'pause freezes the container: a counter does not advance until resume' '
  make_bundle pz ".process.args = [\"sh\", \"-c\", \"while :; do echo >>/tmp/count; sleep 0.01; done\"]" &&
  rt run -d --pid-file pz.pid --bundle pz cg9 &&
  for i in $(seq 50); do test -s pz/rootfs/tmp/count && break; sleep 0.1; done &&
  rt pause cg9 &&
  test "$(cat $(cg freezer pz.pid)/freezer.state)" = FROZEN &&
  a=$(wc -l <pz/rootfs/tmp/count) && sleep 0.5 && b=$(wc -l <pz/rootfs/tmp/count) &&
  test "$a" -gt 0 && test "$a" = "$b" &&
  rt resume cg9 && sleep 0.5 &&
  test "$(wc -l <pz/rootfs/tmp/count)" -gt "$b" &&
  rt delete --force cg9
'

# The init moves itself into its v1 cgroups, and starts in a unified one
# through clone3: the process must sit in every hierarchy's /keel/<id>
# from its first instruction, on this hybrid host and with the unified
# mount hidden (v1 only).
in_own_cgroups() {
  local id=$1 out=$2
  test -s "$out" &&
    ! grep -v "^0::" "$out" | grep -v ":/keel/$id\$" &&
    { [ -z "${3:-}" ] || grep -qx "0::/keel/$id" "$out"; }
}

test_expect_success 'the process starts inside its cgroup in every hierarchy' '
  make_bundle self ".linux.namespaces |= map(select(.type != \"cgroup\"))
    | .process.args = [\"cat\", \"/proc/self/cgroup\"]" &&
  rt run --bundle self cg10 >out &&
  if mountpoint -q /sys/fs/cgroup/unified; then in_own_cgroups cg10 out unified; else in_own_cgroups cg10 out; fi &&
  unshare -m --propagation private sh -c "umount /sys/fs/cgroup/unified 2>/dev/null;
    exec \"$KEEL_RUNTIME\" --root \"$RT_ROOT\" run --bundle self cg11" >out11 &&
  in_own_cgroups cg11 out11
'

test_done
