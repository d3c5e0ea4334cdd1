import { CREDENTIAL_KEYS_ENV, TRUSTED_KEY_ENV } from '../names.ts';

/** One environment variable added to every gateway container (`--gateway-env NAME=VALUE`). */
export interface GatewayEnvVar {
  readonly name: string;
  readonly value: string;
}

/** parseGatewayEnv's outcome: the variables, or the first entry that cannot be used and why. */
export type GatewayEnvResult =
  { readonly ok: true; readonly env: readonly GatewayEnvVar[] } | { readonly ok: false; readonly message: string };

/** Variables the controller sets itself from the extension; a flag may not replace them. */
const MANAGED_ENV: ReadonlySet<string> = new Set([
  'GATEWAY_SIGNING_KEY',
  'CACHE_CONNECTION_STRING',
  TRUSTED_KEY_ENV,
  CREDENTIAL_KEYS_ENV,
  'OAUTH_RESOURCE_NAME',
  'OAUTH_RESOURCE',
  'OAUTH_AUTHORIZATION_SERVERS',
  'OAUTH_BEARER_METHODS_SUPPORTED',
  'OAUTH_SCOPES_SUPPORTED',
]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses the `--gateway-env NAME=VALUE` entries (e.g. the chart's `OTEL_EXPORTER_OTLP_ENDPOINT`):
 * the value is everything after the first `=` and may be empty; a name given twice keeps its last
 * value. A name the controller sets from the extension (the signing key, Redis, OAuth, the
 * trusted-header key, the credential keys) is refused, so that a flag cannot shadow what the extension says.
 */
export function parseGatewayEnv(entries: readonly string[]): GatewayEnvResult {
  const env = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.indexOf('=');
    const name = at < 0 ? entry : entry.slice(0, at);
    if (at < 0 || !NAME.test(name)) {
      return { ok: false, message: `--gateway-env must be NAME=VALUE with a variable name (got "${entry}")` };
    }
    if (MANAGED_ENV.has(name)) {
      return { ok: false, message: `--gateway-env ${name}: the controller sets it from the MCPGatewayExtension` };
    }
    env.set(name, entry.slice(at + 1));
  }
  return { ok: true, env: [...env].map(([name, value]) => ({ name, value })) };
}
