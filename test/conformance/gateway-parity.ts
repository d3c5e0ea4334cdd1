import type { ExpectedFailure } from './expected-failures.ts';
import type { ConformanceReport, ConformanceScenarioResult } from './run-conformance.ts';

/** How the run through the gateway compares with the direct run. */
export interface GatewayParity {
  /** Scenarios passing directly that fail (or do not run) through the gateway, not excused. */
  readonly regressions: readonly string[];
  /**
   * Scenarios passing through the gateway with fewer passed checks than directly: not a
   * failure (a scenario may skip checks that do not apply, e.g. SSE checks when the
   * gateway answers with JSON), but worth a look, since a vacuous pass looks the same.
   */
  readonly fewerChecks: readonly string[];
  /** Listed in expected-failures.yml, and failing through the gateway as expected. */
  readonly expectedFailures: readonly string[];
  /** Listed in expected-failures.yml, yet passing through the gateway: remove the entry. */
  readonly staleEntries: readonly string[];
  /** Listed in expected-failures.yml, but no scenario of that name ran directly. */
  readonly unknownEntries: readonly string[];
}

/**
 * Compares a direct run against the fixture with a run through the gateway. A scenario
 * holds its ground when it passes through the gateway (no failed check), as the CLI
 * itself judges a scenario. Scenarios failing directly are the fixture's business and
 * are not compared.
 */
export function compareThroughGateway(
  direct: ConformanceReport,
  gateway: ConformanceReport,
  expected: readonly ExpectedFailure[],
): GatewayParity {
  const excused = new Set(expected.map((entry) => entry.scenario));
  const throughGateway = new Map(gateway.scenarios.map((s) => [s.name, s]));
  const regressions: string[] = [];
  const fewerChecks: string[] = [];
  const expectedFailures: string[] = [];
  const staleEntries: string[] = [];

  for (const scenario of direct.scenarios.filter((s) => s.ok)) {
    const via = throughGateway.get(scenario.name);
    const holds = via !== undefined && via.ok;
    if (excused.has(scenario.name)) (holds ? staleEntries : expectedFailures).push(scenario.name);
    else if (!holds) regressions.push(describeRegression(scenario, via));
    if (holds && via.passed < scenario.passed) {
      fewerChecks.push(`${scenario.name}: ${via.passed} passed through the gateway, ${scenario.passed} directly`);
    }
  }
  const ranDirectly = new Set(direct.scenarios.map((s) => s.name));
  const unknownEntries = [...excused].filter((name) => !ranDirectly.has(name));
  return { regressions, fewerChecks, expectedFailures, staleEntries, unknownEntries };
}

function describeRegression(direct: ConformanceScenarioResult, via: ConformanceScenarioResult | undefined): string {
  if (via === undefined) return `${direct.name}: did not run through the gateway`;
  const counts = `${via.passed} passed, ${via.failed} failed (directly ${direct.passed} passed)`;
  const details = via.failures.length > 0 ? ` — ${via.failures.join('; ')}` : '';
  return `${direct.name}: ${counts}${details}`;
}

/** One line for the test output, e.g. `32/32 scenarios ok, 44 checks passed, 0 failed`. */
export function summarizeReport(report: ConformanceReport): string {
  const ok = report.scenarios.filter((s) => s.ok).length;
  return (
    `${ok}/${report.scenarios.length} scenarios ok, ` +
    `${report.totals.passed} checks passed, ${report.totals.failed} failed`
  );
}

/**
 * A gateway config (YAML) whose only server is the fixture at `fixtureUrl`, unprefixed,
 * so that the names the scenarios call reach the fixture unchanged.
 */
export function toUnprefixedGatewayConfig(fixtureUrl: string): string {
  return ['servers:', '  - name: conformance', `    url: ${JSON.stringify(fixtureUrl)}`, '    prefix: ""', ''].join(
    '\n',
  );
}
