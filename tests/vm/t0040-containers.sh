#!/bin/bash
# The container engine on the Keel host: `keel system check-kernel` finds
# every option it needs in the image's kernel; `keel pull` fetches from a
# registry on the test machine (10.0.2.2 from the guest) configured
# through registries.conf; `keel run` applies memory, pids and cpu limits
# in cgroup v2, networks a container on the keel0 bridge with nftables,
# publishes a port, and leaves nothing behind.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib.sh"
vm_require
. "$TEST_SRCDIR/tests/lib/registry.sh"

registry_start plain
test_expect_success 'setup: busybox in the test registry' '
  registry_push_fixture busybox busybox:latest
'
port=${REGISTRY##*:}

sed "s/@PORT@/$port/g" >"$TEST_TMP/guest.sh" <<'GUEST'
#!/bin/bash
r() { echo "KEEL-T $1=$2"; }
reg=10.0.2.2:@PORT@
mkdir -p /etc/containers
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$reg" >/etc/containers/registries.conf
keel system check-kernel >/var/tmp/ck 2>&1
r check-kernel $?
r ck-missing "$(grep -c ' missing ' /var/tmp/ck)"
sed 's/^/KEEL-LOG /' /var/tmp/ck | tail -n 2
keel pull $reg/busybox:latest >/var/tmp/pull.log 2>&1
r pull $?
sed 's/^/KEEL-LOG /' /var/tmp/pull.log | tail -n 3
r images "$(keel images -q | wc -l)"
out=$(keel run --rm -m 32m --pids-limit 10 --cpus 0.5 $reg/busybox \
  cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max 2>&1)
r run-limits $?
echo "$out" | sed 's/^/KEEL-LOG limits: /'
r mem "$(echo "$out" | sed -n 1p)"
r pids "$(echo "$out" | sed -n 2p)"
r cpu "$(echo "$out" | sed -n 3p | tr " " _)"
keel run --rm -m 16m $reg/busybox sh -c 'head -c 100m /dev/zero | tail' >/dev/null 2>&1
r oom $?
keel run --rm $reg/busybox sh -c 'exit 7'
r exit-code $?
keel run -d --name web -p 8080:80 $reg/busybox \
  sh -c 'mkdir /www && echo served >/www/index.html && exec httpd -f -p 80 -h /www' >/var/tmp/web.log 2>&1
r web-start $?
sed 's/^/KEEL-LOG web: /' /var/tmp/web.log
# plain HTTP by hand: busybox 1.35's wget -T dies of SIGSEGV when a connect fails
get='printf "GET / HTTP/1.0\r\n\r\n"'
got=
for _ in $(seq 100); do
  got=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/8080; $get >&3; cat <&3" 2>/dev/null | tail -n 1) &&
    [ -n "$got" ] && break
  sleep 0.2
done
r published "$got"
ip=$(keel inspect --format '{{.NetworkSettings.IPAddress}}' web)
r from-ctr "$(keel run --rm $reg/busybox sh -c "$get | timeout 5 nc $ip 80" 2>&1 | tail -n 1)"
r bridge-ip "$(keel inspect --format '{{.NetworkSettings.IPAddress}}' web)"
r nft-table "$(nft list tables 2>/dev/null | grep -c 'inet keel')"
keel rm -f web >/dev/null 2>&1
r rm $?
r ps-after "$(keel ps -aq | wc -l)"
r veths-after "$(ip -o link show type veth 2>/dev/null | wc -l)"
GUEST

vm_boot main "$TEST_TMP/guest.sh" 6G

test_expect_success 'boots and runs the container script' '
  vm_wait main "KEEL-BOOT: multi-user" &&
  vm_wait main "KEEL-VMTEST: exit=" 900
'
test_expect_success 'keel system check-kernel: nothing missing in the image kernel' '
  assert_streq "$(vm_result main check-kernel)" 0 &&
  assert_streq "$(vm_result main ck-missing)" 0
'
test_expect_success 'keel pull from the test machine through registries.conf (insecure)' '
  assert_streq "$(vm_result main pull)" 0 &&
  assert_streq "$(vm_result main images)" 1
'
test_expect_success 'keel run -m, --pids-limit and --cpus land in cgroup v2' '
  assert_streq "$(vm_result main run-limits)" 0 &&
  assert_streq "$(vm_result main mem)" 33554432 &&
  assert_streq "$(vm_result main pids)" 10 &&
  assert_streq "$(vm_result main cpu)" 50000_100000
'
test_expect_success 'past its memory limit a container is OOM-killed (137); exit codes pass through' '
  assert_streq "$(vm_result main oom)" 137 &&
  assert_streq "$(vm_result main exit-code)" 7
'
test_expect_success 'a bridged container publishes a port through nftables and is reached by another' '
  assert_streq "$(vm_result main web-start)" 0 &&
  assert_streq "$(vm_result main published)" served &&
  assert_streq "$(vm_result main from-ctr)" served &&
  case "$(vm_result main bridge-ip)" in 10.88.*) ;; *) false ;; esac &&
  assert_streq "$(vm_result main nft-table)" 1
'
test_expect_success 'rm -f leaves no container and no veth' '
  assert_streq "$(vm_result main rm)" 0 &&
  assert_streq "$(vm_result main ps-after)" 0 &&
  assert_streq "$(vm_result main veths-after)" 0
'
vm_finish main
test_done
