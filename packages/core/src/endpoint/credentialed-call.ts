import type { ClientCall } from '../calls/call-context.ts';
import type { UpstreamCredential, UserCredentials } from '../credentials/user-credentials.ts';
import type { Era } from '../decision/routed-methods.ts';
import { META, requestMeta } from '../protocol/modern-request.ts';
import { publicOrigin } from '../credentials/public-origin.ts';

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
    origin: publicOrigin(call.request, ctx.publicHost),
    jti: call.session?.claims.jti,
  });
  if (decided.kind === 'refuse') return decided;
  if (decided.kind === 'client') return call;
  return { ...call, request: withAuthorization(call.request, decided.authorization), userCredential: true };
}

/** The client's request with `authorization` in place of its own (the rest of its headers and its signal kept). */
function withAuthorization(request: Request, authorization: string): Request {
  const headers = new Headers(request.headers);
  headers.set('authorization', authorization);
  return new Request(request.url, { method: request.method, headers, signal: request.signal });
}
