#!/bin/bash
# keel push against a real registry: the stored manifest goes byte for
# byte (same digest), blobs are checked with HEAD, mounted across
# repositories, uploaded whole or in chunks; --format and
# --compression-format rebuild the manifest over the same config; skopeo
# reads and copies what keel pushed, and keel pulls it back.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

registry_start plain
A=$REGISTRY
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 &&
  registry_push_fixture layers layers:latest docker >>"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push fixtures" && cat "$TEST_TMP/push.log" && exit 1
}
registry_start plain
B=$REGISTRY B_LOG=$REGISTRY_DIR/log
BB_DIGEST=$(cat "$(fixture_dir busybox)/oci.digest")

# skopeo's view of a pushed image: the manifest digest and the config digest.
sk_digest() { skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$1"; }
sk_raw() { skopeo inspect --tls-verify=false --raw "docker://$1"; }

test_expect_success 'pull keeps each compressed layer blob, and system check is happy' '
  keel pull -q --tls-verify=false $A/bb >id && keel pull -q --tls-verify=false $A/layers >/dev/null &&
  layer=$(jq -r ".layers[0].digest" "$(fixture_dir busybox)/oci/blobs/sha256/${BB_DIGEST#sha256:}") &&
  test -f "$KEEL_STORE/blobs/sha256/${layer#sha256:}" &&
  keel system check >check && assert_file_has_content check " 0 problems"
'

test_expect_success 'push to another repository of the same registry: blobs mounted, digest kept' '
  keel push --tls-verify=false --digestfile d $A/bb $A/copy:v1 2>err &&
  assert_streq "$(cat d)" "$BB_DIGEST" &&
  assert_file_has_content err "done \(mounted\)" &&
  assert_streq "$(sk_digest $A/copy:v1)" "$BB_DIGEST"
'

test_expect_success 'a second push finds every blob with HEAD and sends none' '
  keel push --tls-verify=false $A/bb $A/copy:v1 2>err &&
  test "$(grep -c "skipped: already exists" err)" = 2 &&
  assert_not_file_has_content err "done"
'

test_expect_success 'monolithic upload to a fresh registry; skopeo copies it to an OCI layout' '
  keel push --tls-verify=false --chunk-size 0 --digestfile d $A/bb $B/mono 2>err &&
  assert_streq "$(cat d)" "$BB_DIGEST" &&
  test "$(grep -c "done$" err)" = 2 &&
  ! grep -q "PATCH /v2/mono/" "$B_LOG" && grep -q "PUT /v2/mono/blobs/uploads/" "$B_LOG" &&
  skopeo copy --quiet --src-tls-verify=false docker://$B/mono oci:sk:latest &&
  cfg=$(jq -r ".manifests[0].digest" sk/index.json) &&
  test "$(jq -r .config.digest "sk/blobs/sha256/${cfg#sha256:}")" = "sha256:$(cat id)"
'

test_expect_success 'chunked upload (PATCH with Content-Range, then PUT) by --chunk-size' '
  keel push --tls-verify=false --chunk-size 100k --digestfile d $A/bb $B/chunked 2>err &&
  assert_file_has_content err "done \(chunked\)" &&
  test "$(grep -c "PATCH /v2/chunked/blobs/uploads/" "$B_LOG")" -gt 5 &&
  assert_streq "$(sk_digest $B/chunked)" "$(cat d)" &&
  skopeo copy --quiet --src-tls-verify=false docker://$B/chunked oci:sk2:latest
'

test_expect_success 'keel pulls its own push back to the same image id' '
  rm -rf "$KEEL_STORE" &&
  keel pull -q --tls-verify=false $B/chunked >id2 && assert_streq "$(cat id2)" "$(cat id)" &&
  keel system check
'

test_expect_success '--compression-format zstd: new layer blobs, the same config and image id' '
  keel push --tls-verify=false --compression-format zstd --digestfile d $B/chunked $B/zstd 2>err &&
  assert_file_has_content err "Compressing blob .* with zstd" &&
  sk_raw $B/zstd >raw && test "$(jq -r ".layers[0].mediaType" raw)" = "application/vnd.oci.image.layer.v1.tar+zstd" &&
  test "$(jq -r .config.digest raw)" = "sha256:$(cat id)" &&
  skopeo copy --quiet --src-tls-verify=false docker://$B/zstd oci:sk3:latest &&
  rm -rf "$KEEL_STORE" && keel pull -q --tls-verify=false $B/zstd >id3 &&
  assert_streq "$(cat id3)" "$(cat id)" &&
  keel push --tls-verify=false --compression-format gzip $B/zstd $B/gz-again 2>err &&
  test "$(sk_raw $B/gz-again | jq -r ".layers[0].mediaType")" = "application/vnd.oci.image.layer.v1.tar+gzip"
'

test_expect_success '--format v2s2 turns an OCI image into a Docker schema 2 manifest' '
  keel push --tls-verify=false --format v2s2 $B/zstd $B/docker 2>err &&
  sk_raw $B/docker >raw &&
  test "$(jq -r .mediaType raw)" = "application/vnd.docker.distribution.manifest.v2+json" &&
  test "$(jq -r .config.mediaType raw)" = "application/vnd.docker.container.image.v1+json" &&
  test "$(jq -r ".layers[0].mediaType" raw)" = "application/vnd.docker.image.rootfs.diff.tar.gzip" &&
  test "$(jq -r .config.digest raw)" = "sha256:$(cat id)" &&
  rc=0 && keel push --tls-verify=false --format v2s2 --compression-format zstd $B/zstd $B/x 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 && assert_file_has_content err "no zstd"
'

test_expect_success 'a multi-layer Docker image (whiteouts, hardlinks) round-trips through push' '
  rm -rf "$KEEL_STORE" &&
  keel pull -q --tls-verify=false $A/layers >lid &&
  keel push --tls-verify=false --digestfile d $A/layers $B/layers 2>err &&
  assert_streq "$(cat d)" "$(cat "$(fixture_dir layers)/docker.digest")" &&
  skopeo copy --quiet --src-tls-verify=false docker://$B/layers oci:sk4:latest &&
  rm -rf "$KEEL_STORE" && keel pull -q --tls-verify=false $B/layers >lid2 &&
  assert_streq "$(cat lid2)" "$(cat lid)" && keel system check
'

test_expect_success 'bad input: unknown image, bad flags, an unreachable registry' '
  rc=0 && keel push --tls-verify=false nosuch/image $B/x 2>err || rc=$?
  test $rc = 125 && assert_file_has_content err "image not known" &&
  test_must_fail keel push --format xml $B/layers 2>err && assert_file_has_content err "oci or v2s2" &&
  rc=0 && keel push --tls-verify=false --retry 0 $B/layers 127.0.0.1:1/x 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 && assert_file_has_content err "cannot reach"
'

test_done
