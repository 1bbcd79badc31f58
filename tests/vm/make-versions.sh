#!/bin/bash
# make-versions.sh: the update repo the host upgrade VM tests and the
# upgrade benchmark serve, derived in seconds from the built image's commit
# (build/repo, ref keel/$ARCH/server) without running mmdebstrap again.
#
#   tests/vm/make-versions.sh        -> $KEEL_BUILD/upgrade/ (up to date: no-op)
#
# Commits (all in the archive repo $KEEL_BUILD/upgrade/repo, kept by refs
# test/NAME; each with its version, os-release, package list metadata):
#   v1     the image's own commit, copied with its signature
#   v2     v1 + exactly one added Debian package, busybox-static, from the
#          apt cache: its files (dpkg -x, the image's path excludes, moved to
#          merged-/usr and ostree places), its dpkg status entry and info
#          files — what `dpkg -i` would have changed
#   v3     v1 + /usr/etc/keel/health.d/50-test-fail, a health check that
#          always fails (the automatic-rollback test)
#   wrong  v1 + one file, signed by a different (throwaway) key
#   v4     v2 + /usr/share/keel/test-release, v5: v4 + the same file changed
#          (the power-cut chain upgrades v1 -> v2 -> v4 -> v5)
# No ostree.sizes metadata on the derived commits (--generate-sizes reads
# every object of the tree: minutes, against seconds without): host's
# space check then assumes min-free-root (host/README.md).
# Every commit but wrong is signed with the image's key (signing_key,
# image-build/lib.sh), has a static delta from its parent, and
#
#   $KEEL_BUILD/upgrade/serve/STATE/repo     STATE in v1 v2 v3 wrong v4 v5
#
# is a static-servable repo whose ref keel/$ARCH/server is at that commit,
# with its own signed summary (objects, deltas, config shared by relative
# symlinks).  A test serves serve/STATE (tests/lib/webserver.sh) and moves
# between states by re-pointing one symlink.  $KEEL_BUILD/upgrade/versions
# lists "NAME COMMIT VERSION"; $KEEL_BUILD/upgrade/change the size figures of
# the v1 -> v2 change (for tests/bench/upgrade.sh).
#
# Runs under a lock (prove -j2 runs VM tests side by side) and rebuilds only
# when the image's commit, the key or this script changed.
PROG=make-versions
. "$(dirname "$0")/../../image-build/lib.sh"

ARCH=${ARCH:-x86_64}
KEEL_BUILD=$(realpath -m "${KEEL_BUILD:-$KEEL_SRC/build}")
SRC=$KEEL_BUILD/repo
REF=keel/$ARCH/server
OUT=$KEEL_BUILD/upgrade
PKG=busybox-static

[ "$(id -u)" = 0 ] || die "needs root (the derived trees are owned by root)"
v1=$(ostree --repo="$SRC" rev-parse "$REF" 2>/dev/null) ||
  die "no commit on $REF in $SRC (make compose)"
signing_key
stamp="$v1 $GPG_KEY $(sha256sum "$0" | cut -c1-16)"

exec 9>"$KEEL_BUILD/.upgrade.lock"
flock 9
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ]; then
  exit 0
fi

# The package comes from an apt cache: the image's, then this machine's.
deb=
for d in "$KEEL_BUILD/cache/apt/archives" "${KEEL_APT_CACHE:-}/archives" /var/cache/apt/archives; do
  [ -d "$d" ] || continue
  deb=$(ls "$d"/${PKG}_*_amd64.deb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -z "$deb" ] || break
done
[ -n "$deb" ] || die "no $PKG .deb in an apt cache (make deps installs it: apt-get install $PKG)"

work=$OUT.new
rm -rf "$work"
mkdir -p "$work"
on_exit "rm -rf '$work'"
log=$work/log
repo=$work/repo
step "$log" "ostree init" ostree --repo="$repo" init --mode=archive
# A test repo: no fsync per object (minutes on a loaded machine).  v1's
# objects are hard links into the build's repo: ostree never rewrites an
# object in place, so sharing them is safe, and instant where a copy
# (pull-local) takes minutes.
ostree --repo="$repo" config set core.fsync false
rm -rf "$repo/objects"
cp -al "$SRC/objects" "$repo/objects" 2>/dev/null ||
  step "$log" "copy v1" ostree --repo="$repo" pull-local "$SRC" "$v1"
step "$log" "ref v1" ostree --repo="$repo" refs --create=test/v1 "$v1"
: >"$work/versions"

meta() { ostree --repo="$repo" show --print-metadata-key="$2" "$1" 2>/dev/null || true; }

# derive NAME PARENT OVERLAY [GPG_HOME GPG_KEY]: commit PARENT's tree with
# OVERLAY on top as test/NAME (version: PARENT's base version + -NAME).
derive() {
  local name=$1 parent=$2 ov=$3 home=${4:-$GPG_HOME} key=${5:-$GPG_KEY}
  local base version args=() k v pkgs
  base=$(meta "$v1" version | tr -d "'")
  version=$base-$name
  mkdir -p "$ov/usr/lib"
  ostree --repo="$repo" cat "$parent" /usr/lib/os-release |
    sed -E -e "s/^(VERSION|VERSION_ID)=.*/\\1=$version/" \
      -e "s/^PRETTY_NAME=\"Keel [^ ]+/PRETTY_NAME=\"Keel $version/" >"$ov/usr/lib/os-release"
  for k in keel.source-date keel.git keel.variant keel.kernel keel.kargs; do
    v=$(meta "$parent" "$k" | sed -e "s/^'//" -e "s/'$//")
    [ -z "$v" ] || args+=(--add-metadata-string="$k=$v")
  done
  pkgs=$(meta "$parent" keel.packages)
  [ ! -s "$ov.packages" ] || pkgs=$(sed -e "s/.*/'&'/" "$ov.packages" | paste -sd, | sed "s/^/${pkgs%]}, /;s/$/]/")
  note "deriving $name"
  step "$log" "commit $name" ostree --repo="$repo" commit --branch="test/$name" \
    --parent="$parent" --tree=ref="$parent" --tree=dir="$ov" \
    --bootable --no-bindings --subject="Keel server $version" \
    --add-metadata-string=version="$version" "${args[@]}" \
    --add-metadata=keel.packages="$pkgs" \
    --gpg-sign="$key" --gpg-homedir="$home"
  step "$log" "delta $name" ostree --repo="$repo" static-delta generate \
    --from="$parent" --to="test/$name"
  echo "$name $(ostree --repo="$repo" rev-parse "test/$name") $version" >>"$work/versions"
}

# --- v2: one added package, installed the way dpkg would ----------------------
ov=$work/ov-v2
x=$work/deb
mkdir -p "$ov" "$x/root" "$x/control"
dpkg-deb -x "$deb" "$x/root"
dpkg-deb -e "$deb" "$x/control"
# The image's dpkg path excludes (compose.sh), so the package looks as it
# would had the compose installed it.
(cd "$x/root" && rm -rf usr/share/man usr/share/info usr/share/locale usr/share/lintian &&
  find usr/share/doc -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true)
find "$x/root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
(cd "$x/root" && find . -mindepth 1 | sed 's|^\.||' | sort) >"$x/list"
# merged /usr, /etc and /var where an ostree commit keeps them
for d in bin sbin lib lib32 lib64 libx32; do
  [ -d "$x/root/$d" ] && [ ! -L "$x/root/$d" ] || continue
  mkdir -p "$x/root/usr/$d"
  cp -a "$x/root/$d/." "$x/root/usr/$d/"
  rm -rf "${x:?}/root/$d"
done
if [ -d "$x/root/etc" ]; then mkdir -p "$x/root/usr/etc" && cp -a "$x/root/etc/." "$x/root/usr/etc/" && rm -rf "$x/root/etc"; fi
if [ -d "$x/root/var" ]; then mkdir -p "$x/root/usr/share/factory/var" && cp -a "$x/root/var/." "$x/root/usr/share/factory/var/" && rm -rf "$x/root/var"; fi
cp -a "$x/root/." "$ov/"
changed_bytes=$(find "$x/root" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')
# dpkg's database: the status entry (in name order, as dpkg writes it) and
# the info files.
dpkgdir=usr/share/factory/var/lib/dpkg
mkdir -p "$ov/$dpkgdir/info"
{
  sed -n '/^Package:/p' "$x/control/control"
  echo "Status: install ok installed"
  sed '/^Package:/d' "$x/control/control"
} >"$x/stanza"
ostree --repo="$repo" cat "$v1" "/$dpkgdir/status" >"$x/status"
awk -v pkg="$PKG" -v stanzaf="$x/stanza" '
  BEGIN { RS = ""; ORS = "\n\n"; while ((getline l < stanzaf) > 0) s = s (s == "" ? "" : "\n") l }
  { split($0, f, "\n"); name = substr(f[1], 10) }
  !done && name > pkg { print s; done = 1 }
  { print }
  END { if (!done) print s }' "$x/status" >"$ov/$dpkgdir/status"
cp "$x/status" "$ov/$dpkgdir/status-old"
cp "$x/list" "$ov/$dpkgdir/info/$PKG.list"
for f in "$x"/control/*; do
  case ${f##*/} in control) ;; *) cp "$f" "$ov/$dpkgdir/info/$PKG.${f##*/}" ;; esac
done
pkgver=$(dpkg-deb -f "$deb" Version)
echo "$PKG=$pkgver" >"$ov.packages"
derive v2 "$v1" "$ov"
cat >"$work/change" <<EOF
package $PKG=$pkgver
deb_bytes $(stat -c %s "$deb")
installed_bytes $changed_bytes
installed_size_field_kib $(dpkg-deb -f "$deb" Installed-Size)
EOF

# --- v3: a health check that fails ----------------------------------------------
ov=$work/ov-v3
mkdir -p "$ov/usr/etc/keel/health.d"
cat >"$ov/usr/etc/keel/health.d/50-test-fail" <<'EOF'
#!/bin/sh
# A health check that always fails (Keel's automatic-rollback VM test).
echo "50-test-fail: this version is broken on purpose" >&2
exit 1
EOF
chmod 0755 "$ov/usr/etc/keel/health.d/50-test-fail"
derive v3 "$v1" "$ov"

# --- wrong: signed by a key the image does not trust ---------------------------
test_key "$KEEL_BUILD/gpg-wrong" "Keel wrong test key (throwaway) <keel-wrong@invalid>"
on_exit "gpgconf --homedir '$KEEL_BUILD/gpg-wrong' --kill gpg-agent"
ov=$work/ov-wrong
mkdir -p "$ov/usr/share/keel"
echo "signed by a key nobody trusts" >"$ov/usr/share/keel/test-release"
derive wrong "$v1" "$ov" "$KEEL_BUILD/gpg-wrong" "$(cat "$KEEL_BUILD/gpg-wrong/keyid")"

# --- v4, v5: small steps after v2 ------------------------------------------------
for n in 4 5; do
  ov=$work/ov-v$n
  mkdir -p "$ov/usr/share/keel"
  echo "test release $n" >"$ov/usr/share/keel/test-release"
  [ $n = 4 ] && p=test/v2 || p=test/v4
  derive "v$n" "$(ostree --repo="$repo" rev-parse $p)" "$ov"
done

# --- one servable repo per state ---------------------------------------------------
for s in v1 v2 v3 wrong v4 v5; do
  c=$(ostree --repo="$repo" rev-parse "test/$s")
  ostree --repo="$repo" refs --delete "$REF" >/dev/null 2>&1 || true
  step "$log" "ref $s" ostree --repo="$repo" refs --create="$REF" "$c"
  step "$log" "summary $s" ostree --repo="$repo" summary -u \
    --gpg-sign="$GPG_KEY" --gpg-homedir="$GPG_HOME"
  d=$work/serve/$s/repo
  mkdir -p "$d/refs/heads/keel/$ARCH" "$d/refs/remotes" "$d/refs/mirrors"
  for e in config objects deltas delta-indexes extensions state tmp; do
    [ -e "$repo/$e" ] && ln -s "../../../repo/$e" "$d/$e"
  done
  cp "$repo/summary" "$repo/summary.sig" "$d/"
  echo "$c" >"$d/refs/heads/$REF"
done
rm -rf "${work:?}"/ov-*
rm -rf "$x"
echo "$stamp" >"$work/stamp"
rm -rf "$OUT"
mv "$work" "$OUT"
note "update repo: $(awk '{ printf "%s ", $1 }' "$OUT/versions")in $OUT (v2 adds $PKG $pkgver)"
