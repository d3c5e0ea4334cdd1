import type { Era } from '../decision/routed-methods.ts';
import type { CallContext, ClientCall } from './call-context.ts';
import { forwardRev20251125ToRev20260728 } from './rev2025-11-25-to-rev2026-07-28.ts';
import { forwardRev20251125 } from './rev2025-11-25.ts';
import { forwardRev20260728ToRev20251125 } from './rev2026-07-28-to-rev2025-11-25.ts';
import { forwardRev20260728 } from './rev2026-07-28.ts';

/** Forwards one call in one era direction: every direction has this contract. */
export type CallForwarder = (ctx: CallContext, call: ClientCall) => Promise<Response>;

/**
 * The forwarder per (client era, upstream era): the same era on both sides, or a named shim
 * between them. Adding an era adds its row here and its folder of files.
 */
const FORWARDERS: Readonly<Record<Era, Readonly<Record<Era, CallForwarder>>>> = {
  legacy: { legacy: forwardRev20251125, modern: forwardRev20251125ToRev20260728 },
  modern: { legacy: forwardRev20260728ToRev20251125, modern: forwardRev20260728 },
};

/**
 * Forwards a client's call to the upstream its plan names, in the era the plan chose for that
 * upstream; resolves with the client's answer (JSON, or an SSE stream relayed as it comes).
 * A legacy client's call carries its session.
 */
export function forwardCall(ctx: CallContext, call: ClientCall, clientEra: Era): Promise<Response> {
  return FORWARDERS[clientEra][call.plan.upstreamEra](ctx, call);
}
