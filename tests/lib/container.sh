# Helpers for container tests (keel run and friends); source after
# test-lib.sh (and after network.sh when the test needs a network
# namespace of its own).
#
#   keel ARGS...        build/keel with this test's store (tests/lib/keel.sh)
#   ctr_net_setup       network files and store for tests under network.sh
#   ctr_web TEXT        a busybox command serving TEXT over HTTP on port 80
#   ctr_setup           load the busybox fixture as "busybox" into the store
#   ctr_count_leftovers "mounts cgroups records runtime-states" of this test
#
# Containers' cgroups are /keel/<id> on the machine: runtime tests run one
# file at a time (tests/lib/runtime.sh's lock).
. "$TEST_SRCDIR/tests/lib/runtime.sh"
. "$TEST_SRCDIR/tests/lib/registry.sh"
. "$TEST_SRCDIR/tests/lib/keel.sh"

KEEL_RUNTIME_ROOT=$TEST_TMP/rt
export KEEL_RUNTIME_ROOT
test_cleanup 'keel rm -a -f'

# ctr_net_setup: keel's network files in this test's directory and the
# store where network.sh keeps its state (tests that source network.sh)
ctr_net_setup() {
  export KEEL_NETWORK_CONF=$TEST_TMP/network.conf KEEL_HOST_RESOLV=$TEST_TMP/host-resolv.conf
  : >"$KEEL_NETWORK_CONF"
  export KEEL_STORE=$KEEL_ROOT
}

# ctr_web TEXT: a busybox command serving TEXT on port 80
ctr_web() { echo "mkdir -p /www && echo $1 >/www/index.html && exec httpd -f -p 80 -h /www"; }

ctr_setup() {
  local dir
  dir=$(fixture_dir busybox) &&
    keel load -i "$dir/oci" >"$TEST_TMP/load.out" &&
    keel tag "$(sed -n 's/^Loaded image: sha256://p' "$TEST_TMP/load.out")" docker.io/library/busybox:latest
}

# "mounts records runtime-states cgroups": what containers of this test
# leave behind (cgroups: 64-hex /keel/<id> in the memory hierarchy, which
# only keel's containers use; runtime test files run one at a time).
ctr_count_leftovers() {
  local mounts records states cgroups
  mounts=$(grep -c "$KEEL_STORE" /proc/self/mountinfo || true)
  records=$(find "$KEEL_STORE/containers" -mindepth 1 -maxdepth 1 ! -name .lock 2>/dev/null | wc -l)
  states=$(find "$KEEL_RUNTIME_ROOT" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  cgroups=$(ls /sys/fs/cgroup/memory/keel 2>/dev/null | grep -cE '^[0-9a-f]{64}$' || true)
  echo "$mounts $records $states $cgroups"
}
