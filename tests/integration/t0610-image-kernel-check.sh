#!/bin/bash
# The compose refuses a kernel that lacks an option it needs, naming the
# option: image-build/check-kernel-config for booting and `keel system
# check-kernel --config` for containers, both run by customize.sh on the
# image's own /usr/lib/modules/$KVER/config.  check-kernel also reports on
# the running kernel.
. "$(dirname "$0")/../lib/test-lib.sh"
check=$TEST_SRCDIR/image-build/check-kernel-config
opts=$TEST_SRCDIR/image-build/kernel-options

# A configuration with every required option, as =y or =m alternately.
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$opts" | awk '{ print $1 "=" (NR % 2 ? "y" : "m") }' >"$TEST_TMP/good"

test_expect_success 'a kernel with every required option passes' '
  "$check" "$TEST_TMP/good" "$opts"
'

test_expect_success 'a missing option fails with one line naming it' '
  grep -v "^CONFIG_VFAT_FS=" "$TEST_TMP/good" >"$TEST_TMP/no-vfat" &&
  test_must_fail "$check" "$TEST_TMP/no-vfat" "$opts" 2>err &&
  test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "lacks CONFIG_VFAT_FS"
'

test_expect_success 'an option that is not set counts as missing' '
  sed "s/^CONFIG_EXT4_FS=.*/# CONFIG_EXT4_FS is not set/" "$TEST_TMP/good" >"$TEST_TMP/no-ext4" &&
  test_must_fail "$check" "$TEST_TMP/no-ext4" "$opts" 2>err &&
  assert_file_has_content err "lacks CONFIG_EXT4_FS"
'

test_expect_success 'a missing configuration file is named' '
  test_must_fail "$check" "$TEST_TMP/nope" "$opts" 2>err &&
  assert_file_has_content err "no kernel configuration at .*/nope"
'

keel=$KEEL_BUILD/keel
# Every option keel knows, as =y or =m alternately: the table it prints.
"$keel" system check-kernel --config /dev/null | awk 'NR > 1 && /^CONFIG_/ { print $1 "=" (NR % 2 ? "y" : "m") }' \
  >"$TEST_TMP/kgood"

test_expect_success 'check-kernel knows the options containers need' '
  for o in USER_NS PID_NS NET_NS MEMCG CGROUP_PIDS CGROUP_BPF OVERLAY_FS SECCOMP_FILTER VETH BRIDGE NF_TABLES; do
    grep -qx "CONFIG_$o=[ym]" "$TEST_TMP/kgood" || { echo "missing $o"; return 1; }
  done
'

test_expect_success 'check-kernel on a complete configuration: every option listed, exit 0' '
  "$keel" system check-kernel --config "$TEST_TMP/kgood" >out &&
  test "$(grep -c "^CONFIG_.* [ym] " out)" = "$(wc -l <"$TEST_TMP/kgood")" &&
  assert_file_has_content out "0 required missing"
'

test_expect_success 'a missing required option: exit 1, named in the table and in one --quiet line' '
  grep -v "^CONFIG_VETH=" "$TEST_TMP/kgood" >"$TEST_TMP/kno-veth" &&
  test_expect_code 1 "$keel" system check-kernel --config "$TEST_TMP/kno-veth" >out &&
  assert_file_has_content out "^CONFIG_VETH  *missing  *networking: veth" &&
  assert_file_has_content out "1 required missing" &&
  test_expect_code 1 "$keel" system check-kernel --quiet --config "$TEST_TMP/kno-veth" >out 2>err &&
  test ! -s out && test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "kernel lacks CONFIG_VETH, needed for networking: veth pairs"
'

test_expect_success 'a recommended option absent is reported but is no failure' '
  sed "s/^CONFIG_TIME_NS=.*/# CONFIG_TIME_NS is not set/" "$TEST_TMP/kgood" >"$TEST_TMP/kno-time" &&
  "$keel" system check-kernel --config "$TEST_TMP/kno-time" >out &&
  assert_file_has_content out "^CONFIG_TIME_NS  *absent" &&
  assert_file_has_content out "1 recommended absent" &&
  "$keel" system check-kernel --quiet --config "$TEST_TMP/kno-time" 2>err && test ! -s err
'

test_expect_success 'a gzipped configuration (the /proc/config.gz form) is read too' '
  gzip -c "$TEST_TMP/kno-veth" >"$TEST_TMP/k.gz" &&
  test_expect_code 1 "$keel" system check-kernel --quiet --config "$TEST_TMP/k.gz" 2>err &&
  assert_file_has_content err "CONFIG_VETH"
'

test_expect_success 'a missing configuration file is named; exit 125' '
  test_expect_code 125 "$keel" system check-kernel --config "$TEST_TMP/nope" 2>err &&
  assert_file_has_content err "no kernel configuration at .*/nope"
'

test_expect_success 'the running kernel is checked without --config' '
  "$keel" system check-kernel >out 2>err || test $? = 1 &&
  assert_file_has_content out "options present"
'

test_done
