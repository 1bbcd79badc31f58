#!/bin/bash
# Many sequential `run --rm` and concurrent runs, on the default bridge
# inside this test's own network namespace, leave no mount, cgroup, veth,
# nft rule, lease, record, runtime state or fd behind.
# KEEL_LEAK_SEQ (default 200) and KEEL_LEAK_PAR (default 20) scale it.
. "$(dirname "$0")/../lib/network.sh"
. "$TEST_SRCDIR/tests/lib/container.sh"
ctr_net_setup
SEQ=${KEEL_LEAK_SEQ:-200}
PAR=${KEEL_LEAK_PAR:-20}

everything() { echo "$(count_state) $(ctr_count_leftovers) fds=$(ls /proc/$$/fd | wc -l)"; }

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup && everything >before && cat before
'

test_expect_success "$SEQ sequential run --rm on the bridge leave nothing behind" '
  for i in $(seq $SEQ); do
    keel run --rm busybox true || { echo "run $i failed"; exit 1; }
  done &&
  everything >after && cat after && test "$(cat after)" = "$(cat before)"
'

test_expect_success "$PAR concurrent runs, then rm -f, leave nothing behind" '
  for i in $(seq $PAR); do
    keel run --rm busybox sh -c "ip -4 addr show eth0 | grep inet >/dev/null" >par.$i 2>&1 &
  done &&
  fails=0 && for j in $(jobs -p); do wait $j || fails=$((fails + 1)); done &&
  cat par.* && test $fails = 0 &&
  everything >after && cat after && test "$(cat after)" = "$(cat before)"
'

test_expect_success "$PAR concurrent detached runs removed with rm -f leave nothing behind" '
  for i in $(seq $PAR); do keel run -d --name p$i busybox sleep 60 >/dev/null & done &&
  fails=0 && for j in $(jobs -p); do wait $j || fails=$((fails + 1)); done && test $fails = 0 &&
  keel ps -q | wc -l >n && test "$(cat n)" = $PAR &&
  keel rm -f -a >/dev/null &&
  everything >after && cat after && test "$(cat after)" = "$(cat before)"
'

test_done
