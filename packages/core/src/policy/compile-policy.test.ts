import { describe, expect, it } from 'vitest';
import type { PolicyConfig, PolicyRuleConfig } from '../config/access-schema.ts';
import { compilePolicy } from './compile-policy.ts';
import type { CompiledPolicy } from './compile-policy.ts';
import { createAuthVariables, createRequestVariables, UNVERIFIED_AUTH } from './policy-input.ts';
import type { AuthVariables, McpCallVariables, PolicyInput, PolicyItemKind } from './policy-input.ts';

function policyOf(rules: PolicyRuleConfig[], defaultEffect: PolicyConfig['default'] = 'allow'): CompiledPolicy {
  const result = compilePolicy({ default: defaultEffect, rules });
  if (!result.ok) throw new Error(`expected the policy to compile:\n${result.issues.join('\n')}`);
  return result.policy;
}

const ALICE = createAuthVariables({
  issuer: 'https://idp.example.com',
  subject: 'alice',
  scopes: ['mcp:read'],
  claims: { roles: ['dev'], org: { id: 'acme' } },
});

interface ItemOptions {
  kind?: PolicyItemKind;
  server?: string;
  args?: Record<string, unknown>;
  auth?: AuthVariables;
}

function input(name: string, options: ItemOptions = {}): PolicyInput<McpCallVariables> {
  const kind = options.kind ?? 'tool';
  const method = { tool: 'tools/call', prompt: 'prompts/get', resource: 'resources/read' }[kind];
  return {
    auth: options.auth ?? ALICE,
    request: createRequestVariables(method, { 'x-tenant': 'blue' }),
    mcp: {
      server: options.server ?? 'team-a/weather',
      kind,
      name,
      servedName: `w_${name}`,
      arguments: options.args ?? {},
    },
  };
}

/** The rule names a call is allowed by, or `denied by <rule>` / `denied by default`. */
function callAnswer(policy: CompiledPolicy, name: string, options?: ItemOptions): string {
  const verdict = policy.decideCall(input(name, options));
  return `${verdict.allowed ? 'allowed' : 'denied'} by ${verdict.rule ?? verdict.by}`;
}

const deny = (name: string, rest: Partial<PolicyRuleConfig> = {}): PolicyRuleConfig => ({
  name,
  effect: 'deny',
  ...rest,
});
const allow = (name: string, rest: Partial<PolicyRuleConfig> = {}): PolicyRuleConfig => ({
  name,
  effect: 'allow',
  ...rest,
});

describe('compilePolicy: selectors', () => {
  it('applies a rule to the items its selectors match', () => {
    const policy = policyOf([deny('no-reset', { servers: ['team-a/weather'], tools: ['reset'] })]);
    expect(callAnswer(policy, 'reset')).toBe('denied by no-reset');
    expect(callAnswer(policy, 'get_forecast')).toBe('allowed by default');
    expect(callAnswer(policy, 'reset', { server: 'team-b/weather' })).toBe('allowed by default');
  });

  it('matches tools by their upstream names, without the prefix', () => {
    const policy = policyOf([deny('prefixed', { tools: ['w_reset'] })]);
    expect(callAnswer(policy, 'reset')).toBe('allowed by default');
  });

  it('matches exact names and * globs in every selector', () => {
    const policy = policyOf([deny('admin', { servers: ['team-a/*'], tools: ['admin_*', 'drop'] })]);
    expect(callAnswer(policy, 'admin_reset')).toBe('denied by admin');
    expect(callAnswer(policy, 'drop', { server: 'team-a/db' })).toBe('denied by admin');
    expect(callAnswer(policy, 'admin_reset', { server: 'team-b/db' })).toBe('allowed by default');
    expect(callAnswer(policy, 'dropped')).toBe('allowed by default');
  });

  it('matches resources by URI glob', () => {
    const policy = policyOf([deny('secrets', { resources: ['file:///etc/*'] })]);
    expect(callAnswer(policy, 'file:///etc/passwd', { kind: 'resource' })).toBe('denied by secrets');
    expect(callAnswer(policy, 'file:///srv/readme', { kind: 'resource' })).toBe('allowed by default');
  });

  it('applies a rule naming tools only to tools', () => {
    const policy = policyOf([deny('tools-only', { tools: ['*'] })]);
    expect(callAnswer(policy, 'x')).toBe('denied by tools-only');
    expect(callAnswer(policy, 'x', { kind: 'prompt' })).toBe('allowed by default');
    expect(callAnswer(policy, 'x', { kind: 'resource' })).toBe('allowed by default');
  });

  it('applies a rule naming prompts and resources to both and not to tools', () => {
    const policy = policyOf([deny('two-kinds', { prompts: ['p'], resources: ['r'] })]);
    expect(callAnswer(policy, 'p', { kind: 'prompt' })).toBe('denied by two-kinds');
    expect(callAnswer(policy, 'r', { kind: 'resource' })).toBe('denied by two-kinds');
    expect(callAnswer(policy, 'p', { kind: 'resource' })).toBe('allowed by default');
    expect(callAnswer(policy, 'p')).toBe('allowed by default');
  });

  it('applies a rule naming none of the three kinds to all kinds', () => {
    const policy = policyOf([deny('server-wide', { servers: ['team-a/weather'] })]);
    for (const kind of ['tool', 'prompt', 'resource'] as const) {
      expect(callAnswer(policy, 'anything', { kind })).toBe('denied by server-wide');
    }
  });

  it('applies a rule with no servers to every server', () => {
    const policy = policyOf([deny('everywhere', { tools: ['reset'] })]);
    expect(callAnswer(policy, 'reset', { server: 'a' })).toBe('denied by everywhere');
    expect(callAnswer(policy, 'reset', { server: 'b/c' })).toBe('denied by everywhere');
  });
});

describe('compilePolicy: deny overrides allow', () => {
  it('denies when an applicable deny holds, even after an allow that holds', () => {
    const policy = policyOf([
      allow('devs', { when: '"dev" in auth.claims.roles' }),
      deny('no-reset', { tools: ['reset'] }),
    ]);
    expect(callAnswer(policy, 'reset')).toBe('denied by no-reset');
  });

  it('names the first deny in file order that holds', () => {
    const policy = policyOf([
      deny('glob', { tools: ['re*'] }),
      deny('exact', { tools: ['reset'] }),
      deny('all', { when: 'auth.verified' }),
    ]);
    expect(callAnswer(policy, 'reset')).toBe('denied by glob');
    const reordered = policyOf([deny('exact', { tools: ['reset'] }), deny('glob', { tools: ['re*'] })]);
    expect(callAnswer(reordered, 'reset')).toBe('denied by exact');
  });

  it('counts a rule without a when as holding', () => {
    expect(callAnswer(policyOf([deny('always')]), 'x')).toBe('denied by always');
    expect(callAnswer(policyOf([allow('always')], 'deny'), 'x')).toBe('allowed by always');
  });

  it('allows by the first allow in file order that holds when no deny holds', () => {
    const policy = policyOf(
      [
        deny('not-alice', { when: 'auth.subject != "alice"' }),
        allow('bob', { when: 'auth.subject == "bob"' }),
        allow('acme', { when: 'auth.claims.org.id == "acme"' }),
        allow('devs', { when: '"dev" in auth.claims.roles' }),
      ],
      'deny',
    );
    expect(callAnswer(policy, 'x')).toBe('allowed by acme');
  });

  it('answers the default deny when no rule holds', () => {
    const policy = policyOf([allow('admins', { when: '"admin" in auth.claims.roles' })], 'deny');
    expect(callAnswer(policy, 'x')).toBe('denied by default');
  });

  it('answers the default allow when no rule holds', () => {
    const policy = policyOf([deny('admins', { when: '"admin" in auth.claims.roles' })]);
    expect(callAnswer(policy, 'x')).toBe('allowed by default');
  });

  it('denies an unverified caller with a rule over auth.verified', () => {
    const policy = policyOf([allow('verified', { when: 'auth.verified' })], 'deny');
    expect(callAnswer(policy, 'x', { auth: UNVERIFIED_AUTH })).toBe('denied by default');
    expect(callAnswer(policy, 'x')).toBe('allowed by verified');
  });

  it('decides on argument values for a call', () => {
    const policy = policyOf([deny('no-long-forecasts', { tools: ['get_forecast'], when: 'mcp.arguments.days > 7' })]);
    expect(callAnswer(policy, 'get_forecast', { args: { days: 14 } })).toBe('denied by no-long-forecasts');
    expect(callAnswer(policy, 'get_forecast', { args: { days: 3 } })).toBe('allowed by default');
  });

  it('decides on request headers', () => {
    const policy = policyOf([allow('blue-tenant', { when: 'request.headers["x-tenant"] == "blue"' })], 'deny');
    expect(callAnswer(policy, 'x')).toBe('allowed by blue-tenant');
  });
});

describe('compilePolicy: evaluation errors fail closed', () => {
  it('treats a deny whose when fails at evaluation as holding, and says so', () => {
    const policy = policyOf([deny('by-team', { when: 'auth.claims.team == "red"' })]);
    expect(policy.decideCall(input('x'))).toEqual({ allowed: false, rule: 'by-team', by: 'error' });
  });

  it('treats an allow whose when fails at evaluation as not holding', () => {
    const policy = policyOf(
      [allow('by-team', { when: 'auth.claims.team == "blue"' }), allow('devs', { when: '"dev" in auth.claims.roles' })],
      'deny',
    );
    expect(policy.decideCall(input('x'))).toEqual({ allowed: true, rule: 'devs', by: 'rule' });
  });

  it('names the failing allow when the answer is then the default deny', () => {
    const policy = policyOf([allow('by-team', { when: 'auth.claims.team == "blue"' })], 'deny');
    expect(policy.decideCall(input('x'))).toEqual({ allowed: false, rule: 'by-team', by: 'error' });
  });

  it('answers the default allow when only an allow failed', () => {
    const policy = policyOf([allow('by-team', { when: 'auth.claims.team == "blue"' })]);
    expect(policy.decideCall(input('x'))).toEqual({ allowed: true, by: 'default' });
  });

  it('treats a missing argument of a call as an evaluation error', () => {
    const policy = policyOf([deny('paris', { when: 'mcp.arguments.city == "Paris"' })]);
    expect(policy.decideCall(input('x'))).toEqual({ allowed: false, rule: 'paris', by: 'error' });
  });
});

describe('compilePolicy: lists', () => {
  const visible = (policy: CompiledPolicy, name: string, options?: ItemOptions) => {
    const { mcp, ...caller } = input(name, options);
    const { arguments: _unused, ...item } = mcp;
    return policy.decideVisible({ ...caller, mcp: item });
  };

  it('hides an item a deny without arguments denies', () => {
    const policy = policyOf([deny('admins-only', { tools: ['admin_*'], when: '!("admin" in auth.claims.roles)' })]);
    expect(visible(policy, 'admin_reset')).toEqual({ allowed: false, rule: 'admins-only', by: 'rule' });
    expect(visible(policy, 'get_forecast')).toEqual({ allowed: true, by: 'default' });
  });

  it('does not hide an item because of a deny that reads mcp.arguments', () => {
    const policy = policyOf([deny('no-paris', { when: 'auth.verified && mcp.arguments.city == "Paris"' })]);
    expect(visible(policy, 'get_forecast')).toEqual({ allowed: true, by: 'default' });
  });

  it('shows an item an allow that reads mcp.arguments could allow', () => {
    const policy = policyOf([allow('small', { when: 'auth.subject == "bob" && mcp.arguments.days < 3' })], 'deny');
    expect(visible(policy, 'get_forecast')).toEqual({ allowed: true, rule: 'small', by: 'rule' });
  });

  it('hides an item whose deny fails at evaluation', () => {
    const policy = policyOf([deny('by-team', { when: 'auth.claims.team == "red"' })]);
    expect(visible(policy, 'x')).toEqual({ allowed: false, rule: 'by-team', by: 'error' });
  });

  it('decides the same per item through forCaller as through decideVisible and decideCall', () => {
    const policy = policyOf(
      [
        deny('not-devs', { when: '!("dev" in auth.claims.roles)' }),
        deny('admin', { tools: ['admin_*'], when: 'auth.claims.org.id == "acme"' }),
        deny('by-team', { prompts: ['*'], when: 'auth.claims.team == "red"' }),
        allow('forecasts', { tools: ['get_*'], when: 'mcp.name.endsWith("forecast")' }),
        allow('paris', { tools: ['get_weather'], when: 'mcp.arguments.city == "Paris"' }),
      ],
      'deny',
    );
    const { mcp: _unused, ...caller } = input('x');
    const scope = policy.forCaller(caller);
    const items = ['admin_reset', 'get_forecast', 'get_weather', 'get_time'].flatMap((name) => [
      input(name),
      input(name, { kind: 'prompt' }),
    ]);
    for (const item of items) {
      const { arguments: _args, ...listed } = item.mcp;
      expect(scope.decideVisible(listed)).toEqual(policy.decideVisible({ ...caller, mcp: listed }));
      expect(scope.decideCall(item.mcp)).toEqual(policy.decideCall(item));
    }
    expect(scope.decideVisible({ ...items[4]!.mcp })).toEqual({ allowed: true, rule: 'paris', by: 'rule' });
    expect(scope.decideCall(items[4]!.mcp)).toEqual({ allowed: false, rule: 'paris', by: 'error' });
    const paris = input('get_weather', { args: { city: 'Paris' } }).mcp;
    expect(scope.decideCall(paris)).toEqual({ allowed: true, rule: 'paris', by: 'rule' });
    expect(scope.decideVisible(items[1]!.mcp)).toEqual({ allowed: false, rule: 'by-team', by: 'error' });
  });

  it('evaluates a condition on auth alone once per auth object, across requests, and again for another', () => {
    const policy = policyOf([deny('not-admins', { when: '!("admin" in auth.claims.roles)' })]);
    const claims: Record<string, unknown> = { roles: ['admin'] };
    const auth = createAuthVariables({ issuer: 'https://idp', subject: 'alice', claims });
    const request = createRequestVariables('tools/call', {});
    const mcp = input('x').mcp;
    expect(policy.forCaller({ auth, request }).decideCall(mcp).allowed).toBe(true);
    // The same auth object stands for one verified token, whose claims never change: the outcome
    // is kept (shown here by changing the claims behind it, which the gateway never does).
    claims['roles'] = ['reader'];
    expect(policy.forCaller({ auth, request }).decideCall(mcp).allowed).toBe(true);
    const other = createAuthVariables({ issuer: 'https://idp', subject: 'bob', claims: { roles: ['reader'] } });
    expect(policy.forCaller({ auth: other, request }).decideCall(mcp).allowed).toBe(false);
  });
});

describe('compilePolicy: issues', () => {
  function issuesOf(rules: PolicyRuleConfig[], at?: string): string[] {
    const result = compilePolicy({ default: 'allow', rules }, at);
    if (result.ok) throw new Error('expected the policy not to compile');
    return result.issues;
  }

  it('names the rule, the field and the position of every condition that does not compile', () => {
    expect(
      issuesOf([
        allow('fine', { when: 'auth.verified' }),
        deny('syntax', { when: 'auth.verified &&' }),
        deny('unknown', { when: 'user.admin' }),
        allow('not-bool', { when: 'auth.scopes' }),
      ]),
    ).toEqual([
      'policy.rules[1].when: Unexpected token: EOF at line 1, column 17',
      'policy.rules[2].when: unknown variable "user" (a condition sees auth, request, mcp) at line 1, column 1',
      'policy.rules[3].when: must be a bool condition, not list<string> at line 1, column 1',
    ]);
  });

  it('prefixes the issues with the section path it is given', () => {
    expect(issuesOf([deny('syntax', { when: '(' })], 'spec.policy')).toEqual([
      'spec.policy.rules[0].when: Unexpected token: EOF at line 1, column 2',
    ]);
  });

  it('rejects an empty selector list and an empty name', () => {
    expect(issuesOf([deny('empty', { servers: [], tools: ['a', ''] })])).toEqual([
      'policy.rules[0].servers: must name at least one server (leave it out to apply to every server)',
      'policy.rules[0].tools[1]: must not be empty',
    ]);
  });

  it('compiles a policy without rules to its default', () => {
    expect(callAnswer(policyOf([], 'deny'), 'x')).toBe('denied by default');
    expect(callAnswer(policyOf([], 'allow'), 'x')).toBe('allowed by default');
  });
});
