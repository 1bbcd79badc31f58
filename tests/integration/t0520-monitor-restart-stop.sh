#!/bin/bash
# keel-monitor: restart policies, stop with a timeout then SIGKILL, health
# checks — all with no CLI around.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
. "$TEST_SRCDIR/tests/lib/monitor.sh"
test_require_root

# attach shows live output only: what came before is in the log
wait_log() {
  local i
  for i in $(seq 100); do
    grep -q "\"log\":\"$2" "$TEST_TMP/$1/container.log" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

make_bundle "$TEST_TMP/fail" '.process.args = ["sh", "-c", "echo run; exit 1"]'
make_bundle "$TEST_TMP/ok" '.process.args = ["sh", "-c", "echo run; sleep 0.2; exit 0"]'
make_bundle "$TEST_TMP/long" '.process.args = ["sleep", "1000"]'
make_bundle "$TEST_TMP/trap" '.process.args = ["sh", "-c", "trap \"echo bye; exit 5\" TERM; echo ready; while :; do sleep 0.1; done"]'

test_expect_success 'on-failure:2 restarts twice, then gives up (counted)' '
  mon_start onf fail --restart on-failure:2 &&
  mon_wait onf status exited 100 &&
  jq -e ".restartCount == 2 and .exitCode == 1" onf/state.json &&
  jq -e ".restartCount == 2 and .exitCode == 1" onf/exit.json &&
  test "$(jq -s "map(select(.log == \"run\\n\")) | length" onf/container.log)" = 3 &&
  grep -qx "exited 1" onf.sync &&
  test_must_fail rt state "$(mon_id onf)"
'

test_expect_success 'on-failure does not restart a clean exit' '
  mon_start onf0 ok --restart on-failure &&
  mon_wait onf0 status exited &&
  jq -e ".restartCount == 0 and .exitCode == 0" onf0/state.json
'

test_expect_success 'always restarts a clean exit; a stop ends it for good' '
  mon_start alw ok --restart always &&
  for i in $(seq 100); do test "$(mon_state alw restartCount)" -ge 2 && break; sleep 0.1; done &&
  test "$(mon_state alw restartCount)" -ge 2 &&
  mon_wait alw status running &&
  mon_client attach alw stop:5 &&
  mon_wait alw status exited &&
  jq -e ".stoppedByUser == true" alw/state.json
'

test_expect_success 'unless-stopped: a stopped container is not restarted' '
  mon_start uls trap --restart unless-stopped &&
  wait_log uls ready &&
  mon_client attach uls "stop:5" exit >u.out 2>u.err &&
  grep -qx bye u.out && grep -qx "monitor-client: exit 5" u.err &&
  mon_wait uls status exited &&
  sleep 0.5 &&
  jq -e ".restartCount == 0 and .stoppedByUser == true and .status == \"exited\"" uls/state.json
'

test_expect_success 'stop: the stop signal, then SIGKILL after the timeout' '
  mon_start stp long --stop-timeout 1 &&
  t0=$(date +%s%N) &&
  kill -TERM "$(mon_pid stp)" &&
  mon_wait stp status exited 50 &&
  t1=$(date +%s%N) &&
  jq -e ".exitCode == 137" stp/exit.json &&
  test $(((t1 - t0) / 1000000)) -ge 900
'

test_expect_success 'stop with a custom signal that the container handles ends it at once' '
  make_bundle usr1 ".process.args = [\"sh\", \"-c\", \"trap \\\"exit 3\\\" USR1; echo ready; while :; do sleep 0.1; done\"]" &&
  mon_start sig usr1 --stop-signal SIGUSR1 --stop-timeout 30 &&
  wait_log sig ready &&
  t0=$(date +%s%N) &&
  mon_client attach sig stop exit 2>s.err &&
  t1=$(date +%s%N) &&
  grep -qx "monitor-client: exit 3" s.err &&
  test $(((t1 - t0) / 1000000)) -lt 5000
'

test_expect_success 'a failing health check turns unhealthy; a passing one healthy' '
  mon_start hc long --health-cmd "test -e /tmp/ok && echo fine" --health-interval 200ms \
    --health-timeout 2s --health-retries 2 &&
  jq -e ".status == \"starting\" or .failingStreak > 0" hc/health.json &&
  for i in $(seq 50); do jq -e ".status == \"unhealthy\"" hc/health.json >/dev/null && break; sleep 0.1; done &&
  jq -e ".status == \"unhealthy\" and .failingStreak >= 2 and (.log | length) >= 2 and .log[-1].exitCode == 1" hc/health.json &&
  rt exec "$(mon_id hc)" touch /tmp/ok &&
  for i in $(seq 50); do jq -e ".status == \"healthy\"" hc/health.json >/dev/null && break; sleep 0.1; done &&
  jq -e ".status == \"healthy\" and .failingStreak == 0 and .log[-1].output == \"fine\\n\" and (.log | length) <= 5" hc/health.json
'

test_expect_success 'a health check that hangs past its timeout counts as failed' '
  mon_start hto long --health-cmd "sleep 10" --health-interval 100ms --health-timeout 300ms \
    --health-retries 1 &&
  for i in $(seq 50); do jq -e ".status == \"unhealthy\"" hto/health.json >/dev/null && break; sleep 0.1; done &&
  jq -e ".status == \"unhealthy\" and .log[0].output == \"health check timed out\"" hto/health.json &&
  test "$(mon_state hto status)" = running
'

test_done
