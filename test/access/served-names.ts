// Names as clients see them: the server's prefix before a tool or prompt name, and after a
// resource URI's `scheme://` (written out here rather than taken from core, so that the table
// states what clients see independently of the code under test).
import type { CallCase } from './access-types.ts';
import type { AccessServer } from './access-upstreams.ts';

/** A served tool or prompt name, or a served resource URI. */
export function prefixed(server: AccessServer, name: string): string {
  const scheme = name.indexOf('://');
  return scheme === -1
    ? `${server.prefix}${name}`
    : `${name.slice(0, scheme + 3)}${server.prefix}${name.slice(scheme + 3)}`;
}

/** The name or URI a call sends. */
export function servedItem(call: Pick<CallCase, 'server' | 'name'>): string {
  return prefixed(call.server, call.name);
}
