#!/usr/bin/env bash
# Installs what the image build and the deployment tests need, from Debian's packages (root; idempotent):
# podman + runc (no Docker engine here), debootstrap (the locally built base image), prometheus/promtool,
# systemd-analyze, kubectl's kustomize comes with the machine image.
set -euo pipefail
want=(podman runc conmon containernetworking-plugins debootstrap prometheus systemd uidmap)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "container tools present: ${want[*]}"
  exit 0
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# --no-install-recommends: crun is only a recommendation of podman and does not work on these hosts.
apt-get install -y -q --no-install-recommends "${missing[@]}"
