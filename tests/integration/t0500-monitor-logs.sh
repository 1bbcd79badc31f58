#!/bin/bash
# keel-monitor: the container's output in the JSON log (both streams,
# partial lines, rotation, journald, none), the exit recorded, clear
# failures for the starter.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
. "$TEST_SRCDIR/tests/lib/monitor.sh"
test_require_root

make_bundle "$TEST_TMP/b" '.process.args = ["sh", "-c", "echo out1; echo err1 >&2; printf \"tab\\t\\\"q\\\" \"; echo end; printf partial; exit 3"]'

test_expect_success 'both streams land in the JSON log, the exit code is recorded' '
  mon_start logs b &&
  grep -qx "started [0-9]*" logs.sync &&
  mon_wait logs status exited &&
  grep -qx "exited 3" logs.sync &&
  jq -e ".exitCode == 3 and .finishedAt and .startedAt" logs/exit.json &&
  jq -se "map(select(.stream == \"stdout\")) | map(.log) | join(\"\") == \"out1\\ntab\\t\\\"q\\\" end\\npartial\"" logs/container.log &&
  jq -se "map(select(.stream == \"stderr\")) | map(.log) == [\"err1\\n\"]" logs/container.log &&
  jq -se "all(.time | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\\\.[0-9]{9}Z$\"))" logs/container.log &&
  jq -e ".status == \"exited\" and .exitCode == 3 and .pid == 0" logs/state.json
'

test_expect_success 'the runtime state is deleted after the exit, the socket is gone' '
  test_must_fail rt state "$(mon_id logs)" &&
  test ! -e logs/attach.sock &&
  mon_client status logs >st && head -1 st | grep -qx gone
'

test_expect_success 'rotation keeps one old file, each under the size' '
  make_bundle b2 ".process.args = [\"sh\", \"-c\", \"i=0; while [ \$i -lt 300 ]; do echo line-\$i; i=\$((i+1)); done\"]" &&
  mon_start rot b2 --log-max-size 4k --log-path "$TEST_TMP/rot.log" &&
  mon_wait rot status exited &&
  test -s rot.log && test -s rot.log.1 && test ! -e rot.log.2 &&
  test "$(stat -c %s rot.log)" -le 4096 && test "$(stat -c %s rot.log.1)" -le 4096 &&
  tail -1 rot.log | jq -e ".log == \"line-299\\n\"" &&
  first=$(head -1 rot.log.1 | jq -r .log | sed "s/line-//") &&
  last=$(tail -1 rot.log.1 | jq -r .log | sed "s/line-//") &&
  test "$(head -1 rot.log | jq -r .log | sed "s/line-//")" = $((last + 1)) &&
  test $((first)) -gt 0
'

test_expect_success 'log driver none writes nothing' '
  mon_start none b --log-driver none &&
  mon_wait none status exited &&
  test ! -e none/container.log &&
  jq -e ".exitCode == 3" none/exit.json
'

test_expect_success 'log driver journald sends one datagram per line with the container fields' '
  mon_client journal-recv "$TEST_TMP/journal.sock" 4 >journal.out &
  rpid=$! &&
  for i in $(seq 50); do test -S journal.sock && break; sleep 0.05; done &&
  mon_start jd b --log-driver journald --journal-socket "$TEST_TMP/journal.sock" --name web &&
  mon_wait jd status exited &&
  wait $rpid &&
  grep -qx "MESSAGE=out1" journal.out && grep -qx "MESSAGE=err1" journal.out &&
  grep -qx "PRIORITY=3" journal.out && grep -qx "CONTAINER_NAME=web" journal.out &&
  grep -qx "CONTAINER_ID=$(mon_id jd)" journal.out
'

test_expect_success 'journald unreachable: the starter hears why, exit 125' '
  rc=0 && mon_start jd2 b --log-driver journald --journal-socket "$TEST_TMP/nope.sock" || rc=$? &&
  test $rc = 1 &&
  grep -q "^failed: log driver journald: cannot reach" jd2.sync
'

test_expect_success 'bad flags and bad bundles fail with one line and 125' '
  rc=0 && "$KEEL_MONITOR" --id x --bundle b --state-dir s --restart sometimes 2>err || rc=$? &&
  test $rc = 125 && assert_file_has_content err "restart: bad value .sometimes." &&
  mkdir -p bad && echo "{" >bad/config.json &&
  rc=0 && mon_start bad bad || rc=$? && test $rc = 1 &&
  grep -q "^failed: .*config.json" bad.sync &&
  jq -e ".status == \"failed\" and (.error | length > 0)" bad/state.json &&
  test_must_fail rt state "$(mon_id bad)"
'

test_expect_success '--help names every flag' '
  "$KEEL_MONITOR" --help >help &&
  for f in id bundle state-dir runtime-root terminal stdin log-driver log-path log-max-size \
           exit-file restart stop-signal stop-timeout health-cmd health-interval health-timeout \
           health-retries sync-fd attach-fd rm; do
    grep -q -e "--$f" help || { echo "missing --$f"; exit 1; }
  done
'

test_done
