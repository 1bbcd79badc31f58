#!/bin/bash
# The same scripted build through buildah (from, run, copy, config,
# commit) and through keel's verbs: the committed images hold the same
# files with the same owners, modes and types, and the same config
# fields, modulo timestamps, buildah's own version label, and the empty
# mount points buildah's run leaves behind (/etc/hosts, /etc/hostname,
# /etc/resolv.conf, /run: keel removes the ones it created), and the
# spelling of a port given without a protocol (buildah config --port 8080
# records "8080", keel records "8080/tcp" as docker build's EXPOSE does).
# buildah runs with --isolation chroot and a private vfs store.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"
command -v buildah >/dev/null || { echo "buildah missing: run make deps" >&2; exit 1; }

BH_RUN=$(mktemp -d /tmp/kbh.XXXXXX)
bh() { buildah --root "$TEST_TMP/buildah" --runroot "$BH_RUN" --storage-driver vfs "$@"; }
test_cleanup "bh rm -a; bh rmi -a -f; rm -rf $BH_RUN"

# The steps, for either tool: $1 is the tool (bh or keel), $2 its run verb.
steps() {
  local t=$1 run=$2 c
  c=$($t from --name "$t-wc" docker.io/library/busybox:latest) &&
    $t $run "$c" -- sh -c "mkdir -p /app/made && echo hi >/app/made/f && rm /bin/cat /etc/group &&
      rm -rf /usr && mkdir -p /usr/x && ln /app/made/f /app/made/hl && chown 5:6 /app/made/f &&
      ln -s made/f /app/sym" &&
    $t copy "$c" ctx/tree /app/tree/ &&
    $t copy --chown 1:2 --chmod 640 "$c" ctx/one /file &&
    $t copy "$c" ctx/one ctx/two /multi/ &&
    $t config --cmd '["sh","-c","echo hello"]' --entrypoint '["/bin/env"]' --env A=1 --env B=two \
      --workingdir /app --user 1000:1000 --label l1=v1 --label l2=v2 --port 8080 --port 53/udp \
      --volume /data --stop-signal SIGTERM "$c" &&
    $t commit -q "$c" "localhost/cmp-$t:latest" >/dev/null
}

# Every entry of a rootfs: path, owner, mode, type (and link target).
listing() {
  (cd "$1" && find . -mindepth 1 -printf "%p %U:%G %m %y %l\n") |
    grep -vE "^\./(etc/hosts|etc/hostname|etc/resolv\.conf|run) " | LC_ALL=C sort
}

test_expect_success 'setup: busybox in both stores, a small build context' '
  ctr_setup &&
  bh pull -q "oci:$(fixture_dir busybox)/oci" >bid &&
  bh tag "$(cat bid)" docker.io/library/busybox:latest &&
  mkdir -p ctx/tree/sub && echo t >ctx/tree/t && echo s >ctx/tree/sub/s &&
  chmod 700 ctx/tree/sub && echo one >ctx/one && echo two >ctx/two
'

test_expect_success 'the steps succeed with buildah and with keel' '
  steps bh "run --isolation chroot" && steps keel run-in
'

test_expect_success 'the same files, owners, modes and types' '
  bc=$(bh from localhost/cmp-bh:latest) && broot=$(bh mount "$bc") &&
  keel from --name check localhost/cmp-keel:latest >/dev/null && kroot=$(keel mount check) &&
  listing "$broot" >bh.list && listing "$kroot" >keel.list &&
  diff -u bh.list keel.list &&
  assert_file_has_content keel.list "^\./app/made/f 5:6 644 f" &&
  assert_file_has_content keel.list "^\./file 1:2 640 f" &&
  assert_file_has_content keel.list "^\./usr/x 0:0 755 d" &&
  assert_not_file_has_content keel.list "^\./bin/cat "
'

test_expect_success 'the same config fields' '
  bh inspect --type image localhost/cmp-bh:latest |
    jq -S ".OCIv1.config | del(.Labels[\"io.buildah.version\"])
      | .ExposedPorts |= with_entries(if (.key | contains(\"/\")) then . else .key += \"/tcp\" end)" >bh.cfg &&
  keel image inspect localhost/cmp-keel:latest | jq -S ".[0].Config" >keel.cfg &&
  diff -u bh.cfg keel.cfg &&
  assert_file_has_content keel.cfg "\"StopSignal\": \"SIGTERM\""
'

test_expect_success 'the same layer count and history length' '
  bh inspect --type image localhost/cmp-bh:latest | jq "[(.OCIv1.rootfs.diff_ids | length), (.OCIv1.history | length)]" -c >bh.n &&
  jq -c "[(.rootfs.diff_ids | length), (.history | length)]" \
    "$KEEL_STORE/blobs/sha256/$(keel image inspect localhost/cmp-keel:latest | jq -r ".[0].Id")" >keel.n &&
  assert_streq "$(cat bh.n)" "$(cat keel.n)"
'

test_done
