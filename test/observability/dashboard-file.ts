// The Grafana dashboard in infra/grafana, read as Grafana reads it: its panels (rows flattened),
// their PromQL targets, and its template variables, with Grafana's variables substituted so that
// a query can be run on a plain Prometheus.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/index.ts';

export const DASHBOARD_PATH = join(REPO_ROOT, 'infra', 'grafana', 'mcp-gateway-dashboard.json');

export interface DashboardTarget {
  readonly refId: string;
  readonly expr: string;
  readonly datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly datasource?: { type?: string; uid?: string };
  readonly targets?: readonly DashboardTarget[];
  readonly panels?: readonly DashboardPanel[];
  readonly gridPos: { h: number; w: number; x: number; y: number };
}

export interface DashboardVariable {
  readonly name: string;
  readonly type: string;
  readonly query: string | { query: string };
  readonly includeAll?: boolean;
  readonly allValue?: string;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly DashboardPanel[];
  readonly templating: { readonly list: readonly DashboardVariable[] };
}

export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every panel that is not a row, rows' nested panels included, in order. */
export function graphPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((panel) => (panel.type === 'row' ? [...(panel.panels ?? [])] : [panel]));
}

/** The text of a query variable's query (`label_values(metric{…}, label)`). */
export function variableQuery(variable: DashboardVariable): string {
  return typeof variable.query === 'string' ? variable.query : variable.query.query;
}

/** `label_values(selector, label)` split into its series selector and label. */
export function parseLabelValues(query: string): { selector: string; label: string } {
  const match = /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(query.trim());
  if (match === null) throw new Error(`not a label_values(selector, label) query: ${query}`);
  return { selector: match[1]!, label: match[2]! };
}

/**
 * Replaces Grafana's variables in `text`: `$name` and `${name}` by `values[name]`, and the
 * built-in `$__rate_interval`, `$__interval` and `$__range` by `interval`.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>, interval: string): string {
  return text
    .replace(/\$__(rate_interval|interval|range)\b/g, interval)
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
      const name = braced ?? bare ?? '';
      const value = values[name];
      if (value === undefined) throw new Error(`the dashboard uses $${name}, which the test does not set`);
      return value;
    });
}

/**
 * A regex alternation of exact values, as Grafana writes a multi-value selection inside a PromQL
 * string (`=~"…"`): regex metacharacters escaped, and the backslashes doubled for the string.
 */
export function toRegexAlternation(values: readonly string[]): string {
  return values.map((value) => value.replace(/[\\^$.|?*+()[\]{}]/g, '\\\\$&')).join('|');
}
