# Helpers for keel (engine CLI) tests; source after test-lib.sh.
#
#   keel ARGS...         $KEEL_BUILD/keel with this test's own store (--root $KEEL_STORE)
#   keel_pull REF        keel pull with the TLS and credential flags of $REGISTRY's flavour
#   store_outside_clean  nothing named keel-hostile* appeared outside the store

KEEL=${KEEL:-$KEEL_BUILD/keel}
KEEL_STORE=${KEEL_STORE:-$TEST_TMP/store}
export KEEL KEEL_STORE

keel() { "$KEEL" --root "$KEEL_STORE" "$@"; }

keel_registry_flags() {
  if [ "${REGISTRY_FLAVOUR:-plain}" = plain ]; then
    echo "--tls-verify=false"
  else
    echo "--cert-dir=$REGISTRY_CERTS_D/$REGISTRY --creds=$REGISTRY_USER:$REGISTRY_PASSWORD"
  fi
}

# shellcheck disable=SC2046 # the flags are words
keel_pull() { keel pull $(keel_registry_flags) "$@"; }
