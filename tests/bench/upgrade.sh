#!/bin/bash
# host upgrade on an update that adds one Debian package (v1 -> v2 of
# tests/vm/make-versions.sh: busybox-static), in one QEMU boot of the image:
#
#  - bytes fetched: the body bytes the test web server's access log records
#    for the upgrade (summary, signatures, deltas, objects: everything),
#    divided by the size of the change, defined as the installed size of the
#    package's files (what dpkg -i would write; the same files the commit
#    adds).  The .deb's size and the ratio to it are printed too;
#  - time to a staged deployment: `host upgrade` against `ostree admin
#    upgrade --stage`, the same change from the same state, interleaved
#    (between runs the staged deployment, the v2 objects and the remote ref
#    are removed again).  Each run fetches from its own URL so the log tells
#    the runs apart.
# usage: sudo tests/bench/upgrade.sh [RUNS]   (default 2 of each)
# last line: RESULT upgrade fetched/changed=<r> host/ostree time=<r>
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
B=${KEEL_BUILD:-$src/build}
runs=${1:-2}
[ "$(id -u)" = 0 ] || { echo "upgrade.sh: needs root" >&2; exit 1; }
[ -x "$B/tests/helpers/webserver" ] || { echo "upgrade.sh: run make tests first" >&2; exit 1; }

# The VM libraries want test-lib.sh's temp dir and cleanups; no TAP is printed.
KEEL_BUILD=$B
. "$src/tests/lib/test-lib.sh"
. "$src/tests/vm/lib.sh"
[ -f "$KEEL_IMAGE" ] || { echo "upgrade.sh: no image at $KEEL_IMAGE (make image)" >&2; exit 1; }
. "$src/tests/vm/upgrade-lib.sh"
upgrade_setup >/dev/null
www=$TEST_TMP/www
mkdir -p "$www"
for i in $(seq "$runs"); do
  ln -s "$UPGRADE_DIR/serve/v2" "$www/host$i"
  ln -s "$UPGRADE_DIR/serve/v2" "$www/ostree$i"
done
webserver_stop
webserver_start "$www"

guest_script "$TEST_TMP/bench.sh" <<EOF
RUNS=$runs
EOF
cat >>"$TEST_TMP/bench.sh" <<'EOF'
ms() { echo $(($(date +%s%N) / 1000000)); }
# Back to v1 with nothing of v2 on the machine.
reset_v1() {
  rm -f /run/ostree/staged-deployment
  ostree admin cleanup >/dev/null 2>&1
  ostree refs --delete keel:keel/x86_64/server >/dev/null 2>&1
  ostree refs --create=keel:keel/x86_64/server "$V1"
  ostree prune --refs-only >/dev/null 2>&1
  ostree admin cleanup >/dev/null 2>&1
  sync
  echo 3 >/proc/sys/vm/drop_caches
  ! ostree show "$V2" >/dev/null 2>&1
}
one() {
  local tool=$1 i=$2 t0 rc=0
  reset_v1 || { r "reset-$tool$i" failed; return 1; }
  set_remote "$URL/$tool$i/repo"
  t0=$(ms)
  case $tool in
  host) host upgrade >/run/keel-vmtest/out 2>&1 || rc=$? ;;
  ostree) ostree admin upgrade --stage >/run/keel-vmtest/out 2>&1 || rc=$? ;;
  esac
  r "ms-$tool$i" $(($(ms) - t0))
  r "rc-$tool$i" $rc
  r "staged-$tool$i" "$(ostree admin status | grep -c '(staged)')"
  sed "s/^/KEEL-OUT-$tool$i /" /run/keel-vmtest/out
}
report_state
for i in $(seq "$RUNS"); do
  one host "$i"
  one ostree "$i"
done
reset_v1
EOF

vm_boot bench "$TEST_TMP/bench.sh" 6G
vm_wait bench "KEEL-VMTEST: exit=" || exit 1
vm_finish bench >/dev/null
con=$(vm_console bench)

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
fail=
for i in $(seq "$runs"); do
  for t in host ostree; do
    [ "$(vm_result bench "rc-$t$i")" = 0 ] && [ "$(vm_result bench "staged-$t$i")" = 1 ] || {
      echo "upgrade.sh: run $t$i failed (rc $(vm_result bench "rc-$t$i")):" >&2
      grep -a "KEEL-OUT-$t$i" "$con" | tail -n 5 >&2
      fail=1
    }
  done
done
[ -z "$fail" ] || exit 1

pkg=$(awk '$1 == "package" { print $2 }' "$UPGRADE_DIR/change")
installed=$(awk '$1 == "installed_bytes" { print $2 }' "$UPGRADE_DIR/change")
deb=$(awk '$1 == "deb_bytes" { print $2 }' "$UPGRADE_DIR/change")
echo "change: $pkg, installed files $installed bytes, .deb $deb bytes"
for i in $(seq "$runs"); do
  for t in host ostree; do
    printf '%-7s run %d: %6d ms to staged, fetched %8d bytes in %3d requests\n' "$t" "$i" \
      "$(vm_result bench "ms-$t$i")" "$(webserver_bytes "^/$t$i/")" \
      "$(awk -v p="^/$t$i/" '$2 ~ p' "$WEB_LOG" | wc -l)"
  done
done
echo "requests of host run 1:"
awk '$2 ~ "^/host1/" { printf "  %s %s %s\n", $4, $1, $2 }' "$WEB_LOG"
host_bytes=$(for i in $(seq "$runs"); do webserver_bytes "^/host$i/"; done | median)
host_ms=$(for i in $(seq "$runs"); do vm_result bench "ms-host$i"; done | median)
ostree_ms=$(for i in $(seq "$runs"); do vm_result bench "ms-ostree$i"; done | median)
echo "median: host upgrade ${host_ms} ms, ostree admin upgrade --stage ${ostree_ms} ms; host fetched ${host_bytes} bytes"
echo "fetched/.deb size: $(awk -v a="$host_bytes" -v b="$deb" 'BEGIN { printf "%.2f", a / b }')"
echo "RESULT upgrade fetched/changed=$(awk -v a="$host_bytes" -v b="$installed" 'BEGIN { printf "%.2f", a / b }') host/ostree time=$(awk -v a="$host_ms" -v b="$ostree_ms" 'BEGIN { printf "%.2f", a / b }')"
