#!/bin/bash
# keel build: multi-stage Containerfiles build only what --target needs,
# COPY --from takes files from stages (by name and number) and images,
# FROM can start from an earlier stage.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"
. "$TEST_SRCDIR/tests/lib/build.sh"
registry_start plain

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup
'

mkdir -p "$TEST_TMP/ctx"
echo src >"$TEST_TMP/ctx/src.txt"
cat >"$TEST_TMP/ctx/Containerfile" <<'CF'
ARG BASE=busybox
FROM $BASE AS base
RUN echo base >/base.txt

FROM base AS builder
COPY src.txt /work/
RUN cat /work/src.txt /base.txt >/work/out.txt && mkdir -p /work/lib && echo so1 >/work/lib/a.so && echo so2 >/work/lib/b.so

FROM busybox AS broken
RUN echo "the broken stage ran" >&2 && exit 3

FROM busybox AS unrelated
RUN echo unrelated >/u.txt

FROM scratch AS final
COPY --from=builder /work/out.txt /out.txt
COPY --from=3 /u.txt /u.txt
COPY --from=builder /work/lib /lib/
COPY --from=busybox /bin/busybox /bin/busybox
CF

test_expect_success 'the default target builds the stages it needs, never the broken one' '
  cd ctx && bld -t final . >out 2>err &&
  assert_not_file_has_content err "broken stage ran" &&
  assert_not_file_has_content out "exit 3" &&
  assert_streq "$(img_files final | cut -d" " -f1,5 | tr "\n" " ")" \
    "./bin d ./bin/busybox f ./lib d ./lib/a.so f ./lib/b.so f ./out.txt f ./u.txt f " &&
  assert_streq "$(in_img final /bin/busybox cat /out.txt /u.txt)" "src
base
unrelated"
'

test_expect_success '--target stops at that stage and skips the later ones' '
  cd ctx && bld --target builder -t only-builder . >out 2>err &&
  assert_not_file_has_content out "unrelated" && assert_not_file_has_content out "STEP .*: FROM scratch" &&
  assert_streq "$(in_img only-builder cat /work/out.txt)" "src
base" &&
  assert_streq "$(grep -c "^STEP" out)" 5
'

test_expect_success '--target of the broken stage fails with its line, tags nothing' '
  cd ctx && test_must_fail bld --target broken -t must-not-exist . >out 2>err &&
  assert_file_has_content err "Containerfile:10: RUN .* exited 3" &&
  test "$(grep -c . err)" -le 2 &&
  test_must_fail keel image inspect must-not-exist >/dev/null 2>&1
'

test_expect_success 'an unknown target is one clear line' '
  cd ctx && test_must_fail bld --target nosuch . >out 2>err &&
  assert_file_has_content err "target stage .nosuch. could not be found" &&
  test "$(wc -l <err)" = 1
'

test_expect_success 'COPY --from with a wildcard matches inside the stage' '
  cd ctx && printf "FROM busybox AS libs\nRUN mkdir /o && touch /o/a.so /o/b.so /o/c.txt\nFROM scratch\nCOPY --from=libs /o/*.so /lib/\n" >Containerfile.glob &&
  bld -f Containerfile.glob -t glob1 . &&
  assert_streq "$(img_files glob1 | cut -d" " -f1 | tr "\n" " ")" "./lib ./lib/a.so ./lib/b.so " &&
  printf "FROM busybox AS libs\nFROM scratch\nCOPY --from=libs /nope/*.so /lib/\n" >Containerfile.noglob &&
  test_must_fail bld -f Containerfile.noglob . 2>err &&
  assert_file_has_content err "Containerfile.noglob:3: COPY: .*no source files .*match"
'

test_expect_success 'global ARG in FROM; the stage name is case-insensitive in --from' '
  cd ctx && printf "FROM busybox AS One\nRUN echo 1 >/one\nFROM busybox\nCOPY --from=ONE /one /one\n" >Containerfile.case &&
  bld -f Containerfile.case -t case1 . && assert_streq "$(in_img case1 cat /one)" 1 &&
  printf "ARG IMG=nosuch-image\nFROM \$IMG\n" >Containerfile.arg &&
  test_must_fail bld --pull=never -f Containerfile.arg . 2>err &&
  assert_file_has_content err "Containerfile.arg:2: FROM nosuch-image" &&
  bld --build-arg IMG=busybox -f Containerfile.arg -t from-arg . &&
  test "$(img_id from-arg)" = "$(img_id busybox)"
'

test_expect_success 'a built image pushes, and pulls back into a fresh store with the same id' '
  keel push -q --tls-verify=false final "$REGISTRY/built/final:1" &&
  KEEL_STORE=$TEST_TMP/store2 keel pull -q --tls-verify=false "$REGISTRY/built/final:1" >id2 &&
  assert_streq "$(cat id2)" "$(img_id final)" &&
  KEEL_STORE=$TEST_TMP/store2 keel run --rm --network none "$REGISTRY/built/final:1" /bin/busybox cat /u.txt >out &&
  assert_streq "$(cat out)" unrelated
'

test_done
