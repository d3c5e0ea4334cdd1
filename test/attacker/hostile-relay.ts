// What a client must get from a call to a hostile upstream (brief B), checked the same way
// through every host: only the answer to its own id, the notifications of its own call, and
// server-to-client requests under gateway ids; each dropped message logged at warn.
import { expect } from 'vitest';
import {
  answerProblems,
  notificationsOf,
  responsesOf,
  serverRequestsOf,
  type Answer,
  type RpcMessage,
} from './answers.ts';
import { forgedContent, otherId, realContent, UPSTREAM_REQUEST_ID_PREFIX } from './hostile-upstream.ts';

/** The misbehaviours of brief B, by the name of the hostile tool that shows each. */
export type HostileCase = 'wrong_id' | 'batch' | 'mixed_stream' | 'elicit_stream';

/** A call a test made, for checking what came back. */
export interface MadeCall {
  readonly id: string | number;
  readonly progressToken: string;
  /** The config name of the upstream (the error of case a names it). */
  readonly upstream: string;
  /** The upstream's tool name, without the prefix. */
  readonly tool: HostileCase;
}

/** How many messages of each case the gateway must drop (each logged at warn). */
export const DROPPED: Readonly<Record<HostileCase, number>> = {
  wrong_id: 1,
  batch: 1,
  mixed_stream: 2,
  elicit_stream: 0,
};

/**
 * Asserts that `answer` holds only what belongs to `call`. `serverRequests`: 'delivered' (the
 * elicitation must reach the client under a gateway id) or 'not-upstream-ids' (it may be dropped,
 * but never reaches the client under the upstream's id).
 */
export function expectOnlyItsOwn(
  answer: Answer,
  call: MadeCall,
  serverRequests: 'delivered' | 'not-upstream-ids' = 'delivered',
): void {
  const label = `${call.tool} of ${call.upstream}`;
  expect({ label, status: answer.status, problems: answerProblems(answer, { id: call.id }) }).toEqual({
    label,
    status: 200,
    problems: [],
  });
  const messages = answer.messages;
  const foreign = messages.filter((m) => 'id' in m && m['id'] === otherId(call.id));
  expect({ label, foreign }).toEqual({ label, foreign: [] });
  expect({ label, forged: JSON.stringify(messages).includes(forgedContent(call.upstream)[0]!.text) }).toEqual({
    label,
    forged: false,
  });
  const responses = responsesOf(messages);
  expect({ label, responses: responses.length }).toEqual({ label, responses: 1 });
  const [response] = responses as [RpcMessage];
  expect({ label, id: response['id'] }).toEqual({ label, id: call.id });
  if (call.tool === 'wrong_id') {
    const error = response['error'] as { code?: unknown; message?: unknown } | undefined;
    expect({ label, code: error?.code, namesUpstream: String(error?.message).includes(call.upstream) }).toEqual({
      label,
      code: -32603,
      namesUpstream: true,
    });
    return;
  }
  const result = response['result'] as { content?: unknown } | undefined;
  expect({ label, content: result?.content }).toEqual({ label, content: realContent(call.upstream, call.tool) });
  if (call.tool === 'mixed_stream') {
    const tokens = notificationsOf(messages, 'notifications/progress').map(
      (m) => (m['params'] as { progressToken?: unknown }).progressToken,
    );
    expect({ label, tokens }).toEqual({ label, tokens: [call.progressToken] });
    expect({ label, logLines: notificationsOf(messages, 'notifications/message').length }).toEqual({
      label,
      logLines: 1,
    });
  }
  if (call.tool === 'elicit_stream') {
    const requests = serverRequestsOf(messages);
    const upstreamIds = requests.filter((m) => String(m['id']).startsWith(UPSTREAM_REQUEST_ID_PREFIX));
    expect({ label, upstreamIds }).toEqual({ label, upstreamIds: [] });
    if (serverRequests === 'delivered') {
      expect({ label, elicitations: requests.filter((m) => m['method'] === 'elicitation/create').length }).toEqual({
        label,
        elicitations: 1,
      });
    }
  }
}

/** How many warn lines `logs` holds (JSON lines with `"level":"warn"`). */
export function warnCount(logs: string): number {
  return logs.split('\n').filter((line) => line.includes('"level":"warn"')).length;
}

/** Waits (up to 3 s) until the log holds `expected` more warn lines than `before`; resolves with how many it holds. */
export async function warnsAfter(logs: () => string, before: number, expected: number): Promise<number> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const added = warnCount(logs()) - before;
    if (added >= expected || Date.now() > deadline) return added;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
