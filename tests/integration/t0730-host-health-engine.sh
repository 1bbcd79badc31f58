#!/bin/bash
# host health's engine check against a real store: with the busybox fixture
# loaded it runs a container of the first image (keel run --rm --network
# none IMAGE true); health-image names another one; an image that cannot
# run fails the check, and with it the boot of a new deployment.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/webserver.sh"
. "$(dirname "$0")/../lib/host.sh"
host_test_require
[ -x "$KEEL_BUILD/keel" ] || skip_all "no $KEEL_BUILD/keel (make)"
. "$TEST_SRCDIR/tests/lib/container.sh"
runtime_tests_lock

host_world
conf() { printf '%s\n' "$@" >"$KEEL_HOST_CONF"; }
engine_health() {
  KEEL_ROOT=$KEEL_STORE KEEL_HOST_KEEL=$KEEL_BUILD/keel host_run health --assume-booted 0 "$@"
}

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup && keel images -q >ids && [ -s ids ]
'

test_expect_success 'the engine check runs a container of the first image in the store' '
  conf "health-network=no" "health-timeout=120" &&
  engine_health >out &&
  assert_file_has_content out "engine: ran a container of $(head -n 1 ids)" &&
  assert_streq "$(keel ps -a -q | wc -l)" 0
'

test_expect_success 'health-image names the image to run' '
  conf "health-network=no" "health-timeout=120" "health-image=docker.io/library/busybox:latest" &&
  engine_health >out &&
  assert_file_has_content out "engine: ran a container of docker.io/library/busybox:latest"
'

test_expect_success 'an image that is not in the store fails the check' '
  conf "health-network=no" "health-timeout=120" "health-image=nosuch.example/none:1" &&
  test_must_fail engine_health 2>err &&
  assert_file_has_content err "engine: cannot run a container of nosuch.example/none:1" &&
  host_run status --json >st.json &&
  assert_streq "$(json_get st.json "d[\"last_health_check\"][\"result\"]")" failed
'

test_done
