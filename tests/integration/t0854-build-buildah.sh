#!/bin/bash
# The same Containerfiles built by `buildah bud` and by `keel build` give
# the same files (path, owner, mode, size, type, link target) and the same
# config fields (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts,
# Volumes, Labels, StopSignal), modulo timestamps, buildah's version label
# and the empty mount points buildah's RUN leaves behind (/etc/hosts,
# /etc/hostname, /etc/resolv.conf, /run).  buildah runs with --isolation
# chroot (crun refuses this machine's hybrid cgroups), --layers and a
# private vfs store.  (Debian's buildah 1.28 has no heredoc support at all,
# so heredoc builds and their cache invalidation are checked on keel alone,
# in t0850 and t0852.)
. "$(dirname "$0")/../lib/test-lib.sh"
test_require_root
. "$TEST_SRCDIR/tests/lib/container.sh"
. "$TEST_SRCDIR/tests/lib/build.sh"
command -v buildah >/dev/null || { echo "buildah missing: run make deps" >&2; exit 1; }

BH_RUN=$(mktemp -d /tmp/kbb.XXXXXX)
podman_conf "$TEST_TMP/containers.conf"
export CONTAINERS_CONF=$TEST_TMP/containers.conf
bh() { buildah --root "$TEST_TMP/buildah" --runroot "$BH_RUN" --storage-driver vfs "$@"; }
test_cleanup "bh rm -a; bh rmi -a -f; rm -rf $BH_RUN"

bh_files() {
  local c root
  c=$(bh from "$1") && root=$(bh mount "$c") &&
    (cd "$root" && find . -mindepth 1 \( -type d -printf '%p %m %U:%G - %y\n' \) -o \
      \( -type l -printf '%p %m %U:%G - %y -> %l\n' \) -o -printf '%p %m %U:%G %s %y\n' | sort) &&
    bh umount "$c" >/dev/null && bh rm "$c" >/dev/null
}
norm() { grep -vE "^\./(etc/hosts|etc/hostname|etc/resolv\.conf|run) " | LC_ALL=C sort; }
FIELDS='{Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal}'

# build the context's Containerfile.$1 with both; compare
compare() {
  local cf=$1
  shift
  (cd ctx && bh bud --isolation chroot --layers -q -f "Containerfile.$cf" -t "localhost/bh-$cf" "$@" . >/dev/null) &&
    (cd ctx && bld -q -f "Containerfile.$cf" -t "localhost/keel-$cf" "$@" . >/dev/null) &&
    bh_files "localhost/bh-$cf" | norm >"bh-$cf.files" &&
    img_files "localhost/keel-$cf" | norm >"keel-$cf.files" &&
    diff -u "bh-$cf.files" "keel-$cf.files" &&
    bh inspect --type image "localhost/bh-$cf" |
    jq -S ".OCIv1.config | $FIELDS | .Labels |= (. // {} | del(.[\"io.buildah.version\"]))" >"bh-$cf.cfg" &&
    img_config "localhost/keel-$cf" | jq -S ".config | $FIELDS | .Labels |= (. // {})" >"keel-$cf.cfg" &&
    diff -u "bh-$cf.cfg" "keel-$cf.cfg"
}

test_expect_success 'setup: busybox in both stores, a build context' '
  ctr_setup &&
  bh pull -q "oci:$(fixture_dir busybox)/oci" >bid &&
  bh tag "$(cat bid)" docker.io/library/busybox:latest &&
  mkdir -p ctx/tree/sub ctx/tarsrc/t && echo t >ctx/tree/t && echo s >ctx/tree/sub/s &&
  chmod 700 ctx/tree/sub && echo one >ctx/one && echo two >ctx/two && echo m >ctx/tarsrc/t/m &&
  ln -s t ctx/tree/link && tar -C ctx/tarsrc -cf ctx/files.tar t &&
  printf "tree/sub\n" >ctx/.dockerignore
'

test_expect_success 'instructions and config: the same files and fields' '
  cat >ctx/Containerfile.basic <<-\CF &&
	FROM busybox
	ARG WHO=builder
	ENV A=1 B="two words"
	LABEL maintainer.name="$WHO" other=x
	WORKDIR /app
	COPY tree /app/tree/
	COPY --chown=1:2 one /file
	COPY one two /multi/
	ADD files.tar /unpacked/
	RUN mkdir -p /app/made && echo hi >/app/made/f && chown 5:6 /app/made/f && rm /bin/cat && ln -s made/f /app/sym
	USER 1000:1000
	EXPOSE 8080 53/udp
	VOLUME /data
	STOPSIGNAL SIGTERM
	ENTRYPOINT ["/bin/env"]
	CMD ["sh", "-c", "echo hello"]
	CF
  compare basic --build-arg WHO=me &&
  assert_file_has_content keel-basic.files "^\./app/made/f 644 5:6 3 f$" &&
  assert_not_file_has_content keel-basic.files "^\./app/tree/sub" &&
  assert_file_has_content keel-basic.cfg "\"maintainer.name\": \"me\""
'

test_expect_success 'multi-stage with COPY --from: the same files and fields' '
  cat >ctx/Containerfile.multi <<-\CF &&
	FROM busybox AS build
	RUN mkdir /out && echo built >/out/a && echo more >/out/b
	FROM scratch
	COPY --from=build /out /
	COPY --from=build /bin/busybox /bin/sh
	CMD ["/bin/sh"]
	CF
  compare multi && assert_streq "$(cut -d" " -f1 keel-multi.files | tr "\n" " ")" "./a ./b ./bin ./bin/sh "
'

test_expect_success 'shell-form CMD and ENTRYPOINT, ENV legacy form, relative WORKDIR' '
  cat >ctx/Containerfile.shell <<-\CF &&
	FROM busybox
	ENV LEGACY value with spaces
	WORKDIR /a
	WORKDIR b
	RUN pwd >/where
	ENTRYPOINT echo from entrypoint
	CMD echo from cmd
	CF
  compare shell && assert_file_has_content keel-shell.cfg "\"WorkingDir\": \"/a/b\""
'

test_done
