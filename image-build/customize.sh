#!/bin/bash
# customize.sh ROOT: run by mmdebstrap (as a customize hook, with /proc,
# /sys and /dev mounted in ROOT) after the packages are installed.  Applies
# the variant: overlays, Keel's programs, users, enabled units, the
# initramfs.  Environment from compose.sh: VARIANT_DIR, WORK, KEEL_BUILD.
PROG=compose
. "$(dirname "$0")/lib.sh"
root=$1
vdir=$VARIANT_DIR

# Overlays, in the order the variant lists them.  Git keeps only the
# executable bit, so modes that matter are set here.
for o in $(read_list "$vdir/overlays"); do
  cp -a --no-preserve=ownership "$KEEL_SRC/image-build/overlays/$o/." "$root/"
done
[ ! -d "$root/etc/sudoers.d" ] || chmod 0440 "$root"/etc/sudoers.d/*
install -m 0755 "$KEEL_SRC/image-build/grub-mkconfig" "$root/usr/sbin/grub-mkconfig"

# Keel's own programs, when the tree has built them (make programs).
progs=${KEEL_PROGRAMS_DIR:-$KEEL_BUILD}
for p in keel keel-runtime keel-monitor keel-init host; do
  if [ -x "$progs/$p" ]; then
    install -m 0755 "$progs/$p" "$root/usr/bin/$p"
    echo "installed $p" >&2
    # Every library it links must come from a package of the variant.
    # (ldd fails on a static program such as keel-monitor: nothing missing then)
    missing=$({ chroot "$root" ldd "/usr/bin/$p" 2>&1 || true; } | awk '/not found/ { print $1 }' | paste -sd' ')
    [ -z "$missing" ] ||
      die "$p needs $missing, which no package of $vdir/packages provides"
  fi
done

# .container files in /etc/keel/systemd (and /etc/containers/systemd,
# /usr/share/keel/systemd) become services at boot and daemon-reload.
gen=$root/usr/lib/systemd/system-generators
if [ -x "$progs/keel-systemd-generator" ]; then
  mkdir -p "$gen" && install -m 0755 "$progs/keel-systemd-generator" "$gen/keel-systemd-generator"
  echo "installed keel-systemd-generator" >&2
fi

# Users: a home under /home (a symlink into /var on the host), no password.
while read -r name groups; do
  chroot "$root" useradd --create-home --shell /bin/bash ${groups:+--groups "$groups"} "$name"
done < <(read_list "$vdir/users")

# Units.  Debian keeps tmp.mount as an example only; Keel mounts /tmp as
# tmpfs (the deployment's root directory is not the place for scratch files).
[ -e "$root/usr/lib/systemd/system/tmp.mount" ] ||
  cp "$root/usr/share/systemd/tmp.mount" "$root/usr/lib/systemd/system/tmp.mount"
for u in $(read_list "$vdir/units"); do
  found=
  for d in etc/systemd/system usr/lib/systemd/system lib/systemd/system; do
    [ -e "$root/$d/$u" ] && found=1
  done
  [ -n "$found" ] || die "unit '$u' listed in $vdir/units is in no package or overlay"
  systemctl --root="$root" --quiet enable "$u"
done
# systemd-firstboot would prompt on the console of every new machine; Keel
# machines are configured by image, credentials and /etc instead.
systemctl --root="$root" --quiet mask systemd-firstboot.service
# A server: no graphical target.
systemctl --root="$root" --quiet set-default multi-user.target

# Per-machine identity is made on first boot, never shipped.
rm -f "$root"/etc/ssh/ssh_host_* "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"

# The kernel, its configuration and the initramfs live together in
# /usr/lib/modules/$KVER, where ostree looks for them.
kvers=$(ls "$root/usr/lib/modules")
[ "$(echo "$kvers" | wc -w)" = 1 ] || die "expected one kernel in the image, found: $kvers"
kver=$kvers
kdir=$root/usr/lib/modules/$kver
cp "$root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
cp "$root/boot/config-$kver" "$kdir/config"
# Booting needs image-build/kernel-options; containers need what keel checks.
msg=$("$KEEL_SRC/image-build/check-kernel-config" "$kdir/config" \
  "${KEEL_KERNEL_OPTIONS:-$KEEL_SRC/image-build/kernel-options}" 2>&1) || die "${msg#compose: }"
msg=$("$progs/keel" system check-kernel --quiet --config "$kdir/config" 2>&1) ||
  die "kernel $kver: $(echo "${msg:-keel system check-kernel failed}" | sed -n '1s/^keel: kernel //p')"
mkdir -p "$root/usr/lib/dracut/dracut.conf.d" "$root/usr/lib/dracut/modules.d"
cp "$KEEL_SRC"/initramfs/dracut.conf.d/*.conf "$root/usr/lib/dracut/dracut.conf.d/"
cp -a "$KEEL_SRC"/initramfs/modules.d/. "$root/usr/lib/dracut/modules.d/"
chroot "$root" dracut --quiet --force --kver "$kver" "/usr/lib/modules/$kver/initramfs.img" \
  2>"$WORK/dracut.log" || die "dracut failed: $(grep -m1 -i -E 'fail|error' "$WORK/dracut.log")"
if grep -q -E 'FAILED|ERROR' "$WORK/dracut.log"; then
  die "dracut failed: $(grep -m1 -E 'FAILED|ERROR' "$WORK/dracut.log")"
fi
[ -s "$kdir/initramfs.img" ] || die "dracut wrote no initramfs for $kver"

# The package list with versions, for the commit metadata.
chroot "$root" dpkg-query -W -f '${Package}=${Version}\n' | sort >"$WORK/packages.txt"
echo "$kver" >"$WORK/kver"
