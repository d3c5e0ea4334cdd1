#!/usr/bin/env node
// The `mcp-gateway-controller` command: checks the Node version, then runs the bundled controller.
// @kubernetes/client-node 2.x needs undici 8, which needs Node >= 22.19.
import { existsSync } from 'node:fs';

const MINIMUM = [22, 19];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  console.error(
    `mcp-gateway-controller needs Node.js >= ${MINIMUM.join('.')}, but this is Node.js ${process.versions.node}.`,
  );
  process.exit(1);
}

const bundle = new URL('../dist/controller.js', import.meta.url);
if (!existsSync(bundle)) {
  console.error('mcp-gateway-controller is not built: run `npm run build` (npm ci runs it for you)');
  process.exit(1);
}

await import(bundle.href);
