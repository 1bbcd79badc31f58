#!/bin/bash
# Multi-platform images: keel pull --all-platforms keeps every image of an
# OCI index or Docker manifest list (each named by digest), and keel push
# sends each image with its blobs, then the index byte for byte.  skopeo
# reads the pushed index; each platform pulls back to the same image id.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

registry_start plain
R=$REGISTRY
for spec in "busybox-multi multi" "busybox-multi multid:latest docker"; do
  # shellcheck disable=SC2086
  registry_push_fixture $spec >>"$TEST_TMP/push.log" 2>&1 || {
    echo "Bail out! cannot push $spec" && cat "$TEST_TMP/push.log" && exit 1
  }
done
sk_raw() { skopeo inspect --tls-verify=false --raw "docker://$1"; }
kp() { keel pull --tls-verify=false "$@"; }
# The image id of PLATFORM from REF pulled into a fresh store.
id_in_fresh_store() {
  KEEL_STORE=$TEST_TMP/fresh-$RANDOM keel pull -q --tls-verify=false --platform "$1" "$2"
}

test_expect_success 'pull --all-platforms keeps both images; the name ends on the host one' '
  kp -q --all-platforms $R/multi >host.id &&
  test "$(keel images -q | sort -u | wc -l)" = 2 &&
  keel image inspect $R/multi >insp && jq -e ".[0].Id | endswith(\"$(cat host.id)\")" insp &&
  arm=$(sk_raw $R/multi | jq -r ".manifests[] | select(.platform.architecture == \"arm64\") | .digest") &&
  keel image inspect "$R/multi@$arm" >arm.json &&
  jq -e ".[0].Architecture == \"arm64\"" arm.json && keel system check
'

test_expect_success 'the images of an index are not dangling: prune keeps them' '
  keel image prune >/dev/null && test "$(keel images -q | sort -u | wc -l)" = 2
'

test_expect_success 'push sends every image, then the OCI index byte for byte' '
  keel push --tls-verify=false --digestfile d $R/multi $R/copy:v1 2>err &&
  sk_raw $R/multi >orig && sk_raw $R/copy:v1 >pushed && cmp orig pushed &&
  assert_streq "$(cat d)" "sha256:$(sha256sum <orig | cut -d" " -f1)" &&
  test "$(grep -c "^Writing manifest" err)" = 3 &&
  for dg in $(jq -r ".manifests[].digest" pushed); do sk_raw $R/copy@$dg >/dev/null || exit 1; done
'

test_expect_success 'each platform pulls back to the image it was' '
  for p in linux/amd64 linux/arm64; do
    test "$(id_in_fresh_store $p $R/copy:v1)" = "$(id_in_fresh_store $p $R/multi)" || exit 1
  done
'

test_expect_success 'a Docker manifest list round-trips the same way' '
  kp -q --all-platforms $R/multid >/dev/null &&
  keel push --tls-verify=false $R/multid $R/copyd:v1 2>/dev/null &&
  sk_raw $R/multid >orig && sk_raw $R/copyd:v1 >pushed && cmp orig pushed &&
  jq -e ".mediaType == \"application/vnd.docker.distribution.manifest.list.v2+json\"" pushed &&
  test "$(id_in_fresh_store linux/arm64 $R/copyd:v1)" = "$(id_in_fresh_store linux/arm64 $R/multid)"
'

test_expect_success 'changing the format of an index is refused with one line' '
  rc=0 && keel push --tls-verify=false --format v2s2 $R/multi $R/conv:v1 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 && assert_file_has_content err "index is pushed as it was pulled" &&
  test_must_fail skopeo inspect --raw --tls-verify=false docker://$R/conv:v1 2>/dev/null
'

test_expect_success 'pulled for one platform only: push sends that image, not the index' '
  KEEL_STORE=$TEST_TMP/single && export KEEL_STORE &&
  kp -q $R/multi >/dev/null && keel push --tls-verify=false $R/multi $R/single:v1 2>/dev/null &&
  sk_raw $R/single:v1 >m && jq -e ".layers | length == 1" m
'

test_done
