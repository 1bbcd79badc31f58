#!/bin/bash
# runtime-spec linux.namespaces end to end: every namespace type created
# new (seen from inside the container and compared with the host), uid/gid
# mappings, time offsets, and namespaces joined by path.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

NETNS=keel-t0110-$$
test_cleanup "ip netns del $NETNS"

# the namespace identities of the host, one "type:[inode]" per type
host_ns() { readlink "/proc/self/ns/$1"; }

test_expect_success 'every namespace is new: pid, uts, ipc, net, mnt, cgroup, time' '
  make_bundle all ".process.args = [\"sh\", \"-c\", \"echo pid1=\$\$; for n in pid uts ipc net mnt cgroup time; do echo \$n=\$(readlink /proc/self/ns/\$n); done\"]
    | .linux.namespaces += [{\"type\": \"time\"}]" &&
  rt run --bundle all ns1 >out &&
  assert_file_has_content out "^pid1=1$" &&
  for n in pid uts ipc net mnt cgroup time; do
    inside=$(sed -n "s/^$n=//p" out) &&
    test -n "$inside" && test "$inside" != "$(host_ns $n)" || return 1
  done
'

test_expect_success 'pid namespace: the container sees only its own processes' '
  make_bundle pid ".process.args = [\"sh\", \"-c\", \"ps -o pid,comm; exit 0\"]" &&
  rt run --bundle pid ns2 >out &&
  assert_file_has_content out "^ *1 +sh$" &&
  test "$(grep -cE "^ *[0-9]+ " out)" = 2
'

test_expect_success 'uts namespace: hostname and domainname are set, the host keeps its own' '
  before=$(hostname) && dbefore=$(cat /proc/sys/kernel/domainname) &&
  make_bundle uts ".hostname = \"t0110-host\" | .domainname = \"t0110.example\"
    | .process.args = [\"sh\", \"-c\", \"hostname; cat /proc/sys/kernel/domainname\"]" &&
  rt run --bundle uts ns3 >out &&
  test "$(sed -n 1p out)" = t0110-host &&
  test "$(sed -n 2p out)" = t0110.example &&
  test "$(hostname)" = "$before" && test "$(cat /proc/sys/kernel/domainname)" = "$dbefore"
'

test_expect_success 'net namespace: only lo' '
  make_bundle net ".process.args = [\"sh\", \"-c\", \"tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d \\\" \\\"; ls /sys/class/net\"]" &&
  rt run --bundle net ns4 >out &&
  test "$(cat out)" = "lo
lo"
'

SHMID=$(ipcmk -M 4096 | grep -o "[0-9]*$")
test_cleanup "ipcrm -m $SHMID"
test_expect_success 'ipc namespace: a SysV segment of the host is not visible inside' '
  grep -qE "^ *-?[0-9]+ +$SHMID " /proc/sysvipc/shm &&
  make_bundle ipc ".process.args = [\"cat\", \"/proc/sysvipc/shm\"]" &&
  rt run --bundle ipc ns5 >out &&
  test "$(wc -l <out)" = 1
'

test_expect_success 'mount namespace: the container mounts stay out of the host' '
  make_bundle mnt ".process.args = [\"sleep\", \"100\"]" &&
  rt run -d --pid-file mnt.pid --bundle mnt ns6 &&
  pid=$(cat mnt.pid) &&
  grep -q " /proc " /proc/$pid/mountinfo &&
  grep -q " /dev/pts " /proc/$pid/mountinfo &&
  ! grep -q "$TEST_TMP/mnt/rootfs" /proc/self/mountinfo &&
  rt delete --force ns6
'

test_expect_success 'cgroup namespace: the container cgroup is its root' '
  make_bundle cg ".process.args = [\"sh\", \"-c\", \"cat /proc/self/cgroup; sleep 100\"]" &&
  rt run -d --pid-file cg.pid --bundle cg ns7 >out &&
  pid=$(cat cg.pid) &&
  for i in $(seq 50); do test -s out && break; sleep 0.1; done &&
  grep -E "^[0-9]+:memory:/" /proc/$pid/cgroup | grep -q ns7 &&
  grep -q ":memory:/$" out &&
  grep -q "^0::/$" out &&
  test "$(grep -vc ":/$" out)" = 0 &&
  rt delete --force ns7
'

test_expect_success 'time namespace: linux.timeOffsets shift boottime and monotonic' '
  make_bundle time ".linux.namespaces += [{\"type\": \"time\"}]
    | .linux.timeOffsets = {\"boottime\": {\"secs\": 864000000, \"nanosecs\": 0},
                            \"monotonic\": {\"secs\": 3600, \"nanosecs\": 5}}
    | .process.args = [\"sh\", \"-c\", \"cut -d. -f1 /proc/uptime; cat /proc/self/timens_offsets\"]" &&
  rt run --bundle time ns8 >out &&
  host=$(cut -d. -f1 /proc/uptime) &&
  inside=$(head -n1 out) &&
  test "$inside" -ge $((host + 864000000 - 5)) &&
  test "$inside" -le $((host + 864000000 + 5)) &&
  assert_file_has_content out "^monotonic +3600 +5$" &&
  assert_file_has_content out "^boottime +864000000 +0$"
'

# The mapped root (host uid 100000) must be able to reach its rootfs, and
# mktemp made $TEST_TMP 0700.
test_expect_success 'user namespace: uid 0 inside is 100000 outside' '
  chmod 0711 "$TEST_TMP" &&
  make_bundle user ".linux.namespaces += [{\"type\": \"user\"}]
    | .linux.uidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]
    | .linux.gidMappings = [{\"containerID\": 0, \"hostID\": 200000, \"size\": 65536}]
    | .process.args = [\"sh\", \"-c\", \"id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; sleep 100\"]" &&
  rt run -d --pid-file user.pid --bundle user ns9 >out &&
  pid=$(cat user.pid) &&
  for i in $(seq 50); do test "$(wc -l <out)" -ge 4 && break; sleep 0.1; done &&
  test "$(sed -n 1p out)" = 0 && test "$(sed -n 2p out)" = 0 &&
  sed -n 3p out | grep -qE "^ +0 +100000 +65536$" &&
  sed -n 4p out | grep -qE "^ +0 +200000 +65536$" &&
  test "$(stat -c %u:%g /proc/$pid)" = 100000:200000 &&
  grep -qE "^Uid:\s+100000\s+100000\s+100000\s+100000$" /proc/$pid/status &&
  test "$(readlink /proc/$pid/ns/user)" != "$(host_ns user)" &&
  rt delete --force ns9
'

test_expect_success 'join a network namespace by path: its bridge interface is there' '
  ip netns add $NETNS &&
  ip -n $NETNS link add t0110br type bridge &&
  make_bundle joinnet ".linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$NETNS\" else . end)
    | .process.args = [\"sh\", \"-c\", \"readlink /proc/self/ns/net; cat /proc/net/dev\"]" &&
  rt run --bundle joinnet ns10 >out &&
  assert_file_has_content out "t0110br:" &&
  test "$(head -n1 out)" = "$(ip netns exec $NETNS readlink /proc/self/ns/net)" &&
  ip netns del $NETNS
'

test_expect_success 'join the uts namespace of another running container by /proc/PID/ns/uts' '
  make_bundle uts1 ".hostname = \"t0110-first\" | .process.args = [\"sleep\", \"100\"]" &&
  rt run -d --pid-file uts1.pid --bundle uts1 ns11 &&
  pid=$(cat uts1.pid) &&
  make_bundle uts2 "del(.hostname) | .linux.namespaces |= map(if .type == \"uts\" then .path = \"/proc/$pid/ns/uts\" else . end)
    | .process.args = [\"sh\", \"-c\", \"hostname; readlink /proc/self/ns/uts\"]" &&
  rt run --bundle uts2 ns12 >out &&
  test "$(sed -n 1p out)" = t0110-first &&
  test "$(sed -n 2p out)" = "$(readlink /proc/$pid/ns/uts)" &&
  rt delete --force ns11
'

test_done
