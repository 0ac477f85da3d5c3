import { defineConfig } from 'vitest/config';

// WebGPU (Dawn) holds native state per process: run each test file in its own
// forked process, at most two at once (the machines here have 2 cores).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 300_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
