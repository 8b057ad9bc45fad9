import type { FullConfig, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';

/**
 * Prints the one closing line CI reads, `N passed, N failed[, N skipped]`, counting unit and e2e
 * tests together. A test that never reported a result (the run was cut short) counts as failed.
 */
export default class SummaryReporter implements Reporter {
  private tests: TestCase[] = [];
  private readonly outcome = new Map<TestCase, TestResult['status']>();

  onBegin(_config: FullConfig, suite: Suite): void {
    this.tests = suite.allTests();
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    this.outcome.set(test, result.status);
  }

  onEnd(): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const test of this.tests) {
      const status = this.outcome.get(test);
      if (status === 'passed') passed++;
      else if (status === 'skipped') skipped++;
      else failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
