import type { CompiledRule, PolicyVerdict } from './compiled-rule.ts';
import { CONDITION, type ConditionOutcome } from './condition.ts';
import type { CandidateLists, ServerKindRules } from './rule-index.ts';

/**
 * The decision over one item's candidate rules: denials first, in file order (the first that
 * holds, or fails to evaluate, decides); then allowances in file order (the first that holds
 * decides); then the default. On a list, a rule reading `mcp.arguments` is not evaluated: a
 * denial of that kind is passed over, an allowance of that kind holds.
 */

/** What a decision needs besides the candidates. */
export interface DecisionContext {
  /** `{auth, request, mcp}`, as the conditions read it. */
  readonly activation: object;
  /** A list (no arguments) rather than a call. */
  readonly list: boolean;
  /**
   * Outcomes of conditions that read nothing of `mcp`, by rule index (0: not yet evaluated),
   * shared by the decisions of one request; undefined: evaluate every time.
   */
  readonly memo?: Uint8Array;
  /**
   * Outcomes of conditions that read only `auth`, by rule index, shared by every request of one
   * `auth` object (one verified token: its variables never change); undefined: use `memo`.
   */
  readonly authMemo?: Uint8Array;
}

/** The verdicts of the default, made once. */
export interface DefaultVerdicts {
  readonly allowed: boolean;
  readonly verdict: PolicyVerdict;
}

/** Decides one item from its candidates. */
export function decide(
  rules: ServerKindRules,
  name: string,
  context: DecisionContext,
  fallback: DefaultVerdicts,
): PolicyVerdict {
  const denied = firstDeny(rules.deny, name, context);
  if (denied !== undefined) return denied;
  return firstAllow(rules.allow, name, context, fallback);
}

function firstDeny(lists: CandidateLists, name: string, context: DecisionContext): PolicyVerdict | undefined {
  const candidates = new Candidates(lists, name);
  for (let rule = candidates.next(); rule !== undefined; rule = candidates.next()) {
    const { condition } = rule;
    if (condition === undefined) return rule.verdict;
    // A list cannot tell which calls such a rule denies, so it does not hide the item.
    if (context.list && condition.readsArguments) continue;
    const outcome = outcomeOf(rule, context);
    if (outcome === CONDITION.holds) return rule.verdict;
    if (outcome === CONDITION.error) return rule.errorVerdict;
  }
  return undefined;
}

function firstAllow(
  lists: CandidateLists,
  name: string,
  context: DecisionContext,
  fallback: DefaultVerdicts,
): PolicyVerdict {
  const candidates = new Candidates(lists, name);
  let failed: CompiledRule | undefined;
  for (let rule = candidates.next(); rule !== undefined; rule = candidates.next()) {
    const { condition } = rule;
    // On a list, an allowance that depends on the arguments allows some calls: the item is shown.
    if (condition === undefined || (context.list && condition.readsArguments)) return rule.verdict;
    const outcome = outcomeOf(rule, context);
    if (outcome === CONDITION.holds) return rule.verdict;
    if (outcome === CONDITION.error) failed ??= rule;
  }
  if (fallback.allowed || failed === undefined) return fallback.verdict;
  return failed.errorVerdict;
}

/**
 * The confirm rule that asks for the user's confirmation of a call: the first, in file order,
 * whose condition holds or fails to evaluate (fail safe: a condition that cannot be evaluated
 * asks); undefined when none does. Only calls are decided: a confirm rule never hides an item.
 */
export function decideConfirm(
  rules: ServerKindRules,
  name: string,
  context: DecisionContext,
): PolicyVerdict | undefined {
  const candidates = new Candidates(rules.confirm, name);
  for (let rule = candidates.next(); rule !== undefined; rule = candidates.next()) {
    if (rule.condition === undefined) return rule.verdict;
    const outcome = outcomeOf(rule, context);
    if (outcome === CONDITION.holds) return rule.verdict;
    if (outcome === CONDITION.error) return rule.errorVerdict;
  }
  return undefined;
}

const NONE: readonly CompiledRule[] = [];

/** The rules that apply to one item, in file order: the exact list and the glob list merged. */
class Candidates {
  private readonly exact: readonly CompiledRule[];
  private readonly globs: CandidateLists['globs'];
  private readonly name: string;
  private i = 0;
  private j = 0;

  constructor(lists: CandidateLists, name: string) {
    this.exact = lists.exact.get(name) ?? NONE;
    this.globs = lists.globs;
    this.name = name;
  }

  /** The next rule that applies; undefined when there is none left. */
  next(): CompiledRule | undefined {
    for (;;) {
      const fromExact = this.exact[this.i];
      const fromGlobs = this.globs[this.j];
      if (fromGlobs === undefined || (fromExact !== undefined && fromExact.index < fromGlobs.rule.index)) {
        this.i += 1;
        return fromExact;
      }
      this.j += 1;
      if (fromGlobs.matches === undefined || fromGlobs.matches(this.name)) return fromGlobs.rule;
    }
  }
}

function outcomeOf(rule: CompiledRule, context: DecisionContext): ConditionOutcome {
  const condition = rule.condition;
  if (condition === undefined) return CONDITION.holds;
  const memo = condition.authOnly ? (context.authMemo ?? context.memo) : context.memo;
  if (memo === undefined || !condition.callerOnly) return condition.evaluate(context.activation);
  const known = memo[rule.index];
  if (known !== undefined && known !== 0) return known as ConditionOutcome;
  const outcome = condition.evaluate(context.activation);
  memo[rule.index] = outcome;
  return outcome;
}
