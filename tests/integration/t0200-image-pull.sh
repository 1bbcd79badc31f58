#!/bin/bash
# keel pull from a real registry (plain HTTP): OCI and Docker forms, gzip
# and zstd, a multi-arch index with --platform, shared layers, whiteouts in
# overlay form, images / inspect / tag / rmi / prune / system check and df.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

registry_start plain
for f in "busybox bb" "busybox bbd:latest docker" "busybox-zstd bbz" "busybox-multi multi" \
  "busybox-multi multid:latest docker" "layers layers"; do
  # shellcheck disable=SC2086
  registry_push_fixture $f >>"$TEST_TMP/push.log" 2>&1 || {
    echo "Bail out! cannot push fixture $f" && cat "$TEST_TMP/push.log" && exit 1
  }
done
R=$REGISTRY
bbdir=$(fixture_dir busybox)

test_expect_success 'pull an OCI busybox: id on stdout, layer unpacked, store clean' '
  keel_pull $R/bb >out 2>err &&
  id=$(cat out) && test ${#id} = 64 &&
  assert_file_has_content err "Copying blob [0-9a-f]{12} done" &&
  keel images >list && assert_file_has_content list "^$R/bb +latest +${id:0:12}" &&
  dir=$(keel image inspect $R/bb | jq -r ".[0].GraphDriver.Data.LowerDir") &&
  test -x "$dir/bin/busybox" && test "$(readlink "$dir/bin/sh")" = busybox &&
  keel system check
'

test_expect_success 'the image id is the config digest the fixture has' '
  cfg=$(jq -r ".config.digest" "$bbdir/docker/manifest.json") &&
  test "$(keel images --format json | jq -r ".[] | select(.Names | index(\"$R/bb:latest\")) | .Id")" = "${cfg#sha256:}"
'

test_expect_success 'the Docker schema2 form gives the same image, its layer reused' '
  keel_pull $R/bbd >out 2>err &&
  test "$(cat out)" = "$(keel images -q | head -1)$(cat out | cut -c13-)" &&
  assert_file_has_content err "skipped: already exists" &&
  test "$(ls "$KEEL_STORE/layers" | wc -l)" = 1
'

test_expect_success 'zstd layers unpack to the same chain' '
  keel_pull $R/bbz >out 2>err &&
  test "$(ls "$KEEL_STORE/layers" | wc -l)" = 1 &&
  keel images --digests | grep -qE "$R/bbz .*sha256:"
'

test_expect_success 'a multi-arch index: the host platform by default, --platform picks arm64' '
  keel_pull $R/multi >amd 2>/dev/null &&
  keel_pull --platform linux/arm64 $R/multi >arm 2>/dev/null &&
  ! test "$(cat amd)" = "$(cat arm)" &&
  keel image inspect "$(cat arm)" | jq -e ".[0].Architecture == \"arm64\"" &&
  keel_pull --arch arm64 $R/multid >arm2 2>/dev/null &&
  keel image inspect "$(cat arm2)" | jq -e ".[0].Architecture == \"arm64\""
'

test_expect_success 'a platform the index lacks: one clear line, exit 125' '
  rc=0 && keel_pull --platform linux/s390x $R/multi >out 2>err || rc=$?; test $rc = 125 &&
  assert_file_has_content err "no image for linux/s390x in the index \(it has: linux/amd64, linux/arm64" &&
  test "$(wc -l <err)" = 1
'

test_expect_success 'three layers: whiteouts as 0:0 devices, opaque xattr, hardlinks, owners' '
  keel_pull -q $R/layers >id &&
  dirs=$(keel image inspect $R/layers | jq -r ".[0].GraphDriver.Data.LayerDirs[]") &&
  top=$(echo "$dirs" | tail -1) && mid=$(echo "$dirs" | sed -n 2p) &&
  test "$(stat -c "%F %t:%T" "$top/etc/delete-me")" = "character special file 0:0" &&
  test "$(stat -c "%F %t:%T" "$top/gone")" = "character special file 0:0" &&
  test "$(getfattr --only-values -n trusted.overlay.opaque "$top/opaque")" = y &&
  test "$(stat -c %h "$top/hard/c")" = 2 &&
  test "$(stat -c %u "$mid/owned/by-1000")" = 1000 &&
  test -f "$mid/unicode/héllo wörld ☃ 日本語.txt"
'

test_expect_success 'the layers mount as an overlay and show the merged tree' '
  dirs=$(keel image inspect $R/layers | jq -r ".[0].GraphDriver.Data.LowerDir") &&
  mkdir -p mnt && mount -t overlay overlay -o "lowerdir=$dirs" mnt &&
  rc=0 && { test ! -e mnt/etc/delete-me && test ! -e mnt/gone && test -x mnt/bin/busybox; } || rc=$?
  umount mnt; test $rc = 0
'

test_expect_success 'a second pull of the same image downloads nothing' '
  keel_pull $R/layers 2>err >/dev/null &&
  ! grep -q " done$" err && test "$(grep -c "already exists" err)" = 3
'

test_expect_success 'tag, rmi by name keeps the image while named, rmi by id' '
  keel tag $R/bb $R/other:v1 &&
  keel images | grep -qE "^$R/other +v1" &&
  keel rmi $R/other:v1 | grep -q "^Untagged: $R/other:v1" &&
  keel images -q | grep -q "$(cut -c1-12 <amd)" &&
  test_must_fail keel rmi $R/nothing:here 2>err && assert_file_has_content err "image not known"
'

test_expect_success 'rmi of an image with several names needs --force' '
  id=$(keel images --format json | jq -r ".[] | select(.Names | index(\"$R/bbz:latest\")) | .Id") &&
  rc=0 && keel rmi $id 2>err || rc=$?; test $rc = 125 && assert_file_has_content err "use --force" &&
  keel rmi -f $id && ! keel images -q | grep -q ${id:0:12} && keel system check
'

test_expect_success 'removing every image leaves no layers, blobs or tmp behind' '
  for i in $(keel images -q); do keel rmi -f $i >/dev/null; done &&
  keel image prune >/dev/null &&
  test -z "$(find "$KEEL_STORE/layers" "$KEEL_STORE/blobs/sha256" "$KEEL_STORE/tmp" -mindepth 1)" &&
  keel system df | grep -qE "^Images +0 "
'

test_expect_success 'bad input: invalid reference, unknown repository, missing tag' '
  rc=0 && keel pull "Bad/Name" 2>err || rc=$?; test $rc = 125 &&
  assert_file_has_content err "must be lowercase" &&
  rc=0 && keel_pull $R/nosuch 2>err || rc=$?; test $rc = 125 &&
  assert_file_has_content err "not found" &&
  rc=0 && keel_pull $R/bb:nosuchtag 2>err || rc=$?; test $rc = 125 &&
  assert_file_has_content err "nosuchtag: not found"
'

test_expect_success 'TLS is verified by default: a plain-HTTP registry is refused' '
  rc=0 && keel pull $R/bb 2>err || rc=$?; test $rc = 125 && test "$(wc -l <err)" = 1
'

test_done
