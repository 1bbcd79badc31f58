#!/bin/bash
# keel run at the edges of networking, in this test's own network
# namespace: a subnet with room for two containers refuses the third with
# one line and leaks nothing; a container reaches its own published port
# through its gateway (hairpin NAT) and through the host's address.
. "$(dirname "$0")/../lib/network.sh"
. "$TEST_SRCDIR/tests/lib/container.sh"
ctr_net_setup

test_expect_success 'setup: the busybox fixture in the store' 'ctr_setup'

test_expect_success 'a full /29: the next container is refused with one line, nothing leaks' '
  keel network create tiny --subnet 10.126.0.0/29 >/dev/null &&
  for i in 1 2 3 4 5; do keel run -d --name t$i --network tiny busybox sleep 1000 >/dev/null || return 1; done &&
  keel inspect --format "{{.NetworkSettings.IPAddress}}" t5 >ip && assert_streq "$(cat ip)" 10.126.0.6 &&
  before=$(ctr_count_leftovers) && state=$(count_state) &&
  { keel run -d --name t6 --network tiny busybox sleep 1000 >out 2>err; rc=$?; } ;
  cat err && test $rc = 125 && test $(wc -l <err) = 1 && test ! -s out &&
  assert_file_has_content err "tiny" && assert_file_has_content err "no free address\|exhausted\|full" &&
  test "$(ctr_count_leftovers)" = "$before" && test "$(count_state)" = "$state" &&
  { keel inspect t6 >/dev/null 2>&1; rc=$?; } ; test $rc != 0
'

test_expect_success 'a released address is leased again' '
  keel rm -f t3 >/dev/null &&
  keel run -d --name t6 --network tiny busybox sleep 1000 >/dev/null &&
  keel inspect --format "{{.NetworkSettings.IPAddress}}" t6 >ip && assert_streq "$(cat ip)" 10.126.0.4 &&
  keel rm -f t1 t2 t4 t5 t6 >/dev/null && keel network rm tiny >/dev/null
'

test_expect_success 'a container reaches its own published port through its gateway' '
  keel run -d --name self -p 18380:80 busybox sh -c "$(ctr_web self)" >/dev/null &&
  wait_port "" 127.0.0.1 18380 &&
  gw=$(keel inspect --format "{{.NetworkSettings.Gateway}}" self) && test -n "$gw" &&
  keel exec self timeout 10 wget -q -O- "http://$gw:18380/" >out &&
  assert_streq "$(cat out)" self
'

test_expect_success 'a second container reaches it through the gateway too' '
  gw=$(keel inspect --format "{{.NetworkSettings.Gateway}}" self) &&
  keel run --rm busybox timeout 10 wget -q -O- "http://$gw:18380/" >out &&
  assert_streq "$(cat out)" self
'

test_expect_success 'rm -f of everything leaves no veth, rule, lease, mount or record' '
  keel rm -f self >/dev/null &&
  test "$(count_state)" = "0 0 0" && test "$(ctr_count_leftovers)" = "0 0 0 0"
'

test_done
