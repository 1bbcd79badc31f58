#!/bin/sh
# no-initramfs-hook.sh add|remove ROOT: keep Debian's kernel hooks from
# building an initramfs while packages install (customize.sh builds Keel's,
# once, with Keel's configuration).  The packaged hook is diverted aside and
# a no-op stands in its place; "remove" restores the packaged file.
set -eu
hook=/etc/kernel/postinst.d/dracut
root=$2
case $1 in
add)
  chroot "$root" dpkg-divert --quiet --local --no-rename --divert "$hook.keel" --add "$hook"
  mkdir -p "$root/etc/kernel/postinst.d"
  printf '#!/bin/sh\n# disabled during the Keel compose\nexit 0\n' >"$root$hook"
  chmod 0755 "$root$hook"
  ;;
remove)
  rm -f "$root$hook"
  chroot "$root" dpkg-divert --quiet --local --no-rename --remove "$hook"
  [ ! -e "$root$hook.keel" ] || mv "$root$hook.keel" "$root$hook"
  ;;
esac
