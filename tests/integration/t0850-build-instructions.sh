#!/bin/bash
# keel build: every Containerfile instruction and option, with the result
# checked in the image's filesystem (keel run, a read-only mount of its
# layers) and its config (the OCI config document in the store).
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"
. "$TEST_SRCDIR/tests/lib/build.sh"

test_expect_success 'setup: the busybox fixture in the store' '
  ctr_setup && keel images >out && assert_file_has_content out busybox
'

mkdir -p "$TEST_TMP/ctx/dir/sub" "$TEST_TMP/ctx/tarsrc/t"
# the build context (every body starts in $TEST_TMP: cd ctx)
echo one >"$TEST_TMP/ctx/a.txt"
echo two >"$TEST_TMP/ctx/b.txt"
echo three >"$TEST_TMP/ctx/dir/sub/c.txt"
echo in-tar >"$TEST_TMP/ctx/tarsrc/t/member"
tar -C "$TEST_TMP/ctx/tarsrc" -czf "$TEST_TMP/ctx/files.tgz" t

test_expect_success 'FROM, RUN (shell and exec), COPY, ENV, WORKDIR, CMD' '
  cd ctx && cat >Containerfile <<-\CF &&
	# a comment
	FROM busybox
	ENV A=1 B="two words" \
	    C=three\ words
	ENV LEGACY value with spaces
	WORKDIR /app
	WORKDIR sub
	RUN echo "$A|$B|$C|$LEGACY|$(pwd)" >/shell.txt
	RUN ["/bin/sh", "-c", "echo exec-form >/exec.txt"]
	COPY a.txt b.txt /copied/
	COPY dir /tree
	COPY a.txt rel.txt
	CMD ["cat", "/shell.txt"]
	CF
  bld -t t1 . >out &&
  assert_streq "$(in_img t1)" "1|two words|three words|value with spaces|/app/sub" &&
  assert_streq "$(in_img t1 cat /exec.txt /copied/a.txt /copied/b.txt /tree/sub/c.txt /app/sub/rel.txt)" \
    "exec-form
one
two
three
one" &&
  img_config t1 >cfg &&
  assert_streq "$(jq -c .config.Cmd cfg)" "[\"cat\",\"/shell.txt\"]" &&
  assert_streq "$(jq -r .config.WorkingDir cfg)" /app/sub &&
  jq -r ".config.Env[]" cfg >env && assert_file_has_content env "^B=two words$" &&
  assert_file_has_content env "^LEGACY=value with spaces$" &&
  assert_file_has_content env "^PATH=" &&
  test "$(jq ".history | length" cfg)" -gt 8 &&
  jq -r ".history[].created_by" cfg >hist && assert_file_has_content hist "echo exec-form"
'

test_expect_success 'COPY --chown, --chmod, wildcards, heredocs; ADD extracts local tars' '
  cd ctx && cat >Containerfile <<-\CF &&
	FROM busybox
	ARG OWNER=7:8
	COPY --chown=$OWNER --chmod=600 a.txt /own/a.txt
	COPY --chown=nobody *.txt /glob/
	ENV WHERE=here
	COPY <<EOF /etc/here.conf
	where=$WHERE home=$HOME
	EOF
	COPY <<-"EOT" <<X /multi/
		literal $HOME
		EOT
	second
	X
	ADD files.tgz /extracted/
	ADD a.txt /added.txt
	CF
  bld -t t2 . &&
  img_files t2 >files &&
  assert_file_has_content files "^./own/a.txt 600 7:8 4 f$" &&
  assert_file_has_content files "^./glob/a.txt 644 65534:65534 4 f$" &&
  assert_file_has_content files "^./glob/b.txt " &&
  assert_file_has_content files "^./extracted/t/member .* f$" &&
  assert_file_has_content files "^./added.txt " &&
  assert_not_file_has_content files "files.tgz" &&
  assert_streq "$(in_img t2 cat /etc/here.conf)" "where=here home=" &&
  assert_streq "$(in_img t2 cat /multi/EOT /multi/X)" "literal \$HOME
second"
'

test_expect_success 'RUN heredocs: a script, a shebang file, heredocs fed to a command' '
  cd ctx && cat >Containerfile <<-\CF &&
	FROM busybox
	RUN <<EOF
	echo line1 >/h1
	echo line2 >>/h1
	EOF
	RUN <<EOF
	#!/bin/sh -e
	echo "shebang $0" >/h2
	EOF
	RUN cat <<A >/h3 && cat <<"B" >/h4
	alpha $((1+1))
	A
	beta $((1+1))
	B
	CF
  bld -t t3 . &&
  assert_streq "$(in_img t3 cat /h1 /h2 /h3 /h4)" "line1
line2
shebang /dev/.keel-heredoc-script
alpha 2
beta \$((1+1))" &&
  img_files t3 >files && assert_not_file_has_content files keel-heredoc
'

test_expect_success 'ARG before and after FROM, defaults, scoping, --build-arg' '
  cd ctx && cat >Containerfile <<-\CF &&
	ARG TAG=latest
	ARG GLOBAL=global-default
	FROM busybox:${TAG}
	RUN echo "before:[$GLOBAL]" >/args
	ARG GLOBAL
	ARG LOCAL=local-default
	ARG EMPTY
	RUN echo "after:[$GLOBAL][$LOCAL][${EMPTY:-unset}][$TAG]" >>/args
	ENV LOCAL=env-wins
	RUN echo "env:[$LOCAL]" >>/args
	CF
  bld -t t4 . &&
  assert_streq "$(in_img t4 cat /args)" "before:[]
after:[global-default][local-default][unset][]
env:[env-wins]" &&
  bld -t t4b --build-arg GLOBAL=given --build-arg LOCAL=l2 --build-arg EMPTY=e . 2>err &&
  assert_streq "$(in_img t4b cat /args)" "before:[]
after:[given][l2][e][]
env:[env-wins]" &&
  img_config t4b >cfg && ! jq -r ".config.Env[]" cfg | grep -q GLOBAL &&
  bld --build-arg NOT_DECLARED=1 . 2>err >/dev/null &&
  assert_file_has_content err "build-args \[NOT_DECLARED\] were not consumed"
'

test_expect_success 'USER, EXPOSE, VOLUME, LABEL, ENTRYPOINT, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD, MAINTAINER' '
  cd ctx && cat >Containerfile <<-\CF &&
	FROM busybox
	MAINTAINER someone <someone@example.org>
	CMD ["inherited"]
	ENTRYPOINT ["/bin/echo", "ep"]
	LABEL "com.example.a"="x y" b=c
	EXPOSE 80 53/udp 8000-8001/TCP
	VOLUME ["/data", "/logs"]
	VOLUME /more
	SHELL ["/bin/sh", "-ec"]
	RUN echo "$0 $-" >/shell-flags
	USER nobody
	RUN id -u >/tmp/uid
	STOPSIGNAL SIGINT
	HEALTHCHECK --interval=30s --timeout=5s --retries=4 CMD ["true"]
	ONBUILD RUN echo triggered >/tmp/onbuild
	CF
  bld -t t5 . &&
  img_config t5 >cfg &&
  assert_streq "$(jq -c .config.Entrypoint cfg)" "[\"/bin/echo\",\"ep\"]" &&
  assert_streq "$(jq -c .config.Cmd cfg)" "[\"inherited\"]" &&
  assert_streq "$(jq -r .config.User cfg)" nobody &&
  assert_streq "$(jq -c ".config.ExposedPorts | keys" cfg)" "[\"53/udp\",\"80/tcp\",\"8000-8001/tcp\"]" &&
  assert_streq "$(jq -c ".config.Volumes | keys" cfg)" "[\"/data\",\"/logs\",\"/more\"]" &&
  assert_streq "$(jq -c .config.Labels cfg)" "{\"com.example.a\":\"x y\",\"b\":\"c\"}" &&
  assert_streq "$(jq -r .config.StopSignal cfg)" SIGINT &&
  assert_streq "$(jq -c .config.Healthcheck cfg)" "{\"Test\":[\"CMD\",\"true\"],\"Interval\":30000000000,\"Timeout\":5000000000,\"Retries\":4}" &&
  assert_streq "$(jq -c .config.OnBuild cfg)" "[\"RUN echo triggered >/tmp/onbuild\"]" &&
  assert_streq "$(jq -r .author cfg)" "someone <someone@example.org>" &&
  assert_streq "$(jq -c .config.Shell cfg)" "[\"/bin/sh\",\"-ec\"]" &&
  assert_streq "$(keel run --rm --network none --entrypoint cat t5 /shell-flags /tmp/uid)" "/bin/sh ce
65534" &&
  assert_streq "$(in_img t5 x)" "ep x" &&
  printf "FROM t5\nRUN cat /tmp/onbuild >/tmp/seen\n" >Containerfile.child &&
  bld -f Containerfile.child -t t5child . &&
  assert_streq "$(keel run --rm --network none --entrypoint cat t5child /tmp/seen)" triggered &&
  img_config t5child >cfg2 && assert_streq "$(jq -c .config.OnBuild cfg2)" null &&
  printf "FROM busybox\nENTRYPOINT [\"/bin/echo\"]\n" >Containerfile.ep &&
  bld -f Containerfile.ep -t t5ep . && img_config t5ep >cfg3 &&
  assert_streq "$(jq -c .config.Cmd cfg3)" null
'

test_expect_success 'HEALTHCHECK NONE, CMD shell form, escape directive, continuation comments' '
  cd ctx && cat >Containerfile <<-\CF &&
	# escape=`
	FROM busybox
	HEALTHCHECK NONE
	RUN echo a `
	# a comment inside the continuation
	    b >/cont
	CMD echo shell form
	CF
  bld -t t6 . &&
  img_config t6 >cfg &&
  assert_streq "$(jq -c .config.Healthcheck.Test cfg)" "[\"NONE\"]" &&
  assert_streq "$(jq -c .config.Cmd cfg)" "[\"/bin/sh\",\"-c\",\"echo shell form\"]" &&
  assert_streq "$(in_img t6 cat /cont)" "a b" &&
  assert_streq "$(in_img t6)" "shell form"
'

test_expect_success 'RUN --mount: cache kept across builds, bind from the context, tmpfs, --network' '
  cd ctx && cat >Containerfile <<-\CF &&
	FROM busybox
	ARG N
	RUN --mount=type=cache,target=/var/cache/x,id=c1 echo "run$N" >>/var/cache/x/log && cat /var/cache/x/log >/seen
	RUN --mount=type=bind,source=dir,target=/src cat /src/sub/c.txt >/bound && ! touch /src/new 2>/dev/null
	RUN --mount=type=tmpfs,target=/scratch touch /scratch/f && grep -q " /scratch tmpfs" /proc/mounts && echo ok >/tmpfs
	RUN --network=none ip -o link | wc -l >/links
	CF
  bld --build-arg N=1 -t t7 . && bld --build-arg N=2 -t t7b . &&
  assert_streq "$(in_img t7b cat /seen)" "run1
run2" &&
  assert_streq "$(in_img t7 cat /bound /tmpfs /links)" "three
ok
1" &&
  img_files t7 >files && assert_not_file_has_content files "^./var/cache/x/log" &&
  assert_not_file_has_content files "^./scratch/f" && test ! -e dir/new
'

test_expect_success 'RUN --mount=type=cache,sharing=locked: concurrent builds take turns' '
  cd ctx && cat >Containerfile.lock <<-\CF &&
	FROM busybox
	ARG WHO
	RUN --mount=type=cache,target=/c,id=shared-lock,sharing=locked \
	    if [ -e /c/busy ]; then echo clash; exit 1; fi; touch /c/busy; sleep 1; rm /c/busy; echo $WHO >>/c/done
	CF
  { bld -f Containerfile.lock --build-arg WHO=one . >o1 2>&1 & p1=$!; } &&
  { bld -f Containerfile.lock --build-arg WHO=two . >o2 2>&1 & p2=$!; } &&
  { rc1=0; wait $p1 || rc1=$?; rc2=0; wait $p2 || rc2=$?; echo "rc=$rc1,$rc2"; } &&
  test "$rc1,$rc2" = 0,0 && ! grep -q "^clash" o1 o2
'

test_expect_success '-t twice, --label, -f elsewhere, Dockerfile fallback, --layers=false' '
  cd ctx && mkdir -p other && echo other >other/a.txt && printf "FROM busybox\nRUN echo df >/df\nENV X=1\nCOPY a.txt /\n" >other/Dockerfile &&
  bld -t n1 -t localhost/n2:v2 --label stage=final --label empty= -f other/Dockerfile . &&
  test "$(img_id n1)" = "$(img_id localhost/n2:v2)" &&
  img_config n1 >cfg && assert_streq "$(jq -c .config.Labels cfg)" "{\"stage\":\"final\",\"empty\":\"\"}" &&
  (cd other && keel build --network none --layers=false -t n3 . >../out) &&
  assert_streq "$(in_img n3 cat /df)" df &&
  keel image inspect n3 | jq -r ".[0].RootFS.Layers | length" >nl &&
  test "$(cat nl)" = "$(( $(keel image inspect busybox | jq -r ".[0].RootFS.Layers | length") + 1 ))" &&
  assert_not_file_has_content out "Using cache"
'

test_expect_success 'FROM scratch with only copied files; --platform recorded' '
  cd ctx && printf "FROM scratch\nCOPY a.txt /a\n" >Containerfile.scratch &&
  bld --platform linux/amd64 -f Containerfile.scratch -t s1 . &&
  assert_streq "$(img_files s1)" "./a 644 0:0 4 f" &&
  img_config s1 >cfg &&
  assert_streq "$(jq -r "[.os,.architecture]|join(\"/\")" cfg)" linux/amd64 &&
  printf "FROM scratch\n" >Containerfile.empty && bld -f Containerfile.empty -t s2 . &&
  assert_streq "$(keel image inspect s2 | jq -r ".[0].RootFS.Layers | length")" 0
'

test_expect_success 'builds leave no working containers, mounts or temporary files' '
  assert_streq "$(ctr_count_leftovers)" "0 0 0 0" &&
  ! ls /var/tmp | grep -q "^keel-build-"
'

test_done
