#!/bin/bash
# keel build on bad input: every case is one clear line naming the file and
# line, a non-zero exit, no image tagged (an existing tag stays where it
# was) and no working container left behind.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"
. "$TEST_SRCDIR/tests/lib/build.sh"

test_expect_success 'setup: the busybox fixture, a context, an image named "keep"' '
  ctr_setup && mkdir -p ctx/dir ctx/links && echo a >ctx/a.txt && echo b >ctx/b.txt &&
  echo secret >outside.txt && ln -s /etc/passwd ctx/abs-link &&
  ln -s ../../outside.txt ctx/links/up-link && echo "*.hidden" >ctx/.containerignore &&
  echo h >ctx/x.hidden &&
  printf "FROM busybox\nRUN echo kept >/kept\n" >ctx/Containerfile.keep &&
  (cd ctx && bld -f Containerfile.keep -t keep . >/dev/null) && img_id keep >keep.id
'

# file text (printf format) | expected message (a grep -E pattern)
cases=(
  'FROM busybox\nFROBNICATE x\n|^keel: Containerfile\.[0-9]+:2: unknown instruction: FROBNICATE$'
  'FROM busybox\nCMD ["a", b]\n|^keel: Containerfile\.[0-9]+:2: CMD: malformed JSON arguments'
  'FROM busybox\nSHELL /bin/sh\n|^keel: Containerfile\.[0-9]+:2: SHELL requires the arguments in JSON form$'
  'FROM busybox\nCOPY ../outside.txt /x\n|^keel: Containerfile\.[0-9]+:2: COPY: ../outside.txt: source is outside the build context$'
  'FROM busybox\nCOPY dir/../../outside.txt /x\n|^keel: Containerfile\.[0-9]+:2: COPY: .*source is outside the build context$'
  'FROM busybox\nCOPY /etc/passwd /x\n|^keel: Containerfile\.[0-9]+:2: COPY: /etc/passwd: source is an absolute path'
  'FROM busybox\nCOPY abs-link /x\n|^keel: Containerfile\.[0-9]+:2: COPY: abs-link: a symlink leads outside the build context$'
  'FROM busybox\nADD links/up-link /x\n|^keel: Containerfile\.[0-9]+:2: ADD: links/up-link: a symlink leads outside the build context$'
  'FROM busybox\nCOPY x.hidden /x\n|^keel: Containerfile\.[0-9]+:2: COPY: x.hidden: excluded from the build context'
  'FROM busybox\nCOPY nosuch.txt /x\n|^keel: Containerfile\.[0-9]+:2: COPY: nosuch.txt: not found in the build context'
  'FROM busybox\nCOPY *.none /x/\n|^keel: Containerfile\.[0-9]+:2: COPY: \*.none: no source files in the build context match$'
  'FROM busybox\nCOPY a.txt b.txt /x\n|^keel: Containerfile\.[0-9]+:2: COPY with more than one source needs a destination ending in'
  'FROM busybox\nCOPY --from=5 /x /x\n|^keel: Containerfile\.[0-9]+:2: undefined stage 5 \(there are 1 stages\)$'
  'FROM busybox\nCOPY --from=nosuch /x /x\n|^keel: Containerfile\.[0-9]+:2: .nosuch. is not a stage, and as an image: '
  'FROM b AS a\nFROM a AS b\n|^keel: Containerfile\.[0-9]+:1: cycle between stages: b -> a -> b$'
  'FROM busybox AS a\nCOPY --from=c /x /x\nFROM busybox AS c\nCOPY --from=a /y /y\n|^keel: Containerfile\.[0-9]+:2: cycle between stages: c -> a -> c$'
  'RUN echo hi\n|^keel: Containerfile\.[0-9]+:1: RUN before the first FROM'
  '# only a comment\n|^keel: Containerfile\.[0-9]+:1: no FROM instruction$'
  'FROM busybox\nCOPY --bogus=1 a.txt /x\n|^keel: Containerfile\.[0-9]+:2: unknown flag for COPY: --bogus$'
  'FROM busybox\nRUN --mount=type=secret,target=/s true\n|^keel: Containerfile\.[0-9]+:2: RUN --mount=type=secret,target=/s: type=secret is not supported'
  'FROM busybox\nADD http://127.0.0.1:9/f /f\n|^keel: Containerfile\.[0-9]+:2: ADD http://127.0.0.1:9/f: remote sources are not supported'
  'FROM busybox\nEXPOSE 99999\n|^keel: Containerfile\.[0-9]+:2: EXPOSE 99999: not a port'
  'FROM busybox\nRUN <<EOF\necho never ends\n|^keel: Containerfile\.[0-9]+:2: heredoc .EOF. is not terminated$'
  'FROM busybox\nENV A=${B:?required}\n|^keel: Containerfile\.[0-9]+:2: B: required$'
  'FROM busybox\nRUN echo partial >/p\nRUN exit 7\n|^keel: Containerfile\.[0-9]+:3: RUN exit 7 exited 7$'
  'FROM busybox\nRUN nosuchcommand\n|^keel: Containerfile\.[0-9]+:2: RUN nosuchcommand exited 127$'
)

n=0
for c in "${cases[@]}"; do
  n=$((n + 1))
  text=${c%%|*} pattern=${c#*|}
  # shellcheck disable=SC2059 # the case text is the format
  printf "$text" >"$TEST_TMP/ctx/Containerfile.$n"
  test_expect_success "bad input $n: $(printf "$text" | tr "\n" ";" | cut -c1-60)" '
    cd ctx && { bld --pull=never -t keep -f Containerfile.'$n' . >out 2>err; rc=$?; } ;
    test $rc != 0 &&
    grep -v "^/bin/sh: " err | grep -E "^keel: " >line && test "$(wc -l <line)" = 1 &&
    assert_file_has_content line "'"$pattern"'" &&
    test "$(img_id keep)" = "$(cat ../keep.id)" &&
    test "$(keel ps -a --external -q 2>/dev/null | wc -l)" = 0 &&
    ! ls "$KEEL_STORE/containers" 2>/dev/null | grep -qE "^[0-9a-f]{64}$"
  '
done

test_expect_success 'a failing RUN exits 1, its output shown, nothing tagged' '
  cd ctx && { bld -t never-tagged -f Containerfile.25 . >out 2>err; rc=$?; } ;
  test $rc = 1 && assert_file_has_content out "STEP 3/3: RUN exit 7" &&
  test_must_fail keel image inspect never-tagged >/dev/null 2>&1
'

test_expect_success 'bad command lines: one line each, exit 125' '
  cd ctx &&
  for args in "--pull=sometimes ." "--network=wifi ." "--label novalue ." "--layers=maybe ." \
              "-f nosuch.cf ." "nosuchdir" "-t UPPER/Case:x ." "" ". extra"; do
    { keel build $args >out 2>err; rc=$?; } ;
    test $rc = 125 || { echo "rc $rc for: $args"; false; }
    test "$(wc -l <err)" = 1 || { echo "for: $args"; cat err; false; }
  done
'

test_expect_success 'a bad ignore file names itself and the line' '
  cd ctx && printf "ok\n[bad\n" >.containerignore &&
  test_must_fail bld -f Containerfile.keep . >out 2>err &&
  assert_file_has_content err "^keel: .containerignore:2: bad pattern" && test "$(wc -l <err)" = 1 &&
  echo "*.hidden" >.containerignore
'

test_done
