#!/usr/bin/env bash
# Install what the tests and the demo need, idempotently:
#   Debian packages (OTP 25 with ssl, make) when missing, then a project venv
#   in .cache/venv with requirements-test.txt (re-installed when that file changes).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(erlang-base erlang-ssl erlang-public-key erlang-crypto erlang-asn1 erlang-syntax-tools
              make openssl ca-certificates python3-venv shellcheck graphviz
              nftables wireguard-tools wireguard-go  # nft, wg: tests
              podman runc netavark aardvark-dns iptables debootstrap)  # the lab
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
VENV=.cache/venv
stamp="$VENV/.requirements.sha"
want=$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "creating $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r requirements-test.txt
  echo "$want" > "$stamp"
fi
