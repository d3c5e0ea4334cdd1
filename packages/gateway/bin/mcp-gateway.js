#!/usr/bin/env node
// The `mcp-gateway` command: checks the Node version, then runs the bundled CLI.
// Kept tiny and dependency-free so that an old Node still reaches the version message.
import { existsSync } from 'node:fs';
import { exitUnlessSupportedNode } from './node-version.js';

exitUnlessSupportedNode('mcp-gateway');

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('mcp-gateway is not built: run `npm run build` (npm ci runs it for you)');
  process.exit(1);
}

await import(cli.href);
