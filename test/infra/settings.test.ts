import fs from 'node:fs';
import path from 'node:path';
import { bodyOf, parseInfra, REPO, resources } from './bicep';
import { isDocumented, readmeSettings, scanRepoSettings, scanSettings } from './envSettings';

let templateSettings: string[];
let documented: string[];

beforeAll(async () => {
  const config = resources(await parseInfra()).find(
    (r) => r.type === 'Microsoft.Web/sites/config' && bodyOf(r).name === 'appsettings',
  )!;
  templateSettings = Object.keys(bodyOf(config).properties as object);
  documented = readmeSettings(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'));
});

describe('every setting the code reads is set by the template or documented in the README tables', () => {
  it('has no setting that is neither (the list names each one and where the code reads it)', () => {
    const byName = new Map<string, string[]>();
    for (const read of scanRepoSettings(REPO))
      byName.set(read.name, [...(byName.get(read.name) ?? []), read.where]);
    const missing = [...byName]
      .filter(([name]) => !templateSettings.includes(name) && !isDocumented(name, documented))
      .map(
        ([name, where]) =>
          `${name}: not set by infra/main.bicep, not in a README settings table (read at ${where.join(', ')})`,
      )
      .sort();
    expect(missing).toEqual([]);
  });

  it('finds the settings the config layer, telemetry and Key Vault code are known to read', () => {
    const names = new Set(scanRepoSettings(REPO).map((r) => r.name));
    for (const name of [
      'VEEAM_URL',
      'VEEAM_URL_SECRET',
      'VEEAM_PASSWORD',
      'KEY_VAULT_URL',
      'AZURE_CLIENT_ID',
      'VEEAM_API_VERSION',
      'CLEANUP_TIME_BUDGET',
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('reads the README tables: first column and the environment-twin column, with prefixes', () => {
    expect(documented).toEqual(
      expect.arrayContaining(['VEEAM_URL_SECRET', 'VEEAM_URL', 'KEY_VAULT_URL', 'CLEANUP_SCHEDULE']),
    );
    expect(readmeSettings('| Outcome | When |\n| --- | --- |\n| `Succeeded` | `FOO_BAR` |\n')).toEqual([]);
    expect(isDocumented('AzureWebJobsStorage__accountName', ['AzureWebJobsStorage__*'])).toBe(true);
    expect(isDocumented('CLEANUP_X', ['CLEANUP_Y'])).toBe(false);
  });

  it('recognises every way of reading a setting (scanner canary)', () => {
    const root = '/repo';
    const sources = new Map([
      [
        '/repo/shared/x.ts',
        [
          "const NAME_SETTING = 'FROM_CONST';",
          'export function f(env: Record<string, string | undefined>) {',
          "  return [env.DOT_READ, env['BRACKET_READ'], process.env.PROCESS_READ, env[NAME_SETTING],",
          "    readSetting(env, 'CALL_READ'), options.env.NESTED_READ, env.notASetting];",
          '}',
        ].join('\n'),
      ],
      [
        '/repo/shared/config/table.ts',
        "const T = { field: 'TABLE_SETTING', other: 'not-a-setting' } as const;",
      ],
      ['/repo/shared/y.ts', "const notConfig = { field: 'OUTSIDE_CONFIG' };"],
    ]);
    const names = scanSettings(sources, { root, configDir: '/repo/shared/config' }).map((r) => r.name);
    expect([...new Set(names)].sort()).toEqual([
      'BRACKET_READ',
      'CALL_READ',
      'DOT_READ',
      'FROM_CONST',
      'NESTED_READ',
      'PROCESS_READ',
      'TABLE_SETTING',
    ]);
  });
});
