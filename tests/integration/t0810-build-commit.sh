#!/bin/bash
# keel commit: deletions (whiteouts), replaced directories (opaque),
# hardlinks, owners and modes survive the round trip into a layer and
# back; an unchanged container adds no layer; --timestamp makes the same
# image twice; zstd layers; commit of an ordinary container with
# podman's --change / -m / -a / --pause; the image runs with keel run,
# goes to a registry with keel push, and skopeo and podman take it.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"
command -v podman >/dev/null || { echo "podman missing: run make deps" >&2; exit 1; }

N="--network none"
nlayers() { keel image inspect "$1" | jq ".[0].RootFS.Layers | length"; }
# the image's config and manifest documents from the store
config_of() { jq . "$KEEL_STORE/blobs/sha256/$(keel image inspect "$1" | jq -r '.[0].Id')"; }
manifest_of() {
  jq . "$KEEL_STORE/blobs/sha256/$(keel image inspect "$1" | jq -r '.[0].Digest' | cut -d: -f2)"
}

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup
'

test_expect_success 'deletions, replaced directories and hardlinks round-trip' '
  keel from --name wc busybox >/dev/null &&
  keel run-in wc sh -c "rm /bin/cat /etc/group && rm -rf /usr && mkdir -p /usr/only &&
    echo new >/usr/only/f && mkdir -p /hl && echo same >/hl/a && ln /hl/a /hl/b &&
    mkdir /own && echo o >/own/f && chown 12:34 /own/f && chmod 4750 /own/f &&
    ln -s /hl/a /sym && mkfifo /fifo" &&
  keel commit -q wc rt >id &&
  assert_streq "$(nlayers rt)" "$(($(nlayers busybox) + 1))" &&
  keel run --rm $N -u 0 rt sh -c "test ! -e /bin/cat && test ! -e /etc/group && ls /usr;
    stat -c \"%i\" /hl/a /hl/b | uniq | wc -l; stat -c \"%u:%g %a\" /own/f;
    readlink /sym; test -p /fifo && echo fifo; ls /bin/sh" >out &&
  assert_streq "$(cat out)" "only
1
12:34 4750
/hl/a
fifo
/bin/sh"
'

test_expect_success 'the layer tar has OCI whiteouts and an opaque marker' '
  layer=$(manifest_of rt | jq -r ".layers[-1].digest" | cut -d: -f2) &&
  tar -tzvf "$KEEL_STORE/blobs/sha256/$layer" >list &&
  assert_file_has_content list " bin/\.wh\.cat$" &&
  assert_file_has_content list " etc/\.wh\.group$" &&
  assert_file_has_content list " usr/\.wh\.\.wh\.\.opq$" &&
  assert_file_has_content list "^h.* hl/b link to hl/a$" &&
  assert_not_file_has_content list "^c" &&
  config_of rt | jq -r ".history[-1].empty_layer // false" >el && assert_streq "$(cat el)" false
'

test_expect_success 'a commit without changes adds no layer, only an empty_layer history entry' '
  keel from --name same busybox >/dev/null && keel config --env X=1 same &&
  keel commit -q -m "just config" same cfgonly >/dev/null &&
  assert_streq "$(nlayers cfgonly)" "$(nlayers busybox)" &&
  config_of cfgonly | jq -c ".history[-1] | [.empty_layer, .comment]" >h &&
  assert_streq "$(cat h)" "[true,\"just config\"]" &&
  config_of busybox | jq ".history | length" >n0 &&
  config_of cfgonly | jq ".history | length" >n1 && test $(cat n1) = $(($(cat n0) + 1))
'

test_expect_success '--timestamp: the same content commits to the same image id' '
  keel commit -q --timestamp 0 wc ts1 >id1 && sleep 1 &&
  keel run-in wc sh -c "touch /hl/a /own/f" &&
  keel commit -q --timestamp 0 wc ts2 >id2 &&
  assert_streq "$(cat id1)" "$(cat id2)" &&
  config_of ts1 | jq -r .created >c && assert_streq "$(cat c)" 1970-01-01T00:00:00Z
'

test_expect_success '--compression-format zstd: a zstd layer that runs' '
  keel commit -q --compression-format zstd wc z >/dev/null &&
  manifest_of z | jq -r ".layers[-1].mediaType" >mt &&
  assert_streq "$(cat mt)" application/vnd.oci.image.layer.v1.tar+zstd &&
  keel run --rm $N z ls /usr >out && assert_streq "$(cat out)" only
'

test_expect_success 'commit of an ordinary container: its config, --change, -m, -a, paused' '
  keel run -d $N --name svc -e FROM_RUN=1 busybox sh -c "echo made >/made; sleep 60" >/dev/null &&
  for i in $(seq 50); do keel exec svc test -e /made && break; sleep 0.1; done &&
  keel commit -q -a "A. Author" -m "from svc" -c "CMD [\"cat\", \"/made\"]" -c "EXPOSE 7000" \
    -c "ENV CHANGED=yes" svc svcimg >/dev/null &&
  keel ps >ps && assert_file_has_content ps " svc$" &&
  keel run --rm $N svcimg >out && assert_streq "$(cat out)" made &&
  keel image inspect svcimg | jq -c ".[0].Config | [.Env, .ExposedPorts]" >cfg &&
  assert_file_has_content cfg "FROM_RUN=1" && assert_file_has_content cfg "CHANGED=yes" &&
  assert_file_has_content cfg "7000/tcp" &&
  config_of svcimg | jq -c "[.author, .history[-1].comment]" >a &&
  assert_streq "$(cat a)" "[\"A. Author\",\"from svc\"]" &&
  keel rm -f svc >/dev/null
'

test_expect_success 'keel commit of a stopped container; --pause=false on a running one' '
  keel run $N --name stopped busybox sh -c "echo s >/s" &&
  keel commit -q stopped st >/dev/null && keel run --rm $N st cat /s >out &&
  assert_streq "$(cat out)" s &&
  keel run -d $N --name live busybox sleep 60 >/dev/null &&
  keel commit -q --pause=false live liveimg >/dev/null &&
  keel inspect --format "{{.State.Status}}" live >st && assert_streq "$(cat st)" running &&
  keel rm -f live stopped >/dev/null
'

registry_start plain
R=$REGISTRY
# a private podman (as t0160): own storage, keel-runtime, the ulimits
# this machine allows, a runroot under 50 characters
podman_conf "$TEST_TMP/containers.conf"
export CONTAINERS_CONF=$TEST_TMP/containers.conf
PM_RUN=$(mktemp -d /tmp/kb.XXXXXX)
pm() {
  podman --root "$TEST_TMP/podman" --runroot "$PM_RUN" --storage-driver vfs \
    --runtime "$KEEL_RUNTIME" "$@"
}
test_cleanup "pm system reset -f; rm -rf $PM_RUN"

test_expect_success 'the committed image pushes; skopeo and podman pull it and podman runs it' '
  keel push -q --tls-verify=false rt $R/built/rt:1 &&
  skopeo inspect --tls-verify=false docker://$R/built/rt:1 >sk &&
  jq -r ".Layers | length" sk >n && test "$(cat n)" = "$(nlayers rt)" &&
  pm pull -q --tls-verify=false $R/built/rt:1 >pid &&
  assert_streq "$(cat pid)" "$(keel image inspect rt | jq -r ".[0].Id")" &&
  pm run --rm $R/built/rt:1 sh -c "ls /usr; test ! -e /bin/cat && echo nocat" >out &&
  assert_streq "$(cat out)" "only
nocat"
'

test_done
