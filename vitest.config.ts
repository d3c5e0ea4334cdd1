import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/.conformance/**'],
    // Integration suites start real processes (gateway, Redis, Envoy, workerd).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Child processes and native servers are safer in forked workers than in threads.
    pool: 'forks',
    // The summary reporter ends the run with a plain "N passed, N failed" line for CI logs.
    reporters: ['default', './scripts/summary-reporter.mjs'],
  },
});
