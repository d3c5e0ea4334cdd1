// Fresh sessions that each make their first call to an upstream whose tool sends a request to
// the client right away: the shared part of the server-request suites (issue 11, item 9).
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type ClientCapabilities,
} from '@modelcontextprotocol/sdk/types.js';

/** What the client answers to each server-to-client request, and what the tools echo back. */
export const SAMPLED_TEXT = 'hello from the client';
export const CLIENT_ROOT = 'file:///interop/workspace';
export const ELICITED_NAME = 'interop-user';

/** The capabilities of a client that answers sampling, roots and elicitation requests. */
export const ANSWERING_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  roots: { listChanged: false },
  elicitation: { form: {} },
};

/** Installs handlers that answer sampling, roots and form elicitation with the constants above. */
export function answerServerRequests(client: Client): void {
  client.setRequestHandler(CreateMessageRequestSchema, () => ({
    role: 'assistant',
    model: 'interop-test-model',
    content: { type: 'text', text: SAMPLED_TEXT },
  }));
  client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [{ uri: CLIENT_ROOT, name: 'workspace' }] }));
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name: ELICITED_NAME } }));
}

/** How one session's first call ended. */
export interface FirstCallOutcome {
  readonly session: number;
  readonly ms: number;
  /** The call's text result, or undefined when it failed. */
  readonly text?: string;
  readonly error?: string;
}

/** What a run of first calls saw. */
export interface FirstCallReport {
  readonly outcomes: readonly FirstCallOutcome[];
  /** Outcomes whose text is not the expected one (errors, timeouts, wrong answers), as lines. */
  readonly failures: readonly string[];
  /** e.g. `3 of 15 first calls failed (20 %); slowest 2004 ms`. */
  readonly summary: string;
}

export interface FirstCallOptions {
  /** How many fresh sessions; each makes one first call. */
  readonly sessions: number;
  /** How many sessions run at the same time. Default 1. */
  readonly concurrency?: number;
  /** Runs session `index`: connect a fresh client, make its first call, return the text, close. */
  readonly run: (index: number) => Promise<string>;
  /** The text a delivered request leads to. */
  readonly expected: string;
}

/** Runs the sessions and reports each outcome; never throws for a failed call. */
export async function runFirstCalls(options: FirstCallOptions): Promise<FirstCallReport> {
  const outcomes: FirstCallOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.sessions) {
      const session = next++;
      const started = Date.now();
      try {
        const text = await options.run(session);
        outcomes.push({ session, ms: Date.now() - started, text });
      } catch (error) {
        outcomes.push({ session, ms: Date.now() - started, error: String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker));
  outcomes.sort((a, b) => a.session - b.session);

  const failures = outcomes
    .filter((outcome) => outcome.text !== options.expected)
    .map((outcome) => `session ${outcome.session} after ${outcome.ms} ms: ${outcome.error ?? outcome.text}`);
  const slowest = Math.max(...outcomes.map((outcome) => outcome.ms));
  const percent = Math.round((100 * failures.length) / outcomes.length);
  return {
    outcomes,
    failures,
    summary: `${failures.length} of ${outcomes.length} first calls failed (${percent} %); slowest ${slowest} ms`,
  };
}

/** The text of a tool result's first content item, or a description of what came instead. */
export function firstText(result: unknown): string {
  const content = (result as { content?: { type?: string; text?: string }[] }).content;
  const first = content?.[0];
  if (first?.type === 'text' && typeof first.text === 'string') {
    return (result as { isError?: boolean }).isError === true ? `tool error: ${first.text}` : first.text;
  }
  return `unexpected result: ${JSON.stringify(result).slice(0, 300)}`;
}
