# tests/lib/host.sh: throwaway ostree worlds for the `host` tests.  Source
# after tests/lib/test-lib.sh and tests/lib/webserver.sh.
#
#   host_gpg_key NAME            a signing key in $TEST_TMP/gpg-NAME; sets KEY_ID
#   host_repo_init               archive repo $SRC_REPO, served on 127.0.0.1
#                                ($REPO_URL); ref $HOST_REF
#   host_commit VERSION [KEY_ID] [EXTRA_FILE_MB]
#                                a bootable tree commit on $HOST_REF (signed when
#                                KEY_ID is given); echoes the checksum
#   host_sysroot_init PUBKEY     $SYSROOT: init-fs, os-init keel, remote keel
#                                (gpg-verify=true, PUBKEY imported), first deploy
#   host_test_require           skip unless root, ostree, gpg and build/host
#   host_world                   key good ($GOOD), repo with version 1 ($c1), $SYSROOT
#   host_run ARGS...             build/host --sysroot $SYSROOT ARGS
#   json_get FILE EXPR           one value from a JSON file (python3 json)
#
# The ostree CLI sets the worlds up (allowed in tests); `host` itself never
# runs it.
HOST_BIN=${HOST_BIN:-$KEEL_BUILD/host}
HOST_REF=keel/x86_64/server
export KEEL_HOST_STATE_DIR=$TEST_TMP/state
export KEEL_HOST_CONF=$TEST_TMP/host.conf
export KEEL_HEALTH_DIR=$TEST_TMP/health.d

host_gpg_key() {
  local name=$1
  export GNUPGHOME=$TEST_TMP/gpg-$name
  mkdir -p -m 700 "$GNUPGHOME"
  gpg --batch --quiet --passphrase '' --quick-gen-key "Keel $name <$name@keel.test>" \
    ed25519 sign never 2>/dev/null
  KEY_ID=$(gpg --batch --with-colons --list-keys 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
  gpg --batch --armor --export "$KEY_ID" >"$TEST_TMP/$name.asc"
  unset GNUPGHOME
}

host_repo_init() {
  SRC_REPO=$TEST_TMP/web/repo
  mkdir -p "$SRC_REPO"
  ostree init --repo="$SRC_REPO" --mode=archive
  webserver_start "$TEST_TMP/web"
  REPO_URL=http://127.0.0.1:$WEB_PORT/repo
}

# A tree ostree deploys: kernel + initramfs in /usr/lib/modules/VER, /usr/etc.
host_commit() {
  local version=$1 key=${2:-} extra_mb=${3:-0} tree=$TEST_TMP/tree-$1 sign=()
  rm -rf "$tree"
  mkdir -p "$tree/usr/lib/modules/6.1.0" "$tree/usr/etc" "$tree/usr/bin"
  echo "kernel $version" >"$tree/usr/lib/modules/6.1.0/vmlinuz"
  echo "initramfs" >"$tree/usr/lib/modules/6.1.0/initramfs.img"
  printf 'ID=keel\nVERSION_ID=%s\n' "$version" >"$tree/usr/etc/os-release"
  echo "version $version" >"$tree/usr/bin/keel-version"
  [ "$extra_mb" = 0 ] || head -c $((extra_mb << 20)) /dev/urandom >"$tree/usr/bin/big"
  [ -z "$key" ] || sign=(--gpg-sign="$key" --gpg-homedir="$TEST_TMP/gpg-${KEY_NAME:-good}")
  ostree commit --repo="$SRC_REPO" --branch="$HOST_REF" --tree=dir="$tree" \
    --add-metadata-string=version="$version" --generate-sizes "${sign[@]}" \
    --timestamp="2026-01-01 00:00:$(printf %02d $((${version%%.*} % 60)))" >/dev/null
  ostree summary --repo="$SRC_REPO" --update
  ostree --repo="$SRC_REPO" rev-parse "$HOST_REF"
}

host_sysroot_init() {
  local pubkey=$1
  SYSROOT=${SYSROOT:-$TEST_TMP/sysroot}
  mkdir -p "$SYSROOT"
  # ostree makes each deployment root immutable (chattr +i)
  test_cleanup "host_sysroot_unlock '$SYSROOT'"
  ostree admin init-fs --modern "$SYSROOT"
  ostree admin --sysroot="$SYSROOT" os-init keel >/dev/null
  ostree --repo="$SYSROOT/ostree/repo" config set sysroot.bootloader none
  ostree --repo="$SYSROOT/ostree/repo" remote add --set=gpg-verify=true \
    --gpg-import="$pubkey" keel "$REPO_URL" >/dev/null
  ostree --repo="$SYSROOT/ostree/repo" pull keel "$HOST_REF" >/dev/null
  ostree admin --sysroot="$SYSROOT" deploy --os=keel --karg=root=LABEL=keel-root \
    --karg=console=ttyS0 "keel:$HOST_REF" >/dev/null
}

host_sysroot_unlock() {
  local d
  for d in "$1"/ostree/deploy/*/deploy/*; do
    [ -d "$d" ] && chattr -i "$d" 2>/dev/null
  done
  return 0
}

# What every host test needs; skips the file otherwise.
host_test_require() {
  test_require_root
  command -v ostree >/dev/null || skip_all "no ostree CLI (make deps)"
  command -v gpg >/dev/null || skip_all "no gpg (make deps)"
  [ -x "$HOST_BIN" ] || skip_all "no $HOST_BIN (make)"
}

# The usual world: key "good" ($GOOD), the served repo with version 1 ($c1)
# signed by it, and $SYSROOT deploying it.
host_world() {
  say "setting up a signed repo and a sysroot"
  KEY_NAME=good host_gpg_key good
  GOOD=$KEY_ID
  host_repo_init
  c1=$(KEY_NAME=good host_commit 1 "$GOOD")
  host_sysroot_init "$TEST_TMP/good.asc"
  say "sysroot ready"
}

host_run() {
  "$HOST_BIN" --sysroot "$SYSROOT" "$@"
}

json_get() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))' "$1" "$2"
}
