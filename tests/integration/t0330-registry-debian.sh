#!/bin/bash
# The large fixture: mmdebstrap minbase in three layers, about 150 MB
# unpacked, built once (apt cache under build/fixtures/cache) and pushed
# through the plain registry as the pull benchmark will.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
test_require_root

say "building (or reusing) the debian fixture; uncached this takes a few minutes"
deb=$(fixture_dir debian) || skip_all "cannot build the debian fixture (no archive reachable?)"
registry_start plain

test_expect_success 'three gzip layers, 120-200 MB unpacked, a runnable bash' '
  m=$deb/docker/manifest.json &&
  jq -e ".layers | length == 3" $m &&
  total=0 && for l in $(jq -r ".layers[].digest | ltrimstr(\"sha256:\")" $m); do
    total=$((total + $(zcat $deb/docker/$l | wc -c)))
  done &&
  test $total -gt $((120 << 20)) && test $total -lt $((200 << 20)) &&
  l3=$(jq -r ".layers[2].digest | ltrimstr(\"sha256:\")" $m) &&
  tar -tzf $deb/docker/$l3 >l3 && grep -qx "etc/os-release" l3 && ! grep -q "^dev/." l3
'

test_expect_success 'skopeo pushes both forms byte for byte' '
  registry_push_fixture debian debian:oci oci &&
  registry_push_fixture debian debian:docker docker &&
  d=$(skopeo inspect --raw --tls-verify=false docker://$REGISTRY/debian:docker | sha256sum | cut -d" " -f1) &&
  test "sha256:$d" = "$(cat $deb/docker.digest)" &&
  d=$(skopeo inspect --raw --tls-verify=false docker://$REGISTRY/debian:oci | sha256sum | cut -d" " -f1) &&
  test "sha256:$d" = "$(cat $deb/oci.digest)"
'

test_done
