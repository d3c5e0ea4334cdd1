// Imported first by cli.ts, so that in the bundle this check runs before any other module's
// code: on a Node older than the gateway needs, the CLI says so in one line and exits 1
// instead of failing somewhere later.
import { exitUnlessSupportedNode } from '../bin/node-version.js';

exitUnlessSupportedNode('mcp-gateway');
