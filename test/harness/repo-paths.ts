import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (this file lives in test/harness/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The bundled gateway CLI that `npm run build` writes. */
export const GATEWAY_CLI = fileURLToPath(new URL('../../packages/gateway/dist/cli.js', import.meta.url));
