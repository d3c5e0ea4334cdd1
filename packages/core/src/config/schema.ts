import * as v from 'valibot';
import {
  RawAuditSchema,
  RawAuthSchema,
  RawPolicySchema,
  type AuditConfig,
  type AuthConfig,
  type PolicyConfig,
} from './access-schema.ts';

/** True for an absolute `http:` or `https:` URL with a host. */
function isHttpUrl(input: string): boolean {
  try {
    const url = new URL(input);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const PREFIX_MESSAGE = 'may hold only letters, digits, "_", "." and "-"';
const PEM_MESSAGE = 'must hold PEM certificates (-----BEGIN CERTIFICATE-----)';

const text = () => v.string('must be a string');
const stringList = () => v.array(v.string('must be a list of strings'), 'must be a list of strings');
const prefix = () => v.nullish(v.pipe(text(), v.regex(/^[A-Za-z0-9_.-]*$/, PREFIX_MESSAGE)));
const pem = () =>
  v.nullish(
    v.pipe(
      text(),
      v.check((s) => s.trim() === '' || s.includes('-----BEGIN CERTIFICATE-----'), PEM_MESSAGE),
    ),
  );
/** True for a plain object, the only thing a YAML mapping loads as (not a list, not `!!binary`). */
export function isPlainMapping(input: unknown): input is Record<string, unknown> {
  if (typeof input !== 'object' || input === null) return false;
  const proto: unknown = Object.getPrototypeOf(input);
  return proto === Object.prototype || proto === null;
}

/** Mappings only: valibot's object schemas would also take a list or a byte array. */
const mapping = <T extends v.GenericSchema>(schema: T, message: string) =>
  v.pipe(v.custom<unknown>(isPlainMapping, message), schema);
/** A field of the anchor's file that this gateway accepts but does not use yet. */
const reserved = () => v.optional(v.unknown());

/**
 * One `servers[]` entry as written in the file, before aliases and defaults are resolved.
 * Optional fields also accept YAML null (`prefix:` with no value), meaning "not given".
 */
export const RawServerSchema = v.looseObject(
  {
    name: v.pipe(text(), v.trim(), v.minLength(1, 'must not be empty')),
    url: v.pipe(text(), v.trim(), v.check(isHttpUrl, 'must be an absolute http(s) URL')),
    hostname: v.nullish(
      v.pipe(
        text(),
        v.trim(),
        v.check((s) => !/[\s/]/.test(s), 'must be a host name with an optional :port, without scheme or path'),
      ),
    ),
    prefix: prefix(),
    toolPrefix: prefix(),
    state: v.nullish(v.picklist(['Enabled', 'Disabled', ''], 'must be Enabled or Disabled')),
    enabled: v.nullish(v.boolean('must be true or false')),
    credential: v.nullish(text()),
    caCert: pem(),
    userSpecificList: v.nullish(v.boolean('must be true or false')),
    category: v.nullish(stringList()),
    hint: v.nullish(text()),
    tags: v.nullish(stringList()),
    tokenURLElicitation: reserved(),
    guardrailsConfigIDs: reserved(),
  },
  'must be a mapping',
);

/** One `virtualServers[]` entry as written in the file. */
export const RawVirtualServerSchema = v.looseObject(
  {
    name: v.pipe(text(), v.trim(), v.minLength(1, 'must not be empty')),
    description: v.nullish(text()),
    tools: v.nullish(stringList()),
    prompts: v.nullish(stringList()),
  },
  'must be a mapping',
);

/**
 * The gateway config file (YAML), field-compatible with the anchor's `config.yaml`
 * (Secret `mcp-gateway-config`), before aliases are resolved. Accepted aliases: `toolPrefix`
 * for `prefix`, and `enabled: true|false` (seed documents) for `state: Enabled|Disabled`.
 * Unknown keys pass through so that `parseConfig` can warn about them.
 * @see docs/configuration.md
 */
export const RawConfigSchema = v.looseObject(
  {
    servers: v.nullish(v.array(mapping(RawServerSchema, 'must be a mapping'), 'must be a list')),
    virtualServers: v.nullish(v.array(mapping(RawVirtualServerSchema, 'must be a mapping'), 'must be a list')),
    gatewayCACertPEM: pem(),
    globalGuardrails: reserved(),
    auth: v.nullish(mapping(RawAuthSchema, 'must be a mapping')),
    policy: v.nullish(mapping(RawPolicySchema, 'must be a mapping')),
    audit: v.nullish(mapping(RawAuditSchema, 'must be a mapping')),
  },
  'must be a mapping with a servers list',
);

/** One upstream MCP server, aliases resolved. */
export interface ServerConfig {
  /** Unique key: `<namespace>/<name>` when written by the controller. */
  readonly name: string;
  /** URL the gateway connects to for its own requests and, in standalone, for forwarded calls. */
  readonly url: string;
  /** Host Envoy routes this server's calls by (`:authority`); defaults to the URL's host. */
  readonly hostname: string;
  /** Prepended verbatim to tool and prompt names; "" for none. */
  readonly prefix: string;
  readonly enabled: boolean;
  /** Authorization header value of the gateway's own requests (never of clients' calls). */
  readonly credential?: string;
  /** Extra PEM trust for this server (Node hosts only). */
  readonly caCert?: string;
  readonly userSpecificList: boolean;
  readonly category: readonly string[];
  readonly hint?: string;
  readonly tags: readonly string[];
}

/** A named view that limits which served tools (and prompts) are listed. */
export interface VirtualServerConfig {
  readonly name: string;
  readonly tools: readonly string[];
  /** Undefined or empty: all prompts. */
  readonly prompts?: readonly string[];
}

/** The validated gateway configuration. */
export interface GatewayConfig {
  readonly servers: readonly ServerConfig[];
  readonly virtualServers: readonly VirtualServerConfig[];
  readonly gatewayCACertPEM?: string;
  /** Who the caller is: token verification and trusted headers; absent, nothing is verified. */
  readonly auth?: AuthConfig;
  /** What a caller may see and call; absent, everything is allowed. */
  readonly policy?: PolicyConfig;
  /** The record of each decision on a call or read; absent, none is written. */
  readonly audit?: AuditConfig;
}

/** An empty configuration (no servers). */
export const EMPTY_CONFIG: GatewayConfig = { servers: [], virtualServers: [] };
