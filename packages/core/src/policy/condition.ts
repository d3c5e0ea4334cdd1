import { Environment } from '@marcbachmann/cel-js';
import type { ASTNode, ParseResult } from '@marcbachmann/cel-js';
import { analyseCondition } from './condition-analysis.ts';

/**
 * A rule's `when`, in CEL, parsed and type-checked once. The library (@marcbachmann/cel-js)
 * interprets its AST: no code is generated from strings, so it runs in workerd.
 * @see https://github.com/google/cel-spec/blob/master/doc/langdef.md
 * @see docs/authorization.md
 */

/** What a condition gave: it holds, it does not, or its evaluation failed. */
export const CONDITION = { holds: 1, fails: 2, error: 3 } as const;

/** One of CONDITION's values. */
export type ConditionOutcome = (typeof CONDITION)[keyof typeof CONDITION];

/** A compiled `when`. */
export interface CompiledCondition {
  readonly text: string;
  /** Reads `mcp.arguments` (or all of `mcp`), so a list, which has no arguments, cannot decide it. */
  readonly readsArguments: boolean;
  /** Reads nothing of `mcp`: the same for every item of one request. */
  readonly callerOnly: boolean;
  /** Reads only `auth`: the same for every request of one verified token. */
  readonly authOnly: boolean;
  /** The request headers it reads (lower-case names), or `all` (see ConditionAnalysis). */
  readonly headers: ReadonlySet<string> | 'all';
  /** Evaluates over `{auth, request, mcp}`; a thrown error or a result that is not a bool is `error`. */
  evaluate(activation: object): ConditionOutcome;
}

/** compileCondition's outcome: the condition, or the issue (without the field path). */
export type ConditionResult =
  { readonly ok: true; readonly condition: CompiledCondition } | { readonly ok: false; readonly issue: string };

/** The variables a condition sees, with the fields the checker knows. */
const VARIABLE_SCHEMAS = {
  auth: {
    verified: 'bool',
    issuer: 'string',
    subject: 'string',
    clientId: 'string',
    scopes: 'list<string>',
    claims: 'map<string, dyn>',
  },
  request: { method: 'string', headers: 'map<string, string>' },
  mcp: { server: 'string', kind: 'string', name: 'string', servedName: 'string', arguments: 'map<string, dyn>' },
} as const;

const VARIABLE_NAMES = Object.keys(VARIABLE_SCHEMAS) as (keyof typeof VARIABLE_SCHEMAS)[];

let environments: { readonly check: Environment; readonly run: Environment } | undefined;

/**
 * Two environments, made on first use: `check` knows each variable's fields (so `auth.nme` is
 * an error at compile time); `run` declares them as plain maps, which evaluates about twice as
 * fast as the schema types (those wrap every variable in a new Map per evaluation).
 */
function celEnvironments(): { readonly check: Environment; readonly run: Environment } {
  if (environments !== undefined) return environments;
  const check = new Environment();
  const run = new Environment();
  for (const name of VARIABLE_NAMES) {
    check.registerVariable({ name, schema: VARIABLE_SCHEMAS[name] });
    run.registerVariable(name, 'map');
  }
  environments = { check, run };
  return environments;
}

/** Parses and type-checks `text`; an issue names what is wrong and where (1-based line and column). */
export function compileCondition(text: string): ConditionResult {
  const { check, run } = celEnvironments();
  const checked = check.check(text);
  if (!checked.valid) return { ok: false, issue: describeCheckError(text, checked.error) };
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, issue: `must be a bool condition, not ${checked.type ?? 'unknown'} at ${position(text, 0)}` };
  }
  let parsed: ParseResult;
  try {
    parsed = run.parse(text);
  } catch (error) {
    return { ok: false, issue: describeCheckError(text, error) };
  }
  const analysis = analyseCondition(parsed.ast);
  if (analysis.issue !== undefined) {
    return { ok: false, issue: `${analysis.issue.message} at ${position(text, analysis.issue.node.start)}` };
  }
  const evaluate = (activation: object): ConditionOutcome => {
    try {
      const value: unknown = parsed(activation);
      if (value === true) return CONDITION.holds;
      return value === false ? CONDITION.fails : CONDITION.error;
    } catch {
      return CONDITION.error;
    }
  };
  return {
    ok: true,
    condition: {
      text,
      readsArguments: analysis.readsArguments,
      callerOnly: !analysis.readsMcp,
      authOnly: !analysis.readsMcp && !analysis.readsRequest,
      headers: analysis.headers,
      evaluate,
    },
  };
}

/** A parse or type error as `<reason> at line L, column C`. */
function describeCheckError(text: string, error: unknown): string {
  if (!isCelError(error)) return `cannot be compiled (${error instanceof Error ? error.message : String(error)})`;
  const at = position(text, error.range?.start ?? 0);
  const node = error.node;
  if (error.code === 'unknown_variable' && node?.op === 'id') {
    return `unknown variable ${JSON.stringify(node.args)} (a condition sees ${VARIABLE_NAMES.join(', ')}) at ${at}`;
  }
  if (error.code === 'no_such_key' && node?.op === '.' && node.args[0].op === 'id') {
    const variable = node.args[0].args;
    const fields = Object.keys(VARIABLE_SCHEMAS[variable as keyof typeof VARIABLE_SCHEMAS] ?? {});
    return `${variable} has no field ${JSON.stringify(node.args[1])} (it has ${fields.join(', ')}) at ${at}`;
  }
  return `${error.summary} at ${at}`;
}

interface CelErrorShape {
  readonly code: string;
  readonly summary: string;
  readonly range?: { readonly start: number };
  readonly node?: ASTNode;
}

function isCelError(error: unknown): error is CelErrorShape {
  return error instanceof Error && typeof (error as Partial<CelErrorShape>).summary === 'string';
}

/** `line L, column C` of a 0-based offset into `text`, both 1-based. */
export function position(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}
