import { defineConfig } from 'vitest/config';

/**
 * Two projects, run one after the other by `npm test`:
 * - unit: pure logic (config, lanes, histograms, the pool with a scripted clock); no server.
 * - integration: against a real Weaviate started once by the global setup (tests that kill
 *   or freeze a server start their own node).
 */
export default defineConfig({
  test: {
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
