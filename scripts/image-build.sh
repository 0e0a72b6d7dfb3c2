#!/usr/bin/env bash
# `npm run image:build`: builds the Dockerfile as mc-controller:dev (MC_IMAGE overrides the tag).
# docker where an engine answers (the official node base is pulled); podman otherwise, FROM the base that
# scripts/image-base.sh builds locally and caches. Layer caching makes a rebuild without changes take seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/container-env.sh"
IMAGE="${MC_IMAGE:-mc-controller:dev}"
started=$(now)

args=(build --tag "$IMAGE" --file "$MC_ROOT/Dockerfile")
# Hosts whose egress re-signs TLS trust an extra CA; `npm ci` in the build needs the same bundle
# (a build secret: mounted for the npm steps only, never stored in a layer).
ca="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
[[ -f "$ca" ]] && args+=(--secret "id=ca,src=$ca")
if [[ "$ENGINE" == podman ]]; then
  base="$(bash "$MC_ROOT/scripts/image-base.sh")"
  # --format docker keeps HEALTHCHECK (the OCI format has no such field); --pull=never: nothing to pull from.
  args+=(--format docker --pull=never --layers --build-arg "BASE_IMAGE=$base")
fi
base_done=$(now)

"$ENGINE" "${args[@]}" "$MC_ROOT"
done_at=$(now)
size=$("$ENGINE" image inspect --format '{{.Size}}' "$IMAGE")
echo "image $IMAGE built with $ENGINE: base $((base_done - started)) s, build $((done_at - base_done)) s, size $((size / 1000000)) MB"
