// /status under the same Host and Origin rules as /mcp (brief C): a gateway listening on loopback
// must not hand its upstream inventory to a DNS-rebinding page (Host: evil.example) or to any
// origin's script, while kubelet's probes of /healthz and /readyz (by pod IP) keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { startBrokerHost, type HttpHost } from './http-hosts.ts';
import { rawRequest } from './raw-http.ts';
import { registerTargets, TARGET_PREFIX, waitForTools } from './sessions.case.ts';

const ALLOWED_ORIGIN = 'https://app.example.com';

let targets: SdkUpstream;
let host: HttpHost & { gateway: { baseUrl: string; port: number } };
let base: string;

beforeAll(async () => {
  targets = await startSdkUpstream({ name: 'targets', setup: registerTargets });
  host = await startBrokerHost(
    [{ name: 'targets', url: targets.url, prefix: TARGET_PREFIX }],
    ['--allowed-origins', ALLOWED_ORIGIN],
  );
  base = host.gateway.baseUrl;
  await waitForTools(host, ['t_echo']);
});

afterAll(async () => {
  await host?.stop();
  await targets?.stop();
});

const STATUS_PATHS = ['/status', '/status/targets'] as const;

describe('/status of a gateway listening on loopback', () => {
  it('answers its own loopback Host (the baseline the refusals are measured against)', async () => {
    for (const path of STATUS_PATHS) {
      const answer = await rawRequest(`${base}${path}`);
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
    }
  });

  it('refuses a request with Host: evil.example with 403', async () => {
    for (const path of STATUS_PATHS) {
      const answer = await rawRequest(`${base}${path}`, { headers: { host: 'evil.example' } });
      expect({ path, status: answer.status, leaked: answer.text.includes('targets') }).toEqual({
        path,
        status: 403,
        leaked: false,
      });
    }
  });

  it('refuses a request with Origin: https://evil.example with 403', async () => {
    for (const path of STATUS_PATHS) {
      for (const method of ['GET', 'OPTIONS']) {
        const answer = await rawRequest(`${base}${path}`, {
          method,
          headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
        });
        expect({ path, method, status: answer.status }).toEqual({ path, method, status: 403 });
      }
    }
  });

  it('never answers with access-control-allow-origin: *', async () => {
    const requests = STATUS_PATHS.flatMap(
      (path): { path: string; method: string; headers: Record<string, string> }[] => [
        { path, method: 'GET', headers: {} },
        { path, method: 'GET', headers: { origin: 'https://evil.example' } },
        {
          path,
          method: 'OPTIONS',
          headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
        },
        { path, method: 'GET', headers: { origin: ALLOWED_ORIGIN } },
      ],
    );
    for (const { path, method, headers } of requests) {
      const answer = await rawRequest(`${base}${path}`, { method, headers });
      expect({ path, method, headers, allowOrigin: answer.headers['access-control-allow-origin'] }).not.toMatchObject({
        allowOrigin: '*',
      });
    }
  });

  it('echoes an origin allowed by --allowed-origins', async () => {
    for (const path of STATUS_PATHS) {
      const answer = await rawRequest(`${base}${path}`, { headers: { origin: ALLOWED_ORIGIN } });
      expect({ path, status: answer.status, allowOrigin: answer.headers['access-control-allow-origin'] }).toEqual({
        path,
        status: 200,
        allowOrigin: ALLOWED_ORIGIN,
      });
    }
  });
});

describe('the probes of a gateway listening on loopback', () => {
  it('answer /healthz and /readyz whatever the Host (kubelet probes by pod IP)', async () => {
    for (const path of ['/healthz', '/readyz']) {
      for (const hostHeader of ['evil.example', '10.1.2.3:8080', `127.0.0.1:${host.gateway.port}`]) {
        const answer = await rawRequest(`${base}${path}`, { headers: { host: hostHeader } });
        expect({ path, host: hostHeader, status: answer.status }).toEqual({ path, host: hostHeader, status: 200 });
      }
    }
  });
});
