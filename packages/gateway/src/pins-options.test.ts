import { describe, expect, it } from 'vitest';
import { parseCli } from './cli-options.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const REDIS = { CACHE_CONNECTION_STRING: 'redis://127.0.0.1:6379' };

describe('mcp-gateway pins', () => {
  it('reads approve by tool against the Redis of CACHE_CONNECTION_STRING', () => {
    expect(parseCli(['pins', 'approve', '--server', 'files', '--tool', 'read_file'], REDIS)).toEqual({
      kind: 'pins',
      command: {
        action: 'approve',
        server: 'files',
        approval: { tool: 'read_file' },
        redisUrl: REDIS.CACHE_CONNECTION_STRING,
      },
    });
  });

  it('reads approve by digest and list, --redis-url winning over the environment', () => {
    expect(
      parseCli(['pins', 'approve', '--server=files', `--digest=${DIGEST}`, '--redis-url', 'redis://r:1'], REDIS),
    ).toMatchObject({ kind: 'pins', command: { approval: { digest: DIGEST }, redisUrl: 'redis://r:1' } });
    expect(parseCli(['pins', 'list', '--server', 'files'], REDIS)).toMatchObject({
      kind: 'pins',
      command: { action: 'list', server: 'files' },
    });
  });

  it('refuses approve without a shared store and says where approvals go instead', () => {
    const parsed = parseCli(['pins', 'approve', '--server', 'files', '--tool', 'read_file'], {});
    expect(parsed).toMatchObject({ kind: 'error' });
    expect(parsed.kind === 'error' && parsed.message).toMatch(
      /needs the shared session store .*without it approve in the config file \(servers\[\]\.pinning\.approve\)/,
    );
  });

  it('refuses approve with neither or both of --tool and --digest, a bad digest, no server or no action', () => {
    const errors = [
      ['pins', 'approve', '--server', 'files'],
      ['pins', 'approve', '--server', 'files', '--tool', 't', '--digest', DIGEST],
      ['pins', 'approve', '--server', 'files', '--digest', 'sha256:nothex'],
      ['pins', 'approve', '--tool', 't'],
      ['pins'],
      ['pins', 'approve', '--server', 'files', '--tool', 't', '--force'],
    ].map((argv) => parseCli(argv, REDIS));
    expect(errors.map((parsed) => (parsed.kind === 'error' ? parsed.message.split('\n')[0] : parsed.kind))).toEqual([
      'pins approve needs exactly one of --tool TOOL and --digest sha256:HEX',
      'pins approve needs exactly one of --tool TOOL and --digest sha256:HEX',
      '--digest must be sha256: and 64 lowercase hex digits',
      'pins approve needs --server NAME',
      'pins needs list or approve, not nothing',
      expect.stringMatching(/--force/),
    ]);
  });
});
