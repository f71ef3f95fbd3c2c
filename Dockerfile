# The official Node 24 LTS image, Debian bookworm slim, pinned by digest so every build starts from
# the same bytes (this digest is the multi-platform index of node:24.21.0-bookworm-slim, the release
# package.json pins for development). To move it: `docker buildx imagetools inspect
# node:24-bookworm-slim`, then this digest and the `node` devDependency together. A build can name
# another base with `--build-arg NODE_IMAGE=...`: the image test does, for a local stand-in.
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6

# Build stage: compile TypeScript to dist/ with the full dependency set. No install script is
# needed to compile, and skipping them keeps the `node` devDependency from fetching a second Node.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/build-demo.ts ./scripts/
RUN npm run build

# Runtime stage: production dependencies and the compiled gateway only; no key is baked in.
FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="fal-gateway" \
      org.opencontainers.image.description="Calls fal.ai models for browser apps without handing them the fal key" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# npm's cache goes to a scratch folder removed in the same step, so it never reaches a layer; so
# does the compile cache npm turns on under Node 22 and later.
RUN npm ci --omit=dev --no-audit --no-fund --cache /tmp/npm-cache && rm -rf /tmp/npm-cache /tmp/node-compile-cache
# The compiled gateway and the browser demo's prebuilt bundle (dist/demo/bundle, served when
# DEMO_ENABLED=true); no sources, no emulator, no esbuild.
COPY --from=build /app/dist ./dist
# The shipped model catalog (MODELS_DIR defaults to it); mount another over /app/models or set MODELS_DIR.
COPY models ./models
# The base image's `node` user, by number: Kubernetes' runAsNonRoot can only verify a numeric USER.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; close-with-grace drains, then it exits 0.
CMD ["node", "dist/server.js"]
