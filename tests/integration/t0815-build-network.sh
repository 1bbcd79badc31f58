#!/bin/bash
# keel run-in --network bridge inside this test's own network namespace
# (tests/lib/network.sh): the command gets an address on keel's default
# bridge, its hosts and resolv.conf; nothing of the attachment (veth,
# lease, netns mount) is left after it, and a run that changed nothing
# commits no layer (the mount points it needed are gone again).
. "$(dirname "$0")/../lib/network.sh"
. "$TEST_SRCDIR/tests/lib/container.sh"
export KEEL_NETWORK_CONF=$TEST_TMP/network.conf KEEL_HOST_RESOLV=$TEST_TMP/host-resolv.conf
: >"$KEEL_NETWORK_CONF"
KEEL_STORE=$KEEL_ROOT
export KEEL_STORE

test_expect_success 'setup: the busybox fixture and a working container' '
  ctr_setup && keel from --name wc busybox >/dev/null
'

test_expect_success 'run-in --network bridge: an address, a route, hosts and resolv.conf' '
  keel run-in --network bridge wc sh -c "ip -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf" >out &&
  assert_file_has_content out "inet 10.88.0.[0-9]*/16" &&
  assert_file_has_content out "default via 10.88.0.1" &&
  assert_file_has_content out "wc" &&
  assert_file_has_content out "^nameserver 192.0.2.53"
'

test_expect_success 'nothing of the attachment is left; the image holds no network files' '
  test "$(ip -o link show | grep -c veth || true)" = 0 &&
  test ! -e "$KEEL_STORE/containers/$(keel containers -q --notruncate)/netns" &&
  keel commit -q wc img >/dev/null &&
  n() { keel image inspect "$1" | jq ".[0].RootFS.Layers | length"; } &&
  assert_streq "$(n img)" "$(n busybox)"
'

test_done
