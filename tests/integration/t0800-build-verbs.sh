#!/bin/bash
# The buildah-style verbs on the busybox fixture: keel from, run-in, copy,
# config, mount, umount, containers, commit, rm — each checked on the
# working container's filesystem and on the committed image's config.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"

# a field of the image config as JSON
icfg() { keel image inspect "$1" | jq -c ".[0].Config.$2"; }

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup && keel images >out && assert_file_has_content out busybox
'

test_expect_success 'from prints a buildah-style name; --name; names stay unique' '
  assert_streq "$(keel from busybox)" busybox-working-container &&
  assert_streq "$(keel from busybox)" busybox-working-container-2 &&
  assert_streq "$(keel from --name wc busybox)" wc &&
  test_must_fail keel from --name wc busybox 2>err &&
  assert_file_has_content err "already in use" &&
  keel containers >out &&
  assert_file_has_content out "busybox-working-container-2" &&
  assert_file_has_content out "docker.io/library/busybox:latest +wc$"
'

test_expect_success 'working containers stay out of ps and container prune; ps -a --external' '
  keel container prune >/dev/null && keel containers -q >ids && test "$(wc -l <ids)" = 3 &&
  keel ps -a >out && assert_not_file_has_content out working-container &&
  keel ps -a --external >out && assert_file_has_content out "Storage .*busybox-working-container"
'

test_expect_success 'run-in: output, exit code, environment, workdir, user' '
  { keel run-in wc -- sh -c "echo out; echo err >&2; exit 7" >out 2>err; rc=$?; } ;
  echo "rc=$rc" && test $rc = 7 && assert_streq "$(cat out)" out && assert_streq "$(cat err)" err &&
  keel run-in -e A=1 -w /work -u nobody wc sh -c "echo \$A \$(pwd) \$(id -u)" >out &&
  assert_streq "$(cat out)" "1 /work 65534" &&
  { keel run-in wc nosuch 2>err; rc=$?; } ; test $rc = 127
'

test_expect_success 'run-in: changes persist between invocations; no leftover mount points' '
  keel run-in wc sh -c "echo one >/f1" &&
  keel run-in wc sh -c "cat /f1; echo two >>/f1" >out && assert_streq "$(cat out)" one &&
  root=$(keel mount wc) && assert_streq "$(cat $root/f1)" "one
two" &&
  test ! -e $root/etc/hostname && test ! -e $root/etc/resolv.conf
'

test_expect_success 'run-in: --network none has only lo; host has the host interfaces' '
  keel run-in --network none wc ls /sys/class/net >out && assert_streq "$(cat out)" lo &&
  keel run-in --network host wc ls /sys/class/net >out &&
  test "$(wc -l <out)" = "$(ls /sys/class/net | wc -l)"
'

test_expect_success 'run-in: bind and cache mounts; the cache outlives the run' '
  mkdir -p bsrc && echo bound >bsrc/x &&
  keel run-in --mount type=bind,source=$PWD/bsrc,target=/b,ro wc cat /b/x >out &&
  assert_streq "$(cat out)" bound &&
  keel run-in --mount type=cache,id=c1,target=/cache wc sh -c "echo \$\$ >>/cache/log" &&
  keel run-in --mount type=cache,id=c1,target=/cache wc sh -c "echo \$\$ >>/cache/log" &&
  keel run-in --mount type=cache,id=c1,target=/cache wc sh -c "wc -l </cache/log" >out &&
  assert_streq "$(cat out)" 2 &&
  root=$(keel mount wc) && test ! -e $root/cache && test ! -e $root/b
'

test_expect_success 'copy: files, directory contents, destination rules, owners and modes' '
  mkdir -p src/sub && echo a >src/a && echo b >src/sub/b && ln -s a src/link &&
  chown 1234:1234 src/a &&
  keel copy wc src /app/ && keel copy wc src/a /single &&
  keel copy --chown 1000:1001 --chmod 600 wc src/a src/sub/b /multi &&
  root=$(keel mount wc) &&
  stat -c "%u:%g %a %n" $root/app/a $root/app/sub/b $root/single $root/multi/a $root/multi/b >out &&
  assert_streq "$(cat out)" "0:0 644 $root/app/a
0:0 644 $root/app/sub/b
0:0 644 $root/single
1000:1001 600 $root/multi/a
1000:1001 600 $root/multi/b" &&
  assert_streq "$(readlink $root/app/link)" a && test ! -e $root/app/src
'

test_expect_success 'copy: a directory source leaves the destination directory as buildah does' '
  mkdir -p d700/x && chmod 700 d700 && chown 5:5 d700 &&
  keel copy wc d700 /app7/ && keel copy wc d700 /tmp/ && keel copy --chown 9:9 wc d700 /app9 &&
  root=$(keel mount wc) &&
  stat -c "%n %a %u:%g" $root/app7 $root/app7/x $root/tmp $root/app9 $root/app9/x >out &&
  assert_streq "$(cat out)" "$root/app7 755 0:0
$root/app7/x 755 0:0
$root/tmp 1777 0:0
$root/app9 755 9:9
$root/app9/x 755 9:9"
'

test_expect_success 'copy: --chown by name from the container /etc/passwd, relative to WorkingDir' '
  keel config --workingdir /wd wc &&
  keel copy --chown nobody wc src/a rel &&
  root=$(keel mount wc) && stat -c %u:%g $root/wd/rel >out &&
  assert_streq "$(cat out)" 65534:65534
'

test_expect_success 'copy --from another working container keeps owners; --from an image' '
  keel from --name other busybox >/dev/null &&
  keel run-in other sh -c "mkdir /o && echo made >/o/f && chown 42:43 /o/f" &&
  keel copy --from other wc /o/f /from-ctr &&
  keel copy --from busybox wc /bin/busybox /from-img &&
  root=$(keel mount wc) && stat -c %u:%g $root/from-ctr >out && assert_streq "$(cat out)" 42:43 &&
  cmp $root/from-img $(keel mount other)/bin/busybox
'

test_expect_success 'copy --add extracts a local tar with its owners' '
  mkdir -p t/d && echo in-tar >t/d/f && chown 7:8 t/d/f &&
  tar -C t -czf t.tgz . &&
  keel copy --add wc t.tgz /x/ &&
  root=$(keel mount wc) && assert_streq "$(cat $root/x/d/f)" in-tar &&
  stat -c %u:%g $root/x/d/f >out && assert_streq "$(cat out)" 7:8 &&
  keel copy wc t.tgz /y/ && test -f $root/y/t.tgz
'

test_expect_success 'mount prints the merged rootfs; umount unmounts it' '
  root=$(keel mount wc) && mountpoint -q $root && test -x $root/bin/busybox &&
  keel umount wc >/dev/null && ! mountpoint -q $root &&
  keel run-in wc cat /f1 >out && assert_file_has_content out two
'

test_expect_success 'config: every field lands in the committed image' '
  keel config --cmd "[\"sh\",\"-c\",\"cat /f1\"]" --entrypoint "" --env E1=v1 --env "E2=two words" \
    --label l1=x --label l2=y --workingdir /srv --user 1000:1000 --port 8080 --port 53/udp \
    --volume /data --stop-signal SIGINT --author me --change "ONBUILD RUN true" \
    --change "HEALTHCHECK --interval=10s CMD true" wc &&
  keel commit -q wc cfgimg >id && test -n "$(cat id)" &&
  assert_streq "$(icfg cfgimg Cmd)" "[\"sh\",\"-c\",\"cat /f1\"]" &&
  assert_streq "$(icfg cfgimg Env)" "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"E1=v1\",\"E2=two words\"]" &&
  assert_streq "$(icfg cfgimg Labels)" "{\"l1\":\"x\",\"l2\":\"y\"}" &&
  assert_streq "$(icfg cfgimg WorkingDir)" "\"/srv\"" &&
  assert_streq "$(icfg cfgimg User)" "\"1000:1000\"" &&
  assert_streq "$(icfg cfgimg ExposedPorts)" "{\"8080/tcp\":{},\"53/udp\":{}}" &&
  assert_streq "$(icfg cfgimg Volumes)" "{\"/data\":{}}" &&
  assert_streq "$(icfg cfgimg StopSignal)" "\"SIGINT\"" &&
  assert_streq "$(icfg cfgimg OnBuild)" "[\"RUN true\"]" &&
  assert_streq "$(icfg cfgimg Healthcheck.Test)" "[\"CMD-SHELL\",\"true\"]"
'

test_expect_success 'the committed image runs with keel run, with its files and config' '
  keel run --rm --network none -u 0 cfgimg >out &&
  assert_streq "$(cat out)" "one
two" &&
  keel run --rm --network none cfgimg sh -c "pwd; id -u; echo \$E2; cat /app/sub/b /x/d/f" >out &&
  assert_streq "$(cat out)" "/srv
1000
two words
b
in-tar"
'

test_expect_success 'from scratch: an empty rootfs, the platform asked for, a runnable image' '
  assert_streq "$(keel from --name sc --platform linux/arm64 scratch)" sc &&
  root=$(keel mount sc) && test -z "$(ls -A $root)" &&
  keel from --name sc2 scratch >/dev/null &&
  keel copy --from busybox sc2 /bin/busybox /busybox &&
  keel config --entrypoint "[\"/busybox\"]" --cmd "[\"echo\",\"from scratch\"]" sc2 &&
  keel commit -q sc scratch-arm >/dev/null && keel commit -q sc2 scratch-bb >/dev/null &&
  keel image inspect scratch-arm | jq -r ".[0].Architecture" >arch && assert_streq "$(cat arch)" arm64 &&
  keel run --rm --network none scratch-bb >out && assert_streq "$(cat out)" "from scratch" &&
  keel image inspect scratch-bb | jq ".[0].RootFS.Layers | length" >n && assert_streq "$(cat n)" 1 &&
  keel rm sc sc2 >/dev/null
'

test_expect_success 'rm removes a working container, mounted or not' '
  root=$(keel mount other) &&
  keel rm other wc >/dev/null && ! mountpoint -q $root &&
  keel containers -q >out && test "$(wc -l <out)" = 2 &&
  test_must_fail keel run-in wc true 2>err && assert_file_has_content err "no container"
'

test_expect_success 'rm -a removes the rest; nothing mounted is left' '
  keel rm -a -f >/dev/null &&
  keel containers -q >out && test ! -s out &&
  test "$(grep -c "$KEEL_STORE" /proc/self/mountinfo || true)" = 0
'

test_done
