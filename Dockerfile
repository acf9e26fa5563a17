# One image for every app (api, router): the command picks the entry point, see docker-compose.yml.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 is native: npm normally fetches a prebuilt binary, and compiles it with these when it cannot.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# tools/register-paths.js resolves the @spoc/* aliases in dist/; policies/ is read at start (SPOC_POLICY_FILE).
# Anything else the apps read at run time must be copied here too.
COPY --from=build /app/tools ./tools
COPY --from=build /app/policies ./policies
RUN mkdir -p /data /keys /erased-keys && chown node:node /data /keys /erased-keys
# Each its own volume, backed up apart: a key file left in the container's layer would be lost with the container,
# and every referral with it. An install from before kept its keys in /data: the API refuses to start until they are
# moved (README, "Upgrading").
VOLUME ["/data", "/keys", "/erased-keys"]
USER node
# The keys apart from the log, so that a backup of one is not a backup of both (erasure destroys keys).
ENV SPOC_DATA_DIR=/data SPOC_KEYS_DIR=/keys SPOC_ERASED_KEYS_DIR=/erased-keys PORT=3000
EXPOSE 3000
CMD ["node", "-r", "./tools/register-paths.js", "dist/apps/api/src/main.js"]
