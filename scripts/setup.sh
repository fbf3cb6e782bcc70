#!/usr/bin/env bash
# Installs everything the bridge needs on Debian 12 with Node 20, then builds
# it. Safe to run again: it installs only what is missing.
#   scripts/setup.sh && npm start     # run the server
#   scripts/setup.sh && npm test      # run the tests
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# Build tools and the Debian -dev packages the native media engine links,
# the real SIP clients the tests drive (and openssl, which makes the SIP TLS
# tests' certificates), and the recorded prompts.
PACKAGES=(
  build-essential python3 pkg-config
  libspandsp-dev libspeexdsp-dev libopus-dev
  sip-tester baresip-core openssl
  asterisk-core-sounds-en-wav asterisk-moh-opsound-wav
  asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav asterisk-core-sounds-it-wav
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
    SUDO="sudo"
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v node >/dev/null || die "Node.js 20 is required"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[[ $node_major -ge 20 ]] || die "Node.js >= 20 required, found $(node --version)"

# Native addons (ours and better-sqlite3) build against the installed Node's
# own headers: node-gyp must never download them, and no prebuilt binary is
# fetched either.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[[ -f "$node_prefix/include/node/node.h" ]] || die "Node headers not found in $node_prefix/include/node"
export npm_config_nodedir="$node_prefix"
export npm_config_build_from_source=true

lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f node_modules/.setup-lock-sum || $(cat node_modules/.setup-lock-sum) != "$lock_sum" ]]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund
  echo "$lock_sum" > node_modules/.setup-lock-sum
fi
node -e "require('better-sqlite3')(':memory:').close()" || die "better-sqlite3 did not build"

log "building the native media engine and the TypeScript sources"
npm run --silent build
node -e "require('./native/build/Release/media.node')" || die "the native media engine did not build"
log "ready"
