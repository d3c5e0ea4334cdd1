import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { copyOperands, entrypoint, readDockerfile } from './dockerfile.ts';
import { DOCKER_DIR, REPO_DIR } from './install-files.ts';

const IMAGES = [
  { file: 'gateway.Dockerfile', bundle: 'packages/gateway/dist/cli.js', entry: '/app/cli.js', heap: [] },
  {
    file: 'controller.Dockerfile',
    bundle: 'packages/controller/dist/controller.js',
    entry: '/app/controller.js',
    // Keeps the controller within 150 MB with 1 000 registrations (bench/controller.mjs).
    heap: ['--max-old-space-size=96', '--max-semi-space-size=2'],
  },
] as const;

describe.each(IMAGES)('infra/docker/$file', ({ file, bundle, entry, heap }) => {
  const steps = readDockerfile(DOCKER_DIR + file);
  const of = (keyword: string) => steps.filter((step) => step.keyword === keyword);

  it('builds on node:24-slim in a single stage', () => {
    expect(of('FROM').map((step) => step.args)).toEqual(['node:24-slim']);
  });

  it('copies only the esbuild bundle and its source map', () => {
    expect(of('ADD')).toEqual([]);
    const copies = of('COPY');
    expect(copies).toHaveLength(1);
    const { sources, destination } = copyOperands(copies[0]!);
    expect(destination).toBe('/app/');
    expect(sources).toEqual([bundle, `${bundle}.map`]);
  });

  it('installs nothing and runs no package manager', () => {
    expect(of('RUN')).toEqual([]);
    expect(steps.map((step) => step.args).join('\n')).not.toMatch(/\b(npm|npx|yarn|pnpm)\b/);
  });

  it('runs as a numeric non-root user', () => {
    const users = of('USER').map((step) => step.args);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    // USER comes after COPY, so the bundle stays owned by root and read-only for the process.
    expect(steps.findIndex((step) => step.keyword === 'USER')).toBeGreaterThan(
      steps.findIndex((step) => step.keyword === 'COPY'),
    );
  });

  it(`starts node on ${entry}`, () => {
    expect(entrypoint(steps)).toEqual(['node', '--enable-source-maps', ...heap, entry]);
  });

  it('carries OCI labels', () => {
    const labels = of('LABEL')
      .map((step) => step.args)
      .join(' ');
    expect(labels).toContain('org.opencontainers.image.title=');
    expect(labels).toContain('org.opencontainers.image.version=');
  });
});

describe('.dockerignore', () => {
  it('sends only the bundles to the builder', () => {
    const lines = readFileSync(REPO_DIR + '.dockerignore', 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.slice(1);
    expect(allowed.every((line) => line.startsWith('!packages/') && line.includes('/dist/'))).toBe(true);
    for (const { bundle } of IMAGES) expect(allowed).toEqual(expect.arrayContaining([`!${bundle}`, `!${bundle}.map`]));
  });
});
