import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The consumer test (npm pack, npm install, tsc, examples on two Node versions) is the heaviest
 * file on CPU and disk; run it last so it overlaps as little as possible with the timing-sensitive
 * fault tests on the 2 shared cores (the default order starts the longest file first).
 */
class ConsumerLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => f.moduleId.endsWith('/consumer.test.ts');
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}

/**
 * Two projects, run one after the other by `npm test`:
 * - unit: pure logic (config, lanes, histograms, the pool with a scripted clock); no server.
 * - integration: against a real Weaviate started once by the global setup (tests that kill
 *   or freeze a server start their own node).
 */
export default defineConfig({
  test: {
    // Root-level only (vitest does not take a sequencer per project).
    sequence: { sequencer: ConsumerLast },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores shared with Weaviate: fewer files at once keeps timings sane.
          maxWorkers: 2,
          // The soak test measures the live heap after a full collection.
          execArgv: ['--expose-gc'],
        },
      },
    ],
  },
});
