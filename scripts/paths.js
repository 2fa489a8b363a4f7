// Resolves the @wharf/* path aliases of tsconfig.json inside dist/ at run time. Only those exact names are mapped;
// every other require goes straight to Node's own resolver (tsconfig-paths checked every require against the
// patterns and the file system, a fifth of the start-up time).
const Module = require('node:module');
const path = require('node:path');
const root = path.resolve(__dirname, '..', 'dist');
const aliases = new Map(
  Object.entries(require('../tsconfig.json').compilerOptions.paths).map(([name, [target]]) => [name, path.join(root, target.replace(/\.ts$/, '.js'))]),
);
const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveWharfAlias(request, ...rest) {
  return resolve.call(this, aliases.get(request) ?? request, ...rest);
};
