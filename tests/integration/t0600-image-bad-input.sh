#!/bin/bash
# image-build refuses bad input with one clear line naming the cause, and
# leaves nothing half-built behind: an unknown variant, an unknown package,
# a missing overlay, a unit no package provides, no free loop device, a
# full disk.  An existing good image survives a failed build untouched.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
for t in mmdebstrap ostree losetup sfdisk; do
  command -v $t >/dev/null || skip_all "no $t (make deps)"
done
IB=$TEST_SRCDIR/image-build
export KEEL_BUILD=$TEST_TMP/build
export KEEL_VARIANTS_DIR=$TEST_TMP/variants
# The unknown-package case reaches apt; reuse the tree's warm cache if any.
export KEEL_APT_CACHE=${KEEL_APT_CACHE:-$TEST_SRCDIR/build/cache/apt}

# variant NAME: a copy of the server variant to break in one place.
variant() {
  mkdir -p "$KEEL_VARIANTS_DIR"
  rm -rf "${KEEL_VARIANTS_DIR:?}/$1"
  cp -r "$IB/variants/server" "$KEEL_VARIANTS_DIR/$1"
}

# one_line FILE REGEX: FILE (stderr) holds exactly one error line, and it
# matches REGEX; the other lines are progress notes ("  HH:MM:SS ...").
one_line() {
  cat "$1" >&2
  test "$(grep -c -v "^  [0-9][0-9]:" "$1")" = 1 && assert_file_has_content "$1" "$2"
}

test_expect_success 'unknown variant' '
  test_must_fail "$IB/compose.sh" no-such-variant 2>err &&
  one_line err "^compose: unknown variant .no-such-variant."
'

test_expect_success 'missing overlay' '
  variant bad-overlay &&
  echo no-such-overlay >>"$KEEL_VARIANTS_DIR/bad-overlay/overlays" &&
  test_must_fail "$IB/compose.sh" bad-overlay 2>err &&
  one_line err "overlay .no-such-overlay. listed in .* does not exist"
'

test_expect_success 'unknown package: one line, no tree, no commit' '
  variant bad-package &&
  echo keel-no-such-package >>"$KEEL_VARIANTS_DIR/bad-package/packages" &&
  test_must_fail "$IB/compose.sh" bad-package 2>err &&
  one_line err "unknown package .keel-no-such-package." &&
  test ! -e "$KEEL_BUILD/compose/bad-package/tree" &&
  ! ostree --repo="$KEEL_BUILD/repo" rev-parse keel/x86_64/bad-package 2>/dev/null
'

# A tiny stand-in commit, enough for disk.sh to get to its loop devices.
mkdir -p "$TEST_TMP/fake/usr/lib/modules/1.0" "$KEEL_BUILD/images"
ostree --repo="$KEEL_BUILD/repo" init --mode=archive
ostree --repo="$KEEL_BUILD/repo" commit --branch=keel/x86_64/server --tree=dir="$TEST_TMP/fake" >/dev/null
echo "a good image" >"$KEEL_BUILD/images/keel-x86_64-server.qcow2"
echo "a good raw image" >"$KEEL_BUILD/images/keel-x86_64-server.raw"
good_sums=$(cd "$KEEL_BUILD/images" && sha256sum keel-x86_64-server.*)
unchanged() {
  assert_streq "$(cd "$KEEL_BUILD/images" && sha256sum keel-x86_64-server.*)" "$good_sums" &&
  test -z "$(ls -A "$KEEL_BUILD/images" | grep -v -x -E "keel-x86_64-server\.(qcow2|raw)")" &&
  test -z "$(losetup -j "$KEEL_BUILD/images/.keel-x86_64-server.raw.tmp" 2>/dev/null)"
}

test_expect_success 'no free loop device: one line, good image kept' '
  mkdir -p "$TEST_TMP/bin" &&
  printf "#!/bin/sh\necho \"losetup: cannot find an unused loop device\" >&2\nexit 1\n" >"$TEST_TMP/bin/losetup" &&
  chmod +x "$TEST_TMP/bin/losetup" &&
  test_must_fail env PATH="$TEST_TMP/bin:$PATH" KEEL_VARIANTS_DIR="$IB/variants" "$IB/disk.sh" server 2>err &&
  one_line err "^image: no free loop device" &&
  unchanged
'

# A 48 MB filesystem stands in for a full disk.
mkdir -p "$TEST_TMP/small"
mount -t tmpfs -o size=48m keel-test-small "$TEST_TMP/small"
test_cleanup "umount '$TEST_TMP/small'"

test_expect_success 'full disk: one line, good image kept' '
  cp -a "$KEEL_BUILD/." "$TEST_TMP/small/" &&
  test_must_fail env KEEL_BUILD="$TEST_TMP/small" KEEL_VARIANTS_DIR="$IB/variants" "$IB/disk.sh" server 2>err &&
  one_line err "^image: no space left: .* needs [0-9]+ MB" &&
  test_must_fail env KEEL_BUILD="$TEST_TMP/small" KEEL_VARIANTS_DIR="$IB/variants" "$IB/compose.sh" server 2>err2 &&
  one_line err2 "^compose: no space left" &&
  KEEL_BUILD=$TEST_TMP/small unchanged
'

test_done
