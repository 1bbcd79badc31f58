#!/bin/bash
# tests/helpers/webserver, the static file server the host upgrade tests
# serve ostree repos with: GET, HEAD, byte ranges, keep-alive, no escape
# from its root, and an access log whose byte counts are the truth (the
# upgrade benchmark divides by them).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/webserver.sh"
command -v curl >/dev/null || skip_all "no curl (make deps)"

root=$TEST_TMP/root
mkdir -p "$root/repo/objects/ab" "$root/empty"
head -c 100000 /dev/urandom >"$root/repo/objects/ab/cdef.filez"
printf 'hello\n' >"$root/repo/config"
: >"$root/empty/file"
echo secret >"$TEST_TMP/outside"
webserver_start "$root" || { echo "Bail out! webserver does not start"; exit 1; }
URL=http://127.0.0.1:$WEB_PORT

test_expect_success 'GET serves the file byte for byte' '
  curl -sf -o got "$URL/repo/objects/ab/cdef.filez" &&
  cmp got "$root/repo/objects/ab/cdef.filez"
'

test_expect_success 'HEAD gives the length and no body' '
  curl -sf -I "$URL/repo/config" | tr -d "\r" >head &&
  assert_file_has_content head "^Content-Length: 6$" &&
  assert_file_has_content head "^Accept-Ranges: bytes$"
'

test_expect_success 'ranges: A-B, A-, -N and unsatisfiable' '
  f=$root/repo/objects/ab/cdef.filez &&
  curl -sf -r 10-19 -o r1 -D h1 "$URL/repo/objects/ab/cdef.filez" &&
  cmp r1 <(tail -c +11 "$f" | head -c 10) &&
  assert_file_has_content h1 "^HTTP/1.1 206" &&
  assert_file_has_content h1 "Content-Range: bytes 10-19/100000" &&
  curl -sf -r 99990- -o r2 "$URL/repo/objects/ab/cdef.filez" &&
  cmp r2 <(tail -c 10 "$f") &&
  curl -sf -r -5 -o r3 "$URL/repo/objects/ab/cdef.filez" &&
  cmp r3 <(tail -c 5 "$f") &&
  code=$(curl -s -o /dev/null -w "%{http_code}" -r 200000- "$URL/repo/config") &&
  assert_streq "$code" 416
'

test_expect_success 'an empty file, a missing file, a directory' '
  curl -sf -o e "$URL/empty/file" && test ! -s e &&
  assert_streq "$(curl -s -o /dev/null -w "%{http_code}" "$URL/repo/nope")" 404 &&
  assert_streq "$(curl -s -o /dev/null -w "%{http_code}" "$URL/repo/objects")" 404
'

test_expect_success 'no way out of the root' '
  code=$(curl -s --path-as-is -o out -w "%{http_code}" "$URL/../outside") &&
  assert_streq "$code" 403 &&
  code=$(curl -s --path-as-is -o out -w "%{http_code}" "$URL/repo/%2e%2e/%2e%2e/outside") &&
  assert_streq "$code" 403 &&
  ! grep -q secret out
'

test_expect_success 'only GET and HEAD' '
  assert_streq "$(curl -s -o /dev/null -w "%{http_code}" -X PUT -d x "$URL/repo/config")" 405
'

test_expect_success 'keep-alive: several requests on one connection' '
  curl -sf -v -o /dev/null -o /dev/null -o /dev/null "$URL/repo/config" "$URL/repo/config" \
    "$URL/repo/objects/ab/cdef.filez" 2>trace &&
  assert_file_has_content trace "Re-using existing connection" &&
  test "$(grep -c "Connected to" trace)" = 1
'

test_expect_success 'the access log counts the body bytes sent' '
  : >"$WEB_LOG" &&
  curl -sf -o /dev/null "$URL/repo/objects/ab/cdef.filez" &&
  curl -sf -o /dev/null -r 0-99 "$URL/repo/objects/ab/cdef.filez" &&
  curl -sf -I -o /dev/null "$URL/repo/config" &&
  sleep 0.2 &&
  assert_file_has_content "$WEB_LOG" "^GET /repo/objects/ab/cdef.filez 200 100000 [0-9]+$" &&
  assert_file_has_content "$WEB_LOG" "^GET /repo/objects/ab/cdef.filez 206 100 [0-9]+ range=bytes=0-99$" &&
  assert_file_has_content "$WEB_LOG" "^HEAD /repo/config 200 0 [0-9]+$" &&
  assert_streq "$(webserver_bytes /objects/)" 100100
'

test_expect_success 'a client gone mid-body is logged with what was sent' '
  : >"$WEB_LOG" &&
  head -c 20000000 /dev/zero >"$root/big" &&
  curl -s -o /dev/null --max-filesize 1 --limit-rate 1M -m 1 "$URL/big" || true &&
  for _ in $(seq 50); do grep -q "^GET /big" "$WEB_LOG" && break; sleep 0.1; done &&
  n=$(awk "/^GET \/big/ { print \$4 }" "$WEB_LOG") &&
  test "$n" -lt 20000000
'

test_expect_success '--rate throttles the body' '
  webserver_start "$root" --rate 200000 &&
  t0=$(date +%s%N) &&
  curl -sf -o /dev/null "http://127.0.0.1:$WEB_PORT/repo/objects/ab/cdef.filez" &&
  ms=$((($(date +%s%N) - t0) / 1000000)) &&
  echo "100 kB at 200 kB/s took $ms ms" &&
  test "$ms" -ge 400
'

test_expect_success 'bad command lines fail with one line' '
  test_must_fail "$WEB_HELPER" --root /nonexistent 2>err &&
  assert_file_has_content err "^webserver: cannot open --root directory$" &&
  test_must_fail "$WEB_HELPER" --bogus x 2>err &&
  assert_file_has_content err "^webserver: usage"
'

test_done
