#!/bin/bash
# The fault proxy (tests/helpers/faultproxy) in front of the plain registry:
# each mode misbehaves as the pull tests expect, seen by curl.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
test_require_root

registry_start plain
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push the busybox fixture" && cat "$TEST_TMP/push.log" && exit 1
}
bb=$(fixture_dir busybox)
layer=$(jq -r '.layers[0].digest' "$bb/docker/manifest.json")
size=$(jq -r '.layers[0].size' "$bb/docker/manifest.json")
blob=/v2/bb/blobs/$layer

sum() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

proxy_start pass
test_expect_success 'pass: the blob arrives whole, manifests too' '
  curl -sf -o b "http://$PROXY$blob" && test "$(sum b)" = "$layer" &&
  curl -sf -o /dev/null -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$PROXY/v2/bb/manifests/latest" &&
  assert_file_has_content "$PROXY_LOG" "^GET $blob 200 pass$"
'

proxy_start corrupt
test_expect_success 'corrupt: same size, wrong digest; manifests untouched' '
  curl -sf -o b "http://$PROXY$blob" &&
  test "$(stat -c %s b)" = "$size" && test "$(sum b)" != "$layer" &&
  test "$(cmp -l b "$bb/docker/${layer#sha256:}" | wc -l)" = 1 &&
  curl -sf "http://$PROXY/v2/bb/manifests/latest" -H "Accept: application/vnd.oci.image.manifest.v1+json" | jq -e .layers
'

proxy_start truncate --after 1000
test_expect_success 'truncate: a complete-looking response of 1000 bytes' '
  curl -sf -o b "http://$PROXY$blob" && test "$(stat -c %s b)" = 1000 &&
  cmp -n 1000 b "$bb/docker/${layer#sha256:}"
'

proxy_start 500 --count 2
test_expect_success '500 --count 2: two errors, then the blob' '
  test "$(curl -s -o /dev/null -w "%{http_code}" "http://$PROXY$blob")" = 500 &&
  test "$(curl -s -o /dev/null -w "%{http_code}" "http://$PROXY$blob")" = 500 &&
  curl -sf -o b "http://$PROXY$blob" && test "$(sum b)" = "$layer" &&
  test "$(grep -c " 500 500$" "$PROXY_LOG")" = 2
'

proxy_start drop --count 1
test_expect_success 'drop --count 1: the connection dies mid-blob; a Range request resumes it' '
  rc=0 && curl -s -o b "http://$PROXY$blob" || rc=$?; test "$rc" = 18 &&
  have=$(stat -c %s b) && test "$have" -gt 0 && test "$have" -lt "$size" &&
  curl -sf -C - -o b "http://$PROXY$blob" && test "$(sum b)" = "$layer" &&
  assert_file_has_content "$PROXY_LOG" "^GET $blob 206 pass range=bytes=$have-$"
'

proxy_start stall --after 4096
test_expect_success 'stall: 4096 bytes, then silence until the client gives up' '
  rc=0 && curl -s --max-time 3 -o b "http://$PROXY$blob" || rc=$?; test "$rc" = 28 &&
  test "$(stat -c %s b)" = 4096
'

proxy_start pass
test_expect_success 'pass: a chunked upload goes through the proxy' '
  head -c 300000 /dev/urandom >up && d=$(sum up) &&
  curl -sf -D h -o /dev/null -X POST "http://$PROXY/v2/up/blobs/uploads/" &&
  loc=$(sed -n "s/^[Ll]ocation: *//p" h | tr -d "\r") &&
  case $loc in http*) ;; *) loc=http://$PROXY$loc ;; esac &&
  curl -sf -o /dev/null -X PATCH -H "Transfer-Encoding: chunked" -H "Content-Type: application/octet-stream" --data-binary @up "$loc" -D h2 &&
  loc=$(sed -n "s/^[Ll]ocation: *//p" h2 | tr -d "\r") &&
  case $loc in http*) ;; *) loc=http://$PROXY$loc ;; esac &&
  case $loc in *\?*) sep="&" ;; *) sep="?" ;; esac &&
  curl -sf -o /dev/null -X PUT "$loc${sep}digest=$d" &&
  curl -sf -o back "http://$REGISTRY/v2/up/blobs/$d" && cmp up back
'

test_done
