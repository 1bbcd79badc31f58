#!/bin/bash
# keel-monitor: outliving its starter, attach from several clients with
# stdin, detach, a terminal with resize, killing the monitor is visible.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
. "$TEST_SRCDIR/tests/lib/monitor.sh"
test_require_root

make_bundle "$TEST_TMP/echo" '.process.args = ["sh", "-c", "while read l; do echo got-$l; echo err-$l >&2; done; exit 4"]'

test_expect_success 'the monitor outlives its starter; the exit is still recorded' '
  make_bundle sleeper ".process.args = [\"sh\", \"-c\", \"trap \\\"exit 9\\\" TERM; sleep 2 & wait; exit 6\"]" &&
  sh -c "\"$KEEL_MONITOR\" --id $(mon_id orphan) --bundle sleeper --state-dir orphan --runtime-root \"$RT_ROOT\" --sync-fd 3 3>orphan.sync; exec sleep 1000" &
  starter=$! &&
  for i in $(seq 100); do grep -q started orphan.sync 2>/dev/null && break; sleep 0.05; done &&
  mon_pid orphan >>.monitors &&
  kill -9 $starter && { wait $starter || true; } &&
  test "$(mon_state orphan status)" = running &&
  kill -0 "$(mon_state orphan pid)" &&
  mon_wait orphan status exited 50 &&
  jq -e ".exitCode == 6" orphan/exit.json &&
  grep -qx "exited 6" orphan.sync
'

test_expect_success 'two clients attach; both see stdin answered on the right stream' '
  mon_start two echo --stdin &&
  { mon_client attach two "send:first
" "until:got-second" "until:err-second" >a.out 2>a.err & } &&
  apid=$! &&
  for i in $(seq 100); do grep -q got-first two/container.log 2>/dev/null && break; sleep 0.1; done &&
  mon_client attach two "send:second
" "until:got-second" >c.out 2>c.err &&
  wait $apid &&
  grep -qx got-first a.out && grep -qx got-second a.out && ! grep -q err- a.out &&
  grep -qx err-first a.err && grep -qx err-second a.err &&
  grep -qx got-second c.out && ! grep -q got-first c.out
'

test_expect_success 'detach leaves the container running; closing stdin ends it' '
  test "$(mon_state two status)" = running &&
  kill -0 "$(mon_state two pid)" &&
  mon_client attach two "send:third
" close exit >d.out 2>d.err &&
  grep -qx got-third d.out &&
  grep -qx "monitor-client: exit 4" d.err &&
  mon_wait two status exited &&
  jq -e ".exitCode == 4" two/exit.json &&
  jq -se "map(select(.stream == \"stdout\") | .log) == [\"got-first\\n\", \"got-second\\n\", \"got-third\\n\"]" two/container.log
'

test_expect_success 'a client connected from the start (--attach-fd) misses nothing' '
  make_bundle quick ".process.args = [\"sh\", \"-c\", \"echo early; echo early-err >&2; exit 2\"]" &&
  mon_client spawn exit -- "$KEEL_MONITOR" --id "$(mon_id early)" --bundle quick \
    --state-dir early --runtime-root "$RT_ROOT" --attach-fd 4 >e.out 2>e.err &&
  grep -qx early e.out && grep -qx early-err e.err &&
  grep -qx "monitor-client: exit 2" e.err &&
  mon_wait early status exited
'

test_expect_success 'a terminal: resize reaches the tty, stdin and output through the pty' '
  make_bundle tty ".process.terminal = true | .process.args = [\"sh\"]" &&
  mon_start tty tty --terminal --stdin &&
  mon_client attach tty "resize:37:111" "send:stty size
" "until:37 111" "send:exit 7
" exit >t.out 2>t.err &&
  grep -q "37 111" t.out &&
  grep -qx "monitor-client: exit 7" t.err &&
  mon_wait tty status exited &&
  jq -e ".exitCode == 7" tty/exit.json &&
  jq -se "all(.stream == \"stdout\")" tty/container.log
'

test_expect_success '--terminal with a bundle that has no terminal is refused clearly' '
  rc=0 && mon_start notty echo --terminal || rc=$? && test $rc = 1 &&
  grep -q "^failed: --terminal: the bundle.s process.terminal is false" notty.sync
'

test_expect_success 'a killed monitor is detectable through its lock' '
  make_bundle long ".process.args = [\"sleep\", \"1000\"]" &&
  mon_start victim long &&
  mon_client status victim >s1 && head -1 s1 | grep -qx alive &&
  kill -9 "$(mon_pid victim)" &&
  for i in $(seq 50); do mon_client status victim >s2; head -1 s2 | grep -qx gone && break; sleep 0.1; done &&
  head -1 s2 | grep -qx gone &&
  tail -1 s2 | jq -e ".status == \"running\"" &&
  rt delete --force "$(mon_id victim)"
'

test_done
