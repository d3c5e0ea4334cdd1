import type { PolicyRuleConfig } from '../config/access-schema.ts';
import type { CompiledCondition } from './condition.ts';
import type { NameSelector } from './name-selector.ts';
import type { PolicyItemKind } from './policy-input.ts';

/**
 * A policy's answer for one item: allowed or not, and what decided it: a rule (`rule` names it),
 * the policy's `default`, or a rule whose `when` failed to evaluate (`by: 'error'`, `rule` names it).
 */
export interface PolicyVerdict {
  readonly allowed: boolean;
  /** The deciding rule's name; absent when the default decided. */
  readonly rule?: string;
  readonly by: 'rule' | 'default' | 'error';
}

/**
 * Which items of one kind a rule selects: `all` (the rule names no kind, or the server is all it
 * names), or the selector compiled from its list for that kind.
 */
export type ItemSelection = 'all' | NameSelector;

/** One rule, compiled; its verdicts are made once so that a decision allocates nothing. */
export interface CompiledRule {
  /** Its place in the file; candidates are visited in this order. */
  readonly index: number;
  readonly name: string;
  readonly effect: PolicyRuleConfig['effect'];
  /** undefined: every server. */
  readonly servers?: NameSelector;
  /** The kinds it applies to and which items of each; a kind it does not name is absent. */
  readonly items: Readonly<Partial<Record<PolicyItemKind, ItemSelection>>>;
  /** undefined: no `when`, the rule always holds. */
  readonly condition?: CompiledCondition;
  /** The verdict when it holds. */
  readonly verdict: PolicyVerdict;
  /** The verdict when its `when` fails to evaluate and that decides: a denial by error. */
  readonly errorVerdict: PolicyVerdict;
}
