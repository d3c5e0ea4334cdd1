import type { CompiledRule } from './compiled-rule.ts';
import { POLICY_ITEM_KINDS, type PolicyItemKind } from './policy-input.ts';

/**
 * The rules that can apply to an item, found without looking at the others: per server (worked
 * out on the server's first decision and kept), per kind, the rules naming the item exactly and
 * the short list of those that select by glob or select every item. Each list is in file order.
 */

/** A rule selecting items of one kind by glob (or all of them), as the lists hold it. */
export interface GlobCandidate {
  readonly rule: CompiledRule;
  /** undefined: every item of the kind. Otherwise true when a glob (not an exact name) selects it. */
  readonly matches?: (name: string) => boolean;
}

/** The rules of one effect that can apply to the items of one kind on one server. */
export interface CandidateLists {
  readonly exact: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly globs: readonly GlobCandidate[];
}

/** The candidates for one server and kind, denials, allowances and confirmations apart. */
export interface ServerKindRules {
  readonly deny: CandidateLists;
  readonly allow: CandidateLists;
  readonly confirm: CandidateLists;
}

/** The candidates on one server, by kind. */
export type ServerRules = Readonly<Record<PolicyItemKind, ServerKindRules>>;

/** How many servers' lists are kept before they are all worked out anew (server names come from the config). */
const MAX_CACHED_SERVERS = 4096;

/** Returns the candidate lists of a server, made once per server name. */
export function createRuleIndex(rules: readonly CompiledRule[]): (server: string) => ServerRules {
  const cache = new Map<string, ServerRules>();
  return (server) => {
    let found = cache.get(server);
    if (found === undefined) {
      if (cache.size >= MAX_CACHED_SERVERS) cache.clear();
      found = rulesForServer(rules, server);
      cache.set(server, found);
    }
    return found;
  };
}

function rulesForServer(rules: readonly CompiledRule[], server: string): ServerRules {
  const onServer = rules.filter((rule) => rule.servers === undefined || rule.servers.matches(server));
  const byKind = {} as Record<PolicyItemKind, ServerKindRules>;
  for (const kind of POLICY_ITEM_KINDS) {
    byKind[kind] = {
      deny: candidateLists(onServer, kind, 'deny'),
      allow: candidateLists(onServer, kind, 'allow'),
      confirm: candidateLists(onServer, kind, 'confirm'),
    };
  }
  return byKind;
}

function candidateLists(rules: readonly CompiledRule[], kind: PolicyItemKind, effect: string): CandidateLists {
  const exact = new Map<string, CompiledRule[]>();
  const globs: GlobCandidate[] = [];
  for (const rule of rules) {
    const selection = rule.items[kind];
    if (rule.effect !== effect || selection === undefined) continue;
    if (selection === 'all') {
      globs.push({ rule });
      continue;
    }
    for (const name of selection.exact) {
      const list = exact.get(name);
      if (list === undefined) exact.set(name, [rule]);
      else list.push(rule);
    }
    if (selection.globs.length > 0) {
      const { exact: names, globs: patterns } = selection;
      // A name the rule lists exactly is found in `exact`; the glob list must not visit it twice.
      globs.push({
        rule,
        matches(name) {
          if (names.has(name)) return false;
          for (const glob of patterns) if (glob.matches(name)) return true;
          return false;
        },
      });
    }
  }
  return { exact, globs };
}
