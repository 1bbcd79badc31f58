# image-build/qemu.sh: the one QEMU command line for Keel images, shared by
# `make run` (image-build/run.sh) and the VM tests (tests/vm/lib.sh).
# Sourced.  TCG (no KVM on the build machines), q35, OVMF with its code
# read-only and a per-disk copy of its variables, virtio disk, net and rng.
#
#   keel_qemu_args DISK VARS SSH_PORT    -> fills the array KEEL_QEMU_ARGS
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
KEEL_QEMU=${KEEL_QEMU:-qemu-system-x86_64}

keel_qemu_args() {
  local disk=$1 vars=$2 port=$3 accel=tcg,thread=multi
  # TCG unless asked: these machines may show a /dev/kvm that cannot run
  # guests (nested virtualisation fails at the first firmware instruction).
  [ "${KEEL_KVM:-0}" = 1 ] && accel=kvm
  KEEL_QEMU_ARGS=(
    -machine q35 -accel "$accel" -m "${KEEL_VM_MEM:-2048}" -smp "${KEEL_VM_CPUS:-2}"
    -nodefaults -display none
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
    -drive "if=pflash,format=raw,unit=1,file=$vars"
    -drive "file=$disk,if=virtio,format=qcow2,discard=unmap"
    -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22"
    -device virtio-net-pci,netdev=net0,romfile=
    -device virtio-rng-pci
  )
}

# An SMBIOS type 11 string carrying a systemd credential (systemd >= 252
# imports these at boot): keel_qemu_credential NAME FILE
keel_qemu_credential() {
  echo "type=11,value=io.systemd.credential.binary:$1=$(base64 -w0 <"$2")"
}

# A free TCP port on 127.0.0.1 for the SSH forward.
keel_free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo $p; return 0; }
  done
  return 1
}
