#!/bin/bash
# Bad input to the working-container verbs: one clear line, exit 125,
# nothing made; copy sources outside the context are refused; kill -9 at
# any moment of a commit never leaves a name on a partial image.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"

# the command fails with 125 and exactly one line matching $1 on stderr
fails_with() {
  local want=$1 rc=0
  shift
  "$@" >out 2>err || rc=$?
  [ $rc = 125 ] || { echo "exit $rc, not 125: $*" >&2; cat err >&2; return 1; }
  [ "$(wc -l <err)" = 1 ] || { echo "not one line:" >&2; cat err >&2; return 1; }
  assert_file_has_content err "$want"
}

test_expect_success 'setup: the busybox fixture and a working container' '
  ctr_setup && keel from --name wc busybox >/dev/null
'

test_expect_success 'from: a missing image, a bad name, a bad --pull; nothing made' '
  fails_with "nosuch.*image not known" keel from --pull never nosuch &&
  fails_with "invalid container name" keel from --name "bad name" busybox &&
  fails_with "invalid container name" keel from --name -x busybox &&
  fails_with "pull" keel from --pull sometimes busybox &&
  keel containers -q >ids && test "$(wc -l <ids)" = 1
'

test_expect_success 'verbs on what is not a working container' '
  fails_with "no container with name or ID \"nosuch\"" keel run-in nosuch true &&
  fails_with "no container" keel copy nosuch /etc/hostname / &&
  fails_with "no container" keel commit nosuch img &&
  keel create --network none --name plain busybox true >/dev/null &&
  fails_with "is a container, not a working container" keel run-in plain true &&
  fails_with "is a container, not a working container" keel config --env A=1 plain &&
  keel rm plain >/dev/null
'

test_expect_success 'rmi refuses an image a working container stands on; prune -a keeps it' '
  fails_with "in use by container" keel rmi busybox &&
  fails_with "in use by container" keel rmi "$(keel image inspect busybox | jq -r ".[0].Id")" &&
  keel image prune -a >out && assert_file_has_content out "removed 0 images" &&
  keel image inspect busybox >/dev/null && keel run-in wc true
'

test_expect_success 'config and commit refuse malformed values, changing nothing' '
  fails_with "invalid port" keel config --port 99999 wc &&
  fails_with "invalid port" keel config --port 80/icmp wc &&
  fails_with "want KEY=VALUE" keel config --env NOEQUALS wc &&
  fails_with "unknown change instruction .FROM" keel config --change "FROM x" wc &&
  keel image inspect busybox | jq -c ".[0].Config.ExposedPorts" >before &&
  fails_with "unknown change instruction" keel commit -c "RUN true" wc img1 &&
  fails_with "invalid reference|invalid image name" keel commit wc "Bad Name" &&
  test_must_fail keel image inspect img1 2>/dev/null &&
  keel commit -q wc ok >/dev/null && keel image inspect ok | jq -c ".[0].Config.ExposedPorts" >after &&
  assert_streq "$(cat before)" "$(cat after)"
'

test_expect_success 'copy: missing sources, sources outside --contextdir, escaping symlinks' '
  mkdir -p ctx/d outside && echo in >ctx/d/f && echo secret >outside/s &&
  ln -s ../outside/s ctx/out-link && ln -s /etc/passwd ctx/abs-link &&
  fails_with "copy source .nosuch." keel copy wc nosuch / &&
  fails_with "outside the build context" keel copy --contextdir ctx wc ../outside/s / &&
  fails_with "outside the build context" keel copy --contextdir ctx wc out-link / &&
  fails_with "outside the build context" keel copy --contextdir ctx wc abs-link / &&
  keel copy --contextdir ctx wc d /ok/ &&
  root=$(keel mount wc) && assert_streq "$(cat $root/ok/f)" in &&
  test ! -e $root/s && test ! -e $root/out-link
'

test_expect_success 'copy: a symlink in the image never leads a write to the host' '
  keel run-in wc sh -c "ln -s /../../../../../tmp/keel-escape-$$ /trap" &&
  echo x >payload && keel copy wc payload /trap/p &&
  test ! -e /tmp/keel-escape-$$ && root=$(keel mount wc) &&
  assert_streq "$(cat $root/tmp/keel-escape-$$/p)" x
'

test_expect_success 'run-in: bad flags are one line each' '
  fails_with "network" keel run-in --network bogus wc true &&
  fails_with "mount" keel run-in --mount type=nfs,target=/x wc true &&
  fails_with "working container and a command" keel run-in wc
'

test_expect_success 'kill -9 during commit: never a name on a partial image' '
  keel run-in wc sh -c "dd if=/dev/urandom of=/big bs=1M count=24 2>/dev/null" &&
  for delay in 0.05 0.15 0.3 0.6 1.0 1.5; do
    keel commit -q wc killed:$delay >/dev/null 2>&1 & pid=$!
    sleep $delay; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null || true
    if keel image inspect killed:$delay >/dev/null 2>&1; then
      echo "$delay: committed whole" &&
      keel run --rm --network none killed:$delay cmp /big /big >/dev/null
    else
      echo "$delay: no image"
    fi
  done &&
  keel system check --repair >check && keel system check >check2 &&
  assert_file_has_content check2 " 0 problems" &&
  keel commit -q wc whole >/dev/null && keel run --rm --network none whole ls -l /big >out &&
  assert_file_has_content out 25165824
'

test_done
