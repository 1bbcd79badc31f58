# tests/lib/webserver.sh: a static HTTP/1.1 server (tests/helpers/webserver)
# on 127.0.0.1 for tests that serve files, e.g. an ostree archive repo to a
# QEMU guest (which reaches it at 10.0.2.2:$WEB_PORT).  Source after
# tests/lib/test-lib.sh:
#
#   webserver_start DIR [--rate BYTES/S]   # sets WEB_PORT, WEB_LOG, WEB_PID
#   webserver_bytes [REGEX]                 # body bytes sent for logged
#                                           # requests whose path matches
#   webserver_stop                          # (also done at exit)
#
# WEB_LOG has one line per request:
#   METHOD PATH STATUS BODY_BYTES_SENT HEAD_BYTES_SENT [range=SPEC]
WEB_HELPER=${WEB_HELPER:-$KEEL_BUILD/tests/helpers/webserver}

webserver_start() {
  local root=$1 dir
  shift
  [ -x "$WEB_HELPER" ] || { echo "webserver_start: no $WEB_HELPER (make tests)" >&2; return 1; }
  dir=$TEST_TMP/web-$RANDOM$RANDOM
  mkdir -p "$dir"
  "$WEB_HELPER" --root "$root" --port-file "$dir/port" --log "$dir/access.log" "$@" \
    >>"$dir/out" 2>&1 &
  WEB_PID=$!
  test_cleanup "webserver_stop $WEB_PID"
  for _ in $(seq 100); do
    [ -s "$dir/port" ] && break
    sleep 0.05
  done
  [ -s "$dir/port" ] || {
    echo "webserver_start: webserver did not start" >&2 && cat "$dir/out" >&2
    return 1
  }
  WEB_PORT=$(cat "$dir/port")
  WEB_LOG=$dir/access.log
  export WEB_PORT WEB_LOG WEB_PID
}

webserver_stop() {
  local pid=${1:-${WEB_PID:-}}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

webserver_bytes() {
  awk -v re="${1:-.}" '$2 ~ re { n += $4 } END { print n + 0 }' "$WEB_LOG"
}
