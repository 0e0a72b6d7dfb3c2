# syntax=docker/dockerfile:1
# mc-controller container image. Build: `npm run image:build` (scripts/image-build.sh: docker where an engine
# answers, else podman from a locally built base, see docs/operations.md).
# The code also runs on Node 20 (package.json engines); the image uses Node 24 LTS.
# BASE_IMAGE: the official image by default; scripts/image-base.sh builds an equivalent one from Debian's and
# the npm registry's packages where no image registry can be reached.
ARG BASE_IMAGE=node:24-bookworm-slim

# ---- build: full dependency tree, compile TypeScript to dist/ ----
FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script builds, and the sources are not copied yet.
# The `ca` build secret (optional) is the build host's CA bundle, for hosts whose egress re-signs TLS; it is
# mounted for this step only and never stored in a layer.
RUN --mount=type=secret,id=ca NODE_EXTRA_CA_CERTS=/run/secrets/ca npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY reconcilers ./reconcilers
# bench/ is not compiled into the image (tsconfig tolerates its absence).
RUN npm run build

# ---- runtime: production dependencies only, non-root ----
FROM ${BASE_IMAGE} AS runtime
# Small young generation and a bounded old space keep RSS near the live data (see docs/performance.md).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=384" \
    MC_STATE_DIR=/var/lib/mc-controller
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca NODE_EXTRA_CA_CERTS=/run/secrets/ca npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# The state dir is the only writable path (an emptyDir or volume in Kubernetes).
RUN mkdir -p /var/lib/mc-controller && chown 1000:1000 /var/lib/mc-controller
# Numeric uid (the image's `node` user) so Kubernetes runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080 8081
# No curl in slim images: node's fetch probes /healthz on the port from MC_PROBE_ADDR.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.MC_PROBE_ADDR||'127.0.0.1:8081').split(':').pop();fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["run"]
