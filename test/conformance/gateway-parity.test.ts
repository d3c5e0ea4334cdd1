import { describe, expect, it } from 'vitest';
import { loadExpectedFailures, parseExpectedFailures } from './expected-failures.ts';
import { compareThroughGateway } from './gateway-parity.ts';
import type { ConformanceReport, ConformanceScenarioResult } from './run-conformance.ts';

function scenario(name: string, passed: number, failed = 0, failures: string[] = []): ConformanceScenarioResult {
  return { name, passed, failed, ok: failed === 0, warnings: 0, failures };
}

function report(...scenarios: ConformanceScenarioResult[]): ConformanceReport {
  return {
    scenarios,
    totals: {
      passed: scenarios.reduce((sum, s) => sum + s.passed, 0),
      failed: scenarios.reduce((sum, s) => sum + s.failed, 0),
    },
    raw: '',
  };
}

describe('parseExpectedFailures', () => {
  it('reads scenario and reason of each entry', () => {
    const text = 'expectedFailures:\n  - scenario: ping\n    reason: " no ping through pipes "\n';
    expect(parseExpectedFailures(text)).toEqual([{ scenario: 'ping', reason: 'no ping through pipes' }]);
  });

  it('treats an empty document or an empty list as none', () => {
    expect(parseExpectedFailures('# nothing\n')).toEqual([]);
    expect(parseExpectedFailures('expectedFailures: []\n')).toEqual([]);
  });

  it('refuses an entry without a reason, a duplicate and a list that is not a list', () => {
    expect(() => parseExpectedFailures('expectedFailures:\n  - scenario: ping\n')).toThrow(/entry 0 .*`reason`/);
    const twice = 'expectedFailures:\n  - {scenario: ping, reason: a}\n  - {scenario: ping, reason: b}\n';
    expect(() => parseExpectedFailures(twice)).toThrow(/listed twice/);
    expect(() => parseExpectedFailures('expectedFailures: ping\n')).toThrow(/must be a list/);
  });

  it('loads the checked-in expected-failures.yml', async () => {
    await expect(loadExpectedFailures()).resolves.toBeInstanceOf(Array);
  });
});

describe('compareThroughGateway', () => {
  const direct = report(scenario('ping', 1), scenario('tools-call-sampling', 1), scenario('broken', 0, 1));

  it('finds nothing to report when the gateway passes what passes directly', () => {
    const parity = compareThroughGateway(direct, report(scenario('ping', 1), scenario('tools-call-sampling', 1)), []);
    expect(parity).toEqual({
      regressions: [],
      fewerChecks: [],
      expectedFailures: [],
      staleEntries: [],
      unknownEntries: [],
    });
  });

  it('reports a failing or missing scenario with its failure messages', () => {
    const viaGateway = report(scenario('tools-call-sampling', 0, 1, ['tools-call-sampling: Server did not request']));
    expect(compareThroughGateway(direct, viaGateway, []).regressions).toEqual([
      'ping: did not run through the gateway',
      'tools-call-sampling: 0 passed, 1 failed (directly 1 passed) — tools-call-sampling: Server did not request',
    ]);
  });

  it('notes, without failing, a scenario that passes with fewer checks through the gateway', () => {
    const parity = compareThroughGateway(direct, report(scenario('ping', 0), scenario('tools-call-sampling', 1)), []);
    expect(parity).toMatchObject({
      regressions: [],
      fewerChecks: ['ping: 0 passed through the gateway, 1 directly'],
    });
  });

  it('excuses listed scenarios, and flags listed ones that pass or do not exist', () => {
    const viaGateway = report(scenario('ping', 1), scenario('tools-call-sampling', 0, 1));
    const expected = [
      { scenario: 'tools-call-sampling', reason: 'r' },
      { scenario: 'ping', reason: 'r' },
      { scenario: 'no-such-scenario', reason: 'r' },
    ];
    expect(compareThroughGateway(direct, viaGateway, expected)).toEqual({
      regressions: [],
      fewerChecks: [],
      expectedFailures: ['tools-call-sampling'],
      staleEntries: ['ping'],
      unknownEntries: ['no-such-scenario'],
    });
  });
});
