// Broker replicas sharing one real redis-server for the credentials suites: each one the built CLI
// with URL elicitation on, the same upstream and token audience, its own encryption keys (so a
// suite can start one with a rotated key), and its own login client at the provider.
import { connectRedis } from '@mcp-gateway/core/redis';
import type { RunningOidcProvider } from '../harness/identity.ts';
import type { RunningRedis } from '../harness/index.ts';
import { credentialConfig, registerLoginClient, type CredentialServer } from './credential-config.ts';
import { startCredentialHost, type CredentialHost } from './credential-hosts.ts';

/** The audience every replica's callers' tokens name: one gateway behind several replicas. */
export const SHARED_AUDIENCE = 'https://gateway.test/mcp';

/** A replica of `servers` on `redis` sealing with `keys` (CREDENTIAL_ENCRYPTION_KEYS, newest first). */
export function startRedisReplica(options: {
  readonly idp: RunningOidcProvider;
  readonly redis: RunningRedis;
  readonly servers: readonly CredentialServer[];
  readonly keys: readonly string[];
}): Promise<CredentialHost> {
  return startCredentialHost('broker', {
    servers: options.servers,
    env: { CACHE_CONNECTION_STRING: options.redis.url, CREDENTIAL_ENCRYPTION_KEYS: options.keys.join(',') },
    config: async (address) =>
      credentialConfig({
        servers: options.servers,
        oauth: { issuer: options.idp.issuer, audience: SHARED_AUDIENCE },
        login: await registerLoginClient(options.idp, address.origins),
      }),
  });
}

/** Every user credential record in Redis: key `mcpgw:cred:<owner>`, field = server, value = sealed text. */
export async function credentialRecords(
  redis: RunningRedis,
): Promise<Array<{ key: string; server: string; sealed: string }>> {
  const connection = await connectRedis(redis.url);
  try {
    const records: Array<{ key: string; server: string; sealed: string }> = [];
    for (const key of await connection.keys('mcpgw:cred:*')) {
      for (const [server, sealed] of Object.entries(await connection.hgetall(key))) {
        records.push({ key, server, sealed });
      }
    }
    return records;
  } finally {
    await connection.quit();
  }
}

/** Rewrites one stored record's sealed text (e.g. with one byte edited). */
export async function overwriteRecord(redis: RunningRedis, key: string, server: string, sealed: string): Promise<void> {
  const connection = await connectRedis(redis.url);
  try {
    await connection.hset(key, server, sealed);
  } finally {
    await connection.quit();
  }
}

/** `sealed` with one character in the middle of its ciphertext changed to another base64url character. */
export function withOneByteEdited(sealed: string): string {
  const at = Math.floor(sealed.length * 0.75);
  const replacement = sealed[at] === 'A' ? 'B' : 'A';
  return `${sealed.slice(0, at)}${replacement}${sealed.slice(at + 1)}`;
}
