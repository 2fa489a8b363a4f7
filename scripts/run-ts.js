// Runs a TypeScript entry point of this repository with Node: SWC transpiles each .ts file on require (with decorator
// metadata, like Jest's transform), and the @wharf/* aliases of tsconfig.json resolve to the sources.
// Usage: node scripts/run-ts.js scripts/openapi.ts [args...]
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');
const tsconfigPaths = require('tsconfig-paths');

const root = path.resolve(__dirname, '..');
tsconfigPaths.register({ baseUrl: root, paths: require('../tsconfig.json').compilerOptions.paths });
const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
const entry = process.argv[2];
if (!entry) {
  console.error('usage: node scripts/run-ts.js FILE.ts [args...]');
  process.exit(2);
}
process.argv.splice(1, 1);
process.argv[1] = path.resolve(entry);
// Load it as the main module, so `require.main === module` holds inside it.
require('node:module')._load(process.argv[1], null, true);
