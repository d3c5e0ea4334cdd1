import type { ServerConfig } from '@mcp-gateway/core';
import { BACKEND_INIT_HEADERS, type BackendInitTokens } from '@mcp-gateway/core/router';

/**
 * The base URL of `--mcp-gateway-private-host`: taken as is when it names a scheme, else
 * `http://` is put in front (the anchor's rule). No trailing slash.
 * @throws Error naming the flag when the result is not a URL.
 */
export function privateHostBase(privateHost: string): string {
  const base = /^https?:\/\//i.test(privateHost) ? privateHost : `http://${privateHost}`;
  try {
    const url = new URL(base);
    return `${url.protocol}//${url.host}`;
  } catch {
    throw new Error(`--mcp-gateway-private-host ${JSON.stringify(privateHost)} is not HOST:PORT or a URL`);
  }
}

/**
 * A fetch for the upstream client that opens `server`'s backend sessions through the gateway
 * (a hairpin): every request goes to the private host with the server's URL path, carrying
 * `mcp-init-host` (the server's virtual-host name) and a fresh 30 s `router-key` token bound to
 * it. Envoy asks the router, which checks the token and routes the request to the server's
 * virtual host, so the per-server policies Envoy applies there (auth, rate limits) apply to it.
 * `baseFetch` carries the requests: the host's fetch with the gateway's TLS trust (on Node,
 * `gatewayCACertPEM` for an `https://` private host); default the global fetch (system trust).
 * A network failure is a `TypeError('fetch failed')` whose innermost cause names the private
 * host and the reason (e.g. the certificate problem), not the server's own URL.
 * @see reference: the anchor's lazy backend initialize (`HairpinClientPool`)
 */
export function createHairpinFetch(
  privateHost: string,
  server: ServerConfig,
  tokens: BackendInitTokens,
  baseFetch: typeof fetch = fetch,
): typeof fetch {
  const base = privateHostBase(privateHost);
  return async (input, init) => {
    const target = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    headers.set(BACKEND_INIT_HEADERS.host, server.hostname);
    headers.set(BACKEND_INIT_HEADERS.token, await tokens.issue(server.hostname, server.name));
    try {
      return await baseFetch(`${base}${target.pathname}${target.search}`, { ...init, headers });
    } catch (error) {
      if (init?.signal?.aborted === true) throw error;
      // The upstream client reports the innermost cause; this one names the private host too.
      // eslint-disable-next-line preserve-caught-error -- restated (message and code), not lost
      throw new TypeError('fetch failed', { cause: throughPrivateHost(error, base) });
    }
  };
}

/**
 * The innermost error of a `cause` chain (undici's reason, at most 8 links deep) restated with
 * the private host: its message plus where it went, and its system `code` if any. The chain is
 * not kept, so that the upstream client's error reports this one.
 */
function throughPrivateHost(error: unknown, base: string): Error {
  let innermost: unknown = error;
  for (let depth = 0; depth < 8 && innermost instanceof Error && innermost.cause instanceof Error; depth++) {
    innermost = innermost.cause;
  }
  const message = innermost instanceof Error && innermost.message !== '' ? innermost.message : String(innermost);
  const code = (innermost as { code?: unknown } | null)?.code;
  return Object.assign(
    new Error(`${message} (through --mcp-gateway-private-host ${base})`),
    typeof code === 'string' ? { code } : {},
  );
}
