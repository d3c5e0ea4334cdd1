import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { JsonObject } from '../upstream/types.ts';
import type { RequestAccess } from './access-control.ts';
import type { AccessSubject } from './access-rules.ts';

/**
 * Which calls wait for the user's confirmation before the gateway forwards them, decided once
 * in core for every host (broker, worker, Envoy router), after the access decision allowed the
 * call and before its quota is counted.
 * @see docs/configuration.md#confirmation
 */

/** Why a call needs confirmation: its server confirms destructive tools, its override asks, or a policy rule. */
export type ConfirmationNeed =
  | { readonly needed: false }
  | { readonly needed: true; readonly because: 'destructive' | 'override' | 'rule'; readonly rule?: string };

/** How a confirmation ended, as the audit trail records it. */
export type ConfirmationOutcome = 'accepted' | 'declined' | 'cancelled' | 'timeout' | 'unavailable' | 'invalid';

const NOT_NEEDED: ConfirmationNeed = Object.freeze({ needed: false });
const BY_OVERRIDE: ConfirmationNeed = Object.freeze({ needed: true, because: 'override' });
const BY_ANNOTATION: ConfirmationNeed = Object.freeze({ needed: true, because: 'destructive' });

/**
 * Whether an allowed tools/call of `subject` needs the user's confirmation: the tool's override
 * says `confirm: true`; its server says `confirmDestructive: true` and the tool as served (its
 * annotations after overrides) carries `destructiveHint: true`; or a policy rule of effect
 * `confirm` holds for the call (or fails to evaluate: fail safe). Anything but a tool call never does.
 * @param catalog Where the tool as served is read (only for a server that confirms destructive tools).
 * @param args The arguments the upstream would get (fixed arguments included), as the policy sees them.
 */
export function confirmationNeed(
  access: RequestAccess,
  server: ServerConfig,
  subject: AccessSubject,
  catalog: ServedTools,
  args: Readonly<Record<string, unknown>>,
): ConfirmationNeed {
  if (subject.kind !== 'tool') return NOT_NEEDED;
  if (confirmedByOverride(server).has(subject.name)) return BY_OVERRIDE;
  if (server.confirmDestructive === true && isDestructive(catalog.toolItem(subject.servedName))) return BY_ANNOTATION;
  const verdict = access.policy()?.decideConfirm({ ...subject, arguments: args });
  if (verdict === undefined) return NOT_NEEDED;
  return { needed: true, because: 'rule', ...(verdict.rule === undefined ? {} : { rule: verdict.rule }) };
}

/** What confirmationNeed reads of the catalog: the tool as served, by its served name. */
export interface ServedTools {
  toolItem(servedName: string): JsonObject | undefined;
}

/** The upstream names of a server's tools whose override says `confirm: true`, made once per server config. */
const overrideConfirms = new WeakMap<ServerConfig, ReadonlySet<string>>();

function confirmedByOverride(server: ServerConfig): ReadonlySet<string> {
  let names = overrideConfirms.get(server);
  if (names === undefined) {
    names = new Set((server.toolOverrides ?? []).filter((o) => o.confirm === true).map((o) => o.tool));
    overrideConfirms.set(server, names);
  }
  return names;
}

function isDestructive(tool: JsonObject | undefined): boolean {
  const annotations = tool?.['annotations'];
  return (
    typeof annotations === 'object' &&
    annotations !== null &&
    (annotations as Record<string, unknown>)['destructiveHint'] === true
  );
}

/** The longest arguments text a confirmation message quotes before it is cut. */
const MAX_ARGUMENTS_CHARS = 500;

/** The question put to the user: the served tool and its arguments, compact and bounded. */
export function confirmationMessage(servedName: string, args: unknown): string {
  let text = JSON.stringify(args ?? {}) ?? '{}';
  if (text.length > MAX_ARGUMENTS_CHARS) text = `${text.slice(0, MAX_ARGUMENTS_CHARS)}…`;
  return `Confirm tools/call of ${JSON.stringify(servedName)} with arguments ${text}?`;
}

/**
 * The `elicitation/create` params that ask the user: a form (no `mode`: form is the default, and
 * a 2025-06-18 client knows no other) with the message and a schema of one optional boolean,
 * `confirm`, that SDK clients of both generations render and validate.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/client/elicitation
 */
export function confirmationRequest(servedName: string, args: unknown): Record<string, unknown> {
  return {
    message: confirmationMessage(servedName, args),
    requestedSchema: {
      type: 'object',
      properties: { confirm: { type: 'boolean', title: 'Confirm', description: 'Run this call' } },
    },
  };
}

/**
 * Whether declared client capabilities let the gateway ask by a form: `elicitation` declared,
 * empty (form, as before modes existed) or naming `form` (a client declaring `url` only cannot).
 */
export function canElicitForm(capabilities: unknown): boolean {
  if (typeof capabilities !== 'object' || capabilities === null) return false;
  const elicitation = (capabilities as Record<string, unknown>)['elicitation'];
  if (typeof elicitation !== 'object' || elicitation === null) return false;
  const modes = Object.keys(elicitation);
  return modes.length === 0 || modes.includes('form') || !modes.includes('url');
}

/** The outcome an elicitation answer (`ElicitResult`, or a JSON-RPC error) stands for. */
export function outcomeOfAnswer(answer: Readonly<Record<string, unknown>>): ConfirmationOutcome {
  const result = answer['result'] ?? answer;
  const action =
    typeof result === 'object' && result !== null ? (result as Record<string, unknown>)['action'] : undefined;
  if (action === 'accept') {
    const content = (result as Record<string, unknown>)['content'];
    const confirm =
      typeof content === 'object' && content !== null ? (content as Record<string, unknown>)['confirm'] : undefined;
    // Accepting a form whose box is left unticked says no.
    return confirm === false ? 'declined' : 'accepted';
  }
  if (action === 'decline') return 'declined';
  return 'cancelled';
}

const REASONS: Readonly<Record<Exclude<ConfirmationOutcome, 'accepted'>, (timeoutSeconds: number) => string>> = {
  declined: () => 'the user declined',
  cancelled: () => 'the user cancelled',
  timeout: (seconds) => `no answer within ${seconds} s`,
  unavailable: () => 'the tool needs confirmation and the client cannot elicit (no elicitation capability)',
  invalid: () =>
    'its confirmation (requestState) is forged, expired, or for another tool, arguments or caller; call again without it',
};

/** The error a call that was not confirmed gets; it was not forwarded. */
export function confirmationRefusal(
  servedName: string,
  outcome: Exclude<ConfirmationOutcome, 'accepted'>,
  timeoutSeconds: number,
): GatewayError {
  const message = `the call of tool ${JSON.stringify(servedName)} was not confirmed: ${REASONS[outcome](timeoutSeconds)}`;
  return new GatewayError(outcome === 'invalid' ? 'CONFIRMATION_INVALID' : 'CONFIRMATION_DECLINED', message, {
    data: { confirmation: outcome },
  });
}
