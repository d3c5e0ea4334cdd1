#!/usr/bin/env node
// `npm start`: runs the two demo MCP servers and the gateway in front of them, prints the
// MCP URL and how to open it in MCP Inspector, and stops everything on Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exitUnlessSupportedNode } from 'mcp-gateway/node-version';

// Before anything starts: on an old Node, one line saying which Node is needed, exit code 1.
exitUnlessSupportedNode('npm start');

const root = fileURLToPath(new URL('..', import.meta.url));
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const gatewayCli = fileURLToPath(new URL('../packages/gateway/dist/cli.js', import.meta.url));
const gatewayPort = Number(process.env.PORT ?? 8080);
const READY_TIMEOUT_MS = 20_000;

/** @type {Array<{ name: string, child: import('node:child_process').ChildProcess }>} */
const children = [];
let stopping = false;

function start(name, args, env = {}) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const relay = (stream, target) => {
    let partial = '';
    stream.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) target.write(`[${name}] ${line}\n`);
    });
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[demo] ${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the demo.`);
    void stopAll(1);
  });
  children.push({ name, child });
  return { output: () => output };
}

async function waitFor(description, check) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await check())) {
    if (stopping) return;
    if (Date.now() > deadline) {
      console.error(`[demo] timed out after ${READY_TIMEOUT_MS} ms waiting for ${description}`);
      await stopAll(1);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function isHealthy(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  const running = children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  await Promise.all(
    running.map(
      ({ child }) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

if (!existsSync(gatewayCli)) {
  console.error('The gateway is not built: run `npm run build` first (npm ci runs it for you).');
  process.exit(1);
}

const weather = start('weather', [here('./demo-servers/weather.mjs')], { PORT: '9101' });
const notes = start('notes', [here('./demo-servers/notes.mjs')], { PORT: '9102' });
await waitFor('the weather demo server', () => /listening on/.test(weather.output()));
await waitFor('the notes demo server', () => /listening on/.test(notes.output()));

start('gateway', [
  gatewayCli,
  '--mcp-gateway-config',
  here('./config.yaml'),
  '--mcp-broker-public-address',
  `127.0.0.1:${gatewayPort}`,
]);
const baseUrl = `http://127.0.0.1:${gatewayPort}`;
await waitFor(`${baseUrl}/healthz`, () => isHealthy(`${baseUrl}/healthz`));

if (!stopping) {
  const mcpUrl = `${baseUrl}/mcp`;
  console.log(`
MCP gateway demo is running.

  MCP endpoint (Streamable HTTP):  ${mcpUrl}
  Upstream status:                 ${baseUrl}/status

Open it in MCP Inspector (web UI; needs Node >= 22.19):
  npx @modelcontextprotocol/inspector --transport http --server-url ${mcpUrl}

Or list the aggregated tools from the terminal:
  npx @modelcontextprotocol/inspector --cli ${mcpUrl} --transport http --method tools/list

Press Ctrl-C to stop.
`);
}
