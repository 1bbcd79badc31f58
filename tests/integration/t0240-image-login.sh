#!/bin/bash
# keel login / logout against TLS registries with basic auth and bearer
# tokens: credentials are checked with a real request before auth.json
# (containers-auth.json, mode 0600) is written, bad ones are refused with
# one line and nothing stored, pulls use what login stored, and skopeo
# reads the same file.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

# Not exported: docker-registry reads REGISTRY_* variables as its own config.
AUTH=$TEST_TMP/auth/auth.json
keel() { REGISTRY_AUTH_FILE=$AUTH "$KEEL" --root "$KEEL_STORE" "$@"; }

registry_start tls-basic
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push" && cat "$TEST_TMP/push.log" && exit 1
}
B=$REGISTRY B_CERTS=$REGISTRY_CERTS_D/$REGISTRY B_USER=$REGISTRY_USER B_PASS=$REGISTRY_PASSWORD

test_expect_success 'basic: a wrong password is refused in one line and nothing is stored' '
  rc=0 && keel login --cert-dir "$B_CERTS" -u "$B_USER" -p wrong "$B" >out 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "$B: authentication failed" &&
  test ! -e "$AUTH"
'

test_expect_success 'basic: good credentials are stored 0600 in containers-auth.json form' '
  keel login --cert-dir "$B_CERTS" -u "$B_USER" -p "$B_PASS" "$B" >out &&
  assert_file_has_content out "Login Succeeded" &&
  test "$(stat -c %a "$AUTH")" = 600 &&
  want=$(printf %s "$B_USER:$B_PASS" | base64 -w0) &&
  test "$(jq -r --arg k "$B" ".auths[\$k].auth" "$AUTH")" = "$want"
'

test_expect_success 'a pull without --creds uses the stored credentials; skopeo reads the file too' '
  keel pull -q --cert-dir "$B_CERTS" "$B/bb" >id && test "$(wc -c <id)" = 65 &&
  skopeo inspect --authfile "$AUTH" --cert-dir "$B_CERTS" "docker://$B/bb" >insp &&
  assert_file_has_content insp "\"Digest\""
'

test_expect_success 'a failed login keeps the credentials already stored' '
  cp "$AUTH" before.json &&
  test_must_fail keel login --cert-dir "$B_CERTS" -u "$B_USER" -p nope "$B" 2>err &&
  cmp before.json "$AUTH"
'

test_expect_success 'logout removes them; the next pull needs credentials again' '
  keel logout "$B" >out && assert_file_has_content out "Removed login credentials for $B" &&
  test "$(jq -r --arg k "$B" ".auths[\$k] // \"gone\"" "$AUTH")" = gone &&
  rm -rf "$KEEL_STORE" &&
  rc=0 && keel pull --cert-dir "$B_CERTS" "$B/bb" 2>err || rc=$?
  test $rc = 125 && assert_file_has_content err "authentication required" &&
  rc=0 && keel logout "$B" 2>err || rc=$?
  test $rc = 125 && assert_file_has_content err "not logged into $B"
'

test_expect_success '--password-stdin, then logout --all' '
  printf "%s\n" "$B_PASS" | keel login --cert-dir "$B_CERTS" -u "$B_USER" --password-stdin "$B" &&
  keel pull -q --cert-dir "$B_CERTS" "$B/bb" >/dev/null &&
  keel logout --all && test "$(jq -c .auths "$AUTH")" = "{}"
'

test_expect_success 'without the CA the login fails on TLS; --tls-verify=false gets through' '
  rc=0 && KEEL_CERTS_D=/nonexistent keel login -u "$B_USER" -p "$B_PASS" "$B" 2>err || rc=$?
  test $rc = 125 && assert_file_has_content err "cannot verify the TLS certificate" &&
  KEEL_CERTS_D=/nonexistent keel login --tls-verify=false -u "$B_USER" -p "$B_PASS" "$B" &&
  keel logout "$B"
'

registry_start tls-token
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push" && cat "$TEST_TMP/push.log" && exit 1
}
T=$REGISTRY T_CERTS=$REGISTRY_CERTS_D/$REGISTRY T_USER=$REGISTRY_USER T_PASS=$REGISTRY_PASSWORD

test_expect_success 'bearer: a wrong password is refused by the token issuer, nothing stored' '
  rc=0 && keel login --cert-dir "$T_CERTS" -u "$T_USER" -p wrong "$T" 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "$T: authentication failed" &&
  test "$(jq -r --arg k "$T" ".auths[\$k] // \"none\"" "$AUTH")" = none
'

test_expect_success 'bearer: good credentials stored, used by pull, removed by logout' '
  rm -rf "$KEEL_STORE" &&
  keel login --cert-dir "$T_CERTS" -u "$T_USER" -p "$T_PASS" "$T" &&
  keel pull -q --cert-dir "$T_CERTS" "$T/bb" >/dev/null &&
  assert_file_has_content "$REGISTRY_DIR/token.log" "^200 $T_USER .*bb" &&
  keel logout "$T" &&
  test "$(jq -r --arg k "$T" ".auths[\$k] // \"gone\"" "$AUTH")" = gone
'

test_done
