// A policy rule that does not compile, in every host: the CLI does not start and names the rule
// and the position in its condition; a hot reload of the broker (and of the router beside it,
// behind Envoy) logs the same and keeps the last good config, whose decisions the table's case
// still gets in both eras; the worker, whose config is a binding, answers 500 with the same words.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runGatewayCli } from '../gateway-http/run-cli.ts';
import { TEST_SIGNING_KEY } from '../harness/index.ts';
import { createTrustedHeaderSigner } from '../harness/identity.ts';
import { LAST_GOOD_POLICY, MISSPELLED_RULE_ISSUE, withMisspelledRule } from './access.case.ts';
import { startAccessHosts, until, type AccessHost, type HostName } from './access-hosts.ts';
import { ERAS, type TableContext } from './access-types.ts';
import { SERVERS } from './access-upstreams.ts';
import { expectedAnswer } from './expected-answer.ts';
import { runCase, type RunContext } from './run-access-case.ts';

let hosts: Record<HostName, AccessHost>;
let ctx: TableContext;
let run: RunContext;

beforeAll(async () => {
  const signer = await createTrustedHeaderSigner();
  // No case here has a token: the provider is not needed.
  ctx = { issuer: 'http://127.0.0.1:9', audience: 'https://mcp.example.com/mcp', publicKeyPem: signer.publicKeyPem };
  run = { tokens: { alice: 'unused', bob: 'unused' }, signer, presented: new Set() };
  hosts = await startAccessHosts(LAST_GOOD_POLICY.config(ctx));
});

afterAll(async () => {
  await Promise.all(Object.values(hosts ?? {}).map((host) => host.stop()));
});

/** The messages of a host's JSON log lines, with their fields, unescaped. */
function logMessages(text: string): string[] {
  return text.split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      return [Object.values(entry).map(String).join(' ')];
    } catch {
      return [];
    }
  });
}

describe('a policy rule that does not compile', () => {
  it('keeps the CLI from starting, naming the rule and its position', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mcpgw-access-bad-'));
    try {
      const config = join(dir, 'config.yaml');
      const servers = SERVERS.map((s) => ({ name: s.name, url: `http://127.0.0.1:9/${s.name}`, prefix: s.prefix }));
      await writeFile(config, stringify({ servers, ...withMisspelledRule(LAST_GOOD_POLICY.config(ctx)) }));
      const cli = await runGatewayCli(['--mcp-gateway-config', config, '--mcp-broker-public-address', '127.0.0.1:0'], {
        GATEWAY_SIGNING_KEY: TEST_SIGNING_KEY,
      });
      expect(cli.code).not.toBe(0);
      expect(`${cli.stdout}${cli.stderr}`).toMatch(MISSPELLED_RULE_ISSUE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is logged on a hot reload and the last good config keeps deciding, through the broker and the router', async () => {
    const cli = [hosts.broker, hosts.router];
    const applied = cli.map((host) => host.logs().split('"msg":"config applied"').length);
    await Promise.all(cli.map((host) => host.writeConfig(withMisspelledRule(LAST_GOOD_POLICY.config(ctx)))));
    for (const host of cli) {
      const issue = await until(`the ${host.name} logged the rule's issue`, () =>
        logMessages(host.logs()).find((message) => MISSPELLED_RULE_ISSUE.test(message)),
      );
      expect(issue).toContain('keeping the last good config');
    }
    expect(cli.map((host) => host.logs().split('"msg":"config applied"').length)).toEqual(applied);
    const [c] = LAST_GOOD_POLICY.cases;
    for (const era of ERAS) {
      const [broker, router] = await Promise.all(cli.map((host) => runCase(host, c!, era, run)));
      expect(router!.answer).toEqual(broker!.answer);
      expect(broker!.answer).toEqual(expectedAnswer(LAST_GOOD_POLICY, c!, era, ctx));
    }
  });

  it('makes the worker answer 500 naming the rule and its position', async () => {
    await hosts.worker.writeConfig(withMisspelledRule(LAST_GOOD_POLICY.config(ctx)));
    const answer = await hosts.worker.post(
      { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    );
    expect({ status: answer.status, text: answer.text }).toEqual({
      status: 500,
      text: expect.stringMatching(MISSPELLED_RULE_ISSUE),
    });
  });
});
