#!/bin/bash
# host's refusals: each is one line on stderr, a non-zero exit, and the
# deployments untouched: an offline remote, a missing ref, an unsigned
# commit, a commit signed with an unknown key, not enough space (a sysroot
# on a small tmpfs, also pruning an old deployment when that makes room), a
# command that needs root.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/webserver.sh"
. "$(dirname "$0")/../lib/host.sh"
host_test_require

host_world
KEY_NAME=evil host_gpg_key evil
EVIL=$KEY_ID

csums() { host_run status --json | python3 -c 'import json,sys; print(" ".join(x["checksum"] for x in json.load(sys.stdin)["deployments"]))'; }
ids() { host_run status --json | python3 -c 'import json,sys; print(" ".join(x["id"] for x in json.load(sys.stdin)["deployments"]))'; }
one_line() { [ "$(wc -l <"$1")" = 1 ] || { echo "stderr is not one line:" >&2 && cat "$1" >&2 && return 1; }; }
before=$(ids)

test_expect_success 'offline remote (closed port): one line naming the remote' '
  cfg="remote \"keel\".url" &&
  ostree --repo="$SYSROOT/ostree/repo" config set "$cfg" http://127.0.0.1:1/repo &&
  test_must_fail host_run upgrade 2>err; rc=$?
  ostree --repo="$SYSROOT/ostree/repo" config set "$cfg" "$REPO_URL" &&
  [ $rc = 0 ] &&
  one_line err &&
  assert_file_has_content err "^host upgrade: cannot reach remote .keel. at http://127.0.0.1:1/repo" &&
  assert_streq "$(ids)" "$before"
'

test_expect_success 'offline remote: --check fails too (not "no update")' '
  ostree --repo="$SYSROOT/ostree/repo" config set "remote \"keel\".url" http://127.0.0.1:1/repo &&
  rc=0 && host_run upgrade --check 2>err || rc=$?
  ostree --repo="$SYSROOT/ostree/repo" config set "remote \"keel\".url" "$REPO_URL" &&
  assert_streq "$rc" 1 &&
  assert_file_has_content err "cannot reach remote"
'

test_expect_success 'missing ref: one line naming the ref' '
  test_must_fail host_run rebase keel:keel/x86_64/nosuch 2>err &&
  one_line err &&
  assert_file_has_content err "remote .keel. has no ref .keel/x86_64/nosuch." &&
  assert_streq "$(ids)" "$before"
'

test_expect_success 'unknown remote: one line' '
  test_must_fail host_run rebase elsewhere:keel/x86_64/server 2>err &&
  one_line err &&
  assert_file_has_content err "no remote .elsewhere. is configured"
'

test_expect_success 'unsigned commit: refused, nothing fetched or deployed' '
  c2=$(host_commit 2) &&
  test_must_fail host_run upgrade 2>err &&
  one_line err &&
  assert_file_has_content err "refusing the commit of .keel:keel/x86_64/server.: it is not signed by a trusted key" &&
  assert_streq "$(ids)" "$before" &&
  ! ostree --repo="$SYSROOT/ostree/repo" ls "$c2" / >/dev/null 2>&1
'

test_expect_success 'commit signed with an unknown key: refused, nothing deployed' '
  c3=$(KEY_NAME=evil host_commit 3 "$EVIL") &&
  test_must_fail host_run upgrade 2>err &&
  one_line err &&
  assert_file_has_content err "not signed by a trusted key" &&
  test_must_fail host_run upgrade --check 2>err &&
  assert_file_has_content err "not signed by a trusted key" &&
  assert_streq "$(ids)" "$before"
'

test_expect_success 'a good commit after the bad ones upgrades fine' '
  c4=$(KEY_NAME=good host_commit 4 "$GOOD") &&
  host_run upgrade >out &&
  assert_file_has_content out "version 4" &&
  host_run status --json >st.json &&
  assert_streq "$(json_get st.json "d[\"deployments\"][0][\"checksum\"]")" "$c4"
'

test_expect_success 'a command that needs root says so, as another user' '
  command -v setpriv >/dev/null &&
  chmod 755 "$TEST_TMP" &&
  test_must_fail setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$HOST_BIN" --sysroot "$SYSROOT" upgrade 2>err &&
  one_line err &&
  assert_file_has_content err "^host upgrade: needs root" &&
  test_must_fail setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$HOST_BIN" --sysroot "$SYSROOT" rollback 2>err &&
  assert_file_has_content err "^host rollback: needs root"
'

test_expect_success 'bad usage: unknown verb, unknown option, extra argument' '
  test_must_fail host_run frobnicate 2>err && one_line err &&
  assert_file_has_content err "unknown verb .frobnicate." &&
  test_must_fail host_run upgrade --bogus 2>err && one_line err &&
  test_must_fail host_run rollback extra 2>err && one_line err &&
  assert_file_has_content err "unexpected argument .extra."
'

test_expect_success 'a broken host.conf is one line naming the file and line' '
  printf "policy=check\nwindow=25:00-26:00\n" >"$KEEL_HOST_CONF" &&
  test_must_fail host_run auto-update 2>err &&
  rm -f "$KEEL_HOST_CONF" &&
  one_line err &&
  assert_file_has_content err "host.conf: line 2: bad window"
'

# --- free space: a sysroot on a 96 MiB tmpfs, commits of 30 MiB each -------
SMALL=$TEST_TMP/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=96m keel-host-test "$SMALL"
test_cleanup "umount -l '$SMALL'"
say "filling the small sysroot"
b1=$(KEY_NAME=good host_commit 11 "$GOOD" 30)
SYSROOT=$SMALL/sysroot host_sysroot_init "$TEST_TMP/good.asc"
SYSROOT=$SMALL/sysroot
b2=$(KEY_NAME=good host_commit 12 "$GOOD" 30)
host_run upgrade >/dev/null
say "small sysroot: $(df -m "$SMALL" | awk 'NR == 2 { print $4 }') MiB free, two deployments"

b3=$(KEY_NAME=good host_commit 13 "$GOOD" 30)
test_expect_success 'not enough space: an old deployment is pruned to make room' '
  host_run upgrade >out &&
  assert_file_has_content out "removing old deployment $b1.0 to make room" &&
  assert_streq "$(csums)" "$b3 $b2"
'

test_expect_success 'not enough space even after pruning: refused, one line, nothing changed' '
  b4=$(KEY_NAME=good host_commit 14 "$GOOD" 80) &&
  test_must_fail host_run upgrade >out 2>err &&
  one_line err &&
  assert_file_has_content err "^host upgrade: not enough space on the root filesystem: the update needs about [0-9.]+ MiB, .* is free \(removing the 1 old deployment would free only" &&
  assert_not_file_has_content out "removing" &&
  ! ostree --repo="$SYSROOT/ostree/repo" ls "$b4" / >/dev/null 2>&1 &&
  assert_streq "$(csums)" "$b3 $b2"
'

test_done
