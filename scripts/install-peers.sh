#!/usr/bin/env bash
# Install the real peer programs the interop tests run against (design.md §6), and the
# openssl and curl that docs/server.md prints (test/docs/server.test.js runs them), and
# docker-registry 2.8 with htpasswd (apache2-utils) for the registry client tests, and
# PostgreSQL (initdb, pg_ctl) for the PostgreSQL store tests (test/helpers/postgres.js), and
# notary 0.7 (notary, notary-server, notary-signer) for the Notary interop tests and bench/server.
# Idempotent: does nothing when every peer is already installed. Needs root (or sudo).
set -euo pipefail
PKGS=(in-toto openssl curl docker-registry apache2-utils postgresql notary)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all present (${PKGS[*]})"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-peers: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-peers: done"
