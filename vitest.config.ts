import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // vitest can otherwise load graphql twice ("from another module or realm")
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
