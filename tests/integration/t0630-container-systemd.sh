#!/bin/bash
# Containers as systemd services, without systemd as PID 1: what
# `keel generate systemd` and keel-systemd-generator write (checked with
# systemd-analyze verify), their Exec lines run by hand, and --sdnotify
# against a stand-in for systemd's notify socket (tests/helpers/sdnotify).
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"

SDNOTIFY=$KEEL_BUILD/tests/helpers/sdnotify
GEN=$KEEL_BUILD/keel-systemd-generator
SOCK=$TEST_TMP/notify.sock
N="--network none"

# listen COUNT TIMEOUT: systemd's notify socket, in the background ($LPID)
listen() {
  rm -f "$SOCK" && "$SDNOTIFY" listen "$SOCK" "$1" "$2" >msgs 2>listen.err &
  LPID=$!
  for i in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
  return 1
}
# the pid a MAINPID= line names is the container's keel-monitor
mainpid_is_monitor() {
  local pid
  pid=$(sed -n 's/^MAINPID=//p' msgs) && test -n "$pid" &&
    assert_streq "$(cat /proc/$pid/comm)" keel-monitor &&
    assert_streq "$(cat "$KEEL_STORE/containers/$1/userdata/monitor.pid")" "$pid"
}
# run_exec UNIT KEY NAME: a unit's Exec line run as systemd would (%N = NAME)
run_exec() {
  local line
  line=$(sed -n "s/^$2=-\{0,1\}//p" "$1" | sed "s/%N/$3/g") && test -n "$line" &&
    eval "KEEL_ROOT=\$KEEL_STORE $line"
}

test_expect_success 'setup: the busybox fixture in the store' 'ctr_setup'

test_expect_success 'generate systemd: start/stop of an existing container, Type=forking' '
  keel create --name svc --stop-timeout 2 $N busybox sleep 1000 >id &&
  keel generate systemd --name svc >unit &&
  assert_file_has_content unit "^# container-svc.service" &&
  assert_file_has_content unit "^ExecStart=$KEEL --root $KEEL_STORE start svc$" &&
  assert_file_has_content unit "^ExecStop=$KEEL --root $KEEL_STORE stop -t 2 svc$" &&
  assert_file_has_content unit "^PIDFile=$KEEL_STORE/containers/$(cat id)/userdata/monitor.pid$" &&
  assert_file_has_content unit "^Type=forking$" &&
  assert_file_has_content unit "^Restart=on-failure$" &&
  assert_file_has_content unit "^WantedBy=default.target$" &&
  cp unit container-svc.service && systemd-analyze verify ./container-svc.service &&
  run_exec unit ExecStart svc >/dev/null &&
  pid=$(cat "$KEEL_STORE/containers/$(cat id)/userdata/monitor.pid") &&
  assert_streq "$(cat /proc/$pid/comm)" keel-monitor &&
  keel ps >ps && assert_file_has_content ps svc &&
  run_exec unit ExecStop svc >/dev/null &&
  keel ps >ps && assert_not_file_has_content ps svc
'

test_expect_success 'generate systemd --files, --restart-policy, -t, ids without --name' '
  mkdir files && (cd files && keel generate systemd --files --restart-policy always -t 3 svc) >out &&
  id=$(cat id) && assert_streq "$(cat out)" "$PWD/files/container-$id.service" &&
  assert_file_has_content "files/container-$id.service" "^Restart=always$" &&
  assert_file_has_content "files/container-$id.service" "^TimeoutStopSec=63$" &&
  assert_file_has_content "files/container-$id.service" "stop -t 3 $id$"
'

test_expect_success 'generate systemd: bad flags and unknown containers, one line, 125' '
  for args in "--restart-policy sometimes svc" "nosuch" "" "--bogus svc"; do
    { keel generate systemd $args >out 2>err; rc=$?; } ;
    test $rc = 125 && test $(wc -l <err) = 1 && test ! -s out || return 1
  done &&
  { keel generate nonsense svc 2>err; rc=$?; } ; test $rc = 125
'

test_expect_success 'generate systemd --new: the recorded command, Type=notify, --replace' '
  keel generate systemd --new --name svc >unit &&
  assert_file_has_content unit "^ExecStart=$KEEL --root $KEEL_STORE run --rm --sdnotify=conmon --replace -d --name=svc --stop-timeout=2 --network=none busybox sleep 1000$" &&
  assert_file_has_content unit "^ExecStopPost=$KEEL --root $KEEL_STORE rm -f --ignore -v svc$" &&
  assert_file_has_content unit "^Type=notify$" && assert_file_has_content unit "^NotifyAccess=all$" &&
  cp unit container-svc.service && systemd-analyze verify ./container-svc.service &&
  listen 1 30 && NOTIFY_SOCKET=$SOCK run_exec unit ExecStart svc >/dev/null && wait $LPID &&
  assert_file_has_content msgs "^READY=1$" &&
  new=$(keel inspect --format "{{.Id}}" svc) && test "$new" != "$(cat id)" &&
  mainpid_is_monitor "$new" &&
  keel ps -a --format "{{.Names}}" >names && test "$(grep -c "^svc$" names)" = 1 &&
  run_exec unit ExecStop svc >/dev/null && run_exec unit ExecStopPost svc >/dev/null &&
  run_exec unit ExecStopPost svc >/dev/null &&
  keel ps -a >ps && assert_not_file_has_content ps svc
'

test_expect_success '--sdnotify=conmon: the monitor tells MAINPID and READY=1' '
  listen 1 30 &&
  NOTIFY_SOCKET=$SOCK keel run -d --name nc --sdnotify=conmon $N busybox sh -c "env; sleep 1000" >/dev/null &&
  wait $LPID && assert_file_has_content msgs "^READY=1$" &&
  mainpid_is_monitor "$(keel inspect --format "{{.Id}}" nc)" &&
  keel logs nc >env && assert_not_file_has_content env NOTIFY_SOCKET &&
  keel rm -f nc >/dev/null
'

test_expect_success '--sdnotify=container: run -d waits for the container, then the monitor passes on' '
  listen 3 60 &&
  NOTIFY_SOCKET=$SOCK keel run -d --name ncn --sdnotify=container $N -v "$SDNOTIFY:/sdnotify:ro" busybox \
    sh -c "/sdnotify send STATUS=warming; sleep 2; touch /ready-sent; /sdnotify send READY=1; env; sleep 1; /sdnotify send STATUS=serving; sleep 1000" >/dev/null &&
  keel exec ncn test -e /ready-sent &&
  wait $LPID && cat msgs &&
  assert_streq "$(sed -n 1p msgs)" "STATUS=warming" &&
  assert_streq "$(sed -n 4p msgs)" "READY=1" &&
  assert_streq "$(sed -n 6p msgs)" "STATUS=serving" &&
  mainpid_is_monitor "$(keel inspect --format "{{.Id}}" ncn)" &&
  keel logs ncn >env && assert_file_has_content env "^NOTIFY_SOCKET=/run/notify/notify.sock$" &&
  keel rm -f ncn >/dev/null
'

test_expect_success '--sdnotify=ignore: nothing told, nothing passed; a bad mode is refused' '
  listen 1 2 &&
  NOTIFY_SOCKET=$SOCK keel run --rm --sdnotify=ignore $N busybox env >env &&
  { wait $LPID; rc=$?; } ; test $rc = 1 && test ! -s msgs &&
  assert_not_file_has_content env NOTIFY_SOCKET &&
  { keel run --rm --sdnotify=sometimes $N busybox true 2>err; rc=$?; } ;
  test $rc = 125 && test $(wc -l <err) = 1 && assert_file_has_content err sdnotify
'

test_expect_success 'generator: .container files into services, links, the first directory wins' '
  cp -r "$TEST_SRCDIR/tests/fixtures/quadlet" q && sed -i "s#@SDNOTIFY@#$SDNOTIFY#" q/etc/notify.container &&
  mkdir gen && { KEEL_QUADLET_UNIT_DIRS=$PWD/q/etc:$PWD/q/nosuch:$PWD/q/usr KEEL_QUADLET_KEEL=$KEEL \
    "$GEN" gen gen gen 2>err; rc=$?; } ;
  cat err && test $rc = 1 && test $(wc -l <err) = 1 &&
  assert_file_has_content err "skipping $PWD/q/etc/bad.container: .*unsupported key .Frobnicate." &&
  (cd gen && find . | sort) >tree && cat tree &&
  assert_streq "$(cat tree)" "$(printf "%s\n" . ./db.service ./keel-test.target.requires \
    ./keel-test.target.requires/notify.service ./multi-user.target.wants \
    ./multi-user.target.wants/web.service ./notify.service ./web.service)" &&
  assert_streq "$(readlink gen/multi-user.target.wants/web.service)" ../web.service &&
  assert_file_has_content gen/web.service "^SourcePath=$PWD/q/etc/web.container$" &&
  assert_file_has_content gen/web.service "^ExecStart=$KEEL run --name=qweb --replace --rm --detach --sdnotify=conmon --network=none --env=GREETING=hello \"--env=TWO=two words\" --label=app=web --label=tier=front busybox sh -c \"echo started; sleep 1000\"$" &&
  assert_file_has_content gen/web.service "^Restart=always$" &&
  assert_file_has_content gen/db.service "run --name=systemd-%N .* busybox sleep 1000$" &&
  assert_file_has_content gen/notify.service "--sdnotify=container" &&
  systemd-analyze verify gen/web.service gen/db.service
'

test_expect_success 'generator: the web service runs, tells its readiness, and stops' '
  listen 1 30 && NOTIFY_SOCKET=$SOCK run_exec gen/web.service ExecStart web >/dev/null &&
  wait $LPID && mainpid_is_monitor "$(keel inspect --format "{{.Id}}" qweb)" &&
  keel inspect --format "{{.Config.Labels}}" qweb >labels && assert_file_has_content labels tier &&
  keel exec qweb env >env && assert_file_has_content env "^TWO=two words$" &&
  run_exec gen/web.service ExecStop web >/dev/null &&
  keel ps -a >ps && assert_not_file_has_content ps qweb &&
  run_exec gen/web.service ExecStopPost web >/dev/null
'

test_expect_success 'generator: Notify=yes hands readiness to the container' '
  listen 1 30 && NOTIFY_SOCKET=$SOCK run_exec gen/notify.service ExecStart notify >/dev/null &&
  wait $LPID && assert_file_has_content msgs "^READY=1$" &&
  run_exec gen/notify.service ExecStopPost notify >/dev/null &&
  keel ps -a >ps && assert_not_file_has_content ps systemd-notify
'

test_expect_success 'generator --dryrun prints, writes nothing; bad usage is an error' '
  KEEL_QUADLET_UNIT_DIRS=$PWD/q/usr "$GEN" --dryrun >dry &&
  assert_file_has_content dry "^---db.service---$" && assert_file_has_content dry "^---web.service---$" &&
  { "$GEN" 2>err; rc=$?; } ; test $rc = 1 && assert_file_has_content err usage
'

test_expect_success 'nothing left behind' '
  keel rm -a -f >/dev/null && test "$(ctr_count_leftovers)" = "0 0 0 0"
'

test_done
