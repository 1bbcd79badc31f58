# Helpers for network tests.  Source it FIRST (before test-lib.sh): it
# re-executes the test in its own network and mount namespaces, so nothing
# it does touches the machine's interfaces, nftables or mounts, and all of
# it vanishes with the test's last process.
#
#   kn ARGS...                 build/keel-net with this test's state root
#   netns_new NAME             a network namespace bound at $TEST_TMP/ns/NAME
#   ctr_start ID NET [ATTACH-FLAGS...] -- CMD...
#                              netns + attach + keel-runtime create/start
#   ctr_stop ID                delete the container, detach, drop its netns
#   count_state                "veths rules leases" left in this namespace

if [ -z "${KEEL_NET_TEST_NS:-}" ] && [ "$(id -u)" = 0 ]; then
  export KEEL_NET_TEST_NS=1
  exec unshare --net --mount --propagation private -- bash "$0" "$@"
fi

. "$(dirname "${BASH_SOURCE[0]}")/test-lib.sh"
test_require_root
[ "${KEEL_NET_TEST_NS:-}" = 1 ] || skip_all "needs private namespaces"
ip link set lo up

KEEL_ROOT=$TEST_TMP/keel
export KEEL_ROOT
printf 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch example.test\n' >"$TEST_TMP/host-resolv.conf"

_net_cleanup() {
  local f
  for f in "$TEST_TMP"/ns/*; do
    [ -e "$f" ] && umount "$f" 2>/dev/null
  done
  return 0
}
test_cleanup _net_cleanup

# busybox wget -T crashes (1.35): bound it with timeout instead.
http_get() { timeout 10 busybox wget -q -O- "$1"; }

kn() { "$KEEL_BUILD/keel-net" --root "$KEEL_ROOT" --conf "$TEST_TMP/network.conf" --resolv "$TEST_TMP/host-resolv.conf" "$@"; }

netns_new() {
  mkdir -p "$TEST_TMP/ns"
  touch "$TEST_TMP/ns/$1"
  unshare --net="$TEST_TMP/ns/$1" true
}

netns_del() {
  umount "$TEST_TMP/ns/$1" 2>/dev/null || true
  rm -f "$TEST_TMP/ns/$1"
}

# Run a command inside netns NAME.
in_ns() {
  local ns=$1
  shift
  nsenter --net="$TEST_TMP/ns/$ns" "$@"
}

count_state() {
  local veths rules leases=0 f
  veths=$(ip -o link show type veth | wc -l)
  rules=$(nft -a list ruleset 2>/dev/null | grep -c '# handle' || true)
  for f in "$KEEL_ROOT"/networks/leases/*.json; do
    [ -e "$f" ] || continue
    leases=$((leases + $(jq '.leases | length' "$f")))
  done
  echo "$veths $rules $leases"
}

ctr_start() {
  local id=$1 net=$2
  shift 2
  local flags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    flags+=("$1")
    shift
  done
  shift
  local args
  args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
  netns_new "$id"
  kn attach "$net" --id "$id" --name "$id" --netns "$TEST_TMP/ns/$id" "${flags[@]}" >"$TEST_TMP/$id.attach" || return 1
  local hosts resolv
  hosts=$(jq -r .hosts "$TEST_TMP/$id.attach")
  resolv=$(jq -r .resolv "$TEST_TMP/$id.attach")
  make_bundle "$TEST_TMP/$id" ".process.args = $args
    | .linux.namespaces |= map(if .type == \"network\" then .path = \"$TEST_TMP/ns/$id\" else . end)
    | .mounts += [{destination: \"/etc/hosts\", type: \"bind\", source: \"$hosts\", options: [\"bind\", \"ro\"]},
                  {destination: \"/etc/resolv.conf\", type: \"bind\", source: \"$resolv\", options: [\"bind\", \"ro\"]}]"
  rt create --bundle "$TEST_TMP/$id" "$id" </dev/null >"$TEST_TMP/$id.log" 2>&1 &&
    rt start "$id"
}

ctr_stop() {
  rt delete --force "$1" >/dev/null 2>&1 || true
  kn detach "$1"
  netns_del "$1"
}

# Wait until a TCP port answers in netns NS ("" = here).
wait_port() {
  local ns=$1 ip=$2 port=$3 tries=50
  while [ $tries -gt 0 ]; do
    if [ -n "$ns" ]; then
      in_ns "$ns" busybox nc -w 1 "$ip" "$port" </dev/null >/dev/null 2>&1 && return 0
    else
      busybox nc -w 1 "$ip" "$port" </dev/null >/dev/null 2>&1 && return 0
    fi
    sleep 0.1
    tries=$((tries - 1))
  done
  echo "wait_port: nothing answers on $ip:$port" >&2
  return 1
}
