import { loadConfig } from '../../shared/config';
import { configErrorOf, onlyAppliance, selfSignedPem, visibleText, VM_A, VM_B } from './helpers';

const CANARY = 'canary-3b9f0d';

function baseEnv(): Record<string, string | undefined> {
  return {
    VEEAM_URL: 'https://veeam.contoso.example:11005/',
    VEEAM_USERNAME: 'svc-cleanup',
    VEEAM_PASSWORD: `pw-${CANARY}`,
    VEEAM_VM_IDS: `${VM_A}\n${VM_B}`,
  };
}

async function problemOf(overrides: Record<string, string | undefined>) {
  const error = await configErrorOf(loadConfig({ env: { ...baseEnv(), ...overrides } }));
  expect(visibleText(error)).not.toContain(CANARY);
  return error;
}

describe('loadConfig from environment variables', () => {
  it('reads a minimal configuration and applies the defaults', async () => {
    const config = await loadConfig({ env: baseEnv() });
    expect(config).toEqual({
      appliances: [
        {
          name: 'default',
          applianceUrl: 'https://veeam.contoso.example:11005',
          username: 'svc-cleanup',
          password: `pw-${CANARY}`,
          apiVersion: 'auto',
          concurrency: 16,
          batch: false,
          targets: { kind: 'ids', targets: { ids: [VM_A, VM_B], invalid: [], duplicatesRemoved: 0 } },
          provenance: {
            applianceUrl: { name: 'VEEAM_URL', source: 'environment' },
            username: { name: 'VEEAM_USERNAME', source: 'environment' },
            password: { name: 'VEEAM_PASSWORD', source: 'environment' },
            targets: { name: 'VEEAM_VM_IDS', source: 'environment' },
          },
        },
      ],
      maxSessionWaitMs: 30 * 60_000,
      dryRun: false,
      source: 'environment',
    });
    expect(config).not.toHaveProperty('policy');
  });

  it('reads every optional setting', async () => {
    const pem = await selfSignedPem();
    const config = await loadConfig({
      env: {
        ...baseEnv(),
        VEEAM_URL: 'http://127.0.0.1:8443',
        VEEAM_CA_CERT: pem,
        VEEAM_API_VERSION: ' v8.1 ',
        CLEANUP_CONCURRENCY: '64',
        CLEANUP_MAX_RUNNING_SESSIONS: '10000',
        CLEANUP_MAX_SESSION_WAIT: 'PT45M',
        CLEANUP_TIME_BUDGET: '540',
        CLEANUP_DRY_RUN: 'Yes',
        CLEANUP_BATCH: '1',
        VEEAM_VM_IDS: JSON.stringify([VM_A, VM_B, VM_A, 'bad id']),
      },
    });
    expect(config).toMatchObject({ maxSessionWaitMs: 45 * 60_000, timeBudgetMs: 540_000, dryRun: true });
    expect(onlyAppliance(config)).toMatchObject({
      applianceUrl: 'http://127.0.0.1:8443',
      caCert: pem,
      apiVersion: 'v8.1',
      concurrency: 64,
      maxRunningSessions: 10_000,
      batch: true,
      targets: {
        kind: 'ids',
        targets: {
          ids: [VM_A, VM_B],
          invalid: [{ id: 'bad id', reason: 'contains characters outside [A-Za-z0-9-]' }],
          duplicatesRemoved: 1,
        },
      },
    });
  });

  it.each([
    ['false', false],
    ['0', false],
    ['NO', false],
    ['TRUE', true],
  ])('reads CLEANUP_DRY_RUN=%s as %s', async (raw, expected) => {
    expect((await loadConfig({ env: { ...baseEnv(), CLEANUP_DRY_RUN: raw } })).dryRun).toBe(expected);
  });

  it('treats empty settings as not set', async () => {
    const config = await loadConfig({
      env: { ...baseEnv(), VEEAM_CA_CERT: '', CLEANUP_CONCURRENCY: '', VEEAM_API_VERSION: '  ' },
    });
    expect(onlyAppliance(config)).toMatchObject({ concurrency: 16, apiVersion: 'auto' });
    expect(onlyAppliance(config)).not.toHaveProperty('caCert');
  });

  it.each([
    ['VEEAM_URL', 'is not set (set it, or set KEY_VAULT_URL to read the secret veeam-url from Key Vault)'],
    ['VEEAM_USERNAME', 'is not set'],
    ['VEEAM_PASSWORD', 'is not set'],
    ['VEEAM_VM_IDS', 'is not set'],
  ])('names %s when it is missing', async (setting, problem) => {
    const error = await problemOf({ [setting]: undefined });
    expect(error.setting).toBe(setting);
    expect(error.problem).toContain(problem);
  });

  // Each bad value carries the canary, which must not appear anywhere in the error.
  it.each([
    ['VEEAM_URL', `not a url ${CANARY}`, 'is not an absolute URL'],
    ['VEEAM_URL', `http://${CANARY}.example.com`, 'must use https://'],
    ['VEEAM_URL', `https://admin:${CANARY}@veeam.example.com`, 'must not contain credentials'],
    ['VEEAM_URL', `ftp://${CANARY}.example.com`, 'has unsupported scheme'],
    ['VEEAM_USERNAME', '   ', 'is empty'],
    ['VEEAM_VM_IDS', `["${CANARY}", 7]`, 'JSON array entry 1 is not a string'],
    ['VEEAM_VM_IDS', `[${CANARY}`, 'is not a valid JSON array'],
    ['VEEAM_VM_IDS', '[]', 'lists no VM ids'],
    ['VEEAM_VM_IDS', ' ,\n, ', 'lists no VM ids'],
    ['VEEAM_CA_CERT', `just text ${CANARY}`, 'does not contain a PEM certificate'],
    [
      'VEEAM_CA_CERT',
      `-----BEGIN CERTIFICATE-----\n${CANARY}\n-----END CERTIFICATE-----`,
      'certificate 1 of the PEM could not be parsed',
    ],
    ['VEEAM_API_VERSION', `v9-${CANARY}`, 'must be one of v1, v8.1, auto'],
    ['VEEAM_API_VERSION', 'V8.1', 'must be one of v1, v8.1, auto'],
    ['CLEANUP_CONCURRENCY', `16${CANARY}`, 'must be a whole number'],
    ['CLEANUP_CONCURRENCY', '2.5', 'must be a whole number'],
    ['CLEANUP_CONCURRENCY', '-3', 'must be a whole number'],
    ['CLEANUP_CONCURRENCY', '0', 'must be at least 1'],
    ['CLEANUP_CONCURRENCY', '257', 'must be at most 256'],
    ['CLEANUP_MAX_RUNNING_SESSIONS', '10001', 'must be at most 10000'],
    ['CLEANUP_MAX_RUNNING_SESSIONS', '0', 'must be at least 1'],
    ['CLEANUP_MAX_RUNNING_SESSIONS', `8${CANARY}`, 'must be a whole number'],
    ['CLEANUP_MAX_SESSION_WAIT', `PT${CANARY}`, 'must be an ISO-8601 duration'],
    ['CLEANUP_MAX_SESSION_WAIT', '0', 'must be greater than zero'],
    ['CLEANUP_TIME_BUDGET', `${CANARY}s`, 'must be an ISO-8601 duration'],
    ['CLEANUP_DRY_RUN', `maybe-${CANARY}`, 'must be one of true, 1, yes, false, 0, no'],
    ['CLEANUP_BATCH', 'on', 'must be one of true, 1, yes, false, 0, no'],
  ])('names %s for a bad value (%j) without echoing it', async (setting, value, problem) => {
    const error = await problemOf({ [setting]: value });
    expect(error.setting).toBe(setting);
    expect(error.problem).toContain(problem);
    expect(error.source).toBe('environment');
    expect(error.message).toBe(`${setting} (environment): ${error.problem}`);
  });

  it('accepts a PEM bundle and rejects it when any certificate in it is broken', async () => {
    const pem = await selfSignedPem();
    const bundle = `${pem}\n${pem}`;
    expect(onlyAppliance(await loadConfig({ env: { ...baseEnv(), VEEAM_CA_CERT: bundle } })).caCert).toBe(
      bundle,
    );
    const broken = `${pem}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`;
    const error = await problemOf({ VEEAM_CA_CERT: broken });
    expect(error.problem).toContain('certificate 2 of the PEM could not be parsed');
  });

  it('lists every problem of one load in one error, the first setting in the setting field', async () => {
    const error = await problemOf({
      VEEAM_URL: `http://${CANARY}.example.com`,
      VEEAM_PASSWORD: undefined,
      CLEANUP_CONCURRENCY: '1000',
      CLEANUP_DRY_RUN: CANARY,
    });
    expect(error.setting).toBe('VEEAM_URL');
    expect(error.message).toMatch(/^VEEAM_URL \(environment\): must use https:\/\//);
    expect(error.message).toContain('; VEEAM_PASSWORD (environment): is not set');
    expect(error.message).toContain('; CLEANUP_CONCURRENCY (environment): must be at most 256');
    expect(error.message).toContain('; CLEANUP_DRY_RUN (environment): must be one of');
  });

  it('reads process.env when no env is given', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, baseEnv(), { KEY_VAULT_URL: '', CLEANUP_CONCURRENCY: '3' });
    try {
      await expect(loadConfig()).resolves.toMatchObject({
        appliances: [{ concurrency: 3 }],
        source: 'environment',
      });
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
