#!/bin/bash
# host on a throwaway sysroot fed from a signed archive repo on loopback:
# status (human and JSON) over several deployments, upgrade --check and
# its exit codes, upgrade, deploy VERSION, rollback ordering, kargs,
# pin / unpin / cleanup.  A sysroot that is not booted is deployed to
# directly (staging needs a booted host: the VM tests prove that path).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/webserver.sh"
. "$(dirname "$0")/../lib/host.sh"
host_test_require

host_world

dep() { # N FIELD: a field of deployment N from status --json
  host_run status --json >"$TEST_TMP/st.json" &&
    json_get "$TEST_TMP/st.json" "d['deployments'][$1]['$2']"
}
ndeps() {
  host_run status --json >"$TEST_TMP/st.json" &&
    json_get "$TEST_TMP/st.json" "len(d['deployments'])"
}

test_expect_success 'status shows the one deployment, its version and origin' '
  host_run status >out &&
  assert_file_has_content out "0: keel:keel/x86_64/server" &&
  assert_file_has_content out "Version: 1 \(2026-01-01T00:00:01Z\)" &&
  assert_file_has_content out "Commit: $c1" &&
  assert_streq "$(ndeps)" 1 &&
  assert_streq "$(dep 0 checksum)" "$c1" &&
  assert_streq "$(dep 0 version)" 1 &&
  assert_streq "$(dep 0 origin)" "keel:keel/x86_64/server" &&
  assert_streq "$(dep 0 default)" true &&
  assert_streq "$(dep 0 booted)" false
'

test_expect_success 'upgrade --check without an update exits 77 and changes nothing' '
  rc=0 && host_run upgrade --check >out || rc=$? &&
  assert_streq "$rc" 77 &&
  assert_file_has_content out "no update" &&
  assert_streq "$(ndeps)" 1
'

c2=$(KEY_NAME=good host_commit 2 "$GOOD")
test_expect_success 'upgrade --check sees version 2 (exit 0) and deploys nothing' '
  host_run upgrade --check >out &&
  assert_file_has_content out "update available: version 2" &&
  assert_streq "$(ndeps)" 1
'

test_expect_success 'upgrade --download-only fetches but does not deploy' '
  host_run upgrade --download-only >out &&
  assert_file_has_content out "downloaded: version 2" &&
  ostree --repo="$SYSROOT/ostree/repo" ls "$c2" /usr/bin/keel-version >/dev/null &&
  assert_streq "$(ndeps)" 1
'

test_expect_success 'upgrade deploys version 2 first, version 1 becomes the rollback' '
  host_run upgrade >out &&
  assert_file_has_content out "fetched keel:keel/x86_64/server" &&
  assert_file_has_content out "deployed: version 2" &&
  assert_streq "$(ndeps)" 2 &&
  assert_streq "$(dep 0 checksum)" "$c2" &&
  assert_streq "$(dep 1 checksum)" "$c1" &&
  assert_streq "$(dep 1 rollback)" true &&
  ls "$SYSROOT"/ostree/deploy/keel/deploy/ | grep -q "^$c2\.0$" &&
  assert_file_has_content "$SYSROOT"/boot/loader/entries/ostree-2-keel.conf "^version 2"
'

test_expect_success 'a second upgrade finds nothing new' '
  host_run upgrade >out &&
  assert_file_has_content out "no update" &&
  assert_streq "$(ndeps)" 2
'

test_expect_success 'rollback puts version 1 first and pauses automatic updates' '
  host_run rollback >out &&
  assert_file_has_content out "rolled back" &&
  assert_streq "$(dep 0 checksum)" "$c1" &&
  assert_streq "$(dep 1 checksum)" "$c2" &&
  assert_streq "$(json_get st.json "d[\"auto_update\"][\"paused\"]")" true &&
  assert_streq "$(json_get st.json "d[\"last_rollback\"][\"kind\"]")" user &&
  host_run status >out &&
  assert_file_has_content out "PAUSED since .*rollback requested by the user"
'

test_expect_success 'rollback again swaps back; resume lifts the pause' '
  host_run rollback &&
  assert_streq "$(dep 0 checksum)" "$c2" &&
  host_run auto-update resume &&
  host_run status --json >st.json &&
  assert_streq "$(json_get st.json "d[\"auto_update\"][\"paused\"]")" false
'

test_expect_success 'kargs prints the arguments without ostree=' '
  host_run kargs >out &&
  assert_streq "$(cat out)" "root=LABEL=keel-root console=ttyS0"
'

test_expect_success 'kargs --append/--replace/--delete make a new deployment' '
  host_run kargs --append quiet --append foo=bar >out &&
  assert_file_has_content out "foo=bar" &&
  assert_streq "$(host_run kargs)" "root=LABEL=keel-root console=ttyS0 quiet foo=bar" &&
  assert_streq "$(dep 0 checksum)" "$c2" &&
  assert_streq "$(dep 0 serial)" 1 &&
  host_run kargs --replace foo=baz --delete quiet &&
  assert_streq "$(host_run kargs)" "root=LABEL=keel-root console=ttyS0 foo=baz" &&
  grep -q "^options .*foo=baz" "$SYSROOT"/boot/loader/entries/ostree-2-keel.conf
'

test_expect_success 'kargs refuses a delete of a missing argument, nothing changes' '
  before=$(dep 0 id) &&
  test_must_fail host_run kargs --delete nosuch 2>err &&
  assert_streq "$(wc -l <err)" 1 &&
  assert_file_has_content err "nosuch" &&
  assert_streq "$(dep 0 id)" "$before"
'

c3=$(KEY_NAME=good host_commit 3 "$GOOD")
test_expect_success 'deploy VERSION finds it in the history and pins the origin to it' '
  host_run deploy 1 >out &&
  assert_file_has_content out "version 1" &&
  assert_streq "$(dep 0 checksum)" "$c1" &&
  assert_streq "$(dep 0 override_commit)" "$c1" &&
  assert_streq "$(host_run kargs)" "root=LABEL=keel-root console=ttyS0 foo=baz"
'

test_expect_success 'deploy COMMIT by checksum; upgrade then returns to the newest' '
  host_run deploy "$c2" &&
  assert_streq "$(dep 0 checksum)" "$c2" &&
  host_run upgrade >out &&
  assert_file_has_content out "version 3" &&
  assert_streq "$(dep 0 checksum)" "$c3" &&
  assert_streq "$(dep 0 override_commit)" null
'

test_expect_success 'deploy of an unknown version fails with one line' '
  test_must_fail host_run deploy 42 2>err &&
  assert_file_has_content err "no version .42." &&
  assert_streq "$(wc -l <err)" 1
'

test_expect_success 'pin keeps a deployment through cleanup, unpin lets it go' '
  host_run deploy 1 && host_run deploy 2 &&
  n=$(ndeps) &&
  [ "$n" -ge 2 ] &&
  last=$((n - 1)) &&
  host_run pin $last >out &&
  assert_file_has_content out "^pinned" &&
  assert_streq "$(dep $last pinned)" true &&
  pinned_id=$(dep $last id) &&
  host_run cleanup >out &&
  host_run status --json >st.json &&
  json_get st.json "[x[\"id\"] for x in d[\"deployments\"]]" | grep -q "$pinned_id" &&
  idx=$(json_get st.json "[x[\"id\"] for x in d[\"deployments\"]].index(\"$pinned_id\")") &&
  host_run unpin $idx &&
  host_run cleanup >out &&
  assert_file_has_content out "removing deployment $pinned_id" &&
  assert_streq "$(ndeps)" 1
'

test_expect_success 'rebase to another ref of the remote' '
  tree=$TEST_TMP/tree-3 &&
  ostree commit --repo="$SRC_REPO" --branch=keel/x86_64/other --tree=dir="$tree" \
    --add-metadata-string=version=other-1 --gpg-sign="$GOOD" \
    --gpg-homedir="$TEST_TMP/gpg-good" >/dev/null &&
  ostree summary --repo="$SRC_REPO" --update &&
  host_run rebase keel:keel/x86_64/other >out &&
  assert_streq "$(dep 0 origin)" "keel:keel/x86_64/other" &&
  assert_streq "$(dep 0 version)" other-1
'

test_done
