/** Unit tests of the Angular portal (jest-preset-angular, jsdom, zoneless). Type-check specs with `npm run typecheck`. */
const path = require('node:path');
const { createCjsPreset } = require('jest-preset-angular/presets');

const preset = createCjsPreset({ tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false });
module.exports = {
  ...preset,
  displayName: 'admin',
  rootDir: __dirname,
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.spec.ts'],
  testEnvironment: 'jest-preset-angular/environments/jest-jsdom-env',
  setupFilesAfterEnv: ['<rootDir>/src/test-setup.ts'],
  moduleNameMapper: {
    '^@wharf/contracts$': path.join(__dirname, '..', '..', 'libs', 'contracts', 'src', 'index.ts'),
  },
  transformIgnorePatterns: ['node_modules/(?!.*\\.mjs$)'],
};
