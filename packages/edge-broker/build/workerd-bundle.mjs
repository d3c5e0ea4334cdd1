// How the edge worker is bundled for workerd, shared by scripts/build.mjs, the workerd test
// suite (which bundles a test worker the same way) and bench/edge.mjs.
import { builtinModules } from 'node:module';

const NODE_BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith('_')));

/**
 * Node built-ins for workerd's nodejs_compat. An `import 'net'` becomes the external
 * `node:net`. A CommonJS `require('net')` (ioredis and its dependencies) cannot stay a
 * `require`, which an ES module bundle lacks in workerd: it is routed to a small module that
 * imports `node:net` and exports it, so esbuild hoists a static import instead.
 * @type {import('esbuild').Plugin}
 */
export const nodeBuiltinsForWorkerd = {
  name: 'node-builtins-for-workerd',
  setup(build) {
    const filter = /^(node:)?[a-z_/]+$/;
    build.onResolve({ filter }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (!NODE_BUILTINS.has(name)) return undefined;
      if (args.kind === 'require-call') return { path: name, namespace: 'node-builtin' };
      return { path: `node:${name}`, external: true };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: `import * as builtin from 'node:${args.path}'; module.exports = builtin.default ?? builtin;`,
      loader: 'js',
    }));
  },
};

/**
 * esbuild options of a workerd bundle: one ES module, minified, browser/worker conditions,
 * node built-ins left to nodejs_compat, `cloudflare:*` to the runtime.
 * @type {import('esbuild').BuildOptions}
 */
export const WORKERD_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'neutral',
  format: 'esm',
  target: 'es2022',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  external: ['cloudflare:*'],
  plugins: [nodeBuiltinsForWorkerd],
  legalComments: 'none',
};
