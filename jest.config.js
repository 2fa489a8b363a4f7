/** One Jest run for unit, integration and end-to-end tests. SWC only transpiles; `npm run typecheck` type-checks. */
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
}];
const moduleNameMapper = {
  '^@wharf/(contracts|core|identity|tenancy|audit|projects|orchestration|applications|routing|sources)$': '<rootDir>/libs/$1/src/index.ts',
};
const common = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose|oidc-provider|@scure/base|@noble/hashes)/)'],
  moduleNameMapper,
  testEnvironment: 'node',
};
module.exports = {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/libs', '<rootDir>/apps/api', '<rootDir>/apps/worker'], testMatch: ['**/*.spec.ts'] },
    { ...common, displayName: 'integration', roots: ['<rootDir>/test'], testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/'], testTimeout: 60000 },
    // Real Chromium against the portal. `npm test` runs these one at a time after the rest: Chromium aborts requests
    // when a network interface comes or goes, which other tests (private dockerd, network namespaces) do.
    { ...common, displayName: 'browser', roots: ['<rootDir>/test/browser'], testMatch: ['**/*.test.ts'], testTimeout: 60000 },
    // The Angular portal's unit tests (jest-preset-angular, jsdom).
    '<rootDir>/apps/admin/jest.config.js',
  ],
};
