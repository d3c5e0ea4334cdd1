// The Node.js version check of everything that starts the gateway: the `mcp-gateway` command
// (this directory's shim and the bundled CLI, packages/gateway/src/supported-node.ts) and
// `npm start` (examples/start-demo.mjs). Plain JavaScript with no imports, so that any Node
// can load it unbundled and reach the message; types in node-version.d.ts.

/**
 * The oldest Node.js the gateway runs on, as MAJOR.MINOR. The root package.json's
 * `engines.node`, .ci/run and the README name the same (test/gateway-http/node-version.test.ts).
 */
export const MINIMUM_NODE_VERSION = '22.12';

/**
 * Compares a Node.js version (`process.versions.node`: `MAJOR.MINOR.PATCH`, no `v`) with
 * {@link MINIMUM_NODE_VERSION}. Refused: one line naming `command`, the version found, the
 * version needed and where to get it.
 * @param {string} command
 * @param {string} found
 * @returns {{ ok: true } | { ok: false; message: string }}
 */
export function checkNodeVersion(command, found) {
  const [major = 0, minor = 0] = found.split('.').map(Number);
  const [needMajor, needMinor] = MINIMUM_NODE_VERSION.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return { ok: true };
  return {
    ok: false,
    message:
      `${command} needs Node.js ${MINIMUM_NODE_VERSION} or newer, but this is Node.js ${found}: ` +
      'install Node.js 24 LTS from https://nodejs.org/en/download (or `nvm install 24`) and run it again.',
  };
}

/**
 * Writes the refusal of {@link checkNodeVersion} for this process's Node to stderr and exits
 * with code 1 when that Node is too old; returns otherwise.
 * @param {string} command
 */
export function exitUnlessSupportedNode(command) {
  const check = checkNodeVersion(command, process.versions.node);
  if (check.ok) return;
  process.stderr.write(`${check.message}\n`);
  process.exit(1);
}
