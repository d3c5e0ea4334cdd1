// Runs one case of the access table on one host in one era and normalizes what happened (the
// lists, each call's answer, what the upstream received, the call's audit record) into a value
// that can be compared across hosts and with the value the table expects.
import { createHash, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { responsesOf, type Answer } from '../attacker/answers.ts';
import type { TrustedHeaderSigner } from '../harness/identity.ts';
import type { AccessHost, AuditLine, RequestHeaders } from './access-hosts.ts';
import type { AccessCase, CallCase, CaseHeaders, Era, TrustedValue } from './access-types.ts';
import type { UpstreamRequest } from './access-upstreams.ts';
import { servedItem } from './served-names.ts';

const LEGACY_VERSION = '2025-11-25';
const MODERN_VERSION = '2026-07-28';
/** Headers only the gateway reads. */
const ACCESS_HEADERS = ['x-mcp-authorized', 'x-mcp-virtualserver'] as const;
const POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** What a case runs with besides the host: the users' tokens and the signer of trusted headers. */
export interface RunContext {
  readonly tokens: Readonly<Record<'alice' | 'bob', string>>;
  readonly signer: TrustedHeaderSigner;
  /** Every token and x-mcp-authorized value a case presented, to look for where none may be written. */
  readonly presented: Set<string>;
}

/** A call's outcome, host-independent. */
export interface CallAnswer {
  /** `result: <text>`, or `error <code> <message>`. */
  readonly answer: string;
  readonly upstream: string;
  /** The call's audit record, normalized; `none` when the host wrote none. */
  readonly audit: AuditView | 'none';
}

/** An audit record with the parts that vary per call (time, latency, jti, hash) checked and replaced by words. */
export type AuditView = Readonly<Record<string, unknown>>;

/** A case's outcome on one host in one era. */
export interface CaseAnswer {
  readonly initialize?: string;
  readonly tools?: readonly string[] | string;
  readonly prompts?: readonly string[] | string;
  readonly resources?: readonly string[] | string;
  readonly calls?: Readonly<Record<string, CallAnswer>>;
  /** Audit records written during the case that belong to none of its calls. */
  readonly otherAuditRecords?: readonly AuditLine[];
}

/** A run: the comparable answer, and which host wrote each call's audit record. */
export interface CaseRun {
  readonly answer: CaseAnswer;
  readonly auditHosts: Readonly<Record<string, string>>;
}

/** The documented fields of an audit record with `arguments: hash`. */
export const AUDIT_FIELDS = [
  'argumentsSha256',
  'caller',
  'decidedBy',
  'event',
  'host',
  'kind',
  'latencyMs',
  'method',
  'name',
  'outcome',
  'rule',
  'server',
  'servedName',
  'session',
  'time',
  'upstreamStatus',
] as const;

/** Which audit records of each host a case already accounted for. */
const consumed = new WeakMap<AccessHost, Set<number>>();

/** The audit records of `host` that no call of a case accounted for. */
export function unaccounted(host: AccessHost): AuditLine[] {
  const taken = consumed.get(host) ?? new Set<number>();
  return host.audit().filter((_record, index) => !taken.has(index));
}

/** The label a call has in answers: method, served name, and the arguments that matter. */
export function callLabel(call: CallCase): string {
  const args = call.args === undefined ? '' : ` ${JSON.stringify(call.args)}`;
  return `${call.method} ${servedItem(call)}${args}`;
}

/** Runs `c` on `host` in `era`. */
export async function runCase(host: AccessHost, c: AccessCase, era: Era, run: RunContext): Promise<CaseRun> {
  const taken = consumed.get(host) ?? new Set<number>();
  consumed.set(host, taken);
  const first = await headersOf(c.headers, c.caller, run);
  const later = c.laterHeaders === undefined ? first : await headersOf(c.laterHeaders, c.caller, run);
  let send: (method: string, params: Record<string, unknown>) => Promise<Answer>;
  const out: { -readonly [K in keyof CaseAnswer]: CaseAnswer[K] } = {};
  if (era === 'legacy') {
    const opened = await openSession(host, first);
    out.initialize = opened.outcome;
    if (opened.sessionId === undefined) return { answer: out, auditHosts: {} };
    const sessionId = opened.sessionId;
    send = (method, params) =>
      host.post(
        { ...POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION, ...later },
        JSON.stringify({ jsonrpc: '2.0', id: randomUUID(), method, params }),
      );
  } else {
    send = (method, params) => postModern(host, method, params, first);
  }
  out.tools = listOf(await send('tools/list', {}), 'tools', 'name');
  out.prompts = listOf(await send('prompts/list', {}), 'prompts', 'name');
  out.resources = listOf(await send('resources/list', {}), 'resources', 'uri');
  const calls: Record<string, CallAnswer> = {};
  const auditHosts: Record<string, string> = {};
  for (const call of c.calls) {
    const label = callLabel(call);
    const made = await makeCall(host, call, send);
    const record = made.audited ? await auditRecordOf(host, call, made.args, taken) : undefined;
    calls[label] = { answer: made.answer, upstream: made.upstream, audit: viewOf(record, made.args) };
    auditHosts[label] = typeof record?.['host'] === 'string' ? record['host'] : 'none';
  }
  out.calls = calls;
  out.otherAuditRecords = host.audit().filter((_record, index) => !taken.has(index));
  for (let index = 0; index < host.audit().length; index++) taken.add(index);
  return { answer: out, auditHosts };
}

/** The request headers of a case: Authorization for a user, and x-team, x-mcp-virtualserver, x-mcp-authorized. */
async function headersOf(spec: CaseHeaders | undefined, caller: AccessCase['caller'], run: RunContext) {
  const headers: Record<string, string | readonly string[]> = {};
  if (caller !== 'anonymous') {
    headers['authorization'] = `Bearer ${run.tokens[caller]}`;
    run.presented.add(run.tokens[caller]);
  }
  if (spec?.team !== undefined) headers['x-team'] = spec.team;
  if (spec?.virtualServer !== undefined) headers['x-mcp-virtualserver'] = spec.virtualServer;
  if (spec?.trusted !== undefined) {
    const values: readonly TrustedValue[] = Array.isArray(spec.trusted)
      ? (spec.trusted as readonly TrustedValue[])
      : [spec.trusted as TrustedValue];
    const signed = await Promise.all(values.map((value) => trustedValue(run.signer, value)));
    for (const value of signed) run.presented.add(value);
    headers['x-mcp-authorized'] = signed.length === 1 ? (signed[0] as string) : signed;
  }
  return headers;
}

function trustedValue(signer: TrustedHeaderSigner, value: TrustedValue): Promise<string> | string {
  switch (value.kind) {
    case 'signed':
      return signer.sign(value.capabilities);
    case 'expired':
      return signer.expired(value.capabilities);
    case 'foreignKey':
      return signer.foreignKey(value.capabilities);
    case 'wrongCurve':
      return signer.wrongCurve(value.capabilities);
    case 'unsigned':
      return signer.unsigned(value.capabilities);
    case 'claimNotAString':
      return signer.claimNotAString(value.capabilities);
  }
}

/** initialize and notifications/initialized; the outcome is `ok` or initialize's error. */
async function openSession(host: AccessHost, headers: RequestHeaders) {
  const initialize = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: LEGACY_VERSION,
      capabilities: {},
      clientInfo: { name: 'access-table', version: '1.0.0' },
    },
  };
  const answer = await host.post({ ...POST_HEADERS, ...headers }, JSON.stringify(initialize));
  const sessionId = answer.headers['mcp-session-id'];
  if (answer.status !== 200 || sessionId === undefined) return { outcome: describeFailure(answer) };
  const initialized = await host.post(
    { ...POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': LEGACY_VERSION, ...headers },
    JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  );
  if (initialized.status !== 202) return { outcome: `notifications/initialized: ${describeFailure(initialized)}` };
  return { outcome: 'ok', sessionId };
}

/** A 2026-07-28 request: the envelope in `_meta`, and the standard headers agreeing with the body. */
function postModern(host: AccessHost, method: string, params: Record<string, unknown>, headers: RequestHeaders) {
  const name =
    method === 'resources/read' ? params['uri'] : method === 'completion/complete' ? undefined : params['name'];
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'access-table', version: '2.0.0' },
  };
  return host.post(
    {
      ...POST_HEADERS,
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': method,
      ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
      ...headers,
    },
    JSON.stringify({ jsonrpc: '2.0', id: randomUUID(), method, params: { ...params, _meta: meta } }),
  );
}

/** `error <code> <message>` of an answer's JSON-RPC error, else its status and text. */
function describeFailure(answer: Answer): string {
  const error = responsesOf(answer.messages)[0]?.['error'] as { code?: unknown; message?: unknown } | undefined;
  if (error !== undefined) return `error ${String(error.code)} ${String(error.message)}`;
  return `HTTP ${answer.status} ${answer.text.slice(0, 200)}`;
}

function listOf(answer: Answer, key: string, field: string): readonly string[] | string {
  const result = responsesOf(answer.messages)[0]?.['result'] as Record<string, unknown> | undefined;
  const items = result?.[key];
  if (!Array.isArray(items)) return describeFailure(answer);
  return items.map((item) => String((item as Record<string, unknown>)[field])).sort();
}

interface MadeCall {
  readonly answer: string;
  readonly upstream: string;
  /** The answer is one the host records: a result, or an access refusal. */
  readonly audited: boolean;
  readonly args: Readonly<Record<string, unknown>>;
}

/** Sends the call and reads what the upstream of its server received meanwhile. */
async function makeCall(
  host: AccessHost,
  call: CallCase,
  send: (method: string, params: Record<string, unknown>) => Promise<Answer>,
): Promise<MadeCall> {
  const served = servedItem(call);
  let params: Record<string, unknown>;
  let args: Record<string, unknown> = {};
  if (call.method === 'tools/call' || call.method === 'prompts/get') {
    args = { ...call.args, ref: randomUUID() };
    params = { name: served, arguments: args };
  } else if (call.method === 'resources/read' || call.method === 'resources/subscribe') {
    params = { uri: served };
  } else {
    const [[argument, value]] = Object.entries(call.args ?? { city: '' }) as [[string, string]];
    params = { ref: { type: 'ref/prompt', name: served }, argument: { name: argument, value } };
  }
  const upstreamItems = [call.name, served];
  const before = upstreamItems.map((item) => host.upstreams.received(call.server, call.method, item).length);
  const answer = await send(call.method, params);
  const since = (item: string, count: number | undefined): readonly UpstreamRequest[] =>
    host.upstreams.received(call.server, call.method, item).slice(count);
  const got = since(call.name, before[0]);
  const gotServed = since(served, before[1]);
  const upstream =
    got.length === 1 && gotServed.length === 0
      ? 'received it, prefix removed'
      : got.length === 0 && gotServed.length === 0
        ? 'received nothing'
        : `received it ${got.length} time(s) unprefixed and ${gotServed.length} time(s) prefixed`;
  // The access headers are the gateway's to read: an upstream never gets them.
  const leaked = [...got, ...gotServed].flatMap((request) =>
    ACCESS_HEADERS.filter((name) => request.headers[name] !== undefined),
  );
  const response = responsesOf(answer.messages)[0];
  const result = response?.['result'];
  const error = response?.['error'] as { code?: unknown } | undefined;
  return {
    answer: result === undefined ? describeFailure(answer) : `result: ${resultText(result)}`,
    upstream: leaked.length === 0 ? upstream : `${upstream}, with ${[...new Set(leaked)].join(' and ')}`,
    audited: result !== undefined || error?.code === -32003,
    args,
  };
}

/** The first text of a result: a tool's content, a prompt's message, a resource's contents, a completion's values. */
function resultText(result: unknown): string {
  const r = result as {
    content?: { text?: unknown }[];
    messages?: { content?: { text?: unknown } }[];
    contents?: { text?: unknown }[];
    completion?: { values?: unknown };
  };
  if (Array.isArray(r.content)) return String(r.content[0]?.text);
  if (Array.isArray(r.messages)) return String(r.messages[0]?.content?.text);
  if (Array.isArray(r.contents)) return String(r.contents[0]?.text);
  if (r.completion !== undefined) return `completions ${JSON.stringify(r.completion.values)}`;
  return JSON.stringify(result);
}

/** Waits for the audit record of `call` (method, served name and arguments hash) that no call took yet. */
async function auditRecordOf(
  host: AccessHost,
  call: CallCase,
  args: Readonly<Record<string, unknown>>,
  taken: Set<number>,
): Promise<AuditLine | undefined> {
  const served = servedItem(call);
  const hash = sha256Of(args);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const records = host.audit();
    const index = records.findIndex(
      (record, i) =>
        !taken.has(i) &&
        record['method'] === call.method &&
        record['servedName'] === served &&
        (record['argumentsSha256'] === undefined || record['argumentsSha256'] === hash) &&
        (record['arguments'] === undefined || isDeepStrictEqual(record['arguments'], args)),
    );
    if (index !== -1) {
      taken.add(index);
      return records[index];
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}

/** SHA-256 (hex) of JSON with sorted keys: what the gateway hashes arguments as. */
export function sha256Of(args: Readonly<Record<string, unknown>>): string {
  const sorted = Object.fromEntries(Object.entries(args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** The record with its per-call parts checked and replaced by words, so that equal decisions look equal. */
function viewOf(record: AuditLine | undefined, args: Readonly<Record<string, unknown>>): AuditView | 'none' {
  if (record === undefined) return 'none';
  const { time, latencyMs, session, argumentsSha256, arguments: values, caller, host: _host, ...rest } = record;
  const documented: readonly string[] =
    'arguments' in record ? [...AUDIT_FIELDS.filter((key) => key !== 'argumentsSha256'), 'arguments'] : AUDIT_FIELDS;
  const extra = Object.keys(record).filter((key) => !documented.includes(key));
  const missing = documented.filter((key) => !(key in record));
  return {
    ...rest,
    ...(caller === null ? { caller: null } : { caller }),
    session: session === null ? null : typeof session === 'string' && session !== '' ? 'a jti' : session,
    time: typeof time === 'string' && !Number.isNaN(Date.parse(time)) ? 'an ISO time' : time,
    latencyMs: typeof latencyMs !== 'number' || latencyMs < 0 ? latencyMs : latencyMs === 0 ? 0 : 'measured',
    ...('argumentsSha256' in record
      ? { argumentsSha256: argumentsSha256 === sha256Of(args) ? 'of the arguments' : argumentsSha256 }
      : {}),
    ...('arguments' in record ? { arguments: isDeepStrictEqual(values, args) ? 'the arguments' : values } : {}),
    fields: extra.length === 0 && missing.length === 0 ? 'as documented' : { extra, missing },
  };
}
