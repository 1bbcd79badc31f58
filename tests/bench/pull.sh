#!/bin/bash
# keel pull vs podman pull vs the floor, on the debian fixture (~140 MB,
# three layers) from a loopback plain-HTTP docker-registry.  The floor is
# the same blobs fetched in parallel with curl, each piped into `tar -xz`
# (gzip decompression included, nothing verified).  Runs are interleaved,
# each into a fresh store; medians of wall time, CPU time and peak RSS.
# usage: tests/bench/pull.sh [RUNS]   (default 5)
# last line: RESULT pull keel/floor wall=<r> keel/podman wall=<r>
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
B=${KEEL_BUILD:-$src/build}
runs=${1:-5}
[ "$(id -u)" = 0 ] || { echo "pull.sh: needs root" >&2; exit 1; }
[ -x "$B/keel" ] && [ -x "$B/tests/bench/benchrun" ] && [ -x "$B/tests/helpers/tokenserver" ] ||
  { echo "pull.sh: run make tests first" >&2; exit 1; }
command -v podman >/dev/null || { echo "pull.sh: needs podman (make deps)" >&2; exit 1; }

# registry.sh wants test-lib.sh's temp dir and cleanups; no TAP is printed.
KEEL_BUILD=$B
. "$src/tests/lib/test-lib.sh"
. "$src/tests/lib/registry.sh"
work=$TEST_TMP
registry_start plain >/dev/null
registry_push_fixture debian debian >"$work/push.log" 2>&1 || { cat "$work/push.log" >&2; exit 1; }
ref=$REGISTRY/debian:latest
manifest=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REGISTRY/v2/debian/manifests/latest")
mapfile -t layers < <(jq -r '.layers[].digest' <<<"$manifest")
echo "debian: ${#layers[@]} layers, $(jq '[.layers[].size] | add' <<<"$manifest") bytes compressed"

cat >"$work/floor.sh" <<'FLOOR'
# floor.sh REGISTRY DIR DIGEST...: every blob at once, curl | tar -xz
reg=$1 dir=$2
shift 2
i=0
for d in "$@"; do
  mkdir -p "$dir/$i"
  (curl -fsS "http://$reg/v2/debian/blobs/$d" | tar -xz --numeric-owner -C "$dir/$i") &
  i=$((i + 1))
done
rc=0
for _ in "$@"; do wait -n || rc=1; done
exit $rc
FLOOR

# podman's storage: overlay where the temp dir's filesystem allows it, else vfs
driver=overlay
podman --root "$work/probe" --runroot "$work/probe-run" --storage-driver overlay info >/dev/null 2>&1 || driver=vfs
echo "podman storage driver: $driver"

run_one() { # NAME RUN
  local n=$1 i=$2 d=$work/run-$1-$2
  case $n in
    keel) "$B/tests/bench/benchrun" "$B/keel" --root "$d" pull -q --tls-verify=false "$ref" ;;
    podman) "$B/tests/bench/benchrun" podman --root "$d" --runroot "$d-run" --storage-driver "$driver" \
      pull -q --tls-verify=false "$ref" ;;
    floor) "$B/tests/bench/benchrun" bash "$work/floor.sh" "$REGISTRY" "$d" "${layers[@]}" ;;
  esac
}

names=(keel podman floor)
for n in "${names[@]}"; do : >"$work/$n.txt"; done
for n in "${names[@]}"; do run_one "$n" warm >/dev/null 2>&1; done # page cache, first-run costs
for ((i = 0; i < runs; i++)); do
  for n in "${names[@]}"; do
    sync
    out=$(run_one "$n" "$i" 2>>"$work/err.log" | tail -1)
    set -- $out
    [ "$4" = 0 ] || { echo "pull.sh: $n run $i exited $4" >&2 && tail "$work/err.log" >&2; exit 1; }
    echo "$out" >>"$work/$n.txt"
    # the next run starts from a fresh store; removal is not timed
    if [ "$n" = podman ]; then
      podman --root "$work/run-$n-$i" --runroot "$work/run-$n-$i-run" --storage-driver "$driver" \
        system reset -f >/dev/null 2>&1 || true
    fi
    rm -rf "$work/run-$n-$i" "$work/run-$n-$i-run"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
declare -A wall cpu rss
for n in "${names[@]}"; do
  wall[$n]=$(cut -d' ' -f1 "$work/$n.txt" | median)
  cpu[$n]=$(cut -d' ' -f2 "$work/$n.txt" | median)
  rss[$n]=$(cut -d' ' -f3 "$work/$n.txt" | sort -n | tail -1)
  printf '%-6s runs=%d median wall=%7.3f s cpu=%7.3f s peak-rss=%d KiB\n' "$n" "$runs" \
    "$(awk -v v="${wall[$n]}" 'BEGIN {print v / 1e6}')" "$(awk -v v="${cpu[$n]}" 'BEGIN {print v / 1e6}')" "${rss[$n]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "keel peak RSS ${rss[keel]} KiB (goal <= 65536 KiB)"
echo "RESULT pull keel/floor wall=$(ratio "${wall[keel]}" "${wall[floor]}") keel/podman wall=$(ratio "${wall[keel]}" "${wall[podman]}")"
