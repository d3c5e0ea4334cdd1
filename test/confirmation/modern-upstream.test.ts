// Confirmation of a call to a 2026-07-28 upstream (SDK 2.x), in every host: a 2026-07-28 client's
// call goes to its upstream in its own era (through Envoy, straight from the router when no
// confirmation is needed), so here the router must hand it to the broker, and the forwarded call
// must carry none of the gateway's confirmation (inputResponses, requestState).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputRequired } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { startModernUpstream, type ModernUpstream } from '../harness/index.ts';
import { workerConfig } from '../workerd/start-worker.ts';
import { modernCall, legacyCall, type ConfirmationHost } from './confirmation.case.ts';
import { startBrokerHost, startRouterHost, startWorkerHost, type StartedHost } from './confirmation-hosts.ts';

const SERVER_YAML = `    hostname: modern.mcp.local
    toolOverrides:
      - tool: purge
        confirm: true
      - tool: purge_asking
        confirm: true
`;
const ACCEPT = { action: 'accept', content: { confirm: true } } as const;

function purges(upstream: ModernUpstream, path: string, tool = 'purge'): Record<string, unknown>[] {
  return upstream
    .calls('tools/call')
    .map((call) => call.body?.params ?? {})
    .filter((params) => params['name'] === tool && JSON.stringify(params['arguments']) === JSON.stringify({ path }));
}

const HOSTS: readonly [string, (upstream: ModernUpstream, config: string) => Promise<StartedHost>][] = [
  ['the broker', (_upstream, config) => startBrokerHost(config, 1)],
  [
    'a real Envoy with the ext_proc router',
    (upstream, config) =>
      startRouterHost(config, [
        { name: 'modern', hostname: 'modern.mcp.local', address: new URL(upstream.url).host, path: '/mcp' },
      ]),
  ],
  ['the worker in workerd', (_upstream, config) => startWorkerHost(config)],
];

for (const [name, start] of HOSTS) {
  describe(`confirmation of a 2026-07-28 upstream's tool on ${name}`, () => {
    let upstream: ModernUpstream;
    let started: StartedHost | undefined;
    let host: ConfirmationHost;

    beforeAll(async () => {
      upstream = await startModernUpstream({
        setup(server) {
          server.registerTool('purge', { inputSchema: z.object({ path: z.string() }) }, ({ path }) => ({
            content: [{ type: 'text', text: `purged ${path}` }],
          }));
          // Asks the client itself (an input_required round of its own) before it purges.
          server.registerTool('purge_asking', { inputSchema: z.object({ path: z.string() }) }, ({ path }, ctx) => {
            const answer = ctx.mcpReq.inputResponses?.['sure'] as { content?: unknown } | undefined;
            if (answer === undefined) {
              return inputRequired({
                inputRequests: {
                  sure: inputRequired.elicit({
                    message: `Sure about ${path}?`,
                    requestedSchema: z.object({ sure: z.boolean() }),
                  }),
                },
              });
            }
            return { content: [{ type: 'text', text: `purged ${path} after ${JSON.stringify(answer.content)}` }] };
          });
        },
      });
      started = await start(
        upstream,
        workerConfig([{ name: 'modern', url: upstream.url, prefix: 'm_', yaml: SERVER_YAML }]),
      );
      // The upstream's recorder is not an SdkUpstream: these cases count its calls themselves.
      host = { url: started.url, upstream: undefined as never, prefix: 'm_', output: started.output };
    }, 60_000);

    afterAll(async () => {
      await started?.stop();
      await upstream?.stop();
    });

    it('forwards an accepted call once, without the gateway confirmation', async () => {
      const called = await modernCall(host, 'purge', '/cache/a', ACCEPT);
      expect(called.error).toBeUndefined();
      expect(called.result).toMatchObject({ content: [{ type: 'text', text: 'purged /cache/a' }] });
      expect(called.asked).toHaveLength(1);
      const forwarded = purges(upstream, '/cache/a');
      expect(forwarded).toHaveLength(1);
      expect(forwarded[0]).not.toHaveProperty('inputResponses');
      expect(forwarded[0]).not.toHaveProperty('requestState');
    });

    it("asks once, then lets the upstream's own input_required rounds of the confirmed call through", async () => {
      const answer = (params: { message?: string }) =>
        params.message?.startsWith('Confirm tools/call') === true
          ? ACCEPT
          : { action: 'accept', content: { sure: true } };
      const called = await modernCall(host, 'purge_asking', '/cache/r', answer);
      expect(called.error).toBeUndefined();
      expect(called.result).toMatchObject({ content: [{ type: 'text', text: 'purged /cache/r after {"sure":true}' }] });
      expect(called.asked.map((asked) => (asked as { message: string }).message)).toEqual([
        'Confirm tools/call of "m_purge_asking" with arguments {"path":"/cache/r"}?',
        'Sure about /cache/r?',
      ]);
      expect(purges(upstream, '/cache/r', 'purge_asking')).toHaveLength(2);
    });

    it('does not forward a declined call', async () => {
      const called = await modernCall(host, 'purge', '/cache/b', { action: 'decline' });
      expect(called.error?.message ?? 'no error: the call went through').toContain(
        'the call of tool "m_purge" was not confirmed: the user declined',
      );
      expect(purges(upstream, '/cache/b')).toHaveLength(0);
    });

    it("confirms a legacy client's call before it crosses to the 2026-07-28 upstream", async () => {
      const declined = await legacyCall(host, 'purge', '/cache/c', { action: 'decline' });
      expect(declined.error?.message ?? 'no error: the call went through').toContain('the user declined');
      expect(purges(upstream, '/cache/c')).toHaveLength(0);
      const accepted = await legacyCall(host, 'purge', '/cache/c', ACCEPT);
      expect(accepted.result).toMatchObject({ content: [{ type: 'text', text: 'purged /cache/c' }] });
      expect(purges(upstream, '/cache/c')).toHaveLength(1);
    });
  });
}
