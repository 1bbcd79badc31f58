#!/bin/bash
# keel-growroot MOUNTPOINT: grow the partition holding MOUNTPOINT to the end
# of its disk, then its ext4 filesystem, and print one marker line.  Does
# nothing when there is no room to grow (every boot after the first).
set -u
mnt=${1:-/sysroot}
say() { echo "KEEL-INITRAMFS: $*"; }

dev=$(findmnt -n -o SOURCE --target "$mnt" 2>/dev/null || true)
[ -n "$dev" ] || dev=$(awk -v m="$mnt" '$2 == m { print $1 }' /proc/mounts)
dev=$(readlink -f "$dev")
name=${dev##*/}
sys=/sys/class/block/$name
if [ ! -e "$sys/partition" ]; then
  say "root $dev is not a partition; not growing"
  exit 0
fi
partno=$(cat "$sys/partition")
disk=/dev/$(basename "$(readlink -f "$sys/..")")
disk_sectors=$(cat "/sys/class/block/${disk##*/}/size")
start=$(cat "$sys/start")
size=$(cat "$sys/size")
# GPT keeps 33 sectors of backup table at the end; leave 1 MiB of slack so
# that alignment never makes us "grow" by a few sectors every boot.
free=$((disk_sectors - start - size - 34))
if [ "$free" -lt 2048 ]; then
  say "root $dev fills $disk ($((size / 2048)) MiB)"
  exit 0
fi
# The disk was enlarged after the image was written: move GPT's backup
# header to the new end, then give the root partition all the space.
sfdisk --relocate gpt-bak-std "$disk" >/dev/null 2>&1 || true
if ! echo ", +" | sfdisk --no-reread --no-tell-kernel -q -N "$partno" "$disk" >/dev/null 2>/tmp/growroot.err; then
  say "growing partition $partno of $disk failed: $(tail -n 1 /tmp/growroot.err)"
  exit 0
fi
partx -u -n "$partno" "$disk" || say "partx could not update $dev"
if ! resize2fs "$dev" >/dev/null 2>/tmp/growroot.err; then
  say "growing the filesystem on $dev failed: $(tail -n 1 /tmp/growroot.err)"
  exit 0
fi
say "grew root $dev from $((size / 2048)) MiB to $(($(cat "$sys/size") / 2048)) MiB"
