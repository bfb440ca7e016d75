'use strict';
// Lets a plain `node` child process require the repo's .ts sources, so child-process tests run the code
// under test without a build step. Transpile only (no type check): `npm run lint` does the type check.
// Transpiled output is cached on disk by content hash, so the many short-lived children of the CLI,
// lease and telemetry tests do not each load the TypeScript compiler and transpile the whole graph again.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CACHE = path.join(os.tmpdir(), 'veeam-snapshot-cleanup-ts-cache');
let ts;
let compilerOptions;

function transpile(source, filename) {
  ts ??= require('typescript');
  compilerOptions ??= {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
    inlineSourceMap: true,
  };
  return ts.transpileModule(source, { fileName: filename, compilerOptions }).outputText;
}

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(CACHE, `${key}.js`);
  let output;
  try {
    output = fs.readFileSync(cached, 'utf8');
  } catch {
    output = transpile(source, filename);
    try {
      fs.mkdirSync(CACHE, { recursive: true });
      const temp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(temp, output);
      fs.renameSync(temp, cached);
    } catch {
      // A read-only or full temp dir only costs the cache.
    }
  }
  module._compile(output, filename);
};
