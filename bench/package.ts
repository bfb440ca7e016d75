/**
 * npm run package: the deployable artifact, one esbuild CommonJS bundle holding every function.
 *
 *   dist/deploy/app/   host.json, package.json (main: app.js), app.js, app.js.map, .funcignore
 *   dist/deploy/app.zip the same files, for `az functionapp deployment source config-zip`
 *
 * One bundle, because @azure/functions keeps its app.setup() state per module instance: separately bundled
 * functions would each carry their own copy. @azure/functions-core stays external: the host provides it.
 * No node_modules: everything else is inside app.js, so azd deploys with remoteBuild: false.
 *
 * What bundling changes (see README, Deploy): require-in-the-middle can no longer patch bundled modules, so
 * the OpenTelemetry auto-instrumentation of third-party modules is gone (Node built-ins such as http are still
 * patchable; the app tracks its Veeam calls explicitly anyway). esbuild's warnings about dynamic requires are
 * returned and printed, and the bundle test runs the exporter and a full timer run from a copy of the folder.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type Message } from 'esbuild';
import { zipSync } from 'fflate';

export const BUNDLE_FILE = 'app.js';

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

export async function buildPackage(root: string, options: PackageOptions = {}): Promise<PackageResult> {
  const outDir = options.outDir ?? path.join(root, 'dist/deploy');
  const dir = path.join(outDir, 'app');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  // The entry re-exports the handlers, so the bundle test can call them the way the host does.
  const entry = functionModules(root)
    .map((file) => `Object.assign(module.exports, require(${JSON.stringify(file)}));`)
    .join('\n');
  const result = await build({
    stdin: { contents: entry, resolveDir: root, sourcefile: 'functions-entry.js', loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    // Minifying would rename the classes and functions that errors and the SDKs' logs name.
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    external: ['@azure/functions-core'],
    outfile: path.join(dir, BUNDLE_FILE),
    logLevel: 'silent',
  });

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
    warnings: result.warnings.map(formatWarning),
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
