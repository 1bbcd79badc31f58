#!/bin/bash
# A version whose health check fails is rolled back by the bootloader on
# its own, and host status --json says what happened:
#
#   boot 1 (v1)  boot-tries=1 in /etc/keel/host.conf; host upgrade stages v3,
#                whose /etc/keel/health.d/50-test-fail exits 1
#   boot 2 (v3)  GRUB counts the try; keel-health fails and reboots
#   boot 3 (v1)  GRUB fell back by itself; host status reports the rollback
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib.sh"
vm_require
. "$(dirname "$0")/upgrade-lib.sh"
upgrade_setup

guest_script "$TEST_TMP/boot1.sh" <<'EOF'
report_state
echo "boot-tries=1" >>/etc/keel/host.conf
set_remote "$URL/v3/repo"
host upgrade >/run/keel-vmtest/up.out 2>&1; r upgrade-rc $?
sed 's/^/KEEL-UPGRADE /' /run/keel-vmtest/up.out
EOF

# On v3 the health check reboots the machine (maybe before this script is
# done): it must not power it off first, and the test does not depend on it.
guest_script "$TEST_TMP/boot2.sh" <<'EOF'
touch /run/keel-vmtest/no-poweroff
r health-d "$(ls /etc/keel/health.d | paste -sd, -)"
EOF

guest_script "$TEST_TMP/boot3.sh" <<'EOF'
report_state
report_status_json status
EOF

json() { vm_result "$1" "$2" | jq -r "$3"; }

vm_machine m
vm_boot_machine m boot1 "$TEST_TMP/boot1.sh"
test_expect_success 'boot 1: v1 stages v3' '
  vm_wait boot1 "KEEL-VMTEST: exit=" &&
  vm_wait_exit boot1 &&
  assert_boot boot1 v1 &&
  assert_streq "$(vm_result boot1 upgrade-rc)" 0
'

vm_boot_machine m boot2 "$TEST_TMP/boot2.sh"
test_expect_success 'boot 2: v3 boots, fails its health check and reboots by itself' '
  vm_wait boot2 "KEEL-HEALTH: failed" &&
  vm_wait_exit boot2 &&
  grep -a -q "KEEL-BOOT: multi-user reached .*(keel $VER_v3)" "$(vm_console boot2)" &&
  grep -a "KEEL-HEALTH: failed" "$(vm_console boot2)" | grep -q 50-test-fail &&
  grep -a -q "KEEL-GRUB: boot 1 of 1 of a new deployment" "$(vm_console boot2)"
'

vm_boot_machine m boot3 "$TEST_TMP/boot3.sh"
test_expect_success 'boot 3: GRUB fell back to v1 on its own' '
  vm_wait boot3 "KEEL-VMTEST: exit=" &&
  vm_wait_exit boot3 &&
  grep -a -q "KEEL-GRUB: the new deployment failed" "$(vm_console boot3)" &&
  assert_boot boot3 v1
'

test_expect_success 'host status --json reports the automatic rollback and why' '
  assert_streq "$(json boot3 status ".last_rollback.kind")" automatic &&
  assert_streq "$(json boot3 status ".last_rollback.failed_commit")" "$V3" &&
  json boot3 status ".last_rollback.reason" | grep -q 50-test-fail &&
  assert_streq "$(json boot3 status ".deployments[] | select(.booted) | .checksum")" "$V1" &&
  assert_streq "$(json boot3 status ".deployments[] | select(.checksum == \"$V3\") | .failed")" true
'

test_done
