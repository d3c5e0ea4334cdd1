import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import { createSigningKey } from './signing-keys.ts';

/**
 * An issuer nobody configured, on loopback: it serves discovery documents and a JWKS for its own
 * key and counts every request. Its tokens name it in `iss` (and in a `jku` header), so a
 * verifier that fetched keys from where a token points would find them and accept the token;
 * a correct one never contacts it, and `hits()` stays 0.
 */
export interface RogueIssuer {
  /** `http://127.0.0.1:<port>`, the `iss` of its tokens. */
  readonly url: string;
  /** How many requests it received, of any kind. */
  hits(): number;
  /** The paths it was asked for, in order. */
  paths(): readonly string[];
  /** A token for `audience` signed with its own key; `claims` override alice's defaults. */
  token(audience: string, claims?: JWTPayload): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a {@link RogueIssuer} on 127.0.0.1. */
export async function startRogueIssuer(): Promise<RogueIssuer> {
  const key = await createSigningKey('RS256');
  const paths: string[] = [];
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://rogue').pathname;
    paths.push(path);
    const documents: Record<string, unknown> = {
      '/.well-known/openid-configuration': metadata,
      '/.well-known/oauth-authorization-server': metadata,
      '/jwks': { keys: [key.publicJwk] },
    };
    const body = documents[path];
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const metadata = { issuer: url, jwks_uri: `${url}/jwks`, response_types_supported: ['code'] };

  return {
    url,
    hits: () => paths.length,
    paths: () => [...paths],
    token(audience, claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        iss: url,
        aud: audience,
        sub: 'alice',
        client_id: 'rogue-client',
        scope: 'mcp:tools mcp:admin',
        roles: ['admin'],
        jti: randomBytes(16).toString('base64url'),
        iat: now,
        exp: now + 300,
        ...claims,
      })
        .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, jku: `${url}/jwks` })
        .sign(key.privateKey);
    },
    async stop() {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}
