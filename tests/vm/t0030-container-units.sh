#!/bin/bash
# Containers as systemd services on the Keel host, with systemd as PID 1:
# a .container file in /etc/keel/systemd becomes a unit at daemon-reload
# (keel-systemd-generator), starts as Type=notify with keel-monitor as its
# main process in the unit's cgroup, answers on its published port, and
# its container is gone when the unit stops; Notify=yes waits for the
# container's own READY=1; `keel generate systemd --new` makes a unit
# that runs.  This build's programs (without their debug information:
# fw_cfg is slow) are bind-mounted over the image's.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib.sh"
vm_require
. "$TEST_SRCDIR/tests/lib/registry.sh"

test_expect_success 'setup: programs and the busybox fixture for the guest' '
  bb=$(fixture_dir busybox) && mkdir -p "$TEST_TMP/in" &&
  cp -a "$bb/oci" "$TEST_TMP/in/busybox-oci" &&
  for p in keel keel-monitor keel-runtime keel-init keel-systemd-generator tests/helpers/sdnotify; do
    cp "$KEEL_BUILD/$p" "$TEST_TMP/in/" || return 1
  done &&
  (cd "$TEST_TMP/in" && strip --strip-debug keel keel-monitor keel-runtime keel-init \
    keel-systemd-generator sdnotify) &&
  tar -C "$TEST_TMP/in" -czf "$TEST_TMP/in.tar" .
'

cat >"$TEST_TMP/guest.sh" <<'GUEST'
#!/bin/bash
r() { echo "KEEL-T $1=$2"; }
log() { sed "s/^/KEEL-LOG $1: /"; }
in=/var/tmp/keel-in
mkdir -p $in && tar -C $in -xzf /sys/firmware/qemu_fw_cfg/by_name/opt/keel/in/raw
r unpacked $?
for p in keel keel-monitor keel-runtime keel-init; do mount --bind $in/$p /usr/bin/$p; done
mkdir -p /etc/systemd/system-generators
install -m 0755 $in/keel-systemd-generator /etc/systemd/system-generators/
id=$(keel load -i $in/busybox-oci | sed -n 's/^Loaded image: sha256://p')
keel tag "$id" docker.io/library/busybox:latest
r images "$(keel images -q | wc -l)"
mkdir -p /etc/keel/systemd
cat >/etc/keel/systemd/web.container <<'UNIT'
[Unit]
Description=web in a keel container
[Container]
Image=busybox
PublishPort=8080:80
Exec=sh -c "mkdir -p /www && echo from-unit >/www/index.html && exec httpd -f -p 80 -h /www"
[Install]
WantedBy=multi-user.target
UNIT
cat >/etc/keel/systemd/ready.container <<UNIT
[Container]
Image=busybox
Network=none
Notify=yes
Volume=$in/sdnotify:/sdnotify:ro
Exec=sh -c "sleep 3; /sdnotify send READY=1; /sdnotify send STATUS=serving; exec sleep 1000"
UNIT
cat >/etc/keel/systemd/bad.container <<'UNIT'
[Container]
Image=busybox
Frobnicate=1
UNIT
systemctl daemon-reload
r source "$(systemctl show -p SourcePath --value web.service)"
r bad-unit "$(systemctl show -p LoadState --value bad.service)"
r wanted "$(systemctl show -p WantedBy --value web.service)"
systemctl start web.service; r web-start $?
r web-active "$(systemctl is-active web.service)"
main=$(systemctl show -p MainPID --value web.service)
r web-main "$(cat /proc/$main/comm 2>&1)"
r web-cgroup "$(sed -n 's/^0:://p' /proc/$main/cgroup)"
# plain HTTP by hand, as t0040: busybox 1.35's wget -T dies of SIGSEGV when a connect fails
get='printf "GET / HTTP/1.0\r\n\r\n"'
got=
for _ in $(seq 100); do
  got=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/8080; $get >&3; cat <&3" 2>/dev/null | tail -n 1) &&
    [ -n "$got" ] && break
  sleep 0.2
done
r web-answer "$got"
keel ps --format '{{.Names}} {{.State}}' | log ps
t0=$(date +%s); systemctl start ready.service; r ready-start $?; t1=$(date +%s)
r ready-waited "$((t1 - t0))"
r ready-status "$(systemctl show -p StatusText --value ready.service)"
r ready-main "$(cat /proc/$(systemctl show -p MainPID --value ready.service)/comm 2>&1)"
systemctl stop web.service ready.service; r stop $?
r left "$(keel ps -a -q | wc -l)"
journalctl -b -u web.service -u ready.service --no-pager 2>&1 | tail -n 8 | log journal
keel create --name gen --network none busybox sleep 1000 >/dev/null
keel generate systemd --new --name gen >/etc/systemd/system/container-gen.service
systemctl daemon-reload && systemctl start container-gen.service; r gen-start $?
r gen-active "$(systemctl is-active container-gen.service)"
systemctl stop container-gen.service
r gen-left "$(keel ps -a -q | wc -l)"
GUEST

vm_boot main "$TEST_TMP/guest.sh" 6G -fw_cfg "name=opt/keel/in,file=$TEST_TMP/in.tar"

test_expect_success 'boots and runs the script' '
  vm_wait main "KEEL-BOOT: multi-user" &&
  vm_wait main "KEEL-VMTEST: exit=" 900
'
test_expect_success 'daemon-reload made web.service from the .container file, skipped the bad one' '
  assert_streq "$(vm_result main images)" 1 &&
  assert_streq "$(vm_result main source)" /etc/keel/systemd/web.container &&
  assert_streq "$(vm_result main bad-unit)" not-found &&
  assert_streq "$(vm_result main wanted)" multi-user.target
'
test_expect_success 'the unit starts; keel-monitor is its main process, in its cgroup' '
  assert_streq "$(vm_result main web-start)" 0 &&
  assert_streq "$(vm_result main web-active)" active &&
  assert_streq "$(vm_result main web-main)" keel-monitor &&
  assert_streq "$(vm_result main web-cgroup)" /system.slice/web.service
'
test_expect_success 'its published port answers' '
  assert_streq "$(vm_result main web-answer)" from-unit
'
test_expect_success 'Notify=yes: the start waits for the container, which tells its status' '
  assert_streq "$(vm_result main ready-start)" 0 &&
  test "$(vm_result main ready-waited)" -ge 3 &&
  assert_streq "$(vm_result main ready-status)" serving &&
  assert_streq "$(vm_result main ready-main)" keel-monitor
'
test_expect_success 'stopping the units removes their containers' '
  assert_streq "$(vm_result main stop)" 0 &&
  assert_streq "$(vm_result main left)" 0
'
test_expect_success 'a unit from keel generate systemd --new runs and cleans up' '
  assert_streq "$(vm_result main gen-start)" 0 &&
  assert_streq "$(vm_result main gen-active)" active &&
  assert_streq "$(vm_result main gen-left)" 0
'
vm_finish main
test_done
