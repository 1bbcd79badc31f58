#!/bin/bash
# run.sh VARIANT: boot the built image in QEMU with the serial console on
# this terminal, user networking, and SSH forwarded to 127.0.0.1:$SSH_PORT.
# The image itself is never written: the machine runs on a copy-on-write
# disk in build/run/ (kept between runs, recreated when the image changes;
# RUN_FRESH=1 starts over).  SSH_KEY=FILE hands a key in as a systemd
# credential on first boot.
PROG=run
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu.sh"

variant=${1:?usage: run.sh VARIANT}
ARCH=${ARCH:-x86_64}
KEEL_BUILD=$(realpath -m "${KEEL_BUILD:-$KEEL_SRC/build}")
image=$KEEL_BUILD/images/keel-$ARCH-$variant.qcow2
rundir=$KEEL_BUILD/run
disk=$rundir/keel-$ARCH-$variant.qcow2
vars=$rundir/keel-$ARCH-$variant.vars.fd
port=${SSH_PORT:-2222}

[ -f "$image" ] || die "no image at $image (make image)"
command -v "$KEEL_QEMU" >/dev/null || die "'$KEEL_QEMU' is not installed (run make deps)"
[ -r "$OVMF_CODE" ] || die "no OVMF firmware at $OVMF_CODE (run make deps)"
mkdir -p "$rundir"
if [ "${RUN_FRESH:-0}" = 1 ] || [ ! -f "$disk" ] || [ "$image" -nt "$disk" ]; then
  rm -f "$disk" "$vars"
  qemu-img create -q -f qcow2 -F qcow2 -b "$image" "$disk" "${RUN_DISK_SIZE:-8G}"
fi
[ -f "$vars" ] || cp "$OVMF_VARS" "$vars"
ss -Htln "sport = :$port" | grep -q . && die "port $port on 127.0.0.1 is taken; pick another with SSH_PORT=N"

keel_qemu_args "$disk" "$vars" "$port"
args=("${KEEL_QEMU_ARGS[@]}" -serial mon:stdio)
if [ -n "${SSH_KEY:-}" ]; then
  [ -f "$SSH_KEY" ] || die "SSH_KEY must name a public key file for make run"
  args+=(-smbios "$(keel_qemu_credential ssh.authorized_keys.root "$SSH_KEY")")
fi
cat >&2 <<MSG
Booting $image (disk: $disk)
  serial console here; quit QEMU with Ctrl-a x
  SSH (keys only): ssh -p $port root@127.0.0.1
MSG
exec "$KEEL_QEMU" "${args[@]}"
