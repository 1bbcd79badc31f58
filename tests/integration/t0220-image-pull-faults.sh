#!/bin/bash
# A misbehaving registry (the fault proxy): wrong digest, truncated blobs,
# HTTP 500s, a dropped connection, a stall.  Keel retries or resumes with
# Range, or fails with one clear line; the store stays consistent.  Then
# kill -9 in the middle of a pull, and two pulls at once into one store.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

registry_start plain
for f in "busybox bb" "layers layers"; do
  # shellcheck disable=SC2086
  registry_push_fixture $f >>"$TEST_TMP/push.log" 2>&1 || {
    echo "Bail out! cannot push $f" && cat "$TEST_TMP/push.log" && exit 1
  }
done
layer=$(jq -r '.layers[0].digest' "$(fixture_dir busybox)/docker/manifest.json")
export KEEL_STALL_TIMEOUT=2
kp() { keel pull --tls-verify=false --retry-delay 50 "$@"; }
# in the background, the keel process itself (not a subshell) gets the PID
kp_bg() { "$KEEL" --root "$KEEL_STORE" pull --tls-verify=false "$@" >/dev/null 2>&1 & }
clean_store() { rm -rf "$KEEL_STORE"; }
no_layers() { test -z "$(find "$KEEL_STORE/layers" "$KEEL_STORE/tmp" -mindepth 1 2>/dev/null)"; }

proxy_start corrupt --match "${layer#sha256:}"
test_expect_success 'a blob with the wrong digest: refused, one line, nothing kept' '
  clean_store && rc=0 && kp $PROXY/bb 2>err >/dev/null || rc=$?
  test $rc = 125 && grep -v "^Trying" err >e1 && test "$(wc -l <e1)" = 1 &&
  assert_file_has_content e1 "layer ${layer:0:19}.*(digest mismatch|gzip: incorrect data check)" &&
  no_layers && keel system check
'

proxy_start truncate --after 1000 --match "${layer#sha256:}"
test_expect_success 'truncated responses: resumed until the retries run out, one line' '
  clean_store && rc=0 && kp --retry 2 $PROXY/bb 2>err >/dev/null || rc=$?
  test $rc = 125 && assert_file_has_content err "retries exhausted" &&
  grep -c "^Retrying blob" err | grep -qx 2 && no_layers && keel system check
'

proxy_start 500 --count 2 --match "${layer#sha256:}"
test_expect_success 'two HTTP 500s, then success' '
  clean_store && kp $PROXY/bb >/dev/null 2>err && keel system check &&
  test "$(grep -c " 500 500$" "$PROXY_LOG")" = 2
'

proxy_start drop --count 1 --match "${layer#sha256:}"
test_expect_success 'a dropped connection resumes with a Range request' '
  clean_store && kp $PROXY/bb >/dev/null 2>err &&
  assert_file_has_content err "^Retrying blob .*resuming at byte [1-9]" &&
  assert_file_has_content "$PROXY_LOG" " 206 pass range=bytes=[1-9][0-9]*-$" &&
  keel system check
'

proxy_start stall --after 4096 --count 1 --match "${layer#sha256:}"
test_expect_success 'a stalled transfer is dropped after the stall timeout and resumed' '
  clean_store && kp $PROXY/bb >/dev/null 2>err &&
  assert_file_has_content err "^Retrying blob .*resuming at byte 4096" && keel system check
'

proxy_start stall --after 4096 --match "${layer#sha256:}"
test_expect_success 'kill -9 mid-pull: the store stays consistent, the next pull completes' '
  clean_store && { kp_bg $PROXY/layers; pid=$!; } &&
  for _ in $(seq 100); do test -n "$(ls "$KEEL_STORE/tmp" 2>/dev/null)" && break; sleep 0.1; done &&
  test -n "$(ls "$KEEL_STORE/tmp")" &&
  kill -9 $pid && { wait $pid || true; } &&
  test_must_fail keel system check >report && assert_file_has_content report "interrupted pull" &&
  kp $REGISTRY/layers >/dev/null 2>&1 && keel system check &&
  test -z "$(ls "$KEEL_STORE/tmp")"
'

test_expect_success 'system check --repair removes what a killed pull left' '
  clean_store && { kp_bg $PROXY/layers; pid=$!; } &&
  for _ in $(seq 100); do test -n "$(ls "$KEEL_STORE/tmp" 2>/dev/null)" && break; sleep 0.1; done &&
  kill -9 $pid && { wait $pid || true; } &&
  keel system check --repair >report && assert_file_has_content report "removed" &&
  keel system check
'

test_expect_success 'two pulls at once into one store: both succeed, layers fetched once' '
  clean_store &&
  { kp $REGISTRY/layers >o1 2>e1 & p1=$!; } && { kp $REGISTRY/layers >o2 2>e2 & p2=$!; } &&
  { wait $p1 && wait $p2 || { cat e1 e2; false; }; } && test "$(cat o1)" = "$(cat o2)" &&
  test "$(ls "$KEEL_STORE/layers" | wc -l)" = 3 && keel system check
'

# The chain ids of the layers fixture: the names of its per-layer claims.
chain_ids() {
  local d cfg prev="" id
  d=$(fixture_dir layers)/docker
  cfg=$(jq -r .config.digest "$d/manifest.json")
  for id in $(jq -r '.rootfs.diff_ids[]' "$d/${cfg#sha256:}"); do
    [ -n "$prev" ] && id=sha256:$(printf '%s %s' "$prev" "$id" | sha256sum | cut -d" " -f1)
    echo "${id#sha256:}"
    prev=$id
  done
}

# Another pull holds the first layer's claim and, like a pull that has
# fetched its own batch, then wants the second: a pull that waited while
# holding the second layer's claim would wait for it forever.
test_expect_success 'a pull waiting for a claimed layer holds no claim itself' '
  clean_store && mkdir -p "$KEEL_STORE/locks" && chain_ids >ids &&
  l1=$KEEL_STORE/locks/$(sed -n 1p ids).lock && l2=$KEEL_STORE/locks/$(sed -n 2p ids).lock &&
  l3=$KEEL_STORE/locks/$(sed -n 3p ids).lock &&
  { flock "$l1" sh -c "touch held; for i in \$(seq 600); do test -e go && break; sleep 0.1; done;
      flock -w 60 $l2 touch got-second" & holder=$!; } &&
  for _ in $(seq 100); do test -e held && break; sleep 0.1; done &&
  { "$KEEL" --root "$KEEL_STORE" pull --tls-verify=false $REGISTRY/layers >o 2>e & pid=$!; } &&
  for _ in $(seq 300); do grep -q "^Waiting for blob" e && break; sleep 0.1; done &&
  assert_file_has_content e "^Waiting for blob" &&
  { flock -n "$l2" true && flock -n "$l3" true || { kill $pid; false; }; } &&
  touch go && wait $holder && test -e got-second && wait $pid &&
  test "$(ls "$KEEL_STORE/layers" | wc -l)" = 3 && keel system check
'

test_expect_success 'a corrupted blob in the store is found by system check' '
  f=$(ls "$KEEL_STORE/blobs/sha256/" | head -1) &&
  echo garbage >>"$KEEL_STORE/blobs/sha256/$f" &&
  test_must_fail keel system check >report &&
  assert_file_has_content report "does not match its digest" &&
  keel system check --repair >/dev/null && keel system check &&
  kp $REGISTRY/layers >/dev/null 2>&1 && keel system check
'

test_done
