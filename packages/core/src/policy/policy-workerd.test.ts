import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyConfig } from '../config/access-schema.ts';
import type { McpCallVariables, PolicyInput } from './policy-input.ts';

/** The compatibility date packages/edge-broker/wrangler.toml deploys with (test/workerd/start-worker.ts). */
const COMPATIBILITY_DATE = '2026-07-01';

let mf: Miniflare;

beforeAll(async () => {
  // Bundled as the edge worker is (packages/edge-broker/build/workerd-bundle.mjs), less its
  // plugin for Node built-ins, which the policy module does not use.
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-policy-worker-'));
  const outfile = join(dir, 'worker.js');
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./policy-worker.fixtures.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'neutral',
    format: 'esm',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    minify: true,
    logLevel: 'warning',
  });
  mf = new Miniflare({
    modules: true,
    scriptPath: outfile,
    modulesRoot: dir,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: ['nodejs_compat'],
  });
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
});

const POLICY: PolicyConfig = {
  default: 'deny',
  rules: [
    { name: 'no-admin-tools', effect: 'deny', tools: ['admin_*'], when: '!("admin" in auth.claims.roles)' },
    { name: 'no-paris', effect: 'deny', servers: ['team-a/*'], when: 'mcp.arguments.city == "Paris"' },
    { name: 'acme', effect: 'allow', when: 'auth.claims.org.id == "acme" && request.headers["x-tenant"] == "blue"' },
  ],
};

function input(name: string, args: Record<string, unknown>, roles: string[] = []): PolicyInput<McpCallVariables> {
  return {
    auth: {
      verified: true,
      issuer: 'https://idp.example.com',
      subject: 'alice',
      clientId: '',
      scopes: [],
      claims: { roles, org: { id: 'acme' } },
    },
    request: { method: 'tools/call', headers: { 'x-tenant': 'blue' } },
    mcp: { server: 'team-a/weather', kind: 'tool', name, servedName: `w_${name}`, arguments: args },
  };
}

async function decideInWorker(policy: PolicyConfig, body: Omit<PolicyCallBody, 'policy'>): Promise<unknown> {
  const response = await mf.dispatchFetch('http://policy/', {
    method: 'POST',
    body: JSON.stringify({ policy, ...body }),
  });
  return response.json();
}

interface PolicyCallBody {
  policy: PolicyConfig;
  input: PolicyInput<McpCallVariables>;
  list?: boolean;
}

describe('policy rules in workerd', () => {
  it('compiles CEL rules and decides calls by claims, headers and arguments', async () => {
    expect(await decideInWorker(POLICY, { input: input('get_forecast', { city: 'Oslo' }) })).toEqual({
      ok: true,
      verdict: { allowed: true, rule: 'acme', by: 'rule' },
    });
    expect(await decideInWorker(POLICY, { input: input('get_forecast', { city: 'Paris' }) })).toEqual({
      ok: true,
      verdict: { allowed: false, rule: 'no-paris', by: 'rule' },
    });
    expect(await decideInWorker(POLICY, { input: input('admin_reset', { city: 'Oslo' }) })).toEqual({
      ok: true,
      verdict: { allowed: false, rule: 'no-admin-tools', by: 'rule' },
    });
    expect(await decideInWorker(POLICY, { input: input('admin_reset', { city: 'Oslo' }, ['admin']) })).toEqual({
      ok: true,
      verdict: { allowed: true, rule: 'acme', by: 'rule' },
    });
  });

  it('fails closed on an evaluation error and decides lists without arguments', async () => {
    expect(await decideInWorker(POLICY, { input: input('get_forecast', {}) })).toEqual({
      ok: true,
      verdict: { allowed: false, rule: 'no-paris', by: 'error' },
    });
    expect(await decideInWorker(POLICY, { input: input('get_forecast', {}), list: true })).toEqual({
      ok: true,
      verdict: { allowed: true, rule: 'acme', by: 'rule' },
    });
  });

  it('reports a rule that does not compile with its position', async () => {
    const broken: PolicyConfig = {
      default: 'allow',
      rules: [{ name: 'x', effect: 'deny', when: 'auth.verified && matches' }],
    };
    const answer = (await decideInWorker(broken, { input: input('x', {}) })) as { ok: boolean; issues: string[] };
    expect(answer.ok).toBe(false);
    expect(answer.issues).toEqual([
      'policy.rules[0].when: unknown variable "matches" (a condition sees auth, request, mcp) at line 1, column 18',
    ]);
  });
});
