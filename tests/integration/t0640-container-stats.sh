#!/bin/bash
# keel stats: one table with --no-stream, a refresh every second without
# it (read two, then ^C), --format templates and json, --no-trunc, -a.
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"
N="--network none"

# stats_until FILE PATTERN COUNT ARGS...: keel stats ARGS in the background
# until FILE has COUNT lines matching PATTERN (30 s at most), then ^C
stats_until() {
  local file=$1 pat=$2 count=$3 pid i
  shift 3
  "$KEEL" --root "$KEEL_STORE" stats "$@" >"$file" 2>stats.err &
  pid=$!
  for i in $(seq 300); do
    [ "$(grep -c "$pat" "$file")" -ge "$count" ] && break
    sleep 0.1
  done
  kill -INT $pid && wait $pid
}

test_expect_success 'setup: the busybox fixture and two running containers' '
  ctr_setup &&
  keel run -d $N --name st1 -m 64m busybox sh -c "sleep 1000 & exec sleep 1001" >id1 &&
  keel run -d $N --name st2 busybox sleep 1002 >/dev/null &&
  keel create $N --name st3 busybox true >/dev/null
'

test_expect_success 'streaming: a table every second until interrupted' '
  stats_until out "^ID " 2 &&
  cat out && test "$(grep -c "^ID " out)" -ge 2 &&
  test "$(grep -c "st1 .*/ 67.1MB .* 2$" out)" -ge 2 &&
  test "$(grep -c " st2 " out)" -ge 2 && assert_not_file_has_content out st3 &&
  test ! -s stats.err
'

test_expect_success '--format with a table header, --no-trunc, named containers' '
  stats_until out "^st1 2 " 2 --no-trunc --format "table {{.Name}} {{.PIDs}} {{.ID}}" st1 &&
  assert_streq "$(sed -n 1p out)" "Name PIDs ID" &&
  assert_streq "$(sed -n 2p out)" "st1 2 $(cat id1)" &&
  assert_not_file_has_content out st2
'

test_expect_success '--no-stream: one refresh; json; -a shows the stopped one' '
  keel stats --no-stream --format "{{.Name}}:{{.MemUsage}}:{{.MemPerc}}" st1 >out &&
  test $(wc -l <out) = 1 && assert_file_has_content out "^st1:.* / 67.1MB:[0-9.]*%$" &&
  keel stats --no-stream --format json >out &&
  jq -e "length == 2 and (map(.Name) | sort) == [\"st1\", \"st2\"]" out &&
  jq -e ".[] | select(.Name == \"st1\") | .PIDs == \"2\" and .MemUsageBytes > 0" out &&
  keel stats -a --no-stream --format "{{.Name}}" >out && assert_file_has_content out "^st3$"
'

test_expect_success 'an unknown container or flag: one line, 125' '
  { keel stats --no-stream nosuch >out 2>err; rc=$?; } ;
  test $rc = 125 && test $(wc -l <err) = 1 && assert_file_has_content err nosuch &&
  { keel stats --bogus 2>err; rc=$?; } ; test $rc = 125 && test $(wc -l <err) = 1
'

test_expect_success 'nothing left behind' '
  keel rm -a -f >/dev/null && test "$(ctr_count_leftovers)" = "0 0 0 0"
'

test_done
