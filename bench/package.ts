/**
 * npm run package: the deployable artifact, one esbuild CommonJS bundle holding every function.
 *
 *   dist/deploy/app/    host.json, package.json (main: app.js), app.js + map, sdk.js + map, .funcignore
 *   dist/deploy/app.zip the same files, for `az functionapp deployment source config-zip`
 *
 * One bundle for the functions, because @azure/functions keeps its app.setup() state per module instance:
 * separately bundled functions would each carry their own copy. The SDKs the app already loads on first use
 * (App Insights, OpenTelemetry, identity, Key Vault) go to sdk.js, which app.js requires only when that first
 * use comes, so the cold start does not parse them. @azure/functions-core stays external: the host provides it.
 * No node_modules: everything else is inside the two files, so azd deploys with remoteBuild: false.
 *
 * What bundling changes (see README, Deploy): require-in-the-middle can no longer patch bundled modules, so
 * the OpenTelemetry auto-instrumentation of third-party modules is gone (Node built-ins such as http are still
 * patchable; the app tracks its Veeam calls explicitly anyway). esbuild's warnings about dynamic requires are
 * returned and printed, and the bundle test runs the exporter and a full timer run from a copy of the folder.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions, type Message, type Plugin } from 'esbuild';
import { zipSync } from 'fflate';

export const BUNDLE_FILE = 'app.js';
export const SDK_FILE = 'sdk.js';

/** What the app requires lazily (inside functions, on first use); sdk.js holds them. */
export const LAZY_SDKS = [
  'applicationinsights',
  '@opentelemetry/api',
  '@opentelemetry/context-async-hooks',
  '@azure/identity',
  '@azure/keyvault-secrets',
  '@azure/storage-blob',
  '@azure/storage-queue',
  '@azure/data-tables',
] as const;

export interface PackageResult {
  /** dist/deploy/app */
  dir: string;
  zipPath: string;
  /** Size of the zip. */
  bytes: number;
  /** Files in the zip. */
  files: number;
  bundleBytes: number;
  /** esbuild warnings (dynamic requires and the like), formatted. */
  warnings: string[];
}

export interface PackageOptions {
  /** Output folder; default <root>/dist/deploy. */
  outDir?: string;
}

/** Every function module, as the host would load them through package.json `main`. */
export function functionModules(root: string): string[] {
  return readdirSync(path.join(root, 'functions'))
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => `./functions/${name}`);
}

const SDK_NAMESPACE = 'lazy-sdk';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * In app.js, the app's own `require('<lazy sdk>')` becomes `require('./sdk.js')['<sdk>']()`: still a
 * synchronous require at first use, now of the second bundle. Requires from inside node_modules are left
 * alone (the SDKs never sit in app.js, so only app code asks for them).
 */
const lazySdks: Plugin = {
  name: 'lazy-sdks',
  setup(plugin) {
    plugin.onResolve({ filter: new RegExp(`^(${LAZY_SDKS.map(escape).join('|')})$`) }, (args) =>
      args.importer.split(path.sep).includes('node_modules')
        ? undefined
        : { path: args.path, namespace: SDK_NAMESPACE },
    );
    plugin.onResolve(
      { filter: new RegExp(`^\\./${escape(SDK_FILE)}$`), namespace: SDK_NAMESPACE },
      (args) => ({
        path: args.path,
        external: true,
      }),
    );
    plugin.onLoad({ filter: /.*/, namespace: SDK_NAMESPACE }, (args) => ({
      contents: `module.exports = require('./${SDK_FILE}')[${JSON.stringify(args.path)}]();`,
      loader: 'js',
    }));
  },
};

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  // Less to parse at cold start. Identifiers are not minified, and keepNames holds the names of classes and
  // functions that errors and the SDKs' logs print.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  external: ['@azure/functions-core'],
  logLevel: 'silent',
};

export async function buildPackage(root: string, options: PackageOptions = {}): Promise<PackageResult> {
  const outDir = options.outDir ?? path.join(root, 'dist/deploy');
  const dir = path.join(outDir, 'app');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  // The entry re-exports the handlers, so the bundle test can call them the way the host does.
  const entry = functionModules(root)
    .map((file) => `Object.assign(module.exports, require(${JSON.stringify(file)}));`)
    .join('\n');
  // Getters, so that loading sdk.js for Key Vault does not also start the App Insights SDK, and vice versa.
  const sdkEntry = `module.exports = {\n${LAZY_SDKS.map((name) => `  ${JSON.stringify(name)}: () => require(${JSON.stringify(name)}),`).join('\n')}\n};`;
  const results = await Promise.all([
    build({
      ...COMMON,
      stdin: { contents: entry, resolveDir: root, sourcefile: 'functions-entry.js', loader: 'js' },
      outfile: path.join(dir, BUNDLE_FILE),
      plugins: [lazySdks],
    }),
    build({
      ...COMMON,
      stdin: { contents: sdkEntry, resolveDir: root, sourcefile: 'sdk-entry.js', loader: 'js' },
      outfile: path.join(dir, SDK_FILE),
    }),
  ]);

  const { name, version, description, license } = JSON.parse(
    readFileSync(path.join(root, 'package.json'), 'utf8'),
  ) as Record<string, string>;
  const manifest = { name, version, description, license, private: true, main: BUNDLE_FILE };
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  cpSync(path.join(root, 'host.json'), path.join(dir, 'host.json'));
  // azd runs `npm install` in the project folder before zipping it; keep its lock file out of the package.
  // (node_modules must not be listed here: azd refuses remoteBuild: false when .funcignore excludes it.)
  writeFileSync(path.join(dir, '.funcignore'), '.funcignore\npackage-lock.json\n');

  const files = readdirSync(dir).filter((file) => file !== '.funcignore');
  const zip = zipSync(Object.fromEntries(files.map((file) => [file, readFileSync(path.join(dir, file))])), {
    level: 9,
  });
  const zipPath = path.join(outDir, 'app.zip');
  writeFileSync(zipPath, zip);
  return {
    dir,
    zipPath,
    bytes: zip.byteLength,
    files: files.length,
    bundleBytes: statSync(path.join(dir, BUNDLE_FILE)).size,
    warnings: results.flatMap((result) => result.warnings.map(formatWarning)),
  };
}

function formatWarning(message: Message): string {
  const where = message.location ? `${message.location.file}:${message.location.line}: ` : '';
  return `${where}${message.text}`;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '../..');
  buildPackage(root).then(
    (result) => {
      for (const warning of result.warnings) process.stderr.write(`esbuild: ${warning}\n`);
      process.stdout.write(
        `${path.relative(root, result.zipPath)}: ${(result.bytes / 1_048_576).toFixed(2)} MB, ${result.files} files ` +
          `(bundle ${(result.bundleBytes / 1_048_576).toFixed(1)} MB) staged in ${path.relative(root, result.dir)}/\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
