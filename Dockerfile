# syntax=docker/dockerfile:1
# charging-points-sync as images. The default target is the product: the cp-sync CLI and worker, compiled, with
# production dependencies only, on Node 24 LTS, as the unprivileged `node` user:
#   docker build -t charging-points-sync .                 # or: docker compose build worker
# The `tools` target adds the development tools (demo fleet, seeder, station simulator) for the compose file's
# `demo` profile; it is never the product:
#   docker build --target tools -t charging-points-sync-tools .
# test/unit/image-files.test.ts computes what each target would contain (this file and .dockerignore) and fails
# when a tool, a test or a dev dependency would reach the product image.

ARG NODE_IMAGE=node:24.11.1-bookworm-slim

# Build: everything installed, the product compiled into dist/ (with the workflow bundle) and the tools into
# dist-tools/, then the dev dependencies dropped.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY tools ./tools
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# The product's files: compiled JavaScript and production dependencies only.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist

# The demo's tools: the product plus dist-tools/ and the ocpp-db schema they seed. Never deployed.
FROM runtime AS tools
COPY --from=build --chown=node:node /app/dist-tools ./dist-tools
COPY --chown=node:node sql ./sql
USER node
CMD ["node", "dist-tools/tools/demo/simulator.js"]

# The product (default target: the last stage).
FROM runtime AS product
USER node
# Healthy when this container's worker polls TEMPORAL_TASK_QUEUE (see README, `cp-sync worker --check`). Other
# commands run in this image (migrate, run, status) are one-shots; compose disables the check for them.
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 CMD ["node", "dist/cli/main.js", "worker", "--check"]
# `docker compose run --rm worker node dist/cli/main.js <command>` runs any other cp-sync command.
CMD ["node", "dist/cli/main.js", "worker"]
