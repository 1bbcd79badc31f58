#!/bin/bash
# runtime-spec process end to end: args, env, cwd, user, umask, the five
# capability sets, noNewPrivileges, oomScoreAdj and rlimits, each read back
# from inside the container.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TEST_SRCDIR/tests/lib/runtime.sh"
test_require_root

# capmask CAP_NAME...: the /proc/PID/status hex of a set holding these
capmask() {
  local m=0 c n
  for c in "$@"; do
    case $c in
    CAP_CHOWN) n=0 ;; CAP_DAC_OVERRIDE) n=1 ;; CAP_KILL) n=5 ;; CAP_SETGID) n=6 ;;
    CAP_SETUID) n=7 ;; CAP_NET_BIND_SERVICE) n=10 ;; CAP_NET_RAW) n=13 ;;
    CAP_SYS_CHROOT) n=18 ;; CAP_MKNOD) n=27 ;; CAP_AUDIT_WRITE) n=29 ;;
    *) echo "capmask: add $c" >&2; return 1 ;;
    esac
    m=$((m | (1 << n)))
  done
  printf '%016x\n' $m
}
json_list() { printf '%s\n' "$@" | jq -R . | jq -sc .; }

test_expect_success 'args reach the process word for word' '
  make_bundle args ".process.args = [\"sh\", \"-c\", \"printf \\\"<%s>\\\" \\\"\$@\\\"\", \"sh\", \"a b\", \"\", \"*\", \"c\"]" &&
  rt run --bundle args p1 >out &&
  test "$(cat out)" = "<a b><><*><c>"
'

test_expect_success 'env is exactly the configured one' '
  make_bundle env ".process.env = [\"FOO=bar baz\", \"PATH=/bin\", \"EMPTY=\"] | .process.args = [\"cat\", \"/proc/self/environ\"]" &&
  HOSTONLY=leak rt run --bundle env p2 >out &&
  test "$(tr "\0" "\n" <out)" = "FOO=bar baz
PATH=/bin
EMPTY="
'

test_expect_success 'cwd: used, and created when missing' '
  make_bundle cwd ".process.cwd = \"/does/not/exist\" | .process.args = [\"pwd\"]" &&
  rt run --bundle cwd p3 >out &&
  test "$(cat out)" = /does/not/exist && test -d cwd/rootfs/does/not/exist
'

test_expect_success 'user: uid, gid and additionalGids' '
  make_bundle user ".process.user = {\"uid\": 1000, \"gid\": 1001, \"additionalGids\": [5, 2000]}
    | .process.args = [\"sh\", \"-c\", \"id; grep -E \\\"^(Uid|Gid|Groups):\\\" /proc/self/status\"]" &&
  rt run --bundle user p4 >out &&
  assert_file_has_content out "^uid=1000 gid=1001 groups=5,2000$|^uid=1000 gid=1001 groups=1001,5,2000$" &&
  assert_file_has_content out "^Uid:\s+1000\s+1000\s+1000\s+1000$" &&
  assert_file_has_content out "^Gid:\s+1001\s+1001\s+1001\s+1001$" &&
  assert_file_has_content out "^Groups:\s+5 2000\s*$"
'

# create + start goes through the exec fifo, which the init opens as
# process.user; run does not.
test_expect_success 'user: create and start a container running as uid 1000 and as a mapped root' '
  chmod 0711 "$TEST_TMP" &&
  make_bundle cs ".process.user = {\"uid\": 1000, \"gid\": 1000} | .process.args = [\"id\"]" &&
  rt create --bundle cs p4a >out &&
  rt start p4a && wait_status p4a stopped &&
  assert_file_has_content out "^uid=1000 gid=1000" &&
  edit_config cs ".process.user = {\"uid\": 0, \"gid\": 0} | .linux.namespaces += [{\"type\": \"user\"}]
    | .linux.uidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]
    | .linux.gidMappings = [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]
    | .process.args = [\"cat\", \"/proc/self/uid_map\"]" &&
  rt create --bundle cs p4b >out &&
  rt start p4b && wait_status p4b stopped &&
  assert_file_has_content out "^ +0 +100000 +65536$"
'

test_expect_success 'umask is applied' '
  make_bundle umask ".process.user.umask = 23 | .process.args = [\"sh\", \"-c\", \"umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d\"]" &&
  rt run --bundle umask p5 >out &&
  test "$(cat out)" = "0027
640
750"
'

# Five different sets.  The kernel recomputes permitted and effective at
# execve: for root they become bounding | inheritable, for any other uid
# they become ambient.  So each set lands exactly only when the config is
# one a kernel can keep, and these two are.
test_expect_success 'capabilities: the five sets land exactly (root)' '
  B="CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_SETUID CAP_AUDIT_WRITE" I="CAP_KILL CAP_NET_BIND_SERVICE" A="CAP_KILL" &&
  make_bundle capr ".process.capabilities = {\"bounding\": $(json_list $B), \"permitted\": $(json_list $B),
      \"effective\": $(json_list $B), \"inheritable\": $(json_list $I), \"ambient\": $(json_list $A)}
    | .process.args = [\"grep\", \"^Cap\", \"/proc/self/status\"]" &&
  rt run --bundle capr p6 >out &&
  cat >want <<-EOF &&
	CapInh:	$(capmask $I)
	CapPrm:	$(capmask $B)
	CapEff:	$(capmask $B)
	CapBnd:	$(capmask $B)
	CapAmb:	$(capmask $A)
	EOF
  diff -u want out
'

test_expect_success 'capabilities: the five sets land exactly (uid 1000)' '
  B="CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_CHROOT" I="CAP_KILL CAP_NET_BIND_SERVICE CAP_NET_RAW" A="CAP_NET_BIND_SERVICE CAP_NET_RAW" &&
  make_bundle capu ".process.user = {\"uid\": 1000, \"gid\": 1000}
    | .process.capabilities = {\"bounding\": $(json_list $B), \"permitted\": $(json_list $A),
      \"effective\": $(json_list $A), \"inheritable\": $(json_list $I), \"ambient\": $(json_list $A)}
    | .process.args = [\"grep\", \"^Cap\", \"/proc/self/status\"]" &&
  rt run --bundle capu p7 >out &&
  cat >want <<-EOF &&
	CapInh:	$(capmask $I)
	CapPrm:	$(capmask $A)
	CapEff:	$(capmask $A)
	CapBnd:	$(capmask $B)
	CapAmb:	$(capmask $A)
	EOF
  diff -u want out
'

test_expect_success 'capabilities: a dropped capability is really gone (chown refused)' '
  make_bundle capd ".process.args = [\"sh\", \"-c\", \"touch /tmp/f; chown 1000 /tmp/f || echo REFUSED\"]" &&
  rt run --bundle capd p8 >out 2>err &&
  test "$(cat out)" = REFUSED &&
  edit_config capd ".process.capabilities |= with_entries(.value += [\"CAP_CHOWN\"])" &&
  rt run --bundle capd p9 >out &&
  test -z "$(cat out)" && test "$(stat -c %u capd/rootfs/tmp/f)" = 1000
'

test_expect_success 'noNewPrivileges: NoNewPrivs is 1 when asked, 0 when not' '
  make_bundle nnp ".process.noNewPrivileges = true | .process.args = [\"grep\", \"^NoNewPrivs\", \"/proc/self/status\"]" &&
  rt run --bundle nnp p10 >out &&
  assert_file_has_content out "^NoNewPrivs:\s+1$" &&
  edit_config nnp ".process.noNewPrivileges = false" &&
  rt run --bundle nnp p11 >out &&
  assert_file_has_content out "^NoNewPrivs:\s+0$"
'

test_expect_success 'oomScoreAdj is applied' '
  make_bundle oom ".process.oomScoreAdj = 517 | .process.args = [\"cat\", \"/proc/self/oom_score_adj\"]" &&
  rt run --bundle oom p12 >out &&
  test "$(cat out)" = 517
'

test_expect_success 'rlimits: NOFILE and NPROC soft and hard' '
  make_bundle rl ".process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 777, \"hard\": 888},
                                     {\"type\": \"RLIMIT_NPROC\", \"soft\": 333, \"hard\": 444}]
    | .process.args = [\"sh\", \"-c\", \"ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu\"]" &&
  rt run --bundle rl p13 >out &&
  test "$(cat out)" = "777
888
333
444"
'

test_expect_success 'rlimits: a hard limit above ours is refused, naming it and CAP_SYS_RESOURCE' '
  hard=$(ulimit -Hn) && test "$hard" != unlimited &&
  make_bundle rlbad ".process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": $((hard + 1))}]
    | .process.args = [\"true\"]" &&
  test_must_fail rt run --bundle rlbad p14 2>err &&
  test "$(wc -l <err)" = 1 &&
  assert_file_has_content err "RLIMIT_NOFILE" &&
  assert_file_has_content err "CAP_SYS_RESOURCE" &&
  test ! -e "$RT_ROOT/p14"
'

test_done
