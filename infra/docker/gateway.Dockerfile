# syntax=docker/dockerfile:1
# The gateway image: the mcp-gateway command (broker, and the ext_proc router when
# --mcp-router-address is given) from its esbuild bundle. Nothing is installed at run time.
#
#   npm ci && node scripts/build.mjs
#   docker build -f infra/docker/gateway.Dockerfile -t ghcr.io/mcp-gateway/mcp-gateway:0.1.0 .
FROM node:24-slim

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="mcp-gateway" \
      org.opencontainers.image.description="MCP gateway: one MCP endpoint in front of many MCP servers (broker and Envoy ext_proc router)" \
      org.opencontainers.image.version="${VERSION}"

ENV NODE_ENV=production
WORKDIR /app

# The bundle is self-contained (node:* imports only); root owns it and it is read-only.
COPY --chown=0:0 --chmod=0444 packages/gateway/dist/cli.js packages/gateway/dist/cli.js.map /app/

# uid/gid 1000 is the image's "node" user; numeric so that runAsNonRoot can verify it.
USER 1000:1000

# 8080: broker HTTP (/mcp, /status, /healthz, /readyz); 50051: ext_proc gRPC router.
EXPOSE 8080 50051

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["node", "--enable-source-maps", "/app/cli.js"]
