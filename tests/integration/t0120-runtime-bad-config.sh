#!/bin/bash
# Invalid config.json snippets: each is refused with one clear line and a
# non-zero exit, and leaves no state directory, cgroup or process behind.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

make_bundle "$TEST_TMP/good" '.process.args = ["true"]'

# name @ jq filter applied to a good config @ expected message (ERE)
while IFS='@' read -r name filter want; do
  [ -n "$name" ] || continue
  name=${name%"${name##*[![:space:]]}"}
  case "$name" in \#*) continue ;; esac
  test_expect_success "refused: $name" '
    rm -rf bad && mkdir bad && ln -s ../good/rootfs bad/rootfs &&
    jq "$filter" good/config.json >bad/config.json &&
    rc=0 && rt run --bundle bad bad1 >out 2>err || rc=$? &&
    test "$rc" != 0 && test "$rc" -lt 128 &&
    test "$(wc -l <err)" = 1 &&
    assert_file_has_content err "$want" &&
    test -z "$(ls "$RT_ROOT" 2>/dev/null)" &&
    ! ls -d /sys/fs/cgroup/*/keel/bad1 /sys/fs/cgroup/keel/bad1 2>/dev/null
  '
done <<'TABLE'
args not an array            @.process.args = "sh"@process.args: expected an array
cwd not a string             @.process.cwd = 5@process.cwd: expected a string
relative cwd                 @.process.cwd = "tmp"@process.cwd: 'tmp' is not an absolute path
empty args                   @.process.args = []@process.args: must name a program
env without =                @.process.env = ["FOO"]@process.env: 'FOO' is not NAME=VALUE
unknown namespace            @.linux.namespaces += [{"type": "bogus"}]@unknown namespace 'bogus'
duplicate namespace          @.linux.namespaces += [{"type": "pid"}]@duplicate namespace 'pid'
relative namespace path      @.linux.namespaces += [{"type": "time", "path": "ns/time"}]@is not an absolute path
missing namespace path       @.linux.namespaces |= map(if .type == "network" then .path = "/proc/no/ns/net" else . end)@cannot open network namespace
relative mount destination   @.mounts += [{"destination": "tmp/x", "type": "tmpfs", "source": "tmpfs"}]@mounts\[[0-9]+\].destination: 'tmp/x' is not an absolute path
dot-dot mount destination    @.mounts += [{"destination": "/tmp/../../etc", "type": "tmpfs", "source": "tmpfs"}]@contains '..'
mount without type           @.mounts += [{"destination": "/x"}]@needs a type or a bind option
bind mount of nothing        @.mounts += [{"destination": "/x", "type": "bind", "source": "/no/such/dir", "options": ["bind"]}]@cannot bind-mount '/no/such/dir'
missing rootfs               @.root.path = "no-such-rootfs"@root.path: cannot use
root not an object           @.root = "rootfs"@root: expected an object
unknown seccomp syscall      @.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["no_such_call"], "action": "SCMP_ACT_ERRNO"}]}@no_such_call
unknown seccomp action       @.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}]}@SCMP_ACT_EXPLODE
unknown seccomp default      @.linux.seccomp = {"defaultAction": "ALLOW"}@defaultAction
rlimit soft above hard       @.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]@soft limit 2048 above hard limit 1024
unknown rlimit               @.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]@unknown rlimit 'RLIMIT_BOGUS'
duplicate rlimit             @.process.rlimits += [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}]@duplicate rlimit
absurd rlimit                @.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1073741824, "hard": 1073741824}]@RLIMIT_NOFILE
negative rlimit              @.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": -1, "hard": 1}]@non-negative
unknown capability           @.process.capabilities.bounding += ["CAP_FLY"]@unknown capability 'CAP_FLY'
uid maps without userns      @.linux.uidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}]@without a user namespace
userns without maps          @.linux.namespaces += [{"type": "user"}]@needs uidMappings
hostname without uts         @.linux.namespaces |= map(select(.type != "uts"))@needs a UTS namespace
non-namespaced sysctl        @.linux.sysctl = {"vm.swappiness": "10"}@'vm.swappiness' is not namespaced
bad device type              @.linux.devices = [{"path": "/dev/x", "type": "z", "major": 1, "minor": 3}]@linux.devices\[0\].type
relative hook path           @.hooks = {"prestart": [{"path": "hook.sh"}]}@hooks.prestart\[0\].path
unknown hook kind            @.hooks = {"whenever": []}@unknown hook kind 'whenever'
memory limit not a number    @.linux.resources.memory = {"limit": "lots"}@memory
bad cpu shares               @.linux.resources.cpu = {"shares": 1}@shares
bad device rule access       @.linux.resources.devices = [{"allow": true, "access": "rwz"}]@access
oomScoreAdj out of range     @.process.oomScoreAdj = 5000@oomScoreAdj: value out of range
ociVersion missing           @del(.ociVersion)@ociVersion: missing
not an object                @[1, 2]@expected a JSON object
TABLE

test_expect_success 'refused: malformed JSON' '
  rm -rf bad && mkdir bad && ln -s ../good/rootfs bad/rootfs &&
  printf "{\"ociVersion\": \"1.0.2\", \"process\": {" >bad/config.json &&
  test_must_fail rt run --bundle bad bad1 2>err &&
  test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "config.json: malformed JSON" &&
  test -z "$(ls "$RT_ROOT" 2>/dev/null)"
'

test_expect_success 'refused: an invalid container id' '
  test_must_fail rt run --bundle good ../escape 2>err &&
  assert_file_has_content err "invalid container id" &&
  test ! -e "$TEST_TMP/escape"
'

test_expect_success 'refused: a program that does not exist, nothing left behind' '
  rm -rf bad && mkdir bad && ln -s ../good/rootfs bad/rootfs &&
  jq ".process.args = [\"/no/such/program\"]" good/config.json >bad/config.json &&
  test_must_fail rt create --bundle bad bad2 2>err &&
  assert_file_has_content err "/no/such/program" &&
  test -z "$(ls "$RT_ROOT" 2>/dev/null)" &&
  ! ls -d /sys/fs/cgroup/*/keel/bad2 2>/dev/null
'

test_done
