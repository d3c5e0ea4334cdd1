// The version probes of .ci/provision-observability, sourced into bash under its own
// `set -euo pipefail`, against stand-in binaries that print the version line a real one prints and
// then a long banner. The stand-ins only exist to produce a timing for sure: a probe that pipes
// the output into `grep -q` fails whenever grep exits before the binary has written the rest
// (SIGPIPE; see test/install/provision-probes.test.ts). The real binaries run in the suites beside.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../harness/index.ts';

const run = promisify(execFile);
const PROBES = 40;
/** Twice what a pipe holds: the stand-in is still writing when a `grep -q` would have exited. */
const BANNER_BYTES = 128 * 1024;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Caches in a new temp directory, and no module proxy: a script that built when sourced would fail. */
function sandbox(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-obs-probes-'));
  dirs.push(dir);
  return {
    ...(process.env as Record<string, string>),
    HOME: dir,
    MCPGW_KUBE_CACHE: join(dir, 'kube'),
    MCPGW_OBSERVABILITY_CACHE: join(dir, 'observability'),
    GOPROXY: 'off',
  };
}

async function inScript(env: Record<string, string>, body: string): Promise<string> {
  const script = join(REPO_ROOT, '.ci', 'provision-observability');
  const { stdout } = await run('bash', ['-c', `set -euo pipefail\nsource "$1"\n${body}`, 'bash', script], {
    env,
    timeout: 20_000,
  });
  return stdout;
}

/** Stand-ins at the paths the script probes, printing the lines `lines` makes of the pinned versions. */
async function standIns(env: Record<string, string>, lines: (prometheus: string, jaeger: string) => [string, string]) {
  const out = await inScript(
    env,
    `printf '%s\\n' "$PROMETHEUS_DIR/prometheus" "$JAEGER_DIR/jaeger" "$PROMETHEUS_VERSION" "$JAEGER_VERSION"`,
  );
  const [prometheus, jaeger, prometheusVersion, jaegerVersion] = out.trim().split('\n') as [
    string,
    string,
    string,
    string,
  ];
  const [prometheusLine, jaegerLine] = lines(prometheusVersion, jaegerVersion);
  for (const [path, line] of [
    [prometheus, prometheusLine],
    [jaeger, jaegerLine],
  ] as const) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' '${line}'\nyes 'a banner line' | head -c ${BANNER_BYTES}\n`);
    chmodSync(path, 0o755);
  }
}

/** Runs each probe PROBES times; names the first whose outcome is not `expected`. */
function probeLoop(expected: 'accept' | 'reject'): string {
  const wrong = expected === 'accept' ? '! "$probe"' : '"$probe"';
  return `for probe in prometheus_ok jaeger_ok; do
  for ((i = 1; i <= ${PROBES}; i++)); do
    if ${wrong}; then echo "$probe: wrong outcome on probe $i of ${PROBES}"; exit 0; fi
  done
done
echo 'every probe as expected'`;
}

describe('.ci/provision-observability version probes', () => {
  it('accept binaries of the pinned versions on every probe, whatever follows the version line', async () => {
    const env = sandbox();
    await standIns(env, (prometheus, jaeger) => [
      `prometheus, version ${prometheus} (branch: module, revision: v0.0.0)`,
      `jaeger version v${jaeger}`,
    ]);
    expect(await inScript(env, probeLoop('accept'))).toBe('every probe as expected\n');
  });

  it('reject binaries that report another version', async () => {
    const env = sandbox();
    await standIns(env, (prometheus) => [
      `prometheus, version ${prometheus}0 (branch: main)`,
      'jaeger version v2.12.0',
    ]);
    expect(await inScript(env, probeLoop('reject'))).toBe('every probe as expected\n');
  });
});
