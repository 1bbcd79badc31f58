#!/bin/bash
# disk.sh VARIANT: the ostree commit keel/$ARCH/VARIANT -> bootable disk
# images $KEEL_BUILD/images/keel-$ARCH-VARIANT.{raw,qcow2}.
#
# GPT: 1 ESP (FAT32, written with mtools: the build machine's kernel may
# lack vfat) holding a standalone GRUB at the removable-media path; 2 ext4
# /boot (ostree's boot entries, kernels, initramfs); 3 ext4 root (the ostree
# sysroot).  The root is small and grows to the disk on first boot.
#
# Optional access, written into the deployment's /etc (never the commit):
#   SSH_KEY=FILE|KEY        authorized key(s) for root and the variant's users
#   PASSWORD_HASH=HASH      crypt(3) hash for the same accounts (console login)
#
# Outputs are built under temporary names and renamed at the very end, so a
# failed build never replaces a good image.
PROG=image
. "$(dirname "$0")/lib.sh"

variant=${1:?usage: disk.sh VARIANT}
ARCH=${ARCH:-x86_64}
KEEL_BUILD=$(realpath -m "${KEEL_BUILD:-$KEEL_SRC/build}")
VARIANT_DIR=${KEEL_VARIANTS_DIR:-$KEEL_SRC/image-build/variants}/$variant
REPO=$KEEL_BUILD/repo
REF=keel/$ARCH/$variant
OUT=$KEEL_BUILD/images
name=keel-$ARCH-$variant
WORK=$KEEL_BUILD/disk/$variant
REMOTE_URL=${REMOTE_URL:-http://10.0.2.2:8080/repo}
ESP_MB=64
BOOT_MB=256

[ "$(id -u)" = 0 ] || die "building a disk image needs root (loop devices, mounts)"
[ -d "$VARIANT_DIR" ] || die "unknown variant '$variant' (no $VARIANT_DIR)"
[ "$ARCH" = x86_64 ] || die "disk images for '$ARCH' are not supported yet"
for t in ostree sfdisk partx losetup mkfs.ext4 mkfs.vfat mmd mcopy qemu-img grub-mkstandalone; do
  command -v $t >/dev/null || die "'$t' is not installed (run make deps)"
done
commit=$(ostree --repo="$REPO" rev-parse "$REF" 2>/dev/null) ||
  die "no commit on $REF in $REPO (run the compose first: make compose)"
tree_mb=$(cat "$KEEL_BUILD/compose/$variant/tree-mb" 2>/dev/null || echo 800)

mkdir -p "$OUT" "$WORK"
log=$WORK/disk.log
: >"$log"
# Root: the content once, plus room for ostree's metadata, a second
# deployment's changed files and first-boot state; it grows on first boot.
root_mb=$(((tree_mb * 5 / 4 + 320 + 63) / 64 * 64))
disk_mb=$((1 + ESP_MB + BOOT_MB + root_mb + 1))
need_space "$OUT" $((disk_mb * 2 + 200))

raw_tmp=$OUT/.$name.raw.tmp
qcow_tmp=$OUT/.$name.qcow2.tmp
mnt=$WORK/mnt
loops=()
cleanup() {
  local l
  sync
  umount "$mnt/boot" 2>/dev/null || true
  umount "$mnt" 2>/dev/null || true
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  rm -f "$raw_tmp" "$qcow_tmp" "$WORK/esp.img"
}
on_exit cleanup
rm -f "$raw_tmp" "$qcow_tmp"

note "disk $name.raw: ESP ${ESP_MB} MiB, /boot ${BOOT_MB} MiB, root ${root_mb} MiB; commit ${commit:0:12}"
truncate -s "${disk_mb}M" "$raw_tmp"
step "$log" "partitioning" sfdisk -q "$raw_tmp" <<SFDISK
label: gpt
first-lba: 2048
1 : size=${ESP_MB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
2 : size=${BOOT_MB}MiB, type=BC13C2FF-59E6-4262-A352-B275FD6F7172, name="boot"
3 : type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
SFDISK
part() { partx -g -o START,SECTORS -n "$1" "$raw_tmp" | awk '{ print $'"$2"' }'; }

# A loop device per partition (offset + size limit): no partition scanning,
# so no waiting for partition nodes to appear.  Sets $loop.
loop_for() {
  local start sectors
  start=$(part "$1" 1)
  sectors=$(part "$1" 2)
  loop=$(losetup --find --show --offset $((start * 512)) --sizelimit $((sectors * 512)) \
    "$raw_tmp" 2>>"$log") || die "no free loop device (losetup --find failed: $(tail -n 1 "$log"))"
  loops+=("$loop")
}
loop_for 2
boot_dev=$loop
loop_for 3
root_dev=$loop
step "$log" "mkfs /boot" mkfs.ext4 -q -F -L keel-boot "$boot_dev"
step "$log" "mkfs root" mkfs.ext4 -q -F -L keel-root "$root_dev"
mkdir -p "$mnt"
step "$log" "mount root" mount "$root_dev" "$mnt"
mkdir -p "$mnt/boot"
step "$log" "mount /boot" mount "$boot_dev" "$mnt/boot"

# --- ostree sysroot ----------------------------------------------------------
t0=$(date +%s)
step "$log" "ostree admin init-fs" ostree admin init-fs --modern "$mnt"
step "$log" "ostree admin os-init" ostree admin --sysroot="$mnt" os-init keel
sysrepo=$mnt/ostree/repo
# libostree's grub2 backend writes loader.N/grub.cfg through grub-mkconfig;
# GRUB itself loads /loader/grub.cfg (image-build/grub-mkconfig).
step "$log" "ostree config" ostree --repo="$sysrepo" config set sysroot.bootloader grub2
mkdir -p "$mnt/boot/grub"
ln -sfn ../loader/grub.cfg "$mnt/boot/grub/grub.cfg"
step "$log" "ostree remote add" ostree --repo="$sysrepo" remote add --if-not-exists \
  --no-gpg-verify keel "$REMOTE_URL"
step "$log" "ostree pull-local" ostree --repo="$sysrepo" pull-local --remote=keel "$REPO" "$commit"
step "$log" "ostree refs" ostree --repo="$sysrepo" refs --create="keel:$REF" "$commit"
kargs=()
for k in $(read_list "$VARIANT_DIR/kargs"); do kargs+=(--karg-append="$k"); done
OSTREE_GRUB2_EXEC=$KEEL_SRC/image-build/grub-mkconfig \
  step "$log" "ostree admin deploy" ostree admin --sysroot="$mnt" deploy --os=keel \
  "${kargs[@]}" "keel:$REF"
note "deployed in $(($(date +%s) - t0)) s"
deploy=$(ls -d "$mnt/ostree/deploy/keel/deploy/$commit".*[0-9] | head -n 1)
[ -d "$deploy/usr" ] || die "ostree admin deploy left no deployment of $commit"
[ -s "$mnt/boot/loader/grub.cfg" ] || die "ostree wrote no /boot/loader/grub.cfg"

# --- access, per image ---------------------------------------------------------
users="root $(read_list "$VARIANT_DIR/users" | awk '{ print $1 }' | paste -sd' ')"
if [ -n "${SSH_KEY:-}" ]; then
  key=$SSH_KEY
  [ ! -f "$key" ] || key=$(cat "$key")
  grep -q -E '^(ssh-|ecdsa-|sk-)' <<<"$key" || die "SSH_KEY is not a public key or a file holding one"
  install -d -m 0755 "$deploy/etc/ssh/authorized_keys.d"
  for u in $users; do printf '%s\n' "$key" >"$deploy/etc/ssh/authorized_keys.d/$u"; done
  note "SSH key installed for: $users"
fi
if [ -n "${PASSWORD_HASH:-}" ]; then
  case $PASSWORD_HASH in '$'*) ;; *) die "PASSWORD_HASH must be a crypt(3) hash (mkpasswd -m yescrypt)" ;; esac
  for u in $users; do
    awk -F: -v OFS=: -v u="$u" -v h="$PASSWORD_HASH" '$1 == u { $2 = h } { print }' \
      "$deploy/etc/shadow" >"$deploy/etc/shadow.new"
    chmod --reference="$deploy/etc/shadow" "$deploy/etc/shadow.new"
    mv "$deploy/etc/shadow.new" "$deploy/etc/shadow"
  done
  note "password hash set for: $users"
fi

du_root=$(df -Pm "$mnt" | awk 'NR == 2 { print $3 }')
du_boot=$(df -Pm "$mnt/boot" | awk 'NR == 2 { print $3 }')
sync
umount "$mnt/boot"
umount "$mnt"
for l in "${loops[@]}"; do losetup -d "$l"; done
loops=()

# --- ESP with GRUB ---------------------------------------------------------------
cat >"$WORK/grub-embedded.cfg" <<'GRUB'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
echo "KEEL-GRUB: searching the keel-boot partition"
search --no-floppy --label keel-boot --set=root
configfile ($root)/loader/grub.cfg
echo "KEEL-GRUB: no /loader/grub.cfg on the keel-boot partition"
sleep 10
GRUB
mods="part_gpt ext2 fat search search_label configfile normal linux echo serial terminal test sleep efi_gop all_video loadenv"
step "$log" "grub-mkstandalone" grub-mkstandalone -O x86_64-efi --compress=xz \
  --modules="$mods" --install-modules="$mods" --locales= --fonts= --themes= \
  -o "$WORK/BOOTX64.EFI" "boot/grub/grub.cfg=$WORK/grub-embedded.cfg"
rm -f "$WORK/esp.img"
step "$log" "mkfs ESP" mkfs.vfat -F 32 -S 512 -s 1 -n KEEL-ESP -C "$WORK/esp.img" $((ESP_MB * 1024))
step "$log" "ESP directories" mmd -i "$WORK/esp.img" ::/EFI ::/EFI/BOOT
step "$log" "ESP GRUB" mcopy -i "$WORK/esp.img" "$WORK/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
step "$log" "ESP write" dd if="$WORK/esp.img" of="$raw_tmp" bs=1M seek=$(($(part 1 1) * 512)) \
  oflag=seek_bytes conv=notrunc,sparse status=none
rm -f "$WORK/esp.img"

# --- outputs -----------------------------------------------------------------------
step "$log" "qemu-img convert" qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd \
  "$raw_tmp" "$qcow_tmp"
mv -f "$raw_tmp" "$OUT/$name.raw"
mv -f "$qcow_tmp" "$OUT/$name.qcow2"
echo "$commit" >"$OUT/$name.commit"
note "wrote $OUT/$name.qcow2 ($(du -m "$OUT/$name.qcow2" | cut -f1) MiB; root ${du_root} MiB used, /boot ${du_boot} MiB used)"
