#!/bin/bash
# Resident memory of keel-monitor holding an idle container (sleep 1000),
# against conmon when it is installed:  tests/bench/monitor-rss.sh
# Last line: RESULT monitor-rss keel=<kB> [conmon=<kB>]
set -euo pipefail
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
. "$TEST_SRCDIR/tests/lib/monitor.sh"
make_bundle "$TEST_TMP/idle" '.process.args = ["sleep", "1000"]'
mon_start bench "$TEST_TMP/idle" >/dev/null
sleep 2
pid=$(mon_pid bench)
grep -E '^(VmRSS|RssAnon|RssFile|RssShmem)' /proc/$pid/status
grep -E '^Pss:' /proc/$pid/smaps_rollup
keel=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status)
result="RESULT monitor-rss keel=$keel"
if command -v conmon >/dev/null; then
  cid=$MON_PREFIX-conmon
  conmon --cid "$cid" --cuuid "$cid" --name "$cid" --bundle "$TEST_TMP/idle" \
    --runtime "$KEEL_RUNTIME" --runtime-arg --root --runtime-arg "$RT_ROOT" \
    --exit-dir "$TEST_TMP" --log-path "$TEST_TMP/conmon.log" --conmon-pidfile "$TEST_TMP/conmon.pid" \
    --container-pidfile "$TEST_TMP/ctr.pid" --socket-dir-path "$TEST_TMP" >/dev/null 2>&1 || true
  sleep 2
  if [ -s "$TEST_TMP/conmon.pid" ]; then
    cpid=$(cat "$TEST_TMP/conmon.pid")
    result="$result conmon=$(awk '/^VmRSS:/ {print $2}' /proc/$cpid/status)"
    kill "$cpid" 2>/dev/null || true
  fi
fi
echo "$result"
