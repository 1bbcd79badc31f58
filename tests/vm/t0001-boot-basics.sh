#!/bin/bash
# The server image boots to multi-user under QEMU: /usr is read-only, /etc
# writable, /var populated from the image, the root filesystem grown to the
# disk on first boot, no unit failed, and SSH lets in exactly the key handed
# in as a systemd credential (SMBIOS type 11) and nothing else.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib.sh"
vm_require
command -v ssh >/dev/null || skip_all "no ssh client (make deps)"

ssh-keygen -q -t ed25519 -N '' -f "$TEST_TMP/id" -C keel-vm-test
cat >"$TEST_TMP/guest.sh" <<'GUEST'
#!/bin/bash
r() { echo "KEEL-T $1=$2"; }
# wait until the host's SSH probe has logged in (it touches the file)
for _ in $(seq 1200); do [ -e /run/keel-vmtest/ssh-ok ] && break; sleep 0.5; done
r ssh-login "$([ -e /run/keel-vmtest/ssh-ok ] && echo yes || echo no)"
timeout 300 systemctl is-system-running --wait >/dev/null 2>&1
r state "$(systemctl is-system-running)"
r failed "$(systemctl --failed --plain --no-legend | awk '{ print $1 }' | paste -sd, | sed 's/^$/none/')"
r usr-opts "$(findmnt -n -o OPTIONS /usr | cut -d, -f1)"
r usr-write "$(touch /usr/.keel-probe 2>/dev/null && echo yes || echo no)"
r etc-write "$(touch /etc/.keel-probe 2>/dev/null && rm /etc/.keel-probe && echo yes || echo no)"
r var-dpkg "$([ -s /var/lib/dpkg/status ] && echo yes || echo no)"
r var-keel "$(stat -c %a /var/lib/keel 2>/dev/null || echo missing)"
r home-keel "$(stat -c %U /var/home/keel 2>/dev/null || echo missing)"
r booted "$(ostree admin status 2>/dev/null | awk '/^\*/ { print $2 }')"
disk=$(lsblk -b -d -n -o SIZE /dev/vda)
root=$(df -B1 --output=size / | tail -n 1 | tr -d ' ')
r root-pct $((root * 100 / disk))
r sysctl-fwd "$(sysctl -n net.ipv4.ip_forward)"
r modules "$(for m in overlay br_netfilter nf_tables veth bridge; do [ -d /sys/module/$m ] && echo $m; done | paste -sd, -)"
r resolved "$(systemctl is-active systemd-resolved)"
r ip "$(ip -4 -o addr show scope global | awk '{ print $4 }' | head -n 1)"
for p in keel keel-runtime; do
  r "$p" "$( ("$p" --version 2>/dev/null || echo missing) | head -n 1 | tr ' ' '_')"
done
# for the timeline: where the boot spent its time
r analyze "$(systemd-analyze 2>/dev/null | head -n 1 | tr ' ' '_')"
systemd-analyze blame 2>/dev/null | grep -v -E '\.device$' | head -n 10 | sed 's/^ */KEEL-BLAME /'
GUEST

vm_boot main "$TEST_TMP/guest.sh" 6G \
  -smbios "$(keel_qemu_credential ssh.authorized_keys.root "$TEST_TMP/id.pub")"
port=$(vm_port main)
SSH=(ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10
  -o BatchMode=yes -p "$port")

test_expect_success 'boots to multi-user' '
  vm_wait main "KEEL-BOOT: multi-user"
'

test_expect_success 'ssh logs in with the credential key' '
  ok= &&
  for i in $(seq 60); do
    vm_alive main || break
    if "${SSH[@]}" -i "$TEST_TMP/id" root@127.0.0.1 "touch /run/keel-vmtest/ssh-ok" 2>"$TEST_TMP/ssh.err"; then
      ok=1; break
    fi
    sleep 2
  done &&
  test -n "$ok" || { cat "$TEST_TMP/ssh.err"; false; }
'

test_expect_success 'ssh offers no password authentication' '
  ! "${SSH[@]}" -o PreferredAuthentications=none root@127.0.0.1 true 2>"$TEST_TMP/none.err" &&
  assert_file_has_content "$TEST_TMP/none.err" "Permission denied \(publickey\)"
'

test_expect_success 'the test script ran to its end' '
  vm_wait main "KEEL-VMTEST: exit=0" 300
'

test_expect_success 'no unit failed' '
  assert_streq "$(vm_result main failed)" none &&
  assert_streq "$(vm_result main state)" running
'

test_expect_success '/usr is read-only, /etc writable' '
  assert_streq "$(vm_result main usr-opts)" ro &&
  assert_streq "$(vm_result main usr-write)" no &&
  assert_streq "$(vm_result main etc-write)" yes
'

test_expect_success '/var is populated from the image' '
  assert_streq "$(vm_result main var-dpkg)" yes &&
  assert_streq "$(vm_result main var-keel)" 700 &&
  assert_streq "$(vm_result main home-keel)" keel
'

test_expect_success 'the root filesystem grew to the disk' '
  pct=$(vm_result main root-pct) &&
  test "$pct" -ge 85 &&
  grep -a -q "KEEL-INITRAMFS: grew root" "$(vm_console main)"
'

test_expect_success 'booted an ostree deployment of keel' '
  test -n "$(vm_result main booted)" &&
  grep -a -q "ostree=/ostree/boot" "$(vm_console main)"
'

test_expect_success 'container sysctls and modules are in place' '
  assert_streq "$(vm_result main sysctl-fwd)" 1 &&
  assert_streq "$(vm_result main modules)" overlay,br_netfilter,nf_tables,veth,bridge
'

test_expect_success 'networkd got an address by DHCP, resolved runs' '
  assert_streq "$(vm_result main ip)" 10.0.2.15/24 &&
  assert_streq "$(vm_result main resolved)" active
'

# The image carries the programs built in this tree (make programs).
for p in keel keel-runtime; do
  [ -x "$KEEL_BUILD/$p" ] || continue
  test_expect_success "$p from this tree runs in the image" '
    assert_streq "$(vm_result main '"$p"')" \
      "$("$KEEL_BUILD/'"$p"'" --version | head -n 1 | tr " " _)"
  '
done

say "guest: $(vm_result main analyze | tr '_' ' ')"
grep -a '^KEEL-BLAME' "$(vm_console main)" | tr -d '\r' | while read -r _ l; do say "guest blame: $l"; done
vm_finish main
test_done
