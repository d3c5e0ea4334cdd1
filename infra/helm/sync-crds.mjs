#!/usr/bin/env node
// Copies the CRDs from infra/crds (the source of truth) into the Helm chart's crds/
// directory, which Helm installs before the templates. test/install/crd-files.test.ts
// fails when the two differ, so run this after editing a CRD: node infra/helm/sync-crds.mjs
import { copyFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../crds/', import.meta.url));
const target = fileURLToPath(new URL('./mcp-gateway/crds/', import.meta.url));

for (const file of readdirSync(source)) {
  if (!file.startsWith('mcp.kuadrant.io_') || !file.endsWith('.yaml')) continue;
  copyFileSync(source + file, target + file);
  console.log(`sync-crds: ${file}`);
}
