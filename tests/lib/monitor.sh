# Helpers for keel-monitor tests; source after test-lib.sh and runtime.sh.
#
#   mon_start NAME BUNDLE [FLAGS...]  start a monitor for container "$MON_PREFIX-NAME"
#                                     with state dir $TEST_TMP/NAME; waits for its
#                                     "started"/"failed" line (in NAME.sync); returns
#                                     1 when it failed
#   mon_id NAME                       the container id
#   mon_pid NAME                      the monitor's pid
#   mon_state NAME [FIELD]            state.json, or one field of it
#   mon_wait NAME FIELD VALUE [TENTHS]  wait until state.json's FIELD is VALUE
#   mon_client ARGS...                tests/helpers/monitor-client
KEEL_MONITOR=${KEEL_MONITOR:-$KEEL_BUILD/keel-monitor}
MON_PREFIX=km$$
MON_CLIENT=$KEEL_BUILD/tests/helpers/monitor-client

mon_id() { echo "$MON_PREFIX-$1"; }
mon_client() { "$MON_CLIENT" "$@"; }

mon_start() {
  local name=$1 bundle=$2 tries=100
  shift 2
  rm -f "$TEST_TMP/$name.sync"
  "$KEEL_MONITOR" --id "$(mon_id "$name")" --bundle "$bundle" --state-dir "$TEST_TMP/$name" \
    --runtime-root "$RT_ROOT" --sync-fd 3 "$@" 3>"$TEST_TMP/$name.sync" || true
  while ! grep -qE '^(started|failed)' "$TEST_TMP/$name.sync" 2>/dev/null; do
    tries=$((tries - 1))
    [ $tries -gt 0 ] || { echo "mon_start: no word from the monitor of $name" >&2; return 1; }
    sleep 0.05
  done
  if grep -q '^started' "$TEST_TMP/$name.sync"; then
    mon_pid "$name" >>"$TEST_TMP/.monitors" 2>/dev/null || true
    return 0
  fi
  return 1
}

mon_pid() { jq -r .monitorPid "$TEST_TMP/$1/state.json"; }

mon_state() {
  if [ $# -gt 1 ]; then jq -r ".$2" "$TEST_TMP/$1/state.json"; else cat "$TEST_TMP/$1/state.json"; fi
}

mon_wait() {
  local name=$1 field=$2 want=$3 tries=${4:-100}
  while [ "$tries" -gt 0 ]; do
    [ "$(jq -r ".$field" "$TEST_TMP/$name/state.json" 2>/dev/null)" = "$want" ] && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  echo "mon_wait: $name: .$field never became $want; state: $(cat "$TEST_TMP/$name/state.json" 2>&1)" >&2
  return 1
}

# Monitors this test started, and only those, are killed at exit (before
# the runtime cleanup force-deletes their containers).
_mon_cleanup() {
  local pid
  [ -f "$TEST_TMP/.monitors" ] || return 0
  for pid in $(cat "$TEST_TMP/.monitors"); do
    grep -q keel "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  done
  return 0
}
test_cleanup _mon_cleanup
