import { loadConfig } from '../../shared/config';
import {
  configErrorOf,
  examplePolicy,
  idsOf,
  selfSignedPem,
  SUBSCRIPTION,
  visibleText,
  VM_A,
  VM_B,
} from './helpers';

const CANARY = 'policy-canary-7d21';
const SOURCE = 'CLEANUP_POLICY (environment)';

/** The environment variables the example's secret references name. */
function secretEnv(pem: string): Record<string, string> {
  return {
    VEEAM_WEU_USERNAME: 'svc-weu',
    VEEAM_WEU_PASSWORD: `pw-weu-${CANARY}`,
    VEEAM_WEU_CA_CERT: pem,
    CB_USERNAME: ' svc-cb ',
    CB_PASSWORD: `pw-cb-${CANARY}`,
  };
}

let pem: string;
beforeAll(async () => {
  pem = await selfSignedPem();
});

const withPolicy = (policy: unknown, extra: Record<string, string | undefined> = {}) => ({
  env: {
    ...secretEnv(pem),
    CLEANUP_POLICY: typeof policy === 'string' ? policy : JSON.stringify(policy),
    ...extra,
  },
});

/** A copy of the example with `change` applied to it (a plain JSON object, so any field can be set). */
function changed(change: (policy: Record<string, any>) => void): Record<string, any> {
  const policy = JSON.parse(JSON.stringify(examplePolicy()));
  change(policy);
  return policy;
}

async function policyError(policy: unknown, extra?: Record<string, string | undefined>) {
  const error = await configErrorOf(loadConfig(withPolicy(policy, extra)));
  expect(visibleText(error)).not.toContain(CANARY);
  return error;
}

describe('cleanup policy from CLEANUP_POLICY', () => {
  it('reads the example policy: every appliance with its defaults, targets, exclusions and secrets', async () => {
    const config = await loadConfig(withPolicy(examplePolicy(), { CLEANUP_DRY_RUN: 'yes' }));
    expect(config.policy).toEqual({ name: 'CLEANUP_POLICY', source: 'environment' });
    expect(config).toMatchObject({ dryRun: true, maxSessionWaitMs: 30 * 60_000, source: 'environment' });
    expect(config.appliances).toEqual([
      {
        name: 'weu',
        applianceUrl: 'https://veeam-weu.example.com',
        username: 'svc-weu',
        password: `pw-weu-${CANARY}`,
        caCert: pem,
        apiVersion: 'auto',
        concurrency: 16,
        batch: false,
        minAgeMs: 7 * 86_400_000,
        keepLatest: 1,
        targets: {
          kind: 'discover',
          filter: { subscriptionIds: [SUBSCRIPTION], regions: ['westeurope'], nameContains: 'app-' },
        },
        exclude: { vmIds: [VM_B], names: ['sql-*', 'dc??'], resourceGroups: ['rg-legal-hold'] },
        provenance: {
          applianceUrl: { name: 'appliances[0].url', source: SOURCE },
          username: { name: 'VEEAM_WEU_USERNAME', source: 'environment' },
          password: { name: 'VEEAM_WEU_PASSWORD', source: 'environment' },
          targets: { name: 'appliances[0].targets', source: SOURCE },
          caCert: { name: 'VEEAM_WEU_CA_CERT', source: 'environment' },
        },
      },
      {
        name: 'customer-b',
        applianceUrl: 'https://10.20.0.4',
        username: 'svc-cb',
        password: `pw-cb-${CANARY}`,
        apiVersion: 'auto',
        concurrency: 16,
        batch: false,
        minAgeMs: 30 * 86_400_000,
        keepLatest: 1,
        targets: { kind: 'ids', targets: { ids: [VM_A, VM_B], invalid: [], duplicatesRemoved: 0 } },
        provenance: {
          applianceUrl: { name: 'appliances[1].url', source: SOURCE },
          username: { name: 'CB_USERNAME', source: 'environment' },
          password: { name: 'CB_PASSWORD', source: 'environment' },
          targets: { name: 'appliances[1].targets', source: SOURCE },
        },
      },
    ]);
  });

  it('lets each appliance override the defaults field by field', async () => {
    const policy = changed((p) => {
      p.defaults = {
        minAge: '3600',
        keepLatest: 2,
        concurrency: 8,
        maxRunningSessions: 50,
        apiVersion: 'v8.1',
        batch: true,
      };
      p.appliances[0].concurrency = 32;
      p.appliances[0].batch = false;
      p.appliances[0].retention = { keepLatest: 0 };
    });
    const [weu, customerB] = (await loadConfig(withPolicy(policy))).appliances;
    expect(weu).toMatchObject({
      concurrency: 32,
      batch: false,
      keepLatest: 0,
      minAgeMs: 3_600_000,
      maxRunningSessions: 50,
      apiVersion: 'auto', // its own, over the default
    });
    expect(customerB).toMatchObject({
      concurrency: 8,
      batch: true,
      keepLatest: 2,
      minAgeMs: 30 * 86_400_000,
      maxRunningSessions: 50,
      apiVersion: 'v8.1',
    });
  });

  it('applies the built-in defaults when the policy has none', async () => {
    const policy = changed((p) => {
      delete p.defaults;
      delete p.appliances[1].retention;
    });
    const customerB = (await loadConfig(withPolicy(policy))).appliances[1];
    expect(customerB).toMatchObject({ concurrency: 16, batch: false, apiVersion: 'auto' });
    expect(customerB).not.toHaveProperty('minAgeMs');
    expect(customerB).not.toHaveProperty('keepLatest');
    expect(customerB).not.toHaveProperty('maxRunningSessions');
  });

  it('collects vmIds like VEEAM_VM_IDS: duplicates merged, invalid ids kept as InvalidId', async () => {
    const policy = changed((p) => {
      p.appliances[1].targets.vmIds = [VM_A, VM_A.toUpperCase(), `bad id ${CANARY}`];
    });
    const targets = idsOf((await loadConfig(withPolicy(policy))).appliances[1]);
    expect(targets.ids).toEqual([VM_A]);
    expect(targets.invalid).toHaveLength(1);
    expect(targets.duplicatesRemoved).toBe(1);
  });

  it('accepts a $schema field, for editors', async () => {
    const policy = { $schema: '../docs/cleanup-policy.schema.json', ...examplePolicy() };
    expect((await loadConfig(withPolicy(policy))).appliances).toHaveLength(2);
  });

  // Each case names the JSON path and the problem; a canary in the bad value must never come back.
  it.each<[string, (p: Record<string, any>) => void, string, string]>([
    [
      'duplicate names (case-insensitive)',
      (p) => (p.appliances[1].name = 'WEU'),
      'appliances[1].name',
      'repeats the name of appliances[0] (names are compared without regard to case)',
    ],
    [
      'two appliances with the same origin',
      (p) => (p.appliances[1].url = 'https://VEEAM-weu.example.com:443/'),
      'appliances[1].url',
      'has the same origin (scheme, host and port) as appliances[0].url',
    ],
    [
      'both vmIds and discover',
      (p) => (p.appliances[1].targets.discover = {}),
      'appliances[1].targets',
      'has both vmIds and discover; give one of them',
    ],
    [
      'neither vmIds nor discover',
      (p) => (p.appliances[1].targets = {}),
      'appliances[1].targets',
      'needs vmIds or discover',
    ],
    [
      'an unknown appliance field',
      (p) => (p.appliances[0].foo = CANARY),
      'appliances[0].foo',
      'is not a known field',
    ],
    ['an unknown top-level field', (p) => (p.extra = CANARY), 'extra', 'is not a known field'],
    [
      'an unknown field deep down',
      (p) => (p.appliances[0].targets.discover.tags = [CANARY]),
      'appliances[0].targets.discover.tags',
      'is not a known field',
    ],
    [
      'an unknown field with an odd name',
      (p) => (p.appliances[0]['x y'] = CANARY),
      'appliances[0]["x y"]',
      'is not a known field',
    ],
    [
      'a password in the policy',
      (p) => (p.appliances[1].password = CANARY),
      'appliances[1].password',
      'holds a secret value; store it in Key Vault (or the environment) and name it with passwordSecret',
    ],
    [
      'a user name in the policy',
      (p) => (p.appliances[0].username = CANARY),
      'appliances[0].username',
      'holds a secret value; store it in Key Vault (or the environment) and name it with usernameSecret',
    ],
    [
      'a CA certificate in the policy',
      (p) => (p.appliances[0].caCert = CANARY),
      'appliances[0].caCert',
      'holds a secret value; store it in Key Vault (or the environment) and name it with caCertSecret',
    ],
    [
      'a token in the defaults',
      (p) => (p.defaults.refresh_token = CANARY),
      'defaults.refresh_token',
      'holds a secret value; store it in Key Vault (or the environment) and name it with a *Secret field',
    ],
    [
      'an API key on an appliance',
      (p) => (p.appliances[0].apiKey = CANARY),
      'appliances[0].apiKey',
      'holds a secret value',
    ],
    [
      'an empty glob',
      (p) => (p.appliances[0].exclude.names = ['sql-*', ' ']),
      'appliances[0].exclude.names[1]',
      'is empty',
    ],
    [
      'a glob that matches everything',
      (p) => (p.appliances[0].exclude.names = ['**']),
      'appliances[0].exclude.names[0]',
      'matches every name (use a narrower glob)',
    ],
    [
      'retention on an appliance pinned to v1',
      (p) => (p.appliances[1].apiVersion = 'v1'),
      'appliances[1].retention.minAge',
      'needs API v8.1 (restore points per VM), but appliances[1].apiVersion is v1; set appliances[1].apiVersion to v8.1 or auto, or remove the retention settings',
    ],
    [
      'default retention with a default v1',
      (p) => {
        p.defaults = { keepLatest: 1, apiVersion: 'v1' };
        delete p.appliances[1].retention;
      },
      'defaults.keepLatest',
      'needs API v8.1 (restore points per VM), but defaults.apiVersion is v1',
    ],
    [
      'a subscription id that is not a GUID',
      (p) => (p.appliances[0].targets.discover.subscriptionIds = [SUBSCRIPTION, CANARY]),
      'appliances[0].targets.discover.subscriptionIds[1]',
      'must be a GUID (8-4-4-4-12 hexadecimal digits)',
    ],
    [
      'an empty subscription list',
      (p) => (p.appliances[0].targets.discover.subscriptionIds = []),
      'appliances[0].targets.discover.subscriptionIds',
      'must have at least 1 entry',
    ],
    [
      'an empty region',
      (p) => (p.appliances[0].targets.discover.regions = ['  ']),
      'appliances[0].targets.discover.regions[0]',
      'must not be empty',
    ],
    [
      'an empty vmIds list',
      (p) => (p.appliances[1].targets.vmIds = []),
      'appliances[1].targets.vmIds',
      'must have at least 1 entry',
    ],
    [
      'a vmId that is not a string',
      (p) => (p.appliances[1].targets.vmIds = [VM_A, 7]),
      'appliances[1].targets.vmIds[1]',
      'must be a string',
    ],
    [
      'an invalid excluded id',
      (p) => (p.appliances[0].exclude.vmIds = [`${CANARY}/x`]),
      'appliances[0].exclude.vmIds[0]',
      'contains characters outside [A-Za-z0-9-]',
    ],
    [
      'an empty resource group',
      (p) => (p.appliances[0].exclude.resourceGroups = ['']),
      'appliances[0].exclude.resourceGroups[0]',
      'must not be empty',
    ],
    [
      'a name with a slash',
      (p) => (p.appliances[0].name = `weu/${CANARY}`),
      'appliances[0].name',
      'must match /^[A-Za-z0-9][A-Za-z0-9._-]*$/',
    ],
    [
      'a name that is too long',
      (p) => (p.appliances[0].name = 'a'.repeat(64)),
      'appliances[0].name',
      'must be at most 63 characters long',
    ],
    [
      'a plain http URL',
      (p) => (p.appliances[0].url = `http://${CANARY}.example.com`),
      'appliances[0].url',
      'must use https:// (plain http:// is allowed only for loopback hosts)',
    ],
    [
      'a URL with credentials',
      (p) => (p.appliances[0].url = `https://admin:${CANARY}@veeam.example.com`),
      'appliances[0].url',
      'must not contain credentials',
    ],
    [
      'a URL with a query',
      (p) => (p.appliances[0].url = `https://veeam.example.com/?key=${CANARY}`),
      'appliances[0].url',
      'must not contain a query or fragment',
    ],
    ['a missing url', (p) => delete p.appliances[0].url, 'appliances[0].url', 'is required'],
    ['a concurrency of 0', (p) => (p.defaults.concurrency = 0), 'defaults.concurrency', 'must be at least 1'],
    [
      'a fractional concurrency',
      (p) => (p.appliances[0].concurrency = 2.5),
      'appliances[0].concurrency',
      'must be a whole number',
    ],
    [
      'a concurrency given as text',
      (p) => (p.appliances[0].concurrency = '16'),
      'appliances[0].concurrency',
      'must be a number',
    ],
    [
      'too many running sessions',
      (p) => (p.appliances[0].maxRunningSessions = 10_001),
      'appliances[0].maxRunningSessions',
      'must be at most 10000',
    ],
    [
      'a negative keepLatest',
      (p) => (p.appliances[1].retention.keepLatest = -1),
      'appliances[1].retention.keepLatest',
      'must be at least 0',
    ],
    [
      'a minAge that is no duration',
      (p) => (p.appliances[1].retention.minAge = `${CANARY} days`),
      'appliances[1].retention.minAge',
      'must be an ISO-8601 duration (PT30M, PT1H30M, P1DT2H, PT0.5S) or a number of seconds',
    ],
    [
      'an unknown API version',
      (p) => (p.appliances[0].apiVersion = `v9-${CANARY}`),
      'appliances[0].apiVersion',
      'must be one of v1, v8.1, auto',
    ],
    [
      'batch given as text',
      (p) => (p.appliances[0].batch = 'yes'),
      'appliances[0].batch',
      'must be a boolean',
    ],
    [
      'a secret reference that is no Key Vault name',
      (p) => (p.appliances[0].passwordSecret = `veeam_${CANARY}`),
      'appliances[0].passwordSecret',
      'must match /^[0-9A-Za-z-]{1,127}$/',
    ],
    ['no appliances', (p) => (p.appliances = []), 'appliances', 'must have at least 1 entry'],
    ['appliances that are not a list', (p) => (p.appliances = { weu: {} }), 'appliances', 'must be an array'],
  ])('rejects %s, naming the path', async (_label, change, path, problem) => {
    const error = await policyError(changed(change));
    expect(error.message).toContain(`${path} (${SOURCE}): ${problem}`);
  });

  it.each([
    ['invalid JSON', `{"appliances": [ ${CANARY}`, 'is not valid JSON'],
    ['truncated JSON', '{"appliances": [', 'is not valid JSON'],
    ['a JSON array', JSON.stringify([examplePolicy()]), 'is not a JSON object'],
    ['a JSON string', JSON.stringify(CANARY), 'is not a JSON object'],
  ])('rejects %s without quoting it', async (_label, text, problem) => {
    const error = await policyError(text);
    expect(error.setting).toBe('CLEANUP_POLICY');
    expect(error.message).toBe(`CLEANUP_POLICY (environment): ${problem}`);
  });

  it('reports every problem of the policy in one error, the first in the setting field', async () => {
    const error = await policyError(
      changed((p) => {
        p.appliances[0].foo = CANARY;
        p.appliances[0].exclude.names = ['*'];
        p.appliances[1].name = 'weu';
        p.appliances[1].targets.discover = {};
        p.appliances[1].password = CANARY;
      }),
    );
    expect(error.source).toBe(SOURCE);
    expect(error.setting).toBe('appliances[0].exclude.names[0]');
    expect(error.message).toBe(
      [
        `appliances[0].exclude.names[0] (${SOURCE}): matches every name (use a narrower glob)`,
        `appliances[0].foo (${SOURCE}): is not a known field`,
        `appliances[1].targets (${SOURCE}): has both vmIds and discover; give one of them`,
        `appliances[1].password (${SOURCE}): holds a secret value; store it in Key Vault (or the environment) and name it with passwordSecret`,
        `appliances[1].name (${SOURCE}): repeats the name of appliances[0] (names are compared without regard to case)`,
      ].join('; '),
    );
  });

  describe('secret references from the environment', () => {
    it('names the path and the variable of a reference that is not set', async () => {
      const error = await policyError(examplePolicy(), { VEEAM_WEU_PASSWORD: undefined, CB_USERNAME: '' });
      expect(error.message).toBe(
        `appliances[0].passwordSecret (${SOURCE}): environment variable VEEAM_WEU_PASSWORD is not set; ` +
          `appliances[1].usernameSecret (${SOURCE}): environment variable CB_USERNAME is not set`,
      );
    });

    it('checks the values: user name not blank, password not empty, CA certificate a PEM', async () => {
      const error = await policyError(examplePolicy(), {
        CB_USERNAME: '   ',
        VEEAM_WEU_CA_CERT: `not a pem ${CANARY}`,
      });
      expect(error.message).toBe(
        `appliances[0].caCertSecret (${SOURCE}): environment variable VEEAM_WEU_CA_CERT does not contain a PEM certificate (-----BEGIN CERTIFICATE----- block); ` +
          `appliances[1].usernameSecret (${SOURCE}): environment variable CB_USERNAME is empty`,
      );
    });

    it('resolves a secret two appliances share once, for both', async () => {
      const policy = changed((p) => (p.appliances[1].usernameSecret = 'veeam-weu-username'));
      const [weu, customerB] = (await loadConfig(withPolicy(policy))).appliances;
      expect(customerB.username).toBe('svc-weu');
      expect(customerB.provenance.username).toEqual(weu.provenance.username);
    });

    it('reports document problems without resolving any reference', async () => {
      // Every referenced variable is missing, but only the document's own problem is reported.
      const error = await configErrorOf(
        loadConfig({ env: { CLEANUP_POLICY: JSON.stringify(changed((p) => (p.appliances[0].foo = 1))) } }),
      );
      expect(error.message).toBe(`appliances[0].foo (${SOURCE}): is not a known field`);
    });
  });

  describe('single-appliance settings beside a policy', () => {
    it('refuses each one, naming it and the policy', async () => {
      const error = await policyError(examplePolicy(), {
        VEEAM_URL: `https://${CANARY}.example.com`,
        VEEAM_PASSWORD_SECRET: 'other-password',
        CLEANUP_CONCURRENCY: '4',
        CLEANUP_KEEP_LATEST: '2',
      });
      const problem = `is set together with a cleanup policy (${SOURCE}); move it into the policy`;
      expect(error.setting).toBe('VEEAM_URL');
      expect(error.message).toBe(
        [
          `VEEAM_URL (environment): ${problem}`,
          `VEEAM_PASSWORD_SECRET (environment): ${problem}`,
          `CLEANUP_CONCURRENCY (environment): ${problem}`,
          `CLEANUP_KEEP_LATEST (environment): ${problem}`,
        ].join('; '),
      );
    });

    it.each([
      'VEEAM_USERNAME',
      'VEEAM_PASSWORD',
      'VEEAM_VM_IDS',
      'VEEAM_CA_CERT',
      'VEEAM_API_VERSION',
      'CLEANUP_MAX_RUNNING_SESSIONS',
      'CLEANUP_MIN_AGE',
      'CLEANUP_BATCH',
    ])('refuses %s', async (setting) => {
      const error = await policyError(examplePolicy(), { [setting]: CANARY });
      expect(error.setting).toBe(setting);
      expect(error.problem).toContain('is set together with a cleanup policy');
    });

    it('refuses CLI flags and --vm targets, naming the flag', async () => {
      const error = await configErrorOf(
        loadConfig({
          ...withPolicy(examplePolicy()),
          commandLine: {
            settings: { CLEANUP_CONCURRENCY: { flag: '--concurrency', value: '4' } },
            targets: { entries: [VM_A], origin: { name: '--vm', source: 'command line' } },
          },
        }),
      );
      expect(error.message).toContain(`--concurrency (command line): is set together with a cleanup policy`);
      expect(error.message).toContain(
        `--vm (command line): is set together with a cleanup policy (${SOURCE})`,
      );
    });

    it('keeps the run-wide settings, and reports their problems with the policy', async () => {
      const config = await loadConfig(
        withPolicy(examplePolicy(), { CLEANUP_MAX_SESSION_WAIT: 'PT5M', CLEANUP_TIME_BUDGET: '600' }),
      );
      expect(config).toMatchObject({ maxSessionWaitMs: 300_000, timeBudgetMs: 600_000, dryRun: false });
      const error = await policyError(
        changed((p) => (p.extra = 1)),
        { CLEANUP_DRY_RUN: CANARY },
      );
      expect(error.message).toBe(
        `extra (${SOURCE}): is not a known field; ` +
          'CLEANUP_DRY_RUN (environment): must be one of true, 1, yes, false, 0, no',
      );
    });
  });
});
