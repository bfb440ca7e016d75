/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // tsconfig's isolatedModules makes ts-jest transpile file by file; `npm run lint` does the type check.
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFiles: ['<rootDir>/test/support/network-guard.js', '<rootDir>/test/support/test-env.js'],
  // One Azurite for the whole run, started in the background; storage suites wait for it (test/support/azurite.ts).
  globalSetup: '<rootDir>/test/support/azurite-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/azurite-global-teardown.ts',
  testTimeout: 30000,
  maxWorkers: 2,
};
