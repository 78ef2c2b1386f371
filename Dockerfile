# The charging-points-sync worker (and the cp-sync CLI) as an image. Used by docker-compose.yml:
#   docker compose build worker
# Build stage: install everything, compile TypeScript, then drop the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: compiled JavaScript and production dependencies only, run as the unprivileged `node` user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node sql ./sql
USER node
# `docker compose run --rm worker node dist/cli/main.js <command>` runs any other cp-sync command.
CMD ["node", "dist/cli/main.js", "worker"]
