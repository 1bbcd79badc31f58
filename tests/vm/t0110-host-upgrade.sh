#!/bin/bash
# host upgrade and rollback on one machine over three boots, against the
# signed update repo of tests/vm/make-versions.sh served over HTTP:
#
#   boot 1 (v1)  a commit signed by a wrong key is refused, nothing deployed;
#                host upgrade stages v2; /etc is edited after staging
#   boot 2 (v2)  v2 booted with its added package; the /etc edits survived
#                the finalization at shutdown; host rollback
#   boot 3 (v1)  v1 booted again; automatic updates paused by the rollback
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib.sh"
vm_require
. "$(dirname "$0")/upgrade-lib.sh"
upgrade_setup

guest_script "$TEST_TMP/boot1.sh" <<'EOF'
report_state
report_status_json status-before
# (c) a commit signed by a key the image does not trust
set_remote "$URL/wrong/repo"
host upgrade >/run/keel-vmtest/wrong.out 2>&1; r wrong-rc $?
r wrong-err "$(tail -n 1 /run/keel-vmtest/wrong.out | tr ' ' _)"
r wrong-deployments "$(ls "$DEPLOY" | grep -v '\.origin$' | wc -l)"
r wrong-staged "$([ -e /run/ostree/staged-deployment ] && echo yes || echo no)"
r wrong-object "$([ -e "/ostree/repo/objects/${WRONG:0:2}/${WRONG:2}.commit" ] && echo yes || echo no)"
# (a) the real update
set_remote "$URL/v2/repo"
host upgrade --check >/dev/null 2>&1; r check-rc $?
host upgrade >/run/keel-vmtest/up.out 2>&1; r upgrade-rc $?
sed 's/^/KEEL-UPGRADE /' /run/keel-vmtest/up.out
r staged "$([ -e /run/ostree/staged-deployment ] && echo yes || echo no)"
report_status_json status-staged
# (b) /etc edited after staging: a new file and a changed one
echo "written after staging" >/etc/keel/after-staging
echo "# edited after staging" >>/etc/keel/host.conf
sync
EOF

guest_script "$TEST_TMP/boot2.sh" <<'EOF'
report_state
r etc-new "$(cat /etc/keel/after-staging 2>/dev/null | tr ' ' _)"
r etc-changed "$(grep -c '^# edited after staging$' /etc/keel/host.conf)"
r busybox "$(busybox echo works)"
r dpkg "$(dpkg-query -W -f '${Status}' busybox-static | tr ' ' _)"
report_status_json status-v2
host rollback >/run/keel-vmtest/rb.out 2>&1; r rollback-rc $?
sed 's/^/KEEL-ROLLBACK /' /run/keel-vmtest/rb.out
EOF

guest_script "$TEST_TMP/boot3.sh" <<'EOF'
report_state
report_status_json status-v1
EOF

json() { vm_result "$1" "$2" | jq -r "$3"; }

vm_machine m
vm_boot_machine m boot1 "$TEST_TMP/boot1.sh"
test_expect_success 'boot 1: v1 boots, host upgrade runs' '
  vm_wait boot1 "KEEL-VMTEST: exit=" &&
  vm_wait_exit boot1 &&
  assert_boot boot1 v1
'

test_expect_success 'a commit signed by a wrong key is refused, nothing deployed' '
  test "$(vm_result boot1 wrong-rc)" != 0 &&
  vm_result boot1 wrong-err | grep -i -E "sign|gpg|key" &&
  assert_streq "$(vm_result boot1 wrong-deployments)" 1 &&
  assert_streq "$(vm_result boot1 wrong-staged)" no &&
  assert_streq "$(json boot1 status-before ".deployments | length")" 1
'

test_expect_success 'host upgrade --check sees v2, host upgrade stages it' '
  assert_streq "$(vm_result boot1 check-rc)" 0 &&
  assert_streq "$(vm_result boot1 upgrade-rc)" 0 &&
  assert_streq "$(vm_result boot1 staged)" yes &&
  assert_streq "$(json boot1 status-staged ".deployments[0].staged")" true &&
  assert_streq "$(json boot1 status-staged ".deployments[0].checksum")" "$V2"
'

vm_boot_machine m boot2 "$TEST_TMP/boot2.sh"
test_expect_success 'boot 2: v2 is booted, with its added package' '
  vm_wait boot2 "KEEL-VMTEST: exit=" &&
  vm_wait_exit boot2 &&
  assert_boot boot2 v2 &&
  assert_streq "$(vm_result boot2 version)" "$VER_v2" &&
  assert_streq "$(vm_result boot2 busybox)" works &&
  assert_streq "$(vm_result boot2 dpkg)" install_ok_installed
'

test_expect_success '/etc edits made after staging survived into v2' '
  assert_streq "$(vm_result boot2 etc-new)" written_after_staging &&
  assert_streq "$(vm_result boot2 etc-changed)" 1
'

test_expect_success 'host status --json: v2 booted, v1 the rollback' '
  assert_streq "$(json boot2 status-v2 ".deployments[] | select(.booted) | .checksum")" "$V2" &&
  assert_streq "$(json boot2 status-v2 ".deployments[] | select(.rollback) | .checksum")" "$V1" &&
  assert_streq "$(vm_result boot2 rollback-rc)" 0
'

vm_boot_machine m boot3 "$TEST_TMP/boot3.sh"
test_expect_success 'boot 3: host rollback brought v1 back' '
  vm_wait boot3 "KEEL-VMTEST: exit=" &&
  vm_wait_exit boot3 &&
  assert_boot boot3 v1 &&
  assert_streq "$(json boot3 status-v1 ".auto_update.paused")" true
'

say "web: $(wc -l <"$WEB_LOG") requests, $(webserver_bytes) body bytes"
test_done
