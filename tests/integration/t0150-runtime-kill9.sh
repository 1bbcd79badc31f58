#!/bin/bash
# kill -9 of `keel-runtime create` at any point leaves `delete --force`
# able to remove everything: state, cgroups, processes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

make_bundle "$TEST_TMP/b" '.process.args = ["sleep", "1000"]'

# Nothing of container ID may remain: state, cgroup directories, processes.
assert_gone() {
  local id=$1 leftovers
  test ! -e "$RT_ROOT/$id" || { echo "state of $id left" >&2; return 1; }
  leftovers=$(ls -d /sys/fs/cgroup/*/keel/$id /sys/fs/cgroup/keel/$id 2>/dev/null || true)
  test -z "$leftovers" || { echo "cgroups left: $leftovers" >&2; return 1; }
  if grep -l ":/keel/$id\$" /proc/[0-9]*/cgroup 2>/dev/null; then
    echo "processes of $id left" >&2
    return 1
  fi
}

# Kill create after DELAY seconds, then clean up with delete --force.
kill_at() {
  local id=$1 delay=$2
  # exec: $! must be the runtime itself, not a subshell around it
  (exec "$KEEL_RUNTIME" --root "$RT_ROOT" create --bundle b "$id" >/dev/null 2>&1) &
  local pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rt delete --force "$id" && assert_gone "$id"
}

test_expect_success 'killed at 25 points in time during create, delete --force cleans up' '
  for d in 0 0.001 0.002 0.003 0.004 0.005 0.006 0.007 0.008 0.009 0.010 0.012 0.014 \
           0.016 0.018 0.020 0.025 0.030 0.035 0.040 0.050 0.060 0.080 0.100 0.200; do
    kill_at "k$d" "$d" || { echo "failed after $d s" >&2; exit 1; }
  done
'

# Deterministic points: a hook that blocks holds create at one phase.
for phase in prestart createRuntime createContainer; do
  test_expect_success "killed while the $phase hook runs, delete --force cleans up" '
    edit_config b ".hooks = {\"'"$phase"'\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"touch '"$TEST_TMP"'/in-hook; exec sleep 31.4159\"]}]}" &&
    rm -f in-hook &&
    { (exec "$KEEL_RUNTIME" --root "$RT_ROOT" create --bundle b h-'"$phase"' >/dev/null 2>&1) & } &&
    pid=$! &&
    for i in $(seq 100); do test -e in-hook && break; sleep 0.05; done &&
    test -e in-hook &&
    kill -9 $pid && wait $pid 2>/dev/null; pkill -f "sleep 31.4159" ;
    rt delete --force h-'"$phase"' &&
    assert_gone h-'"$phase"'
  '
done

test_expect_success 'a created container whose runtime was killed is deleted with its process' '
  edit_config b "del(.hooks)" &&
  rt create --bundle b --pid-file pid full &&
  p=$(cat pid) && test -d /proc/$p &&
  rt delete --force full &&
  assert_gone full &&
  { ! test -d /proc/$p || grep -q "^State:.*Z" /proc/$p/status; }
'

test_done
