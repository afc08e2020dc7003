import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    env: { TSPLAY_VERIFY_IDEMPOTENCE: '1', NO_COLOR: '1' },
  },
});
