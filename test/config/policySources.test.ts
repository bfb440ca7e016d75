import { describeProvenance, invalidateSecretCache, loadConfig } from '../../shared/config';
import { startFakeKeyVault, type FakeKeyVault } from '../support/fake-key-vault';
import { configErrorOf, idsOf, selfSignedPem, visibleText, VM_A, VM_B } from './helpers';

const CANARY = 'policy-src-canary-93ab';
const credential = {
  getToken: async () => ({ token: `kv-token-${CANARY}`, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** A two-appliance policy; `name` tells apart which source was read. */
function policy(name = 'weu'): string {
  return JSON.stringify({
    defaults: { keepLatest: 1 },
    appliances: [
      {
        name,
        url: 'https://veeam-weu.example.com',
        usernameSecret: 'veeam-username',
        passwordSecret: 'veeam-weu-password',
        caCertSecret: 'veeam-weu-ca-cert',
        targets: { discover: { regions: ['westeurope'] } },
      },
      {
        name: 'customer-b',
        url: 'https://10.20.0.4',
        usernameSecret: 'veeam-username',
        passwordSecret: 'cb-password',
        targets: { vmIds: [VM_A, VM_B] },
      },
    ],
  });
}

/** The secrets the vault answered (found or not), challenges left out. */
function secretsRead(vault: FakeKeyVault): string[] {
  return vault.requests.filter((r) => r.status !== 401).map((r) => r.path.split('/')[2]);
}

describe('where the cleanup policy comes from', () => {
  let vault: FakeKeyVault | undefined;
  let pem: string;
  beforeAll(async () => {
    pem = await selfSignedPem();
  });
  afterEach(async () => {
    invalidateSecretCache();
    await vault?.close();
    vault = undefined;
  });

  const referencedSecrets = () => ({
    'veeam-username': 'svc-cleanup',
    'veeam-weu-password': `pw-weu-${CANARY}`,
    'veeam-weu-ca-cert': pem,
    'cb-password': `pw-cb-${CANARY}`,
  });
  const environmentSecrets = () => ({
    VEEAM_USERNAME: 'svc-cleanup',
    VEEAM_WEU_PASSWORD: `pw-weu-${CANARY}`,
    VEEAM_WEU_CA_CERT: pem,
    CB_PASSWORD: `pw-cb-${CANARY}`,
  });

  it('takes --policy from the command line over CLEANUP_POLICY', async () => {
    const config = await loadConfig({
      env: { ...environmentSecrets(), CLEANUP_POLICY: `{ not json ${CANARY}` },
      commandLine: {
        policy: { text: policy('from-cli'), origin: { name: '--policy ./p.json', source: 'command line' } },
      },
    });
    expect(config.policy).toEqual({ name: '--policy ./p.json', source: 'command line' });
    expect(config.appliances.map((a) => a.name)).toEqual(['from-cli', 'customer-b']);
    expect(config.appliances[0].provenance.applianceUrl).toEqual({
      name: 'appliances[0].url',
      source: '--policy ./p.json (command line)',
    });
  });

  it('uses a single-appliance variable the policy names as a reference, and refuses the others', async () => {
    // veeam-username names VEEAM_USERNAME: the policy uses it, so it is no conflict; VEEAM_PASSWORD is one.
    const config = await loadConfig({ env: { ...environmentSecrets(), CLEANUP_POLICY: policy() } });
    expect(config.appliances.map((a) => a.username)).toEqual(['svc-cleanup', 'svc-cleanup']);
    const error = await configErrorOf(
      loadConfig({ env: { ...environmentSecrets(), VEEAM_PASSWORD: CANARY, CLEANUP_POLICY: policy() } }),
    );
    expect(error.message).toBe(
      'VEEAM_PASSWORD (environment): is set together with a cleanup policy (CLEANUP_POLICY (environment)); move it into the policy',
    );
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it('reads the policy and every reference from the vault, each secret once and in one round', async () => {
    vault = await startFakeKeyVault({ secrets: { 'cleanup-policy': policy(), ...referencedSecrets() } });
    const config = await loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential });
    const kv = `Key Vault ${vault.url}`;
    expect(config.policy).toEqual({ name: 'secret cleanup-policy', source: kv });
    expect(config.source).toBe('keyVault');
    const [weu, customerB] = config.appliances;
    expect(weu).toMatchObject({
      name: 'weu',
      username: 'svc-cleanup',
      password: `pw-weu-${CANARY}`,
      caCert: pem,
      keepLatest: 1,
      targets: { kind: 'discover', filter: { regions: ['westeurope'] } },
    });
    expect(customerB).toMatchObject({ username: 'svc-cleanup', password: `pw-cb-${CANARY}` });
    expect(idsOf(customerB).ids).toEqual([VM_A, VM_B]);
    expect(weu.provenance.password).toEqual({ name: 'secret veeam-weu-password', source: kv });

    const read = secretsRead(vault);
    // The shared username secret is read once.
    for (const name of Object.keys(referencedSecrets()))
      expect(read.filter((r) => r === name)).toHaveLength(1);
    // The single-appliance secrets were asked for alongside the policy (no extra round trip); unused.
    expect(read).toContain('veeam-url');
    expect(describeProvenance(config)).toBe(
      `policy from secret cleanup-policy (${kv}), 2 appliances: ` +
        `weu (https://veeam-weu.example.com, password from secret veeam-weu-password (${kv}), ` +
        `CA certificate from secret veeam-weu-ca-cert (${kv}), targets: discovery), ` +
        `customer-b (https://10.20.0.4, password from secret cb-password (${kv}), 2 targets)`,
    );
    expect(describeProvenance(config)).not.toContain(CANARY);
  });

  it('reads the secret CLEANUP_POLICY_SECRET names', async () => {
    vault = await startFakeKeyVault({
      secrets: {
        'cleanup-policy': policy('default-name'),
        'prod-policy': policy('renamed'),
        ...referencedSecrets(),
      },
    });
    const config = await loadConfig({
      env: { KEY_VAULT_URL: vault.url, CLEANUP_POLICY_SECRET: 'prod-policy' },
      credential,
    });
    expect(config.appliances[0].name).toBe('renamed');
    expect(config.policy).toEqual({ name: 'secret prod-policy', source: `Key Vault ${vault.url}` });
    expect(secretsRead(vault)).not.toContain('cleanup-policy');
  });

  it('requires the secret CLEANUP_POLICY_SECRET names to exist', async () => {
    vault = await startFakeKeyVault({ secrets: referencedSecrets() });
    const error = await configErrorOf(
      loadConfig({ env: { KEY_VAULT_URL: vault.url, CLEANUP_POLICY_SECRET: 'prod-policy' }, credential }),
    );
    expect(error.message).toBe(
      `secret prod-policy (Key Vault ${vault.url}): was not found in the vault (CLEANUP_POLICY_SECRET names it)`,
    );
    // A policy was asked for: the single-appliance secrets are not read (nor reported missing).
    expect(secretsRead(vault)).toEqual(['prod-policy']);
  });

  it('rejects a CLEANUP_POLICY_SECRET that is no Key Vault name, and one set without a vault', async () => {
    vault = await startFakeKeyVault({ secrets: referencedSecrets() });
    const badName = await configErrorOf(
      loadConfig({ env: { KEY_VAULT_URL: vault.url, CLEANUP_POLICY_SECRET: 'prod_policy' }, credential }),
    );
    expect(badName.message).toContain(
      'CLEANUP_POLICY_SECRET (environment): is not a valid Key Vault secret name (1-127 letters, digits and hyphens)',
    );
    const noVault = await configErrorOf(loadConfig({ env: { CLEANUP_POLICY_SECRET: 'prod-policy' } }));
    expect(noVault.message).toContain(
      'CLEANUP_POLICY_SECRET (environment): is set, but KEY_VAULT_URL is not (the policy secret is read from Key Vault)',
    );
  });

  it('lets CLEANUP_POLICY win over the vault, whose policy secret is then not read', async () => {
    vault = await startFakeKeyVault({
      secrets: { 'cleanup-policy': policy('in-vault'), ...referencedSecrets() },
    });
    const config = await loadConfig({
      env: { KEY_VAULT_URL: vault.url, CLEANUP_POLICY: policy('inline') },
      credential,
    });
    expect(config.appliances[0].name).toBe('inline');
    expect(config.appliances[0].password).toBe(`pw-weu-${CANARY}`); // references still from the vault
    expect(secretsRead(vault)).not.toContain('cleanup-policy');
    expect(secretsRead(vault)).not.toContain('veeam-url'); // nor any single-appliance secret
  });

  it('runs single-appliance mode when the vault has no policy secret', async () => {
    vault = await startFakeKeyVault({
      secrets: {
        'veeam-url': 'https://veeam.contoso.example',
        'veeam-username': 'svc-cleanup',
        'veeam-password': `pw-${CANARY}`,
        'veeam-vm-ids': VM_A,
      },
    });
    const config = await loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential });
    expect(config).not.toHaveProperty('policy');
    expect(config.appliances.map((a) => a.name)).toEqual(['default']);
    expect(secretsRead(vault)).toContain('cleanup-policy');
  });

  it('names the path and the secret of a reference the vault does not have', async () => {
    const secrets: Record<string, string> = { 'cleanup-policy': policy(), ...referencedSecrets() };
    delete secrets['cb-password'];
    vault = await startFakeKeyVault({ secrets });
    const error = await configErrorOf(loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential }));
    const kv = `Key Vault ${vault.url}`;
    expect(error.message).toBe(
      `appliances[1].passwordSecret (secret cleanup-policy (${kv})): secret cb-password (${kv}) was not found in the vault`,
    );
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it('checks the values read from the vault, never quoting them', async () => {
    vault = await startFakeKeyVault({
      secrets: { 'cleanup-policy': policy(), ...referencedSecrets(), 'veeam-weu-ca-cert': `pem-${CANARY}` },
    });
    const error = await configErrorOf(loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential }));
    expect(error.setting).toBe('appliances[0].caCertSecret');
    expect(error.problem).toContain('does not contain a PEM certificate');
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it('reads no reference when the policy in the vault is invalid', async () => {
    vault = await startFakeKeyVault({
      secrets: {
        'cleanup-policy': policy().replace('"defaults"', '"password": "x", "defaults"'),
        ...referencedSecrets(),
      },
    });
    const error = await configErrorOf(loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential }));
    expect(error.message).toBe(
      `password (secret cleanup-policy (Key Vault ${vault.url})): holds a secret value; ` +
        'store it in Key Vault (or the environment) and name it with passwordSecret',
    );
    // veeam-username is also a single-appliance secret, read alongside the policy; the others are not read.
    for (const name of ['veeam-weu-password', 'veeam-weu-ca-cert', 'cb-password']) {
      expect(secretsRead(vault)).not.toContain(name);
    }
  });

  it('reports a vault that denies access once, whichever secret it was', async () => {
    vault = await startFakeKeyVault({
      secrets: { 'cleanup-policy': policy() },
      requireToken: true,
      forbidden: true,
    });
    const error = await configErrorOf(loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential }));
    expect(error.setting).toBe('KEY_VAULT_URL');
    expect(error.message).not.toContain(';');
  });

  it('refuses a single-appliance environment twin beside a policy in the vault', async () => {
    vault = await startFakeKeyVault({ secrets: { 'cleanup-policy': policy(), ...referencedSecrets() } });
    const error = await configErrorOf(
      loadConfig({ env: { KEY_VAULT_URL: vault.url, VEEAM_VM_IDS: VM_A }, credential }),
    );
    expect(error.message).toBe(
      `VEEAM_VM_IDS (environment): is set together with a cleanup policy (secret cleanup-policy (Key Vault ${vault.url})); move it into the policy`,
    );
  });
});
