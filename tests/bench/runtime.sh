#!/bin/bash
# keel-runtime vs crun (and runc): `run` of the same busybox bundle running
# /bin/true, interleaved, medians of wall time, CPU time and peak RSS.
# crun 1.8 refuses this machine's hybrid cgroup layout, so every runtime
# runs in one private mount namespace with /sys/fs/cgroup/unified hidden.
# usage: tests/bench/runtime.sh [RUNS]   (default 30)
# last line: RESULT runtime keel/crun wall=<r> cpu=<r>
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
B=${KEEL_BUILD:-$src/build}
runs=${1:-30}
[ "$(id -u)" = 0 ] || { echo "runtime.sh: needs root" >&2; exit 1; }
[ -x "$B/keel-runtime" ] && [ -x "$B/tests/bench/benchrun" ] || { echo "runtime.sh: run make first" >&2; exit 1; }
command -v crun >/dev/null && command -v runc >/dev/null || { echo "runtime.sh: needs crun and runc (make deps)" >&2; exit 1; }

work=$(mktemp -d /tmp/keel-bench-runtime.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$src/tests/fixtures/busybox-rootfs.sh" "$work/bundle/rootfs"
"$B/keel-runtime" spec --bundle "$work/bundle"
sed -i -e 's/"terminal": *true/"terminal":false/' -e 's/"sh"$/"\/bin\/true"/' "$work/bundle/config.json"
grep -q '"/bin/true"' "$work/bundle/config.json"

# one private mount namespace for all, unified cgroup mount hidden
cat >"$work/inner.sh" <<'INNER'
set -euo pipefail
B=$1 work=$2 runs=$3
umount /sys/fs/cgroup/unified 2>/dev/null || true
declare -A cmd=(
  [keel]="$B/keel-runtime --root $work/state-keel run --bundle $work/bundle"
  [crun]="crun --root $work/state-crun run --bundle $work/bundle"
  [runc]="runc --root $work/state-runc run --bundle $work/bundle"
)
names=(keel crun runc)
for n in "${names[@]}"; do : >"$work/$n.txt"; done
# warm up each once (page cache, first-run costs)
for n in "${names[@]}"; do $B/tests/bench/benchrun ${cmd[$n]} warm-$n >/dev/null; done
for ((i = 0; i < runs; i++)); do
  for n in "${names[@]}"; do
    out=$($B/tests/bench/benchrun ${cmd[$n]} "b$i-$n")
    set -- $out
    [ "$4" = 0 ] || { echo "runtime.sh: $n run $i exited $4" >&2; exit 1; }
    echo "$out" >>"$work/$n.txt"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
declare -A wall cpu rss
for n in "${names[@]}"; do
  wall[$n]=$(cut -d' ' -f1 "$work/$n.txt" | median)
  cpu[$n]=$(cut -d' ' -f2 "$work/$n.txt" | median)
  rss[$n]=$(cut -d' ' -f3 "$work/$n.txt" | median)
  printf '%-5s runs=%d median wall=%6.2f ms cpu=%6.2f ms peak-rss=%d KiB\n' "$n" "$runs" \
    "$(echo "${wall[$n]} / 1000" | awk '{print $1/1000}')" "$(echo "${cpu[$n]}" | awk '{print $1/1000}')" "${rss[$n]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "keel/runc wall=$(ratio "${wall[keel]}" "${wall[runc]}") cpu=$(ratio "${cpu[keel]}" "${cpu[runc]}")"
echo "peak RSS keel=${rss[keel]} KiB crun=${rss[crun]} KiB"
echo "RESULT runtime keel/crun wall=$(ratio "${wall[keel]}" "${wall[crun]}") cpu=$(ratio "${cpu[keel]}" "${cpu[crun]}")"
INNER
unshare -m --propagation private bash "$work/inner.sh" "$B" "$work" "$runs" </dev/null
