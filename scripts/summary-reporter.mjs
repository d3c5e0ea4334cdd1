// A vitest reporter that ends the run with one plain line, "N passed, N failed, N skipped", so a
// CI log reader that knows no vitest output can still count the tests. The line fails whenever
// the run fails:
// - A test meant to run that never ran because the suite or module around it failed (a beforeAll
//   hook threw) counts as failed; vitest itself reports such a test as skipped.
// - A failed suite or module in which no test counts as failed (an afterAll hook threw, a module
//   failed to load) counts as one failure.
// - Errors vitest caught outside any test are added as ", N unhandled errors" when there are any.
// Tests skipped on purpose (it.skip, it.todo, ctx.skip(), left out by a filter) stay skipped.
// test/scripts/summary-reporter.test.ts runs vitest on fixtures with this reporter.
export default class SummaryReporter {
  onTestRunEnd(testModules, unhandledErrors = []) {
    const totals = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) countSuite(module, totals, false);
    const errors = unhandledErrors.length;
    const unhandled = errors === 0 ? '' : `, ${errors} unhandled error${errors === 1 ? '' : 's'}`;
    process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped${unhandled}\n`);
  }
}

/** Adds the tests of a TestModule or TestSuite to `totals`; returns how many failures it added. */
function countSuite(suite, totals, insideFailed) {
  const failed = suite.state() === 'failed';
  let failures = 0;
  for (const child of suite.children) {
    failures +=
      child.type === 'test'
        ? countTest(child, totals, insideFailed || failed)
        : countSuite(child, totals, insideFailed || failed);
  }
  if (failed && failures === 0) {
    totals.failed += 1;
    failures = 1;
  }
  return failures;
}

/** Adds one TestCase to `totals`; returns 1 when it counts as failed. */
function countTest(test, totals, insideFailed) {
  const { state } = test.result();
  if (state === 'passed') {
    totals.passed += 1;
    return 0;
  }
  if (state === 'failed' || (insideFailed && neverRan(test))) {
    totals.failed += 1;
    return 1;
  }
  totals.skipped += 1;
  return 0;
}

/** A test that was meant to run (not skipped or todo, not filtered out) and never started. */
function neverRan(test) {
  return (test.options.mode === 'run' || test.options.mode === 'only') && test.attempts().length === 0;
}
