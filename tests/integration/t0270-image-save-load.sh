#!/bin/bash
# keel save / keel load: docker-archive, oci-archive and OCI layout
# directories.  podman loads what keel saved (same image id: the config
# is kept byte for byte); keel loads what skopeo wrote; bad archives get
# one clear line and leave the store as it was.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root
command -v podman >/dev/null || skip_all "podman is not installed (make deps)"

registry_start plain
R=$REGISTRY
registry_push_fixture busybox bb >"$TEST_TMP/push.log" 2>&1 &&
  registry_push_fixture layers layers:latest docker >>"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push fixtures" && cat "$TEST_TMP/push.log" && exit 1
}

# podman wants a runroot under 50 characters
RUNROOT=$(mktemp -d /tmp/kp.XXXXXX)
test_cleanup "rm -rf $RUNROOT"
pod() { podman --root "$TEST_TMP/podman-$1" --runroot "$RUNROOT/$1" --storage-driver vfs "${@:2}"; }
test_cleanup "podman --root $TEST_TMP/podman-d --runroot $RUNROOT/d --storage-driver vfs system reset -f"
test_cleanup "podman --root $TEST_TMP/podman-o --runroot $RUNROOT/o --storage-driver vfs system reset -f"
fresh() { rm -rf "$KEEL_STORE"; }

test_expect_success 'setup: two images in the store' '
  keel pull -q --tls-verify=false $R/bb >bb.id && keel pull -q --tls-verify=false $R/layers >layers.id
'

test_expect_success 'docker-archive: podman load takes it, with the same image id and name' '
  keel save -o d.tar $R/bb $R/layers &&
  tar -tf d.tar >list && assert_file_has_content list "^manifest.json$" &&
  pod d load -i d.tar >out &&
  test "$(pod d image inspect --format "{{.Id}}" $R/bb:latest)" = "$(cat bb.id)" &&
  test "$(pod d image inspect --format "{{.Id}}" $R/layers:latest)" = "$(cat layers.id)"
'

test_expect_success 'oci-archive: podman load takes it, with the same image id' '
  keel save --format oci-archive -o o.tar $R/layers &&
  tar -tf o.tar >list && assert_file_has_content list "^index.json$" &&
  pod o load -i o.tar >out &&
  test "$(pod o image inspect --format "{{.Id}}" $R/layers:latest)" = "$(cat layers.id)"
'

test_expect_success 'keel loads its own saves in all three formats' '
  keel save --format oci-dir -o odir $R/layers &&
  test -f odir/oci-layout && test -f odir/index.json &&
  for a in d.tar o.tar odir; do
    fresh && keel load -i $a >out && assert_file_has_content out "Loaded image: $R/layers" &&
    test "$(keel images -q --no-trunc 2>/dev/null || keel images -q)" != "" &&
    keel image inspect $R/layers:latest | grep -q "$(cat layers.id)" &&
    keel system check >check && assert_file_has_content check " 0 problems" || exit 1
  done
'

test_expect_success 'a loaded image runs the layer checks: whiteouts and links are in overlay form' '
  fresh && keel load -i d.tar >/dev/null &&
  keel push --tls-verify=false $R/layers $R/reloaded 2>err &&
  skopeo copy --quiet --src-tls-verify=false docker://$R/reloaded oci:sk:latest
'

test_expect_success 'keel loads what skopeo wrote as docker-archive and oci-archive' '
  skopeo copy --quiet --src-tls-verify=false docker://$R/layers docker-archive:skd.tar:sk/layers:v1 &&
  skopeo copy --quiet --src-tls-verify=false docker://$R/layers oci-archive:sko.tar:localhost/sk/layers:v2 &&
  fresh && keel load -i skd.tar >out && assert_file_has_content out "sk/layers:v1" &&
  keel image inspect sk/layers:v1 | grep -q "$(cat layers.id)" &&
  keel load -i sko.tar >out && assert_file_has_content out "localhost/sk/layers:v2" &&
  keel system check >check && assert_file_has_content check " 0 problems"
'

# Bad archives: one line, exit 125, nothing recorded, nothing left over.
bad_load() { # ARCHIVE PATTERN
  fresh && keel images -q >/dev/null &&
  rc=0 && keel load -i "$1" 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 && assert_file_has_content err "$2" &&
  test -z "$(keel images -q)" && test -z "$(find "$KEEL_STORE/layers" "$KEEL_STORE/tmp" -mindepth 1)" &&
  keel system check >check && assert_file_has_content check " 0 problems"
}

test_expect_success 'bad: a truncated archive' '
  head -c $(($(stat -c %s d.tar) / 2)) d.tar >trunc.tar && bad_load trunc.tar "[Tt]runcated|not a valid tar|ends early"
'

test_expect_success 'bad: a blob whose bytes do not match its digest' '
  cp -r odir bad1 && cfg=$(jq -r ".manifests[0].digest" bad1/index.json) &&
  f=bad1/blobs/sha256/$(jq -r .config.digest "bad1/blobs/sha256/${cfg#sha256:}" | cut -d: -f2) &&
  sed -i "s/amd64/arm64/" "$f" && bad_load bad1 "has digest"
'

test_expect_success 'bad: malformed manifest.json and index.json' '
  mkdir -p bad2 && echo "{\"not\":" >bad2/manifest.json && tar -C bad2 -cf bad2.tar manifest.json &&
  bad_load bad2.tar "manifest.json" &&
  mkdir -p bad3 && echo "[{\"Layers\":[]}]" >bad3/manifest.json && bad_load bad3 "lacks Config" &&
  cp -r odir bad4 && echo "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:zz\"}]}" >bad4/index.json &&
  bad_load bad4 "index.json"
'

test_expect_success 'bad: path traversal in tar names is refused, nothing written outside' '
  mkdir -p evil && echo x >evil/f &&
  tar -C evil -cPf trav.tar --transform "s|^f$|../keel-escape-test|" f &&
  tar -tf trav.tar | grep -q "^\.\./keel-escape-test" &&
  bad_load trav.tar "\.\." && test ! -e "$KEEL_STORE/../keel-escape-test" && test ! -e ../keel-escape-test &&
  tar -C evil -cf abs.tar --absolute-names --transform "s|^f$|/tmp/keel-escape-abs|" f &&
  bad_load abs.tar "absolute" && test ! -e /tmp/keel-escape-abs
'

test_expect_success 'bad: a layer path in manifest.json that leaves the archive' '
  mkdir -p bad5 && cp "$(ls d.tar >/dev/null && echo odir/oci-layout)" bad5/ &&
  cfgj=$(tar -xOf d.tar manifest.json | jq -r ".[0].Config") && tar -C bad5 -xf d.tar "$cfgj" &&
  jq -n --arg c "$cfgj" "[{Config:\$c,Layers:[\"../../../../etc/passwd\"]}]" >bad5/manifest.json &&
  bad_load bad5 "cannot open|diff id|not a valid tar|layers"
'

test_done
