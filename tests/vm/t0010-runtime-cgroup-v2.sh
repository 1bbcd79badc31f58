#!/bin/bash
# keel-runtime on the Keel host itself: pure cgroup v2 under systemd.
# Memory and pids limits are enforced, the eBPF device filter denies what
# it must, pause/resume use cgroup.freeze, and --systemd-cgroup puts the
# container in a transient scope that systemd knows and removes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib.sh"
vm_require
command -v jq >/dev/null || skip_all "no jq (make deps)"

# One bundle tarball with a config per case, handed in through fw_cfg.
b=$TEST_TMP/bundle
"$TEST_SRCDIR/tests/fixtures/busybox-rootfs.sh" "$b/rootfs"
"$KEEL_BUILD/keel-runtime" spec --bundle "$b"
base='.process.terminal = false | .root.readonly = false'
# busybox sh gives up at the first failed fork: count in a file, read it with a builtin
jq "$base | .process.args = [\"sh\", \"-c\", \"cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; sh -c 'for i in \$(seq 30); do sleep 60 & echo \$i >/tmp/n; done' 2>/dev/null; read n </tmp/n; echo forked=\$n\"]
  | .linux.resources.memory = {\"limit\": 33554432} | .linux.resources.pids = {\"limit\": 10}" \
  "$b/config.json" >"$b/limits.json"
jq "$base | .process.args = [\"sh\", \"-c\", \"head -c 200m /dev/zero | tail\"]
  | .linux.resources.memory = {\"limit\": 33554432, \"swap\": 33554432}" "$b/config.json" >"$b/oom.json"
jq "$base | .process.args = [\"sh\", \"-c\", \"head -c1 /dev/null && echo null=ok; head -c1 /dev/kmsg >/dev/null 2>&1 && echo kmsg=open || echo kmsg=denied\"]
  | .linux.devices = [{\"path\": \"/dev/kmsg\", \"type\": \"c\", \"major\": 1, \"minor\": 11}]" \
  "$b/config.json" >"$b/devices.json"
jq "$base | .process.args = [\"sh\", \"-c\", \"i=0; while :; do i=\$((i+1)); echo \$i >/tmp/count; sleep 0.1; done\"]
  | .linux.cgroupsPath = \"system.slice:keel:vmsd\" | .linux.resources.memory = {\"limit\": 67108864}" \
  "$b/config.json" >"$b/systemd.json"
tar -C "$b" -cf "$TEST_TMP/bundle.tar" .

cat >"$TEST_TMP/guest.sh" <<'GUEST'
#!/bin/bash
r() { echo "KEEL-T $1=$2"; }
b=/var/tmp/bundle
mkdir -p $b && tar -C $b -xf /sys/firmware/qemu_fw_cfg/by_name/opt/keel/bundle/raw
use() { cp $b/$1.json $b/config.json; }
r cgroupfs "$(stat -f -c %T /sys/fs/cgroup)"
use limits
out=$(keel-runtime run --bundle $b lim 2>&1)
r mem-max "$(echo "$out" | sed -n 1p)"
r pids-max "$(echo "$out" | sed -n 2p)"
r forked "$(echo "$out" | sed -n 's/^forked=//p')"
use oom
keel-runtime run --bundle $b oom >/dev/null 2>&1; r oom-exit $?
use devices
out=$(keel-runtime run --bundle $b dev 2>&1)
r dev-null "$(echo "$out" | grep -c null=ok)"
r dev-kmsg "$(echo "$out" | sed -n 's/^kmsg=//p')"
use systemd
# the detached container keeps its stdout: a file, not a pipe someone waits on
keel-runtime --systemd-cgroup run -d --bundle $b sd >/var/tmp/sd.log 2>&1
sed 's/^/KEEL-LOG /' /var/tmp/sd.log
r scope "$(systemctl is-active keel-vmsd.scope)"
r scope-mem "$(cat /sys/fs/cgroup/system.slice/keel-vmsd.scope/memory.max 2>&1)"
r scope-pid "$(grep -c "$(keel-runtime state sd | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')" /sys/fs/cgroup/system.slice/keel-vmsd.scope/cgroup.procs)"
keel-runtime pause sd; a=$(cat $b/rootfs/tmp/count); sleep 1; c=$(cat $b/rootfs/tmp/count)
r paused-still "$([ "$a" = "$c" ] && echo yes || echo no)"
r frozen "$(grep -c 'frozen 1' /sys/fs/cgroup/system.slice/keel-vmsd.scope/cgroup.events)"
keel-runtime resume sd; sleep 1; d=$(cat $b/rootfs/tmp/count)
r resumed "$([ "$d" != "$c" ] && echo yes || echo no)"
keel-runtime delete --force sd
sleep 1
r scope-after "$(systemctl is-active keel-vmsd.scope)"
r leftovers "$(ls /run/keel-runtime 2>/dev/null | wc -l)"
GUEST

vm_boot main "$TEST_TMP/guest.sh" 6G -fw_cfg "name=opt/keel/bundle,file=$TEST_TMP/bundle.tar"

test_expect_success 'boots and runs the runtime script' '
  vm_wait main "KEEL-BOOT: multi-user" &&
  vm_wait main "KEEL-VMTEST: exit=" 600
'
test_expect_success 'the host is pure cgroup v2' '
  assert_streq "$(vm_result main cgroupfs)" cgroup2fs
'
test_expect_success 'memory.max and pids.max are set; forks stop at the pids limit' '
  assert_streq "$(vm_result main mem-max)" 33554432 &&
  assert_streq "$(vm_result main pids-max)" 10 &&
  f=$(vm_result main forked) && test "$f" -ge 1 && test "$f" -lt 10
'
test_expect_success 'a container past its memory limit is OOM-killed' '
  assert_streq "$(vm_result main oom-exit)" 137
'
test_expect_success 'the eBPF device filter allows /dev/null and denies /dev/kmsg' '
  assert_streq "$(vm_result main dev-null)" 1 &&
  assert_streq "$(vm_result main dev-kmsg)" denied
'
test_expect_success '--systemd-cgroup makes a transient scope with the limit' '
  assert_streq "$(vm_result main scope)" active &&
  assert_streq "$(vm_result main scope-mem)" 67108864 &&
  assert_streq "$(vm_result main scope-pid)" 1
'
test_expect_success 'pause and resume through cgroup.freeze' '
  assert_streq "$(vm_result main paused-still)" yes &&
  assert_streq "$(vm_result main frozen)" 1 &&
  assert_streq "$(vm_result main resumed)" yes
'
test_expect_success 'delete stops the scope and leaves no state' '
  assert_streq "$(vm_result main scope-after)" inactive &&
  assert_streq "$(vm_result main leftovers)" 0
'
vm_finish main
test_done
