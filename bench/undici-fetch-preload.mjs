// Diagnostic preload, not part of `npm run bench`: replaces the gateway's global fetch with
// bench/lib/undici-fetch.mjs, to measure what that change would bring without editing the
// gateway (its Node host calls the global fetch for upstreams without extra TLS trust).
//   node --import ./bench/undici-fetch-preload.mjs packages/gateway/dist/cli.js …
import { undiciFetch } from './lib/undici-fetch.mjs';

globalThis.fetch = undiciFetch;
