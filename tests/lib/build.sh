# Helpers for keel build tests; source after test-lib.sh and container.sh.
#
#   bld ARGS...           keel build --network none (most steps need no network)
#   img_id IMG            full image id (64 hex)
#   img_config IMG        the image's OCI config document (JSON) from the store
#   img_files IMG         "path mode uid:gid size type [-> target]" per entry of the
#                         image's merged filesystem, sorted (read-only overlay mount)
#   in_img IMG CMD...     keel run --rm --network none IMG CMD...
#   steps OUT             one letter per STEP line of a build's output: H a cache
#                         hit, M a step executed and committed, - neither (FROM, ARG)

bld() { keel build --network none "$@"; }

img_id() { keel image inspect "$1" | jq -r '.[0].Id'; }

img_config() {
  local id
  id=$(img_id "$1") && cat "$KEEL_STORE/blobs/sha256/$id"
}

img_files() {
  local lower mnt
  lower=$(keel image inspect "$1" | jq -r '.[0].GraphDriver.Data.LowerDir') &&
    mnt=$(mktemp -d "$TEST_TMP/mnt.XXXXXX") || return 1
  if [ "${lower#*:}" = "$lower" ]; then
    mount --bind -o ro "$lower" "$mnt" || return 1
  else
    mount -t overlay overlay -o "ro,lowerdir=$lower" "$mnt" || return 1
  fi
  (cd "$mnt" && find . -mindepth 1 \( -type d -printf '%p %m %U:%G - %y\n' \) -o \
    \( -type l -printf '%p %m %U:%G - %y -> %l\n' \) -o -printf '%p %m %U:%G %s %y\n' | sort)
  local rc=$?
  umount "$mnt" && rmdir "$mnt"
  return $rc
}

in_img() {
  local img=$1
  shift
  keel run --rm --network none "$img" "$@"
}

steps() {
  awk '/^STEP [0-9]+\//{ if (n) printf "%s", s; n++; s = "-"; next }
       /^--> Using cache /{ s = "H"; next }
       /^--> [0-9a-f]+$/{ s = "M"; next }
       END { if (n) printf "%s", s; print "" }' "$1"
}
