#!/usr/bin/env node
// Copies the Grafana dashboard from infra/grafana (the source of truth) into the Helm chart, whose
// templates can read only files inside the chart. test/install/chart-monitoring.test.ts fails
// when the two differ, so run this after editing the dashboard: node infra/helm/sync-dashboard.mjs
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../grafana/mcp-gateway-dashboard.json', import.meta.url));
const target = fileURLToPath(new URL('./mcp-gateway/dashboards/mcp-gateway.json', import.meta.url));
copyFileSync(source, target);
console.log('sync-dashboard: mcp-gateway.json');
