// What each image runs, without a container engine: the files its Dockerfile COPYs, alone in
// a fresh directory (no node_modules anywhere above it), started with its ENTRYPOINT's node
// arguments. A bundle that still needed an installed package would fail here as in the image.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port.ts';
import { startProcess, type RunningProcess } from '../harness/process.ts';
import { copyOperands, entrypoint, readDockerfile } from './dockerfile.ts';
import { DOCKER_DIR, REPO_DIR } from './install-files.ts';

const dirs: string[] = [];
const running: RunningProcess[] = [];

afterAll(async () => {
  for (const child of running) await child.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Copies what the Dockerfile's COPY takes into a new temp directory; returns node's arguments there. */
function stageImage(dockerfile: string): string[] {
  const instructions = readDockerfile(DOCKER_DIR + dockerfile);
  const copy = instructions.find((instruction) => instruction.keyword === 'COPY');
  if (copy === undefined) throw new Error(`${dockerfile} has no COPY`);
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-image-'));
  dirs.push(dir);
  const { sources, destination } = copyOperands(copy);
  for (const source of sources) copyFileSync(join(REPO_DIR, source), join(dir, basename(source)));
  const [command, ...args] = entrypoint(instructions);
  expect(command).toBe('node');
  // The image's /app/<file> is <dir>/<file> here.
  return args.map((arg) => (arg.startsWith(destination) ? join(dir, arg.slice(destination.length)) : arg));
}

describe('the images’ bundles, run alone', () => {
  it('serve the gateway: broker and ext_proc router come up and /healthz answers', async () => {
    const args = stageImage('gateway.Dockerfile');
    const [brokerPort, routerPort] = [await freePort(), await freePort()];
    const gateway = await startProcess(
      process.execPath,
      [
        ...args,
        `--mcp-broker-public-address=127.0.0.1:${brokerPort}`,
        `--mcp-router-address=127.0.0.1:${routerPort}`,
        '--mcp-gateway-public-host=mcp.example.com',
      ],
      {
        cwd: tmpdir(),
        readyWhen: { url: `http://127.0.0.1:${brokerPort}/healthz`, stdout: /router \(Envoy ext_proc\) listening/ },
      },
    );
    running.push(gateway);
    const status = (await (await fetch(`http://127.0.0.1:${brokerPort}/status`)).json()) as { totalServers: number };
    expect(status.totalServers).toBe(0);
    expect(await gateway.stop()).toBe(0);
  });

  it('run the controller, which prints its usage', async () => {
    const args = stageImage('controller.Dockerfile');
    const controller = await startProcess(process.execPath, [...args, '--help'], { cwd: tmpdir() });
    running.push(controller);
    expect(await controller.exited).toBe(0);
    expect(controller.stdout()).toContain('--gateway-image');
    expect(controller.stdout()).toContain('--health-address');
  });
});
