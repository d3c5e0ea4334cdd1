import { createBackendInitTokens } from '@mcp-gateway/core/router';
import { describe, expect, it } from 'vitest';
import { call, deps, encode, initTokens, readable, translate } from './translate-request-body.fixtures.ts';

describe('translateRequestBody, a hairpin initialize', () => {
  const initialize = call('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: {} });
  const hairpin = async (extra: Record<string, string> = {}, token?: string) =>
    new Map([
      ['mcp-init-host', 'weather.mcp.local'],
      ['router-key', token ?? (await initTokens.issue('weather.mcp.local', 'ns/weather'))],
      ...Object.entries(extra),
    ]);

  it('goes to the server its token is bound to, never to the broker', async () => {
    const answer = await translate({ body: initialize }, await hairpin(), deps().deps);
    expect(readable(answer.response)).toMatchObject({
      set: [
        [':authority', 'weather.mcp.local'],
        [':path', '/v1/mcp'],
        ['x-mcp-method', 'initialize'],
        ['x-mcp-servername', 'ns/weather'],
      ],
      clearRouteCache: true,
    });
    expect(answer.route).toBeUndefined();
    const initialized = encode({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const next = await translate({ body: initialized }, await hairpin(), deps().deps);
    expect(readable(next.response).set).toContainEqual([':authority', 'weather.mcp.local']);
  });

  it('is refused with 403 and the reason when its token is forged, for another host or missing', async () => {
    const forged = await createBackendInitTokens({ key: 'x'.repeat(32) }).issue('weather.mcp.local', 'ns/weather');
    const otherHost = await initTokens.issue('plain.mcp.local', 'ns/plain');
    const cases: [ReadonlyMap<string, string>, string][] = [
      [await hairpin({}, forged), 'the router-key token is not signed by this gateway'],
      [await hairpin({}, otherHost), 'the router-key token is bound to another host'],
      [new Map([['mcp-init-host', 'weather.mcp.local']]), 'mcp-init-host and router-key must come together'],
    ];
    for (const [headers, reason] of cases) {
      const answer = await translate({ body: initialize }, headers, deps().deps);
      expect(readable(answer.response)).toMatchObject({
        immediate: { status: 403, body: `Backend initialize refused: ${reason}` },
      });
    }
  });

  it('does not let a valid token carry anything but the initialize handshake', async () => {
    const answer = await translate(
      { body: call('tools/call', { name: 'weather_forecast' }) },
      await hairpin(),
      deps().deps,
    );
    expect(readable(answer.response)).toMatchObject({ immediate: { status: 403 } });
  });
});
