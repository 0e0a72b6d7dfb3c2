#!/usr/bin/env bash
# Builds the base image the Dockerfile starts FROM when no registry can be pulled from (podman here):
# a Debian bookworm root filesystem from Debian's packages (debootstrap, minbase) plus Node 24 and npm
# from the npm registry, laid out like the official node:24-bookworm-slim (node and npm in /usr/local/bin,
# user `node` = uid 1000). Imported with `podman import` and tagged $MC_BASE_IMAGE.
# Cached: the root filesystem tarball under .cache/image-base/ and the image itself, both keyed by the
# inputs; a rerun with the image present takes well under a second.
# Prints the image's name on stdout (everything else goes to stderr).
set -euo pipefail
exec 3>&1 1>&2
source "$(dirname "${BASH_SOURCE[0]}")/container-env.sh"

NODE_DIR="$MC_ROOT/.cache/real-gateway/node24/node_modules/node/bin"
NPM_SPEC="${MC_BASE_NPM:-npm@11}"
SUITE=bookworm
MIRROR="${MC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="$MC_ROOT/.cache/image-base"
mkdir -p "$CACHE"

[[ -x "$NODE_DIR/node" ]] || bash "$MC_ROOT/scripts/install-real-gateway.sh"
NODE_VERSION="$("$NODE_DIR/node" -v)"
# Bump when the steps below change what ends up in the base.
RECIPE=1
# The cache key: everything that changes the base.
KEY="$(printf '%s\n' "$RECIPE" "$SUITE" "$NODE_VERSION" "$NPM_SPEC" | sha256sum | cut -c1-12)"
MC_BASE_IMAGE="${MC_BASE_IMAGE:-localhost/mc-controller-base:node${NODE_VERSION#v}-$SUITE-$KEY}"

if podman image exists "$MC_BASE_IMAGE"; then
  echo "base image present: $MC_BASE_IMAGE"
  echo "$MC_BASE_IMAGE" >&3
  exit 0
fi

TARBALL="$CACHE/rootfs-$KEY.tar"
if [[ ! -f "$TARBALL" ]]; then
  started=$(now)
  ROOTFS="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  trap 'rm -rf "$ROOTFS"' EXIT
  debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
    tail -20 "$CACHE/debootstrap.log" >&2
    exit 1
  }
  boot_done=$(now)
  install -m 0755 "$NODE_DIR/node" "$ROOTFS/usr/local/bin/node"
  # npm from the registry, installed by the host's npm into the image's /usr/local (pure JavaScript).
  npm install --global --prefix "$ROOTFS/usr/local" --no-audit --no-fund --loglevel=error "$NPM_SPEC"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
  # The official image's unprivileged user.
  chroot "$ROOTFS" groupadd --gid 1000 node
  chroot "$ROOTFS" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # What a container never needs: package caches and lists, docs, man pages, locales.
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* \
    "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log "$ROOTFS"/var/cache/debconf/*-old
  find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
  tar --numeric-owner -C "$ROOTFS" -cf "$TARBALL.part" .
  mv -f "$TARBALL.part" "$TARBALL"
  rm -rf "$ROOTFS"
  trap - EXIT
  echo "base root filesystem built in $(($(now) - started)) s (debootstrap $((boot_done - started)) s): $TARBALL"
fi

podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
  --change 'CMD ["node"]' \
  "$TARBALL" "$MC_BASE_IMAGE" >/dev/null
echo "base image imported: $MC_BASE_IMAGE"
# Older keys are dead weight (an old base still used by a built image stays until that image goes).
find "$CACHE" -maxdepth 1 -name 'rootfs-*.tar' ! -name "rootfs-$KEY.tar" -delete
podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/mc-controller-base:' | grep -vxF "$MC_BASE_IMAGE" |
  xargs -r podman rmi >/dev/null 2>&1 || true
echo "$MC_BASE_IMAGE" >&3
