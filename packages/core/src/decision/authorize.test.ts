import { describe, expect, it } from 'vitest';
import { fakeServer } from '../catalog/catalog.fixtures.ts';
import { accessSubjectOf, argumentsOf, deniedError, refusalError } from './authorize.ts';
import type { ForwardPlan } from './route.ts';

const server = fakeServer('team/weather', 'w_');
const plan = (method: string, params: Record<string, unknown>, target?: ForwardPlan['target']): ForwardPlan => ({
  server,
  method,
  params,
  upstreamEra: 'legacy',
  ...(target === undefined ? {} : { target }),
});

describe('accessSubjectOf', () => {
  it('names the item a call, a get or a read concerns, with the name clients use', () => {
    expect(accessSubjectOf(plan('tools/call', { name: 'forecast' }, { kind: 'tool', name: 'forecast' }))).toEqual({
      kind: 'tool',
      server: 'team/weather',
      name: 'forecast',
      servedName: 'w_forecast',
    });
    expect(
      accessSubjectOf(plan('resources/read', { uri: 'test://a' }, { kind: 'resource', name: 'test://a' })),
    ).toEqual({
      kind: 'resource',
      server: 'team/weather',
      name: 'test://a',
      servedName: 'test://w_a',
    });
  });

  it('names the prompt or resource a completion refers to', () => {
    expect(
      accessSubjectOf(plan('completion/complete', { ref: { type: 'ref/prompt', name: 'summary' } })),
    ).toMatchObject({
      kind: 'prompt',
      name: 'summary',
      servedName: 'w_summary',
    });
    expect(
      accessSubjectOf(plan('completion/complete', { ref: { type: 'ref/resource', uri: 'test://{id}' } })),
    ).toMatchObject({
      kind: 'resource',
      name: 'test://{id}',
    });
    expect(accessSubjectOf(plan('completion/complete', { ref: { type: 'ref/other' } }))).toBeUndefined();
  });
});

describe('argumentsOf', () => {
  it("is a tool call's or a prompt's arguments object, and empty for anything else", () => {
    expect(argumentsOf(plan('tools/call', { name: 'x', arguments: { city: 'Oslo' } }))).toEqual({ city: 'Oslo' });
    expect(argumentsOf(plan('tools/call', { name: 'x', arguments: ['not', 'an', 'object'] }))).toEqual({});
    expect(argumentsOf(plan('resources/read', { uri: 'x', arguments: { a: 1 } }))).toEqual({});
  });
});

describe('the errors', () => {
  it('name the item in the client’s terms and nothing of the rule', () => {
    const error = deniedError({ kind: 'tool', server: 'team/weather', name: 'delete', servedName: 'w_delete' });
    expect(error.rpcCode).toBe(-32003);
    expect(error.message).toBe('Access denied: the tool "w_delete" is not available to this caller');
  });

  it('map a credential refusal to its status', () => {
    expect(refusalError({ status: 401, error: 'invalid_token', description: 'the token has expired' })).toMatchObject({
      status: 401,
      message: 'Unauthorized: the token has expired',
    });
    expect(refusalError({ status: 403, error: 'insufficient_scope', description: 'x' }).status).toBe(403);
    expect(refusalError({ status: 503, description: 'keys' }).status).toBe(503);
  });
});
