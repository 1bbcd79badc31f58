#!/bin/bash
# runtime-spec process.terminal end to end: the pty travels to
# --console-socket (tests/helpers/recvtty holds it), the container's stdio
# and /dev/console are that pty, consoleSize sets its size.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root
RECVTTY=$KEEL_BUILD/tests/helpers/recvtty
[ -x "$RECVTTY" ] || skip_all "$RECVTTY missing: run 'make tests' first"

# start_recvtty NAME [LINE]: recvtty on NAME.sock writing NAME.tty; waits
# until it listens
start_recvtty() {
  "$RECVTTY" "$TEST_TMP/$1.sock" ${2+"$2"} >"$1.tty" 2>"$1.err" &
  echo $! >"$1.pid"
  while [ ! -S "$TEST_TMP/$1.sock" ]; do
    kill -0 "$(cat "$1.pid")" || return 1
    sleep 0.02
  done
}
# wait_recvtty NAME: recvtty saw the pty close; its status
wait_recvtty() { wait "$(cat "$1.pid")"; }

test_expect_success 'tty, stty size and /dev/console through --console-socket' '
  make_bundle t ".process.terminal = true | .process.consoleSize = {\"height\": 37, \"width\": 121}
    | .process.args = [\"sh\", \"-c\", \"tty; stty size; for fd in 0 1 2; do readlink /proc/self/fd/\$fd; done; stat -c %t:%T /dev/console /dev/pts/0; ls -1 /dev/pts\"]" &&
  start_recvtty t &&
  rt run --console-socket "$TEST_TMP/t.sock" --bundle t tt1 >out 2>err &&
  wait_recvtty t &&
  test ! -s out &&
  tr -d "\r" <t.tty >tty &&
  cat >want <<-\EOF &&
	/dev/pts/0
	37 121
	/dev/pts/0
	/dev/pts/0
	/dev/pts/0
	88:0
	88:0
	0
	ptmx
	EOF
  diff -u want tty
'

test_expect_success 'the pty is the controlling terminal and carries input' '
  make_bundle ti ".process.terminal = true
    | .process.args = [\"sh\", \"-c\", \"read line; echo got:\$line; cat /proc/self/stat | cut -d\\\" \\\" -f7\"]" &&
  start_recvtty ti "hello pty" &&
  rt run --console-socket "$TEST_TMP/ti.sock" --bundle ti tt2 &&
  wait_recvtty ti &&
  tr -d "\r" <ti.tty >tty &&
  assert_file_has_content tty "^got:hello pty$" &&
  test "$(tail -n1 tty)" != 0
'

test_expect_success 'without a terminal, /dev/console is absent and stdio stays ours' '
  make_bundle nt ".process.args = [\"sh\", \"-c\", \"tty; test -e /dev/console || echo NO-CONSOLE\"]" &&
  rt run --bundle nt tt3 </dev/null >out &&
  assert_file_has_content out "^not a tty$" &&
  assert_file_has_content out "^NO-CONSOLE$"
'

test_done
