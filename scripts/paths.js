// Resolves the @wharf/* path aliases of tsconfig.json inside dist/ at run time.
const path = require('node:path');
const tsconfigPaths = require('tsconfig-paths');
const root = path.resolve(__dirname, '..', 'dist');
tsconfigPaths.register({
  baseUrl: root,
  paths: Object.fromEntries(
    Object.entries(require('../tsconfig.json').compilerOptions.paths).map(([k, v]) => [k, v.map((p) => p.replace(/\.ts$/, '.js'))]),
  ),
});
