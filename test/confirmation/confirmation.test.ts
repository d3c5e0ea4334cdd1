// Confirmation before destructive calls, owned by the gateway, in every host: the same table of
// cases (confirmation.case.ts) through the broker, through a real Envoy with the ext_proc router
// in front of it, and in the built worker in workerd. The upstream never sees an unconfirmed call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExtProcStack, type ExtProcStack } from '../envoy/extproc-stack.ts';
import { waitFor } from '../gateway-calls/helpers.ts';
import { startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { workerConfig } from '../workerd/start-worker.ts';
import { startBrokerHost, startWorkerHost } from './confirmation-hosts.ts';
import {
  auditOf,
  confirmationTools,
  legacyCall,
  modernCall,
  modernPost,
  runsOf,
  SERVER_YAML,
  TOP_YAML,
  type ConfirmationHost,
} from './confirmation.case.ts';

const ACCEPT = { action: 'accept', content: { confirm: true } } as const;

/** The table, run against one host (started once by `start`, stopped by the returned function). */
function describeConfirmation(name: string, start: () => Promise<[ConfirmationHost, () => Promise<void>]>): void {
  describe(`confirmation on ${name}`, () => {
    let host: ConfirmationHost;
    let stop: () => Promise<void> = async () => {};

    beforeAll(async () => {
      [host, stop] = await start();
    }, 60_000);

    afterAll(async () => {
      await stop();
    });

    it('asks a legacy client naming the tool and its arguments, and forwards the call once accepted', async () => {
      const called = await legacyCall(host, 'delete_file', '/tmp/a', ACCEPT);
      expect(called.error).toBeUndefined();
      expect(called.result).toMatchObject({ content: [{ type: 'text', text: 'deleted /tmp/a' }] });
      expect(called.asked).toHaveLength(1);
      expect(called.asked[0]?.message).toBe(
        `Confirm tools/call of "${host.prefix}delete_file" with arguments {"path":"/tmp/a"}?`,
      );
      expect(runsOf(host.upstream, 'delete_file', '/tmp/a')).toBe(1);
      await waitFor('the audit record', () =>
        auditOf(host, `${host.prefix}delete_file`).some((r) => r['confirmation'] === 'accepted') ? true : undefined,
      );
    });

    it('does not forward a call the user declines, and says so', async () => {
      const called = await legacyCall(host, 'delete_file', '/tmp/declined', { action: 'decline' });
      expect(called.error?.code).toBe(-32030);
      expect(called.error?.message ?? 'no error: the call went through').toContain(
        `the call of tool "${host.prefix}delete_file" was not confirmed: the user declined`,
      );
      expect(runsOf(host.upstream, 'delete_file', '/tmp/declined')).toBe(0);
      await waitFor('the audit record', () =>
        auditOf(host, `${host.prefix}delete_file`).find((r) => r['confirmation'] === 'declined'),
      ).then((record) => expect(record).toMatchObject({ outcome: 'unconfirmed', upstreamStatus: null }));
    });

    it('does not forward a call the user cancels', async () => {
      const called = await legacyCall(host, 'delete_file', '/tmp/cancelled', { action: 'cancel' });
      expect(called.error?.message ?? 'no error: the call went through').toContain(
        'was not confirmed: the user cancelled',
      );
      expect(runsOf(host.upstream, 'delete_file', '/tmp/cancelled')).toBe(0);
    });

    it('gives up on a confirmation that never comes, and does not forward the call', async () => {
      const called = await legacyCall(host, 'delete_file', '/tmp/never', 'never');
      expect(called.asked).toHaveLength(1);
      expect(called.error?.message ?? 'no error: the call went through').toContain(
        'was not confirmed: no answer within 5 s',
      );
      expect(runsOf(host.upstream, 'delete_file', '/tmp/never')).toBe(0);
    }, 20_000);

    it('refuses at once a client that cannot elicit', async () => {
      const called = await legacyCall(host, 'delete_file', '/tmp/no-capability', undefined);
      expect(called.error?.message ?? 'no error: the call went through').toContain(
        'was not confirmed: the tool needs confirmation and the client cannot elicit (no elicitation capability)',
      );
      expect(runsOf(host.upstream, 'delete_file', '/tmp/no-capability')).toBe(0);
      await waitFor('the audit record', () =>
        auditOf(host, `${host.prefix}delete_file`).some((r) => r['confirmation'] === 'unavailable') ? true : undefined,
      );
    });

    it('confirms a tool its override annotates as destructive', async () => {
      const refused = await legacyCall(host, 'purge_cache', '/var/cache', undefined);
      expect(refused.error?.message ?? 'no error: the call went through').toContain(
        `the call of tool "${host.prefix}purge_cache" was not confirmed`,
      );
      expect(runsOf(host.upstream, 'purge_cache', '/var/cache')).toBe(0);
      const accepted = await legacyCall(host, 'purge_cache', '/var/cache', ACCEPT);
      expect(accepted.asked).toHaveLength(1);
      expect(runsOf(host.upstream, 'purge_cache', '/var/cache')).toBe(1);
    });

    it('confirms a tool whose override says confirm', async () => {
      const declined = await legacyCall(host, 'deploy', '/srv/x', { action: 'decline' });
      expect(declined.error?.message ?? 'no error: the call went through').toContain(
        `the call of tool "${host.prefix}deploy" was not confirmed`,
      );
      expect(runsOf(host.upstream, 'deploy', '/srv/x')).toBe(0);
      const accepted = await legacyCall(host, 'deploy', '/srv/x', ACCEPT);
      expect(accepted.result).toMatchObject({ content: [{ type: 'text', text: 'deployed /srv/x' }] });
      expect(runsOf(host.upstream, 'deploy', '/srv/x')).toBe(1);
    });

    it('confirms by a CEL rule over the arguments only the calls it holds for', async () => {
      const free = await legacyCall(host, 'write_file', '/tmp/free', undefined);
      expect(free.result).toMatchObject({ content: [{ type: 'text', text: 'wrote /tmp/free' }] });
      const prod = await legacyCall(host, 'write_file', '/prod/db', undefined);
      expect(prod.error?.message ?? 'no error: the call went through').toContain('the client cannot elicit');
      expect(runsOf(host.upstream, 'write_file', '/prod/db')).toBe(0);
      const asked = await legacyCall(host, 'write_file', '/prod/db', ACCEPT);
      expect(asked.asked).toHaveLength(1);
      expect(runsOf(host.upstream, 'write_file', '/prod/db')).toBe(1);
    });

    it('confirms a 2026-07-28 call with an input_required round and forwards the retry once accepted', async () => {
      const called = await modernCall(host, 'delete_file', '/tmp/modern', ACCEPT);
      expect(called.error).toBeUndefined();
      expect(called.result).toMatchObject({ content: [{ type: 'text', text: 'deleted /tmp/modern' }] });
      expect(called.asked).toHaveLength(1);
      expect(runsOf(host.upstream, 'delete_file', '/tmp/modern')).toBe(1);
      const forwarded = host.upstream.requests.find(
        (r) => r.method === 'tools/call' && JSON.stringify(r.params).includes('/tmp/modern'),
      );
      expect(JSON.stringify(forwarded?.params)).not.toMatch(/inputResponses|requestState|mcpgw-confirm/);
    });

    it('does not forward a 2026-07-28 call the user declines, nor one from a client that cannot elicit', async () => {
      const declined = await modernCall(host, 'delete_file', '/tmp/modern-declined', { action: 'decline' });
      expect(declined.error?.message ?? 'no error: the call went through').toContain(
        'was not confirmed: the user declined',
      );
      const unable = await modernCall(host, 'delete_file', '/tmp/modern-unable', undefined);
      expect(unable.error?.message ?? 'no error: the call went through').toContain(
        'the client cannot elicit (no elicitation capability)',
      );
      expect(runsOf(host.upstream, 'delete_file', '/tmp/modern-declined')).toBe(0);
      expect(runsOf(host.upstream, 'delete_file', '/tmp/modern-unable')).toBe(0);
    });

    it('refuses a retry with a forged requestState, or one minted for other arguments or another tool', async () => {
      const accept = { inputResponses: { confirm: ACCEPT } };
      const forged = await modernPost(host, 'delete_file', {
        arguments: { path: '/tmp/forged' },
        ...accept,
        requestState: 'mcpgw-confirm:eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl',
      });
      expect(forged['error']).toMatchObject({ code: -32602, data: { confirmation: 'invalid' } });
      const asked = await modernPost(host, 'delete_file', { arguments: { path: '/tmp/one' } });
      const round = asked['result'] as { resultType: string; requestState: string; inputRequests: unknown };
      expect(round.resultType).toBe('input_required');
      expect(round.inputRequests).toMatchObject({ confirm: { method: 'elicitation/create' } });
      const other = await modernPost(host, 'delete_file', {
        arguments: { path: '/tmp/other' },
        ...accept,
        requestState: round.requestState,
      });
      expect(other['error']).toMatchObject({ code: -32602 });
      expect((other['error'] as { message: string }).message).toContain('is forged, expired, or for another tool');
      const otherTool = await modernPost(host, 'deploy', {
        arguments: { path: '/tmp/one' },
        ...accept,
        requestState: round.requestState,
      });
      expect(otherTool['error']).toMatchObject({ code: -32602 });
      for (const path of ['/tmp/forged', '/tmp/one', '/tmp/other'])
        expect(runsOf(host.upstream, 'delete_file', path)).toBe(0);
      expect(runsOf(host.upstream, 'deploy', '/tmp/one')).toBe(0);
      const right = await modernPost(host, 'delete_file', {
        arguments: { path: '/tmp/one' },
        ...accept,
        requestState: round.requestState,
      });
      expect(right['result']).toMatchObject({ content: [{ type: 'text', text: 'deleted /tmp/one' }] });
      expect(runsOf(host.upstream, 'delete_file', '/tmp/one')).toBe(1);
    });
  });
}

describeConfirmation('the broker', async () => {
  const upstream = await startSdkUpstream({ name: 'files', setup: confirmationTools });
  const broker = await startBrokerHost(
    `servers:\n  - name: files\n    url: ${JSON.stringify(upstream.url)}\n    prefix: f_\n${SERVER_YAML}${TOP_YAML}`,
    1,
  );
  const host = { url: broker.url, upstream, prefix: 'f_', output: broker.output };
  return [host, async () => (await broker.stop(), await upstream.stop())];
});

describeConfirmation('a real Envoy with the ext_proc router', async () => {
  const stack: ExtProcStack = await startExtProcStack({
    setup: confirmationTools,
    serverYaml: SERVER_YAML,
    topYaml: TOP_YAML,
  });
  const host = { url: stack.mcpUrl, upstream: stack.upstreams[0], prefix: 's1_', output: () => stack.gateway.logs() };
  return [host, () => stack.stop()];
});

describeConfirmation('the worker in workerd', async () => {
  const upstream: SdkUpstream = await startSdkUpstream({ name: 'files', setup: confirmationTools });
  const worker = await startWorkerHost(
    `${workerConfig([{ name: 'files', url: upstream.url, prefix: 'w_', yaml: SERVER_YAML }])}${TOP_YAML}`,
  );
  const host = { url: worker.url, upstream, prefix: 'w_', output: worker.output };
  return [host, async () => (await worker.stop(), await upstream.stop())];
});
