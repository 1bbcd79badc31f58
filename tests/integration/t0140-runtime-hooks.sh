#!/bin/bash
# OCI hooks: every kind runs at its point of the lifecycle with the state
# on stdin, its own args and env; timeouts kill; failures stop create (or
# warn, for poststart and poststop).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

# A hook script that records its kind, args, one env var and stdin.
cat >"$TEST_TMP/hook.sh" <<'HOOK'
#!/bin/sh
kind=$1
echo "$kind args=$* env=$HOOK_ENV" >>"$LOG"
cat >"$LOGDIR/$kind.json"
HOOK
chmod +x "$TEST_TMP/hook.sh"
hook() { # kind -> JSON of one hook
  printf '{"path": "%s", "args": ["hook.sh", "%s", "x"], "env": ["HOOK_ENV=%s", "LOG=%s", "LOGDIR=%s"]}' \
    "$TEST_TMP/hook.sh" "$1" "$1-env" "$TEST_TMP/log" "$TEST_TMP"
}
all_hooks="{\"prestart\": [$(hook prestart)], \"createRuntime\": [$(hook createRuntime)],
  \"createContainer\": [$(hook createContainer)], \"startContainer\": [$(hook startContainer)],
  \"poststart\": [$(hook poststart)], \"poststop\": [$(hook poststop)]}"

make_bundle "$TEST_TMP/b" ".process.args = [\"sleep\", \"1000\"] | .hooks = $all_hooks"
# the startContainer hook runs inside the container: give it the host's view of its paths
mkdir -p "$TEST_TMP/b/rootfs$TEST_TMP"
cp "$TEST_TMP/hook.sh" "$TEST_TMP/b/rootfs$TEST_TMP/hook.sh"

test_expect_success 'create runs prestart, createRuntime, createContainer in order' '
  rt create --bundle b --pid-file pid h1 &&
  cut -d" " -f1 log | tr "\n" " " >order &&
  test "$(cat order)" = "prestart createRuntime createContainer " &&
  assert_file_has_content log "^prestart args=prestart x env=prestart-env$" &&
  jq -e ".id == \"h1\" and .pid == $(cat pid) and (.bundle | endswith(\"/b\"))" prestart.json &&
  jq -e ".id == \"h1\"" createContainer.json
'

test_expect_success 'start runs startContainer (in the container) then poststart' '
  rt start h1 &&
  for i in $(seq 50); do grep -q poststart log && break; sleep 0.1; done &&
  cut -d" " -f1 log | tr "\n" " " >order &&
  test "$(cat order)" = "prestart createRuntime createContainer poststart " &&
  test -e "b/rootfs$TEST_TMP/startContainer.json" &&
  jq -e ".status == \"running\"" poststart.json
'

test_expect_success 'delete runs poststop with the stopped state' '
  rt kill h1 KILL && wait_status h1 stopped &&
  rt delete h1 &&
  tail -n1 log | grep -q "^poststop " &&
  jq -e ".id == \"h1\" and .status == \"stopped\"" poststop.json
'

test_expect_success 'a failing createRuntime hook stops create and leaves nothing' '
  edit_config b ".hooks = {\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"exit 3\"]}]}" &&
  test_must_fail rt create --bundle b h2 2>err &&
  assert_file_has_content err "hooks.createRuntime\[0\] ./bin/sh.: exited with status 3" &&
  test ! -e "$RT_ROOT/h2" && ! ls -d /sys/fs/cgroup/*/keel/h2 2>/dev/null
'

test_expect_success 'a hook past its timeout is killed and create fails' '
  edit_config b ".hooks = {\"prestart\": [{\"path\": \"/bin/sleep\", \"args\": [\"sleep\", \"30\"], \"timeout\": 1}]}" &&
  start=$(date +%s) &&
  test_must_fail rt create --bundle b h3 2>err &&
  test $(( $(date +%s) - start )) -lt 10 &&
  assert_file_has_content err "timed out after 1 s" &&
  test ! -e "$RT_ROOT/h3"
'

test_expect_success 'a failing poststart hook is a warning; the container runs' '
  edit_config b ".hooks = {\"poststart\": [{\"path\": \"/bin/false\"}]}" &&
  rt create --bundle b h4 && rt start h4 2>err &&
  assert_file_has_content err "warning: hooks.poststart\[0\]" &&
  test "$(rt_status h4)" = running &&
  rt delete --force h4
'

test_expect_success 'hooks run in the runtime namespaces, not a new time or joined pid one' '
  make_bundle n1 ".process.args = [\"sleep\", \"1000\"]" &&
  rt run -d --pid-file n1pid --bundle n1 n1 &&
  ns_hook="{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"readlink /proc/self/ns/time /proc/self/ns/pid >$TEST_TMP/hook-ns\"]}" &&
  make_bundle n2 ".process.args = [\"true\"]
    | .linux.namespaces |= map(if .type == \"pid\" then .path = \"/proc/$(cat n1pid)/ns/pid\" else . end)
    | .linux.namespaces += [{\"type\": \"time\"}]
    | .linux.timeOffsets = {\"boottime\": {\"secs\": 1000000}}
    | .hooks = {\"createRuntime\": [$ns_hook]}" &&
  rt run --bundle n2 n2 &&
  readlink /proc/self/ns/time /proc/self/ns/pid >host-ns &&
  cmp host-ns hook-ns
'

test_done
