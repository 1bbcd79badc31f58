# tests/vm/lib.sh: boot Keel images under QEMU for the VM tests.
# Source after tests/lib/test-lib.sh:
#
#   . "$(dirname "$0")/../lib/test-lib.sh"
#   . "$(dirname "$0")/lib.sh"
#   vm_require
#   vm_boot main script.sh [DISK_SIZE]      # fresh QEMU, throwaway overlay disk
#                                            # (call at top level, not in a test body)
#   vm_wait main 'KEEL-VMTEST: exit=' 600   # marker on the serial console
#   vm_result main usr-ro                    # "KEEL-T usr-ro=VALUE" -> VALUE
#   vm_finish main                           # wait for power-off, print timeline
#
# Each boot gets its own qcow2 overlay over the built image (the image is
# never modified), its own copy of the OVMF variables, -no-reboot, and its
# test script handed in through fw_cfg (opt/keel/script), which
# keel-vmtest.service in the image runs once the host is up.  QEMU is always
# killed at exit: only the one this file started, by its PID.

. "$TEST_SRCDIR/image-build/qemu.sh"

# An interrupted test still runs its cleanups (the EXIT trap kills QEMU).
trap 'exit 143' TERM
trap 'exit 130' INT

KEEL_IMAGE=${KEEL_IMAGE:-$KEEL_BUILD/images/keel-x86_64-server.qcow2}
# Generous: TCG boots take about a minute but a loaded CI machine can take
# several times that.
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-600}

vm_require() {
  test_require_root
  command -v "$KEEL_QEMU" >/dev/null || skip_all "no $KEEL_QEMU (make deps)"
  [ -r "$OVMF_CODE" ] || skip_all "no OVMF firmware at $OVMF_CODE (make deps)"
  [ -f "$KEEL_IMAGE" ] || skip_all "no image at $KEEL_IMAGE (make image)"
}

# Per-boot state lives in files under $TEST_TMP/vm-NAME, because test
# bodies run in subshells.
_vm_dir() { echo "$TEST_TMP/vm-$1"; }

# Boot milestones, in order: name and the console line that marks it.
_vm_milestones=(
  "firmware|BdsDxe"
  "grub|KEEL-GRUB"
  "kernel|Linux version"
  "initramfs|Initramfs\\)|running in initrd"
  "growroot|KEEL-INITRAMFS"
  "switch-root|initrd-switch-root\\.service"
  "root-systemd|Welcome to Keel|Welcome to Debian GNU/Linux 12 \\(bookworm\\)!"
  "multi-user|KEEL-BOOT: multi-user"
  "test-start|KEEL-VMTEST: start"
  "test-end|KEEL-VMTEST: exit="
)

# vm_boot NAME SCRIPT [DISK_SIZE] [EXTRA QEMU ARGS...]
vm_boot() {
  local name=$1 script=$2 size=${3:-6G}
  shift 3 || shift $#
  local dir port
  dir=$(_vm_dir "$name")
  mkdir -p "$dir"
  # A failed setup ends the whole file (TAP "Bail out!"): every test needs it.
  qemu-img create -q -f qcow2 -F qcow2 -b "$(realpath "$KEEL_IMAGE")" "$dir/disk.qcow2" "$size" ||
    { echo "Bail out! cannot create an overlay over $KEEL_IMAGE"; exit 1; }
  cp "$OVMF_VARS" "$dir/vars.fd"
  port=$(keel_free_port)
  keel_qemu_args "$dir/disk.qcow2" "$dir/vars.fd" "$port"
  : >"$dir/console"
  "$KEEL_QEMU" "${KEEL_QEMU_ARGS[@]}" -no-reboot \
    -serial "file:$dir/console" \
    -fw_cfg "name=opt/keel/script,file=$script" "$@" \
    </dev/null >"$dir/qemu.out" 2>&1 &
  echo $! >"$dir/pid"
  date +%s%N >"$dir/t0"
  echo "$port" >"$dir/port"
  : >"$dir/seen"
  test_cleanup "vm_kill $name"
  say "vm $name: QEMU pid $(cat "$dir/pid"), ssh port $port, disk $size over $(basename "$KEEL_IMAGE")"
}

vm_console() { echo "$TEST_TMP/vm-$1/console"; }
vm_port() { cat "$(_vm_dir "$1")/port"; }

_vm_elapsed() {
  local ms=$((($(date +%s%N) - $(cat "$(_vm_dir "$1")/t0")) / 1000000))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

# Note the milestones that appeared since the last look.
_vm_scan() {
  local name=$1 con m label re seen
  con=$(vm_console "$name")
  seen=$(_vm_dir "$name")/seen
  for m in "${_vm_milestones[@]}"; do
    label=${m%%|*}
    re=${m#*|}
    grep -q "^$label " "$seen" && continue
    if grep -a -q -E "$re" "$con"; then
      echo "$label $(_vm_elapsed "$name")" >>"$seen"
    fi
  done
}

vm_alive() { kill -0 "$(cat "$(_vm_dir "$1")/pid")" 2>/dev/null; }

# vm_wait NAME REGEX [TIMEOUT]: until REGEX shows on the console.  Fails
# (naming what happened) on timeout or when QEMU exits first.
vm_wait() {
  local name=$1 re=$2 timeout=${3:-$VM_BOOT_TIMEOUT} con deadline
  con=$(vm_console "$name")
  deadline=$(($(date +%s) + timeout))
  while :; do
    _vm_scan "$name"
    grep -a -q -E "$re" "$con" && return 0
    if ! vm_alive "$name"; then
      echo "vm $name: QEMU exited before /$re/ appeared; console tail:" >&2
      tail -n 30 "$con" >&2
      cat "$TEST_TMP/vm-$name/qemu.out" >&2
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "vm $name: /$re/ did not appear within ${timeout}s; console tail:" >&2
      tail -n 30 "$con" >&2
      return 1
    fi
    sleep 0.5
  done
}

# vm_result NAME KEY: the value the guest printed as "KEEL-T KEY=VALUE".
vm_result() {
  grep -a -o -E "KEEL-T $2=[^[:space:]]*" "$(vm_console "$1")" | tail -n 1 | cut -d= -f2-
}

vm_timeline() {
  local name=$1 label t
  _vm_scan "$name"
  while read -r label t; do say "vm $name: $label at ${t}s"; done <"$(_vm_dir "$name")/seen"
}

# vm_finish NAME [TIMEOUT]: let the guest power off, then make sure QEMU is
# gone; prints the timeline.
vm_finish() {
  local name=$1 timeout=${2:-120} i
  for ((i = 0; i < timeout * 2; i++)); do
    vm_alive "$name" || break
    sleep 0.5
  done
  vm_timeline "$name"
  vm_kill "$name"
}

# KEEL_VM_LOGDIR=DIR keeps each boot's serial console as DIR/TEST-NAME.console.
vm_kill() {
  local pidf pid
  if [ -n "${KEEL_VM_LOGDIR:-}" ] && [ -f "$(vm_console "$1")" ]; then
    mkdir -p "$KEEL_VM_LOGDIR"
    cp "$(vm_console "$1")" "$KEEL_VM_LOGDIR/$TEST_NAME-$1.console"
  fi
  pidf=$(_vm_dir "$1")/pid
  [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
