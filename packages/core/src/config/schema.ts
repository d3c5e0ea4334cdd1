import * as v from 'valibot';
import {
  RawAuditSchema,
  RawAuthSchema,
  RawPolicySchema,
  type AuditConfig,
  type AuthConfig,
  type PolicyConfig,
} from './access-schema.ts';
import {
  RawCredentialsSchema,
  RawTokenExchangeSchema,
  RawTokenUrlElicitationSchema,
  RawUpstreamOAuthSchema,
  type CredentialsConfig,
  type UserCredentialMethod,
} from './credentials-schema.ts';
import { isHttpUrl, mapping, text } from './schema-parts.ts';

const PREFIX_MESSAGE = 'may hold only letters, digits, "_", "." and "-"';
const PEM_MESSAGE = 'must hold PEM certificates (-----BEGIN CERTIFICATE-----)';

const stringList = () => v.array(v.string('must be a list of strings'), 'must be a list of strings');
const prefix = () => v.nullish(v.pipe(text(), v.regex(/^[A-Za-z0-9_.-]*$/, PREFIX_MESSAGE)));
const pem = () =>
  v.nullish(
    v.pipe(
      text(),
      v.check((s) => s.trim() === '' || s.includes('-----BEGIN CERTIFICATE-----'), PEM_MESSAGE),
    ),
  );
/** A whole number from 1 to `max`. */
const wholeNumber = (max: number) =>
  v.pipe(
    v.number('must be a number'),
    v.integer('must be a whole number'),
    v.minValue(1, 'must be at least 1'),
    v.maxValue(max, `must be at most ${max}`),
  );
/** A field of the anchor's file that this gateway accepts but does not use yet. */
const reserved = () => v.optional(v.unknown());

/** One `quotas[]` entry of a server, as written in the file. */
export const RawQuotaSchema = v.strictObject(
  {
    tools: v.nullish(stringList()),
    requests: v.nullish(wholeNumber(1_000_000)),
    windowSeconds: v.nullish(wholeNumber(86_400)),
    concurrentCalls: v.nullish(wholeNumber(1_000_000)),
  },
  'must be a mapping of tools, requests, windowSeconds and concurrentCalls only',
);

/** A served tool name: what MCP allows in a tool name. */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** One `toolOverrides[]` entry of a server, as written in the file. */
export const RawToolOverrideSchema = v.strictObject(
  {
    tool: v.pipe(text(), v.minLength(1, 'must not be empty'), v.maxLength(128, 'must be at most 128 characters')),
    name: v.nullish(v.pipe(text(), v.regex(TOOL_NAME, 'must be 1 to 128 letters, digits, "_", "." or "-"'))),
    description: v.nullish(v.pipe(text(), v.maxLength(4096, 'must be at most 4096 characters'))),
    descriptionSuffix: v.nullish(v.pipe(text(), v.maxLength(4096, 'must be at most 4096 characters'))),
    hidden: v.nullish(v.boolean('must be true or false')),
    fixedArguments: v.nullish(
      mapping(v.record(v.string(), v.unknown()), 'must be a mapping of parameter names to values'),
    ),
    annotations: v.nullish(mapping(v.record(v.string(), v.unknown()), 'must be a mapping')),
    confirm: v.nullish(v.boolean('must be true or false')),
  },
  'must be a mapping of tool, name, description, descriptionSuffix, hidden, fixedArguments, annotations and confirm only',
);

/** A tool definition digest as `pinning.approve` lists it: `sha256:` and 64 lowercase hex digits. */
const PIN_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A server's `pinning` section, as written in the file. */
export const RawPinningSchema = v.strictObject(
  {
    onChange: v.nullish(v.picklist(['serveApproved', 'withhold'], 'must be serveApproved or withhold')),
    approve: v.nullish(
      v.pipe(
        v.array(v.pipe(text(), v.regex(PIN_DIGEST, 'must be sha256: and 64 lowercase hex digits')), 'must be a list'),
        v.maxLength(2000, 'must hold at most 2000 digests'),
      ),
    ),
    pinned: v.nullish(
      v.pipe(
        mapping(
          v.record(
            v.pipe(text(), v.minLength(1, 'must name a tool')),
            v.pipe(text(), v.regex(PIN_DIGEST, 'must be sha256: and 64 lowercase hex digits')),
          ),
          'must be a mapping of tool names to digests',
        ),
        v.check((pinned) => Object.keys(pinned).length <= 2000, 'must hold at most 2000 tools'),
      ),
    ),
  },
  'must be a mapping of onChange, approve and pinned only',
);

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
    toolOverrides: v.nullish(
      v.pipe(
        v.array(mapping(RawToolOverrideSchema, 'must be a mapping'), 'must be a list'),
        v.maxLength(200, 'must hold at most 200 overrides'),
      ),
    ),
    quotas: v.nullish(
      v.pipe(
        v.array(mapping(RawQuotaSchema, 'must be a mapping'), 'must be a list'),
        v.maxLength(100, 'must hold at most 100 quotas'),
      ),
    ),
    confirmDestructive: v.nullish(v.boolean('must be true or false')),
    pinning: v.nullish(mapping(RawPinningSchema, 'must be a mapping')),
    tokenURLElicitation: RawTokenUrlElicitationSchema,
    tokenExchange: RawTokenExchangeSchema,
    upstreamOAuth: RawUpstreamOAuthSchema,
    guardrailsConfigIDs: reserved(),
  },
  'must be a mapping',
);

/** The top-level `confirmation` section as written in the file. */
export const RawConfirmationSchema = v.strictObject(
  {
    timeoutSeconds: v.nullish(
      v.pipe(
        v.number('must be a number'),
        v.integer('must be a whole number'),
        v.minValue(5, 'must be at least 5'),
        v.maxValue(3600, 'must be at most 3600'),
      ),
    ),
  },
  'must be a mapping of timeoutSeconds only',
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
    confirmation: v.nullish(mapping(RawConfirmationSchema, 'must be a mapping')),
    credentials: v.nullish(mapping(RawCredentialsSchema, 'must be a mapping')),
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
  /** How its tools are served: renamed, described, annotated, hidden, with arguments filled in. */
  readonly toolOverrides?: readonly ToolOverride[];
  /** Limits on each caller's calls of its tools (docs/configuration.md#quotas). */
  readonly quotas?: readonly QuotaConfig[];
  /** Calls of its tools served with `destructiveHint: true` wait for the user's confirmation (docs/configuration.md#confirmation). */
  readonly confirmDestructive?: boolean;
  /** Present: its tool definitions are pinned (docs/configuration.md#pinned-tool-definitions). */
  readonly pinning?: PinningConfig;
  /** How each user gets their own credential for this server (docs/credentials.md); absent: the client's Authorization goes upstream. */
  readonly userCredential?: UserCredentialMethod;
}

/** What a pinned server serves when a tool's definition changed upstream. */
export type PinChangePolicy = 'serveApproved' | 'withhold';

/** A server's pinning: what to do with a changed definition, and the operator's approvals. */
export interface PinningConfig {
  /** `serveApproved` (default): the approved definition is served; `withhold`: the tool is not served. */
  readonly onChange: PinChangePolicy;
  /** Digests (`sha256:<hex>`) of quarantined definitions the operator approved. */
  readonly approve: readonly string[];
  /**
   * Approved digests by upstream tool name, from an earlier run (in Kubernetes, the registration's
   * `status.toolPins.digests`). Used only while the store holds no record of the server, instead of
   * trust on first use; empty: trust on first use. At most 2 000 tools.
   */
  readonly pinned: Readonly<Record<string, string>>;
}

/**
 * One quota: per caller, at most `requests` calls per `windowSeconds` and at most
 * `concurrentCalls` at once, of the listed tools (each its own bucket) or, without `tools`, of
 * the server's other tools together.
 */
export interface QuotaConfig {
  /** The upstream's own tool names; absent: every tool no other quota of the server names. */
  readonly tools?: readonly string[];
  readonly requests?: number;
  /** The requests' window; default 60. */
  readonly windowSeconds: number;
  readonly concurrentCalls?: number;
}

/** One tool's override (see docs/configuration.md#tool-overrides). */
export interface ToolOverride {
  /** The upstream's own tool name. */
  readonly tool: string;
  /** The served name, exactly (no prefix added). */
  readonly name?: string;
  readonly description?: string;
  readonly descriptionSuffix?: string;
  readonly hidden?: boolean;
  /** Parameters the gateway fills in on every call, removed from the served input schema. */
  readonly fixedArguments?: Readonly<Record<string, unknown>>;
  /** Merged over the upstream's annotations. */
  readonly annotations?: Readonly<Record<string, unknown>>;
  /** Every call of the tool waits for the user's confirmation (docs/configuration.md#confirmation). */
  readonly confirm?: boolean;
}

/** How long a confirmation is waited for by default, in seconds. */
export const DEFAULT_CONFIRMATION_TIMEOUT_SECONDS = 120;

/** The `confirmation` section, resolved (docs/configuration.md#confirmation). */
export interface ConfirmationConfig {
  /** How long the gateway waits for the user's answer (and a 2026-07-28 confirmation stays valid); 5 to 3600, default 120. */
  readonly timeoutSeconds: number;
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
  /** How calls that need the user's confirmation are confirmed; absent, the defaults. */
  readonly confirmation?: ConfirmationConfig;
  /** Users' own upstream credentials: the /tokens pages' login and how long a pasted token is kept. */
  readonly credentials?: CredentialsConfig;
}

/** An empty configuration (no servers). */
export const EMPTY_CONFIG: GatewayConfig = { servers: [], virtualServers: [] };
