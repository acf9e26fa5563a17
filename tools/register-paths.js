// Resolves the libs' `@spoc/<lib>` aliases for the compiled output in dist/, the same mapping that
// tsconfig.base.json gives the compiler and jest.config.js gives the tests. Loaded with `node -r`.
const Module = require('node:module');
const path = require('node:path');

const dist = path.resolve(__dirname, '..', 'dist');
const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveSpocAlias(request, ...rest) {
  const match = /^@spoc\/([a-z-]+)(\/.*)?$/.exec(request);
  if (match) request = path.join(dist, 'libs', match[1], 'src', match[2] ?? '');
  return resolve.call(this, request, ...rest);
};
