#!/bin/bash
# keel build's step cache: hits and misses asserted step by step.  A step's
# key is its parent image, the expanded instruction, the build args in
# scope (RUN) and the digest of everything it reads — context files after
# the ignore rules (content, mode, owner), heredoc bodies — so exactly the
# steps whose input changed run again, and every later one.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"
. "$TEST_SRCDIR/tests/lib/build.sh"

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup
'

mkdir -p "$TEST_TMP/ctx/dir"
echo a1 >"$TEST_TMP/ctx/a.txt"
echo d1 >"$TEST_TMP/ctx/dir/d.txt"
echo n1 >"$TEST_TMP/ctx/dir/noise.log"
# steps: FROM ARG ENV COPY RUN-heredoc COPY RUN CMD
write_cf() {
  cat >"$TEST_TMP/ctx/Containerfile" <<CF
FROM busybox
ARG V=1
ENV E=1
COPY a.txt /a.txt
RUN <<EOF
echo "heredoc $1" >/h
EOF
COPY dir /dir
RUN echo "v=\$V" >/v
CMD ["cat", "/h", "/v"]
CF
}
write_cf one

b() { (cd "$TEST_TMP/ctx" && bld -t cached "$@" . >"$TEST_TMP/out") && steps "$TEST_TMP/out"; }

test_expect_success 'first build runs every step, the second hits every step' '
  assert_streq "$(b)" "--MMMMMM" &&
  assert_streq "$(b)" "--HHHHHH" &&
  assert_streq "$(in_img cached)" "heredoc one
v=1"
'

test_expect_success 'a changed COPY source re-runs that step and the later ones' '
  echo a2 >ctx/a.txt &&
  assert_streq "$(b)" "--HMMMMM" && assert_streq "$(in_img cached cat /a.txt)" a2 &&
  assert_streq "$(b)" "--HHHHHH"
'

test_expect_success 'a changed heredoc body re-runs exactly its RUN onwards' '
  write_cf two &&
  assert_streq "$(b)" "--HHMMMM" && assert_streq "$(in_img cached cat /h)" "heredoc two" &&
  write_cf one && assert_streq "$(b)" "--HHHHHH" && assert_streq "$(in_img cached cat /h)" "heredoc one"
'

test_expect_success 'content, mode and new files inside a copied directory count' '
  echo d2 >ctx/dir/d.txt && assert_streq "$(b)" "--HHHMMM" && assert_streq "$(b)" "--HHHHHH" &&
  chmod 600 ctx/dir/d.txt && assert_streq "$(b)" "--HHHMMM" &&
  touch ctx/dir/new && assert_streq "$(b)" "--HHHMMM" && assert_streq "$(b)" "--HHHHHH"
'

test_expect_success 'ignored files do not count; changing the ignore rules does' '
  echo "dir/*.log" >ctx/.containerignore && assert_streq "$(b)" "--HHHMMM" &&
  img_files cached >files && assert_not_file_has_content files noise.log &&
  echo n2 >ctx/dir/noise.log && assert_streq "$(b)" "--HHHHHH" &&
  printf "dir/*.log\n!dir/noise.log\n" >ctx/.dockerignore && assert_streq "$(b)" "--HHHHHH" &&
  rm ctx/.containerignore && assert_streq "$(b)" "--HHHMMM" &&
  img_files cached >files && assert_file_has_content files noise.log
'

test_expect_success 'a build arg in scope re-runs RUN steps (the later ones follow)' '
  assert_streq "$(b --build-arg V=2)" "--HHMMMM" && assert_streq "$(in_img cached cat /v)" v=2 &&
  assert_streq "$(b --build-arg V=2)" "--HHHHHH" &&
  assert_streq "$(b --build-arg V=1)" "--HHHHHH"
'

test_expect_success '--no-cache runs every step; later builds use its results' '
  before=$(img_id cached) &&
  assert_streq "$(b --no-cache)" "--MMMMMM" && test "$(img_id cached)" != "$before" &&
  after=$(img_id cached) && assert_streq "$(b)" "--HHHHHH" && test "$(img_id cached)" = "$after"
'

test_expect_success '--layers=false neither reads nor writes the cache' '
  assert_streq "$(b --layers=false)" "--------" && ! grep -q "Using cache" out &&
  assert_streq "$(in_img cached)" "heredoc one
v=1"
'

test_done
