#!/bin/bash
# runtime-spec linux.seccomp end to end: errno (with errnoRet), kill,
# argument conditions, and SCMP_ACT_NOTIFY answered by an agent
# (tests/helpers/seccomp-agent) that gets the fd through listenerPath.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root
AGENT=$KEEL_BUILD/tests/helpers/seccomp-agent
[ -x "$AGENT" ] || skip_all "$AGENT missing: run 'make tests' first"

test_expect_success 'SCMP_ACT_ERRNO: mkdir fails with the configured errnoRet (with and without noNewPrivileges)' '
  make_bundle er ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\",
      \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 95}]}
    | .process.args = [\"sh\", \"-c\", \"mkdir /made || echo REFUSED; touch /tmp/touched\"]" &&
  rt run --bundle er sc-s1 >out 2>err &&
  test "$(cat out)" = REFUSED &&
  assert_file_has_content err "Operation not supported" &&
  test ! -e er/rootfs/made && test -e er/rootfs/tmp/touched &&
  edit_config er ".process.noNewPrivileges = false | .process.user = {\"uid\": 1000, \"gid\": 1000}
    | .process.args = [\"sh\", \"-c\", \"mkdir /tmp/made || echo REFUSED\"]" &&
  rt run --bundle er sc-s1b >out 2>err &&
  test "$(cat out)" = REFUSED &&
  assert_file_has_content err "Operation not supported" &&
  test ! -e er/rootfs/tmp/made
'

test_expect_success 'SCMP_ACT_KILL: the process dies of SIGSYS' '
  make_bundle kl ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\",
      \"syscalls\": [{\"names\": [\"uname\"], \"action\": \"SCMP_ACT_KILL\"}]}
    | .process.args = [\"uname\", \"-a\"]" &&
  rc=0 && rt run --bundle kl sc-s2 >out || rc=$? &&
  test "$rc" = $((128 + 31)) && test ! -s out &&
  edit_config kl "del(.linux.seccomp)" &&
  rt run --bundle kl sc-s3 >out && test -s out
'

test_expect_success 'argument conditions: kill(pid, SIGUSR1) refused, kill(pid, SIGTERM) allowed' '
  make_bundle ac ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\",
      \"syscalls\": [{\"names\": [\"kill\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,
                     \"args\": [{\"index\": 1, \"value\": 10, \"op\": \"SCMP_CMP_EQ\"}]}]}
    | .process.args = [\"sh\", \"-c\", \"sleep 100 & p=\$!; kill -USR1 \$p || echo USR1-REFUSED; kill -TERM \$p && echo TERM-SENT; wait \$p; echo status=\$?\"]" &&
  rt run --bundle ac sc-s4 >out 2>err &&
  test "$(cat out)" = "USR1-REFUSED
TERM-SENT
status=143"
'

test_expect_success 'SCMP_ACT_NOTIFY: the agent gets the fd and the state, the container sees its answer' '
  timeout 60 "$AGENT" "$TEST_TMP/agent.sock" agent.state 18 >agent.out 2>agent.err &
  agent=$! &&
  while [ ! -S "$TEST_TMP/agent.sock" ]; do kill -0 $agent && sleep 0.02; done &&
  make_bundle nt ".linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\",
      \"listenerPath\": \"$TEST_TMP/agent.sock\", \"listenerMetadata\": \"t0115-meta\",
      \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}
    | .process.args = [\"sh\", \"-c\", \"mkdir /made || echo REFUSED; echo done\"]" &&
  rt run --pid-file nt.pid --bundle nt sc-s5 >out 2>err &&
  wait $agent &&
  test "$(cat out)" = "REFUSED
done" &&
  assert_file_has_content err "Invalid cross-device link" &&
  test ! -e nt/rootfs/made &&
  assert_file_has_content agent.out "^syscall mkdir(at)?$" &&
  jq -e ".fds == [\"seccompFd\"] and .metadata == \"t0115-meta\" and .state.id == \"sc-s5\"
         and .pid == $(cat nt.pid) and .state.pid == $(cat nt.pid) and (.ociVersion | length > 0)" agent.state
'

test_done
