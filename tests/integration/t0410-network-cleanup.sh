#!/bin/bash
# Network state never leaks: many attach/detach cycles, concurrent
# attaches, crashed containers, and bad input that must leave nothing
# half-made.  Plain network namespaces stand in for containers (attach
# needs only a netns); all inside namespaces this test creates.
. "$(dirname "$0")/../lib/network.sh"

test_expect_success 'setup: a network and a baseline' '
  kn create churn --subnet 10.125.0.0/24 &&
  count_state >before && cat before
'

test_expect_success '50 attach/detach cycles leave no veth, rule or lease behind' '
  netns_new cyc &&
  start=$(date +%s%N) &&
  for i in $(seq 1 50); do
    kn attach churn --id cyc-$i --name cyc --netns "$TEST_TMP/ns/cyc" -p 127.0.0.1:20000:80 >/dev/null &&
    kn detach cyc-$i || exit 1
  done &&
  end=$(date +%s%N) &&
  echo "attach+detach: $(( (end - start) / 50000000 )) ms per cycle" &&
  count_state >after && cat after &&
  test "$(cat before)" = "$(cat after)" &&
  test "$(in_ns cyc ip -o link show | wc -l)" = 1 &&
  ! ip link show keel1 2>/dev/null &&
  test -z "$(ls "$KEEL_ROOT/networks/containers")"
'

test_expect_success 'addresses are not reused right away after a release' '
  kn attach churn --id r1 --netns "$TEST_TMP/ns/cyc" | jq -r .ip >ip1 &&
  kn detach r1 &&
  kn attach churn --id r2 --netns "$TEST_TMP/ns/cyc" | jq -r .ip >ip2 &&
  kn detach r2 &&
  test "$(cat ip1)" != "$(cat ip2)"
'

test_expect_success '20 concurrent attaches never get the same address' '
  for i in $(seq 1 20); do netns_new par-$i; done &&
  for i in $(seq 1 20); do
    kn attach churn --id par-$i --name par-$i --netns "$TEST_TMP/ns/par-$i" >par-$i.json &
  done &&
  wait &&
  cat par-*.json | jq -r .ip | sort >ips &&
  test "$(wc -l <ips)" = 20 &&
  test "$(sort -u ips | wc -l)" = 20 &&
  test "$(ip -o link show type veth | wc -l)" = 20 &&
  in_ns par-7 cat /proc/net/dev >/dev/null &&
  test "$(grep -c "	par-" "$KEEL_ROOT/networks/containers/par-1/hosts")" = 20
'

test_expect_success 'concurrent detaches leave nothing' '
  for i in $(seq 1 20); do kn detach par-$i & done &&
  wait &&
  count_state >after && test "$(cat before)" = "$(cat after)"
'

test_expect_success 'a lease whose namespace died is reclaimed' '
  netns_new dead &&
  kn attach churn --id dead --netns "$TEST_TMP/ns/dead" -p 20001:80 >/dev/null &&
  netns_del dead &&
  test "$(kn reclaim)" = 1 &&
  count_state >after && test "$(cat before)" = "$(cat after)" &&
  netns_new again &&
  kn attach churn --id again --netns "$TEST_TMP/ns/again" -p 20001:80 >/dev/null &&
  kn detach again
'

test_expect_success 'an exhausted subnet fails in one line and leaves nothing' '
  kn create tiny --subnet 10.126.0.0/30 &&
  netns_new t1 && netns_new t2 &&
  kn attach tiny --id t1 --netns "$TEST_TMP/ns/t1" >/dev/null &&
  test_must_fail kn attach tiny --id t2 --netns "$TEST_TMP/ns/t2" 2>err &&
  test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "network .tiny. has no free address left in 10.126.0.0/30" &&
  test "$(in_ns t2 ip -o link show | wc -l)" = 1 &&
  kn detach t1 &&
  count_state >after && test "$(cat before)" = "$(cat after)"
'

test_expect_success 'bad input: one clear line each, nothing created' '
  test_must_fail kn create bad1 --subnet 10.125.0.128/25 2>err &&
  assert_file_has_content err "overlaps network .churn." &&
  test_must_fail kn create bad2 --subnet 10.300.0.0/16 2>err &&
  assert_file_has_content err "invalid subnet" &&
  test_must_fail kn create churn 2>err &&
  assert_file_has_content err "already exists" &&
  test_must_fail kn attach churn --id x --netns "$TEST_TMP/ns/cyc" -p 70000:80 2>err &&
  assert_file_has_content err "out of range" &&
  test_must_fail kn attach churn --id x --netns /nonexistent 2>err &&
  assert_file_has_content err "cannot open network namespace" &&
  test_must_fail kn attach nosuch --id x --netns "$TEST_TMP/ns/cyc" 2>err &&
  assert_file_has_content err "network .nosuch. not found" &&
  test ! -e "$KEEL_ROOT/networks/bad1.json" &&
  count_state >after && test "$(cat before)" = "$(cat after)"
'

test_expect_success 'a network in use cannot be removed' '
  kn attach churn --id busy --netns "$TEST_TMP/ns/cyc" >/dev/null &&
  test_must_fail kn rm churn 2>err &&
  assert_file_has_content err "in use by 1 container" &&
  kn detach busy && kn rm churn tiny
'

test_done
