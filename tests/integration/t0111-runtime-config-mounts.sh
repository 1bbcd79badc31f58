#!/bin/bash
# runtime-spec root and mounts end to end: read-only root, rootfs
# propagation, --no-pivot, bind/rbind, tmpfs, proc, sysfs, devpts, mqueue,
# cgroup, per-mount propagation and nosuid/noexec/nodev — each checked from
# inside the container, against the host where that is the truth.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

# the mountinfo line of mount point $2 in mountinfo file $1
mnt_line() { awk -v m="$2" '$5 == m' "$1" | tail -n1; }

test_expect_success 'readonly root: writes to / fail, writes to a tmpfs mount work' '
  make_bundle ro ".root.readonly = true
    | .mounts += [{\"destination\": \"/scratch\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]
    | .process.args = [\"sh\", \"-c\", \"touch /rootfile && echo ROOT-WRITABLE; touch /bin/x && echo BIN-WRITABLE; echo hi >/scratch/f && cat /scratch/f\"]" &&
  rt run --bundle ro m1 >out 2>err &&
  test "$(cat out)" = hi &&
  assert_file_has_content err "Read-only file system" &&
  test ! -e ro/rootfs/rootfile && test ! -e ro/rootfs/bin/x
'

test_expect_success 'readonly root: a writable root really is writable' '
  make_bundle rw ".process.args = [\"touch\", \"/rootfile\"]" &&
  rt run --bundle rw m2 &&
  test -e rw/rootfs/rootfile
'

# A rootfs on a shared mount, so that rootfsPropagation has something to
# follow: a mount the host makes under it after start reaches a slave
# root, never a private one.
test_expect_success 'rootfsPropagation: slave sees host mounts, private does not, shared is shared' '
  for prop in slave private shared; do
    make_bundle p-$prop ".linux.rootfsPropagation = \"$prop\" | .process.args = [\"sleep\", \"100\"]" &&
    mkdir p-$prop/rootfs/late &&
    mount --bind p-$prop/rootfs p-$prop/rootfs && mount --make-shared p-$prop/rootfs || return 1
  done &&
  for prop in slave private shared; do
    rt run -d --bundle p-$prop m3-$prop || return 1
  done &&
  for prop in slave private shared; do
    mount -t tmpfs tmpfs p-$prop/rootfs/late && echo $prop >p-$prop/rootfs/late/file || return 1
  done &&
  test "$(rt exec m3-slave cat /late/file)" = slave &&
  test_must_fail rt exec m3-private cat /late/file &&
  test "$(rt exec m3-shared cat /late/file)" = shared &&
  rt exec m3-shared cat /proc/self/mountinfo >mi.shared &&
  mnt_line mi.shared / | grep -q "shared:" &&
  rt exec m3-private cat /proc/self/mountinfo >mi.private &&
  ! mnt_line mi.private / | grep -qE "shared:|master:" &&
  rt exec m3-slave cat /proc/self/mountinfo >mi.slave &&
  mnt_line mi.slave / | grep -q "master:" &&
  ! mnt_line mi.slave / | grep -q "shared:"
'
for prop in slave private shared; do
  test_cleanup "umount -R $TEST_TMP/p-$prop/rootfs"
  test_cleanup "rt delete --force m3-$prop"
done

test_expect_success '--no-pivot: the process runs chrooted in the rootfs' '
  make_bundle np ".process.args = [\"sh\", \"-c\", \"ls /; cat /proc/self/mountinfo\"]" &&
  touch np/rootfs/only-in-rootfs &&
  rt run --no-pivot --bundle np m4 >out &&
  assert_file_has_content out "^only-in-rootfs$" &&
  assert_file_has_content out " /proc " &&
  ! grep -q "^home$" out
'

test_expect_success 'bind mounts: ro and rw, file and directory, source relative to the bundle' '
  mkdir -p host-ro host-rw bm/rel-src && echo ro-data >host-ro/f && echo file-data >host-file &&
  echo rel-data >bm-rel-data &&
  make_bundle bm ".mounts += [
      {\"destination\": \"/ro\", \"type\": \"bind\", \"source\": \"$TEST_TMP/host-ro\", \"options\": [\"bind\", \"ro\"]},
      {\"destination\": \"/rw\", \"type\": \"bind\", \"source\": \"$TEST_TMP/host-rw\", \"options\": [\"rbind\", \"rw\"]},
      {\"destination\": \"/etc/thefile\", \"type\": \"bind\", \"source\": \"$TEST_TMP/host-file\", \"options\": [\"bind\", \"ro\"]},
      {\"destination\": \"/rel\", \"type\": \"bind\", \"source\": \"rel-src\", \"options\": [\"bind\"]}]
    | .process.args = [\"sh\", \"-c\", \"cat /ro/f; touch /ro/new || echo RO-REFUSED; echo from-inside >/rw/g; cat /etc/thefile; echo x >/etc/thefile || echo FILE-RO; touch /rel/made\"]" &&
  rt run --bundle bm m5 >out 2>err &&
  test "$(cat out)" = "ro-data
RO-REFUSED
file-data
FILE-RO" &&
  test ! -e host-ro/new && test "$(cat host-rw/g)" = from-inside &&
  test "$(cat host-file)" = file-data && test -e bm/rel-src/made
'

test_expect_success 'rbind carries a submount along, bind does not' '
  mkdir -p tree/sub && mount -t tmpfs tmpfs tree/sub && echo deep >tree/sub/f &&
  make_bundle rb ".mounts += [
      {\"destination\": \"/rb\", \"type\": \"bind\", \"source\": \"$TEST_TMP/tree\", \"options\": [\"rbind\"]},
      {\"destination\": \"/b\", \"type\": \"bind\", \"source\": \"$TEST_TMP/tree\", \"options\": [\"bind\"]}]
    | .process.args = [\"sh\", \"-c\", \"cat /rb/sub/f; ls -A /b/sub | wc -l\"]" &&
  rt run --bundle rb m6 >out &&
  test "$(cat out)" = "deep
0"
'
test_cleanup "umount $TEST_TMP/tree/sub"

test_expect_success 'tmpfs: size and mode options are applied' '
  make_bundle tm ".mounts += [{\"destination\": \"/t\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"size=1m\", \"mode=1750\"]}]
    | .process.args = [\"sh\", \"-c\", \"stat -c %a /t; df -k /t | tail -n1; dd if=/dev/zero of=/t/big bs=1k count=2048 2>&1 || echo FULL\"]" &&
  rt run --bundle tm m7 >out &&
  test "$(sed -n 1p out)" = 1750 &&
  sed -n 2p out | grep -qE "^tmpfs +1024 " &&
  assert_file_has_content out "No space left on device" &&
  assert_file_has_content out "^FULL$"
'

test_expect_success 'proc, sysfs (read-only), devpts (new instance), mqueue' '
  make_bundle sp ".process.args = [\"sh\", \"-c\", \"stat -f -c %T /proc; stat -f -c %T /sys; touch /sys/x || echo SYS-RO; stat -c %d /dev/pts/ptmx; ls /dev/pts; cat /proc/self/mountinfo\"]" &&
  rt run --bundle sp m8 >out 2>err &&
  test "$(sed -n 1p out)" = proc &&
  test "$(sed -n 2p out)" = sysfs &&
  assert_file_has_content out "^SYS-RO$" &&
  mnt_line out /sys | grep -qE " ro,.* - sysfs " &&
  mnt_line out /dev/pts | grep -q " - devpts devpts .*ptmxmode=666" &&
  test "$(sed -n 4p out)" != "$(stat -c %d /dev/pts/ptmx)" &&
  test "$(sed -n 5p out)" = ptmx &&
  mnt_line out /dev/mqueue | grep -q " - mqueue mqueue "
'

test_expect_success 'cgroup mount (v1 here): the container sees its own memory limit' '
  make_bundle cg ".linux.resources.memory = {\"limit\": 67108864}
    | .process.args = [\"sh\", \"-c\", \"cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/fs/cgroup; touch /sys/fs/cgroup/memory/x || echo CG-RO\"]" &&
  rt run --bundle cg m9 >out 2>err &&
  test "$(sed -n 1p out)" = 67108864 &&
  assert_file_has_content out "^pids$" &&
  assert_file_has_content out "^CG-RO$"
'

test_expect_success 'mount propagation options: shared and private mounts' '
  make_bundle mp ".mounts += [
      {\"destination\": \"/sh\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"shared\"]},
      {\"destination\": \"/pr\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"private\"]},
      {\"destination\": \"/ub\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"unbindable\"]}]
    | .process.args = [\"cat\", \"/proc/self/mountinfo\"]" &&
  rt run --bundle mp m10 >out &&
  mnt_line out /sh | grep -q " shared:" &&
  ! mnt_line out /pr | grep -qE "shared:|master:" &&
  mnt_line out /ub | grep -q " unbindable "
'

test_expect_success 'nosuid, noexec and nodev are honoured' '
  make_bundle nx ".mounts += [
      {\"destination\": \"/nx\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"noexec\", \"nosuid\", \"nodev\"]},
      {\"destination\": \"/ex\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"exec\", \"dev\"]}]
    | .process.capabilities.bounding += [\"CAP_MKNOD\"] | .process.capabilities.effective += [\"CAP_MKNOD\"]
    | .process.capabilities.permitted += [\"CAP_MKNOD\"]
    | .process.args = [\"sh\", \"-c\", \"mkdir /nx/b /ex/b; cp /bin/busybox /nx/b/true; cp /bin/busybox /ex/b/true; /ex/b/true && echo EX-RUNS; /nx/b/true || echo NX-REFUSED; mknod /nx/null c 1 3 && mknod /ex/null c 1 3; cat /ex/null && echo EX-DEV; cat /nx/null || echo NX-DEV-REFUSED; cat /proc/self/mountinfo\"]" &&
  rt run --bundle nx m11 >out 2>err &&
  assert_file_has_content out "^EX-RUNS$" &&
  assert_file_has_content out "^NX-REFUSED$" &&
  assert_file_has_content err "Permission denied" &&
  assert_file_has_content out "^EX-DEV$" &&
  assert_file_has_content out "^NX-DEV-REFUSED$" &&
  mnt_line out /nx | grep -qE " [^ ]*nosuid,nodev,noexec[^ ]* " &&
  ! mnt_line out /ex | grep -qE "noexec|nodev"
'

test_done
