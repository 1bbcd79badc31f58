#!/bin/sh
# Install the Debian packages named in the given lists (one per line, '#'
# comments).  Prints nothing and touches nothing when all are present.
set -eu
want=$(cat "$@" | sed -e 's/#.*//' -e '/^[[:space:]]*$/d' | tr -s ' \t' '\n' | sort -u)
# With foreign architectures enabled, a name without ":arch" can match one
# line per architecture: the native (or "all") one must be installed.
native=$(dpkg --print-architecture)
missing=
for p in $want; do
  case $p in *:*) arch=${p#*:} ;; *) arch=$native ;; esac
  st=$(dpkg-query -W -f='${db:Status-Status} ${Architecture}\n' "$p" 2>/dev/null || true)
  printf '%s\n' "$st" | grep -q -x -E "installed ($arch|all)" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "make deps: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
