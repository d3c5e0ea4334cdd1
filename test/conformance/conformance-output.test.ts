import { describe, expect, it } from 'vitest';
import { parseNotScored, parseResultDirs, parseSingleScenario, parseSuiteSummary } from './conformance-output.ts';

const SUITE_OUTPUT = `Running all suite (3 scenarios) against http://127.0.0.1:3000/mcp


=== Running scenario: server-initialize ===
Running client scenario 'server-initialize' against server: http://127.0.0.1:3000/mcp
Results saved to /tmp/out/server-server-initialize-2026-11-21T19-50-44-383Z

=== Running scenario: tools-call-sampling ===
Running client scenario 'tools-call-sampling' against server: http://127.0.0.1:3000/mcp
Results saved to /tmp/out/server-tools-call-sampling-2026-11-21T19-50-45-112Z

=== Running scenario: json-schema-2020-12 ===
Running client scenario 'json-schema-2020-12' against server: http://127.0.0.1:3000/mcp
Results saved to /tmp/out/server-json-schema-2020-12-2026-11-21T19-50-45-142Z


=== SUMMARY ===
✓ server-initialize: 1 passed, 0 failed
✗ tools-call-sampling: 0 passed, 1 failed
✓ json-schema-2020-12: 4 passed, 0 failed

Total: 5 passed, 1 failed
`;

const SINGLE_OUTPUT = `Running client scenario 'ping' against server: http://127.0.0.1:3000/mcp
Checks:
\x1b[90m2026-11-21T19:53:26.345Z\x1b[0m [ping] \x1b[32mSUCCESS\x1b[0m Server responds to ping requests

Test Results:
Passed: 1/1, 0 failed, 2 warnings
`;

describe('parseSuiteSummary', () => {
  it('reads each scenario line of the summary', () => {
    expect(parseSuiteSummary(SUITE_OUTPUT)).toEqual([
      { name: 'server-initialize', passed: 1, failed: 0 },
      { name: 'tools-call-sampling', passed: 0, failed: 1 },
      { name: 'json-schema-2020-12', passed: 4, failed: 0 },
    ]);
  });

  it('rejects output without a summary, as a crashed or killed run leaves', () => {
    expect(parseSuiteSummary(SUITE_OUTPUT.slice(0, SUITE_OUTPUT.indexOf('=== SUMMARY')))).toBeUndefined();
  });

  it('rejects a summary whose scenario count or totals disagree with its lines', () => {
    expect(parseSuiteSummary(SUITE_OUTPUT.replace('(3 scenarios)', '(4 scenarios)'))).toBeUndefined();
    expect(parseSuiteSummary(SUITE_OUTPUT.replace('Total: 5 passed', 'Total: 6 passed'))).toBeUndefined();
  });
});

describe('parseSingleScenario', () => {
  it('reads the Passed line of a single-scenario run, colour codes and all', () => {
    expect(parseSingleScenario('ping', SINGLE_OUTPUT)).toEqual({ name: 'ping', passed: 1, failed: 0 });
  });

  it('finds nothing when the CLI refused the scenario', () => {
    expect(parseSingleScenario('nope', "Validation error:\n  scenario: Unknown scenario 'nope'\n")).toBeUndefined();
  });
});

describe('parseResultDirs', () => {
  it('pairs each scenario with the directory its checks were saved in', () => {
    const dirs = parseResultDirs(SUITE_OUTPUT);
    expect(dirs.get('tools-call-sampling')).toBe('/tmp/out/server-tools-call-sampling-2026-11-21T19-50-45-112Z');
    expect(dirs.size).toBe(3);
  });
});

/** The shape of a 0.2.0 `--requirements 2026-07-28` run, shortened to three scenarios. */
const REQUIREMENTS_OUTPUT = `Running requirements 2026-07-28 (3 scenarios) against http://127.0.0.1:3000/mcp


=== Running scenario: server-stateless ===
Running client scenario 'server-stateless' against server: http://127.0.0.1:3000/mcp
Results saved to /tmp/out/server-server-stateless-2026-11-21T22-06-08-963Z


=== SUMMARY ===
✓ server-stateless: 30 passed, 0 failed
✗ tasks-lifecycle: 1 passed, 8 failed
✓ http-header-validation: 14 passed, 0 failed

Total: 45 passed, 8 failed

Not scored for 2026-07-28: 2 scenario(s) run, 1 failing. These do not affect conformance.
  ✗ tasks-lifecycle (extension)
  ✓ http-header-validation (pending)
`;

describe('requirements runs (0.2.0)', () => {
  it('reads the summary and checks it against the scenario count of the requirements header', () => {
    expect(parseSuiteSummary(REQUIREMENTS_OUTPUT)?.map((s) => s.name)).toEqual([
      'server-stateless',
      'tasks-lifecycle',
      'http-header-validation',
    ]);
    expect(parseSuiteSummary(REQUIREMENTS_OUTPUT.replace('(3 scenarios)', '(4 scenarios)'))).toBeUndefined();
  });

  it('reads which scenarios were run without being scored, and why', () => {
    expect(Object.fromEntries(parseNotScored(REQUIREMENTS_OUTPUT))).toEqual({
      'tasks-lifecycle': 'extension',
      'http-header-validation': 'pending',
    });
    expect(parseNotScored(SUITE_OUTPUT).size).toBe(0);
  });
});
