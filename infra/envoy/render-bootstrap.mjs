#!/usr/bin/env node
// Renders the static Envoy bootstrap that puts Envoy in front of the gateway (issue 5):
// a listener, the ext_proc filter, one virtual host per upstream hostname, a default
// virtual host to the broker. infra/envoy/envoy.yaml is this script's output for
// DEFAULT_BOOTSTRAP_OPTIONS; tests render their own with free ports.
//
//   node infra/envoy/render-bootstrap.mjs [--listener-port N] [--admin-port N]
//     [--broker HOST:PORT] [--ext-proc HOST:PORT | --no-ext-proc]
//     [--upstream NAME,HOSTNAME,HOST:PORT,/PATH]...        > envoy.yaml
import { isIPv4, isIPv6 } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The addresses infra/envoy/envoy.yaml is rendered with (the local layout). */
export const DEFAULT_BOOTSTRAP_OPTIONS = Object.freeze({
  listenerPort: 10000,
  adminPort: 9901,
  brokerAddress: '127.0.0.1:8080',
  extProcAddress: '127.0.0.1:50051',
  upstreams: Object.freeze([
    Object.freeze({ name: 'server1', hostname: 'server1.mcp.local', address: '127.0.0.1:9091', path: '/mcp' }),
    Object.freeze({ name: 'server2', hostname: 'server2.mcp.local', address: '127.0.0.1:9092', path: '/mcp' }),
  ]),
});

/**
 * The listener's buffer limit, which bounds the request body the ext_proc filter buffers (a larger
 * body gets 413 from Envoy): 5 MiB, the anchor router's request body limit, where Envoy's own
 * default (1 MiB) would refuse tool arguments the anchor accepts.
 */
export const DEFAULT_BUFFER_LIMIT_BYTES = 5 * 1024 * 1024;

const NAME = /^[A-Za-z0-9_.-]+$/;
const HOSTNAME = /^[A-Za-z0-9.-]+$/;
// Values are written into the YAML single-quoted, so none of these may contain a quote.
const PATH = /^\/[A-Za-z0-9._~!$&()*+,;=:@%/-]*$/;

/**
 * The bootstrap YAML for `options` (see render-bootstrap.d.mts for the option types).
 * Routes have `timeout: 0s` so that SSE responses are not cut at Envoy's 15 s default;
 * `extProc: false` leaves out the ext_proc filter and its cluster (a pass-through).
 * @throws Error naming the option when an address, name, hostname or path is malformed.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_proc/v3/ext_proc.proto
 */
export function renderEnvoyBootstrap(options) {
  const extProc = options.extProc ?? true;
  const upstreams = options.upstreams ?? [];
  assertPort('listenerPort', options.listenerPort);
  assertPort('adminPort', options.adminPort);
  const broker = parseAddress('brokerAddress', options.brokerAddress);
  const processor = extProc ? parseAddress('extProcAddress', options.extProcAddress) : undefined;
  const seen = new Set();
  for (const [index, upstream] of upstreams.entries()) {
    const where = `upstreams[${index}]`;
    if (!NAME.test(upstream.name ?? '')) throw new Error(`${where}.name must match ${NAME}`);
    if (!HOSTNAME.test(upstream.hostname ?? '')) throw new Error(`${where}.hostname must be a bare host name`);
    if (!PATH.test(upstream.path ?? '')) throw new Error(`${where}.path must be a URL path such as /mcp`);
    for (const key of [`name:${upstream.name}`, `host:${upstream.hostname.toLowerCase()}`]) {
      if (seen.has(key)) throw new Error(`${where}: duplicate ${key.replace(':', ' ')}`);
      seen.add(key);
    }
    parseAddress(`${where}.address`, upstream.address);
  }

  const clusters = [
    cluster('mcp_broker', broker),
    ...upstreams.map((upstream) => cluster(`upstream_${upstream.name}`, parseAddress('', upstream.address))),
    ...(processor ? [cluster('mcp_ext_proc', processor, { http2: true })] : []),
  ];
  return `# Rendered by infra/envoy/render-bootstrap.mjs; edit the script, not this file.
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${options.adminPort} } }
static_resources:
  listeners:
    - name: mcp_listener
      address: { socket_address: { address: 127.0.0.1, port_value: ${options.listenerPort} } }
      # Bounds the request body the ext_proc filter buffers; larger bodies get 413 from Envoy.
      per_connection_buffer_limit_bytes: ${options.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT_BYTES}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                '@type': type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: mcp
                codec_type: AUTO
                access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      '@type': type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                route_config:
                  name: mcp_routes
                  virtual_hosts:
${upstreams.map(upstreamVirtualHost).join('')}                    - name: mcp_broker
                      domains: ['*']
                      routes:
                        - match: { prefix: / }
                          route: { cluster: mcp_broker, timeout: 0s }
                http_filters:
${processor ? EXT_PROC_FILTER : ''}                  - name: envoy.filters.http.router
                    typed_config:
                      '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
${clusters.join('')}`;
}

// Settings of the anchor's EnvoyFilter: buffered request body (routing needs the JSON-RPC
// method and tool name), fail closed, mode override and routing mutations allowed; the
// routing facts the processor publishes (namespace mcp-gateway) reach later filters and logs.
const EXT_PROC_FILTER = `                  - name: envoy.filters.http.ext_proc
                    typed_config:
                      '@type': type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
                      grpc_service: { envoy_grpc: { cluster_name: mcp_ext_proc } }
                      failure_mode_allow: false
                      allow_mode_override: true
                      mutation_rules: { allow_all_routing: true }
                      message_timeout: 10s
                      # Envoy keeps the processor's dynamic metadata only for the namespaces listed.
                      metadata_options: { receiving_namespaces: { untyped: ['mcp-gateway'] } }
                      processing_mode:
                        request_header_mode: SEND
                        response_header_mode: SEND
                        request_body_mode: BUFFERED
                        response_body_mode: NONE
                        request_trailer_mode: SKIP
                        response_trailer_mode: SKIP
`;

function upstreamVirtualHost(upstream) {
  const host = upstream.hostname.toLowerCase();
  return `                    - name: upstream_${upstream.name}
                      domains: ['${host}', '${host}:*']
                      routes:
                        - match: { prefix: '${upstream.path}' }
                          route: { cluster: upstream_${upstream.name}, timeout: 0s }
`;
}

function cluster(name, { host, port }, { http2 = false } = {}) {
  // IP literals need no resolver; a host name is resolved (and re-resolved) by Envoy.
  const type = isIPv4(host) || isIPv6(host) ? 'STATIC' : 'STRICT_DNS';
  const protocol = http2
    ? `      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          '@type': type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http2_protocol_options: {} }
`
    : '';
  return `    - name: ${name}
      type: ${type}
      connect_timeout: 1s
${protocol}      load_assignment:
        cluster_name: ${name}
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: '${host}', port_value: ${port} } } }
`;
}

function assertPort(option, port) {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`${option} must be a port (1-65535)`);
}

function parseAddress(option, address) {
  const match = /^\[?([A-Za-z0-9.:-]+?)\]?:(\d+)$/.exec(address ?? '');
  const port = Number(match?.[2]);
  if (match === null || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`${option} must be HOST:PORT, got ${JSON.stringify(address)}`);
  }
  return { host: match[1], port };
}

/** `--upstream NAME,HOSTNAME,HOST:PORT,/PATH` → an upstream option. */
function parseUpstreamFlag(value) {
  const [name, hostname, address, path, ...rest] = value.split(',');
  if (path === undefined || rest.length > 0) throw new Error(`--upstream takes NAME,HOSTNAME,HOST:PORT,/PATH`);
  return { name, hostname, address, path };
}

function main() {
  const { values } = parseArgs({
    options: {
      'listener-port': { type: 'string' },
      'admin-port': { type: 'string' },
      broker: { type: 'string' },
      'ext-proc': { type: 'string' },
      'no-ext-proc': { type: 'boolean' },
      upstream: { type: 'string', multiple: true },
    },
  });
  const defaults = DEFAULT_BOOTSTRAP_OPTIONS;
  process.stdout.write(
    renderEnvoyBootstrap({
      listenerPort: Number(values['listener-port'] ?? defaults.listenerPort),
      adminPort: Number(values['admin-port'] ?? defaults.adminPort),
      brokerAddress: values.broker ?? defaults.brokerAddress,
      extProcAddress: values['ext-proc'] ?? defaults.extProcAddress,
      extProc: !values['no-ext-proc'],
      upstreams: values.upstream ? values.upstream.map(parseUpstreamFlag) : defaults.upstreams,
    }),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`render-bootstrap: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
