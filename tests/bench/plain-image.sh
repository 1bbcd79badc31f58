#!/bin/bash
# plain-image.sh OUT.qcow2: the bench's reference, a plain Debian image with
# the server variant's packages (minus ostree), overlays and units, but no
# ostree: one ext4 root holding /boot, the same standalone GRUB and the same
# dracut initramfs (without the ostree module).  Only tests/bench/image.sh
# uses it.  Environment: KEEL_BUILD (work dir), KEEL_APT_CACHE.
PROG=plain-image
. "$(dirname "$0")/../../image-build/lib.sh"
out=${1:?usage: plain-image.sh OUT.qcow2}
KEEL_BUILD=$(realpath -m "${KEEL_BUILD:-$KEEL_SRC/build}")
CACHE=$(realpath -m "${KEEL_APT_CACHE:-$KEEL_SRC/build/cache/apt}")
vdir=$KEEL_SRC/image-build/variants/server
work=$KEEL_BUILD/plain
tree=$work/tree
log=$work/plain.log
mirrors
mkdir -p "$work" "$CACHE/archives" "$CACHE/lists"
: >"$log"
remove_tree() {
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$tree/" | sort -r); do umount -l "$m"; done
  rm -rf --one-file-system "$tree"
}
remove_tree
on_exit remove_tree

pkgs=$(read_list "$vdir/packages" | grep -v -x -E 'ostree|ostree-boot' | paste -sd,)
cat >"$work/customize.sh" <<'HOOK'
#!/bin/bash
set -euo pipefail
root=$1
for o in $(sed -e 's/#.*//' -e '/^\s*$/d' "$VDIR/overlays"); do
  cp -a --no-preserve=ownership "$KEEL_SRC/image-build/overlays/$o/." "$root/"
done
chmod 0440 "$root"/etc/sudoers.d/*
printf 'LABEL=plain-root / ext4 defaults 0 1\n' >"$root/etc/fstab"
cp "$root/usr/share/systemd/tmp.mount" "$root/usr/lib/systemd/system/tmp.mount"
for u in $(sed -e 's/#.*//' -e '/^\s*$/d' "$VDIR/units"); do systemctl --root="$root" -q enable "$u"; done
systemctl --root="$root" -q mask systemd-firstboot.service
systemctl --root="$root" -q set-default multi-user.target
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo keel
rm -f "$root"/etc/ssh/ssh_host_* "$root/etc/machine-id"
kver=$(ls "$root/usr/lib/modules")
mkdir -p "$root/usr/lib/dracut/dracut.conf.d"
cp "$KEEL_SRC"/initramfs/dracut.conf.d/*.conf "$root/usr/lib/dracut/dracut.conf.d/"
cp -a "$KEEL_SRC"/initramfs/modules.d/. "$root/usr/lib/dracut/modules.d/"
sed -i 's/ ostree keel / keel /' "$root/usr/lib/dracut/dracut.conf.d/50-keel.conf"
chroot "$root" dracut --quiet --force --kver "$kver" "/boot/initramfs-$kver.img"
mkdir -p "$root/boot/grub"
cat >"$root/boot/grub/grub.cfg" <<CFG
set default=0
set timeout=1
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry 'Debian (plain)' {
  linux /boot/vmlinuz-$kver root=LABEL=plain-root rw console=ttyS0,115200
  initrd /boot/initramfs-$kver.img
}
CFG
HOOK
chmod +x "$work/customize.sh"
export VDIR=$vdir KEEL_SRC
sources=("deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main")
[ -z "$SECURITY_MIRROR" ] || sources+=("deb $SECURITY_MIRROR bookworm-security main")
step "$log" "mmdebstrap (plain)" mmdebstrap --mode=root --variant=minbase --components=main \
  --include="$pkgs" --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --skip=essential/unlink \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives" "$1/var/lib/apt/lists"' \
  --setup-hook="mount --bind $CACHE/archives \"\$1/var/cache/apt/archives\"" \
  --setup-hook="mount --bind $CACHE/lists \"\$1/var/lib/apt/lists\"" \
  --essential-hook="\"$KEEL_SRC/image-build/no-initramfs-hook.sh\" add \"\$1\"" \
  --customize-hook='umount "$1/var/cache/apt/archives" "$1/var/lib/apt/lists"' \
  --customize-hook="\"$KEEL_SRC/image-build/no-initramfs-hook.sh\" remove \"\$1\"" \
  --customize-hook="\"$work/customize.sh\" \"\$1\"" \
  bookworm "$tree" "${sources[@]}"
rm -rf "$tree"/dev/* "$tree"/vmlinuz* "$tree"/initrd.img*

# One ext4 root filled straight from the tree (mkfs.ext4 -d): no loop device.
tree_mb=$(du -sm "$tree" | cut -f1)
root_mb=$(((tree_mb * 5 / 4 + 320 + 63) / 64 * 64))
raw=$work/plain.raw
rm -f "$raw" "$work/root.img" "$work/esp.img"
truncate -s $((1 + 64 + root_mb + 1))M "$raw"
step "$log" "partitioning" sfdisk -q "$raw" <<SFDISK
label: gpt
first-lba: 2048
1 : size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
2 : type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
SFDISK
part() { partx -g -o START,SECTORS -n "$1" "$raw" | awk '{ print $'"$2"' }'; }
step "$log" "mkfs root" mkfs.ext4 -q -F -L plain-root -d "$tree" "$work/root.img" $(($(part 2 2) / 2))k
step "$log" "root write" dd if="$work/root.img" of="$raw" bs=1M seek=$(($(part 2 1) * 512)) \
  oflag=seek_bytes conv=notrunc,sparse status=none
cat >"$work/embedded.cfg" <<'GRUB'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
echo "KEEL-GRUB: searching the plain-root partition"
search --no-floppy --label plain-root --set=root
configfile ($root)/boot/grub/grub.cfg
GRUB
mods="part_gpt ext2 fat search search_label configfile normal linux echo serial terminal test sleep efi_gop all_video"
step "$log" "grub-mkstandalone" grub-mkstandalone -O x86_64-efi --compress=xz \
  --modules="$mods" --install-modules="$mods" --locales= --fonts= --themes= \
  -o "$work/BOOTX64.EFI" "boot/grub/grub.cfg=$work/embedded.cfg"
step "$log" "mkfs ESP" mkfs.vfat -F 32 -S 512 -s 1 -n PLAIN-ESP -C "$work/esp.img" $((64 * 1024))
step "$log" "ESP" mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
step "$log" "ESP GRUB" mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
step "$log" "ESP write" dd if="$work/esp.img" of="$raw" bs=1M seek=$(($(part 1 1) * 512)) \
  oflag=seek_bytes conv=notrunc,sparse status=none
step "$log" "qemu-img convert" qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd "$raw" "$out.tmp"
mv "$out.tmp" "$out"
rm -f "$raw" "$work/root.img" "$work/esp.img"
