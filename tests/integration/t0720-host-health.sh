#!/bin/bash
# Health-checked boots and automatic updates on a throwaway sysroot:
# an upgrade arms boot counting in /boot/grub/grubenv for exactly the entry
# GRUB's grub.cfg (image-build/grub-mkconfig) puts first; host health passes
# (disarms) or fails (records why); booted on the previous deployment while
# armed (GRUB fell back) it rolls back for good, records why, and automatic
# updates skip that commit.  --assume-booted stands in for the booted
# deployment (the VM tests drive the real boots).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/../lib/webserver.sh"
. "$(dirname "$0")/../lib/host.sh"
host_test_require

host_world
mkdir -p "$KEEL_HEALTH_DIR"
GRUBENV=$SYSROOT/boot/grub/grubenv
st() { host_run status --json >"$TEST_TMP/st.json" && json_get "$TEST_TMP/st.json" "$1"; }
genv() { sed -n "s/^$1=//p" "$GRUBENV"; }
conf() { printf '%s\n' "$@" >"$KEEL_HOST_CONF"; }

c2=$(KEY_NAME=good host_commit 2 "$GOOD")
test_expect_success 'upgrade arms boot counting for the new first entry' '
  conf "boot-tries=2" &&
  host_run upgrade &&
  [ "$(stat -c %s "$GRUBENV")" = 1024 ] &&
  entry=$(sed -n "s/^options .*ostree=\([^ ]*\).*/\1/p" "$SYSROOT"/boot/loader/entries/ostree-2-keel.conf) &&
  assert_streq "$(genv keel_pending)" "$entry" &&
  assert_streq "$(genv keel_tries)" 0 &&
  assert_streq "$(genv keel_max_tries)" 2 &&
  assert_streq "$(st "d[\"boot_counting\"][\"armed\"]")" true &&
  assert_streq "$(st "d[\"boot_counting\"][\"deployment\"]")" "$c2.0"
'

test_expect_success 'grub-mkconfig names the same entry first, in valid GRUB script' '
  out=$SYSROOT/boot/loader/grub.cfg &&
  sh "$TEST_SRCDIR/image-build/grub-mkconfig" -o "$out" &&
  assert_file_has_content "$out" "^set keel_entry0=.$(genv keel_pending).$" &&
  assert_file_has_content "$out" "save_env --file /grub/grubenv keel_tries" &&
  assert_file_has_content "$out" "set default=1" &&
  first=$(grep -m1 "^  linux" "$out") &&
  case $first in *"ostree=$(genv keel_pending)"*) ;; *) false ;; esac &&
  if command -v grub-script-check >/dev/null; then grub-script-check "$out"; fi
'

# One boot as GRUB runs /loader/grub.cfg: its head (up to the first
# menuentry) is also valid sh once each `set X=Y` reads X=Y, with load_env and
# save_env over a copy of the grubenv.  Prints "DEFAULT TRIES".
grub_boot() {
  local cfg=$1 env=$2
  sed -n '/^set default=/,/^menuentry/p' "$cfg" | sed '$d' |
    sed -E 's/(^ *|then |else )set ([a-z_0-9]+)=/\1\2=/; s|/grub/grubenv|"$GENV"|g' >"$TEST_TMP/head.sh"
  (
    GENV=$env
    serial() { :; }
    terminal_input() { :; }
    terminal_output() { :; }
    load_env() {
      shift 2
      for v in "$@"; do eval "$v=\$(sed -n 's/^$v=//p' \"\$GENV\")"; done
    }
    save_env() {
      shift 2
      for v in "$@"; do eval "sed -i \"s|^$v=.*|$v=\$$v|\" \"\$GENV\""; done
    }
    . "$TEST_TMP/head.sh" >/dev/null
    echo "$default $keel_tries"
  )
}

test_expect_success 'grub.cfg counts boots of the armed entry, then boots entry 1' '
  cfg=$SYSROOT/boot/loader/grub.cfg &&
  cp "$GRUBENV" env.copy &&
  assert_streq "$(grub_boot "$cfg" env.copy)" "0 1" &&
  assert_streq "$(grub_boot "$cfg" env.copy)" "0 2" &&
  assert_streq "$(grub_boot "$cfg" env.copy)" "1 2" &&
  assert_streq "$(grub_boot "$cfg" env.copy)" "1 2" &&
  sed "s|^keel_pending=.*|keel_pending=/ostree/boot.0/keel/other/0|" "$GRUBENV" >env.other &&
  assert_streq "$(grub_boot "$cfg" env.other)" "0 0" &&
  sed "s|^keel_pending=.*|keel_pending=|" "$GRUBENV" >env.off &&
  assert_streq "$(grub_boot "$cfg" env.off)" "0 0"
'

test_expect_success 'health fails on a failing health.d check: recorded, still armed' '
  conf "boot-tries=2" "health-network=no" "health-engine=no" "health-timeout=20" &&
  printf "#!/bin/sh\necho checking\nexit 3\n" >"$KEEL_HEALTH_DIR/10-app" &&
  chmod +x "$KEEL_HEALTH_DIR/10-app" &&
  test_must_fail host_run health --assume-booted 0 2>err &&
  assert_file_has_content err "health.d: .*10-app. exited with status 3" &&
  assert_streq "$(genv keel_pending)" "$(st "d[\"boot_counting\"][\"entry\"]")" &&
  assert_streq "$(st "d[\"last_health_check\"][\"result\"]")" failed &&
  assert_streq "$(st "d[\"deployments\"][0][\"failed\"]")" true
'

test_expect_success 'a check past the deadline is killed and fails' '
  conf "health-network=no" "health-engine=no" "health-timeout=1" &&
  printf "#!/bin/sh\nsleep 30\n" >"$KEEL_HEALTH_DIR/10-app" &&
  t0=$(date +%s) &&
  test_must_fail host_run health --assume-booted 0 2>err &&
  [ $(($(date +%s) - t0)) -lt 15 ] &&
  assert_file_has_content err "did not finish before the deadline"
'

test_expect_success 'the network check wants a default route (none in a new netns)' '
  conf "health-engine=no" "health-timeout=2" &&
  rm -f "$KEEL_HEALTH_DIR/10-app" &&
  test_must_fail unshare --net "$HOST_BIN" --sysroot "$SYSROOT" health --assume-booted 0 2>err &&
  assert_file_has_content err "network: no default route before the deadline"
'

test_expect_success 'passing health disarms counting and clears the failure mark' '
  printf "#!/bin/sh\nexit 0\n" >"$KEEL_HEALTH_DIR/10-app" &&
  chmod +x "$KEEL_HEALTH_DIR/10-app" &&
  printf "not executable\n" >"$KEEL_HEALTH_DIR/README" &&
  conf "health-network=no" "health-engine=no" &&
  host_run health --assume-booted 0 >out &&
  assert_file_has_content out "health.d: 1 check passed" &&
  assert_file_has_content out "the new deployment is now trusted" &&
  assert_streq "$(genv keel_pending)" "" &&
  [ "$(stat -c %s "$GRUBENV")" = 1024 ] &&
  assert_streq "$(st "d[\"boot_counting\"][\"armed\"]")" false &&
  assert_streq "$(st "d[\"deployments\"][0][\"failed\"]")" false &&
  assert_streq "$(st "d[\"last_health_check\"][\"result\"]")" passed
'

test_expect_success 'the engine check with an empty store passes and says so' '
  [ -x "$KEEL_BUILD/keel" ] &&
  conf "health-network=no" "health-timeout=60" &&
  mkdir -p "$TEST_TMP/keelroot" &&
  KEEL_ROOT=$TEST_TMP/keelroot KEEL_HOST_KEEL=$KEEL_BUILD/keel \
    host_run health --assume-booted 0 >out &&
  assert_file_has_content out "engine: no image in the local store"
'

c3=$(KEY_NAME=good host_commit 3 "$GOOD")
test_expect_success 'GRUB fell back (booted entry 1 while 0 is armed): automatic rollback' '
  conf "boot-tries=2" "health-network=no" "health-engine=no" &&
  host_run upgrade &&
  assert_streq "$(st "d[\"deployments\"][0][\"checksum\"]")" "$c3" &&
  printf "#!/bin/sh\nexit 7\n" >"$KEEL_HEALTH_DIR/10-app" &&
  test_must_fail host_run health --assume-booted 0 &&
  sed -i "s/^keel_tries=0/keel_tries=2/" "$GRUBENV" &&
  printf "#!/bin/sh\nexit 0\n" >"$KEEL_HEALTH_DIR/10-app" &&
  host_run health --assume-booted 1 >out &&
  assert_file_has_content out "automatic rollback: version 3 failed its health checks in 2 boots: health.d: .*exited with status 7" &&
  assert_streq "$(st "d[\"deployments\"][0][\"checksum\"]")" "$c2" &&
  assert_streq "$(st "d[\"deployments\"][1][\"checksum\"]")" "$c3" &&
  assert_streq "$(st "d[\"deployments\"][1][\"failed\"]")" true &&
  assert_streq "$(st "d[\"last_rollback\"][\"kind\"]")" automatic &&
  assert_streq "$(st "d[\"last_rollback\"][\"failed_commit\"]")" "$c3" &&
  assert_streq "$(st "d[\"boot_counting\"][\"armed\"]")" false &&
  host_run status >human &&
  assert_file_has_content human "Last rollback \(automatic, .*version 3 failed its health checks" &&
  assert_file_has_content human "Failed: health.d"
'

test_expect_success 'automatic updates skip the commit that failed' '
  conf "policy=stage" &&
  host_run auto-update >out &&
  assert_file_has_content out "skipping version 3 .*: it failed its health checks" &&
  assert_streq "$(st "d[\"deployments\"][0][\"checksum\"]")" "$c2" &&
  assert_streq "$(st "d[\"auto_update\"][\"last_result\"]")" "skipping version 3 ($(echo $c3 | cut -c1-12)): it failed its health checks"
'

c4=$(KEY_NAME=good host_commit 4 "$GOOD")
test_expect_success 'policy=check only reports; off does nothing; pause holds' '
  conf "policy=check" &&
  host_run auto-update >out &&
  assert_file_has_content out "update available: version 4" &&
  assert_streq "$(st "d[\"deployments\"][0][\"checksum\"]")" "$c2" &&
  conf "policy=off" &&
  host_run auto-update >out &&
  assert_file_has_content out "automatic updates are off" &&
  conf "policy=stage" &&
  host_run auto-update pause &&
  host_run auto-update >out &&
  assert_file_has_content out "paused" &&
  assert_streq "$(st "d[\"deployments\"][0][\"checksum\"]")" "$c2"
'

test_expect_success 'policy=stage after resume deploys the next good version, armed' '
  host_run auto-update resume &&
  host_run auto-update >out &&
  assert_file_has_content out "staged version 4" &&
  assert_streq "$(st "d[\"deployments\"][0][\"checksum\"]")" "$c4" &&
  assert_streq "$(st "d[\"boot_counting\"][\"deployment\"]")" "$c4.0"
'

test_expect_success 'policy=stage-reboot outside a sysroot of its own will not reboot it' '
  conf "policy=stage-reboot" &&
  c5=$(KEY_NAME=good host_commit 5 "$GOOD") &&
  test_must_fail host_run auto-update 2>err &&
  assert_file_has_content err "--reboot only applies to the running system" &&
  assert_streq "$(st "d[\"deployments\"][0][\"checksum\"]")" "$c5"
'

test_expect_success 'finalize-hook arms only the deployment host staged' '
  conf "boot-tries=4" "health-network=no" "health-engine=no" &&
  host_run health --assume-booted 0 &&
  assert_streq "$(genv keel_pending)" "" &&
  printf "[staged]\ncommit=%s\narm=true\n" "$c1" >>"$KEEL_HOST_STATE_DIR/state" &&
  host_run finalize-hook >out &&
  assert_file_has_content out "not written; nothing to arm" &&
  assert_streq "$(genv keel_pending)" "" &&
  sed -i "/^\[staged\]/,\$d" "$KEEL_HOST_STATE_DIR/state" &&
  printf "[staged]\ncommit=%s\narm=true\n" "$(st "d[\"deployments\"][0][\"checksum\"]")" >>"$KEEL_HOST_STATE_DIR/state" &&
  host_run finalize-hook >out &&
  assert_file_has_content out "boot counting armed" &&
  assert_streq "$(genv keel_max_tries)" 4 &&
  assert_streq "$(genv keel_pending)" "$(st "d[\"boot_counting\"][\"entry\"]")"
'

test_done
