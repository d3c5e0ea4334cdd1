import { describe, expect, it } from 'vitest';
import { fakeServer } from '../catalog/catalog.fixtures.ts';
import { confirmationBinding, isConfirmationFor, sealConfirmation } from '../calls/confirmation-state.ts';
import { parseConfig } from '../config/parse-config.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { unverified } from '../identity/authentication.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createSessionTokens } from '../session/session-token.ts';
import { createAccessControl, type RequestAccess } from './access-control.ts';
import type { JsonObject } from '../upstream/types.ts';
import type { AccessSubject } from './access-rules.ts';
import { canElicitForm, confirmationNeed, confirmationRefusal, outcomeOfAnswer } from './call-confirmation.ts';

/** A catalog that serves `tool` under every name. */
const served = (tool: JsonObject | undefined) => ({ toolItem: () => tool });

const subject = (name: string): AccessSubject => ({ kind: 'tool', server: 'files', name, servedName: `f_${name}` });

async function accessFor(policy: string): Promise<RequestAccess> {
  const parsed = parseConfig(`servers: []\n${policy}`, 'gateway.yaml');
  if (!parsed.ok) throw new Error(parsed.error.message);
  const control = createAccessControl({ config: parsed.config, env: {}, fetch, logger: NOOP_LOGGER });
  const access = await control.requestAccess(new Headers(), unverified(undefined), 'tools/call');
  if (!('auth' in access)) throw access;
  return access;
}

function errorsOf(yaml: string): string {
  const parsed = parseConfig(yaml, 'gateway.yaml');
  if (parsed.ok) throw new Error('expected an invalid config');
  return parsed.error.message;
}

describe('confirmationNeed', () => {
  it('asks for a destructive tool as served only on a server that confirms destructive tools', async () => {
    const access = await accessFor('');
    const destructive = { name: 'rm', annotations: { destructiveHint: true } };
    const server = fakeServer('files', 'f_', { confirmDestructive: true });
    expect(confirmationNeed(access, server, subject('rm'), served(destructive), {})).toEqual({
      needed: true,
      because: 'destructive',
    });
    expect(confirmationNeed(access, server, subject('ls'), served({ name: 'ls' }), {}).needed).toBe(false);
    expect(confirmationNeed(access, fakeServer('files', 'f_'), subject('rm'), served(destructive), {}).needed).toBe(
      false,
    );
  });

  it('asks for a tool whose override says confirm, whatever its annotations', async () => {
    const server = fakeServer('files', 'f_', { toolOverrides: [{ tool: 'deploy', confirm: true }] });
    expect(confirmationNeed(await accessFor(''), server, subject('deploy'), served(undefined), {})).toEqual({
      needed: true,
      because: 'override',
    });
  });

  it('asks when a confirm rule holds over the arguments, and when its condition fails to evaluate', async () => {
    const access = await accessFor(`policy:
  rules:
    - name: prod-writes
      effect: confirm
      tools: [write]
      when: mcp.arguments.path.startsWith("/prod")
`);
    const server = fakeServer('files', 'f_');
    expect(confirmationNeed(access, server, subject('write'), served(undefined), { path: '/prod/a' })).toEqual({
      needed: true,
      because: 'rule',
      rule: 'prod-writes',
    });
    expect(confirmationNeed(access, server, subject('write'), served(undefined), { path: '/tmp/a' }).needed).toBe(
      false,
    );
    // No `path`: the condition cannot be evaluated, so the call is confirmed (fail safe).
    expect(confirmationNeed(access, server, subject('write'), served(undefined), {}).needed).toBe(true);
    expect(confirmationNeed(access, server, subject('read'), served(undefined), { path: '/prod/a' }).needed).toBe(
      false,
    );
  });

  it('leaves the access decision and lists alone: a confirm rule neither allows, denies nor hides', async () => {
    const parsed = parseConfig(
      `servers: []
policy:
  default: deny
  rules:
    - name: confirm-all
      effect: confirm
`,
      'gateway.yaml',
    );
    if (!parsed.ok) throw new Error(parsed.error.message);
    const control = createAccessControl({
      config: parsed.config as GatewayConfig,
      env: {},
      fetch,
      logger: NOOP_LOGGER,
    });
    const access = await control.requestAccess(new Headers(), unverified(undefined), 'tools/call');
    if (!('auth' in access)) throw access;
    expect(control.decide(access, subject('rm'), {}).allowed).toBe(false);
    expect(control.visible(access, subject('rm'))).toBe(false);
  });
});

describe('the confirmation config', () => {
  it('reads confirmDestructive, an override confirm and the timeout (default 120 s when the section is given empty)', () => {
    const parsed = parseConfig(
      `servers:
  - name: files
    url: http://files.internal/mcp
    confirmDestructive: true
    toolOverrides:
      - tool: deploy
        confirm: true
confirmation: {}
`,
      'gateway.yaml',
    );
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.config.servers[0]).toMatchObject({
      confirmDestructive: true,
      toolOverrides: [{ tool: 'deploy', confirm: true }],
    });
    expect(parsed.config.confirmation).toEqual({ timeoutSeconds: 120 });
  });

  it('names the field of a wrong timeout, a confirm on a hidden tool, and a confirm rule on prompts', () => {
    expect(errorsOf('servers: []\nconfirmation:\n  timeoutSeconds: 2\n')).toMatch(
      /confirmation\.timeoutSeconds.*at least 5/,
    );
    expect(errorsOf('servers: []\nconfirmation:\n  timeoutSeconds: 7200\n')).toMatch(/at most 3600/);
    expect(
      errorsOf(`servers:
  - name: files
    url: http://files.internal/mcp
    toolOverrides:
      - tool: rm
        hidden: true
        confirm: true
`),
    ).toMatch(/servers\[0\]\.toolOverrides\[0\]: tool "rm" is hidden; confirm would never apply/);
    expect(
      errorsOf(`servers: []
policy:
  rules:
    - name: ask-prompts
      effect: confirm
      prompts: [p]
`),
    ).toMatch(/policy\.rules\[0\]: a confirm rule applies to tool calls only/);
  });
});

describe('the 2026-07-28 confirmation state', () => {
  const tokens = createSessionTokens({ key: 'confirmation-test-signing-key-0123456789' });

  it('holds for its tool, arguments (in any key order) and caller only', async () => {
    const binding = await confirmationBinding('f_rm', { path: '/a', force: true }, 'alice');
    const state = await sealConfirmation(tokens, binding, 60);
    expect(
      await isConfirmationFor(tokens, state, await confirmationBinding('f_rm', { force: true, path: '/a' }, 'alice')),
    ).toBe(true);
    expect(
      await isConfirmationFor(tokens, state, await confirmationBinding('f_rm', { path: '/b', force: true }, 'alice')),
    ).toBe(false);
    expect(
      await isConfirmationFor(tokens, state, await confirmationBinding('f_mv', { path: '/a', force: true }, 'alice')),
    ).toBe(false);
    expect(
      await isConfirmationFor(tokens, state, await confirmationBinding('f_rm', { path: '/a', force: true }, 'bob')),
    ).toBe(false);
    expect(
      await isConfirmationFor(tokens, state, await confirmationBinding('f_rm', { path: '/a', force: true }, undefined)),
    ).toBe(false);
    const other = createSessionTokens({ key: 'another-replica-set-signing-key-012345678' });
    expect(await isConfirmationFor(other, state, binding)).toBe(false);
  });

  it('expires with the confirmation timeout', async () => {
    let now = Date.now();
    const clocked = createSessionTokens({ key: 'confirmation-test-signing-key-0123456789', now: () => now });
    const binding = await confirmationBinding('f_rm', {}, undefined);
    const state = await sealConfirmation(clocked, binding, 5);
    expect(await isConfirmationFor(clocked, state, binding)).toBe(true);
    now += 6_000;
    expect(await isConfirmationFor(clocked, state, binding)).toBe(false);
  });
});

describe('canElicitForm', () => {
  it('holds for elicitation declared empty or with form, not for url only or none', () => {
    expect(canElicitForm({ elicitation: {} })).toBe(true);
    expect(canElicitForm({ elicitation: { form: {}, url: {} } })).toBe(true);
    expect(canElicitForm({ elicitation: { url: {} } })).toBe(false);
    expect(canElicitForm({ sampling: {} })).toBe(false);
    expect(canElicitForm(undefined)).toBe(false);
  });
});

describe('the answers and errors', () => {
  it('reads an elicitation answer: accept (unless its box is unticked), decline, anything else cancels', () => {
    expect(outcomeOfAnswer({ result: { action: 'accept', content: { confirm: true } } })).toBe('accepted');
    expect(outcomeOfAnswer({ result: { action: 'accept' } })).toBe('accepted');
    expect(outcomeOfAnswer({ result: { action: 'accept', content: { confirm: false } } })).toBe('declined');
    expect(outcomeOfAnswer({ action: 'decline' })).toBe('declined');
    expect(outcomeOfAnswer({ error: { code: -32601, message: 'no handler' } })).toBe('cancelled');
  });

  it('says which tool was not confirmed and why', () => {
    const error = confirmationRefusal('f_rm', 'timeout', 120);
    expect(error.message).toBe('the call of tool "f_rm" was not confirmed: no answer within 120 s');
    expect(error).toMatchObject({ code: 'CONFIRMATION_DECLINED', rpcCode: -32030, data: { confirmation: 'timeout' } });
    expect(confirmationRefusal('f_rm', 'invalid', 120)).toMatchObject({
      code: 'CONFIRMATION_INVALID',
      rpcCode: -32602,
    });
  });
});
