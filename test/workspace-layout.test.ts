import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/index.ts';

const PACKAGES_DIR = join(REPO_ROOT, 'packages');
const packageDirs = readdirSync(PACKAGES_DIR)
  .map((name) => join(PACKAGES_DIR, name))
  .filter((dir) => existsSync(join(dir, 'package.json')));
const SOURCE_FILE = /\.(?:ts|mts|cts|js|mjs|cjs)$/;

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => !path.split(sep).some((part) => part === 'node_modules' || part === 'dist'))
    .map((path) => join(dir, path))
    .filter((path) => SOURCE_FILE.test(path) && statSync(path).isFile());
}

/** Every module specifier a file imports, re-exports, dynamically imports or requires. */
function specifiersOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((ref) => ref.fileName);
}

function exportTargets(exports: unknown): Array<[key: string, target: string]> {
  if (typeof exports === 'string') return [['.', exports]];
  const pairs: Array<[string, string]> = [];
  const walk = (key: string, value: unknown) => {
    if (typeof value === 'string') pairs.push([key, value]);
    else if (value && typeof value === 'object') for (const nested of Object.values(value)) walk(key, nested);
  };
  for (const [key, value] of Object.entries(exports as Record<string, unknown>)) walk(key, value);
  return pairs;
}

const workspaceDirs = [...packageDirs, join(REPO_ROOT, 'test')];
const packageOf = (file: string) => workspaceDirs.find((dir) => file.startsWith(dir + sep));

describe('workspace layout', () => {
  it('finds the packages', () => {
    expect(packageDirs.map((dir) => basename(dir)).sort()).toEqual([
      'controller',
      'core',
      'edge-broker',
      'gateway',
      'node-extproc',
    ]);
  });

  describe.each(packageDirs.map((dir) => [relative(REPO_ROOT, dir), dir]))('%s', (_name, dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown };

    it('declares exports without ./* wildcards, each pointing at a file that exists', () => {
      expect(manifest.exports).toBeDefined();
      for (const [key, target] of exportTargets(manifest.exports)) {
        expect(key, `export key ${key}`).not.toContain('*');
        expect(target, `export target ${target}`).not.toContain('*');
        expect(existsSync(join(dir, target)), `${key} → ${target} exists`).toBe(true);
      }
    });

    it('has one src/index.ts', () => {
      expect(existsSync(join(dir, 'src', 'index.ts'))).toBe(true);
    });
  });

  it('imports siblings by package name, never by a deep path into their sources', () => {
    const offenders: string[] = [];
    for (const file of workspaceDirs.flatMap((dir) =>
      sourceFiles(dir === join(REPO_ROOT, 'test') ? dir : join(dir, 'src')),
    )) {
      const own = packageOf(file);
      for (const specifier of specifiersOf(file)) {
        const deepByName = /^@mcp-gateway\/[^/]+\/src(?:\/|$)/.test(specifier);
        const target = specifier.startsWith('.') ? resolve(dirname(file), specifier) : undefined;
        const deepByPath =
          target !== undefined && packageDirs.some((dir) => dir !== own && target.startsWith(dir + sep));
        if (deepByName || deepByPath) offenders.push(`${relative(REPO_ROOT, file)}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('keeps node: modules out of packages/core/src, tests and src/redis aside', () => {
    const coreSrc = join(PACKAGES_DIR, 'core', 'src');
    const redis = join(coreSrc, 'redis') + sep;
    const offenders = sourceFiles(coreSrc)
      .filter((file) => !file.startsWith(redis) && !file.endsWith('.test.ts'))
      .flatMap((file) =>
        specifiersOf(file)
          .filter((specifier) => specifier.startsWith('node:'))
          .map((specifier) => `${relative(REPO_ROOT, file)}: ${specifier}`),
      );
    expect(offenders).toEqual([]);
  });
});
