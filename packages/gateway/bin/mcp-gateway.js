#!/usr/bin/env node
// The `mcp-gateway` command: checks the Node version, then runs the bundled CLI.
// Kept tiny and dependency-free so that an old Node still reaches the version message.
import { existsSync } from 'node:fs';

const MINIMUM = [22, 12];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  console.error(
    `mcp-gateway needs Node.js >= ${MINIMUM.join('.')}, but this is Node.js ${process.versions.node}.\n` +
      'Install a current Node.js (https://nodejs.org) and run the command again.',
  );
  process.exit(1);
}

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('mcp-gateway is not built: run `npm run build` (npm ci runs it for you)');
  process.exit(1);
}

await import(cli.href);
