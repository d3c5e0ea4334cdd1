import { parseArgs } from 'node:util';
import type { AccessEnv, DiscoverySettings } from '@mcp-gateway/core';
import * as v from 'valibot';
import { parsePinsCli, PINS_HELP_TEXT, type PinsCommand } from './pins-options.ts';

/** Everything the `mcp-gateway` command is configured with, from flags and environment. */
export interface CliOptions {
  configPath?: string;
  brokerHost: string;
  brokerPort: number;
  routerAddress?: string;
  /** `--router-only`: run the router without the broker's HTTP listener. */
  routerOnly: boolean;
  publicHost?: string;
  privateHost?: string;
  checkIntervalSeconds: number;
  sessionLengthMinutes: number;
  maxRequestBodyBytes: number;
  upstreamTimeoutSeconds: number;
  /** `--request-body-timeout`: longest a client may take to send a request (headers and body). */
  requestBodyTimeoutSeconds: number;
  /** `--max-connections`: open client connections the broker accepts at once. */
  maxConnections: number;
  /** `--metrics-addr`: a listener of its own for GET /metrics (the router-only process's). */
  metricsAddress?: string;
  /** `--disable-metrics`: record no metrics, /metrics answers 404 (to measure what they cost). */
  metricsDisabled: boolean;
  /** The OTEL_* environment: tracing is exported when it names an OTLP endpoint. */
  telemetryEnv: Readonly<Record<string, string | undefined>>;
  allowedOrigins: string[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  signingKey?: string;
  cacheConnectionString?: string;
  /** OAUTH_*, TRUSTED_HEADER_PUBLIC_KEY and `--enforce-capability-filtering`: what access decisions read besides the config file. */
  accessEnv: AccessEnv;
  /** `--discovery-tools-enabled` (default true) and `--discovery-tool-threshold` (default 0): the meta-tools. */
  toolDiscovery: DiscoverySettings;
  /** `--enable-url-elicitation` (the anchor's flag): `tokenURLElicitation` servers take each user's pasted token. */
  urlElicitation: boolean;
  /** CREDENTIAL_ENCRYPTION_KEYS: the keys users' upstream credentials are sealed with, newest first. */
  credentialKeys?: string;
}

/** Result of parsing the command line: run, print help or version, or fail with the issues. */
export type CliParseResult =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'pins'; command: PinsCommand }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

/** The --help text: every flag and environment variable. */
export const HELP_TEXT = `mcp-gateway: one MCP endpoint in front of many MCP servers.

Usage: mcp-gateway [flags]
       mcp-gateway pins list|approve --server NAME [...]   (see below)

Flags:
  --mcp-gateway-config PATH          YAML config file (servers, virtualServers); watched and hot-reloaded.
                                     Without it the gateway starts with no servers.
  --mcp-broker-public-address H:P    Address of the broker's HTTP endpoint (/mcp, /status, ...). Default 0.0.0.0:8080
  --mcp-router-address H:P           Address of the Envoy ext_proc gRPC router (default 0.0.0.0:50051).
                                     The router runs only when this flag is given.
  --router-only                      Run only the router, as its own process: no broker HTTP listener.
                                     Needs --mcp-router-address, --mcp-gateway-public-host,
                                     GATEWAY_SIGNING_KEY and CACHE_CONNECTION_STRING shared with the broker.
  --mcp-gateway-public-host HOST     Public host name of the gateway (accepted as Host and Origin).
  --mcp-gateway-private-host HOST    Host[:port] the gateway (Envoy) is reached by inside the cluster;
                                     the router opens backend sessions through it (hairpin initialize).
  --mcp-check-interval SECONDS       Upstream health check and re-list interval. Default 60
  --session-length MINUTES           Lifetime of a gateway session. Default 1440 (24 h)
  --max-request-body-size BYTES      Largest accepted request body (413 above). Default 10485760 (10 MiB)
  --upstream-timeout SECONDS         Longest an upstream may stay silent during a call. Default 30
  --request-body-timeout SECONDS     Longest a client may take to send a request, headers and body (408,
                                     connection closed, above). Long GET and SSE answers are not cut. Default 30
  --max-connections N                Open client connections the broker accepts at once; more are closed at
                                     once. Default 4096
  --allowed-origins LIST             Comma-separated browser origins allowed besides loopback ones ("*": any).
  --metrics-addr H:P                 Also serve GET /metrics (Prometheus) on a listener of its own, e.g. for
                                     a --router-only process. The broker serves /metrics on its port anyway.
  --disable-metrics                  Record no metrics; /metrics answers 404.
  --discovery-tools-enabled[=BOOL]   Offer the discovery meta-tools (discover_tools, select_tools, search_tools;
                                     list_tags and filter_tools_by_tags while a server has tags) and say how to
                                     use them at initialize. Default true; =false turns them off.
  --discovery-tool-threshold N       Above N tools, a session that selected none lists only the meta-tools.
                                     Default 0 (never).
  --enforce-capability-filtering     Require the x-mcp-authorized header (see TRUSTED_HEADER_PUBLIC_KEY):
                                     without a valid one a caller sees and calls nothing.
  --enable-url-elicitation[=BOOL]    Servers with tokenURLElicitation take each user's own pasted token: a call
                                     without one is answered -32042 with a link to the /tokens page. Default false.
  --log-level LEVEL                  debug, info, warn or error. Default info
  -h, --help                         Show this help.
  --version                          Show the version.

Environment:
  GATEWAY_SIGNING_KEY                HS256 key for session ids, at least 32 bytes. Unset: a random key is
                                     generated at start-up and sessions do not survive a restart.
  CACHE_CONNECTION_STRING            Redis URL for state shared by replicas (redis://user:pass@host:port/db).
                                     Unset: state is kept in memory.
  CREDENTIAL_ENCRYPTION_KEYS         Keys (at least 32 bytes each, comma-separated, newest first) that users'
                                     upstream credentials are sealed with (AES-256-GCM). Unset: one derived from
                                     GATEWAY_SIGNING_KEY. A key dropped from the list: its users authorize again.
  OAUTH_ISSUERS                       Comma-separated trusted token issuers: every request needs a valid bearer
                                     token (401 otherwise) unless the config file's auth.oauth says otherwise.
  OAUTH_REQUIRED_SCOPES              Scopes every token must carry (403 insufficient_scope otherwise).
  OAUTH_RESOURCE_NAME                OAuth protected resource metadata: resource name. Default "MCP Server"
  OAUTH_RESOURCE                     ... resource: the URL clients reach /mcp at, and the audience tokens
                                     must carry (RFC 8707). Default "/mcp"
  OAUTH_AUTHORIZATION_SERVERS        ... comma-separated authorization server URLs. Default the issuers
  OAUTH_BEARER_METHODS_SUPPORTED     ... comma-separated. Default "header"
  OAUTH_SCOPES_SUPPORTED             ... comma-separated. Default the required scopes, else "basic"
  TRUSTED_HEADER_PUBLIC_KEY          PEM (P-256) public key that x-mcp-authorized headers are signed with.
  OTEL_EXPORTER_OTLP_ENDPOINT        OTLP collector: spans are exported when this (or ..._TRACES_ENDPOINT) is
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set. Unset: no spans, at no cost (a caller's traceparent is passed on).
  OTEL_EXPORTER_OTLP_PROTOCOL        grpc, http/protobuf (default) or http/json; an rpc:// endpoint means grpc.
  OTEL_EXPORTER_OTLP_HEADERS         Headers for the collector (key=value,...); also ..._TIMEOUT, ..._COMPRESSION
                                     (gzip), ..._CERTIFICATE, ..._CLIENT_CERTIFICATE, ..._CLIENT_KEY, ..._INSECURE.
  OTEL_SERVICE_NAME                  Default "mcp-gateway"; OTEL_RESOURCE_ATTRIBUTES adds attributes.
  OTEL_TRACES_SAMPLER                parentbased_always_on (default), always_on, always_off, traceidratio,
                                     parentbased_traceidratio, parentbased_always_off; OTEL_TRACES_SAMPLER_ARG.
  OTEL_SDK_DISABLED                  true: no spans whatever else is set.

${PINS_HELP_TEXT}`;

const address = (flag: string) =>
  v.pipe(v.string(), v.regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, `${flag} must be HOST:PORT, e.g. 0.0.0.0:8080`));
const positiveInt = (flag: string) =>
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, `${flag} must be a positive whole number`),
    v.transform(Number),
    v.minValue(1, `${flag} must be at least 1`),
  );

const CliSchema = v.object({
  'mcp-gateway-config': v.optional(v.pipe(v.string(), v.minLength(1, '--mcp-gateway-config must name a file'))),
  'mcp-broker-public-address': v.optional(address('--mcp-broker-public-address'), '0.0.0.0:8080'),
  'mcp-router-address': v.optional(address('--mcp-router-address')),
  'mcp-gateway-public-host': v.optional(v.string()),
  'mcp-gateway-private-host': v.optional(v.string()),
  'mcp-check-interval': v.optional(positiveInt('--mcp-check-interval'), '60'),
  'session-length': v.optional(positiveInt('--session-length'), '1440'),
  'max-request-body-size': v.optional(positiveInt('--max-request-body-size'), String(10 * 1024 * 1024)),
  'upstream-timeout': v.optional(positiveInt('--upstream-timeout'), '30'),
  'request-body-timeout': v.optional(positiveInt('--request-body-timeout'), '30'),
  'max-connections': v.optional(positiveInt('--max-connections'), '4096'),
  'metrics-addr': v.optional(address('--metrics-addr')),
  'discovery-tool-threshold': v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,9}$/, '--discovery-tool-threshold must be a whole number (0: never)'),
      v.transform(Number),
    ),
    '0',
  ),
  'allowed-origins': v.optional(v.string(), ''),
  'log-level': v.optional(
    v.picklist(['debug', 'info', 'warn', 'error'], '--log-level must be debug, info, warn or error'),
    'info',
  ),
});

/**
 * Parses flags (`--flag value` or `--flag=value`) and environment into CliOptions, validated
 * with one valibot schema; every problem is reported, each naming the flag.
 */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined>): CliParseResult {
  if (argv[0] === 'pins') return parsePinsCli(argv.slice(1), env);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: withGoBooleans(argv, ['discovery-tools-enabled', 'enable-url-elicitation']),
      strict: true,
      allowPositionals: false,
      allowNegative: true,
      options: {
        ...Object.fromEntries(Object.keys(CliSchema.entries).map((name) => [name, { type: 'string' as const }])),
        'router-only': { type: 'boolean' },
        'disable-metrics': { type: 'boolean' },
        'enforce-capability-filtering': { type: 'boolean' },
        'discovery-tools-enabled': { type: 'boolean' },
        'enable-url-elicitation': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (error) {
    return { kind: 'error', message: `${(error as Error).message}\nRun mcp-gateway --help for the flags.` };
  }
  if (values['help'] === true) return { kind: 'help' };
  if (values['version'] === true) return { kind: 'version' };
  const {
    help: _help,
    version: _version,
    'router-only': routerOnly,
    'disable-metrics': metricsDisabled,
    'enforce-capability-filtering': enforceCapabilityFiltering,
    'discovery-tools-enabled': discoveryToolsEnabled,
    'enable-url-elicitation': urlElicitation,
    ...flags
  } = values;
  if (routerOnly === true && flags['mcp-broker-public-address'] !== undefined) {
    return {
      kind: 'error',
      message: '--router-only runs no broker: drop --mcp-broker-public-address, or drop --router-only to run both',
    };
  }
  const parsed = v.safeParse(CliSchema, flags);
  if (!parsed.success) {
    return { kind: 'error', message: parsed.issues.map((issue) => issue.message).join('\n') };
  }
  const o = parsed.output;
  const [brokerHost, brokerPort] = splitAddress(o['mcp-broker-public-address']);
  const options: CliOptions = {
    brokerHost,
    brokerPort,
    checkIntervalSeconds: o['mcp-check-interval'],
    sessionLengthMinutes: o['session-length'],
    maxRequestBodyBytes: o['max-request-body-size'],
    upstreamTimeoutSeconds: o['upstream-timeout'],
    requestBodyTimeoutSeconds: o['request-body-timeout'],
    maxConnections: o['max-connections'],
    allowedOrigins: o['allowed-origins']
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    logLevel: o['log-level'],
    routerOnly: routerOnly === true,
    metricsDisabled: metricsDisabled === true,
    telemetryEnv: Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('OTEL_'))),
    accessEnv: {
      OAUTH_ISSUERS: env['OAUTH_ISSUERS'],
      OAUTH_REQUIRED_SCOPES: env['OAUTH_REQUIRED_SCOPES'],
      OAUTH_RESOURCE_NAME: env['OAUTH_RESOURCE_NAME'],
      OAUTH_RESOURCE: env['OAUTH_RESOURCE'],
      OAUTH_AUTHORIZATION_SERVERS: env['OAUTH_AUTHORIZATION_SERVERS'],
      OAUTH_BEARER_METHODS_SUPPORTED: env['OAUTH_BEARER_METHODS_SUPPORTED'],
      OAUTH_SCOPES_SUPPORTED: env['OAUTH_SCOPES_SUPPORTED'],
      TRUSTED_HEADER_PUBLIC_KEY: env['TRUSTED_HEADER_PUBLIC_KEY'],
      enforceCapabilityFiltering: enforceCapabilityFiltering === true,
    },
    toolDiscovery: { enabled: discoveryToolsEnabled !== false, threshold: o['discovery-tool-threshold'] },
    urlElicitation: urlElicitation === true,
  };
  if (o['mcp-gateway-config'] !== undefined) options.configPath = o['mcp-gateway-config'];
  if (o['mcp-router-address'] !== undefined) options.routerAddress = o['mcp-router-address'];
  if (o['metrics-addr'] !== undefined) options.metricsAddress = o['metrics-addr'];
  if (o['mcp-gateway-public-host']) options.publicHost = o['mcp-gateway-public-host'];
  if (o['mcp-gateway-private-host']) options.privateHost = o['mcp-gateway-private-host'];
  if (env['GATEWAY_SIGNING_KEY']) options.signingKey = env['GATEWAY_SIGNING_KEY'];
  if (env['CACHE_CONNECTION_STRING']) options.cacheConnectionString = env['CACHE_CONNECTION_STRING'];
  if (env['CREDENTIAL_ENCRYPTION_KEYS']) options.credentialKeys = env['CREDENTIAL_ENCRYPTION_KEYS'];
  return { kind: 'run', options };
}

/** Go's boolean spellings (the anchor's flags are Go flags): `--flag=false` and friends. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * The arguments with `--flag=BOOL` of the named boolean flags rewritten as `--flag` or
 * `--no-flag`, which parseArgs reads; a value that is no boolean is left for it to refuse.
 */
function withGoBooleans(argv: readonly string[], flags: readonly string[]): string[] {
  return argv.map((arg) => {
    for (const flag of flags) {
      if (!arg.startsWith(`--${flag}=`)) continue;
      const value = arg.slice(flag.length + 3);
      if (GO_TRUE.has(value)) return `--${flag}`;
      if (GO_FALSE.has(value)) return `--no-${flag}`;
    }
    return arg;
  });
}

function splitAddress(value: string): [string, number] {
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return [host, Number(value.slice(colon + 1))];
}
