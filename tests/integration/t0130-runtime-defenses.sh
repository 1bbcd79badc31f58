#!/bin/bash
# keel-runtime's defences, each attacked for real:
#  - CVE-2019-5736: a container process holding the runtime's exe cannot
#    write through it to the binary on the host (sealed memfd re-exec; a
#    binary on a read-only mount is used as it is);
#  - CVE-2024-21626: no fd but those asked for reaches the container, and a
#    working directory outside the rootfs is refused;
#  - symlinks in the rootfs never redirect a mount or a device outside it.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

# The attacked binary is a copy: the test must be free to lose it.
mkdir -p "$TEST_TMP/bin"
cp "$KEEL_RUNTIME" "$TEST_TMP/bin/keel-runtime"
KEEL_RUNTIME=$TEST_TMP/bin/keel-runtime

# A rootfs that can run the (dynamically linked) runtime itself.
make_bundle "$TEST_TMP/b" '.process.args = ["sleep", "1000"]'
for lib in $(ldd "$KEEL_RUNTIME" | grep -o '/[^ ]*'); do
  mkdir -p "$TEST_TMP/b/rootfs$(dirname "$lib")"
  cp -L "$lib" "$TEST_TMP/b/rootfs$lib"
done

# attack ID: start `/proc/self/exe update -r - x` in the container (it
# blocks reading stdin), grab its exe from a second process, let it exit,
# then try to write through the grabbed fd.  Prints WROTE or REFUSED.
attack() {
  local id=$1
  rm -f fifo attack.out && mkfifo fifo
  exec 7<>fifo
  rt exec -d "$id" /proc/self/exe update -r - x <fifo >victim.out 2>&1
  rt exec -d "$id" sh -c '
    for i in $(seq 100); do pid=$(pidof exe) && break; sleep 0.05; done
    readlink /proc/$pid/exe
    exec 3</proc/$pid/exe || exit 1
    echo HOLDING
    while [ -e /proc/$pid ]; do sleep 0.05; done
    if echo pwned >/proc/self/fd/3; then echo WROTE; else echo REFUSED; fi' >attack.out 2>&1
  for i in $(seq 100); do grep -q HOLDING attack.out && break; sleep 0.05; done
  exec 7>&-
  for i in $(seq 100); do grep -qE "WROTE|REFUSED" attack.out && break; sleep 0.05; done
  cat attack.out
}

test_expect_success 'CVE-2019-5736: the runtime binary cannot be overwritten from the container' '
  rt run -d --bundle b c1 &&
  attack c1 >out &&
  assert_file_has_content out "^HOLDING$" &&
  assert_file_has_content out "memfd:keel-runtime" &&
  assert_file_has_content out "^REFUSED$" &&
  cmp "$KEEL_RUNTIME" "$KEEL_BUILD/keel-runtime"
'

test_expect_success 'CVE-2019-5736: a runtime on a read-only mount runs as it is, still safe' '
  mkdir -p ro && cp "$KEEL_RUNTIME" ro/keel-runtime &&
  { declare -f attack
    echo "rt() { $TEST_TMP/ro/keel-runtime --root $RT_ROOT \"\$@\"; }"
    echo "mount --bind ro ro && mount -o remount,bind,ro ro && attack c1"; } >ro-attack.sh &&
  unshare -m --propagation private bash -e ro-attack.sh >out 2>&1 &&
  assert_file_has_content out "ro/keel-runtime" &&
  ! grep -q memfd out &&
  assert_file_has_content out "^REFUSED$" &&
  cmp ro/keel-runtime "$KEEL_BUILD/keel-runtime"
'

# fds of the container process, one "N -> target" per line (ls's own
# directory handle on /proc/self/fd left out)
fds_of() { grep -- "->" "$1" | sed "s/.* \([0-9]*\) -> \(.*\)/\1 \2/" | grep -v " /proc/[0-9]*/fd$" | cut -d" " -f1 | tr "\n" " "; }

test_expect_success 'CVE-2024-21626: only stdio and --preserve-fds reach the container' '
  make_bundle f ".process.args = [\"ls\", \"-l\", \"/proc/self/fd\"]" &&
  rt run --bundle f f1 >out 3<f/config.json 4<f/config.json 5<f/config.json &&
  test "$(fds_of out)" = "0 1 2 " &&
  rt run --preserve-fds 2 --bundle f f2 >out 3<f/config.json 4<f/config.json 5<f/config.json &&
  test "$(fds_of out)" = "0 1 2 3 4 " &&
  rt exec c1 ls -l /proc/self/fd >out 3<f/config.json &&
  test "$(fds_of out)" = "0 1 2 "
'

test_expect_success 'CVE-2024-21626: a working directory through /proc/self/fd is refused' '
  for n in 3 4 5 6 7 8 9; do
    edit_config f ".process.cwd = \"/proc/self/fd/$n\"" &&
    test_must_fail rt run --bundle f w$n 2>err &&
    assert_file_has_content err "process.cwd|working directory" &&
    test ! -e "$RT_ROOT/w$n" || return 1
  done &&
  test_must_fail rt exec --cwd /proc/self/fd/3 c1 pwd 2>err &&
  assert_file_has_content err "working directory|/proc/self/fd/3"
'

test_expect_success 'symlinks in the rootfs cannot aim mounts or devices at the host' '
  mkdir -p host-target &&
  make_bundle s ".process.args = [\"sh\", \"-c\", \"ls /evil /rel\"]
    | .mounts += [{\"destination\": \"/evil/sub\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},
                  {\"destination\": \"/rel/bound\", \"type\": \"bind\", \"source\": \"/etc\", \"options\": [\"bind\", \"ro\"]}]
    | .linux.devices = [{\"path\": \"/evil/null\", \"type\": \"c\", \"major\": 1, \"minor\": 3}]
    | .linux.maskedPaths += [\"/evil\"]" &&
  ln -s "$TEST_TMP/host-target" s/rootfs/evil &&
  ln -s "../../../../../../../..$TEST_TMP/host-target" s/rootfs/rel &&
  rt run --bundle s s1 &&
  test -z "$(ls -A host-target)" &&
  test -d "s/rootfs$TEST_TMP/host-target/sub" &&
  test -d "s/rootfs$TEST_TMP/host-target/bound" &&
  test -e "s/rootfs$TEST_TMP/host-target/null"
'

test_done
