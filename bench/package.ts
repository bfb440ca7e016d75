/**
 * npm run package: the deployable folder (host.json, package.json, dist/ without bench and dev, production
 * node_modules copied from the installed tree that `npm ls --omit=dev` names) and its size.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PackageResult {
  dir: string;
  bytes: number;
  files: number;
  productionPackages: number;
}

const DIST_PARTS = ['functions', 'shared'];

export function buildPackage(
  root: string,
  outDir = mkdtempSync(path.join(os.tmpdir(), 'veeam-cleanup-pkg-')),
): PackageResult {
  for (const file of ['host.json', 'package.json']) cpSync(path.join(root, file), path.join(outDir, file));
  for (const part of DIST_PARTS) {
    cpSync(path.join(root, 'dist', part), path.join(outDir, 'dist', part), {
      recursive: true,
      filter: (src) => !src.endsWith('.map'),
    });
  }
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(path.join(root, 'node_modules') + path.sep));
  const packages = [...new Set(listed)];
  for (const dir of packages) {
    const target = path.join(outDir, path.relative(root, dir));
    // Nested node_modules are listed on their own, so each package is copied without them.
    cpSync(dir, target, { recursive: true, filter: (src) => !isNestedModules(dir, src) });
  }
  const { bytes, files } = sizeOf(outDir);
  return { dir: outDir, bytes, files, productionPackages: packages.length };
}

function isNestedModules(pkgDir: string, src: string): boolean {
  const rel = path.relative(pkgDir, src);
  return rel.split(path.sep).includes('node_modules');
}

function sizeOf(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = sizeOf(full);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile()) {
      bytes += statSync(full).size;
      files += 1;
    }
  }
  return { bytes, files };
}

if (require.main === module) {
  const root = path.resolve(__dirname, '../..');
  const keep = process.argv.includes('--keep');
  const result = buildPackage(root);
  process.stdout.write(
    `deployable package: ${(result.bytes / 1_048_576).toFixed(1)} MB, ${result.files} files, ` +
      `${result.productionPackages} production packages${keep ? ` in ${result.dir}` : ''}\n`,
  );
  if (!keep) rmSync(result.dir, { recursive: true, force: true });
}
