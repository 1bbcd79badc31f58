#!/bin/bash
# keel run and the lifecycle verbs on the busybox fixture, --network none:
# outputs, exit codes (the container's own, 125, 126, 127), the image
# config merged with the flags, podman's security defaults, resources.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup && keel images >out && assert_file_has_content out busybox
'

N="--network none"
test_expect_success 'run prints the output and returns the exit code' '
  keel run --rm $N busybox echo hello >out &&
  assert_streq "$(cat out)" hello &&
  { keel run --rm $N busybox sh -c "echo to-err >&2; exit 3" 2>err; rc=$?; } ;
  test $rc = 3 && assert_file_has_content err to-err
'

test_expect_success 'a missing command is 127, a non-executable one 126, with one line' '
  { keel run --rm $N busybox nosuch 2>err; rc=$?; } ;
  test $rc = 127 && test $(wc -l <err) = 1 && assert_file_has_content err nosuch &&
  { keel run --rm $N busybox /etc/passwd 2>err; rc=$?; } ;
  test $rc = 126
'

test_expect_success '-e, --env-file, -w, -u, --entrypoint, --hostname' '
  printf "A=from-file\n# comment\nB=b\n" >envf &&
  keel run --rm $N -e X=1 --env-file envf -e A=flag -w /tmp -u nobody --hostname hh busybox \
    sh -c "echo \$X \$A \$B; pwd; id -u; id -gn; hostname; cat /etc/hostname" >out &&
  assert_streq "$(cat out)" "1 flag b
/tmp
65534
nogroup
hh
hh" &&
  keel run --rm $N --entrypoint /bin/echo busybox via entrypoint >out &&
  assert_streq "$(cat out)" "via entrypoint" &&
  keel run --rm $N -u 1234:5 busybox id >out &&
  assert_file_has_content out "^uid=1234 gid=5"
'

test_expect_success 'podman default capabilities, seccomp on, no_new_privs off' '
  keel run --rm $N busybox grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status >out &&
  assert_file_has_content out "CapEff:	00000000800405fb" &&
  assert_file_has_content out "Seccomp:	2" &&
  assert_file_has_content out "NoNewPrivs:	0"
'

test_expect_success '--cap-drop, --cap-add, --privileged, --security-opt' '
  keel run --rm $N --cap-drop ALL busybox grep CapEff /proc/self/status >out &&
  assert_file_has_content out "CapEff:	0000000000000000" &&
  keel run --rm $N --cap-drop CHOWN --cap-add NET_ADMIN busybox grep CapEff /proc/self/status >out &&
  assert_file_has_content out "CapEff:	00000000800415fa" &&
  keel run --rm $N --security-opt seccomp=unconfined --security-opt no-new-privileges busybox \
    grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status >out &&
  assert_file_has_content out "Seccomp:	0" && assert_file_has_content out "NoNewPrivs:	1" &&
  keel run --rm $N --privileged busybox grep -E "^(CapEff|Seccomp):" /proc/self/status >out &&
  assert_file_has_content out "Seccomp:	0" && assert_not_file_has_content out "CapEff:	00000000800405fb"
'

test_expect_success 'masked and read-only paths as podman' '
  keel run --rm $N busybox sh -c "cat /proc/kcore 2>/dev/null | wc -c; echo 1 >/proc/sys/kernel/domainname && echo writable || echo ro" >out &&
  assert_streq "$(cat out)" "0
ro"
'

test_expect_success '--read-only, --tmpfs, -v bind ro, --mount' '
  mkdir -p host && echo on-host >host/f &&
  keel run --rm $N --read-only --tmpfs /scratch -v "$PWD/host:/h:ro" \
    --mount type=bind,source=$PWD/host,target=/h2 busybox \
    sh -c "touch /x 2>/dev/null || echo rootro; touch /scratch/y && echo tmpok; cat /h/f; touch /h/z 2>/dev/null || echo bindro; echo w >/h2/w" >out &&
  assert_streq "$(cat out)" "rootro
tmpok
on-host
bindro" && test -f host/w
'

test_expect_success 'named volumes are filled from the image on first use and kept' '
  keel volume create vol >out && assert_streq "$(cat out)" vol &&
  keel run --rm $N -v vol:/etc busybox sh -c "test -f /etc/passwd && echo keep >/etc/mine" &&
  keel run --rm $N -v vol:/mnt:ro busybox cat /mnt/mine >out &&
  assert_streq "$(cat out)" keep &&
  keel volume ls -q >out && assert_file_has_content out "^vol$" &&
  keel volume inspect vol | jq -e ".[0].Name == \"vol\"" &&
  keel volume rm vol && keel volume ls -q >out && test ! -s out
'

test_expect_success 'resources: -m, --pids-limit, --ulimit reach the cgroup and the process' '
  id=$(keel run -d $N -m 64m --pids-limit 50 --ulimit nofile=512:512 busybox sleep 60) &&
  test "$(cat /sys/fs/cgroup/memory/keel/$id/memory.limit_in_bytes)" = 67108864 &&
  test "$(cat /sys/fs/cgroup/pids/keel/$id/pids.max)" = 50 &&
  test "$(keel exec $id sh -c "ulimit -n")" = 512 &&
  keel rm -f $id >/dev/null
'

test_expect_success '-d, ps, logs (--tail, -t, --since), stop, rm' '
  keel run -d $N --name web busybox sh -c "echo one; echo two >&2; echo three; exec sleep 60" >id &&
  test $(wc -c <id) = 65 &&
  keel ps --format "{{.Names}} {{.State}}" >out && assert_file_has_content out "^web running$" &&
  keel ps -q >out && assert_streq "$(cat out)" "$(cut -c1-12 id)" &&
  for i in $(seq 300); do keel logs web >out 2>&1; grep -q three out && break; sleep 0.1; done &&
  keel logs web >out 2>err && assert_streq "$(cat out)" "one
three" && assert_streq "$(cat err)" two &&
  keel logs --tail 2 web >out 2>/dev/null && assert_not_file_has_content out one &&
  keel logs -t web >tlog 2>/dev/null && grep -qE "^20[0-9-]+T[0-9:.]+Z one$" tlog &&
  keel logs --since 1h web >out 2>/dev/null && assert_file_has_content out one &&
  keel stop -t 1 web >out && assert_streq "$(cat out)" web &&
  keel ps -a --format "{{.Names}} {{.Status}}" >out && assert_file_has_content out "^web Exited \\(137\\)" &&
  keel ps --format "{{.Names}}" >out && test ! -s out &&
  keel rm web >out && assert_streq "$(cat out)" web &&
  keel ps -a -q >out && test ! -s out
'

test_expect_success 'create, start, wait, inspect, rename, restart, kill' '
  keel create $N --name c1 --label app=t busybox sh -c "exit 7" >id &&
  keel inspect --format "{{.State.Status}} {{.Name}} {{.Config.Labels.app}}" c1 >out &&
  assert_streq "$(cat out)" "created c1 t" &&
  keel start c1 >out && assert_streq "$(cat out)" c1 &&
  keel wait c1 >out && assert_streq "$(cat out)" 7 &&
  keel inspect c1 | jq -e ".[0].State.ExitCode == 7 and .[0].Id == \"$(cat id)\"" &&
  keel ps -a --filter label=app=t --format "{{.Names}}" >out && assert_streq "$(cat out)" c1 &&
  keel rename c1 c2 && keel ps -a --filter name=c2 -q >out && test -s out &&
  keel rm c2 &&
  keel run -d $N --name k busybox sleep 60 >/dev/null &&
  keel restart -t 0 k >/dev/null && keel inspect --format "{{.State.Status}}" k >out &&
  assert_streq "$(cat out)" running &&
  keel kill k >/dev/null && keel wait k >out && assert_streq "$(cat out)" 137 &&
  keel rm k >/dev/null &&
  keel run -d $N --name t busybox sh -c "trap \"exit 42\" TERM; while :; do sleep 0.1; done" >/dev/null &&
  sleep 0.3 && keel kill -s TERM t >/dev/null && keel wait t >out && assert_streq "$(cat out)" 42 &&
  keel rm t >/dev/null
'

test_expect_success 'exec: exit code, -e, -u, -w, -d, -i; not on a stopped container' '
  keel run -d $N --name ex -e BASE=1 busybox sleep 60 >/dev/null &&
  keel exec -e E=2 -u nobody -w /tmp ex sh -c "echo \$BASE \$E; id -u; pwd" >out &&
  assert_streq "$(cat out)" "1 2
65534
/tmp" &&
  { keel exec ex sh -c "exit 9"; rc=$?; } ; test $rc = 9 &&
  echo piped | keel exec -i ex cat >out && assert_streq "$(cat out)" piped &&
  keel exec -d ex sh -c "echo d >/tmp/d" && sleep 0.3 && keel exec ex cat /tmp/d >out &&
  assert_streq "$(cat out)" d &&
  keel pause ex >/dev/null && keel inspect --format "{{.State.Status}}" ex >out &&
  assert_streq "$(cat out)" paused && keel unpause ex >/dev/null &&
  keel stop -t 0 ex >/dev/null &&
  { keel exec ex true 2>err; rc=$?; } ; test $rc = 125 && test $(wc -l <err) = 1 &&
  keel rm ex >/dev/null
'

test_expect_success '-i passes stdin; attach sees output; restart policy and health checks' '
  echo in-data | keel run --rm -i $N busybox cat >out && assert_streq "$(cat out)" in-data &&
  keel run -d $N --name rs --restart on-failure:2 busybox sh -c "exit 1" >/dev/null &&
  keel wait rs >out && assert_streq "$(cat out)" 1 &&
  keel inspect --format "{{.RestartCount}}" rs >out && assert_streq "$(cat out)" 2 &&
  keel rm rs >/dev/null &&
  keel run -d $N --name hc --health-cmd "true" --health-interval 1s busybox sleep 60 >/dev/null &&
  for i in $(seq 300); do
    s=$(keel inspect --format "{{.State.Health.Status}}" hc); [ "$s" = healthy ] && break; sleep 0.1
  done && test "$s" = healthy &&
  keel rm -f hc >/dev/null
'

test_expect_success 'the truth survives a killed CLI; a killed monitor is reported, rm -f cleans' '
  before=$(ctr_count_leftovers) &&
  { keel run $N --name bg busybox sleep 60 & } && pid=$! &&
  for i in $(seq 300); do s=$(keel inspect --format "{{.State.Status}}" bg 2>/dev/null) && [ "$s" = running ] && break; sleep 0.1; done &&
  kill -9 $pid && wait $pid 2>/dev/null; sleep 0.2;
  keel ps --format "{{.Names}} {{.State}}" >out && assert_file_has_content out "^bg running$" &&
  kill -9 $(keel inspect --format "{{.State.ConmonPid}}" bg) && sleep 0.2 &&
  keel ps -a --format "{{.Names}} {{.State}}" >out && assert_file_has_content out "^bg unknown$" &&
  keel rm -f bg >/dev/null &&
  test "$(ctr_count_leftovers)" = "$before"
'

test_expect_success 'bad input: one line, exit 125, nothing created' '
  before=$(ctr_count_leftovers) &&
  for args in "--bogus busybox true" "--pull never nosuchimage true" "-m lots busybox true" \
      "--restart sometimes busybox true" "--ulimit nofile=9:1 busybox true" \
      "--network nosuchnet busybox true" "--security-opt seccomp=/nonexistent busybox true" \
      "-v relative:path:zz busybox true" "--stop-timeout soon busybox true" "--name -bad busybox true"; do
    { keel run $N $args >out 2>err; rc=$?; } ;
    echo "$args -> $rc: $(cat err)" &&
    test $rc = 125 && test $(wc -l <err) = 1 || exit 1
  done &&
  keel run -d $N --name dup busybox sleep 60 >/dev/null &&
  { keel run $N --name dup busybox true 2>err; rc=$?; } ; test $rc = 125 &&
  assert_file_has_content err "already in use" &&
  keel rm -f dup >/dev/null &&
  { keel rm nosuch 2>err; rc=$?; } ; test $rc = 1 && test $(wc -l <err) = 1 &&
  test "$(ctr_count_leftovers)" = "$before"
'

test_expect_success 'top, stats --no-stream, cp both ways (running and stopped)' '
  keel run -d $N --name tp -m 64m busybox sh -c "sleep 60 & exec sleep 61" >/dev/null &&
  keel top tp >out && assert_file_has_content out "^0 *1 *0 *sleep 61$" &&
  assert_file_has_content out "^0 *2 *1 *sleep 60$" &&
  keel stats --no-stream tp >out && assert_file_has_content out "tp .*/ 67.1MB .* 2$" &&
  echo from-host >hf && keel cp hf tp:/tmp/ && keel exec tp cat /tmp/hf >out &&
  assert_streq "$(cat out)" from-host &&
  keel cp tp:/etc/passwd pw && assert_file_has_content pw "^root:" &&
  { keel cp tp:/nonexistent x 2>err; rc=$?; } ; test $rc = 125 &&
  keel stop -t 0 tp >/dev/null && keel cp hf tp:/while-stopped &&
  keel start tp >/dev/null && keel exec tp cat /while-stopped >out &&
  assert_streq "$(cat out)" from-host &&
  keel rm -f tp >/dev/null
'

test_expect_success '--init: keel-init is PID 1, forwards SIGTERM, returns the status' '
  keel run --rm $N --init busybox ps -o pid,args >out &&
  assert_file_has_content out "^ *1 /run/keel-init -- ps" &&
  { keel run --rm $N --init busybox sh -c "exit 5"; rc=$?; } ; test $rc = 5 &&
  keel run -d $N --init --name in busybox sleep 60 >/dev/null &&
  start=$(date +%s) && keel stop -t 20 in >/dev/null && test $(($(date +%s) - start)) -lt 10 &&
  keel inspect --format "{{.State.ExitCode}}" in >out && assert_streq "$(cat out)" 143 &&
  keel rm in >/dev/null
'

test_expect_success 'a foreground run passes SIGTERM to the container (sig-proxy)' '
  { "$KEEL" --root "$KEEL_STORE" run --rm $N --name sp busybox sh -c "trap \"exit 42\" TERM; touch /ready; while :; do sleep 0.1; done" & } &&
  pid=$! &&
  for i in $(seq 300); do keel exec sp test -f /ready 2>/dev/null && break; sleep 0.1; done &&
  kill -TERM $pid && { wait $pid; rc=$?; } ; test $rc = 42
'

test_expect_success 'container prune removes what is not running' '
  keel run $N --name p1 busybox true && keel run -d $N --name p2 busybox sleep 60 >/dev/null &&
  keel container prune >out && assert_file_has_content out "^[0-9a-f]{64}$" &&
  keel ps -a --format "{{.Names}}" >out && assert_streq "$(cat out)" p2 &&
  keel rm -f p2 >/dev/null
'

test_done
