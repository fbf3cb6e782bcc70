import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests each start a server on fixed loopback ports; running
    // files in parallel would make them fight for ports and CPU on 2 cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
