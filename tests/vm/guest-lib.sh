# tests/vm/guest-lib.sh: helpers for the guest side of the host upgrade VM
# tests.  Not sourced on the build machine: tests/vm/upgrade-lib.sh puts it
# at the top of each boot's script (QEMU hands one file in).
#
#   r KEY VALUE            "KEEL-T KEY=VALUE" on the console (vm_result)
#   mark TEXT              TEXT on the console through the kernel log (also
#                          works while the machine shuts down)
#   booted_commit          the commit of the booted deployment (from the
#                          kernel command line, neither ostree's nor host's word)
#   report_state           results every boot prints: booted, version,
#                          complete, deployments, entries, loader
#   set_remote URL         point the remote keel at URL
#   cut_watch POINT COMMIT a watcher (outliving this script, through the
#                          shutdown) that freezes host and ostree when the
#                          upgrade to COMMIT reaches POINT and prints
#                          "KEEL-CUT: at=POINT": the host side then kills QEMU
r() { echo "KEEL-T $1=$2"; }
mark() { echo "<5>$*" >/dev/kmsg; }
DEPLOY=/ostree/deploy/keel/deploy

booted_commit() {
  local arg
  arg=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^ostree=//p')
  basename "$(readlink -f "$arg")" | cut -d. -f1
}

# The booted deployment is complete when its /usr is the commit's (the
# version in os-release is the commit's version metadata), every boot entry
# points at a deployment that exists, and ostree can read the sysroot.
deployment_complete() {
  local c=$1 want have e d
  want=$(ostree --repo=/ostree/repo show --print-metadata-key=version "$c" 2>/dev/null | tr -d "'")
  have=$(. /usr/lib/os-release && echo "$VERSION_ID")
  [ -n "$want" ] && [ "$want" = "$have" ] || { echo "os-release $have, commit $want" >&2; return 1; }
  for e in /boot/loader/entries/*.conf; do
    d=$(tr ' ' '\n' <"$e" | sed -n 's/^ostree=//p')
    [ -f "$(readlink -f "$d")/usr/lib/os-release" ] || { echo "entry $e -> $d missing" >&2; return 1; }
  done
  ostree admin status >/dev/null || return 1
  if grep -q '^busybox-static' <(ostree --repo=/ostree/repo show --print-metadata-key=keel.packages "$c" | tr -d "[]' " | tr , '\n'); then
    busybox true && dpkg -s busybox-static 2>/dev/null | grep -q '^Status: install ok installed' ||
      { echo "busybox-static listed but not installed" >&2; return 1; }
  fi
}

# /boot is nofail in the image's fstab: a loaded machine can boot past
# its device's timeout and leave it unmounted, and nothing in ostree or host
# works without it.  Mount it (what an administrator would do) and say how
# long it took; "late" marks a boot where it was missing.
wait_boot_mounted() {
  local i
  mountpoint -q /boot && { r boot-mount ok; return 0; }
  for i in $(seq 60); do
    systemctl start boot.mount 2>/dev/null
    mountpoint -q /boot && { r boot-mount "late-${i}"; return 0; }
    sleep 5
  done
  r boot-mount failed
  return 1
}

report_state() {
  local c
  wait_boot_mounted
  c=$(booted_commit)
  r booted "$c"
  r version "$(. /usr/lib/os-release && echo "$VERSION_ID")"
  r complete "$(deployment_complete "$c" 2>/run/keel-vmtest/complete.err && echo yes || echo no)"
  [ ! -s /run/keel-vmtest/complete.err ] || sed 's/^/KEEL-COMPLETE-ERR /' /run/keel-vmtest/complete.err
  r deployments "$(ls "$DEPLOY" | grep -v '\.origin$' | wc -l)"
  r entries "$(ls /boot/loader/entries | wc -l)"
  r loader "$(readlink /boot/loader)"
  r failed-units "$(systemctl --failed --plain --no-legend | awk '{ print $1 }' | paste -sd, | sed 's/^$/none/')"
}

set_remote() {
  sed -i "s|^url=.*|url=$1|" /etc/ostree/remotes.d/keel.conf
}

# `host status --json` as KEEL-T lines: status-json=<one line of JSON>.
report_status_json() {
  r "${1:-status-json}" "$(host status --json | tr -d '\n ' )"
}

cut_watch() {
  cat >/run/keel-vmtest/cutwatch <<'WATCH'
#!/bin/bash
# Freeze host and ostree at one point of an upgrade, then say so.
point=$1 new=$2
deploy=/ostree/deploy/keel/deploy
loader0=$(readlink /boot/loader)
# loader.N directories by inode: a new one is the bootloader being written
# (ostree may delete and recreate a stale one under the same name).
inodes0=" $(stat -c %i /boot/loader.[0-9]* 2>/dev/null | paste -sd' ') "
# Builtins only in the loop (no fork per process per poll under TCG).
freeze() {
  local p c
  for p in /proc/[0-9]*; do
    read -r c <"$p/comm" 2>/dev/null || continue
    case $c in host | ostree) kill -STOP "${p#/proc/}" 2>/dev/null ;; esac
  done
}
hit() {
  freeze
  echo "<5>KEEL-CUT: at=$point $*" >/dev/kmsg
  exec sleep infinity
}
finalizing() {
  local p a
  for p in /proc/[0-9]*; do
    mapfile -d '' -t a <"$p/cmdline" 2>/dev/null || continue
    case " ${a[*]} " in *" admin finalize-staged "*) return 0 ;; esac
  done
  return 1
}
seen_finalize=
while :; do
  case $point in
  fetch-done)
    [ -e "/ostree/repo/objects/${new:0:2}/${new:2}.commit" ] &&
      [ ! -e "/ostree/repo/state/$new.commitpartial" ] && hit ;;
  checkout-start) compgen -G "$deploy/$new.*[0-9]" >/dev/null && hit ;;
  checkout-mid) compgen -G "$deploy/$new.*[0-9]/usr/lib/modules" >/dev/null && hit ;;
  staged) [ -e /run/ostree/staged-deployment ] && hit ;;
  finalize-start) finalizing && hit ;;
  etc-merge) finalizing && compgen -G "$deploy/$new.*[0-9]/etc/machine-id" >/dev/null && hit ;;
  bootloader-write)
    if finalizing; then
      for l in /boot/loader.[0-9]*; do
        i=$(stat -c %i "$l" 2>/dev/null) || continue
        case $inodes0 in *" $i "*) ;; *) hit "$l" ;; esac
      done
    fi ;;
  bootloader-switched) [ /boot/loader -ef "/boot/$loader0" ] || hit ;;
  finalize-armed)
    if finalizing; then seen_finalize=1; fi
    [ -n "$seen_finalize" ] && grep -q '^keel_pending=/' /boot/grub/grubenv 2>/dev/null && hit ;;
  *) echo "<3>KEEL-CUT: unknown point $point" >/dev/kmsg; exit 1 ;;
  esac
  sleep 0.05
done
WATCH
  chmod 0755 /run/keel-vmtest/cutwatch
  # Its own unit without default dependencies: not stopped at shutdown, so
  # it sees the finalization that happens then.
  systemd-run --quiet --unit=keel-cutwatch -p DefaultDependencies=no -p IgnoreOnIsolate=yes \
    /run/keel-vmtest/cutwatch "$1" "$2"
}
