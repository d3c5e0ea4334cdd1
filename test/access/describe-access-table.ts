// Runs groups of the access table through the three hosts: one real OpenID provider and one set of
// hosts per test file, each group's config applied to all three, each case run on all three in
// each of its eras; the three normalized answers must be identical, and equal to the table's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTrustedHeaderSigner,
  DEFAULT_ACCOUNTS,
  startOidcProvider,
  type RunningOidcProvider,
} from '../harness/identity.ts';
import { HOST_NAMES, startAccessHosts, type AccessHost, type HostName, type HostStartOptions } from './access-hosts.ts';
import { ERAS, type AccessGroup, type TableContext } from './access-types.ts';
import { expectedAnswer, expectedAuditHosts } from './expected-answer.ts';
import { runCase, unaccounted, type RunContext } from './run-access-case.ts';

/** The resource every host accepts tokens for (hosts need not be reached at it: it is the `aud`). */
export const AUDIENCE = 'https://mcp.example.com/mcp';

/** The provider's users: alice (roles [admin], clearance high) and bob (roles [reader], no clearance claim). */
const ACCOUNTS = {
  alice: { ...DEFAULT_ACCOUNTS['alice']!, claims: { clearance: 'high' } },
  bob: DEFAULT_ACCOUNTS['bob']!,
};

/** What a file's further tests reach once the suite has started. */
export interface AccessSuite {
  hosts(): Record<HostName, AccessHost>;
  ctx(): TableContext;
  run(): RunContext;
}

export interface AccessSuiteOptions {
  /** How the hosts are started (environment, flags). Default: nothing beyond the config. */
  readonly hostOptions?: (ctx: TableContext) => HostStartOptions;
}

/** Registers the groups' tests; the hosts start with the first group's config. */
export function describeAccessTable(groups: readonly AccessGroup[], options: AccessSuiteOptions = {}): AccessSuite {
  let provider: RunningOidcProvider | undefined;
  let hosts: Record<HostName, AccessHost> | undefined;
  let ctx: TableContext | undefined;
  let run: RunContext | undefined;

  beforeAll(async () => {
    const [started, signer] = await Promise.all([
      startOidcProvider({ accounts: ACCOUNTS }),
      createTrustedHeaderSigner(),
    ]);
    provider = started;
    const [alice, bob] = await Promise.all(
      (['alice', 'bob'] as const).map((account) =>
        started.userToken({ account, resource: AUDIENCE, scope: 'mcp:tools' }),
      ),
    );
    ctx = { issuer: started.issuer, audience: AUDIENCE, publicKeyPem: signer.publicKeyPem };
    run = { tokens: { alice: alice!.accessToken, bob: bob!.accessToken }, signer, presented: new Set() };
    const first = groups[0];
    if (first === undefined) throw new Error('describeAccessTable: no groups');
    hosts = await startAccessHosts(first.config(ctx), options.hostOptions?.(ctx) ?? {});
  }, 90_000);

  afterAll(async () => {
    await Promise.all(Object.values(hosts ?? {}).map((host) => host.stop()));
    await provider?.stop();
  });

  const suite: AccessSuite = {
    hosts: () => defined(hosts),
    ctx: () => defined(ctx),
    run: () => defined(run),
  };

  for (const group of groups) {
    describe(group.name, () => {
      beforeAll(async () => {
        const sections = group.config(suite.ctx());
        await Promise.all(HOST_NAMES.map((name) => suite.hosts()[name].configure(sections)));
      });

      for (const c of group.cases) {
        for (const era of c.eras ?? ERAS) {
          it(`${c.name} (${era === 'legacy' ? 'legacy session' : '2026-07-28'})`, async () => {
            const all = suite.hosts();
            const runs = await Promise.all(HOST_NAMES.map((name) => runCase(all[name], c, era, suite.run())));
            const [broker, router, worker] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
            // The three hosts answer alike (identical normalized answers)...
            expect({ router: router.answer, worker: worker.answer }).toEqual({
              router: broker.answer,
              worker: broker.answer,
            });
            // ...and as the table says.
            expect(broker.answer).toEqual(expectedAnswer(group, c, era, suite.ctx()));
            // Each call was recorded by the host that decided it.
            expect({ broker: broker.auditHosts, router: router.auditHosts, worker: worker.auditHosts }).toEqual({
              broker: expectedAuditHosts('broker', c, era),
              router: expectedAuditHosts('router', c, era),
              worker: expectedAuditHosts('worker', c, era),
            });
          });
        }
      }
    });
  }
  it('writes no token or x-mcp-authorized value it was presented to an audit record or a log line, and no audit record of no call', async () => {
    const { presented } = suite.run();
    // A record written late, after its case, would show here.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const host of Object.values(suite.hosts())) {
      const written = `${host.auditText()}\n${host.logs()}`;
      const leaked = [...presented].filter((secret) => written.includes(secret));
      expect({ host: host.name, audited: host.audit().length > 0, leaked }).toEqual({
        host: host.name,
        audited: true,
        leaked: [],
      });
    }
    expect(Object.fromEntries(HOST_NAMES.map((name) => [name, unaccounted(suite.hosts()[name])]))).toEqual({
      broker: [],
      router: [],
      worker: [],
    });
  });
  return suite;
}

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the access suite has not started (see its beforeAll)');
  return value;
}
