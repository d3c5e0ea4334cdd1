// Real SDK clients of both eras calling the whoami tool through a gateway as one user, and what
// each call came to: the upstream's answer (who it saw), the URL elicitation the gateway asked for
// (-32042, the SDK's UrlElicitationRequiredError), or another error.
import { UrlElicitationRequiredError as UrlElicitationErrorV2 } from '@modelcontextprotocol/client';
import {
  ElicitationCompleteNotificationSchema,
  UrlElicitationRequiredError as UrlElicitationErrorV1,
} from '@modelcontextprotocol/sdk/types.js';
import { connectSdkClient, type Caller } from '../harness/index.ts';

/** 'legacy': the SDK 1.x client (2025-11-25, sessions); 'modern': the SDK 2.x client negotiating 2026-07-28. */
export type ClientEra = 'legacy' | 'modern';

/** What one tools/call came to. */
export type CallOutcome =
  | { readonly kind: 'result'; readonly isError: boolean; readonly text: string; readonly caller?: Caller }
  | {
      readonly kind: 'elicitation';
      /** The SDK raised its UrlElicitationRequiredError (not only a -32042 McpError). */
      readonly sdkError: boolean;
      readonly message: string;
      readonly elicitations: ReadonlyArray<{ mode: string; elicitationId: string; url: string; message: string }>;
    }
  | { readonly kind: 'error'; readonly code: number | undefined; readonly message: string };

/** A connected client of one user. */
export interface UserClient {
  /** Calls `tool` (the gateway's name of whoami) and reports what came of it. */
  call(tool: string): Promise<CallOutcome>;
  /** The elicitation ids the gateway said are complete (`notifications/elicitation/complete`; legacy clients). */
  readonly completed: readonly string[];
  close(): Promise<void>;
}

/** Options of {@link connectUser}. */
export interface ConnectUserOptions {
  readonly era?: ClientEra;
  /** Declare `capabilities.elicitation` (form and url). Default true. */
  readonly elicitation?: boolean;
}

/** An SDK client at `url` sending `Authorization: Bearer <accessToken>`. */
export async function connectUser(
  url: string,
  accessToken: string,
  options: ConnectUserOptions = {},
): Promise<UserClient> {
  const headers = { authorization: `Bearer ${accessToken}` };
  const capabilities = options.elicitation === false ? {} : { elicitation: { form: {}, url: {} } };
  if (options.era === 'modern') {
    const connected = await connectSdkClient(url, { version: 2, negotiation: 'auto', headers, capabilities });
    return {
      call: (tool) => outcomeOf(() => connected.client.callTool({ name: tool, arguments: {} })),
      completed: [],
      close: () => connected.close(),
    };
  }
  const connected = await connectSdkClient(url, { version: 1, headers, capabilities });
  const completed: string[] = [];
  connected.client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
    completed.push(notification.params.elicitationId);
  });
  return {
    call: (tool) => outcomeOf(() => connected.client.callTool({ name: tool, arguments: {} })),
    completed,
    close: () => connected.close(),
  };
}

/** One call of `tool` on a fresh client, closed after. */
export async function callOnce(
  url: string,
  accessToken: string,
  tool: string,
  options: ConnectUserOptions = {},
): Promise<CallOutcome> {
  const client = await connectUser(url, accessToken, options);
  try {
    return await client.call(tool);
  } finally {
    await client.close();
  }
}

async function outcomeOf(call: () => Promise<unknown>): Promise<CallOutcome> {
  try {
    const result = (await call()) as { isError?: boolean; content?: Array<{ type: string; text?: string }> };
    const text = (result.content ?? []).map((item) => item.text ?? '').join('');
    return { kind: 'result', isError: result.isError === true, text, ...callerOf(text, result.isError === true) };
  } catch (error) {
    const { code, data, message } = error as { code?: unknown; data?: unknown; message?: string };
    const elicitations = (data as { elicitations?: unknown } | undefined)?.elicitations;
    if (code === -32042 && Array.isArray(elicitations)) {
      return {
        kind: 'elicitation',
        sdkError: error instanceof UrlElicitationErrorV1 || error instanceof UrlElicitationErrorV2,
        message: message ?? '',
        elicitations: elicitations as Extract<CallOutcome, { kind: 'elicitation' }>['elicitations'],
      };
    }
    return { kind: 'error', code: typeof code === 'number' ? code : undefined, message: message ?? String(error) };
  }
}

function callerOf(text: string, isError: boolean): { caller?: Caller } {
  if (isError) return {};
  try {
    return { caller: JSON.parse(text) as Caller };
  } catch {
    return {};
  }
}

/** The elicitation of an outcome, or a failure that says what came instead. */
export function elicitationOf(outcome: CallOutcome): Extract<CallOutcome, { kind: 'elicitation' }> {
  if (outcome.kind !== 'elicitation') {
    throw new Error(`expected a URL elicitation (-32042), got ${JSON.stringify(outcome)}`);
  }
  return outcome;
}

/** The caller whoami reported, or a failure that says what came instead. */
export function callerSeen(outcome: CallOutcome): Caller {
  if (outcome.kind !== 'result' || outcome.caller === undefined) {
    throw new Error(`expected the upstream's whoami answer, got ${JSON.stringify(outcome)}`);
  }
  return outcome.caller;
}

/** The text of an outcome: a result's text or an error's message. */
export function textOf(outcome: CallOutcome): string {
  return outcome.kind === 'result' ? outcome.text : outcome.message;
}
