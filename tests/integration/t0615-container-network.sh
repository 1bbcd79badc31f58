#!/bin/bash
# keel run on networks, inside this test's own network namespace
# (tests/lib/network.sh): the default bridge with a published port
# answered on the (namespaced) host's 127.0.0.1, two containers on a user
# network reaching each other by name, host and none, --dns and
# --add-host, a port already in use, and the network verbs.
. "$(dirname "$0")/../lib/network.sh"
. "$TEST_SRCDIR/tests/lib/container.sh"
ctr_net_setup

test_expect_success 'setup: the busybox fixture in the store' 'ctr_setup'

test_expect_success 'the default bridge: an address, a route, hosts and resolv.conf' '
  keel run --rm --name b1 --dns 192.0.2.9 --add-host db:192.0.2.7 busybox \
    sh -c "ip -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf" >out &&
  assert_file_has_content out "inet 10.88.0.[0-9]*/16" &&
  assert_file_has_content out "default via 10.88.0.1" &&
  assert_file_has_content out "b1" &&
  assert_file_has_content out "^192.0.2.7	db" &&
  assert_file_has_content out "^nameserver 192.0.2.9"
'

test_expect_success '-p 127.0.0.1:PORT:80 is answered through the host loopback' '
  keel run -d --name w -p 127.0.0.1:18180:80 busybox sh -c "$(ctr_web hello)" >/dev/null &&
  wait_port "" 127.0.0.1 18180 &&
  http_get http://127.0.0.1:18180/ >out && assert_streq "$(cat out)" hello &&
  keel port w >out && assert_streq "$(cat out)" "80/tcp -> 127.0.0.1:18180" &&
  keel inspect --format "{{.NetworkSettings.IPAddress}}" w >ip && grep -q "^10.88.0." ip
'

test_expect_success 'a port already in use: one line, 125, nothing left' '
  before=$(ctr_count_leftovers) &&
  { keel run -d -p 127.0.0.1:18180:80 busybox true >out 2>err; rc=$?; } ;
  cat err && test $rc = 125 && test $(wc -l <err) = 1 &&
  test "$(ctr_count_leftovers)" = "$before"
'

test_expect_success 'two containers on a user network resolve each other by name' '
  keel network create front --subnet 10.124.0.0/24 >out && assert_streq "$(cat out)" front &&
  keel network ls >out && assert_file_has_content out "^front " &&
  keel run -d --name alpha --network front busybox sh -c "$(ctr_web alpha)" >/dev/null &&
  keel run -d --name beta --network front busybox sh -c "$(ctr_web beta)" >/dev/null &&
  keel exec alpha cat /etc/hosts >hosts && assert_file_has_content hosts "beta" &&
  for i in $(seq 300); do keel exec alpha timeout 5 wget -q -O- http://beta/ >out 2>/dev/null && break; sleep 0.1; done &&
  assert_streq "$(cat out)" beta &&
  keel exec beta timeout 5 wget -q -O- http://alpha/ >out && assert_streq "$(cat out)" alpha &&
  keel network inspect front | jq -e ".[0].name == \"front\"" &&
  { keel network rm front 2>err; rc=$?; } ; test $rc = 125 &&
  keel rm -f alpha beta >/dev/null && keel network rm front >out && assert_streq "$(cat out)" front
'

test_expect_success '--network none has only lo, --network host sees our interfaces' '
  keel run --rm --network none busybox ip -o link >out &&
  test $(wc -l <out) = 1 && assert_file_has_content out "lo:" &&
  ip link add kt0615 type veth peer name kt0615p &&
  keel run --rm --network host busybox ip -o link >out && ip link del kt0615 &&
  assert_file_has_content out kt0615
'

test_expect_success 'rm -f of everything leaves no veth, rule, lease, mount or record' '
  keel rm -f w >/dev/null &&
  count_state && ctr_count_leftovers &&
  test "$(count_state)" = "0 0 0" &&
  test "$(ctr_count_leftovers)" = "0 0 0 0"
'

test_done
