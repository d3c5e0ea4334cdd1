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
    // Read only when the user is asked (the elicitation's link), not on every warm call.
    get origin() {
      return publicOrigin(call.request, ctx.publicHost);
    },
    jti: call.session?.claims.jti,
  });
  if (decided.kind === 'refuse') return decided;
  if (decided.kind === 'client') return call;
  return { ...call, request: withAuthorization(call.request, decided.authorization), userCredential: true };
}

/**
 * The client's request with `authorization` in place of its own: a view of it whose `headers`
 * are {@link CredentialHeaders} and everything else (its signal first) the client's own. Not a
 * `new Request(...)`, which copies every header through the WebIDL conversions (with Hono's Node
 * server, parsing headers it otherwise leaves unparsed) and makes an AbortSignal that follows
 * the client's: most of what a user's credential added to a warm call (bench/credentials.mjs).
 */
function withAuthorization(request: Request, authorization: string): Request {
  const headers = new CredentialHeaders(request.headers, authorization);
  return new Proxy(request, {
    get(target, property) {
      if (property === 'headers') return headers;
      // The target as the receiver: a Request's getters and methods check their own instance.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * The client's headers with `authorization` as its Authorization. `get`, `has` and `forEach`
 * (all a forwarded call reads: names, and one iteration for Mcp-Param-* headers) read the
 * client's own headers as they are; anything else works on a copy made the first time it is
 * needed. The client's headers are never changed.
 */
class CredentialHeaders implements Headers {
  readonly #client: Headers;
  readonly #authorization: string;
  #copy: Headers | undefined;

  constructor(client: Headers, authorization: string) {
    this.#client = client;
    this.#authorization = authorization;
  }

  /** Every header, the user's credential in place of the client's. */
  #all(): Headers {
    if (this.#copy === undefined) {
      this.#copy = new Headers(this.#client);
      this.#copy.set('authorization', this.#authorization);
    }
    return this.#copy;
  }

  get(name: string): string | null {
    if (this.#copy !== undefined) return this.#copy.get(name);
    return name.toLowerCase() === 'authorization' ? this.#authorization : this.#client.get(name);
  }
  has(name: string): boolean {
    if (this.#copy !== undefined) return this.#copy.has(name);
    return name.toLowerCase() === 'authorization' || this.#client.has(name);
  }
  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    // The client's own, its Authorization swapped in place (the order stays a Headers' order);
    // a client without one has the copy's order instead.
    const headers = this.#copy ?? (this.#client.has('authorization') ? this.#client : this.#all());
    headers.forEach((value, key) =>
      callback.call(
        thisArg,
        key === 'authorization' && headers === this.#client ? this.#authorization : value,
        key,
        this,
      ),
    );
  }
  getSetCookie(): string[] {
    return this.#all().getSetCookie();
  }
  set(name: string, value: string): void {
    this.#all().set(name, value);
  }
  append(name: string, value: string): void {
    this.#all().append(name, value);
  }
  delete(name: string): void {
    this.#all().delete(name);
  }
  entries(): HeadersIterator<[string, string]> {
    return this.#all().entries();
  }
  keys(): HeadersIterator<string> {
    return this.#all().keys();
  }
  values(): HeadersIterator<string> {
    return this.#all().values();
  }
  [Symbol.iterator](): HeadersIterator<[string, string]> {
    return this.#all()[Symbol.iterator]();
  }
}
