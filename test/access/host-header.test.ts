// A rule on the Host header: behind Envoy, the broker sees the public host the router forces on
// every request it leaves to it, so the router must decide on that host too, or it routes calls
// the broker behind it would refuse. Standalone, the broker and the worker see the Host the client
// sent (here a loopback address and `localhost`), so the same rule allows there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrustedHeaderSigner } from '../harness/identity.ts';
import { startAccessHosts, type AccessHost, type HostName } from './access-hosts.ts';
import { ERAS, type AccessCase, type AccessGroup, type TableContext } from './access-types.ts';
import { NOTES } from './access-upstreams.ts';
import { expectedAnswer } from './expected-answer.ts';
import { runCase, type RunContext } from './run-access-case.ts';
import { search } from './table-calls.ts';

/** The host the router forces (access-hosts.ts starts the router's gateway with it). */
const PUBLIC_HOST = 'mcp.example.com';

const ONLY_OFF_THE_PUBLIC_HOST: AccessGroup = {
  name: 'search is refused on the public host',
  config: () => ({
    policy: {
      rules: [
        {
          name: 'no-search-on-the-public-host',
          effect: 'deny',
          servers: [NOTES.name],
          tools: ['search'],
          when: `request.headers.host == "${PUBLIC_HOST}"`,
        },
      ],
    },
    audit: { arguments: 'hash' },
  }),
  allowedBy: 'default',
  refusedBy: 'rule:no-search-on-the-public-host',
  cases: [],
};
const REFUSED: AccessCase = {
  name: 'through Envoy',
  caller: 'anonymous',
  expect: { tools: ['n_admin_purge', 'w_admin_reset', 'w_delete_city', 'w_forecast'] },
  calls: [search('refused')],
};
const ALLOWED: AccessCase = { name: 'standalone', caller: 'anonymous', expect: {}, calls: [search('allowed')] };

let hosts: Record<HostName, AccessHost>;
let ctx: TableContext;
let run: RunContext;

beforeAll(async () => {
  const signer = await createTrustedHeaderSigner();
  ctx = { issuer: 'http://127.0.0.1:9', audience: 'https://mcp.example.com/mcp', publicKeyPem: signer.publicKeyPem };
  run = { tokens: { alice: 'unused', bob: 'unused' }, signer, presented: new Set() };
  hosts = await startAccessHosts(ONLY_OFF_THE_PUBLIC_HOST.config(ctx));
});

afterAll(async () => {
  await Promise.all(Object.values(hosts ?? {}).map((host) => host.stop()));
});

describe('a rule on the Host header', () => {
  it.each(ERAS)('decides in the router on the public host, as the broker behind Envoy does (%s)', async (era) => {
    const answer = (await runCase(hosts.router, REFUSED, era, run)).answer;
    expect(answer).toEqual(expectedAnswer(ONLY_OFF_THE_PUBLIC_HOST, REFUSED, era, ctx));
  });

  it.each(ERAS)('decides on the Host the client sent in the standalone broker and the worker (%s)', async (era) => {
    for (const host of [hosts.broker, hosts.worker]) {
      const answer = (await runCase(host, ALLOWED, era, run)).answer;
      expect({ host: host.name, answer }).toEqual({
        host: host.name,
        answer: expectedAnswer(ONLY_OFF_THE_PUBLIC_HOST, ALLOWED, era, ctx),
      });
    }
  });
});
