# Helpers for OCI runtime tests; source after test-lib.sh.
#
#   make_bundle DIR [JQ_FILTER]   busybox rootfs + config.json from `keel-runtime spec`
#                                 (terminal off, args sh), then JQ_FILTER applied
#   rt ARGS...                    $KEEL_RUNTIME with this test's own --root
#   rt_status ID                  the "status" field of `state`

# Runtime test files run one at a time: containers' default cgroups are
# /keel/<id>, shared by every runtime on the machine, and the same test
# file may run twice at once (plain and sanitized builds) under prove -j.
# The lock is a directory naming its owner's pid, not a held fd: a
# background process a test leaves behind must not keep it, and a dead
# owner's lock is taken over.
runtime_tests_lock() {
  [ -z "${KEEL_RUNTIME_TESTS_LOCKED:-}" ] || return 0
  local d=/run/lock/keel-runtime-tests.d owner
  mkdir -p /run/lock
  while ! mkdir "$d" 2>/dev/null; do
    owner=$(cat "$d/pid" 2>/dev/null || true)
    if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
      rm -rf "$d"
    elif [ -z "$owner" ] && [ -n "$(find "$d" -maxdepth 0 -mmin +1 2>/dev/null)" ]; then
      rm -rf "$d" # an owner that died before naming itself
    fi
    sleep 0.2
  done
  echo $$ >"$d/pid"
  export KEEL_RUNTIME_TESTS_LOCKED=1
  test_cleanup "rm -rf $d"
}
runtime_tests_lock

BUSYBOX_ROOTFS_CACHE=${BUSYBOX_ROOTFS_CACHE:-$TEST_TMP/.busybox-rootfs}
RT_ROOT=$TEST_TMP/state

rt() { "$KEEL_RUNTIME" --root "$RT_ROOT" "$@"; }

make_bundle() {
  local dir=$1 filter=${2:-.}
  if [ ! -d "$BUSYBOX_ROOTFS_CACHE" ]; then
    "$TEST_SRCDIR/tests/fixtures/busybox-rootfs.sh" "$BUSYBOX_ROOTFS_CACHE"
  fi
  mkdir -p "$dir"
  cp -a "$BUSYBOX_ROOTFS_CACHE" "$dir/rootfs"
  "$KEEL_BUILD/keel-runtime" spec --bundle "$dir"
  jq ".process.terminal = false | .root.readonly = false | $filter" "$dir/config.json" >"$dir/config.new"
  mv "$dir/config.new" "$dir/config.json"
}

# Replace the config of an existing bundle with one filtered by jq.
edit_config() {
  local dir=$1 filter=$2
  jq "$filter" "$dir/config.json" >"$dir/config.new" && mv "$dir/config.new" "$dir/config.json"
}

rt_status() { rt state "$1" | jq -r .status; }

# Wait (up to $2 tenths of a second, default 50) for ID to reach a status.
wait_status() {
  local id=$1 want=$2 tries=${3:-50}
  while [ "$tries" -gt 0 ]; do
    [ "$(rt_status "$id" 2>/dev/null)" = "$want" ] && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  echo "wait_status: $id never became $want (is $(rt_status "$id" 2>&1))" >&2
  return 1
}

# Everything a test created under its --root is force-deleted at exit.
_rt_cleanup() {
  local id
  [ -d "$RT_ROOT" ] || return 0
  for id in $(ls "$RT_ROOT" 2>/dev/null); do
    rt delete --force "$id" >/dev/null 2>&1 || true
  done
}
test_cleanup _rt_cleanup

# A containers.conf for a private podman or buildah on this machine: root
# here lacks CAP_SYS_RESOURCE, so the default nofile/nproc (1048576) come
# down to what the machine allows; no network, cgroupfs, file events.
podman_conf() {
  cat >"$1" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
}
