// The version probes of the CI scripts (.ci/provision-kube, .ci/run), sourced into bash under
// their own `set -euo pipefail`, against stand-in binaries. A stand-in is a shell script printing
// the version line a real binary prints, then a long banner: a probe that pipes the output into
// `grep -q` fails whenever grep exits at the first match before the binary has written the rest
// (SIGPIPE), which real etcd did 8 times in 40 under load. The stand-ins only exist to produce
// that timing for sure; the real binaries are probed by the kube and helm suites.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_DIR } from './install-files.ts';

const run = promisify(execFile);

/** How many times each probe runs: as many as the 40 probes in which etcd died 8 times. */
const PROBES = 40;
/**
 * Bytes of banner after the version line: twice what a pipe holds, so the stand-in is still
 * writing when grep -q has exited, every time; the probes stay well within 5 s.
 */
const BANNER_BYTES = 128 * 1024;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The environment of a sourced script: a new temp directory as $HOME and $MCPGW_KUBE_CACHE, and
 * no downloads, so that a script that ran its steps when sourced could fetch nothing.
 */
function sandbox(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-probes-'));
  dirs.push(dir);
  return {
    ...(process.env as Record<string, string>),
    HOME: dir,
    MCPGW_KUBE_CACHE: join(dir, 'kube'),
    GOPROXY: 'off',
    PIP_NO_INDEX: '1',
    npm_config_offline: 'true',
  };
}

/** Runs `body` in bash after sourcing `script`, which then only defines its functions. */
async function inScript(script: string, env: Record<string, string>, body: string): Promise<string> {
  const { stdout } = await run(
    'bash',
    ['-c', `set -euo pipefail\nsource "$1"\n${body}`, 'bash', join(REPO_DIR, script)],
    { env, timeout: 20_000 },
  );
  return stdout;
}

/** Writes an executable stand-in at `path` that prints `firstLine`, then a long banner. */
function writeStandIn(path: string, firstLine: string): void {
  expect(firstLine).not.toContain("'");
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    `#!/bin/sh\nprintf '%s\\n' '${firstLine}'\nyes 'Go Version: a banner line longer than the probe reads' | head -c ${BANNER_BYTES}\n`,
  );
  chmodSync(path, 0o755);
}

/** A bash loop running each probe PROBES times; it names the first probe whose outcome is not `expected`. */
function probeLoop(probes: readonly string[], expected: 'accept' | 'reject'): string {
  const wrong = expected === 'accept' ? '! "$probe"' : '"$probe"';
  return `for probe in ${probes.join(' ')}; do
  for ((i = 1; i <= ${PROBES}; i++)); do
    if ${wrong}; then echo "$probe: wrong outcome on probe $i of ${PROBES}"; exit 0; fi
  done
done
echo 'every probe as expected'`;
}

describe('.ci/provision-kube version probes', () => {
  const PROBED = ['apiserver_ok', 'etcd_ok', 'helm_ok'];

  /** Stand-ins at the paths the script probes, each printing the given version line. */
  async function standIns(env: Record<string, string>, lines: (version: Record<string, string>) => string[]) {
    const out = await inScript(
      '.ci/provision-kube',
      env,
      `printf '%s\\n' "$APISERVER_DIR/kube-apiserver" "$ETCD_DIR/etcd" "$HELM_DIR/helm" "$KUBE_VERSION" "$ETCD_VERSION" "$HELM_VERSION"`,
    );
    const [apiserver, etcd, helm, kube, etcdVersion, helmVersion] = out.trim().split('\n') as [string, ...string[]];
    const firstLines = lines({ kube: kube!, etcd: etcdVersion!, helm: helmVersion! });
    [apiserver, etcd!, helm!].forEach((path, index) => writeStandIn(path, firstLines[index]!));
  }

  it('accept binaries of the pinned versions on every probe, whatever follows the version line', async () => {
    const env = sandbox();
    await standIns(env, (v) => [`Kubernetes v${v['kube']}`, `etcd Version: ${v['etcd']}`, `v${v['helm']}`]);
    expect(await inScript('.ci/provision-kube', env, probeLoop(PROBED, 'accept'))).toBe('every probe as expected\n');
  });

  it('reject binaries that report another version', async () => {
    const env = sandbox();
    await standIns(env, () => ['Kubernetes v1.0.0', 'etcd Version: 3.4.0', 'v3.0.0']);
    expect(await inScript('.ci/provision-kube', env, probeLoop(PROBED, 'reject'))).toBe('every probe as expected\n');
  });
});

describe('.ci/run version probe of Envoy', () => {
  /** A stand-in venv python that names a stand-in Envoy printing `versionLine`. */
  async function envoyStandIn(env: Record<string, string>, versionLine: (version: string) => string) {
    const out = await inScript('.ci/run', env, `printf '%s\\n' "$ENVOY_VENV" "$ENVOY_VERSION"`);
    const [venv, version] = out.trim().split('\n') as [string, string];
    const envoy = join(venv, 'bin', 'envoy');
    writeStandIn(envoy, versionLine(version));
    writeFileSync(join(venv, 'bin', 'python'), `#!/bin/sh\necho '${envoy}'\n`);
    chmodSync(join(venv, 'bin', 'python'), 0o755);
  }

  it('accepts the pinned Envoy on every probe, whatever follows the version line', async () => {
    const env = sandbox();
    await envoyStandIn(env, (version) => `envoy  version: 0123abcd/${version}/Clean/RELEASE/BoringSSL`);
    expect(await inScript('.ci/run', env, probeLoop(['envoy_is_provisioned'], 'accept'))).toBe(
      'every probe as expected\n',
    );
  });

  it('rejects an Envoy of another version', async () => {
    const env = sandbox();
    await envoyStandIn(env, () => 'envoy  version: 0123abcd/1.30.0/Clean/RELEASE/BoringSSL');
    expect(await inScript('.ci/run', env, probeLoop(['envoy_is_provisioned'], 'reject'))).toBe(
      'every probe as expected\n',
    );
  });
});
