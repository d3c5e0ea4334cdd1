// Seeded streams of JSON-RPC-ish requests (brief C): bodies from fuzz-bodies.ts with
// MCP-Protocol-Version / Mcp-Method / Mcp-Name headers that agree with the body or not, sessions
// live, ended, foreign or forged. fast-check generates them from a seed, so a failing run replays
// with the same seed (ATTACKER_SEED).
import fc from 'fast-check';
import { body, KNOWN_METHODS, type FuzzContext, type Mode } from './fuzz-bodies.ts';

export { KNOWN_METHODS, PROTOTYPE_METHODS, type FuzzContext } from './fuzz-bodies.ts';

/** One generated request. */
export interface FuzzRequest {
  /** Lower-case names, visible ASCII values. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

/** The seed of this run: ATTACKER_SEED when set (to replay a failure), else a fresh one. */
export function fuzzSeed(): number {
  const given = process.env['ATTACKER_SEED'];
  return given !== undefined && given !== '' ? Number(given) : Math.floor(Math.random() * 0x7fffffff);
}

/** How many requests a fuzz loop sends: ATTACKER_FUZZ_RUNS when set, else `fallback`. */
export function fuzzRuns(fallback: number): number {
  const given = process.env['ATTACKER_FUZZ_RUNS'];
  return given !== undefined && given !== '' ? Number(given) : fallback;
}

/** `count` requests of `context`'s era, generated from `seed`. */
export function sampleRequests(context: FuzzContext, seed: number, count: number): FuzzRequest[] {
  return fc.sample(fuzzRequest(context), { seed, numRuns: count });
}

/** A header value as a client can send it: visible ASCII as is, anything else in the `=?base64?…?=` form. */
export function toHeaderValue(value: string): string {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(value)
    ? value
    : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

const visibleAscii = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 20,
});

/** A header value: agreeing with the body (mostly, when plausible), another one, or none. */
function headerChoice(agreeing: string | undefined, others: fc.Arbitrary<string>, mode: Mode) {
  return fc.oneof(
    {
      weight: agreeing === undefined ? 0 : mode === 'plausible' ? 12 : 3,
      arbitrary: fc.constant(agreeing === undefined ? undefined : toHeaderValue(agreeing)),
    },
    { weight: 1, arbitrary: others.map((v): string | undefined => v) },
    { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
  );
}

/** `value` in plausible mode; one of `wild` (or `value`) in wild mode. */
function plausibly<T>(mode: Mode, value: T, wild: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return mode === 'plausible'
    ? fc.constant(value)
    : fc.oneof({ weight: 3, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: wild });
}

function request(context: FuzzContext, mode: Mode): fc.Arbitrary<FuzzRequest> {
  const modern = context.era === 'modern';
  return body(context, mode).chain(({ draft: d, text }) => {
    const bodyMethod = typeof d?.method === 'string' ? d.method : undefined;
    const p = d?.params as Record<string, unknown> | undefined;
    const named = typeof p === 'object' && p !== null ? (p['name'] ?? p['uri']) : undefined;
    const bodyName = typeof named === 'string' ? named : undefined;
    const session = fc.oneof(
      { weight: modern ? 1 : 12, arbitrary: fc.constantFrom(...context.sessions) },
      {
        weight: mode === 'wild' ? 1 : 0,
        arbitrary: visibleAscii.map((id) => ({ id, authorization: undefined as string | undefined })),
      },
      { weight: modern ? 12 : mode === 'wild' ? 2 : 0, arbitrary: fc.constant(undefined) },
    );
    return fc
      .record({
        session,
        wrongCaller: plausibly(mode, false, fc.constant(true)),
        version: plausibly<string | undefined>(
          mode,
          modern ? '2026-07-28' : '2025-11-25',
          fc.oneof(
            fc.constantFrom<string | undefined>(
              undefined,
              '2025-06-18',
              '2025-03-26',
              '2024-11-05',
              '2026-07-28',
              '2099-01-01',
            ),
            visibleAscii.map((v): string | undefined => v),
          ),
        ),
        mcpMethod: headerChoice(bodyMethod, fc.constantFrom<string>(...KNOWN_METHODS), mode),
        mcpName: headerChoice(bodyName, fc.oneof(fc.constantFrom(...context.names), visibleAscii), mode),
        contentType: plausibly<string | undefined>(
          mode,
          'application/json',
          fc.constantFrom('application/json; charset=utf-8', 'text/plain', undefined),
        ),
        accept: plausibly<string | undefined>(
          mode,
          'application/json, text/event-stream',
          fc.constantFrom('application/json', 'text/html', '*/*', undefined),
        ),
        origin: plausibly<string | undefined>(
          mode,
          undefined,
          fc.constantFrom('https://evil.example', 'http://localhost:3000'),
        ),
      })
      .map((h): FuzzRequest => {
        const headers: Record<string, string> = {};
        const set = (name: string, value: string | undefined) => {
          if (value !== undefined) headers[name] = value;
        };
        set('content-type', h.contentType);
        set('accept', h.accept);
        set('mcp-protocol-version', h.version);
        set('mcp-method', h.mcpMethod);
        set('mcp-name', h.mcpName);
        set('origin', h.origin);
        if (h.session !== undefined) {
          set('mcp-session-id', h.session.id);
          set('authorization', h.wrongCaller ? 'Bearer someone-else' : h.session.authorization);
        }
        return { headers, body: text };
      });
  });
}

/** The request arbitrary of `context`'s era: half plausible, half wild. */
export function fuzzRequest(context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(request(context, 'plausible'), request(context, 'wild'));
}

/** A short, printable description of a request, for failure reports. */
export function describeRequest(request: FuzzRequest): string {
  const body = typeof request.body === 'string' ? request.body : `bytes ${Buffer.from(request.body).toString('hex')}`;
  const clipped = body.length > 300 ? `${body.slice(0, 300)}…` : body;
  return `headers ${JSON.stringify(request.headers)} body ${JSON.stringify(clipped)}`;
}
