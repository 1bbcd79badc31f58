#!/bin/bash
# keel build vs buildah bud on the same Containerfile (FROM, RUN, COPY,
# ENV, WORKDIR, CMD) and context: once with no cache (--no-cache, every
# step runs and is committed) and once cached (every step a hit),
# interleaved, medians of wall time (tests/bench/benchrun).  Both keep
# layers (--layers) and use the host network (buildah's chroot isolation
# has no network namespace; keel gets --network host); buildah gets its
# own overlay store, cgroupfs, file events and the ulimits root can set
# here.  Everything runs in a private mount namespace with
# /sys/fs/cgroup/unified hidden.
# usage: tests/bench/build.sh [RUNS]   (default 10)
# last line: RESULT build keel/buildah nocache=<r> cached=<r>
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
B=${KEEL_BUILD:-$src/build}
runs=${1:-10}
[ "$(id -u)" = 0 ] || { echo "build.sh: needs root" >&2; exit 1; }
[ -x "$B/keel" ] && [ -x "$B/tests/bench/benchrun" ] || { echo "build.sh: run make first" >&2; exit 1; }
command -v buildah >/dev/null || { echo "build.sh: needs buildah (make deps)" >&2; exit 1; }
if [ -z "${KEEL_BENCH_INNER:-}" ]; then
  export KEEL_BENCH_INNER=1
  exec unshare --mount --propagation private -- bash "$0" "$@"
fi
umount /sys/fs/cgroup/unified 2>/dev/null || true

work=$(mktemp -d /tmp/keel-bench-build.XXXXXX)
runroot=$(mktemp -d /tmp/kbb.XXXXXX)
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF=$work/containers.conf
bh() { buildah --root "$work/buildah" --runroot "$runroot" --storage-driver overlay "$@"; }
cleanup() {
  bh rm -a >/dev/null 2>&1 || true
  bh rmi -a -f >/dev/null 2>&1 || true
  "$B/keel" --root "$work/keel" rm -a -f >/dev/null 2>&1 || true
  rm -rf "$work" "$runroot"
}
trap cleanup EXIT
export KEEL_RUNTIME_ROOT=$work/keel-rt

fx=${KEEL_FIXTURES:-$src/build/fixtures}
"$src/tests/fixtures/images.sh" -o "$fx" busybox >/dev/null
id=$("$B/keel" --root "$work/keel" load -i "$fx/busybox/oci" | sed -n 's/^Loaded image: sha256://p')
"$B/keel" --root "$work/keel" tag "$id" docker.io/library/busybox:latest
bh pull -q "oci:$fx/busybox/oci" >"$work/bid"
bh tag "$(cat "$work/bid")" docker.io/library/busybox:latest

ctx=$work/ctx
mkdir -p "$ctx/app/src"
for i in $(seq 1 50); do echo "file $i" >"$ctx/app/src/f$i.txt"; done
head -c 2000000 /dev/urandom >"$ctx/app/blob.bin"
cat >"$ctx/Containerfile" <<'CF'
FROM busybox
RUN mkdir -p /opt/tool && echo "built" >/opt/tool/stamp
COPY app /srv/app
ENV APP_HOME=/srv/app MODE=bench
WORKDIR /srv/app
CMD ["sh", "-c", "ls $APP_HOME"]
CF

declare -A cmd=(
  [keel - nocache]="$B/keel --root $work/keel build -q --network host --no-cache -t bench $ctx"
  [buildah - nocache]="buildah --root $work/buildah --runroot $runroot --storage-driver overlay bud -q --isolation chroot --network host --layers --no-cache -t bench $ctx"
  [keel - cached]="$B/keel --root $work/keel build -q --network host -t bench $ctx"
  [buildah - cached]="buildah --root $work/buildah --runroot $runroot --storage-driver overlay bud -q --isolation chroot --network host --layers -t bench $ctx"
)
names=("keel - nocache" "buildah - nocache" "keel - cached" "buildah - cached")
for n in "${names[@]}"; do
  : >"$work/${n// /}.txt"
  # shellcheck disable=SC2086 # the command is words
  $B/tests/bench/benchrun ${cmd[$n]} >/dev/null # warm up (and fill the caches)
done
for ((i = 0; i < runs; i++)); do
  for n in "${names[@]}"; do
    # shellcheck disable=SC2086
    out=$($B/tests/bench/benchrun ${cmd[$n]} 2>/dev/null | tail -1)
    set -- $out
    [ "$4" = 0 ] || { echo "build.sh: '$n' run $i exited $4" >&2; exit 1; }
    echo "$out" >>"$work/${n// /}.txt"
  done
  # the cached runs must really have been cache hits
done
# a cached keel build hits every step
"$B/keel" --root "$work/keel" build --network host -t bench "$ctx" >"$work/check.out"
[ "$(grep -c '^--> Using cache' "$work/check.out")" = 5 ] || { echo "build.sh: keel missed its cache" >&2; cat "$work/check.out" >&2; exit 1; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
declare -A wall
for n in "${names[@]}"; do
  wall[$n]=$(cut -d' ' -f1 "$work/${n// /}.txt" | median)
  printf '%-18s runs=%d median wall=%8.1f ms\n' "$n" "$runs" "$(awk -v w="${wall[$n]}" 'BEGIN {print w / 1000}')"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "RESULT build keel/buildah nocache=$(ratio "${wall[keel - nocache]}" "${wall[buildah - nocache]}") cached=$(ratio "${wall[keel - cached]}" "${wall[buildah - cached]}")"
