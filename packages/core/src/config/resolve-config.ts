import type * as v from 'valibot';
import { compilePolicy } from '../policy/compile-policy.ts';
import { resolveAudit, resolveAuth, resolvePolicy } from './access-schema.ts';
import { resolveCredentials, resolveUserCredentialMethod } from './credentials-schema.ts';
import {
  DEFAULT_CONFIRMATION_TIMEOUT_SECONDS,
  RawConfigSchema,
  RawServerSchema,
  RawVirtualServerSchema,
} from './schema.ts';
import type { UserCredentialMethod } from './credentials-schema.ts';
import type { GatewayConfig, QuotaConfig, ServerConfig, ToolOverride, VirtualServerConfig } from './schema.ts';

type RawConfig = v.InferOutput<typeof RawConfigSchema>;
type RawServer = v.InferOutput<typeof RawServerSchema>;
type RawVirtualServer = v.InferOutput<typeof RawVirtualServerSchema>;

/** The outcome of resolving a schema-valid file: the config, or the issues that forbid it. */
export interface ResolvedConfig {
  readonly config: GatewayConfig;
  /** `<field path>: <reason>` lines; any issue makes the file invalid. */
  readonly issues: readonly string[];
  /** `<field path>: <note>` lines about a file that still loads. */
  readonly warnings: readonly string[];
}

/** Categories a server is listed under when the file gives none (the anchor's CRD default). */
export const DEFAULT_CATEGORY: readonly string[] = ['uncategorised'];

const KNOWN_TOP_LEVEL = new Set(Object.keys(RawConfigSchema.entries));
const KNOWN_SERVER = new Set(Object.keys(RawServerSchema.entries));
const KNOWN_VIRTUAL_SERVER = new Set(Object.keys(RawVirtualServerSchema.entries));

/**
 * Turns the schema's output into a GatewayConfig: resolves the `toolPrefix` and `enabled`
 * aliases, fills defaults, rejects duplicate names and contradicting aliases, and warns about
 * unknown keys and enabled servers that share a prefix. Never throws.
 * @see docs/configuration.md
 */
export function resolveConfig(raw: RawConfig): ResolvedConfig {
  const issues: string[] = [];
  const warnings: string[] = [];
  warnUnknownKeys(raw, KNOWN_TOP_LEVEL, '', warnings);

  const servers: ServerConfig[] = [];
  const seen = new Map<string, number>();
  (raw.servers ?? []).forEach((entry, index) => {
    const at = `servers[${index}]`;
    warnUnknownKeys(entry, KNOWN_SERVER, at, warnings);
    const first = seen.get(entry.name);
    if (first !== undefined) issues.push(`${at}.name: ${quote(entry.name)} is already used by servers[${first}]`);
    else seen.set(entry.name, index);
    servers.push(resolveServer(entry, at, issues));
  });
  warnSharedPrefixes(servers, warnings);

  const virtualServers: VirtualServerConfig[] = [];
  const seenVirtual = new Map<string, number>();
  (raw.virtualServers ?? []).forEach((entry, index) => {
    const at = `virtualServers[${index}]`;
    warnUnknownKeys(entry, KNOWN_VIRTUAL_SERVER, at, warnings);
    const first = seenVirtual.get(entry.name);
    if (first !== undefined)
      issues.push(`${at}.name: ${quote(entry.name)} is already used by virtualServers[${first}]`);
    else seenVirtual.set(entry.name, index);
    virtualServers.push(resolveVirtualServer(entry));
  });

  const auth = raw.auth ? resolveAuth(raw.auth, issues) : undefined;
  const policy = raw.policy ? resolvePolicy(raw.policy, issues) : undefined;
  if (policy !== undefined) {
    // Compiled here only to find the rules that do not compile; the host compiles its own copy.
    const compiled = compilePolicy(policy);
    if (!compiled.ok) issues.push(...compiled.issues);
  }

  const credentials =
    raw.credentials || servers.some((server) => server.userCredential !== undefined)
      ? resolveCredentials(raw.credentials)
      : undefined;

  const config: GatewayConfig = {
    servers,
    virtualServers,
    ...(raw.gatewayCACertPEM ? { gatewayCACertPEM: raw.gatewayCACertPEM } : {}),
    ...(auth ? { auth } : {}),
    ...(policy ? { policy } : {}),
    ...(raw.audit ? { audit: resolveAudit(raw.audit) } : {}),
    ...(raw.confirmation
      ? {
          confirmation: {
            timeoutSeconds: raw.confirmation.timeoutSeconds ?? DEFAULT_CONFIRMATION_TIMEOUT_SECONDS,
          },
        }
      : {}),
    ...(credentials ? { credentials } : {}),
  };
  return { config, issues, warnings };
}

function resolveServer(raw: RawServer, at: string, issues: string[]): ServerConfig {
  // `prefix:` with no value and `state: ""` mean "not given", like an absent key.
  const prefix = raw.prefix ?? undefined;
  const legacyPrefix = raw.toolPrefix ?? undefined;
  if (prefix !== undefined && legacyPrefix !== undefined && prefix !== legacyPrefix) {
    issues.push(`${at}.prefix: ${quote(prefix)} contradicts toolPrefix ${quote(legacyPrefix)}; give only prefix`);
  }
  const state = raw.state || undefined;
  const enabledFlag = raw.enabled ?? undefined;
  if (state !== undefined && enabledFlag !== undefined && (state === 'Enabled') !== enabledFlag) {
    issues.push(`${at}.state: ${state} contradicts enabled: ${String(enabledFlag)}; give only state`);
  }
  return {
    name: raw.name,
    url: raw.url,
    // The schema has checked that the URL parses; `host` keeps a non-default port.
    hostname: raw.hostname || new URL(raw.url).host,
    prefix: prefix ?? legacyPrefix ?? '',
    enabled: state === undefined ? (enabledFlag ?? true) : state === 'Enabled',
    ...(raw.credential ? { credential: raw.credential } : {}),
    ...(raw.caCert ? { caCert: raw.caCert } : {}),
    userSpecificList: raw.userSpecificList ?? false,
    category: raw.category && raw.category.length > 0 ? raw.category : DEFAULT_CATEGORY,
    ...(raw.hint ? { hint: raw.hint } : {}),
    tags: raw.tags ?? [],
    ...(raw.toolOverrides && raw.toolOverrides.length > 0
      ? { toolOverrides: resolveToolOverrides(raw.toolOverrides, `${at}.toolOverrides`, issues) }
      : {}),
    ...(raw.quotas && raw.quotas.length > 0 ? { quotas: resolveQuotas(raw.quotas, `${at}.quotas`, issues) } : {}),
    ...(raw.confirmDestructive === true ? { confirmDestructive: true } : {}),
    ...(raw.pinning
      ? {
          pinning: {
            onChange: raw.pinning.onChange ?? 'serveApproved',
            approve: raw.pinning.approve ?? [],
            pinned: raw.pinning.pinned ?? {},
          },
        }
      : {}),
    ...userCredentialOf(raw, at, issues),
  };
}

function userCredentialOf(raw: RawServer, at: string, issues: string[]): { userCredential?: UserCredentialMethod } {
  const method = resolveUserCredentialMethod(raw, at, issues);
  return method === undefined ? {} : { userCredential: method };
}

/** A server's quotas, checked: each limits something, a tool is named by one quota, one covers the rest. */
function resolveQuotas(
  raw: readonly NonNullable<RawServer['quotas']>[number][],
  at: string,
  issues: string[],
): QuotaConfig[] {
  const named = new Map<string, number>();
  let catchAll: number | undefined;
  return raw.map((entry, index) => {
    const where = `${at}[${index}]`;
    if (entry.requests == null && entry.concurrentCalls == null) {
      issues.push(`${where}: limits nothing; give requests (per windowSeconds) or concurrentCalls`);
    }
    if (entry.windowSeconds != null && entry.requests == null) {
      issues.push(`${where}: windowSeconds without requests would never apply`);
    }
    if (entry.tools == null || entry.tools.length === 0) {
      if (catchAll !== undefined) issues.push(`${where}: quotas[${catchAll}] already covers every other tool`);
      catchAll = index;
    } else {
      for (const tool of entry.tools) {
        const earlier = named.get(tool);
        if (earlier !== undefined) issues.push(`${where}: tool ${quote(tool)} already has quotas[${earlier}]`);
        named.set(tool, index);
      }
    }
    return {
      ...(entry.tools && entry.tools.length > 0 ? { tools: entry.tools } : {}),
      ...(entry.requests != null ? { requests: entry.requests } : {}),
      windowSeconds: entry.windowSeconds ?? 60,
      ...(entry.concurrentCalls != null ? { concurrentCalls: entry.concurrentCalls } : {}),
    };
  });
}

/**
 * The overrides of one server, checked: one per tool, `hidden` alone, each served name once.
 * (A served name that collides with another server's is found when the catalog is built, and
 * reported as a conflict like any other.)
 */
function resolveToolOverrides(
  raw: readonly NonNullable<RawServer['toolOverrides']>[number][],
  at: string,
  issues: string[],
): ToolOverride[] {
  const tools = new Set<string>();
  const names = new Map<string, string>();
  const overrides: ToolOverride[] = [];
  raw.forEach((entry, index) => {
    const where = `${at}[${index}]`;
    if (tools.has(entry.tool)) issues.push(`${where}: tool ${quote(entry.tool)} has another override above`);
    tools.add(entry.tool);
    const others = (
      ['name', 'description', 'descriptionSuffix', 'fixedArguments', 'annotations', 'confirm'] as const
    ).filter((key) => entry[key] !== undefined && entry[key] !== null);
    if (entry.hidden === true && others.length > 0) {
      issues.push(`${where}: tool ${quote(entry.tool)} is hidden; ${others.join(', ')} would never apply`);
    }
    if (entry.name !== undefined && entry.name !== null) {
      const earlier = names.get(entry.name);
      if (earlier !== undefined) {
        issues.push(`${where}: tools ${quote(earlier)} and ${quote(entry.tool)} are both renamed ${quote(entry.name)}`);
      }
      names.set(entry.name, entry.tool);
    }
    overrides.push({
      tool: entry.tool,
      ...(entry.name ? { name: entry.name } : {}),
      ...(typeof entry.description === 'string' ? { description: entry.description } : {}),
      ...(entry.descriptionSuffix ? { descriptionSuffix: entry.descriptionSuffix } : {}),
      ...(entry.hidden === true ? { hidden: true } : {}),
      ...(entry.fixedArguments ? { fixedArguments: entry.fixedArguments } : {}),
      ...(entry.annotations ? { annotations: entry.annotations } : {}),
      ...(entry.confirm === true ? { confirm: true } : {}),
    });
  });
  return overrides;
}

function resolveVirtualServer(raw: RawVirtualServer): VirtualServerConfig {
  return {
    name: raw.name,
    tools: raw.tools ?? [],
    ...(raw.prompts ? { prompts: raw.prompts } : {}),
  };
}

function warnUnknownKeys(entry: object, known: ReadonlySet<string>, at: string, warnings: string[]): void {
  const unknown = Object.keys(entry).filter((key) => !known.has(key));
  if (unknown.length === 0) return;
  const where = at === '' ? 'unknown top-level' : `${at}: unknown`;
  const fields = unknown.map(quote).join(', ');
  warnings.push(`${where} ${unknown.length === 1 ? 'field' : 'fields'} ${fields} ignored`);
}

function warnSharedPrefixes(servers: readonly ServerConfig[], warnings: string[]): void {
  const byPrefix = new Map<string, number[]>();
  servers.forEach((server, index) => {
    if (!server.enabled || server.prefix === '') return;
    byPrefix.set(server.prefix, [...(byPrefix.get(server.prefix) ?? []), index]);
  });
  for (const [prefix, indexes] of byPrefix) {
    if (indexes.length < 2) continue;
    const names = indexes.map((i) => `servers[${i}] ${quote(servers[i]?.name ?? '')}`).join(', ');
    warnings.push(
      `${names} share the prefix ${quote(prefix)}; a tool or prompt name both expose is served only for the first`,
    );
  }
}

function quote(value: string): string {
  return JSON.stringify(value);
}
