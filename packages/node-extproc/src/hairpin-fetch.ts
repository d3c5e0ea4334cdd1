import { BACKEND_INIT_HEADERS, type BackendInitTokens, type ServerConfig } from '@mcp-gateway/core';

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
 * @see reference: the anchor's lazy backend initialize (`HairpinClientPool`)
 */
export function createHairpinFetch(privateHost: string, server: ServerConfig, tokens: BackendInitTokens): typeof fetch {
  const base = privateHostBase(privateHost);
  return async (input, init) => {
    const target = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    headers.set(BACKEND_INIT_HEADERS.host, server.hostname);
    headers.set(BACKEND_INIT_HEADERS.token, await tokens.issue(server.hostname, server.name));
    return fetch(`${base}${target.pathname}${target.search}`, { ...init, headers });
  };
}
