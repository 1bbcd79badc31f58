#!/bin/bash
# podman drives keel-runtime in place of crun: run, -it, -d + logs, exec,
# stop, kill, rm of a busybox image, with outputs and exit codes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root
command -v podman >/dev/null || { echo "podman missing: run make deps" >&2; exit 1; }

# A private podman: its own storage, no network, no systemd; root here
# lacks CAP_SYS_RESOURCE, so podman's default nofile/nproc (1048576) are
# lowered to what the machine allows.
podman_conf "$TEST_TMP/containers.conf"
export CONTAINERS_CONF=$TEST_TMP/containers.conf
pm() {
  podman --root "$TEST_TMP/storage" --runroot "$TEST_TMP/run" --storage-driver vfs \
    --runtime "$KEEL_RUNTIME" "$@"
}
test_cleanup 'pm rm -af -t 0; pm system reset -f'

test_expect_success 'a busybox image from the fixture rootfs' '
  "$TEST_SRCDIR/tests/fixtures/busybox-rootfs.sh" rootfs &&
  tar -C rootfs -c . | pm import - localhost/busybox:test
'

test_expect_success 'podman run prints, confines and returns the exit code' '
  pm run --rm localhost/busybox:test sh -c "echo hello; grep -E \"^(Seccomp|NoNewPrivs|CapEff):\" /proc/self/status" >out &&
  assert_file_has_content out "^hello$" &&
  assert_file_has_content out "^Seccomp:[[:space:]]+2$" &&
  ! grep -q "CapEff:[[:space:]]*000001ffffffffff" out &&
  rc=0 && pm run --rm localhost/busybox:test sh -c "exit 7" || rc=$?; test "$rc" = 7
'

# podman attaches to the terminal after the container starts; output from
# a process that ends at once can be gone before it does (runc too): the
# container waits a second first.
test_expect_success 'podman run -it gives the container a terminal' '
  script -qec "podman --root $TEST_TMP/storage --runroot $TEST_TMP/run --storage-driver vfs --runtime $KEEL_RUNTIME run --rm -it localhost/busybox:test sh -c \"sleep 1; tty; echo tty-ok\"" /dev/null >out &&
  # podman -it sometimes writes a NUL byte to the terminal, which its echo
  # shows as "^@" anywhere in the output (seen with runc as the runtime too)
  tr -d "\r" <out | sed "s/\^@//g" >out.txt &&
  assert_file_has_content out.txt "^/dev/pts/[0-9]+$" &&
  assert_file_has_content out.txt "^tty-ok$"
'

test_expect_success 'podman run -d, logs, exec with exit codes' '
  id=$(pm run -d localhost/busybox:test sh -c "echo started; exec sleep 1000") &&
  echo "$id" >id &&
  for i in $(seq 50); do pm logs "$id" | grep -q started && break; sleep 0.1; done &&
  pm logs "$id" | grep -q "^started$" &&
  pm exec "$id" sh -c "echo in-exec \$(cat /proc/1/comm)" >out &&
  assert_file_has_content out "^in-exec sleep$" &&
  rc=0 && pm exec "$id" sh -c "exit 3" || rc=$?; test "$rc" = 3 &&
  pm ps --format "{{.ID}} {{.Status}}" | grep -q "^${id:0:12} Up"
'

test_expect_success 'podman stop ends it (SIGKILL after the timeout: sleep as pid 1 ignores TERM)' '
  id=$(cat id) &&
  pm stop -t 1 "$id" &&
  pm inspect --format "{{.State.Status}} {{.State.ExitCode}}" "$id" >st &&
  assert_file_has_content st "^exited 137$"
'

test_expect_success 'podman kill delivers the signal; rm removes the container' '
  id=$(pm run -d localhost/busybox:test sh -c "trap \"exit 42\" USR1; while :; do sleep 0.1; done") &&
  sleep 0.5 &&
  pm kill --signal USR1 "$id" &&
  pm wait "$id" >code && test "$(cat code)" = 42 &&
  pm rm "$id" &&
  ! pm ps -aq --no-trunc | grep -q "$id"
'

test_done
