#!/bin/bash
# Bridge networks end to end with real containers from keel-runtime: two
# members reach each other by IP and by name, a published port answers on
# the (namespaced) host's 127.0.0.1, outbound traffic is masqueraded, an
# internal network stays inside.  Everything runs in namespaces this test
# creates (tests/lib/network.sh).
. "$(dirname "$0")/../lib/network.sh"
# Container ids here are unique to this file (t0400-*), which is what the
# runtime tests' global lock protects, and it runs only once per prove run:
# do not queue behind every runtime test on the machine.
export KEEL_RUNTIME_TESTS_LOCKED=1
. "$TEST_SRCDIR/tests/lib/runtime.sh"

# A web server that answers with its own name.
web() { echo "mkdir -p /www && echo $1 >/www/index.html && exec httpd -f -p 80 -h /www"; }

test_expect_success 'create a user-defined network' '
  kn create front --subnet 10.123.0.0/24 >out &&
  assert_file_has_content out "^front$" &&
  kn inspect front | jq -e ".[0].network_interface == \"keel1\" and .[0].subnets[0].gateway == \"10.123.0.1\""
'

test_expect_success 'two containers start on it with leases, MACs and a default route' '
  ctr_start t0400-a front -p 127.0.0.1:18080:80 -p 18081:80 -- sh -c "$(web alpha)" &&
  ctr_start t0400-b front -- sh -c "$(web beta)" &&
  jq -e ".ip == \"10.123.0.2\" and .mac == \"02:4b:0a:7b:00:02\" and .gateway == \"10.123.0.1\"" t0400-a.attach &&
  jq -e ".ip == \"10.123.0.3\"" t0400-b.attach &&
  rt exec t0400-a ip route >route &&
  assert_file_has_content route "default via 10.123.0.1 dev eth0" &&
  rt exec t0400-a ip addr show eth0 >addr &&
  assert_file_has_content addr "inet 10.123.0.2/24"
'

test_expect_success 'members reach each other by IP' '
  wait_port "" 10.123.0.2 80 && wait_port "" 10.123.0.3 80 &&
  rt exec t0400-a timeout 10 wget -q -O- http://10.123.0.3/ >out &&
  assert_file_has_content out "^beta$" &&
  rt exec t0400-b timeout 10 wget -q -O- http://10.123.0.2/ >out &&
  assert_file_has_content out "^alpha$"
'

test_expect_success 'members reach each other by name through /etc/hosts' '
  rt exec t0400-a cat /etc/hosts >hosts &&
  assert_file_has_content hosts "^10.123.0.3	t0400-b$" &&
  rt exec t0400-a timeout 10 wget -q -O- http://t0400-b/ >out &&
  assert_file_has_content out "^beta$" &&
  rt exec t0400-b timeout 10 wget -q -O- http://t0400-a/ >out &&
  assert_file_has_content out "^alpha$"
'

test_expect_success 'a member that joins later appears in the running containers hosts files' '
  ctr_start t0400-c front -- sh -c "$(web gamma)" &&
  rt exec t0400-a cat /etc/hosts >hosts &&
  assert_file_has_content hosts "^10.123.0.4	t0400-c$" &&
  wait_port "" 10.123.0.4 80 &&
  rt exec t0400-a timeout 10 wget -q -O- http://t0400-c/ >out &&
  assert_file_has_content out "^gamma$"
'

test_expect_success 'resolv.conf skips the loopback stub and keeps the search domain' '
  rt exec t0400-a cat /etc/resolv.conf >resolv &&
  assert_file_has_content resolv "^nameserver 192.0.2.53$" &&
  assert_not_file_has_content resolv "127.0.0.53" &&
  assert_file_has_content resolv "^search example.test$"
'

test_expect_success 'published ports answer on the host 127.0.0.1' '
  http_get http://127.0.0.1:18080/ >out &&
  assert_file_has_content out "^alpha$" &&
  http_get http://127.0.0.1:18081/ >out &&
  assert_file_has_content out "^alpha$"
'

test_expect_success 'a port published on 127.0.0.1 only is not answered on other addresses' '
  test_must_fail http_get http://10.123.0.1:18080/
'

test_expect_success 'hairpin: a member reaches a published port through the gateway' '
  rt exec t0400-b timeout 10 wget -q -O- http://10.123.0.1:18081/ >out &&
  assert_file_has_content out "^alpha$"
'

test_expect_success 'a second publish of the same host port is refused in one line' '
  netns_new dup &&
  test_must_fail kn attach front --id t0400-dup --netns "$TEST_TMP/ns/dup" -p 18080:80 2>err &&
  test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "port 18080/tcp is already published by container .t0400-a." &&
  test "$(jq ".leases | length" "$KEEL_ROOT/networks/leases/front.json")" = 3
'


# The outside web server is started inside a test body (a subshell): its
# cleanup must be registered out here.
test_cleanup 'test -s "$TEST_TMP/httpd.pid" && kill "$(cat "$TEST_TMP/httpd.pid")"'

test_expect_success 'outbound traffic leaves masqueraded as the host' '
  netns_new outside &&
  in_ns outside ip link add kt-in type veth peer name kt-out netns $$ &&
  ip addr add 198.51.100.1/24 dev kt-out && ip link set kt-out up &&
  in_ns outside ip addr add 198.51.100.2/24 dev kt-in &&
  in_ns outside ip link set kt-in up && in_ns outside ip link set lo up &&
  mkdir -p www/cgi-bin &&
  printf "#!/bin/sh\necho Content-Type: text/plain\necho\necho \$REMOTE_ADDR\n" >www/cgi-bin/ip &&
  chmod +x www/cgi-bin/ip &&
  (nsenter --net="$TEST_TMP/ns/outside" busybox httpd -f -p 198.51.100.2:80 -h "$TEST_TMP/www" </dev/null >/dev/null 2>&1 9>&- & echo $! >httpd.pid) &&
  wait_port outside 198.51.100.2 80 &&
  rt exec t0400-a timeout 10 wget -q -O- http://198.51.100.2/cgi-bin/ip >out &&
  assert_file_has_content out "^198.51.100.1$"
'

test_expect_success 'an internal network has no route out and no masquerade rule' '
  kn create back --internal --subnet 10.124.0.0/24 &&
  ctr_start t0400-i back -- sleep 1000 &&
  jq -e ".gateway == \"\"" t0400-i.attach &&
  rt exec t0400-i ip route >route &&
  assert_not_file_has_content route default &&
  test_must_fail rt exec t0400-i timeout 5 wget -q -O- http://198.51.100.2/cgi-bin/ip &&
  nft list table inet keel >rules &&
  assert_not_file_has_content rules "ip saddr 10.124.0.0/24 ip daddr != 10.124.0.0/24 masquerade" &&
  assert_file_has_content rules "iifname \"keel2\" oifname != \"keel2\" drop"
'

test_expect_success 'stopping every container leaves no veth, rule or lease' '
  for c in t0400-a t0400-b t0400-c t0400-i; do ctr_stop $c; done &&
  kn detach t0400-a &&
  test "$(ip -o link show type veth | grep -vc kt-out || true)" = 0 &&
  ! nft list table inet keel 2>/dev/null &&
  test "$(jq ".leases | length" "$KEEL_ROOT/networks/leases/front.json")" = 0 &&
  ! ip link show keel1 2>/dev/null &&
  test ! -e "$KEEL_ROOT/networks/containers/t0400-a"
'

test_expect_success 'network rm removes the definition; the default network stays' '
  kn rm front back &&
  test_must_fail kn rm keel 2>err &&
  assert_file_has_content err "default network" &&
  kn ls >ls &&
  assert_file_has_content ls "^keel +bridge +keel0 +10.88.0.0/16" &&
  assert_not_file_has_content ls front
'

test_done
