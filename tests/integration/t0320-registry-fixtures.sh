#!/bin/bash
# The image fixtures: built twice in separate trees they have the same
# digests, and they hold what the pull tests rely on (media types exactly
# per spec, whiteouts, owners, links, platforms).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
test_require_root

small="busybox busybox-zstd busybox-multi layers hostile"
build() {
  FIXTURES_CACHE=$KEEL_FIXTURES/cache HOSTILE_BOMB_MIB=64 \
    "$TEST_SRCDIR/tests/fixtures/images.sh" -o "$1" $small
}
digests() { (cd "$1" && find . -name '*.digest' | sort | while read -r f; do echo "$f $(cat "$f")"; done); }

# The top manifest of fixture dir $1 in OCI form, and blob $2 of it.
oci_top() { jq -r '.manifests[0].digest' "$1/oci/index.json"; }
oci_blob() { echo "$1/oci/blobs/sha256/${2#sha256:}"; }

test_expect_success 'two builds in fresh trees give the same digests' '
  build a 2>log.a && build b 2>log.b &&
  digests a >da && digests b >db && test "$(wc -l <da)" -ge 16 && diff da db
'

test_expect_success 'the shared fixture tree agrees (bombs aside: their size differs)' '
  for n in busybox busybox-zstd busybox-multi layers; do fixture_dir $n >/dev/null; done &&
  digests "$KEEL_FIXTURES" | grep -E "^\./(busybox|busybox-zstd|busybox-multi|layers)/" >dm &&
  grep -E "^\./(busybox|busybox-zstd|busybox-multi|layers)/" da | diff - dm
'

test_expect_success 'OCI and Docker forms carry their own media types; skopeo reads both' '
  m=$(oci_blob a/busybox "$(oci_top a/busybox)") &&
  jq -e ".mediaType == \"application/vnd.oci.image.manifest.v1+json\" and
         .config.mediaType == \"application/vnd.oci.image.config.v1+json\" and
         .layers[0].mediaType == \"application/vnd.oci.image.layer.v1.tar+gzip\"" "$m" &&
  jq -e ".mediaType == \"application/vnd.docker.distribution.manifest.v2+json\" and
         .config.mediaType == \"application/vnd.docker.container.image.v1+json\" and
         .layers[0].mediaType == \"application/vnd.docker.image.rootfs.diff.tar.gzip\"" a/busybox/docker/manifest.json &&
  skopeo inspect oci:a/busybox/oci:latest | jq -e ".Architecture == \"$(dpkg --print-architecture)\"" &&
  skopeo inspect dir:a/busybox/docker | jq -e ".Layers | length == 1" &&
  z=$(oci_blob a/busybox-zstd "$(oci_top a/busybox-zstd)") &&
  jq -e ".layers[0].mediaType == \"application/vnd.oci.image.layer.v1.tar+zstd\"" "$z" &&
  zstd -dc "$(oci_blob a/busybox-zstd "$(jq -r .layers[0].digest "$z")")" | tar -t >list &&
  grep -qx bin/busybox list
'

test_expect_success 'busybox-multi: an OCI index and a Docker list over amd64 and arm64/v8' '
  i=$(oci_blob a/busybox-multi "$(oci_top a/busybox-multi)") &&
  jq -e ".mediaType == \"application/vnd.oci.image.index.v1+json\" and
         ([.manifests[].platform | .architecture + (.variant // \"\")] == [\"amd64\", \"arm64v8\"])" "$i" &&
  jq -e ".mediaType == \"application/vnd.docker.distribution.manifest.list.v2+json\" and
         (.manifests | length == 2)" a/busybox-multi/docker/manifest.json &&
  arm=$(jq -r ".manifests[1].digest" "$i") &&
  l=$(jq -r ".layers[0].digest" "$(oci_blob a/busybox-multi "$arm")") &&
  tar -xzf "$(oci_blob a/busybox-multi "$l")" bin/busybox &&
  od -An -tx1 -j18 -N2 bin/busybox | tr -d " \n" >machine &&
  test "$(cat machine)" = b700
'

test_expect_success 'layers: whiteouts, opaque dir, links, owners, long and unicode names' '
  d=a/layers/docker && set -- $(jq -r ".layers[].digest | ltrimstr(\"sha256:\")" $d/manifest.json) &&
  test $# = 3 &&
  tar -tvzf $d/$2 >l2 && tar -tvzf $d/$3 >l3 &&
  grep -q "^-rw-r--r-- 1000/1000 .* owned/by-1000$" l2 &&
  grep -q "^hrw-r--r-- 0/0 .* hard/b link to hard/a$" l2 &&
  grep -q " links/rel -> ../hard/a$" l2 && grep -q " links/abs -> /hard/a$" l2 &&
  grep -q "^drwxr-xr-x 0/0 .* empty/$" l2 &&
  grep -q "unicode/héllo wörld ☃ 日本語.txt$" l2 &&
  test "$(tar -tzf $d/$2 | awk "length > 100" | wc -l)" -ge 1 &&
  grep -q " \.wh\.gone$" l3 && grep -q " etc/\.wh\.delete-me$" l3 && grep -q " opaque/\.wh\.\.wh\.\.opq$" l3 &&
  grep -q "2023-11-14 22:13 " l2 && ! grep -v "2023-11-14 22:13 " l2
'

test_expect_success 'hostile: every case is a one-layer image with the entry it promises' '
  h=a/hostile &&
  for c in dotdot absolute symlink-through hardlink-outside devices whiteout-dotdot duplicate bomb bomb-zstd sparse; do test -s $h/$c/oci.digest || exit 1; done &&
  t() { tar -tvPzf $h/$1/docker/$(jq -r ".layers[0].digest | ltrimstr(\"sha256:\")" $h/$1/docker/manifest.json) >$1.list; } &&
  t dotdot && grep -q " \.\./\.\./.*tmp/keel-hostile-dotdot$" dotdot.list &&
  t absolute && grep -q " /tmp/keel-hostile-absolute$" absolute.list &&
  t symlink-through && grep -q " sl-abs/keel-hostile-through-abs$" symlink-through.list &&
  t hardlink-outside && grep -q "link to /etc/passwd$" hardlink-outside.list &&
  t devices && grep -q "^c.* dev/keel-hostile-char$" devices.list &&
  t whiteout-dotdot && grep -q " \.wh\.\.\.$" whiteout-dotdot.list &&
  t duplicate && test "$(grep -c " dup$" duplicate.list)" = 2 &&
  t sparse && grep -q " 2199023255552 .* keel-hostile-sparse$" sparse.list &&
  b=$h/bomb/docker/$(jq -r ".layers[0].digest | ltrimstr(\"sha256:\")" $h/bomb/docker/manifest.json) &&
  test "$(zcat $b | wc -c)" -gt $((200 * $(stat -c %s $b)))
'

test_done
