#!/bin/bash
# keel pull over TLS: htpasswd basic auth and bearer tokens from a token
# issuer; CAs from --cert-dir and from the certs.d/<host:port>/ layout;
# clear lines for a missing CA, missing or wrong credentials.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

registry_start tls-basic
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push" && cat "$TEST_TMP/push.log" && exit 1
}
B=$REGISTRY B_CERTS=$REGISTRY_CERTS_D B_CREDS=$REGISTRY_USER:$REGISTRY_PASSWORD

test_expect_success 'basic auth: the CA from --cert-dir, the credentials from --creds' '
  keel pull -q --cert-dir "$B_CERTS/$B" --creds "$B_CREDS" $B/bb >id &&
  test "$(wc -c <id)" = 65 && keel system check
'

test_expect_success 'the CA from a certs.d/<host:port>/ca.crt layout' '
  keel rmi -f "$(cat id)" >/dev/null &&
  KEEL_CERTS_D=/nonexistent:$B_CERTS keel pull -q --creds "$B_CREDS" $B/bb >id2 &&
  test "$(cat id)" = "$(cat id2)"
'

test_expect_success 'no CA: the certificate is not trusted, one line naming certs.d' '
  rc=0 && KEEL_CERTS_D=/nonexistent keel pull --creds "$B_CREDS" $B/bb 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "cannot verify the TLS certificate of $B.*certs.d/$B/ca.crt"
'

test_expect_success 'basic auth without credentials, and with a wrong password' '
  rc=0 && keel pull --cert-dir "$B_CERTS/$B" $B/bb 2>err || rc=$?
  test $rc = 125 && assert_file_has_content err "authentication required" &&
  rc=0 && keel pull --cert-dir "$B_CERTS/$B" --creds keeluser:wrong $B/bb 2>err || rc=$?
  test $rc = 125 && assert_file_has_content err "access denied|authentication failed"
'

test_expect_success 'credentials from an auth.json (REGISTRY_AUTH_FILE) when --creds is absent' '
  rm -rf "$KEEL_STORE" &&
  printf "{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}" "$B" "$(printf %s "$B_CREDS" | base64 -w0)" >auth.json &&
  REGISTRY_AUTH_FILE=$PWD/auth.json keel pull -q --cert-dir "$B_CERTS/$B" $B/bb >/dev/null
'

registry_start tls-token
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push" && cat "$TEST_TMP/push.log" && exit 1
}
T=$REGISTRY T_CERTS=$REGISTRY_CERTS_D T_CREDS=$REGISTRY_USER:$REGISTRY_PASSWORD

test_expect_success 'bearer tokens: realm, service and scope from the challenge' '
  rm -rf "$KEEL_STORE" &&
  keel pull -q --cert-dir "$T_CERTS/$T" --creds "$T_CREDS" $T/bb >id &&
  keel images | grep -qE "^$T/bb +latest" && keel system check
'

test_expect_success 'bearer tokens with a wrong password: one clear line' '
  rc=0 && keel pull --cert-dir "$T_CERTS/$T" --creds keeluser:wrong $T/bb:latest 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "authentication failed|access denied|authentication required"
'

test_expect_success '--tls-verify=false skips verification but still talks TLS' '
  rm -rf "$KEEL_STORE" &&
  keel pull -q --tls-verify=false --creds "$T_CREDS" $T/bb >/dev/null
'

test_done
