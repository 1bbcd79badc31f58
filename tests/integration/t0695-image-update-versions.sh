#!/bin/bash
# The signed update repo the host VM tests serve (tests/vm/make-versions.sh),
# checked with the ostree CLI as a peer client on loopback: every state
# verifies against the key the image ships (commit and summary signatures),
# pulls through its static delta, v2 differs from v1 by exactly one Debian
# package (files, dpkg status entry, package list, os-release), and the
# wrongly signed commit is refused.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/webserver.sh"
test_require_root
ostree --repo="$KEEL_BUILD/repo" rev-parse keel/x86_64/server >/dev/null 2>&1 ||
  skip_all "no composed commit in $KEEL_BUILD/repo (make compose)"

test_expect_success 'make-versions.sh derives the versions' '
  "$TEST_SRCDIR/tests/vm/make-versions.sh" &&
  test "$(wc -l <"$KEEL_BUILD/upgrade/versions")" = 5
'
U=$KEEL_BUILD/upgrade
R=$U/repo
rev() { ostree --repo="$R" rev-parse "test/$1"; }
webserver_start "$U/serve"
# One client repo holding v1 (converting the image once is the slow part);
# point STATE [FROM]: its ref keel:... at FROM (v1), its remote at STATE.
ostree --repo="$TEST_TMP/c" init --mode=bare-user
ostree --repo="$TEST_TMP/c" pull-local "$R" "$(rev v1)" >/dev/null
ostree --repo="$KEEL_BUILD/repo" cat keel/x86_64/server /usr/share/keel/keys/keel.gpg >"$TEST_TMP/key.gpg"
point() {
  local from=${2:-v1}
  ostree --repo="$TEST_TMP/c" refs --delete keel:keel/x86_64/server 2>/dev/null
  ostree --repo="$TEST_TMP/c" refs --create=keel:keel/x86_64/server "$(rev "$from")" &&
    { ostree --repo="$TEST_TMP/c" remote delete keel 2>/dev/null || true; } &&
    ostree --repo="$TEST_TMP/c" remote add --set=gpg-verify=true --set=gpg-verify-summary=true \
      --set=gpgkeypath="$TEST_TMP/key.gpg" keel "http://127.0.0.1:$WEB_PORT/$1/repo"
}

for s in v2:v1 v3:v1 v4:v2 v5:v4; do
  test_expect_success "${s%:*}: signed commit and summary, pulled through its delta from ${s#*:}" '
    s='"$s"' &&
    point "${s%:*}" "${s#*:}" &&
    from=$(wc -l <"$WEB_LOG") &&
    ostree --repo="$TEST_TMP/c" pull keel keel/x86_64/server &&
    assert_streq "$(ostree --repo="$TEST_TMP/c" rev-parse keel:keel/x86_64/server)" "$(rev "${s%:*}")" &&
    tail -n +$((from + 1)) "$WEB_LOG" | grep -q "/deltas/.*/superblock"
  '
done

test_expect_success 'a commit signed by another key is refused' '
  point wrong &&
  test_must_fail ostree --repo="$TEST_TMP/c" pull keel keel/x86_64/server 2>err &&
  assert_file_has_content err "public key not found|[Ss]ignature" &&
  assert_streq "$(ostree --repo="$TEST_TMP/c" rev-parse keel:keel/x86_64/server)" "$(rev v1)"
'

test_expect_success 'v2 = v1 + one Debian package, as dpkg would have installed it' '
  ostree --repo="$R" diff test/v1 test/v2 >diff &&
  cat diff &&
  assert_file_has_content diff "^A +/usr/bin/busybox$" &&
  assert_file_has_content diff "^M +/usr/share/factory/var/lib/dpkg/status$" &&
  assert_file_has_content diff "^A +/usr/share/factory/var/lib/dpkg/info/busybox-static.list$" &&
  ! grep -v -E "busybox|/usr/lib/os-release$|/dpkg/status(-old)?$|initramfs-tools" diff &&
  ostree --repo="$R" cat test/v2 /usr/share/factory/var/lib/dpkg/status >status &&
  grep -A1 "^Package: busybox-static$" status | grep -q "^Status: install ok installed$" &&
  ostree --repo="$R" show --print-metadata-key=keel.packages test/v2 | grep -q "busybox-static=" &&
  ! ostree --repo="$R" show --print-metadata-key=keel.packages test/v1 | grep -q "busybox-static=" &&
  ostree --repo="$R" cat test/v2 /usr/lib/os-release | grep -q "^VERSION_ID=.*-v2$"
'

test_expect_success 'v3 adds a failing health check, nothing else but os-release' '
  ostree --repo="$R" diff test/v1 test/v3 >diff3 &&
  assert_file_has_content diff3 "^A +/usr/etc/keel/health.d/50-test-fail$" &&
  ! grep -v -E "health.d|/usr/lib/os-release$" diff3
'

test_done
