#!/bin/bash
# registries.conf on the pull path: mirrors tried in order before the
# location (a mirror that is down falls through), pull-from-mirror =
# "digest-only", a prefix rewritten to another location, blocked prefixes
# refused, and push going to the name as written, never to a mirror.
# Two loopback registries: MAIN (the location) and MIRROR, whose
# lib/both:latest is a different image from MAIN's, so the image id tells
# which one served a pull.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"
test_require_root

push_all() {
  local spec
  for spec in "$@"; do
    # shellcheck disable=SC2086
    registry_push_fixture $spec >>"$TEST_TMP/push.log" 2>&1 || {
      echo "Bail out! cannot push $spec" && cat "$TEST_TMP/push.log" && exit 1
    }
  done
}
registry_start plain
MAIN=$REGISTRY
push_all "busybox lib/only-main" "layers lib/both" "busybox lib/bb"
registry_start plain
MIRROR=$REGISTRY
push_all "busybox lib/only-mirror" "busybox lib/both"
# A port nobody listens on: a mirror that is down.
DOWN=127.0.0.1:$(registry_free_port)
export CONTAINERS_REGISTRIES_CONF=$TEST_TMP/registries.conf
bb_digest=$(cat "$(fixture_dir busybox)/oci.digest")

# conf MIRROR... : [[registry]] for MAIN/lib with these mirrors (insecure).
conf() {
  {
    printf '[[registry]]\nlocation = "%s/lib"\ninsecure = true\n' "$MAIN"
    for m in "$@"; do printf '[[registry.mirror]]\nlocation = "%s/lib"\ninsecure = true\n' "$m"; done
  } >"$CONTAINERS_REGISTRIES_CONF"
}
kp() { keel pull "$@"; }

test_expect_success 'setup: the image ids of the two fixtures' '
  conf && kp $MAIN/lib/bb >"$TEST_TMP/bb.id" && kp $MAIN/lib/both >"$TEST_TMP/layers.id" &&
  test -s "$TEST_TMP/bb.id" && ! cmp -s "$TEST_TMP/bb.id" "$TEST_TMP/layers.id"
'
bb_id() { cat "$TEST_TMP/bb.id"; }
layers_id() { cat "$TEST_TMP/layers.id"; }

test_expect_success 'a mirror that has the image serves it; the store keeps the name asked for' '
  rm -rf "$KEEL_STORE" && conf $MIRROR &&
  test "$(kp $MAIN/lib/only-mirror 2>err)" = "$(bb_id)" &&
  assert_file_has_content err "^Trying to pull $MIRROR/lib/only-mirror:latest" &&
  keel images --format json >imgs && jq -e --arg n "$MAIN/lib/only-mirror:latest" \
    "[.[] | .Names[]?] | index(\$n) != null" imgs &&
  test "$(kp $MAIN/lib/both 2>/dev/null)" = "$(bb_id)" && keel system check
'

test_expect_success 'a mirror that is down falls through to the next mirror, then the location' '
  rm -rf "$KEEL_STORE" && conf $DOWN $MIRROR &&
  test "$(kp $MAIN/lib/only-mirror 2>err)" = "$(bb_id)" &&
  grep "^Trying" err >tries && test "$(wc -l <tries)" = 2 &&
  assert_file_has_content tries "$DOWN/lib/only-mirror" && conf $DOWN &&
  test "$(kp $MAIN/lib/only-main 2>err)" = "$(bb_id)" &&
  assert_file_has_content err "^Trying to pull $MAIN/lib/only-main:latest"
'

test_expect_success 'every source failing: one line naming the location and the mirrors' '
  rm -rf "$KEEL_STORE" && conf $DOWN $MIRROR && rc=0 && kp $MAIN/lib/nowhere 2>err || rc=$?
  test $rc = 125 && grep -v "^Trying" err >e1 && test "$(wc -l <e1)" = 1 &&
  assert_file_has_content e1 "$MAIN/lib/nowhere.*mirrors failed too: $DOWN/lib/nowhere.*$MIRROR/lib/nowhere" &&
  test -z "$(keel images -q)"
'

test_expect_success 'pull-from-mirror = "digest-only": tags from the location, digests from the mirror' '
  rm -rf "$KEEL_STORE" && conf $MIRROR &&
  printf "pull-from-mirror = \"digest-only\"\n" >>"$CONTAINERS_REGISTRIES_CONF" &&
  test "$(kp $MAIN/lib/both 2>/dev/null)" = "$(layers_id)" &&
  test "$(kp $MAIN/lib/both@$bb_digest 2>err)" = "$(bb_id)" &&
  assert_file_has_content err "^Trying to pull $MIRROR/lib/both@$bb_digest"
'

test_expect_success 'a prefix rewritten to another location; the name stays as asked' '
  rm -rf "$KEEL_STORE" &&
  printf "[[registry]]\nprefix = \"keel.example/team\"\nlocation = \"%s/lib\"\ninsecure = true\n" \
    "$MAIN" >"$CONTAINERS_REGISTRIES_CONF" &&
  test "$(kp keel.example/team/only-main 2>err)" = "$(bb_id)" &&
  assert_file_has_content err "^Trying to pull $MAIN/lib/only-main:latest" &&
  keel image inspect keel.example/team/only-main:latest >/dev/null
'

test_expect_success 'a blocked prefix is refused with one line, other names still pull' '
  rm -rf "$KEEL_STORE" && conf &&
  printf "[[registry]]\nlocation = \"%s/lib/only-main\"\nblocked = true\n" "$MAIN" \
    >>"$CONTAINERS_REGISTRIES_CONF" &&
  rc=0 && kp $MAIN/lib/only-main 2>err || rc=$?
  test $rc = 125 && test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "$MAIN/lib/only-main:latest.*blocked by registries.conf" &&
  test -z "$(keel images -q)" && test "$(kp $MAIN/lib/bb 2>/dev/null)" = "$(bb_id)"
'

test_expect_success 'push goes to the name as written, never to a mirror' '
  conf $MIRROR && keel tag $MAIN/lib/bb $MAIN/lib/pushed &&
  keel push --quiet $MAIN/lib/pushed &&
  skopeo inspect --raw --tls-verify=false docker://$MAIN/lib/pushed >/dev/null &&
  test_must_fail skopeo inspect --raw --tls-verify=false docker://$MIRROR/lib/pushed 2>/dev/null
'

test_done
