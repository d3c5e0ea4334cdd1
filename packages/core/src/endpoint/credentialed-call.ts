import type { ClientCall } from '../calls/call-context.ts';
import type { UpstreamCredential, UserCredentials } from '../credentials/user-credentials.ts';
import type { Era } from '../decision/routed-methods.ts';
import { META, requestMeta } from '../protocol/modern-request.ts';
import { publicOrigin } from '../credentials/public-origin.ts';
import { CredentialHeaders } from '../backend/credential-headers.ts';

/** What the endpoint needs to give a call its user's credential. */
export interface CredentialedCallContext {
  readonly credentials: UserCredentials;
  /** The gateway's public host (`--mcp-gateway-public-host`); else the request's Host. */
  readonly publicHost?: string | undefined;
}

/**
 * The user credential decision (core's UserCredentials.forCall, the one the Envoy router asks
 * too) for a call whose server takes one: `call` itself when the server does not; the call
 * carrying the user's credential as its Authorization (on the call and on any backend session
 * it opens); or the refusal to answer. The client's capabilities are its session's (legacy) or
 * its request's `_meta` (2026-07-28).
 */
export async function credentialedCall(
  ctx: CredentialedCallContext,
  call: ClientCall,
  era: Era,
): Promise<ClientCall | Extract<UpstreamCredential, { kind: 'refuse' }>> {
  const { server } = call.plan;
  if (!ctx.credentials.applies(server)) return call;
  const capabilities =
    era === 'legacy'
      ? call.session?.claims.clientCapabilities
      : (requestMeta(call.message)?.[META.clientCapabilities] as Record<string, unknown> | undefined);
  const decided = await ctx.credentials.forCall({
    server,
    auth: call.auth,
    authorization: call.request.headers.get('authorization'),
    clientCapabilities: capabilities,
    // Read only when the user is asked (the elicitation's link), not on every warm call.
    get origin() {
      return publicOrigin(call.request, ctx.publicHost);
    },
    jti: call.session?.claims.jti,
  });
  if (decided.kind === 'refuse') return decided;
  if (decided.kind === 'client') return call;
  // The user's credential in place of the client's Authorization, without copying the client's
  // headers (a copy through the WebIDL conversions cost most of what the credential added to a
  // warm call: bench/credentials.mjs).
  return {
    ...call,
    upstreamHeaders: new CredentialHeaders(call.request.headers, decided.authorization),
    userCredential: true,
  };
}
