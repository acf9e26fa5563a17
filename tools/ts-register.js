// Runs TypeScript sources directly (child processes in tests, scripts) without a build: each .ts file is
// transpiled on require with the project's compiler options (no type check; `npm run build` and Jest do that),
// and `@spoc/<lib>` resolves to libs/<lib>/src as in tsconfig.base.json.
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const compilerOptions = ts.convertCompilerOptionsFromJson(
  JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions,
  root,
).options;

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { ...compilerOptions, sourceMap: false, inlineSourceMap: true },
    fileName: filename,
  });
  module._compile(outputText, filename);
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveSpocAlias(request, ...rest) {
  const match = /^@spoc\/([a-z-]+)(\/.*)?$/.exec(request);
  if (match) request = path.join(root, 'libs', match[1], 'src', match[2] ?? '');
  return resolve.call(this, request, ...rest);
};
