import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // custom modules import from 'tsplay'; under vitest that is the source tree
  resolve: { alias: { tsplay: fileURLToPath(new URL('./engine/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    env: { TSPLAY_VERIFY_IDEMPOTENCE: '1', NO_COLOR: '1' },
  },
});
