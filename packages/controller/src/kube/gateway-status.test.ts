import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NOOP_LOGGER } from '@mcp-gateway/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGatewayStatus, startGatewayStatusPoller } from './gateway-status.ts';

let server: Server;
let base = '';
const hosts: string[] = [];
/** What /pins answers: changed by the tests. */
let pinsAnswer: unknown = { servers: [] };

beforeAll(async () => {
  server = createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    if (req.url === '/status') res.writeHead(200, { 'content-type': 'application/json' }).end('{"servers":[]}');
    else if (req.url === '/pins') res.writeHead(200).end(JSON.stringify(pinsAnswer));
    else if (req.url === '/garbage') res.writeHead(200).end('<html>not json</html>');
    else if (req.url === '/forbidden') res.writeHead(403).end('{"error":"Host not allowed"}');
    else if (req.url === '/huge') res.writeHead(200).end(`{"servers":[],"pad":"${'x'.repeat(2048)}"}`);
    else if (req.url === '/silent')
      return; // never answers
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('reading a gateway status', () => {
  it('parses the answer and sends the given Host', async () => {
    expect(await readGatewayStatus(`${base}/status`, 'mcp.example.com')).toEqual({ ok: true, answer: { servers: [] } });
    expect(hosts.at(-1)).toBe('mcp.example.com');
  });

  it('refuses an answer that is not JSON, not 200, or larger than the bound', async () => {
    expect(await readGatewayStatus(`${base}/garbage`, undefined)).toEqual({ ok: false, message: 'answer is not JSON' });
    expect(await readGatewayStatus(`${base}/forbidden`, undefined)).toEqual({
      ok: false,
      message: 'answered HTTP 403',
    });
    expect(await readGatewayStatus(`${base}/huge`, undefined, { maxBytes: 1024 })).toEqual({
      ok: false,
      message: 'answer larger than 1024 bytes',
    });
  });

  it('gives up on a gateway that does not answer within the timeout, or is not there', async () => {
    expect(await readGatewayStatus(`${base}/silent`, undefined, { timeoutMs: 200 })).toEqual({
      ok: false,
      message: 'no answer within 200 ms',
    });
    const closed = await readGatewayStatus('http://127.0.0.1:1/status', undefined);
    expect(closed).toMatchObject({ ok: false, message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('the status poller', () => {
  it('reports a change of pins once, keeps the last report through garbage, and logs each problem once', async () => {
    const changes: string[] = [];
    const warnings: string[] = [];
    const logger = {
      ...NOOP_LOGGER,
      warn: (message: string, fields?: Record<string, unknown>) =>
        warnings.push(`${message} ${String(fields?.['error'])}`),
    };
    let path = 'pins';
    const pinned = { onChange: 'withhold', pinned: 1, storeAvailable: true, quarantined: [] };
    pinsAnswer = { servers: [{ name: 'mcp-test/files', pinning: pinned }] };
    const poller = startGatewayStatusPoller({
      status: { urlTemplate: `${base}/{namespace}`, intervalMs: 50 },
      logger,
      targets: () => [{ namespace: path, host: 'mcp.example.com' }],
      onChange: (namespace) => changes.push(namespace),
    });
    try {
      await until(() => changes.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(changes).toEqual(['pins']);
      expect(poller.pins('pins')?.get('mcp-test/files')).toEqual(pinned);

      pinsAnswer = '<html>';
      await until(() => warnings.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(warnings).toEqual([
        'cannot read the gateway status; registration statuses kept as they are answer is not a gateway status report',
      ]);
      expect(poller.pins('pins')?.get('mcp-test/files')).toEqual(pinned);

      pinsAnswer = { servers: [{ name: 'mcp-test/files', pinning: { ...pinned, pinned: 2 } }] };
      await until(() => changes.length === 2);
      expect(poller.pins('pins')?.get('mcp-test/files')?.pinned).toBe(2);

      path = 'garbage';
      await until(() => warnings.length === 2);
      expect(poller.pins('pins')).toBeUndefined();
    } finally {
      poller.stop();
    }
  });
});

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
