#!/bin/bash
# keel build's RUN networking, in a private network namespace: the default
# bridge (an address on eth0, its own /etc/hostname and /etc/resolv.conf
# that do not end up in the image), --network none and host, and
# RUN --network overriding the build's default.
. "$(dirname "$0")/../lib/network.sh"
. "$TEST_SRCDIR/tests/lib/container.sh"
. "$TEST_SRCDIR/tests/lib/build.sh"
export KEEL_HOST_RESOLV=$TEST_TMP/host-resolv.conf

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup && ip link add kb-host0 type veth peer name kb-host1
'

test_expect_success 'the default network is the bridge; none and host as asked' '
  mkdir -p ctx && cat >ctx/Containerfile <<-\CF &&
	FROM busybox
	RUN ip -o -4 addr show eth0 | grep -c inet >/bridge-addrs && cat /etc/hostname >/seen-hostname
	RUN --network=none ip -o link | wc -l >/none-links
	RUN --network=host ip -o link | grep -c " kb-host0@" >/host-dummy
	CF
  (cd ctx && keel build -t net1 . >out) &&
  assert_streq "$(in_img net1 cat /bridge-addrs /none-links /host-dummy)" "1
1
1" &&
  img_files net1 >files &&
  assert_not_file_has_content files "^\./etc/resolv.conf " &&
  assert_not_file_has_content files "^\./etc/hostname "
'

test_expect_success '--network none and host for the whole build' '
  printf "FROM busybox\nRUN ip -o link | wc -l >/links\n" >ctx/Containerfile.n &&
  (cd ctx && keel build --network none -f Containerfile.n -t net2 . >out) &&
  assert_streq "$(in_img net2 cat /links)" 1 &&
  (cd ctx && keel build --no-cache --network host -f Containerfile.n -t net3 . >out) &&
  test "$(in_img net3 cat /links)" -ge 2
'

test_done
