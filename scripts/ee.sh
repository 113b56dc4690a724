#!/usr/bin/env bash
# The execution environment (execution-environment.yml), built here without a registry or Galaxy:
#   scripts/ee.sh build    the lab's debootstrap image as the base, this collection from its tarball,
#                          community.crypto and containers.podman from the `ansible` package
#   scripts/ee.sh verify   playbooks/verify.yml run from inside the EE against the running lab, the lab's
#                          podman connection going through this machine's podman API socket
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=$root/.cache/venv
export PATH=$venv/bin:$PATH CONTAINERS_CONF=$root/lab/containers.conf
ee=localhost/beamsec-ee:latest
work=$root/.cache/ee

build() {
  rm -rf "$work" && mkdir -p "$work/dist" "$work/collections/ansible_collections" "$work/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$work/certs/"
  ansible-galaxy collection build --force --output-path "$work/dist" . >/dev/null
  ansible-galaxy collection install --offline --no-deps --force -p "$work/collections" "$work"/dist/beamsec-cluster-*.tar.gz >/dev/null
  site=$("$venv/bin/python" -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__path__[0]))')
  for collection in community/crypto containers/podman; do
    mkdir -p "$work/collections/ansible_collections/$(dirname $collection)"
    cp -r "$site/ansible_collections/$collection" "$work/collections/ansible_collections/$collection"
  done
  "$venv/bin/python" lab/lab.py build
  podman tag "$("$venv/bin/python" -c 'import sys; sys.path.insert(0, "lab"); import lab; print(lab.image_tag())')" \
    localhost/beamsec-ee-base:latest
  started=$(date +%s)
  ansible-builder build -f execution-environment.yml -c "$work/context" -t "$ee" --container-runtime podman \
    --build-arg PKGMGR_PRESERVE_CACHE=always -v 1
  echo "EE $ee built in $(( $(date +%s) - started )) s"
}

verify() {
  inventory=$root/.cache/lab/inventory.yml
  [ -f "$inventory" ] || { echo "no lab: make demo (or make lab and harden) first" >&2; exit 2; }
  socket=$work/podman.sock
  rm -f "$socket"
  podman system service --time=0 "unix://$socket" & service=$!
  trap 'kill $service' EXIT
  for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.1; done
  # the lab is reached with podman exec: the EE plus a podman client (the lab's seat only, not the EE)
  printf 'FROM %s\nUSER root\nRUN apt-get update && apt-get install -y --no-install-recommends podman\n' "$ee" |
    podman build -q -t localhost/beamsec-ee-lab:latest -f - "$work" >/dev/null
  # the inventory's paths (cookie store, reports) are absolute: the same path inside
  podman run --rm --user 0 --network none \
    -v "$socket:/run/podman/podman.sock" -v "$root/.cache/lab:$root/.cache/lab" \
    -v "$root/lab/connection_plugins:/lab/connection_plugins:ro" \
    -e ANSIBLE_CONNECTION_PLUGINS=/lab/connection_plugins -e ANSIBLE_PIPELINING=true \
    -e ANSIBLE_PODMAN_EXTRA_ARGS="--remote --url unix:///run/podman/podman.sock" \
    --entrypoint ansible-playbook localhost/beamsec-ee-lab:latest -i "$inventory" beamsec.cluster.verify
}

"${1:?build or verify}"
