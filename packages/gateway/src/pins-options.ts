import { parseArgs } from 'node:util';
import type { PinApproval } from '@mcp-gateway/core';
import * as v from 'valibot';

/** `mcp-gateway pins list|approve`: what to do to which server's pins, in which store. */
export interface PinsCommand {
  readonly action: 'list' | 'approve';
  readonly server: string;
  /** `approve`: the quarantined definition to approve, by tool or by digest. */
  readonly approval?: PinApproval;
  /** The shared store: `--redis-url`, else CACHE_CONNECTION_STRING. */
  readonly redisUrl: string;
}

/** Result of parsing `mcp-gateway pins …`. */
export type PinsParseResult = { kind: 'pins'; command: PinsCommand } | { kind: 'error'; message: string };

/** The help of the `pins` subcommand (also in HELP_TEXT). */
export const PINS_HELP_TEXT = `Pinned tool definitions (servers[].pinning), in the store replicas share:
  mcp-gateway pins list --server NAME [--redis-url URL]
                                     Print the server's pin record (approved and quarantined tools) as JSON.
  mcp-gateway pins approve --server NAME (--tool TOOL | --digest sha256:HEX) [--redis-url URL]
                                     Approve a quarantined definition; every replica serves it at once.
  --redis-url defaults to CACHE_CONNECTION_STRING.
`;

const PinsSchema = v.object({
  server: v.pipe(v.string('--server NAME is required'), v.minLength(1, '--server must name a server')),
  tool: v.optional(v.pipe(v.string(), v.minLength(1, '--tool must name a tool'))),
  digest: v.optional(
    v.pipe(v.string(), v.regex(/^sha256:[0-9a-f]{64}$/, '--digest must be sha256: and 64 lowercase hex digits')),
  ),
  'redis-url': v.optional(v.pipe(v.string(), v.minLength(1, '--redis-url must be a Redis URL'))),
});

/**
 * Parses the arguments after `pins` (`list` or `approve`, then flags) with one valibot schema;
 * every problem is reported, each naming the flag. Without a Redis URL the command has no shared
 * store to work on, and says where approvals go instead.
 */
export function parsePinsCli(argv: readonly string[], env: Record<string, string | undefined>): PinsParseResult {
  const [action, ...rest] = argv;
  if (action !== 'list' && action !== 'approve') {
    return { kind: 'error', message: `pins needs list or approve, not ${action ?? 'nothing'}\n${PINS_HELP_TEXT}` };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(Object.keys(PinsSchema.entries).map((name) => [name, { type: 'string' as const }])),
    }));
  } catch (error) {
    return { kind: 'error', message: `${(error as Error).message}\n${PINS_HELP_TEXT}` };
  }
  if (values['server'] === undefined) return { kind: 'error', message: `pins ${action} needs --server NAME` };
  const parsed = v.safeParse(PinsSchema, values);
  if (!parsed.success) return { kind: 'error', message: parsed.issues.map((issue) => issue.message).join('\n') };
  const { server, tool, digest } = parsed.output;
  if (action === 'approve' && (tool === undefined) === (digest === undefined)) {
    return { kind: 'error', message: 'pins approve needs exactly one of --tool TOOL and --digest sha256:HEX' };
  }
  if (action === 'list' && (tool !== undefined || digest !== undefined)) {
    return { kind: 'error', message: 'pins list takes only --server and --redis-url' };
  }
  const redisUrl = parsed.output['redis-url'] ?? env['CACHE_CONNECTION_STRING'];
  if (redisUrl === undefined || redisUrl === '') {
    return {
      kind: 'error',
      message: `pins ${action} needs the shared session store (--redis-url URL or CACHE_CONNECTION_STRING); without it approve in the config file (servers[].pinning.approve)`,
    };
  }
  const approval = tool !== undefined ? { tool } : digest !== undefined ? { digest } : undefined;
  return { kind: 'pins', command: { action, server, redisUrl, ...(approval === undefined ? {} : { approval }) } };
}
