import type { ASTNode } from '@marcbachmann/cel-js';

/**
 * What a condition reads, found from its AST once at compile time, and the constructs it may
 * not use. Conservative: a use of `mcp` that is not a select of one named field (`mcp[k]`,
 * `size(mcp)`, a macro variable named `mcp`) counts as reading `mcp.arguments`.
 */
export interface ConditionAnalysis {
  readonly readsMcp: boolean;
  /** Reads anything of `request` (its method or headers). */
  readonly readsRequest: boolean;
  readonly readsArguments: boolean;
  /**
   * The request headers it reads, by name (lower case): every use of `request.headers` is a
   * literal key (`request.headers["x"]`, `request.headers.x`, `"x" in request.headers`). `all`
   * when it uses the map otherwise (or `request` as a whole); empty when it reads no header.
   */
  readonly headers: ReadonlySet<string> | 'all';
  /** The first construct the condition may not use, and where. */
  readonly issue?: { readonly message: string; readonly node: ASTNode };
}

interface Found {
  readsMcp: boolean;
  readsRequest: boolean;
  readsArguments: boolean;
  headers: Set<string> | 'all';
  issue?: { readonly message: string; readonly node: ASTNode };
}

/** Walks a parsed condition. */
export function analyseCondition(ast: ASTNode): ConditionAnalysis {
  const found: Found = { readsMcp: false, readsRequest: false, readsArguments: false, headers: new Set() };
  visit(ast, found);
  return found;
}

function visit(node: ASTNode, found: Found): void {
  switch (node.op) {
    case 'value':
      return;
    case 'id':
      if (node.args === 'mcp') readsWholeMcp(found);
      if (node.args === 'request') {
        found.readsRequest = true;
        found.headers = 'all';
      }
      return;
    case '.':
    case '.?': {
      const [object, field] = node.args;
      if (isMcp(object)) selectsMcpField(field, found);
      else if (isRequest(object)) readsRequestField(field, found);
      else if (isHeaders(object)) readsHeader(field, found);
      else visit(object, found);
      return;
    }
    case '[]':
    case '[?]': {
      const [object, key] = node.args;
      const literal = key.op === 'value' && typeof key.args === 'string' ? key.args : undefined;
      if (isMcp(object) && literal !== undefined) selectsMcpField(literal, found);
      else if (isHeaders(object) && literal !== undefined) readsHeader(literal, found);
      else visit(object, found);
      visit(key, found);
      return;
    }
    case 'in': {
      const [key, container] = node.args;
      if (isHeaders(container) && key.op === 'value' && typeof key.args === 'string') {
        readsHeader(key.args, found);
        return;
      }
      visit(key, found);
      visit(container, found);
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

function isRequest(node: ASTNode): boolean {
  return node.op === 'id' && node.args === 'request';
}

/** `request.headers` (a select of the field from `request`). */
function isHeaders(node: ASTNode): boolean {
  return (node.op === '.' || node.op === '.?') && isRequest(node.args[0]) && node.args[1] === 'headers';
}

/** `request.<field>` used as a value: the whole header map when the field is `headers`. */
function readsRequestField(field: string, found: Found): void {
  found.readsRequest = true;
  if (field === 'headers') found.headers = 'all';
}

function readsHeader(name: string, found: Found): void {
  found.readsRequest = true;
  if (found.headers !== 'all') found.headers.add(name.toLowerCase());
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
