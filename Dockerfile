# syntax=docker/dockerfile:1
# The Toolroom image: Node-RED 5 on Node.js 24 with Toolroom, Dashboard 2 and the backup tools.
# Multi-arch from the same file (the base images are multi-arch):
#   docker buildx build --platform linux/arm64,linux/amd64 -t toolroom:0.1.0 .
# Debian trixie: its postgresql-client is 17, whose pg_dump reads the stack's PostgreSQL 17 (and 16).
# NOT built on the machines this was written on (no Docker engine or registry there): see README.

ARG NODE_IMAGE=node:24-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY app app
COPY core core
COPY http http
COPY lib lib
COPY migrations migrations
COPY nodes nodes
COPY sim sim
COPY scripts scripts
# (test/ and bench/ are not copied: tsc compiles what is there)
RUN npx tsc -p tsconfig.json && bash scripts/copy-assets.sh

FROM ${NODE_IMAGE}
# postgresql-client: pg_dump / pg_restore / psql for `toolroom backup` and `restore`; tini reaps and
# forwards signals so a `docker stop` ends Node-RED cleanly (flows stopped, database closed).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Runtime dependencies, plus the runtime that hosts the package (devDependencies for a palette install).
# With NODE_ENV=production npm would skip them as dev dependencies even when named: the image's
# package.json drops its devDependencies first.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm pkg delete devDependencies \
 && npm install --no-save --no-audit --no-fund node-red@5.0.7 @flowfuse/node-red-dashboard@1.31 \
 && npm cache clean --force
COPY --from=build /src/dist dist
COPY flows flows
COPY dashboards dashboards
COPY examples examples
COPY deploy/entrypoint.sh /usr/local/bin/toolroom-entrypoint
RUN chmod 755 /usr/local/bin/toolroom-entrypoint /app/dist/scripts/toolroom.js \
 && ln -s /app/dist/scripts/toolroom.js /usr/local/bin/toolroom \
 && mkdir -p /data /backups && chown node:node /data /backups
USER node
ENV TOOLROOM_DATA_DIR=/data TOOLROOM_HOST=0.0.0.0 PORT=1880
VOLUME ["/data"]
EXPOSE 1880
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 CMD ["toolroom-entrypoint", "healthcheck"]
ENTRYPOINT ["tini", "--", "toolroom-entrypoint"]
CMD ["start"]
