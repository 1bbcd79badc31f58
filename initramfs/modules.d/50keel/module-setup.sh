#!/bin/bash
# dracut module "keel": first-boot growth of the root partition and
# filesystem, a boot marker on the console, and qemu_fw_cfg loaded early.

check() {
  # Only when asked for (50-keel.conf adds it).
  return 255
}

depends() {
  echo systemd
}

# Storage the first boot may meet: virtio (QEMU, clouds), NVMe, AHCI/SATA,
# SCSI disks, USB mass storage; ext4 for / and /boot, vfat and its code pages
# for the ESP; fw_cfg for QEMU.  Without -c, instmods skips modules this
# kernel does not have (built in, or not built at all).
installkernel() {
  hostonly='' instmods virtio_blk virtio_scsi virtio_pci virtio_ring virtio_net \
    nvme ahci libahci sd_mod sr_mod usb_storage uas xhci_pci ehci_pci ohci_pci \
    ext4 vfat nls_cp437 nls_iso8859_1 nls_utf8 qemu_fw_cfg
}

install() {
  inst_multiple sfdisk partx resize2fs findmnt awk readlink basename cat
  inst_script "$moddir/keel-growroot.sh" /usr/libexec/keel-growroot
  inst_simple "$moddir/keel-growroot.service" "$systemdsystemunitdir/keel-growroot.service"
  inst_simple "$moddir/keel-fw-cfg.conf" /usr/lib/modules-load.d/keel-fw-cfg.conf
  $SYSTEMCTL -q --root "$initdir" add-wants initrd-root-fs.target keel-growroot.service
}
