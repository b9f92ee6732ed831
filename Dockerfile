# syntax=docker/dockerfile:1.7
#
# Outrigger container image.
#
#   docker build -t outrigger:dev --build-arg VERSION=$(node -p 'require("./package.json").version') \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#
# Two stages: `build` compiles TypeScript and prunes dev dependencies on the official Node LTS image;
# `runtime` is distroless (glibc, libstdc++, CA certificates, no shell, no package manager) with the
# node binary copied from the build stage, so both stages run the very same Node release.
# Base images are pinned by tag; mirror them and add an @sha256 digest in your own registry.
# test/image/run.sh builds this file unchanged against local stand-ins for both base images.

ARG NODE_VERSION=24.21.0

FROM docker.io/library/node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG NODE_VERSION
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="outrigger" \
      org.opencontainers.image.description="HTTP and TCP load balancer for Kubernetes sidecars: health probes, Prometheus metrics, clean drain" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot" \
      io.outrigger.node-version="${NODE_VERSION}"
# Everything below is owned by root and read-only for the runtime user: the container works with
# readOnlyRootFilesystem and cannot rewrite its own code.
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
# package.json carries "type": "module", which dist/*.js need.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# MALLOC_ARENA_MAX=2: glibc's malloc keeps at most two arenas instead of up to eight per core; in a
# 256 MiB cgroup on Node 24 that measured 5-6 MiB less at 1000 busy clients and 6-7 MiB less 60 s after
# the load, with no change in CPU per request (docs/benchmarks.md, "glibc arenas").
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2
# distroless "nonroot"; numeric so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
# 8080 traffic (PROXY_PORT), 9901 admin: /healthz, /readyz, /metrics (ADMIN_PORT).
EXPOSE 8080 9901
# Exec form: node is PID 1 and receives SIGTERM itself; Outrigger runs its drain sequence (SPEC §5).
# --disable-sigusr1 (Node >= 22.14): SIGUSR1 no longer opens the inspector on 127.0.0.1:9229, which
# every container of the pod could reach. A flag on the command line rather than NODE_OPTIONS, so that
# a NODE_OPTIONS set in the pod spec cannot drop it. Node 20 rejects the flag: keep NODE_VERSION >= 22.14.
# --max-semi-space-size=16: under a pod memory limit of 512Mi or less, V8 shrinks its young generation
# to 1 MiB semi-spaces, which cost a third of the throughput and ~1.4x the CPU per request; 16 MiB keeps
# the throughput of an unlimited heap for ~25-35 MiB more at peak (docs/benchmarks.md, "Memory").
# `node dist/main.js` without it still works, as in the README.
CMD ["node", "--disable-sigusr1", "--max-semi-space-size=16", "dist/main.js"]
