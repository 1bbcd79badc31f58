#!/bin/bash
# `features` and `spec` end to end: features is valid JSON whose claims the
# runtime keeps (every namespace it lists can be created), and the config
# `spec` writes runs unmodified.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root
RECVTTY=$KEEL_BUILD/tests/helpers/recvtty
[ -x "$RECVTTY" ] || skip_all "$RECVTTY missing: run 'make tests' first"

test_expect_success 'features prints valid JSON listing namespaces and seccomp actions' '
  rt features >features.json &&
  jq -e ".ociVersionMax and .ociVersionMin" features.json &&
  test "$(jq -c ".linux.namespaces | sort" features.json)" = "[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"time\",\"user\",\"uts\"]" &&
  jq -e ".linux.seccomp.enabled == true" features.json &&
  for a in SCMP_ACT_ALLOW SCMP_ACT_ERRNO SCMP_ACT_KILL SCMP_ACT_KILL_PROCESS SCMP_ACT_KILL_THREAD \
           SCMP_ACT_LOG SCMP_ACT_NOTIFY SCMP_ACT_TRACE SCMP_ACT_TRAP; do
    jq -e --arg a $a ".linux.seccomp.actions | index(\$a) != null" features.json >/dev/null || return 1
  done &&
  for o in EQ NE LT LE GT GE MASKED_EQ; do
    jq -e --arg o SCMP_CMP_$o ".linux.seccomp.operators | index(\$o) != null" features.json >/dev/null || return 1
  done &&
  jq -e ".hooks | index(\"createRuntime\") != null" features.json
'

test_expect_success 'every namespace features lists can really be created' '
  chmod 0711 "$TEST_TMP" &&
  make_bundle ns ".process.args = [\"true\"]" &&
  for n in $(jq -r ".linux.namespaces[]" features.json); do
    edit_config ns ".linux.namespaces = ([\"pid\", \"network\", \"ipc\", \"uts\", \"mount\", \"$n\"] | unique | map({type: .}))
      | if \"$n\" == \"user\" then
          .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
          | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
        else del(.linux.uidMappings, .linux.gidMappings) end" &&
    rt run --bundle ns f-$n || { echo "namespace $n failed"; return 1; }
  done
'

test_expect_success 'spec writes a config that run accepts as it is (terminal and all)' '
  mkdir -p sp && cp -a "$BUSYBOX_ROOTFS_CACHE" sp/rootfs &&
  rt spec --bundle sp &&
  jq -e ".process.terminal == true and .root.readonly == true" sp/config.json &&
  "$RECVTTY" "$TEST_TMP/sp.sock" "echo spec-ran; exit 7" >sp.tty 2>sp.err &
  tty=$! &&
  while [ ! -S "$TEST_TMP/sp.sock" ]; do kill -0 $tty && sleep 0.02; done &&
  rc=0 && rt run --console-socket "$TEST_TMP/sp.sock" --bundle sp f-spec || rc=$? &&
  wait $tty &&
  test "$rc" = 7 &&
  assert_file_has_content sp.tty "^spec-ran"
'

test_done
