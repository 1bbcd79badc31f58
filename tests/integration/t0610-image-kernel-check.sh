#!/bin/bash
# The compose refuses a kernel that lacks an option containers need, naming
# the option (image-build/check-kernel-config, run by customize.sh on the
# image's own /usr/lib/modules/$KVER/config).
. "$(dirname "$0")/../lib/test-lib.sh"
check=$TEST_SRCDIR/image-build/check-kernel-config
opts=$TEST_SRCDIR/image-build/kernel-options

# A configuration with every required option, as =y or =m alternately.
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$opts" | awk '{ print $1 "=" (NR % 2 ? "y" : "m") }' >"$TEST_TMP/good"

test_expect_success 'a kernel with every required option passes' '
  "$check" "$TEST_TMP/good" "$opts"
'

test_expect_success 'a missing option fails with one line naming it' '
  grep -v "^CONFIG_OVERLAY_FS=" "$TEST_TMP/good" >"$TEST_TMP/no-overlay" &&
  test_must_fail "$check" "$TEST_TMP/no-overlay" "$opts" 2>err &&
  test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "lacks CONFIG_OVERLAY_FS"
'

test_expect_success 'an option that is not set counts as missing' '
  sed "s/^CONFIG_USER_NS=.*/# CONFIG_USER_NS is not set/" "$TEST_TMP/good" >"$TEST_TMP/no-userns" &&
  test_must_fail "$check" "$TEST_TMP/no-userns" "$opts" 2>err &&
  assert_file_has_content err "lacks CONFIG_USER_NS"
'

test_expect_success 'a missing configuration file is named' '
  test_must_fail "$check" "$TEST_TMP/nope" "$opts" 2>err &&
  assert_file_has_content err "no kernel configuration at .*/nope"
'

test_done
