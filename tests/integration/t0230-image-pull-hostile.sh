#!/bin/bash
# Hostile layers (tests/fixtures/hostile-layers.sh): each is refused with a
# line naming the entry and the reason, nothing lands outside the store,
# and the store stays consistent.  Device nodes are the one exception:
# kept inside the layer when keel runs as root in the initial user
# namespace (as rootful podman does), refused elsewhere.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

registry_start plain
fixture_dir hostile >/dev/null || { echo "Bail out! cannot build hostile fixtures" && exit 1; }

expect() {
  case $1 in
    dotdot) echo "path contains '\.\.'" ;;
    absolute) echo "absolute path" ;;
    symlink-through) echo "passes through a symlink" ;;
    hardlink-outside) echo "hardlink .*(absolute path|'\.\.'|not in this layer)" ;;
    whiteout-dotdot) echo "whiteout of '\.' or '\.\.'" ;;
    duplicate) echo "duplicate entry replaces a directory" ;;
    bomb | bomb-zstd | sparse) echo "(decompression bomb|sparse file)" ;;
  esac
}

outside() { find /tmp /etc /root -maxdepth 2 -name 'keel-hostile*' -newer "$TEST_TMP/start" 2>/dev/null; }
touch "$TEST_TMP/start"

for case in dotdot absolute symlink-through hardlink-outside whiteout-dotdot duplicate \
  bomb bomb-zstd sparse; do
  registry_push_fixture "hostile/$case" "hostile-$case" >>"$TEST_TMP/push.log" 2>&1 || {
    echo "Bail out! cannot push hostile/$case" && tail "$TEST_TMP/push.log" && exit 1
  }
  test_expect_success "hostile layer '$case': refused with one clear line, nothing outside" "
    rc=0 && keel pull --tls-verify=false $REGISTRY/hostile-$case >/dev/null 2>err || rc=\$?
    test \$rc = 125 && grep -v '^Trying' err >e1 && test \"\$(wc -l <e1)\" = 1 &&
    assert_file_has_content e1 \"layer .*$(expect $case)\" &&
    test -z \"\$(outside)\" && test -z \"\$(find $KEEL_STORE/tmp $KEEL_STORE/layers -mindepth 1)\" &&
    keel system check
  "
done

# Device nodes: created inside the layer by root in the initial user
# namespace (base images made from debootstrap trees carry /dev/null),
# refused with one line anywhere mknod cannot work.
registry_push_fixture hostile/devices hostile-devices >>"$TEST_TMP/push.log" 2>&1 || {
  echo "Bail out! cannot push hostile/devices" && tail "$TEST_TMP/push.log" && exit 1
}
test_expect_success 'device nodes in a user namespace: refused with one clear line' '
  rm -rf "$KEEL_STORE" && mkdir -p "$KEEL_STORE" && rc=0 &&
  unshare --user --map-root-user "$KEEL" --root "$KEEL_STORE" pull --tls-verify=false \
    $REGISTRY/hostile-devices >/dev/null 2>err || rc=$?
  test $rc = 125 && grep -v "^Trying" err >e1 && test "$(wc -l <e1)" = 1 &&
  assert_file_has_content e1 "layer .*device nodes are not allowed in layers unless keel runs as root in the initial user namespace \((char 1:3|block 8:0)\)" &&
  test -z "$(outside)" && test -z "$(find $KEEL_STORE/tmp $KEEL_STORE/layers -mindepth 1)"
'

test_expect_success 'device nodes as root: created inside the layer, nothing outside' '
  rm -rf "$KEEL_STORE" && keel pull --tls-verify=false $REGISTRY/hostile-devices >/dev/null 2>err &&
  d=$(echo "$KEEL_STORE"/layers/*/diff/dev) && test -d "$d" &&
  test "$(stat -c "%F %t:%T" "$d/keel-hostile-char")" = "character special file 1:3" &&
  test "$(stat -c "%F %t:%T" "$d/keel-hostile-block")" = "block special file 8:0" &&
  test -p "$d/keel-hostile-fifo" && test -z "$(outside)" &&
  test ! -e /dev/keel-hostile-char && keel system check
'

test_expect_success '/etc/passwd untouched' '
  ! grep -q hostile /etc/passwd
'

test_done
