import { describe, expect, it } from 'vitest';
import { CONDITION, compileCondition, position } from './condition.ts';
import type { CompiledCondition } from './condition.ts';
import { createAuthVariables, createRequestVariables, UNVERIFIED_AUTH } from './policy-input.ts';
import type { PolicyInput } from './policy-input.ts';

function compiled(text: string): CompiledCondition {
  const result = compileCondition(text);
  if (!result.ok) throw new Error(`expected ${text} to compile: ${result.issue}`);
  return result.condition;
}

function issueOf(text: string): string {
  const result = compileCondition(text);
  if (result.ok) throw new Error(`expected ${text} not to compile`);
  return result.issue;
}

const INPUT: PolicyInput = {
  auth: createAuthVariables({
    issuer: 'https://idp.example.com',
    subject: 'alice',
    clientId: 'cli',
    scopes: ['mcp:read', 'mcp:write'],
    claims: { roles: ['dev', 'admin'], org: { id: 'acme', units: ['r&d'] }, level: 3, email_verified: true },
  }),
  request: createRequestVariables('tools/call', { 'X-Tenant': 'blue', authorization: 'Bearer secret' }),
  mcp: {
    server: 'team-a/weather',
    kind: 'tool',
    name: 'get_forecast',
    servedName: 'weather_get_forecast',
    arguments: { city: 'Paris', days: 3, options: { units: 'metric' } },
  },
};

describe('compileCondition: what a condition reads', () => {
  it.each([
    ['"admin" in auth.claims.roles', CONDITION.holds],
    ['auth.claims.org.id == "acme"', CONDITION.holds],
    ['"r&d" in auth.claims.org.units', CONDITION.holds],
    ['auth.claims.level >= 3', CONDITION.holds],
    ['auth.claims.email_verified', CONDITION.holds],
    ['auth.verified && auth.issuer == "https://idp.example.com" && auth.subject == "alice"', CONDITION.holds],
    ['auth.clientId == "cli" && "mcp:write" in auth.scopes', CONDITION.holds],
    ['request.method == "tools/call"', CONDITION.holds],
    ['request.headers["x-tenant"] == "blue"', CONDITION.holds],
    ['mcp.server.startsWith("team-a/") && mcp.kind == "tool"', CONDITION.holds],
    ['mcp.name == "get_forecast" && mcp.servedName == "weather_get_forecast"', CONDITION.holds],
    ['mcp.arguments.city == "Paris" && mcp.arguments.days <= 7', CONDITION.holds],
    ['mcp.arguments.options.units == "imperial"', CONDITION.fails],
    ['has(mcp.arguments.country)', CONDITION.fails],
    ['auth.scopes.exists(s, s.endsWith(":admin"))', CONDITION.fails],
  ])('evaluates %s', (text, outcome) => {
    expect(compiled(text).evaluate(INPUT)).toBe(outcome);
  });

  it.each([
    ['request.method == "tools/call"', []],
    ['request.headers["X-Tenant"] == "blue"', ['x-tenant']],
    ['request.headers.x_a == "1" || "x-b" in request.headers', ['x_a', 'x-b']],
    ['has(request.headers.x_c)', ['x_c']],
  ])('names the headers %s reads', (text, names) => {
    expect([...(compiled(text).headers as ReadonlySet<string>)]).toEqual(names);
  });

  it.each([
    'size(request.headers) > 2',
    'request.headers.exists(name, name.startsWith("x-"))',
    'request.headers[mcp.arguments.header] == "1"',
  ])('says %s reads every header', (text) => {
    expect(compiled(text).headers).toBe('all');
  });

  it('does not show the caller credentials among the headers', () => {
    expect(compiled('"authorization" in request.headers').evaluate(INPUT)).toBe(CONDITION.fails);
  });

  it('sees no claims, scopes or names of an unverified caller', () => {
    const input = { ...INPUT, auth: UNVERIFIED_AUTH };
    expect(compiled('!auth.verified && auth.subject == "" && size(auth.scopes) == 0').evaluate(input)).toBe(
      CONDITION.holds,
    );
    expect(compiled('size(auth.claims) == 0').evaluate(input)).toBe(CONDITION.holds);
  });

  it('gives an error for a missing key, not a false', () => {
    expect(compiled('auth.claims.team == "blue"').evaluate(INPUT)).toBe(CONDITION.error);
    expect(compiled('request.headers["x-missing"] == "a"').evaluate(INPUT)).toBe(CONDITION.error);
  });

  it('gives an error for a value of the wrong type', () => {
    expect(compiled('mcp.arguments.city > 3').evaluate(INPUT)).toBe(CONDITION.error);
  });

  it('gives an error when a dyn result is not a bool', () => {
    expect(compiled('auth.claims.org').evaluate(INPUT)).toBe(CONDITION.error);
  });

  it('says whether a condition reads mcp.arguments, in any spelling', () => {
    expect(compiled('mcp.arguments.city == "Paris"').readsArguments).toBe(true);
    expect(compiled('has(mcp.arguments.city)').readsArguments).toBe(true);
    expect(compiled('mcp["arguments"].city == "Paris"').readsArguments).toBe(true);
    expect(compiled('mcp.name == "x" || auth.verified').readsArguments).toBe(false);
    expect(compiled('auth.verified').readsArguments).toBe(false);
  });

  it('counts a use of the whole mcp variable as reading the arguments', () => {
    expect(compiled('[mcp][0].arguments.city == "Paris"').readsArguments).toBe(true);
  });

  it('says whether a condition reads only the caller', () => {
    expect(compiled('"admin" in auth.claims.roles && request.method == "tools/call"').callerOnly).toBe(true);
    expect(compiled('auth.verified && mcp.name == "x"').callerOnly).toBe(false);
  });
});

describe('compileCondition: issues', () => {
  it('reports a syntax error with its line and column', () => {
    expect(issueOf('auth.verified && && true')).toBe('Unexpected token: AND at line 1, column 18');
  });

  it('counts lines and columns of a condition written over several lines', () => {
    expect(issueOf('auth.verified &&\n  (mcp.name == "x"')).toMatch(/ at line 2, column 19$/);
  });

  it('names an unknown variable and where it is', () => {
    expect(issueOf('auth.verified && user.name == "x"')).toBe(
      'unknown variable "user" (a condition sees auth, request, mcp) at line 1, column 18',
    );
  });

  it('names an unknown field of a variable and where it is', () => {
    expect(issueOf('auth.subjet == "alice"')).toBe(
      'auth has no field "subjet" (it has verified, issuer, subject, clientId, scopes, claims) at line 1, column 6',
    );
  });

  it('rejects a condition whose result is not a bool', () => {
    expect(issueOf('auth.subject')).toBe('must be a bool condition, not string at line 1, column 1');
    expect(issueOf('size(auth.scopes)')).toBe('must be a bool condition, not int at line 1, column 1');
  });

  it('rejects an operator applied to the wrong types', () => {
    expect(issueOf('auth.verified == "yes"')).toMatch(/^no such overload: bool == string at line 1, column 1$/);
  });

  it('rejects a matches() pattern that is not a string literal', () => {
    expect(issueOf('mcp.arguments.q.matches(mcp.arguments.re)')).toBe(
      'matches() takes a string literal pattern at line 1, column 25',
    );
  });

  it('rejects a matches() pattern that does not compile', () => {
    expect(issueOf('auth.subject.matches("(")')).toMatch(
      /^matches\(\) pattern does not compile \(.+\) at line 1, column 22$/,
    );
  });

  it('accepts a literal matches() pattern and evaluates it', () => {
    expect(compiled('auth.subject.matches("^a[a-z]+$")').evaluate(INPUT)).toBe(CONDITION.holds);
  });
});

describe('position', () => {
  it('gives 1-based lines and columns', () => {
    expect(position('ab\ncd', 0)).toBe('line 1, column 1');
    expect(position('ab\ncd', 4)).toBe('line 2, column 2');
  });
});
