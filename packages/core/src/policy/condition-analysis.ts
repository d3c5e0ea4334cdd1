import type { ASTNode } from '@marcbachmann/cel-js';

/**
 * What a condition reads, found from its AST once at compile time, and the constructs it may
 * not use. Conservative: a use of `mcp` that is not a select of one named field (`mcp[k]`,
 * `size(mcp)`, a macro variable named `mcp`) counts as reading `mcp.arguments`.
 */
export interface ConditionAnalysis {
  readonly readsMcp: boolean;
  readonly readsArguments: boolean;
  /** The first construct the condition may not use, and where. */
  readonly issue?: { readonly message: string; readonly node: ASTNode };
}

interface Found {
  readsMcp: boolean;
  readsArguments: boolean;
  issue?: { readonly message: string; readonly node: ASTNode };
}

/** Walks a parsed condition. */
export function analyseCondition(ast: ASTNode): ConditionAnalysis {
  const found: Found = { readsMcp: false, readsArguments: false };
  visit(ast, found);
  return found;
}

function visit(node: ASTNode, found: Found): void {
  switch (node.op) {
    case 'value':
      return;
    case 'id':
      if (node.args === 'mcp') readsWholeMcp(found);
      return;
    case '.':
    case '.?': {
      const [object, field] = node.args;
      if (isMcp(object)) selectsMcpField(field, found);
      else visit(object, found);
      return;
    }
    case '[]':
    case '[?]': {
      const [object, key] = node.args;
      if (isMcp(object) && key.op === 'value' && typeof key.args === 'string') selectsMcpField(key.args, found);
      else visit(object, found);
      visit(key, found);
      return;
    }
    case 'call':
      // The library has only the receiver form of matches(), so the checker has refused the other.
      for (const arg of node.args[1]) visit(arg, found);
      return;
    case 'rcall':
      if (node.args[0] === 'matches') checkPattern(node.args[2][0], node, found);
      visit(node.args[1], found);
      for (const arg of node.args[2]) visit(arg, found);
      return;
    case 'list':
      for (const item of node.args) visit(item, found);
      return;
    case 'map':
      for (const [key, value] of node.args) {
        visit(key, found);
        visit(value, found);
      }
      return;
    case '!_':
    case '-_':
      visit(node.args, found);
      return;
    default:
      // Binary operators, `&&`, `||` and `?:`: a tuple of operands.
      for (const operand of node.args) visit(operand, found);
  }
}

function isMcp(node: ASTNode): boolean {
  return node.op === 'id' && node.args === 'mcp';
}

function selectsMcpField(field: string, found: Found): void {
  found.readsMcp = true;
  if (field === 'arguments') found.readsArguments = true;
}

function readsWholeMcp(found: Found): void {
  found.readsMcp = true;
  found.readsArguments = true;
}

/**
 * `matches` runs the pattern as a JavaScript RegExp (backtracking), so the pattern must be the
 * rule writer's: a string literal that compiles. A pattern taken from the request (an argument,
 * a header) would let a caller pick one that runs for minutes.
 */
function checkPattern(pattern: ASTNode | undefined, call: ASTNode, found: Found): void {
  if (found.issue !== undefined) return;
  if (pattern === undefined || pattern.op !== 'value' || typeof pattern.args !== 'string') {
    found.issue = { message: 'matches() takes a string literal pattern', node: pattern ?? call };
    return;
  }
  try {
    new RegExp(pattern.args);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    found.issue = { message: `matches() pattern does not compile (${reason})`, node: pattern };
  }
}
