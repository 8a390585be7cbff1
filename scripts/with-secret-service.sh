#!/usr/bin/env bash
# Runs "$@" with a private, unlocked Secret Service (gnome-keyring) on a private D-Bus session.
# Usage: scripts/with-secret-service.sh <command> [args...]
# Needs: dbus-daemon dbus-x11 gnome-keyring libglib2.0-bin (see .ci/run).
set -euo pipefail
if [ -z "${APNS_CERT_IN_DBUS_SESSION:-}" ]; then
  export APNS_CERT_IN_DBUS_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi
tmp=$(mktemp -d)
mkdir -p "$tmp/data" "$tmp/runtime"
chmod 700 "$tmp" "$tmp/data" "$tmp/runtime"
export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/runtime"
printf '%s' "apns-cert-test-keyring" | gnome-keyring-daemon --foreground --unlock --components=secrets >"$tmp/daemon.log" 2>&1 &
daemon=$!
export APNS_CERT_TEST_KEYRING_PID=$daemon
cleanup() { kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
if ! gdbus wait --session --timeout 10 org.freedesktop.secrets; then
  echo "with-secret-service: the Secret Service did not start; daemon log:" >&2
  cat "$tmp/daemon.log" >&2
  exit 1
fi
export APNS_CERT_SECRET_SERVICE=1
set +e
"$@"
status=$?
exit $status
