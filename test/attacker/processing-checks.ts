// What makes an ext_proc ProcessingResponse valid (brief C, the router's answers): exactly one
// phase member, an ImmediateResponse with a valid HTTP status, header mutations Envoy accepts
// (lower-case names, values without CR, LF or NUL), a rewritten request body that is JSON, and
// JSON immediate bodies that are well-formed JSON-RPC answers to the request.
import { ALLOWED_STATUSES, answerProblems, toAnswer } from './answers.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- both the in-process objects and grpc-js decodings
type Loose = Record<string, any>;

const PHASES = ['request_headers', 'request_body', 'response_headers', 'response_body', 'immediate_response'] as const;

/** type.v3.StatusCode names grpc-js decodes (the processor's proto) and their HTTP codes. */
const STATUS_BY_NAME: Readonly<Record<string, number>> = {
  OK: 200,
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  PayloadTooLarge: 413,
  InternalServerError: 500,
  BadGateway: 502,
  ServiceUnavailable: 503,
  GatewayTimeout: 504,
};

const HEADER_NAME = /^:?[a-z0-9!#$%&'*+.^_`|~-]+$/;
const BODY_MODES = new Set(['NONE', 'STREAMED', 'BUFFERED', 'BUFFERED_PARTIAL', 'FULL_DUPLEX_STREAMED', 0, 1, 2, 3, 4]);
const HEADER_MODES = new Set(['DEFAULT', 'SEND', 'SKIP', 0, 1, 2]);

/** The HTTP status of an ImmediateResponse as given in process (a number) or decoded by grpc-js (a name). */
export function immediateStatus(code: unknown): number | undefined {
  if (typeof code === 'number') return Number.isInteger(code) && code >= 100 && code <= 599 ? code : undefined;
  if (typeof code === 'string') return STATUS_BY_NAME[code];
  return undefined;
}

function bytesOf(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

function mutationProblems(where: string, mutation: Loose | undefined): string[] {
  if (mutation === undefined) return [];
  const problems: string[] = [];
  for (const option of mutation['set_headers'] ?? []) {
    const key = option?.['header']?.['key'];
    const raw = bytesOf(option?.['header']?.['raw_value']);
    if (typeof key !== 'string' || !HEADER_NAME.test(key))
      problems.push(`${where} sets a header named ${JSON.stringify(key)}`);
    if (raw === undefined && typeof option?.['header']?.['value'] !== 'string')
      problems.push(`${where} sets ${key} without a value`);
    if (raw !== undefined && raw.some((byte) => byte === 0x0d || byte === 0x0a || byte === 0x00)) {
      problems.push(`${where} sets ${key} to a value with CR, LF or NUL`);
    }
  }
  for (const name of mutation['remove_headers'] ?? []) {
    if (typeof name !== 'string' || name === '')
      problems.push(`${where} removes a header named ${JSON.stringify(name)}`);
  }
  return problems;
}

/**
 * Every way `response` is not a valid ProcessingResponse for a request whose id was `requestId`
 * (see the file comment). Empty when valid.
 */
export function processingProblems(response: Loose | undefined, requestId: string | number | undefined): string[] {
  if (response === undefined || response === null || typeof response !== 'object') return ['no ProcessingResponse'];
  const present = PHASES.filter((phase) => response[phase] !== undefined && response[phase] !== null);
  if (present.length !== 1)
    return [`a ProcessingResponse with ${present.length} phase members (${present.join(', ')})`];
  const [phase] = present as [(typeof PHASES)[number]];
  const problems: string[] = [];
  const override = response['mode_override'];
  if (override !== undefined && override !== null) {
    for (const key of ['request_body_mode', 'response_body_mode'])
      if (override[key] !== undefined && !BODY_MODES.has(override[key]))
        problems.push(`a mode_override ${key} of ${override[key]}`);
    for (const key of ['request_header_mode', 'response_header_mode'])
      if (override[key] !== undefined && !HEADER_MODES.has(override[key]))
        problems.push(`a mode_override ${key} of ${override[key]}`);
  }
  if (phase === 'immediate_response') {
    const immediate = response[phase] as Loose;
    const status = immediateStatus(immediate['status']?.['code']);
    if (status === undefined) problems.push(`an ImmediateResponse with status ${JSON.stringify(immediate['status'])}`);
    else if (!ALLOWED_STATUSES.has(status)) problems.push(`an ImmediateResponse with HTTP status ${status}`);
    problems.push(...mutationProblems('the ImmediateResponse', immediate['headers']));
    const body = bytesOf(immediate['body']);
    const contentType = (immediate['headers']?.['set_headers'] ?? [])
      .filter((option: Loose) => option?.['header']?.['key'] === 'content-type')
      .map((option: Loose) => Buffer.from(bytesOf(option['header']['raw_value']) ?? []).toString())[0];
    if (body !== undefined && status !== undefined && String(contentType).includes('json')) {
      const answer = toAnswer(status, { 'content-type': String(contentType) }, Buffer.from(body).toString('utf8'));
      problems.push(
        ...answerProblems(answer, { id: requestId }).map((problem) => `the ImmediateResponse body: ${problem}`),
      );
    }
    return problems;
  }
  const common = response[phase]?.['response'] as Loose | undefined;
  problems.push(...mutationProblems(`the ${phase} answer`, common?.['header_mutation']));
  const rewritten = bytesOf(common?.['body_mutation']?.['body']);
  if (rewritten !== undefined && phase === 'request_body') {
    try {
      JSON.parse(Buffer.from(rewritten).toString('utf8'));
    } catch {
      problems.push('a rewritten request body that is not JSON');
    }
  }
  const fields = response['dynamic_metadata']?.['fields']?.['mcp-gateway']?.['structValue']?.['fields'];
  for (const [key, value] of Object.entries((fields ?? {}) as Loose)) {
    if (typeof value?.['stringValue'] !== 'string') problems.push(`dynamic metadata ${key} that is not a string`);
  }
  return problems;
}
