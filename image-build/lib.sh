# image-build/lib.sh: shared helpers for compose.sh, disk.sh and run.sh.
# Sourced, not run.  Every script that sources it gets:
#   die MSG         one line "image-build: MSG" on stderr, exit 1
#   note MSG        a progress line on stderr
#   on_exit CMD     run CMD at exit, last registered first (cleanup of
#                   temp outputs, mounts, loop devices)
#   mirrors         sets MIRROR and SECURITY_MIRROR from the environment or
#                   from this machine's apt sources
set -euo pipefail

KEEL_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=${PROG:-image-build}

die() {
  echo "$PROG: $*" >&2
  # A hook run inside another tool (mmdebstrap) reports its cause here, so
  # that the outer script can print it as the one line.
  [ -z "${KEEL_ERROR_FILE:-}" ] || echo "$*" >"$KEEL_ERROR_FILE"
  exit 1
}

note() { echo "  $(date +%H:%M:%S) $*" >&2; }

_exit_cmds=()
on_exit() { _exit_cmds+=("$1"); }
_run_exit_cmds() {
  local rc=$? i
  for ((i = ${#_exit_cmds[@]} - 1; i >= 0; i--)); do
    eval "${_exit_cmds[$i]}" >/dev/null 2>&1 || true
  done
  exit $rc
}
trap _run_exit_cmds EXIT
trap 'exit 130' INT TERM

# Lines of a definition file without comments and blank lines.
read_list() {
  sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^[[:space:]]*$/d' "$1"
}

# Fail with a clear line unless DIR's filesystem has NEED_MB free.
need_space() {
  local dir=$1 need_mb=$2 avail
  mkdir -p "$dir"
  avail=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
  [ "$avail" -ge "$need_mb" ] ||
    die "no space left: '$dir' has ${avail} MB free, the build needs ${need_mb} MB"
}

# Run a step with its output kept in LOG; on failure print the last lines
# of the log, then call the handler (which names the cause) or die.
#   step LOG "what" cmd args...
step() {
  local log=$1 what=$2 rc=0
  shift 2
  "$@" >>"$log" 2>&1 || rc=$?
  [ $rc = 0 ] && return 0
  if [ -n "${KEEL_ERROR_FILE:-}" ] && [ -s "$KEEL_ERROR_FILE" ]; then
    die "$(cat "$KEEL_ERROR_FILE")"
  fi
  local pkg
  pkg=$(sed -n -E -e "s/.*Unable to locate package ([^ ]+).*/\\1/p" \
    -e "s/.*Package '([^']+)' has no installation candidate.*/\\1/p" "$log" | head -n 1)
  [ -z "$pkg" ] || die "$what failed: unknown package '$pkg' (not in Debian bookworm)"
  if grep -q -i -E 'no space left on device|ENOSPC|disk full' "$log"; then
    die "$what failed: no space left on device (see $log)"
  fi
  tail -n 25 "$log" | sed 's/^/    | /' >&2
  die "$what failed (exit $rc; full log in $log)"
}

# The Debian archive this machine already uses: the first apt source that
# carries bookworm, and the one that carries bookworm-security.  Both
# one-line (sources.list) and deb822 (*.sources) formats are read.
# KEEL_MIRROR / KEEL_SECURITY_MIRROR override.
mirrors() {
  local files
  files=$(ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  MIRROR=${KEEL_MIRROR:-$(apt_uri_for bookworm $files)}
  SECURITY_MIRROR=${KEEL_SECURITY_MIRROR:-$(apt_uri_for bookworm-security $files)}
  [ -n "$MIRROR" ] ||
    die "no Debian bookworm mirror in /etc/apt/sources.list*; set KEEL_MIRROR=URI"
  [ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=
}

apt_uri_for() {
  local suite=$1 f uri
  shift
  for f in "$@"; do
    case $f in
    *.sources)
      uri=$(awk -v want="$suite" '
        function flush() {
          if (uris != "" && (" " suites " ") ~ (" " want " ") && (" " types " ") ~ / deb /) {
            split(uris, u, " "); print u[1]; done = 1; exit
          }
          uris = suites = types = ""
        }
        /^[[:space:]]*$/ { flush(); next }
        /^[[:space:]]*#/ { next }
        {
          k = tolower($1); sub(/:$/, "", k); $1 = ""; sub(/^ /, "")
          if (k == "uris") uris = $0; else if (k == "suites") suites = $0; else if (k == "types") types = $0
        }
        END { if (!done) flush() }' "$f")
      ;;
    *)
      uri=$(awk -v want="$suite" '
        /^deb[[:space:]]/ {
          i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
          if ($(i + 1) == want) { print $i; exit }
        }' "$f")
      ;;
    esac
    [ -z "$uri" ] || { echo "$uri"; return 0; }
  done
}
