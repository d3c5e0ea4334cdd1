// Flat config. TypeScript is linted type-aware through the project service, which finds
// each file's nearest tsconfig.json (the root tsconfig.json picks up what the package
// configs leave out: core's tests and Redis adapter, vitest.config.ts).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const CORE_BOUNDARY_MESSAGE =
  'packages/core is web-standard only (DESIGN.md "One core, three hosts"): move Node, Redis, gRPC, Kubernetes or Hono code to a host package or behind the ./redis subpath.';

/** Globals the Node scripts, examples and the bin shim use (the `globals` package is not a dependency). */
const NODE_GLOBALS = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Buffer',
    'URL',
    'URLSearchParams',
    'Headers',
    'Request',
    'Response',
    'TextDecoder',
    'TextEncoder',
    'clearInterval',
    'clearTimeout',
    'console',
    'crypto',
    'fetch',
    'performance',
    'process',
    'queueMicrotask',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  globalIgnores(['**/dist/', '**/node_modules/', '**/coverage/', '**/.conformance/', 'bench/results/']),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },

  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: { globals: NODE_GLOBALS },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },

  {
    // Tests beside core's code may start Node servers; they are not part of any entry
    // (core's tsconfig leaves them out too), so the boundary is for the shipped sources.
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/redis/**', 'packages/core/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: CORE_BOUNDARY_MESSAGE })),
          patterns: [
            {
              group: ['node:*', 'ioredis', 'ioredis/*', '@grpc/*', '@kubernetes/*', 'hono', 'hono/*', '@hono/*'],
              message: CORE_BOUNDARY_MESSAGE,
            },
          ],
        },
      ],
    },
  },
);
