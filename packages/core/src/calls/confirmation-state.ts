import { canonicalJson } from '../audit/audit-record.ts';
import type { SessionTokens } from '../session/session-token.ts';
import type { SessionStore } from '../store/session-store.ts';

/**
 * Prefix of the `requestState` the gateway mints when it asks a 2026-07-28 client to confirm a
 * call (then a sealed token; never an upstream's own).
 */
export const CONFIRM_STATE_PREFIX = 'mcpgw-confirm:';

/** The `inputRequests` key of the gateway's confirmation. */
export const CONFIRM_INPUT_KEY = 'confirm';

/** What a confirmation is for: one tool, these arguments, this caller. */
export interface ConfirmationBinding {
  /** The served tool name. */
  readonly tool: string;
  /** SHA-256 (hex) of the arguments' canonical JSON. */
  readonly argumentsSha256: string;
  /** The caller's identity (`caller:<hash>`), or `anonymous`. */
  readonly caller: string;
}

/** The binding of a call of `tool` with `args` by `caller` (its identity hash; undefined for anonymous). */
export async function confirmationBinding(
  tool: string,
  args: unknown,
  caller: string | undefined,
): Promise<ConfirmationBinding> {
  const bytes = new TextEncoder().encode(canonicalJson(args ?? {}));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let argumentsSha256 = '';
  for (const byte of digest) argumentsSha256 += byte.toString(16).padStart(2, '0');
  return { tool, argumentsSha256, caller: caller === undefined ? 'anonymous' : `caller:${caller}` };
}

/**
 * Seals a binding into the `requestState` of the gateway's confirmation round: signed with the
 * session key (any replica opens it), expiring after `ttlSeconds` (the confirmation timeout).
 */
export async function sealConfirmation(
  tokens: Pick<SessionTokens, 'seal'>,
  binding: ConfirmationBinding,
  ttlSeconds: number,
): Promise<string> {
  const sealed = await tokens.seal(
    { k: 'confirm', t: binding.tool, a: binding.argumentsSha256, u: binding.caller },
    ttlSeconds,
  );
  return `${CONFIRM_STATE_PREFIX}${sealed}`;
}

/**
 * Whether `requestState` is a confirmation the gateway sealed for exactly this binding, not
 * expired. A forged token, one for another tool, other arguments or another caller is not.
 */
export async function isConfirmationFor(
  tokens: Pick<SessionTokens, 'open'>,
  requestState: string,
  binding: ConfirmationBinding,
): Promise<boolean> {
  if (!requestState.startsWith(CONFIRM_STATE_PREFIX)) return false;
  const state = await tokens.open(requestState.slice(CONFIRM_STATE_PREFIX.length));
  return (
    state !== undefined &&
    state['k'] === 'confirm' &&
    state['t'] === binding.tool &&
    state['a'] === binding.argumentsSha256 &&
    state['u'] === binding.caller
  );
}

/** Marks a stored confirmation (a PendingRequest entry that no client request answers). */
const CONFIRMED_MARKER = 'mcpgw:confirmed';

/** The store key of the confirmation of one binding, shared by every replica. */
function confirmedKey(binding: ConfirmationBinding): string {
  return `confirmed:${binding.tool}|${binding.argumentsSha256}|${binding.caller}`;
}

/**
 * Remembers for `ttlSeconds` that the user confirmed this call, so that the upstream's own
 * input_required rounds of it (retries carrying the upstream's requestState, not the gateway's)
 * are not asked again.
 */
export function rememberConfirmed(
  store: Pick<SessionStore, 'putPending'>,
  binding: ConfirmationBinding,
  ttlSeconds: number,
): Promise<void> {
  const entry = { jti: binding.caller, server: CONFIRMED_MARKER, backendSessionId: CONFIRMED_MARKER, upstreamId: 0 };
  return store.putPending(confirmedKey(binding), entry, ttlSeconds);
}

/** Whether this call was confirmed within the timeout (see rememberConfirmed); it stays remembered. */
export async function wasConfirmed(
  store: Pick<SessionStore, 'putPending' | 'takePending'>,
  binding: ConfirmationBinding,
  ttlSeconds: number,
): Promise<boolean> {
  const entry = await store.takePending(confirmedKey(binding));
  if (entry === undefined || entry.server !== CONFIRMED_MARKER || entry.jti !== binding.caller) return false;
  await rememberConfirmed(store, binding, ttlSeconds);
  return true;
}
