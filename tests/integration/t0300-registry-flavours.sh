#!/bin/bash
# The test registry in its three flavours (plain HTTP, TLS + htpasswd basic
# auth, TLS + bearer tokens from tests/helpers/tokenserver): each starts,
# refuses what it should, and skopeo pushes and pulls a fixture through it
# byte for byte.  This proves the infrastructure the pull tests stand on.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
test_require_root

bb=$(fixture_dir busybox)

# Pull $1 back into an OCI layout and compare its manifest digest with $2.
roundtrip() {
  local ref=$1 want=$2
  # shellcheck disable=SC2046
  skopeo copy --quiet $(registry_skopeo_flags src) "docker://$REGISTRY/$ref" "oci:$TEST_TMP/back-$$:x" &&
    got=$(skopeo inspect --raw "docker://$REGISTRY/$ref" $(registry_skopeo_flags src | sed 's/--src-/--/g') | sha256sum | cut -d" " -f1) &&
    assert_streq "sha256:$got" "$want"
}

registry_start plain
plain=$REGISTRY
test_expect_success 'plain: /v2/ answers 200 without credentials' '
  test "$(curl -s -o /dev/null -w "%{http_code}" "$REGISTRY_URL/v2/")" = 200
'
test_expect_success 'plain: skopeo pushes the OCI and Docker forms and pulls them back' '
  registry_push_fixture busybox bb:oci oci &&
  registry_push_fixture busybox bb:docker docker &&
  roundtrip bb:oci "$(cat "$bb/oci.digest")" &&
  roundtrip bb:docker "$(cat "$bb/docker.digest")" &&
  curl -s -H "Accept: application/vnd.docker.distribution.manifest.v2+json" -o m.json \
    -w "%{content_type}" "$REGISTRY_URL/v2/bb/manifests/docker" >ct &&
  assert_file_has_content ct "application/vnd.docker.distribution.manifest.v2\+json"
'

registry_start tls-basic
test_expect_success 'tls-basic: plain HTTP and unknown CAs are refused, 401 without credentials' '
  test_must_fail curl -sf "http://$REGISTRY/v2/" &&
  test_must_fail curl -s "$REGISTRY_URL/v2/" &&
  test "$(curl -s -o /dev/null -w "%{http_code}" --cacert "$REGISTRY_CA" "$REGISTRY_URL/v2/")" = 401 &&
  curl -s -D h -o /dev/null --cacert "$REGISTRY_CA" "$REGISTRY_URL/v2/" &&
  assert_file_has_content h "^[Ww]ww-[Aa]uthenticate: Basic realm=\"keel-test\"" &&
  test "$(curl -s -o /dev/null -w "%{http_code}" --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:wrong" "$REGISTRY_URL/v2/")" = 401 &&
  test "$(curl -s -o /dev/null -w "%{http_code}" --cacert "$REGISTRY_CA" -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "$REGISTRY_URL/v2/")" = 200
'
test_expect_success 'tls-basic: skopeo pushes with credentials and pulls back' '
  registry_push_fixture busybox ns/bb:1 &&
  roundtrip ns/bb:1 "$(cat "$bb/oci.digest")" &&
  test_must_fail skopeo inspect --cert-dir "$REGISTRY_CERTS_D/$REGISTRY" "docker://$REGISTRY/ns/bb:1"
'

registry_start tls-token
test_expect_success 'tls-token: the challenge names the issuer; tokens come only for good credentials' '
  curl -s -D h -o /dev/null --cacert "$REGISTRY_CA" "$REGISTRY_URL/v2/" &&
  assert_file_has_content h "Bearer realm=\"$REGISTRY_TOKEN_URL\",service=\"keel-test-registry\"" &&
  test "$(curl -s -o /dev/null -w "%{http_code}" -u "$REGISTRY_USER:wrong" "$REGISTRY_TOKEN_URL?service=keel-test-registry")" = 401 &&
  curl -sf -u "$REGISTRY_USER:$REGISTRY_PASSWORD" "$REGISTRY_TOKEN_URL?service=keel-test-registry&scope=repository:x:pull,push" >t.json &&
  token=$(jq -r .token t.json) &&
  test "$(curl -s -o /dev/null -w "%{http_code}" --cacert "$REGISTRY_CA" -H "Authorization: Bearer $token" "$REGISTRY_URL/v2/")" = 200 &&
  test "$(curl -s -o /dev/null -w "%{http_code}" --cacert "$REGISTRY_CA" -H "Authorization: Bearer x$token" "$REGISTRY_URL/v2/")" = 401
'
test_expect_success 'tls-token: skopeo pushes with a token, anonymous pull works, anonymous push does not' '
  registry_push_fixture busybox-multi multi:latest &&
  roundtrip multi:latest "$(cat "$(fixture_dir busybox-multi)/oci.digest")" &&
  skopeo inspect --raw --cert-dir "$REGISTRY_CERTS_D/$REGISTRY" "docker://$REGISTRY/multi:latest" | jq -e ".manifests | length == 2" &&
  test_must_fail skopeo copy --quiet --dest-cert-dir "$REGISTRY_CERTS_D/$REGISTRY" "oci:$bb/oci:latest" "docker://$REGISTRY/anon:latest" 2>err &&
  assert_file_has_content err "(unauthorized|denied|authentication required)"
'

test_expect_success 'two registries at once: the plain one still answers' '
  test "$(curl -s -o /dev/null -w "%{http_code}" "http://$plain/v2/bb/tags/list")" = 200
'

test_done
