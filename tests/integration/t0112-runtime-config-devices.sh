#!/bin/bash
# runtime-spec devices, masked and read-only paths, and sysctl end to end.
# (This kernel has no /proc/kcore: /proc/timer_list stands in for it.)
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

test_expect_success 'the default devices exist with the right numbers and modes' '
  make_bundle dd ".process.args = [\"sh\", \"-c\", \"for d in null zero full random urandom tty; do stat -c \\\"%n %F %t:%T %a %u:%g\\\" /dev/\$d; done; head -c 4 /dev/zero | od -An -tx1; echo hi >/dev/null; head -c 16 /dev/urandom | wc -c\"]" &&
  rt run --bundle dd d1 >out &&
  cat >want <<-\EOF &&
	/dev/null character special file 1:3 666 0:0
	/dev/zero character special file 1:5 666 0:0
	/dev/full character special file 1:7 666 0:0
	/dev/random character special file 1:8 666 0:0
	/dev/urandom character special file 1:9 666 0:0
	/dev/tty character special file 5:0 666 0:0
	 00 00 00 00
	16
	EOF
  diff -u want out
'

test_expect_success 'the /dev symlinks: fd, stdin, stdout, stderr, ptmx' '
  make_bundle dl ".process.args = [\"sh\", \"-c\", \"for l in fd stdin stdout stderr ptmx; do echo \$l=\$(readlink /dev/\$l); done; echo through-stdout >>/dev/stdout\"]" &&
  rt run --bundle dl d2 >out &&
  cat >want <<-\EOF &&
	fd=/proc/self/fd
	stdin=/proc/self/fd/0
	stdout=/proc/self/fd/1
	stderr=/proc/self/fd/2
	ptmx=pts/ptmx
	through-stdout
	EOF
  diff -u want out
'

test_expect_success 'linux.devices adds a working node with its mode and owner' '
  make_bundle ld ".linux.devices = [{\"path\": \"/dev/mynull\", \"type\": \"c\", \"major\": 1, \"minor\": 3,
                                     \"fileMode\": 384, \"uid\": 1000, \"gid\": 1000}]
    | .process.user = {\"uid\": 1000, \"gid\": 1000}
    | .process.args = [\"sh\", \"-c\", \"stat -c \\\"%F %t:%T %a %u:%g\\\" /dev/mynull; echo gone >/dev/mynull && wc -c </dev/mynull\"]" &&
  rt run --bundle ld d3 >out 2>err &&
  test "$(cat out)" = "character special file 1:3 600 1000:1000
0"
'

test_expect_success 'maskedPaths: /proc/timer_list reads empty, a masked directory is empty' '
  make_bundle mk ".linux.maskedPaths += [\"/secret\", \"/etc/secret-file\"]
    | .process.args = [\"sh\", \"-c\", \"wc -c </proc/timer_list; ls -A /secret | wc -l; wc -c </etc/secret-file; ls -A /proc/acpi | wc -l\"]" &&
  mkdir mk/rootfs/secret && echo s >mk/rootfs/secret/f && echo s >mk/rootfs/etc/secret-file &&
  rt run --bundle mk d4 >out &&
  test "$(cat out)" = "0
0
0
0" &&
  test "$(head -c 1 /proc/timer_list | wc -c)" = 1
'

test_expect_success 'readonlyPaths: /proc/sys cannot be written, even with CAP_SYS_ADMIN' '
  make_bundle rp ".process.capabilities |= with_entries(.value += [\"CAP_SYS_ADMIN\"])
    | .process.args = [\"sh\", \"-c\", \"echo changed >/proc/sys/kernel/hostname || echo REFUSED; hostname\"]" &&
  rt run --bundle rp d5 >out 2>err &&
  test "$(cat out)" = "REFUSED
keel" &&
  assert_file_has_content err "Read-only file system" &&
  edit_config rp ".linux.readonlyPaths -= [\"/proc/sys\"]" &&
  rt run --bundle rp d6 >out &&
  test "$(cat out)" = changed
'

test_expect_success 'sysctl: ip_forward in the new netns, shmmax in the new ipc ns, not on the host' '
  fwd=$(cat /proc/sys/net/ipv4/ip_forward) && shm=$(cat /proc/sys/kernel/shmmax) &&
  make_bundle sc ".linux.sysctl = {\"net.ipv4.ip_forward\": \"$((1 - fwd))\", \"kernel.shmmax\": \"123456789\"}
    | .process.args = [\"sh\", \"-c\", \"cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax\"]" &&
  rt run --bundle sc d7 >out &&
  test "$(cat out)" = "$((1 - fwd))
123456789" &&
  test "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd" &&
  test "$(cat /proc/sys/kernel/shmmax)" = "$shm"
'

test_done
