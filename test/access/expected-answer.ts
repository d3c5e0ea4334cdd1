// What a case of the access table must give, in the normalized form run-access-case.ts produces.
import { expect } from 'vitest';
import type { HostName } from './access-hosts.ts';
import type {
  AccessCase,
  AccessGroup,
  CallCase,
  DecidedBy,
  Era,
  ListExpectation,
  TableContext,
} from './access-types.ts';
import { ALL } from './access-upstreams.ts';
import { callLabel, type CallAnswer, type CaseAnswer } from './run-access-case.ts';
import { servedItem } from './served-names.ts';

/** The OAuth client the provider's users sign in with (the harness's own code flow): the tokens' client_id. */
const HARNESS_CLIENT_ID = 'harness-web';

const KINDS = {
  'tools/call': 'tool',
  'prompts/get': 'prompt',
  'completion/complete': 'prompt',
  'resources/read': 'resource',
  'resources/subscribe': 'resource',
} as const;

/** The answer `c` must give in `era` (the same on every host). */
export function expectedAnswer(group: AccessGroup, c: AccessCase, era: Era, ctx: TableContext): CaseAnswer {
  if (era === 'legacy' && c.expect.initialize !== undefined) return { initialize: c.expect.initialize };
  const values = (group.config(ctx)['audit'] as { arguments?: string } | undefined)?.arguments === 'values';
  return {
    ...(era === 'legacy' ? { initialize: 'ok' } : {}),
    tools: listOf(c.expect.tools, ALL.tools),
    prompts: listOf(c.expect.prompts, ALL.prompts),
    resources: listOf(c.expect.resources, ALL.resources),
    calls: Object.fromEntries(c.calls.map((call) => [callLabel(call), expectedCall(group, c, call, era, ctx, values)])),
    otherAuditRecords: [],
  };
}

/** A list the case leaves out is unfiltered. */
function listOf(expected: ListExpectation | undefined, all: readonly string[]): ListExpectation {
  if (expected === undefined) return [...all];
  return typeof expected === 'string' ? expected : [...expected].sort();
}

function expectedCall(
  group: AccessGroup,
  c: AccessCase,
  call: CallCase,
  era: Era,
  ctx: TableContext,
  values: boolean,
): CallAnswer {
  const served = servedItem(call);
  if (typeof call.expect === 'object')
    return { answer: call.expect.error, upstream: 'received nothing', audit: 'none' };
  const allowed = call.expect === 'allowed';
  const by = call.by ?? (allowed ? group.allowedBy : group.refusedBy);
  if (by === undefined) throw new Error(`${group.name} / ${c.name}: ${callLabel(call)} needs \`by\``);
  const [decidedBy, rule] = decisionOf(by);
  return {
    answer: allowed
      ? expect.stringMatching(/^result: /)
      : `error -32003 Access denied: the ${KINDS[call.method]} ${JSON.stringify(served)} is not available to this caller`,
    upstream: allowed ? 'received it, prefix removed' : 'received nothing',
    audit: {
      event: 'audit',
      outcome: allowed ? 'allowed' : 'denied',
      method: call.method,
      server: call.server.name,
      kind: KINDS[call.method],
      name: call.name,
      servedName: served,
      caller: c.caller === 'anonymous' ? null : { issuer: ctx.issuer, subject: c.caller, clientId: HARNESS_CLIENT_ID },
      session: era === 'legacy' ? 'a jti' : null,
      decidedBy,
      rule,
      time: 'an ISO time',
      latencyMs: allowed ? 'measured' : 0,
      upstreamStatus: allowed ? 200 : null,
      ...(values ? { arguments: 'the arguments' } : { argumentsSha256: 'of the arguments' }),
      fields: 'as documented',
    },
  };
}

/** `rule:x` → ['rule', 'x']; `capabilities` → ['capabilities', null]. */
function decisionOf(by: DecidedBy): [string, string | null] {
  const colon = by.indexOf(':');
  return colon === -1 ? [by, null] : [by.slice(0, colon), by.slice(colon + 1)];
}

/**
 * Which host records each call: the router records the calls it routes itself (allowed, and of
 * the upstream's own era); the broker behind it records the others, refusals included.
 */
export function expectedAuditHosts(host: HostName, c: AccessCase, era: Era): Record<string, string> {
  if (era === 'legacy' && c.expect.initialize !== undefined) return {};
  return Object.fromEntries(
    c.calls.map((call) => {
      if (typeof call.expect === 'object') return [callLabel(call), 'none'];
      if (host !== 'router') return [callLabel(call), host];
      return [callLabel(call), call.expect === 'allowed' && call.server.era === era ? 'router' : 'broker'];
    }),
  );
}
