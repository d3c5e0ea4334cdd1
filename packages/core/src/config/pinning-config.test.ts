import { describe, expect, it } from 'vitest';
import { parseConfig } from './parse-config.ts';

const server = (pinning: string) =>
  `servers:\n  - name: files\n    url: http://files.internal/mcp\n    pinning:\n${pinning}`;
const DIGEST = `sha256:${'0a'.repeat(32)}`;

describe('parseConfig pinning', () => {
  it('reads onChange and approvals', () => {
    const result = parseConfig(server(`      onChange: withhold\n      approve: ["${DIGEST}"]\n`), 'gateway.yaml');
    expect(result.ok && result.config.servers[0]?.pinning).toEqual({
      onChange: 'withhold',
      approve: [DIGEST],
      pinned: {},
    });
  });

  it('turns pinning on with serveApproved and no approvals for an empty section', () => {
    const result = parseConfig(server('      {}\n'), 'gateway.yaml');
    expect(result.ok && result.config.servers[0]?.pinning).toEqual({
      onChange: 'serveApproved',
      approve: [],
      pinned: {},
    });
  });

  it('leaves pinning off for a server without the section', () => {
    const result = parseConfig('servers:\n  - name: files\n    url: http://files.internal/mcp\n', 'gateway.yaml');
    expect(result.ok && result.config.servers[0]).not.toHaveProperty('pinning');
  });

  it('refuses an unknown policy, a digest of another form and an unknown key, naming each', () => {
    const result = parseConfig(
      server('      onChange: ignore\n      approve: ["sha256:XYZ", "md5:00"]\n      pinAll: true\n'),
      'gateway.yaml',
    );
    expect(result.ok).toBe(false);
    const message = result.ok ? '' : result.error.message;
    expect(message).toMatch(/servers\[0\]\.pinning\.onChange: must be serveApproved or withhold/);
    expect(message).toMatch(/servers\[0\]\.pinning\.approve\[0\]: must be sha256: and 64 lowercase hex digits/);
    expect(message).toMatch(/servers\[0\]\.pinning.*must be a mapping of onChange, approve and pinned only/);
  });

  it('reads approved digests by tool name from pinned', () => {
    const result = parseConfig(server(`      pinned:\n        read_file: "${DIGEST}"\n`), 'gateway.yaml');
    expect(result.ok && result.config.servers[0]?.pinning?.pinned).toEqual({ read_file: DIGEST });
  });

  it('refuses a pinned digest of another form, naming the server and the tool', () => {
    const result = parseConfig(server('      pinned:\n        read_file: sha256:XYZ\n'), 'gateway.yaml');
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error.message).toMatch(
      /servers\[0\]\.pinning\.pinned\.read_file: must be sha256: and 64 lowercase hex digits/,
    );
  });

  it('refuses pinned that is not a mapping, and more than 2000 tools', () => {
    const list = parseConfig(server(`      pinned: ["${DIGEST}"]\n`), 'gateway.yaml');
    expect(list.ok ? '' : list.error.message).toMatch(
      /servers\[0\]\.pinning\.pinned: must be a mapping of tool names to digests/,
    );
    const entries = Array.from({ length: 2001 }, (_, i) => `        t${i}: "${DIGEST}"`).join('\n');
    const many = parseConfig(server(`      pinned:\n${entries}\n`), 'gateway.yaml');
    expect(many.ok ? '' : many.error.message).toMatch(/servers\[0\]\.pinning\.pinned: must hold at most 2000 tools/);
  });
});
