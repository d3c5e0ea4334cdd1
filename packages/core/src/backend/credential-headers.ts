import type { ServerConfig } from '../config/schema.ts';

/**
 * The caller's headers as an upstream that takes each user's own credential sees them: the
 * user's credential as the Authorization, or none, never the client's own (its token is the
 * gateway's, not the upstream's to see or replay). The one place this is decided for every
 * request the gateway sends such an upstream: calls, backend sessions' initialize, their
 * streams, closes and notifications.
 */
export function upstreamIdentity(server: ServerConfig, client: Headers, userAuthorization?: string): Headers {
  if (server.userCredential === undefined && userAuthorization === undefined) return client;
  return new CredentialHeaders(client, userAuthorization);
}

/**
 * The client's headers with `authorization` as its Authorization (none when undefined). `get`, `has` and `forEach`
 * (all a forwarded call reads: names, and one iteration for Mcp-Param-* headers) read the
 * client's own headers as they are; anything else works on a copy made the first time it is
 * needed. The client's headers are never changed.
 */
export class CredentialHeaders implements Headers {
  readonly #client: Headers;
  readonly #authorization: string | undefined;
  #copy: Headers | undefined;

  constructor(client: Headers, authorization: string | undefined) {
    this.#client = client;
    this.#authorization = authorization;
  }

  /** Every header, the user's credential in place of the client's. */
  #all(): Headers {
    if (this.#copy === undefined) {
      this.#copy = new Headers(this.#client);
      if (this.#authorization === undefined) this.#copy.delete('authorization');
      else this.#copy.set('authorization', this.#authorization);
    }
    return this.#copy;
  }

  get(name: string): string | null {
    if (this.#copy !== undefined) return this.#copy.get(name);
    return name.toLowerCase() === 'authorization' ? (this.#authorization ?? null) : this.#client.get(name);
  }
  has(name: string): boolean {
    if (this.#copy !== undefined) return this.#copy.has(name);
    return name.toLowerCase() === 'authorization' ? this.#authorization !== undefined : this.#client.has(name);
  }
  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    // The client's own, its Authorization swapped in place (the order stays a Headers' order);
    // a client without one has the copy's order instead.
    const headers =
      this.#copy ??
      (this.#client.has('authorization') && this.#authorization !== undefined ? this.#client : this.#all());
    headers.forEach((value, key) =>
      callback.call(
        thisArg,
        key === 'authorization' && headers === this.#client ? (this.#authorization as string) : value,
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
