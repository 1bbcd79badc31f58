#!/bin/bash
# keel-runtime lifecycle: create / start / state / kill / delete, run,
# exec, list, ps, pause / resume, update — runc's command line.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

make_bundle "$TEST_TMP/b" '.process.args = ["sleep", "1000"]'

test_expect_success 'create leaves the container created and waiting' '
  rt create --bundle b --pid-file pid c1 &&
  test "$(rt_status c1)" = created &&
  pid=$(cat pid) && test -d /proc/$pid &&
  rt state c1 >st.json &&
  jq -e ".ociVersion and .id == \"c1\" and .pid == $pid and .bundle" st.json &&
  ! grep -q sleep /proc/$pid/cmdline
'

test_expect_success 'start runs the process; state says running' '
  rt start c1 &&
  wait_status c1 running &&
  pid=$(cat pid) && grep -q sleep /proc/$pid/cmdline
'

test_expect_success 'a second create with the same id is refused' '
  test_must_fail rt create --bundle b c1 2>err &&
  assert_file_has_content err "already exists"
'

test_expect_success 'list and ps show it' '
  rt list | grep -E "^c1 +[0-9]+ +running" &&
  rt list --format json | jq -e ".[] | select(.id == \"c1\") | .status == \"running\"" &&
  rt ps --format json c1 | jq -e "length == 1"
'

test_expect_success 'exec runs a process beside it, with exit code, env, cwd, user' '
  rc=0 && rt exec c1 sh -c "exit 5" || rc=$?; test "$rc" = 5 &&
  rt exec --env FOO=bar --cwd /tmp --user 65534:65534 c1 sh -c "echo \$FOO \$(pwd) \$(id -u):\$(id -g)" >out &&
  assert_file_has_content out "^bar /tmp 65534:65534$"
'

test_expect_success 'exec --detach --pid-file returns at once' '
  rt exec -d --pid-file epid c1 sleep 300 &&
  test -d /proc/$(cat epid) &&
  rt ps --format json c1 | jq -e "length == 2"
'

test_expect_success 'pause and resume freeze and thaw it' '
  rt pause c1 && test "$(rt_status c1)" = paused &&
  test_must_fail rt pause c1 &&
  rt resume c1 && test "$(rt_status c1)" = running
'

test_expect_success 'update changes the pids limit, keeping the rest of the stored resources' '
  rt update --memory 64m c1 &&
  rt update --pids-limit 42 c1 &&
  jq -e ".config.linux.resources.memory.limit == 67108864 and .config.linux.resources.pids.limit == 42" "$RT_ROOT/c1/state.json" &&
  cg=$(grep pids /proc/$(cat pid)/cgroup | cut -d: -f3) &&
  test "$(cat /sys/fs/cgroup/pids$cg/pids.max 2>/dev/null || cat /sys/fs/cgroup$cg/pids.max)" = 42
'

test_expect_success 'delete refuses a running container without --force' '
  test_must_fail rt delete c1 2>err &&
  assert_file_has_content err "running"
'

test_expect_success 'kill --all, then delete removes every trace' '
  pid=$(cat pid) && cg=$(grep pids /proc/$pid/cgroup | cut -d: -f3) &&
  rt kill --all c1 KILL &&
  wait_status c1 stopped &&
  rt delete c1 &&
  test_must_fail rt state c1 &&
  test ! -e "$RT_ROOT/c1" &&
  test ! -e /sys/fs/cgroup/pids$cg
'

test_expect_success 'run in the foreground returns the exit code' '
  make_bundle b2 ".process.args = [\"sh\", \"-c\", \"echo out; echo err >&2; exit 3\"]" &&
  rc=0 && rt run --bundle b2 r1 >out 2>err || rc=$?; test "$rc" = 3 &&
  assert_file_has_content out "^out$" && assert_file_has_content err "^err$" &&
  test ! -e "$RT_ROOT/r1"
'

test_expect_success 'run of a process killed by a signal returns 128+signal' '
  make_bundle b3 ".process.args = [\"sh\", \"-c\", \"kill -9 \$\$\"]
                 | .linux.namespaces |= map(select(.type != \"pid\"))" &&
  rc=0 && rt run --bundle b3 r2 || rc=$?; test "$rc" = 137
'

test_expect_success 'run --detach leaves it running' '
  rt run -d --bundle b r3 &&
  test "$(rt_status r3)" = running &&
  rt kill r3 KILL && wait_status r3 stopped && rt delete r3
'

test_expect_success 'kill takes signal names and numbers; unknown signals are refused' '
  rt run -d --bundle b r4 &&
  rt kill r4 SIGCONT && rt kill r4 18 &&
  test_must_fail rt kill r4 SIGNOPE 2>err && assert_file_has_content err "unknown signal" &&
  rt kill r4 KILL && wait_status r4 stopped && rt delete r4
'

test_expect_success 'state of a missing container is a clear error' '
  test_must_fail rt state nope 2>err &&
  assert_file_has_content err "container .nope. does not exist"
'

test_expect_success 'delete --force of a missing container succeeds' '
  rt delete --force nope
'

test_expect_success '--log with --log-format json records errors as runc-style JSON lines' '
  test_must_fail rt --log rt.log --log-format json state nope 2>err &&
  assert_file_has_content err "does not exist" &&
  jq -e "select(.level == \"error\") | (.msg | test(\"nope\")) and (.time | test(\"Z$\"))" rt.log &&
  test_must_fail rt --log-format yaml list 2>err &&
  assert_file_has_content err "log-format"
'

test_done
