#!/bin/bash
# Power cuts during host upgrade: QEMU is killed at 11 distinct points of
# an upgrade, one boot each, chained on one machine.  Every boot first
# reports the state the previous cut left (it must reach multi-user on one
# complete deployment: the old one before finalization, the old or the new
# one from then on), then starts the next upgrade and is cut at the next
# point.  After the last cut, host upgrade must succeed and its result boot.
#
# Points are observed from outside host: the web server's log (fetch), and
# a guest watcher (tests/vm/guest-lib.sh cut_watch) that freezes host and
# ostree the moment the sysroot shows the point, then prints a marker on
# which the test kills QEMU.  The upgrade target follows what is booted:
# v1 -> v2 -> v4 -> v5 (all signed, with deltas).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib.sh"
vm_require
. "$(dirname "$0")/upgrade-lib.sh"
# Slow enough that a cut lands inside the fetch, fast enough not to matter.
upgrade_setup --rate 250000

# point, and where the test learns it was reached (web log or guest marker)
points=(
  "fetch-start|web|GET /v[0-9]/repo/(summary|config)"
  "fetch-delta|web|GET /v[0-9]/repo/(deltas/.*/superblock|objects/.*\\.(filez|dirtree))"
  "fetch-done|guest"
  "checkout-start|guest"
  "checkout-mid|guest"
  "staged|guest"
  "finalize-start|guest"
  "etc-merge|guest"
  "bootloader-write|guest"
  "bootloader-switched|guest"
  "finalize-armed|guest"
)
# Before finalization nothing but the old deployment may boot.
pre_finalize=" fetch-start fetch-delta fetch-done checkout-start checkout-mid staged "

boot_script() {
  local file=$1 point=$2
  guest_script "$file" <<EOF
POINT=$point
EOF
  cat >>"$file" <<'EOF'
report_state
case $(booted_commit) in
"$V1") t=v2 n=$V2 ;;
"$V2") t=v4 n=$V4 ;;
"$V4") t=v5 n=$V5 ;;
*) t=none n= ;;
esac
r target "$t"
set_remote "$URL/$t/repo"
case $POINT in final | fetch-start | fetch-delta) ;; *) cut_watch "$POINT" "$n" ;; esac
mark "KEEL-UPGRADE: start ($POINT)"
host upgrade >/run/keel-vmtest/up.out 2>&1; r upgrade-rc $?
sed 's/^/KEEL-UPGRADE /' /run/keel-vmtest/up.out
r staged "$([ -e /run/ostree/staged-deployment ] && echo yes || echo no)"
EOF
}

# wait_web NAME FROM_LINE REGEX: until the web log has a line matching
# REGEX after line FROM_LINE; fails when QEMU exits first or on timeout.
wait_web() {
  local name=$1 from=$2 re=$3 deadline
  deadline=$(($(date +%s) + VM_BOOT_TIMEOUT))
  while ! tail -n +"$((from + 1))" "$WEB_LOG" | grep -q -E "$re"; do
    vm_alive "$name" || { echo "vm $name: QEMU exited before the web log showed /$re/" >&2; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { echo "vm $name: no /$re/ in the web log" >&2; return 1; }
    sleep 0.1
  done
}

vm_machine m
prev=
for i in "${!points[@]}"; do
  IFS='|' read -r point how re <<<"${points[$i]}"
  name=cut$((i + 1))-$point
  boot_script "$TEST_TMP/$name.sh" "$point"
  from=$(wc -l <"$WEB_LOG")
  vm_boot_machine m "$name" "$TEST_TMP/$name.sh"
  if [ -n "$prev" ]; then
    test_expect_success "after the cut at $prev_point: multi-user on one complete deployment" '
      vm_wait "$name" "KEEL-UPGRADE: start" &&
      case "$pre_finalize" in
      *" $prev_point "*) assert_boot "$name" "$prev_from" ;;
      *) assert_boot "$name" "$prev_from" "$prev_to" ;;
      esac &&
      say "after $prev_point: booted $(version_of "$(vm_result "$name" booted)"), $(vm_result "$name" deployments) deployment(s)"
    '
  fi
  if [ "$how" = web ]; then
    test_expect_success "power cut at $point (web log)" '
      vm_wait "$name" "KEEL-UPGRADE: start" &&
      wait_web "$name" "$from" "$re" &&
      vm_cut_now "$name" &&
      tail -n +"$((from + 1))" "$WEB_LOG" | grep -E "$re" | head -n 1 &&
      touch "$TEST_TMP/hit-$point"
    '
  else
    test_expect_success "power cut at $point (guest marker)" '
      vm_cut "$name" "KEEL-CUT: at=$point" &&
      grep -a -o "KEEL-CUT: at=$point.*" "$(vm_console "$name")" | head -n 1 &&
      touch "$TEST_TMP/hit-$point"
    '
  fi
  prev=$name prev_point=$point
  prev_from=$(version_of "$(vm_result "$name" booted)")
  prev_to=$(vm_result "$name" target)
done

boot_script "$TEST_TMP/final.sh" final
vm_boot_machine m final "$TEST_TMP/final.sh"
test_expect_success "after the cut at $prev_point: multi-user on one complete deployment" '
  vm_wait final "KEEL-VMTEST: exit=" &&
  assert_boot final "$prev_from" "$prev_to"
'
final_to=$(vm_result final target)
test_expect_success 'then host upgrade succeeds' '
  assert_streq "$(vm_result final upgrade-rc)" 0 &&
  assert_streq "$(vm_result final staged)" yes &&
  vm_wait_exit final
'

guest_script "$TEST_TMP/last.sh" <<'EOF'
report_state
EOF
vm_boot_machine m last "$TEST_TMP/last.sh"
test_expect_success "and its result boots ($final_to)" '
  vm_wait last "KEEL-VMTEST: exit=" &&
  vm_wait_exit last &&
  assert_boot last "$final_to"
'

test_expect_success "at least 10 distinct cut points were reached" '
  hit=$(ls "$TEST_TMP" | grep -c "^hit-") &&
  echo "$hit of ${#points[@]} points" &&
  test "$hit" -ge 10
'
say "machine m: $(cat "$TEST_TMP/machine-m/boots") boots"
test_done
