import * as v from 'valibot';
import { parseDocument } from 'yaml';
import type { YAMLError } from 'yaml';
import { GatewayError } from '../errors.ts';
import { resolveConfig } from './resolve-config.ts';
import { RawConfigSchema } from './schema.ts';
import { isPlainMapping } from './schema-parts.ts';
import type { GatewayConfig } from './schema.ts';

/** The outcome of `parseConfig`: a usable config with warnings, or a CONFIG_INVALID error. */
export type ConfigResult =
  | { readonly ok: true; readonly config: GatewayConfig; readonly warnings: string[] }
  | { readonly ok: false; readonly error: GatewayError };

const ROOT_MESSAGE = 'must be a mapping with a servers list';

/** Longest excerpt of a rejected value quoted in an issue line. */
const MAX_QUOTED_VALUE = 60;

/** Field names whose values are never quoted in a message (they may hold secrets). */
const SECRET_FIELDS = new Set(['credential', 'clientSecret']);

/**
 * Parses and validates the gateway config file (YAML), resolving aliases and defaults.
 * Never throws. On failure the error has code CONFIG_INVALID and a message with one line per
 * issue, each naming `source`, the field path (or YAML line and column) and the reason, e.g.
 * `config.yaml: servers[1].url: must be an absolute http(s) URL`. Warnings (unknown keys,
 * enabled servers sharing a prefix) are prefixed with `source` the same way. An empty file or
 * `servers: []` is a valid empty config.
 * @param text The file's content.
 * @param source The file name used in messages (the path the operator gave).
 * @see docs/configuration.md
 */
export function parseConfig(text: string, source: string): ConfigResult {
  try {
    const loaded = loadYaml(text);
    if (!loaded.ok) return invalid(source, loaded.issues);
    // valibot's object schemas also accept lists and byte arrays, which are never a config file.
    if (typeof loaded.value === 'object' && loaded.value !== null && !isPlainMapping(loaded.value)) {
      return invalid(source, [ROOT_MESSAGE]);
    }
    const parsed = v.safeParse(RawConfigSchema, loaded.value ?? {});
    if (!parsed.success) return invalid(source, parsed.issues.map(formatIssue));
    const resolved = resolveConfig(parsed.output);
    if (resolved.issues.length > 0) return invalid(source, resolved.issues);
    const warnings = [...loaded.warnings, ...resolved.warnings].map((line) => `${source}: ${line}`);
    return { ok: true, config: resolved.config, warnings };
  } catch (cause) {
    // Defensive: the steps above report problems as data, but a bug must not crash a reload.
    return invalid(
      source,
      [`cannot be read as a config file (${cause instanceof Error ? cause.message : String(cause)})`],
      cause,
    );
  }
}

type YamlResult =
  | { readonly ok: true; readonly value: unknown; readonly warnings: string[] }
  | { readonly ok: false; readonly issues: string[] };

function loadYaml(text: string): YamlResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { ok: false, issues: doc.errors.map(formatYamlError) };
  const warnings = doc.warnings.map(formatYamlError);
  try {
    // The default alias limit stops "billion laughs" documents.
    return { ok: true, value: doc.toJS(), warnings };
  } catch (cause) {
    return { ok: false, issues: [cause instanceof Error ? cause.message : String(cause)] };
  }
}

function formatYamlError(error: YAMLError): string {
  // The library appends " at line L, column C:" and a source excerpt; keep only the reason.
  const reason = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
  const position = error.linePos?.[0];
  return position ? `line ${position.line}, column ${position.col}: ${reason}` : reason;
}

function formatIssue(issue: v.BaseIssue<unknown>): string {
  const path = formatPath(issue.path ?? []);
  const missing = issue.input === undefined && issue.expected?.startsWith('"') === true;
  const reason = missing ? 'is required' : issue.message + describeInput(issue);
  return path === '' ? reason : `${path}: ${reason}`;
}

function formatPath(path: readonly v.IssuePathItem[]): string {
  let out = '';
  for (const item of path) {
    const key: unknown = item.key;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function describeInput(issue: v.BaseIssue<unknown>): string {
  const field = issue.path?.findLast((item) => typeof item.key === 'string')?.key;
  if (typeof field === 'string' && SECRET_FIELDS.has(field)) return '';
  const input = issue.input;
  if (typeof input !== 'string' && typeof input !== 'number' && typeof input !== 'boolean') return '';
  const shown = JSON.stringify(input);
  return ` (got ${shown.length > MAX_QUOTED_VALUE ? `${shown.slice(0, MAX_QUOTED_VALUE)}…` : shown})`;
}

function invalid(source: string, issues: readonly string[], cause?: unknown): ConfigResult {
  const message = issues.map((issue) => `${source}: ${issue}`).join('\n');
  // Operator-facing only: a config problem is never a client's business.
  const error = new GatewayError(
    'CONFIG_INVALID',
    message,
    cause === undefined ? { expose: false } : { expose: false, cause },
  );
  return { ok: false, error };
}
