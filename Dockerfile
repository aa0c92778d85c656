# syntax=docker/dockerfile:1
# One image for both services: `npm run registry` (port 5000) or `npm run auth` (5001).
# The services run as JavaScript compiled by tsc (dist/, built by `npm ci`'s prepare
# script in the build stage, which also typechecks the tree); the runtime stage copies dist/.

# Production dependencies. The full bookworm image has python3, make and g++ for
# better-sqlite3 should its prebuilt binary be unavailable; the result runs on the slim
# image, which has the same glibc.
FROM node:20-bookworm AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# No sources here, so no prepare (build); better-sqlite3 still runs its own install script.
RUN npm ci --omit=dev --ignore-scripts && npm rebuild better-sqlite3 && npm cache clean --force

# Typecheck with the dev dependencies.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations
COPY test ./test
# npm ci runs `prepare`: tsc compiles services, shared and migrations to dist/.
RUN npm ci
RUN npx tsc --noEmit

FROM node:20-bookworm-slim AS runtime
# npm runs scripts through `sh -c`; dash stays the parent and dies on the SIGTERM npm
# forwards, orphaning the service before it can shut down gracefully. bash execs a lone
# command, so the signal reaches node, the service itself.
ENV npm_config_script_shell=/bin/bash \
    NODE_ENV=production \
    DOCKYARD_DATA_DIR=/data \
    REGISTRY_HTTP_ADDR=0.0.0.0:5000 \
    AUTH_HTTP_ADDR=0.0.0.0:5001
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
# Copied from the build stage so the image cannot exist without a passing typecheck.
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Owner-only, as the services create it themselves (they warn at start about a looser one).
RUN mkdir -p -m 0700 /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 5000 5001
# Probes the registry by default; set DOCKYARD_HEALTHCHECK_URL for the auth service.
# TLS certificates are not verified: the probe asks "is it up", not "is it trusted".
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const u=new URL(process.env.DOCKYARD_HEALTHCHECK_URL||'http://127.0.0.1:5000/healthz');require(u.protocol==='https:'?'node:https':'node:http').get(u,{rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
CMD ["npm", "run", "registry"]
