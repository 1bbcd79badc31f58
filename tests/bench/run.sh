#!/bin/bash
# keel run --rm busybox true vs podman run --rm with the same image, once
# with --network none and once on the default bridge, interleaved, medians
# of wall time (tests/bench/benchrun).  Everything runs in one private
# network + mount namespace: the bridges, veths and nft/iptables rules of
# both engines never touch the machine, and /sys/fs/cgroup/unified is
# hidden so podman's crun accepts this hybrid cgroup layout.  podman gets
# its own --root/--runroot, overlay, cgroupfs, file events, and ulimits
# root can set here (no CAP_SYS_RESOURCE).
# usage: tests/bench/run.sh [RUNS]   (default 20)
# last line: RESULT run keel/podman none=<r> bridge=<r>
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
B=${KEEL_BUILD:-$src/build}
runs=${1:-20}
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 1; }
[ -x "$B/keel" ] && [ -x "$B/tests/bench/benchrun" ] || { echo "run.sh: run make first" >&2; exit 1; }
command -v podman >/dev/null || { echo "run.sh: needs podman (make deps)" >&2; exit 1; }
if [ -z "${KEEL_BENCH_INNER:-}" ]; then
  export KEEL_BENCH_INNER=1
  exec unshare --net --mount --propagation private -- bash "$0" "$@"
fi
ip link set lo up
umount /sys/fs/cgroup/unified 2>/dev/null || true

work=$(mktemp -d /tmp/keel-bench-run.XXXXXX)
runroot=$(mktemp -d /tmp/kbr.XXXXXX) # podman wants a short runroot
pod() {
  podman --root "$work/podman" --runroot "$runroot" --storage-driver overlay \
    --cgroup-manager cgroupfs --events-backend file "$@"
}
cleanup() {
  pod rm -a -f >/dev/null 2>&1 || true
  pod system reset -f >/dev/null 2>&1 || true
  "$B/keel" --root "$work/keel" rm -a -f >/dev/null 2>&1 || true
  rm -rf "$work" "$runroot"
}
trap cleanup EXIT
export KEEL_RUNTIME_ROOT=$work/keel-rt KEEL_HOST_RESOLV=$work/resolv.conf
echo "nameserver 192.0.2.53" >"$KEEL_HOST_RESOLV"
fx=$("$src/tests/fixtures/images.sh" -o "${KEEL_FIXTURES:-$src/build/fixtures}" busybox >/dev/null && echo "${KEEL_FIXTURES:-$src/build/fixtures}/busybox/oci")
id=$("$B/keel" --root "$work/keel" load -i "$fx" | sed -n 's/^Loaded image: sha256://p')
"$B/keel" --root "$work/keel" tag "$id" docker.io/library/busybox:latest
pod pull -q "oci:$fx:latest" >/dev/null
pod tag "$(pod images -q | head -1)" docker.io/library/busybox:latest

ulim="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
declare -A cmd=(
  [keel - none]="$B/keel --root $work/keel run --rm --network none busybox true"
  [podman - none]="podman --root $work/podman --runroot $runroot --storage-driver overlay --cgroup-manager cgroupfs --events-backend file run --rm $ulim --network none busybox true"
  [keel - bridge]="$B/keel --root $work/keel run --rm busybox true"
  [podman - bridge]="podman --root $work/podman --runroot $runroot --storage-driver overlay --cgroup-manager cgroupfs --events-backend file run --rm $ulim busybox true"
)
names=("keel - none" "podman - none" "keel - bridge" "podman - bridge")
for n in "${names[@]}"; do
  : >"$work/${n// /}.txt"
  # shellcheck disable=SC2086 # the command is words
  $B/tests/bench/benchrun ${cmd[$n]} >/dev/null # warm up
done
for ((i = 0; i < runs; i++)); do
  for n in "${names[@]}"; do
    # shellcheck disable=SC2086
    out=$($B/tests/bench/benchrun ${cmd[$n]})
    set -- $out
    [ "$4" = 0 ] || { echo "run.sh: '$n' run $i exited $4" >&2; exit 1; }
    echo "$out" >>"$work/${n// /}.txt"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
declare -A wall
for n in "${names[@]}"; do
  wall[$n]=$(cut -d' ' -f1 "$work/${n// /}.txt" | median)
  printf '%-16s runs=%d median wall=%7.1f ms\n' "$n" "$runs" "$(awk -v w="${wall[$n]}" 'BEGIN {print w / 1000}')"
done
# keel-monitor's resident memory with an idle container
cid=$("$B/keel" --root "$work/keel" run -d --network none busybox sleep 30)
sleep 1.5 # the monitor trims its memory a second after the start
mpid=$("$B/keel" --root "$work/keel" inspect --format '{{.State.ConmonPid}}' "$cid")
echo "keel-monitor VmRSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$mpid/status) (Pss $(awk '/^Pss:/ {s += $2} END {print s " kB"}' /proc/$mpid/smaps))"
"$B/keel" --root "$work/keel" rm -f "$cid" >/dev/null
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "RESULT run keel/podman none=$(ratio "${wall[keel - none]}" "${wall[podman - none]}") bridge=$(ratio "${wall[keel - bridge]}" "${wall[podman - bridge]}")"
