// The bodies of fuzzed requests (brief C): JSON-RPC-ish messages with every method the gateway
// knows plus garbage and Object.prototype member names, ids of every JSON type, unicode, huge
// numbers and duplicate keys, as plausible messages or wild texts (see fuzz-cases.ts).
import fc from 'fast-check';

/** Method names that are members of Object.prototype. */
export const PROTOTYPE_METHODS = [
  'toString',
  'constructor',
  '__proto__',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'toLocaleString',
  'propertyIsEnumerable',
  '__defineGetter__',
  '__lookupSetter__',
] as const;

/** Every JSON-RPC method the gateway knows, in either era, from either side. */
export const KNOWN_METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'logging/setLevel',
  'server/discover',
  'subscriptions/listen',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'notifications/message',
  'elicitation/create',
  'sampling/createMessage',
  'roots/list',
] as const;

/** What the fuzzer knows of the host under test: sessions it may present, names it may call. */
export interface FuzzContext {
  readonly era: 'legacy' | 'modern';
  /** Live legacy sessions and the Authorization each was made with (undefined: none). */
  readonly sessions: readonly { readonly id: string; readonly authorization: string | undefined }[];
  /** Served tool and prompt names. */
  readonly names: readonly string[];
  /** Served resource URIs. */
  readonly uris: readonly string[];
}

const ENVELOPE_VERSION = 'io.modelcontextprotocol/protocolVersion';
const ENVELOPE_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';

/** A JSON value as text, including texts JSON.stringify never writes (huge numbers, -0, 1.0). */
const rawNumber = fc.constantFrom(
  '1e400',
  '-1e400',
  '123456789012345678901234567890',
  '-0',
  '1.0',
  '9007199254740993',
  '0.1e-400',
);

const anyId = fc.oneof(
  fc.integer().map((n) => JSON.stringify(n)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(0, 1.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1e308, 5e-324).map((n) => JSON.stringify(n)),
  rawNumber,
  fc.string().map((s) => JSON.stringify(s)),
  fc.string({ unit: 'grapheme' }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 8 }).map((s) => JSON.stringify(s)),
  fc.constantFrom('null', 'true', 'false', '{}', '[1]', '""'),
);

/** The methods that name an item of one upstream, which the gateway forwards (the router routes). */
const ROUTED_METHODS = ['tools/call', 'prompts/get', 'resources/read'] as const;

const method = (_context: FuzzContext) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom<string>(...KNOWN_METHODS) },
    { weight: 4, arbitrary: fc.constantFrom<string>(...ROUTED_METHODS) },
    { weight: 2, arbitrary: fc.constantFrom<string>(...PROTOTYPE_METHODS) },
    { weight: 1, arbitrary: fc.string() },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(1, null, true, {}, ['tools/call']) },
  );

/** The 2026-07-28 envelope as a client sends it, sometimes with a progress token. */
const envelope = fc.record(
  {
    [ENVELOPE_VERSION]: fc.constant('2026-07-28'),
    [ENVELOPE_CAPABILITIES]: fc.constantFrom({}, { elicitation: {} }, { sampling: {}, roots: {} }),
    progressToken: fc.oneof(fc.string(), fc.integer()),
  },
  { requiredKeys: [ENVELOPE_VERSION, ENVELOPE_CAPABILITIES] },
);

/** `_meta` gone wrong: another or no version, capabilities of the wrong type, not an object at all. */
const brokenMeta = fc.oneof(
  fc.record({
    [ENVELOPE_VERSION]: fc.oneof(fc.constantFrom('2025-11-25', '2099-01-01', ''), fc.string(), fc.integer()),
    [ENVELOPE_CAPABILITIES]: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({ progressToken: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant({})) }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** `_meta` of `era`: mostly the envelope for 2026-07-28, mostly nothing or a progress token for legacy. */
const meta = (era: FuzzContext['era']) =>
  fc.oneof(
    { weight: era === 'modern' ? 8 : 1, arbitrary: envelope as fc.Arbitrary<unknown> },
    { weight: 2, arbitrary: brokenMeta },
    { weight: era === 'modern' ? 1 : 6, arbitrary: fc.record({ progressToken: fc.oneof(fc.string(), fc.integer()) }) },
  );

const params = (context: FuzzContext) =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record(
        {
          name: fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom<unknown>(...context.names) },
            { weight: 1, arbitrary: fc.string() },
            { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
            { weight: 1, arbitrary: fc.integer() },
          ),
          uri: fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom<unknown>(...context.uris) },
            { weight: 1, arbitrary: fc.string() },
            { weight: 1, arbitrary: fc.webUrl() },
          ),
          arguments: fc.oneof(
            { weight: 3, arbitrary: fc.record({ text: fc.string(), who: fc.string() }) as fc.Arbitrary<unknown> },
            { weight: 2, arbitrary: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }) },
            { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
          ),
          _meta: meta(context.era),
          protocolVersion: fc.constantFrom('2025-11-25', '2025-06-18', '2026-07-28', 'garbage'),
          capabilities: fc.jsonValue({ maxDepth: 2 }),
          clientInfo: fc.constant({ name: 'fuzzer', version: '0' }),
          cursor: fc.string(),
          requestId: fc.oneof(fc.string(), fc.integer()),
          level: fc.constantFrom('debug', 'info', 'bogus'),
        },
        { requiredKeys: context.era === 'modern' ? ['_meta'] : [] },
      ),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );

/**
 * How far a request strays: 'plausible' requests are well-formed in every part the gateway checks
 * first (a JSON object, jsonrpc "2.0", a readable id, JSON content type, MCP accept, the era's
 * version and headers agreeing with the body, a live session of the right caller), so that the
 * generated methods and params reach the deeper paths; 'wild' ones break anything.
 */
export type Mode = 'plausible' | 'wild';

/** The parts of a message before serialising; `extra` entries (duplicate keys among them) come last. */
export interface Draft {
  readonly jsonrpc: string | undefined;
  readonly id: string | undefined;
  readonly method: unknown;
  readonly params: unknown;
  readonly response: string | undefined;
  readonly extra: readonly (readonly [string, string])[];
}

const plausibleId = fc.oneof(
  fc.integer().map((n) => JSON.stringify(n)),
  fc.string().map((s) => JSON.stringify(s)),
  fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => JSON.stringify(s)),
);

const draft = (context: FuzzContext, mode: Mode): fc.Arbitrary<Draft> => {
  const wild = mode === 'wild' ? 1 : 0;
  return fc.record({
    jsonrpc: fc.oneof(
      { weight: 9, arbitrary: fc.constant('"2.0"') },
      { weight: wild, arbitrary: fc.constantFrom<string | undefined>('"1.0"', '2', 'null', undefined) },
    ),
    id: fc.oneof(
      { weight: 8, arbitrary: mode === 'wild' ? anyId : plausibleId },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    method: fc.oneof({ weight: 9, arbitrary: method(context) }, { weight: wild, arbitrary: fc.constant(undefined) }),
    params: fc.oneof({ weight: 6, arbitrary: params(context) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    response: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      {
        weight: wild,
        arbitrary: fc.constantFrom(
          '"result":{}',
          '"error":{"code":-32601,"message":"no"}',
          '"error":{"code":"x"}',
          '"result":{},"error":{"code":1,"message":"both"}',
        ),
      },
    ),
    extra:
      mode === 'plausible'
        ? fc.constant([])
        : fc.array(
            fc.oneof(
              fc.tuple(fc.constant('id'), anyId),
              fc.tuple(
                fc.constant('method'),
                method(context).map((m) => JSON.stringify(m) ?? 'null'),
              ),
              fc.tuple(fc.constant('jsonrpc'), fc.constantFrom('"2.0"', '"1.0"')),
              fc.tuple(
                fc.constantFrom('__proto__', 'constructor', 'toString'),
                fc.constantFrom('{}', 'null', '"x"', '{"polluted":true}'),
              ),
            ),
            { maxLength: 2 },
          ),
  });
};

/** JSON text of a draft, keys in order, duplicates kept. */
function messageText(d: Draft): string {
  const entries: string[] = [];
  if (d.jsonrpc !== undefined) entries.push(`"jsonrpc":${d.jsonrpc}`);
  if (d.id !== undefined) entries.push(`"id":${d.id}`);
  if (d.method !== undefined) entries.push(`"method":${JSON.stringify(d.method) ?? 'null'}`);
  if (d.params !== undefined) entries.push(`"params":${JSON.stringify(d.params) ?? 'null'}`);
  if (d.response !== undefined) entries.push(d.response);
  for (const [key, value] of d.extra) entries.push(`${JSON.stringify(key)}:${value}`);
  return `{${entries.join(',')}}`;
}

/** A body and the draft it was made from (when it was made from one). */
export interface DraftedBody {
  readonly draft: Draft | undefined;
  readonly text: string | Uint8Array;
}

/** One message, or (wild) a batch, a cut text, another JSON value, a BOM, bytes that are not UTF-8, garbage. */
export const body = (context: FuzzContext, mode: Mode): fc.Arbitrary<DraftedBody> => {
  const one = draft(context, mode).map((d): DraftedBody => ({ draft: d, text: messageText(d) }));
  if (mode === 'plausible') return one;
  return fc.oneof(
    { weight: 20, arbitrary: one },
    {
      weight: 3,
      arbitrary: fc
        .array(draft(context, mode), { minLength: 0, maxLength: 3 })
        .map((ds): DraftedBody => ({ draft: ds[0], text: `[${ds.map(messageText).join(',')}]` })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(draft(context, mode), fc.nat()).map(([d, cut]): DraftedBody => {
        const text = messageText(d);
        return { draft: d, text: text.slice(0, cut % text.length) };
      }),
    },
    {
      weight: 2,
      arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v): DraftedBody => ({ draft: undefined, text: JSON.stringify(v) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('', ' ', '\n', 'null', '{', '}', '{}', '[]')
        .map((t): DraftedBody => ({ draft: undefined, text: t })),
    },
    { weight: 1, arbitrary: one.map((b): DraftedBody => ({ ...b, text: `\ufeff${String(b.text)}` })) },
    {
      weight: 1,
      arbitrary: one.map((b): DraftedBody => {
        const bytes = Buffer.from(String(b.text));
        return { ...b, text: new Uint8Array([...bytes.subarray(0, 12), 0xff, 0xfe, ...bytes.subarray(12)]) };
      }),
    },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((t): DraftedBody => ({ draft: undefined, text: t })),
    },
  );
};
