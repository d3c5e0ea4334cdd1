// The Node.js version check of `mcp-gateway` and `npm start` (packages/gateway/bin/node-version.js):
// the check itself, the minimum it shares with package.json, .ci/run and the README, and the
// real CLI bundle, bin shim and demo run by an old Node when this machine has one at
// /usr/bin/node (Debian's nodejs package; this suite's own Node is newer).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkNodeVersion, MINIMUM_NODE_VERSION } from 'mcp-gateway/node-version';
import { freePort, GATEWAY_CLI, REPO_ROOT } from '../harness/index.ts';
import { GATEWAY_BIN, runCommand } from './run-cli.ts';

const OLD_NODE_PATH = '/usr/bin/node';

/** `/usr/bin/node` and its version when it is older than the minimum; undefined otherwise. */
function findOldNode(): { path: string; version: string } | undefined {
  if (!existsSync(OLD_NODE_PATH)) return undefined;
  const version = execFileSync(OLD_NODE_PATH, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  return checkNodeVersion('probe', version).ok ? undefined : { path: OLD_NODE_PATH, version };
}

const oldNode = findOldNode();

describe('checkNodeVersion', () => {
  it('accepts the minimum and every newer Node', () => {
    for (const version of ['22.12.0', '22.12.1', '22.20.0', '23.0.0', '24.11.1', '100.0.0']) {
      expect(checkNodeVersion('mcp-gateway', version), version).toEqual({ ok: true });
    }
  });

  it('refuses an older Node in one line naming the command, both versions and where to get Node', () => {
    for (const version of ['22.11.0', '22.0.0', '20.20.2', '18.19.1']) {
      const check = checkNodeVersion('npm start', version);
      expect(check.ok, version).toBe(false);
      if (check.ok) continue;
      expect(check.message).not.toContain('\n');
      expect(check.message).toMatch(/^npm start needs Node\.js 22\.12 or newer/);
      expect(check.message).toContain(`this is Node.js ${version}`);
      expect(check.message).toContain('https://nodejs.org');
    }
  });

  it('needs the Node that package.json, .ci/run and the README name', () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(manifest.engines.node).toBe(`>=${MINIMUM_NODE_VERSION}`);
    const ci = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8');
    const [major, minor] = MINIMUM_NODE_VERSION.split('.');
    expect(ci).toContain(`readonly NODE_MINIMUM_MAJOR=${major}\n`);
    expect(ci).toContain(`readonly NODE_MINIMUM_MINOR=${minor}\n`);
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain(
      `Requires Node.js ${MINIMUM_NODE_VERSION} or newer`,
    );
  });
});

describe(
  oldNode === undefined
    ? `under an old Node (skipped: ${OLD_NODE_PATH} is missing or not older than ${MINIMUM_NODE_VERSION})`
    : `under Node ${oldNode.version} (${oldNode.path})`,
  () => {
    /** Runs `script args` with the old Node; a run that does not exit within 10 s fails. */
    const runOld = (script: string, args: string[] = [], env: Record<string, string> = {}) =>
      runCommand(oldNode!.path, [script, ...args], env, 10_000);

    const refusal = (command: string) =>
      `${command} needs Node.js ${MINIMUM_NODE_VERSION} or newer, but this is Node.js ${oldNode!.version}: `;

    it.skipIf(oldNode === undefined)('the bundled CLI refuses to run, in one line, with exit code 1', async () => {
      const run = await runOld(GATEWAY_CLI, ['--help']);
      expect(run).toMatchObject({ code: 1, stdout: '' });
      expect(run.stderr.startsWith(refusal('mcp-gateway'))).toBe(true);
      expect(run.stderr.trimEnd()).not.toContain('\n');
    });

    it.skipIf(oldNode === undefined)(
      'the mcp-gateway command refuses to run, in one line, with exit code 1',
      async () => {
        const run = await runOld(GATEWAY_BIN, ['--help']);
        expect(run).toMatchObject({ code: 1, stdout: '' });
        expect(run.stderr.startsWith(refusal('mcp-gateway'))).toBe(true);
        expect(run.stderr.trimEnd()).not.toContain('\n');
      },
    );

    it.skipIf(oldNode === undefined)('npm start refuses before it starts a demo server, with exit code 1', async () => {
      const run = await runOld(join(REPO_ROOT, 'examples/start-demo.mjs'), [], { PORT: String(await freePort()) });
      expect(run).toMatchObject({ code: 1, stdout: '' });
      expect(run.stderr.startsWith(refusal('npm start'))).toBe(true);
      expect(run.stderr.trimEnd()).not.toContain('\n');
    });
  },
);
