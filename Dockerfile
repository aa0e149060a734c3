# syntax=docker/dockerfile:1
#
# One image for every process of the system; the command picks which one runs:
#   docker run IMAGE                                   -> gateway (default)
#   docker run IMAGE connector/src/main.ts             -> connector
#   docker run IMAGE vehicle-sim/src/main.ts --vehicles 20  -> fleet simulator
# TypeScript runs through tsx (`node --import tsx`) everywhere, so there is no compile
# step; the image carries the sources, the production dependencies, tsx, and the built web
# app that the gateway serves. No HEALTHCHECK: compose and Kubernetes probe
# /health/live and /health/ready themselves.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- deps: every dependency (dev included), from the lock file only -----------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY platform/package.json platform/
COPY domain/package.json domain/
COPY link/package.json link/
COPY gateway/package.json gateway/
COPY connector/package.json connector/
COPY vehicle-sim/package.json vehicle-sim/
COPY web/package.json web/
COPY test/package.json test/
RUN npm ci --no-audit --no-fund

# --- build: the web app (vite) -> web/dist ------------------------------------------
FROM deps AS build
COPY . .
RUN npm run build -w web

# --- prod-deps: runtime dependencies of the server workspaces only ---------------------
# web (served as static files) and test are left out; tsx is a root devDependency, so it
# and its dependency closure (esbuild and its platform binary) are copied over from
# `deps`. test/ops/dockerfile.test.ts checks this list against package-lock.json.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=deps /app/package.json /app/package-lock.json ./
COPY --from=deps /app/proto/package.json proto/
COPY --from=deps /app/platform/package.json platform/
COPY --from=deps /app/domain/package.json domain/
COPY --from=deps /app/link/package.json link/
COPY --from=deps /app/gateway/package.json gateway/
COPY --from=deps /app/connector/package.json connector/
COPY --from=deps /app/vehicle-sim/package.json vehicle-sim/
COPY --from=deps /app/web/package.json web/
COPY --from=deps /app/test/package.json test/
RUN npm ci --omit=dev --no-audit --no-fund \
      -w proto -w platform -w domain -w link -w gateway -w connector -w vehicle-sim \
    && npm cache clean --force
COPY --from=deps /app/node_modules/tsx node_modules/tsx
COPY --from=deps /app/node_modules/esbuild node_modules/esbuild
COPY --from=deps /app/node_modules/@esbuild node_modules/@esbuild

# --- runtime ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    GATEWAY_PORT=8080 \
    CONNECTOR_GRPC_PORT=50051 \
    CONNECTOR_HTTP_PORT=9091
WORKDIR /app
# The `node` user (uid 1000) of the base image; nothing in /app is writable by it, tsx
# keeps its transform cache under /tmp (an emptyDir when the root filesystem is read-only).
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json tsconfig.base.json tsconfig.json ./
COPY proto/package.json proto/
COPY proto/src proto/src
COPY platform/package.json platform/
COPY platform/src platform/src
COPY platform/migrations platform/migrations
COPY domain/package.json domain/
COPY domain/src domain/src
COPY link/package.json link/
COPY link/src link/src
COPY gateway/package.json gateway/
COPY gateway/src gateway/src
COPY connector/package.json connector/
COPY connector/src connector/src
COPY vehicle-sim/package.json vehicle-sim/
COPY vehicle-sim/src vehicle-sim/src
COPY web/package.json web/
COPY --from=build /app/web/dist web/dist
USER node
EXPOSE 8080 50051 9091
# node itself is PID 1 (no tsx CLI wrapper), so SIGTERM reaches the service's own
# graceful-shutdown handler directly.
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["gateway/src/main.ts"]
