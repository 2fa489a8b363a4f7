// Lint rules that keep the layers apart: a domain lib imports only the public index of libs below it,
// and only apps/worker imports orchestration adapters.
import tseslint from 'typescript-eslint';

const layers = ['identity', 'tenancy', 'audit', 'projects', 'applications'];
const below = (lib) => layers.slice(0, layers.indexOf(lib));
const notBelow = (lib) => layers.filter((l) => l !== lib && !below(lib).includes(l));

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'apps/admin/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: "Property[key.name='synchronize'][value.value=true]", message: 'Schema changes go through migrations.' }],
    },
  },
  ...layers.map((lib) => ({
    files: [`libs/${lib}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...(notBelow(lib).length === 0 ? [] : [{ group: notBelow(lib).map((l) => `@wharf/${l}`), message: `libs/${lib} may import only libs below it (${below(lib).join(', ') || 'core, contracts'}); react to events instead.` }]),
          { group: ['../../*/src/*', '**/libs/*/src/**', '@wharf/*/src/**'], message: 'Import other libs through their public index (@wharf/<lib>).' },
          { group: ['@wharf/orchestration', '**/orchestration/**', 'dockerode', 'ssh2'], message: 'Only apps/worker uses orchestration adapters.' },
        ],
      }],
    },
  })),
  {
    files: ['libs/core/**/*.ts', 'libs/contracts/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: layers.map((l) => `@wharf/${l}`), message: 'core and contracts sit below every domain lib.' }] }] },
  },
  {
    files: ['apps/api/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['dockerode', 'ssh2', '@wharf/orchestration'], message: 'The API never talks to Docker or SSH; the worker does.' }] }] },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
