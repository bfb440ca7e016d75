/**
 * The deployable bundle (npm run package), built once for this file into a temp folder and run from a copy
 * that has no node_modules anywhere above it: same function names, a timer run with Key Vault secrets read
 * through the managed identity, and telemetry sent with the identity's token.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { BUNDLE_FILE, buildPackage, SDK_FILE, type PackageResult } from '../../bench/package';
import type { SimulatorHandle } from '../../dev/simulator';
import { startAppliance, USER, vms } from '../support/engine';
import { startFakeIngestion, type FakeIngestion } from '../support/fake-ingestion';
import { startFakeKeyVault, type FakeKeyVault } from '../support/fake-key-vault';
import { startFakeManagedIdentity, type FakeManagedIdentity } from '../support/fake-managed-identity';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '../..');
const GUARD = path.join(REPO, 'test/support/network-guard.js');
const TOKEN = 'bundle-mi-token-3c9e1a';
const CLIENT_ID = '2f0c9b1e-7d4a-4e5b-9c8d-1a2b3c4d5e6f';

jest.setTimeout(180_000);

let work: string;
let pkg: PackageResult;
let app: string;

const registered = (stderr: string): string[] =>
  [...stderr.matchAll(/Skipping call to register function "(\w+)"/g)].map((m) => m[1]).sort();

function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'node_modules'))) found.push(path.join(d, 'node_modules'));
    if (path.dirname(d) === d) return found;
  }
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-test-'));
  pkg = await buildPackage(REPO, { outDir: path.join(work, 'build') });
  app = path.join(work, 'copy', 'app');
  fs.cpSync(pkg.dir, app, { recursive: true });
  fs.copyFileSync(path.join(__dirname, 'child/run-timer.js'), path.join(app, 'run-timer.js'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the staged package', () => {
  it('holds host.json, package.json naming the one bundle, the bundle and its map, and no node_modules', () => {
    expect(fs.readdirSync(pkg.dir).sort()).toEqual([
      '.funcignore',
      'app.js',
      'app.js.map',
      'host.json',
      'package.json',
      'sdk.js',
      'sdk.js.map',
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(pkg.dir, 'package.json'), 'utf8'));
    expect(manifest.main).toBe(BUNDLE_FILE);
    expect(manifest).not.toHaveProperty('dependencies');
    expect(fs.readFileSync(path.join(pkg.dir, 'host.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(REPO, 'host.json'), 'utf8'),
    );
    expect(fs.readFileSync(path.join(pkg.dir, '.funcignore'), 'utf8')).not.toMatch(/node_modules/);
    const bundle = fs.readFileSync(path.join(pkg.dir, BUNDLE_FILE), 'utf8');
    expect(bundle).toMatch(/require\("@azure\/functions-core"\)/);
    expect(bundle).toMatch(/^\/\/# sourceMappingURL=app\.js\.map$/m);
    expect(pkg.warnings).toEqual([]);
  });

  it('zips the same files (no .funcignore, no node_modules) within the 5 MB and 10-file targets', () => {
    const entries = Object.keys(unzipSync(fs.readFileSync(pkg.zipPath)));
    expect(entries.sort()).toEqual([
      'app.js',
      'app.js.map',
      'host.json',
      'package.json',
      'sdk.js',
      'sdk.js.map',
    ]);
    expect(pkg.files).toBe(6);
    expect(pkg.bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it('runs from a folder with no node_modules reachable', () => {
    expect(nodeModulesAbove(app)).toEqual([]);
  });
});

describe('the bundle, run from a copy', () => {
  it('registers the functions under the same names as the unbundled modules, without loading sdk.js', async () => {
    const bundled = await run(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(path.join(app, BUNDLE_FILE))});` +
          'process.stdout.write(JSON.stringify(Object.keys(require.cache)))',
      ],
      {
        cwd: app,
        env: { PATH: process.env.PATH },
      },
    );
    const sources = fs
      .readdirSync(path.join(REPO, 'functions'))
      .map((f) => `require(${JSON.stringify(path.join(REPO, 'functions', f))});`);
    const unbundled = await run(
      process.execPath,
      ['-r', path.join(REPO, 'test/support/ts-register.js'), '-e', sources.join('')],
      {
        cwd: REPO,
        env: { PATH: process.env.PATH },
      },
    );
    expect(registered(bundled.stderr)).toEqual([
      'executeSnapshotCleanupRun',
      'getSnapshotCleanupRun',
      'getSnapshotCleanupSession',
      'nightlySnapshotCleanup',
      'runSnapshotCleanup',
      'snapshotCleanupRunPoisoned',
    ]);
    expect(registered(bundled.stderr)).toEqual(registered(unbundled.stderr));
    expect(JSON.parse(bundled.stdout)).toEqual([path.join(app, BUNDLE_FILE)]);
  });

  describe('a timer run as deployed (Key Vault, managed identity, App Insights with Entra ID auth)', () => {
    let appliance: SimulatorHandle;
    let vault: FakeKeyVault;
    let identity: FakeManagedIdentity;
    let ingestion: FakeIngestion;
    let result: { ok: boolean; error?: string; logs: string[]; loaded?: string[] };
    let output: string;
    const ids = ['vm-001', 'vm-002', 'vm-003'];

    beforeAll(async () => {
      appliance = await startAppliance({ vms: vms(3) });
      identity = await startFakeManagedIdentity({ token: TOKEN });
      ingestion = await startFakeIngestion();
      vault = await startFakeKeyVault({
        secrets: {
          'veeam-url': appliance.url,
          'veeam-username': USER.username,
          'veeam-password': USER.password,
          'veeam-vm-ids': JSON.stringify(ids),
        },
        requireToken: TOKEN,
      });
      const guardLog = path.join(work, 'guard.log');
      const child = await run(process.execPath, [path.join(app, 'run-timer.js')], {
        cwd: app,
        env: {
          PATH: process.env.PATH,
          TMPDIR: work,
          NODE_OPTIONS: `--require ${GUARD}`,
          NETWORK_GUARD_FILE: GUARD,
          NETWORK_GUARD_LOG: guardLog,
          NODE_EXTRA_CA_CERTS: ingestion.caFile,
          KEY_VAULT_URL: vault.url,
          AZURE_CLIENT_ID: CLIENT_ID,
          IDENTITY_ENDPOINT: identity.url,
          IDENTITY_HEADER: identity.header,
          APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-1111-2222-3333-444444444444;IngestionEndpoint=${ingestion.url}`,
          APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${CLIENT_ID};Authorization=AAD`,
          APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
          APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
          APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
          OTEL_NODE_RESOURCE_DETECTORS: 'none',
          FUNCTIONS_EXTENSION_VERSION: '~4',
          WEBSITE_SITE_NAME: 'bundle-test',
          CLEANUP_TIME_BUDGET: 'PT2M',
        },
      });
      output = child.stdout + child.stderr;
      result = JSON.parse(child.stdout.trim().split('\n').pop()!);
      expect(fs.existsSync(guardLog) ? fs.readFileSync(guardLog, 'utf8') : '').toBe('');
    });
    afterAll(async () => {
      await Promise.all([appliance.close(), vault.close(), identity.close(), ingestion.close()]);
    });

    it('cleans every VM once, loading nothing but app.js and sdk.js', () => {
      expect(result).toMatchObject({ ok: true });
      expect(result.logs.join('\n')).toMatch(/3 succeeded, 0 warning, 0 failed/);
      expect(appliance.counters.deleteCallsByVm).toEqual({ 'vm-001': 1, 'vm-002': 1, 'vm-003': 1 });
      expect(result.loaded).toEqual([path.join(app, BUNDLE_FILE), path.join(app, SDK_FILE)]);
    });

    it('reads the secrets from Key Vault with the managed identity token (the bundled Key Vault client works)', () => {
      expect(vault.requests.some((r) => r.path.startsWith('/secrets/veeam-password') && r.authorized)).toBe(
        true,
      );
      expect(
        identity.requests.some((r) => r.resource === 'https://vault.azure.net' && r.clientId === CLIENT_ID),
      ).toBe(true);
    });

    it('sends the run telemetry to the ingestion endpoint with the bearer token (the bundled exporter works)', () => {
      const events = ingestion.envelopes
        .filter((e) => e.data.baseType === 'EventData')
        .map((e) => e.data.baseData.name);
      expect(events).toContain('SnapshotCleanup.RunCompleted');
      expect(events.filter((name) => name === 'SnapshotCleanup.VmResult')).toHaveLength(3);
      const tracks = ingestion.requests.filter((r) => r.path.startsWith('/v2.1/track'));
      expect(tracks.length).toBeGreaterThan(0);
      for (const request of tracks) expect(request.authorization).toBe(`Bearer ${TOKEN}`);
    });

    it('lets no secret or token out on stdout/stderr', () => {
      expect(output).not.toContain(USER.password);
      expect(output).not.toContain(TOKEN);
    });
  });
});
