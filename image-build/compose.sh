#!/bin/bash
# compose.sh VARIANT: Debian packages + the variant definition -> an
# ostree commit on keel/$ARCH/VARIANT in the archive repo $KEEL_BUILD/repo.
#
#   1. mmdebstrap (root mode, minbase) of bookworm + updates + security, with
#      a persistent apt cache in $KEEL_APT_CACHE (default build/cache/apt);
#   2. customize.sh inside it: overlays, programs, users, units, initramfs;
#   3. the ostree layout: /etc in /usr/etc, /var shipped in
#      /usr/share/factory/var and recreated by tmpfiles, home/root/opt/srv/mnt
#      and /usr/local as symlinks into /var, /sysroot and /ostree;
#   4. ostree commit --bootable with version, source date, package list.
#
# The ref moves only when everything succeeded; a failed run removes its
# tree and leaves the repo as it was.
#
# Environment: KEEL_BUILD (build/), ARCH (x86_64), KEEL_APT_CACHE,
# KEEL_MIRROR / KEEL_SECURITY_MIRROR, KEEL_VERSION, KEEL_VARIANTS_DIR
# (image-build/variants), KEEL_PROGRAMS_DIR (where keel, keel-runtime, ...
# are taken from; KEEL_BUILD), KEEL_KERNEL_OPTIONS (image-build/kernel-options).
PROG=compose
. "$(dirname "$0")/lib.sh"

variant=${1:?usage: compose.sh VARIANT}
ARCH=${ARCH:-x86_64}
KEEL_BUILD=$(realpath -m "${KEEL_BUILD:-$KEEL_SRC/build}")
VARIANT_DIR=${KEEL_VARIANTS_DIR:-$KEEL_SRC/image-build/variants}/$variant
WORK=$KEEL_BUILD/compose/$variant
REPO=$KEEL_BUILD/repo
CACHE=$(realpath -m "${KEEL_APT_CACHE:-$KEEL_BUILD/cache/apt}")
REF=keel/$ARCH/$variant
case $ARCH in
x86_64) debarch=amd64 ;;
aarch64) debarch=arm64 ;;
*) die "unknown architecture '$ARCH'" ;;
esac
[ "$(id -u)" = 0 ] || die "composing an image needs root (mmdebstrap --mode=root, chroot)"
[ -d "$VARIANT_DIR" ] || die "unknown variant '$variant' (no $VARIANT_DIR)"
for f in packages overlays units kargs users; do
  [ -f "$VARIANT_DIR/$f" ] || die "variant '$variant' lacks its '$f' file ($VARIANT_DIR/$f)"
done
for o in $(read_list "$VARIANT_DIR/overlays"); do
  [ -d "$KEEL_SRC/image-build/overlays/$o" ] ||
    die "overlay '$o' listed in $VARIANT_DIR/overlays does not exist (image-build/overlays/$o)"
done
for t in mmdebstrap ostree; do
  command -v $t >/dev/null || die "'$t' is not installed (run make deps)"
done
mirrors

mkdir -p "$WORK" "$CACHE/archives" "$CACHE/lists"
need_space "$WORK" 2500
tree=$WORK/tree
log=$WORK/compose.log
export KEEL_ERROR_FILE=$WORK/error
: >"$log"
rm -f "$KEEL_ERROR_FILE" "$WORK/packages.txt" "$WORK/kver"

# A tree left by a killed run may still have API filesystems mounted in it.
remove_tree() {
  local m
  for m in $(findmnt -rn -o TARGET | grep -F "$tree/" | sort -r); do umount -l "$m"; done
  rm -rf --one-file-system "$tree"
}
remove_tree
on_exit remove_tree

version=${KEEL_VERSION:-0.1.$(date -u +%Y%m%d.%H%M%S)}
source_date=$(git -C "$KEEL_SRC" log -1 --format=%cI 2>/dev/null || date -u -Iseconds)
git_rev=$(git -C "$KEEL_SRC" describe --always --dirty 2>/dev/null || echo unknown)

note "mmdebstrap $variant ($(read_list "$VARIANT_DIR/packages" | wc -l) packages listed; log in $log)"
sources=("deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main")
[ -z "$SECURITY_MIRROR" ] || sources+=("deb $SECURITY_MIRROR bookworm-security main")
export VARIANT_DIR WORK KEEL_BUILD
t0=$(date +%s)
step "$log" "mmdebstrap" mmdebstrap --mode=root --variant=minbase --arch="$debarch" \
  --components=main \
  --include="$(read_list "$VARIANT_DIR/packages" | paste -sd,)" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --skip=essential/unlink \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives" "$1/var/lib/apt/lists"' \
  --setup-hook="mount --bind $CACHE/archives \"\$1/var/cache/apt/archives\"" \
  --setup-hook="mount --bind $CACHE/lists \"\$1/var/lib/apt/lists\"" \
  --essential-hook="\"$KEEL_SRC/image-build/no-initramfs-hook.sh\" add \"\$1\"" \
  --customize-hook='umount "$1/var/cache/apt/archives" "$1/var/lib/apt/lists"' \
  --customize-hook="\"$KEEL_SRC/image-build/no-initramfs-hook.sh\" remove \"\$1\"" \
  --customize-hook="\"$KEEL_SRC/image-build/customize.sh\" \"\$1\"" \
  bookworm "$tree" "${sources[@]}"
kver=$(cat "$WORK/kver")
note "mmdebstrap + customize took $(($(date +%s) - t0)) s; kernel $kver"

# --- the ostree layout -------------------------------------------------------
cd "$tree"
rm -rf boot/* vmlinuz vmlinuz.old initrd.img initrd.img.old
# Everything that is state moves under /var first ...
mv root var/roothome
mv home var/home
for d in opt srv mnt; do mv "$d" "var/$d"; done
mv usr/local var/usrlocal
ln -s var/roothome root
ln -s var/home home
for d in opt srv mnt; do ln -s "var/$d" "$d"; done
ln -s ../var/usrlocal usr/local
rm -rf media
ln -s run/media media
# ... then /var itself ships as a factory copy: ostree never copies a
# commit's /var into the machine's, so tmpfiles recreates it at boot.  Paths
# some package's tmpfiles.d already creates are left to that package.
mkdir -p usr/share/factory
mv var usr/share/factory/var
mkdir var
factory_tmpfiles() {
  local known e1 e2
  known=$(cat usr/lib/tmpfiles.d/*.conf 2>/dev/null |
    awk '$1 ~ /^[dDCLvqQ]/ { print $2 }' | sort -u)
  is_known() { grep -qxF "$1" <<<"$known"; }
  echo "# Generated by image-build/compose.sh: recreate the image's /var."
  # The package database describes /usr, so it lives with it: a link, never
  # a copy that an upgrade would leave stale.
  echo "L /var/lib/dpkg - - - - /usr/share/factory/var/lib/dpkg"
  for e1 in usr/share/factory/var/*; do
    local p1=/var/${e1#usr/share/factory/var/}
    if ! is_known "$p1"; then
      if [ -L "$e1" ]; then echo "L $p1 - - - - $(readlink "$e1")"; else echo "C $p1 - - - - /$e1"; fi
      continue
    fi
    [ -d "$e1" ] && [ ! -L "$e1" ] || continue
    for e2 in "$e1"/*; do
      [ -e "$e2" ] || [ -L "$e2" ] || continue
      local p2=/var/${e2#usr/share/factory/var/}
      is_known "$p2" && continue
      [ "$p2" != /var/lib/dpkg ] || continue
      if [ -L "$e2" ]; then echo "L $p2 - - - - $(readlink "$e2")"; else echo "C $p2 - - - - /$e2"; fi
    done
  done
}
factory_tmpfiles >usr/lib/tmpfiles.d/keel-factory-var.conf
# /etc is the default configuration; ostree merges it into the machine's.
mv etc usr/etc
# API filesystems are mounted at boot; mmdebstrap leaves device nodes.
rm -rf dev proc sys run tmp
mkdir dev proc sys run tmp sysroot
chmod 1777 tmp
ln -s sysroot/ostree ostree
# Identify the OS as Keel (ID_LIKE keeps Debian tools happy).
cat >usr/lib/os-release <<OSR
PRETTY_NAME="Keel $version ($variant)"
NAME="Keel"
ID=keel
ID_LIKE=debian
VERSION="$version"
VERSION_ID=$version
VARIANT_ID=$variant
HOME_URL="file:///usr/share/doc/keel"
OSR
tree_mb=$(du -sm . | cut -f1)
cd "$KEEL_SRC"

# --- commit ------------------------------------------------------------------
[ -d "$REPO/objects" ] || step "$log" "ostree init" ostree --repo="$REPO" init --mode=archive
pkgs=$(sed -e "s/'/\\\\'/g" -e "s/.*/'&'/" "$WORK/packages.txt" | paste -sd,)
need_space "$REPO" 600
t1=$(date +%s)
step "$log" "ostree commit" ostree --repo="$REPO" commit --branch="$REF" --bootable \
  --tree=dir="$tree" --consume --no-bindings \
  --subject="Keel $variant $version" \
  --add-metadata-string=version="$version" \
  --add-metadata-string=keel.source-date="$source_date" \
  --add-metadata-string=keel.git="$git_rev" \
  --add-metadata-string=keel.variant="$variant" \
  --add-metadata-string=keel.kernel="$kver" \
  --add-metadata-string=keel.kargs="$(read_list "$VARIANT_DIR/kargs" | paste -sd' ')" \
  --add-metadata=keel.packages="[$pkgs]"
commit=$(ostree --repo="$REPO" rev-parse "$REF")
note "committed $REF = $commit (version $version) in $(($(date +%s) - t1)) s"
echo "$commit" >"$WORK/commit"
echo "$tree_mb" >"$WORK/tree-mb"
