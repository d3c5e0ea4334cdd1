// The shape of the source tree, checked on every run: no file imports itself through others (no
// import cycles, type-only imports included), and no source file grows past 400 lines unless
// it is listed here with the reason it is whole.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/index.ts';

/** Longest a source file may be without a reason. */
const MAX_LINES = 400;

/** Files allowed past MAX_LINES, with why they are one file. None today. */
const LONG_FILES: Readonly<Record<string, string>> = {};

const PACKAGES_DIR = join(REPO_ROOT, 'packages');

/** The product's source files: every package's src, tests and fixtures left out. */
function productSources(): string[] {
  const files: string[] = [];
  for (const name of readdirSync(PACKAGES_DIR)) {
    const src = join(PACKAGES_DIR, name, 'src');
    if (!existsSync(src)) continue;
    for (const path of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      const file = join(src, path);
      if (!/\.(?:ts|mts)$/.test(file) || /\.(?:test|case|fixtures)\.ts$/.test(file) || /\.d\.ts$/.test(file)) continue;
      if (statSync(file).isFile()) files.push(file);
    }
  }
  return files.sort();
}

/** The files of this tree a file imports by a relative path (type-only and re-exports included). */
function importsOf(file: string, known: ReadonlySet<string>): string[] {
  const refs = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles;
  return refs
    .map((ref) => ref.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => resolve(dirname(file), specifier))
    .filter((target) => known.has(target));
}

/** The strongly connected components of more than one file (or a file importing itself): the cycles. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    order.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!order.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, order.get(next) as number));
      }
    }
    if (low.get(node) !== order.get(node)) return;
    const component: string[] = [];
    for (;;) {
      const member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
      if (member === node) break;
    }
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!order.has(node)) visit(node);
  return found;
}

describe('the source tree', () => {
  const files = productSources();
  const known = new Set(files);
  const name = (file: string) => relative(REPO_ROOT, file).split(sep).join('/');

  it('reads the sources of every package', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.map(name)).toContain('packages/core/src/decision/route.ts');
  });

  it('has no import cycles between files', () => {
    const graph = new Map(files.map((file) => [file, importsOf(file, known)]));
    expect(cycles(graph).map((component) => component.map(name))).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c']]);
  });

  it(`keeps every source file within ${MAX_LINES} lines, or names why it is longer`, () => {
    const long = files
      .map((file) => ({ file: name(file), lines: readFileSync(file, 'utf8').split('\n').length }))
      .filter(({ file, lines }) => lines > MAX_LINES && LONG_FILES[file] === undefined);
    expect(long).toEqual([]);
  });
});
