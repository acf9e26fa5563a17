// Preloaded after tools/ts-register.js by tests that start the service as a child process again and again on the
// same sources (test/crash.e2e.spec.ts): transpiling them is about half of each start on a 2-core host. The
// output of each file is kept in SPOC_TEST_TRANSPILE_CACHE under a hash of its path and source, so a changed file
// is transpiled again; the directory belongs to one test run.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const directory = process.env.SPOC_TEST_TRANSPILE_CACHE;
const transpile = require.extensions['.ts'];

if (directory && transpile) {
  require.extensions['.ts'] = function transpileOnce(module, filename) {
    const source = fs.readFileSync(filename);
    const cached = path.join(directory, `${crypto.createHash('sha256').update(filename).update('\0').update(source).digest('hex')}.js`);
    if (fs.existsSync(cached)) return module._compile(fs.readFileSync(cached, 'utf8'), filename);
    const compile = module._compile;
    module._compile = function keep(output, name) {
      // Written whole or not at all: a process killed mid-write must not leave half a module for the next start.
      const partial = `${cached}.${process.pid}`;
      fs.writeFileSync(partial, output);
      fs.renameSync(partial, cached);
      return compile.call(this, output, name);
    };
    return transpile(module, filename);
  };
}
