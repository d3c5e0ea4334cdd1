import type { PolicyConfig, PolicyRuleConfig } from '../config/access-schema.ts';
import type { CompiledRule, ItemSelection, PolicyVerdict } from './compiled-rule.ts';
import { compileCondition, type CompiledCondition } from './condition.ts';
import { decide, decideConfirm, type DecisionContext, type DefaultVerdicts } from './decide.ts';
import { compileSelector, type NameSelector } from './name-selector.ts';
import type { McpCallVariables, McpItemVariables, PolicyCaller, PolicyInput, PolicyItemKind } from './policy-input.ts';
import { createRuleIndex } from './rule-index.ts';

/**
 * The `policy` section compiled: every `when` parsed and type-checked, every selector compiled,
 * the rules indexed by server and item name. Decides calls (`decideCall`) and what lists show
 * (`decideVisible`) the same way in every host.
 * @see docs/authorization.md
 */
export interface CompiledPolicy {
  /** The policy's `default`. */
  readonly defaultEffect: PolicyConfig['default'];
  /**
   * The request headers its conditions read (lower-case names), so a host copies only those into
   * `request.headers`; undefined when a condition uses the whole map (copy every header).
   */
  readonly headerNames: ReadonlySet<string> | undefined;
  /** May this call (tools/call, prompts/get) or read (resources/read) go ahead? */
  decideCall(input: PolicyInput<McpCallVariables>): PolicyVerdict;
  /** Does a list show this item? Decided without arguments (see docs/authorization.md). */
  decideVisible(input: PolicyInput<McpItemVariables>): PolicyVerdict;
  /**
   * The `confirm` rule that asks for the user's confirmation of this call (`by: 'error'` when
   * its condition failed: fail safe); undefined when none does. Says nothing of whether it is allowed.
   */
  decideConfirm(input: PolicyInput<McpCallVariables>): PolicyVerdict | undefined;
  /**
   * The same decisions for one request's caller, given once: a condition that reads nothing of
   * `mcp` is evaluated at most once for all the items of the request. Make one per request; it
   * assumes `caller` does not change.
   */
  forCaller(caller: PolicyCaller): PolicyCallerScope;
}

/** CompiledPolicy's decisions for one caller. */
export interface PolicyCallerScope {
  decideCall(mcp: McpCallVariables): PolicyVerdict;
  decideVisible(mcp: McpItemVariables): PolicyVerdict;
  decideConfirm(mcp: McpCallVariables): PolicyVerdict | undefined;
}

/** compilePolicy's outcome: the policy, or issues in the config's `<path>: <reason>` form. */
export type CompilePolicyResult =
  { readonly ok: true; readonly policy: CompiledPolicy } | { readonly ok: false; readonly issues: string[] };

const SELECTOR_FIELDS = [
  ['servers', 'server'],
  ['tools', 'tool'],
  ['prompts', 'prompt'],
  ['resources', 'resource'],
] as const;

/**
 * Compiles a resolved `policy` section. Never throws. Issues name the rule's field and, for a
 * `when`, what is wrong and where: `policy.rules[3].when: unknown variable "user" (…) at line 1, column 1`.
 * @param at The section's path in messages.
 */
export function compilePolicy(config: PolicyConfig, at = 'policy'): CompilePolicyResult {
  const issues: string[] = [];
  const rules: CompiledRule[] = [];
  config.rules.forEach((rule, index) => {
    const compiled = compileRule(rule, index, `${at}.rules[${index}]`, issues);
    if (compiled !== undefined) rules.push(compiled);
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, policy: createCompiledPolicy(rules, config.default) };
}

function compileRule(rule: PolicyRuleConfig, index: number, at: string, issues: string[]): CompiledRule | undefined {
  const before = issues.length;
  const selectors: Partial<Record<(typeof SELECTOR_FIELDS)[number][0], NameSelector>> = {};
  for (const [field, noun] of SELECTOR_FIELDS) {
    const patterns = rule[field];
    if (patterns === undefined) continue;
    if (patterns.length === 0) {
      issues.push(`${at}.${field}: must name at least one ${noun} (leave it out to apply to every ${noun})`);
      continue;
    }
    patterns.forEach((pattern, position) => {
      if (pattern === '') issues.push(`${at}.${field}[${position}]: must not be empty`);
    });
    selectors[field] = compileSelector(patterns);
  }
  let condition: CompiledCondition | undefined;
  if (rule.effect === 'confirm' && (rule.prompts !== undefined || rule.resources !== undefined)) {
    issues.push(`${at}: a confirm rule applies to tool calls only; leave out prompts and resources`);
  }
  if (rule.when !== undefined) {
    const compiled = compileCondition(rule.when);
    if (compiled.ok) condition = compiled.condition;
    else issues.push(`${at}.when: ${compiled.issue}`);
  }
  if (issues.length > before) return undefined;

  const { tools, prompts, resources } = selectors;
  const namesAKind = tools !== undefined || prompts !== undefined || resources !== undefined;
  const items: Partial<Record<PolicyItemKind, ItemSelection>> = {};
  const select = (kind: PolicyItemKind, selector: NameSelector | undefined) => {
    if (!namesAKind) items[kind] = 'all';
    else if (selector !== undefined) items[kind] = selector;
  };
  select('tool', tools);
  select('prompt', prompts);
  select('resource', resources);

  const allowed = rule.effect === 'allow';
  return {
    index,
    name: rule.name,
    effect: rule.effect,
    ...(selectors.servers === undefined ? {} : { servers: selectors.servers }),
    items,
    ...(condition === undefined ? {} : { condition }),
    verdict: Object.freeze({ allowed, rule: rule.name, by: 'rule' }),
    errorVerdict: Object.freeze({ allowed: false, rule: rule.name, by: 'error' }),
  };
}

/** `rules` are every rule of the file, each at its index. */
function createCompiledPolicy(rules: readonly CompiledRule[], defaultEffect: PolicyConfig['default']): CompiledPolicy {
  const rulesFor = createRuleIndex(rules);
  const allowed = defaultEffect === 'allow';
  const fallback: DefaultVerdicts = { allowed, verdict: Object.freeze({ allowed, by: 'default' }) };
  const hasCallerOnly = rules.some((rule) => rule.condition?.callerOnly === true);
  const hasAuthOnly = rules.some((rule) => rule.condition?.authOnly === true);
  // Per `auth` object: a verified token's variables are one object for as long as its verification is cached.
  const authMemos = new WeakMap<object, Uint8Array>();
  const authMemoOf = (auth: object): Uint8Array => {
    let memo = authMemos.get(auth);
    if (memo === undefined) {
      memo = new Uint8Array(rules.length);
      authMemos.set(auth, memo);
    }
    return memo;
  };

  const run = (mcp: McpItemVariables, context: DecisionContext) =>
    decide(rulesFor(mcp.server)[mcp.kind], mcp.name, context, fallback);
  const confirmOf = (mcp: McpItemVariables, context: DecisionContext) =>
    decideConfirm(rulesFor(mcp.server)[mcp.kind], mcp.name, context);

  return {
    defaultEffect,
    headerNames: headerNamesOf(rules),
    decideCall: (input) => run(input.mcp, { activation: input, list: false }),
    decideVisible: (input) => run(input.mcp, { activation: input, list: true }),
    decideConfirm: (input) => confirmOf(input.mcp, { activation: input, list: false }),
    forCaller(caller) {
      // One activation per request: only its `mcp` changes from one item to the next.
      const activation: { auth: PolicyCaller['auth']; request: PolicyCaller['request']; mcp?: McpItemVariables } = {
        auth: caller.auth,
        request: caller.request,
      };
      const memo = hasCallerOnly ? new Uint8Array(rules.length) : undefined;
      const authMemo = hasAuthOnly ? authMemoOf(caller.auth) : undefined;
      const memos = { ...(memo === undefined ? {} : { memo }), ...(authMemo === undefined ? {} : { authMemo }) };
      const call: DecisionContext = { activation, list: false, ...memos };
      const list: DecisionContext = { activation, list: true, ...memos };
      return {
        decideCall(mcp) {
          activation.mcp = mcp;
          return run(mcp, call);
        },
        decideVisible(mcp) {
          activation.mcp = mcp;
          return run(mcp, list);
        },
        decideConfirm(mcp) {
          activation.mcp = mcp;
          return confirmOf(mcp, call);
        },
      };
    },
  };
}

/** The union of the headers the rules' conditions read; undefined when one reads them all. */
function headerNamesOf(rules: readonly CompiledRule[]): ReadonlySet<string> | undefined {
  const names = new Set<string>();
  for (const rule of rules) {
    const read = rule.condition?.headers;
    if (read === undefined) continue;
    if (read === 'all') return undefined;
    for (const name of read) names.add(name);
  }
  return names;
}
