#!/bin/bash
# keel push through TLS registries with credentials stored by keel login
# (basic auth, bearer tokens with a pull,push scope plus the mount
# source's pull), and through a fault proxy: 500s and connections dropped
# mid-upload are retried with a fresh upload session, and a registry that
# keeps failing gets one clear line.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

# Not exported: docker-registry reads REGISTRY_* variables as its own config.
AUTH=$TEST_TMP/auth.json
keel() { REGISTRY_AUTH_FILE=$AUTH "$KEEL" --root "$KEEL_STORE" "$@"; }

registry_start tls-basic
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push" && cat "$TEST_TMP/push.log" && exit 1
}
B=$REGISTRY B_CERTS=$REGISTRY_CERTS_D/$REGISTRY B_USER=$REGISTRY_USER B_PASS=$REGISTRY_PASSWORD
BB_DIGEST=$(cat "$(fixture_dir busybox)/oci.digest")

test_expect_success 'basic auth: push with the credentials keel login stored' '
  keel login --cert-dir "$B_CERTS" -u "$B_USER" -p "$B_PASS" "$B" >/dev/null &&
  keel pull -q --cert-dir "$B_CERTS" $B/bb >id &&
  keel push --cert-dir "$B_CERTS" --digestfile d $B/bb $B/pushed 2>err &&
  assert_streq "$(cat d)" "$BB_DIGEST" &&
  test "$(skopeo inspect --cert-dir "$B_CERTS" --creds "$B_USER:$B_PASS" --format "{{.Digest}}" docker://$B/pushed)" = "$BB_DIGEST"
'

test_expect_success 'basic auth: after logout a push is refused in one line' '
  keel logout "$B" >/dev/null &&
  rc=0 && keel push -q --cert-dir "$B_CERTS" $B/bb $B/pushed2 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 && assert_file_has_content err "authentication required"
'

registry_start tls-token
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push" && cat "$TEST_TMP/push.log" && exit 1
}
T=$REGISTRY T_CERTS=$REGISTRY_CERTS_D/$REGISTRY T_USER=$REGISTRY_USER T_PASS=$REGISTRY_PASSWORD T_DIR=$REGISTRY_DIR

test_expect_success 'bearer: push with stored credentials, blobs mounted from the repository pulled' '
  rm -rf "$KEEL_STORE" &&
  keel login --cert-dir "$T_CERTS" -u "$T_USER" -p "$T_PASS" "$T" >/dev/null &&
  keel pull -q --cert-dir "$T_CERTS" $T/bb >/dev/null &&
  keel push --cert-dir "$T_CERTS" --digestfile d $T/bb $T/team/copy 2>err &&
  assert_streq "$(cat d)" "$BB_DIGEST" && assert_file_has_content err "mounted" &&
  grep "team.*copy" "$T_DIR/token.log" | grep -q "\"push\"" &&
  test "$(skopeo inspect --cert-dir "$T_CERTS" --creds "$T_USER:$T_PASS" --format "{{.Digest}}" docker://$T/team/copy)" = "$BB_DIGEST"
'

test_expect_success 'bearer: anonymous tokens carry no push: one clear line' '
  keel logout --all >/dev/null &&
  rc=0 && keel push -q --cert-dir "$T_CERTS" $T/bb $T/anon 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 && assert_file_has_content err "HTTP 401|denied|authentication"
'

registry_start plain
P=$REGISTRY
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push" && cat "$TEST_TMP/push.log" && exit 1
}

test_expect_success 'setup: the image in the store' '
  rm -rf "$KEEL_STORE" && keel pull -q --tls-verify=false $P/bb >id
'

proxy_start 500 --count 2 --match /blobs/uploads/
X1=$PROXY X1_LOG=$PROXY_LOG
test_expect_success 'two 500s on upload requests: retried, the push completes' '
  keel push --tls-verify=false --retry-delay 10 --digestfile d $P/bb $X1/r500 2>err &&
  assert_streq "$(cat d)" "$BB_DIGEST" &&
  test "$(grep -c " 500 500" "$X1_LOG")" = 2 &&
  skopeo inspect --tls-verify=false docker://$P/r500 >/dev/null
'

proxy_start 500 --match /blobs/uploads/
X2=$PROXY
test_expect_success 'a registry that always answers 500: one clear line, exit 125' '
  rc=0 && keel push -q --tls-verify=false --retry 2 --retry-delay 10 $P/bb $X2/always 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 && assert_file_has_content err "HTTP 500"
'

proxy_start drop --count 1 --match /blobs/uploads/
X3=$PROXY X3_LOG=$PROXY_LOG
test_expect_success 'connection dropped mid-upload (monolithic PUT): a new session, then done' '
  keel push --tls-verify=false --retry-delay 10 --chunk-size 0 --digestfile d $P/bb $X3/drop 2>err &&
  assert_streq "$(cat d)" "$BB_DIGEST" && grep -q "^PUT .* drop" "$X3_LOG" &&
  assert_file_has_content err "Retrying" &&
  skopeo copy --quiet --src-tls-verify=false docker://$P/drop oci:sk:latest
'

proxy_start drop --count 2 --match /blobs/uploads/
X4=$PROXY X4_LOG=$PROXY_LOG
test_expect_success 'connection dropped mid-chunk (PATCH): a new session, then done' '
  keel push --tls-verify=false --retry-delay 10 --chunk-size 200k --digestfile d $P/bb $X4/dropc 2>err &&
  grep -q "^PATCH .* drop" "$X4_LOG" &&
  assert_streq "$(cat d)" "$BB_DIGEST" &&
  rm -rf "$KEEL_STORE" && keel pull -q --tls-verify=false $P/dropc >id2 && assert_streq "$(cat id2)" "$(cat id)"
'

proxy_start drop --match /blobs/uploads/
X5=$PROXY
test_expect_success 'every upload dropped: one clear line once the retries are spent' '
  rc=0 && keel push -q --tls-verify=false --retry 2 --retry-delay 10 $P/dropc $X5/never 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 && assert_file_has_content err "retries exhausted"
'

test_done
