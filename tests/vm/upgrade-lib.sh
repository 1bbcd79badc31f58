# tests/vm/upgrade-lib.sh: the host side of the host upgrade VM tests (and
# tests/bench/upgrade.sh).  Source after test-lib.sh and tests/vm/lib.sh:
#
#   upgrade_setup [--rate BYTES/S]   derive the test versions (make-versions.sh),
#                                    serve them: $WEB_PORT, $WEB_LOG; sets
#                                    V1 V2 V3 WRONG V4 V5 (commits) and
#                                    VER_v1 ... (versions)
#   guest_script FILE <<'EOF'        a boot's script: guest-lib.sh, the
#     ...body...                     commits and URLs as variables, then the body
#   EOF
#   version_of COMMIT                v1, v2, ... for a commit (or "unknown")
. "$TEST_SRCDIR/tests/lib/webserver.sh"

upgrade_setup() {
  "$TEST_SRCDIR/tests/vm/make-versions.sh" >"$TEST_TMP/make-versions.log" 2>&1 || {
    echo "Bail out! make-versions.sh failed: $(tail -n 3 "$TEST_TMP/make-versions.log")"
    exit 1
  }
  UPGRADE_DIR=$KEEL_BUILD/upgrade
  local name commit version
  V1=$(ostree --repo="$UPGRADE_DIR/repo" rev-parse test/v1)
  VER_v1=$(ostree --repo="$UPGRADE_DIR/repo" show --print-metadata-key=version "$V1" | tr -d "'")
  while read -r name commit version; do
    case $name in
    wrong) WRONG=$commit ;;
    *) printf -v "${name^^}" %s "$commit" ;;
    esac
    printf -v "VER_$name" %s "$version"
  done <"$UPGRADE_DIR/versions"
  webserver_start "$UPGRADE_DIR/serve" "$@" || { echo "Bail out! webserver"; exit 1; }
  say "serving $UPGRADE_DIR/serve on 127.0.0.1:$WEB_PORT (guest: 10.0.2.2:$WEB_PORT)"
}

version_of() {
  local n
  for n in v1 v2 v3 wrong v4 v5; do
    local c=${n^^}
    [ "$n" = wrong ] && c=WRONG
    [ "$1" = "${!c}" ] && { echo "$n"; return 0; }
  done
  echo unknown
}

guest_script() {
  {
    echo '#!/bin/bash'
    cat "$TEST_SRCDIR/tests/vm/guest-lib.sh"
    echo "URL=http://10.0.2.2:$WEB_PORT"
    echo "V1=$V1 V2=$V2 V3=$V3 WRONG=$WRONG V4=$V4 V5=$V5"
    echo "VER_v1='$VER_v1' VER_v2='$VER_v2' VER_v3='$VER_v3' VER_v4='$VER_v4' VER_v5='$VER_v5'"
    cat
  } >"$1"
}

# assert_boot NAME VERSION...: the boot NAME reached multi-user on one
# complete deployment, which is one of the versions given.
assert_boot() {
  local name=$1 got
  shift
  grep -a -q "KEEL-BOOT: multi-user" "$(vm_console "$name")" ||
    { echo "boot $name never reached multi-user" >&2; return 1; }
  assert_streq "$(vm_result "$name" complete)" yes || {
    grep -a KEEL-COMPLETE-ERR "$(vm_console "$name")" >&2
    return 1
  }
  got=$(version_of "$(vm_result "$name" booted)")
  case " $* " in
  *" $got "*) ;;
  *) echo "boot $name booted $got, expected one of: $*" >&2; return 1 ;;
  esac
}
