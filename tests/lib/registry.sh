# A real registry for the tests: Debian's docker-registry (the CNCF
# distribution registry) on 127.0.0.1 at a free port, plus test images and
# a fault-injecting proxy.  Source after test-lib.sh.
#
#   registry_start FLAVOUR   plain | tls-basic | tls-token; exports
#       REGISTRY            127.0.0.1:PORT
#       REGISTRY_URL        http(s)://127.0.0.1:PORT
#       REGISTRY_CA         the CA certificate (TLS flavours, else empty)
#       REGISTRY_CERTS_D    a certs.d directory: $REGISTRY_CERTS_D/$REGISTRY/ca.crt
#       REGISTRY_USER, REGISTRY_PASSWORD   (TLS flavours, else empty)
#       REGISTRY_TOKEN_URL  the token issuer's realm (tls-token only)
#       REGISTRY_DIR        config, logs and storage of this registry
#   registry_skopeo_flags SRC|DEST   skopeo's TLS/credential flags for $REGISTRY
#   registry_push_fixture NAME [REPO[:TAG]] [oci|docker]
#       build fixture NAME (tests/fixtures/images.sh) if needed and copy it
#       byte for byte to $REGISTRY/REPO:TAG (default NAME:latest, OCI form);
#       NAME may be hostile/<case>
#   fixture_dir NAME         where fixture NAME is (built on demand)
#   proxy_start MODE [--count N] [--match S] [--after BYTES]
#       the fault proxy (tests/helpers/faultproxy) in front of a plain
#       $REGISTRY; MODE: pass | corrupt | truncate | 500 | drop | stall;
#       exports PROXY=127.0.0.1:PORT and PROXY_LOG (one line per request)
#
# Call registry_start and proxy_start at the top level of a test file, not
# inside a test body: a body runs in a subshell, and what it registers with
# test_cleanup would be lost.  Everything started here is stopped by test_cleanup, by the PIDs this file
# recorded.  Ports are chosen free, and taken again if a parallel test won
# the race, so files can run under prove -j.

KEEL_FIXTURES=${KEEL_FIXTURES:-$TEST_SRCDIR/build/fixtures}
export KEEL_FIXTURES
REGISTRY_HELPERS=${REGISTRY_HELPERS:-$KEEL_BUILD/tests/helpers}
_registry_n=0

command -v docker-registry >/dev/null || skip_all "docker-registry is not installed (make deps)"

# A port nobody listens on now (the caller retries if it loses a race).
registry_free_port() {
  local p used
  used=$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://')
  while :; do
    p=$((20000 + RANDOM % 40000))
    grep -qx "$p" <<<"$used" || break
  done
  echo "$p"
}

# Stop a process we started, and wait so its port is free again.
registry_kill() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

# wait_http URL [CURL ARGS]: until anything answers on URL (max 15 s).
registry_wait_http() {
  local url=$1 pid=$2
  shift 2
  for _ in $(seq 150); do
    curl -s -o /dev/null --max-time 2 "$@" "$url" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# A CA, a server certificate for 127.0.0.1 signed by it, and the token
# signing key with its self-signed certificate; made once per test file.
registry_certs() {
  local d=$TEST_TMP/registry-pki
  [ -f "$d/done" ] && return 0
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=Keel test CA" -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile ext.cnf -out server.crt
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Keel test token issuer" \
      -keyout token.key -out token.crt
  ) >"$d/log" 2>&1 || {
    cat "$d/log" >&2
    return 1
  }
  touch "$d/done"
}

# The registry's config.yml for FLAVOUR at PORT.
registry_config() {
  local flavour=$1 port=$2 dir=$3 pki=$TEST_TMP/registry-pki
  cat <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: keel-test-secret
EOF
  [ "$flavour" = plain ] || printf '  tls:\n    certificate: %s\n    key: %s\n' "$pki/server.crt" "$pki/server.key"
  case $flavour in
    tls-basic) printf 'auth:\n  htpasswd:\n    realm: keel-test\n    path: %s\n' "$dir/htpasswd" ;;
    tls-token)
      printf 'auth:\n  token:\n    realm: %s\n    service: keel-test-registry\n' "$REGISTRY_TOKEN_URL"
      printf '    issuer: keel-test-issuer\n    rootcertbundle: %s\n' "$pki/token.crt"
      ;;
  esac
}

# The token issuer for tls-token: checks basic credentials, signs JWTs with
# the key whose certificate is the registry's rootcertbundle.
registry_token_server() {
  local dir=$1 pki=$TEST_TMP/registry-pki pid
  "$REGISTRY_HELPERS/tokenserver" --port-file "$dir/token.port" --key "$pki/token.key" \
    --cert "$pki/token.crt" --issuer keel-test-issuer --service keel-test-registry \
    --user "$REGISTRY_USER" --password "$REGISTRY_PASSWORD" --log "$dir/token.log" \
    >>"$dir/token.out" 2>&1 &
  pid=$!
  test_cleanup "registry_kill $pid"
  for _ in $(seq 100); do
    [ -s "$dir/token.port" ] && break
    sleep 0.05
  done
  [ -s "$dir/token.port" ] || {
    echo "registry: token server did not start" >&2 && cat "$dir/token.out" >&2
    return 1
  }
  REGISTRY_TOKEN_URL=http://127.0.0.1:$(cat "$dir/token.port")/token
}

registry_start() {
  local flavour=$1 dir port pid try scheme=https
  case $flavour in
    plain) scheme=http ;;
    tls-basic | tls-token) registry_certs ;;
    *) echo "registry_start: unknown flavour '$flavour'" >&2 && return 1 ;;
  esac
  _registry_n=$((_registry_n + 1))
  dir=$TEST_TMP/registry-$_registry_n
  mkdir -p "$dir/storage"
  REGISTRY_CA= REGISTRY_USER= REGISTRY_PASSWORD= REGISTRY_TOKEN_URL=
  if [ "$flavour" != plain ]; then
    REGISTRY_CA=$TEST_TMP/registry-pki/ca.crt
    REGISTRY_USER=keeluser
    REGISTRY_PASSWORD=keel-pass-$RANDOM$RANDOM
    htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" >"$dir/htpasswd"
  fi
  [ "$flavour" = tls-token ] && registry_token_server "$dir"
  for try in 1 2 3 4 5; do
    port=$(registry_free_port)
    registry_config "$flavour" "$port" "$dir" >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >>"$dir/log" 2>&1 &
    pid=$!
    if registry_wait_http "$scheme://127.0.0.1:$port/v2/" "$pid" ${REGISTRY_CA:+--cacert "$REGISTRY_CA"}; then
      test_cleanup "registry_kill $pid"
      break
    fi
    registry_kill "$pid"
    pid=
  done
  [ -n "$pid" ] || {
    echo "registry_start: docker-registry did not come up; its log:" >&2 && tail -20 "$dir/log" >&2
    return 1
  }
  REGISTRY=127.0.0.1:$port
  REGISTRY_URL=$scheme://$REGISTRY
  REGISTRY_DIR=$dir
  REGISTRY_CERTS_D=$dir/certs.d
  mkdir -p "$REGISTRY_CERTS_D/$REGISTRY"
  [ -z "$REGISTRY_CA" ] || cp "$REGISTRY_CA" "$REGISTRY_CERTS_D/$REGISTRY/ca.crt"
  REGISTRY_FLAVOUR=$flavour
  export REGISTRY REGISTRY_URL REGISTRY_CA REGISTRY_CERTS_D REGISTRY_USER REGISTRY_PASSWORD \
    REGISTRY_TOKEN_URL REGISTRY_DIR REGISTRY_FLAVOUR
}

# skopeo flags to reach $REGISTRY as source (src) or destination (dest).
registry_skopeo_flags() {
  local side=$1
  if [ "$REGISTRY_FLAVOUR" = plain ]; then
    echo "--$side-tls-verify=false"
  else
    echo "--$side-cert-dir=$REGISTRY_CERTS_D/$REGISTRY --$side-creds=$REGISTRY_USER:$REGISTRY_PASSWORD"
  fi
}

fixture_dir() {
  local name=$1 top=${1%%/*}
  "$TEST_SRCDIR/tests/fixtures/images.sh" -o "$KEEL_FIXTURES" "$top" >>"$TEST_TMP/fixtures.log" 2>&1 || {
    echo "fixture_dir: building $top failed:" >&2 && tail -20 "$TEST_TMP/fixtures.log" >&2
    return 1
  }
  echo "$KEEL_FIXTURES/$name"
}

registry_push_fixture() {
  local name=$1 repo=${2:-${1//\//-}} form=${3:-oci} dir src
  [[ $repo == *:* ]] || repo=$repo:latest
  dir=$(fixture_dir "$name") || return 1
  case $form in
    oci) src=oci:$dir/oci:latest ;;
    docker) src=dir:$dir/docker ;;
    *) echo "registry_push_fixture: unknown form '$form'" >&2 && return 1 ;;
  esac
  # shellcheck disable=SC2046 # the flags are words
  skopeo copy --quiet --all --preserve-digests $(registry_skopeo_flags dest) \
    "$src" "docker://$REGISTRY/$repo"
}

proxy_start() {
  local mode=$1 dir pid
  shift
  dir=$TEST_TMP/proxy-$RANDOM$RANDOM
  mkdir -p "$dir"
  "$REGISTRY_HELPERS/faultproxy" --port-file "$dir/port" --upstream "$REGISTRY" \
    --log "$dir/requests" --mode "$mode" "$@" >>"$dir/out" 2>&1 &
  pid=$!
  test_cleanup "registry_kill $pid"
  for _ in $(seq 100); do
    [ -s "$dir/port" ] && break
    sleep 0.05
  done
  [ -s "$dir/port" ] || {
    echo "proxy_start: faultproxy did not start" >&2 && cat "$dir/out" >&2
    return 1
  }
  PROXY=127.0.0.1:$(cat "$dir/port")
  PROXY_LOG=$dir/requests
  export PROXY PROXY_LOG
}
