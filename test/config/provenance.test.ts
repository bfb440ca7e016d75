import { describeProvenance, invalidateSecretCache, loadConfig } from '../../shared/config';
import { startFakeKeyVault, type FakeKeyVault } from '../support/fake-key-vault';
import { configErrorOf, idsOf, onlyAppliance, selfSignedPem, visibleText, VM_A, VM_B } from './helpers';

const CANARY = 'prov-canary-0e41';
const credential = {
  getToken: async () => ({ token: 'kv-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

describe('configuration provenance', () => {
  let vault: FakeKeyVault | undefined;
  afterEach(async () => {
    invalidateSecretCache();
    await vault?.close();
    vault = undefined;
  });

  it('describes an environment-only configuration in one line, without any value', async () => {
    const config = await loadConfig({
      env: {
        VEEAM_URL: 'https://veeam.contoso.example',
        VEEAM_USERNAME: 'svc-cleanup',
        VEEAM_PASSWORD: `pw-${CANARY}`,
        VEEAM_VM_IDS: `${VM_A},${VM_B},${VM_A.toUpperCase()},bad/id`,
      },
    });
    const line = describeProvenance(config);
    expect(line).toBe(
      'appliance URL from VEEAM_URL (environment), username from VEEAM_USERNAME (environment), ' +
        'password from VEEAM_PASSWORD (environment), targets from VEEAM_VM_IDS (environment), ' +
        'no CA certificate (system trust), 3 targets (1 invalid, 1 duplicate(s) merged)',
    );
    expect(line).not.toContain(CANARY);
    expect(line).not.toContain('svc-cleanup');
  });

  it('names the Key Vault secrets, and the environment twin that overrides one of them', async () => {
    const pem = await selfSignedPem();
    vault = await startFakeKeyVault({
      secrets: {
        'veeam-url': 'https://veeam.contoso.example',
        'veeam-username': 'svc-cleanup',
        'veeam-password': `pw-${CANARY}`,
        'veeam-vm-ids': JSON.stringify([VM_A, VM_B, 'vm-c']),
        'veeam-ca-cert': pem,
      },
    });
    const config = await loadConfig({
      env: { KEY_VAULT_URL: vault.url, VEEAM_USERNAME: 'svc-override' },
      credential,
    });
    const kv = `Key Vault ${vault.url}`;
    expect(onlyAppliance(config).provenance).toEqual({
      applianceUrl: { name: 'secret veeam-url', source: kv },
      username: { name: 'VEEAM_USERNAME', source: 'environment' },
      password: { name: 'secret veeam-password', source: kv },
      targets: { name: 'secret veeam-vm-ids', source: kv },
      caCert: { name: 'secret veeam-ca-cert', source: kv },
    });
    expect(describeProvenance(config)).toBe(
      `appliance URL from secret veeam-url (${kv}), username from VEEAM_USERNAME (environment), ` +
        `password from secret veeam-password (${kv}), targets from secret veeam-vm-ids (${kv}), ` +
        `CA certificate from secret veeam-ca-cert (${kv}), 3 targets`,
    );
  });

  it('names command-line flags, and explicit targets replace the targets secret (it is not read)', async () => {
    vault = await startFakeKeyVault({
      secrets: {
        'veeam-url': 'https://veeam.contoso.example',
        'veeam-username': 'svc-cleanup',
        'veeam-password': `pw-${CANARY}`,
        'veeam-vm-ids': JSON.stringify([VM_A, VM_B]),
      },
    });
    const config = await loadConfig({
      env: { KEY_VAULT_URL: vault.url, VEEAM_URL: 'https://ignored.example' },
      credential,
      commandLine: {
        settings: { VEEAM_URL: { flag: '--appliance-url', value: 'https://flag.example' } },
        targets: { entries: ['vm-x'], origin: { name: '--vm', source: 'command line' } },
      },
    });
    expect(onlyAppliance(config).applianceUrl).toBe('https://flag.example');
    expect(idsOf(onlyAppliance(config)).ids).toEqual(['vm-x']);
    expect(describeProvenance(config)).toContain(
      'appliance URL from --appliance-url (command line), username from secret veeam-username',
    );
    expect(describeProvenance(config)).toContain('targets from --vm (command line), no CA');
    expect(vault.requests.map((r) => r.path)).not.toContainEqual(expect.stringContaining('veeam-vm-ids'));
  });

  it('names the source in every configuration error', async () => {
    vault = await startFakeKeyVault({
      secrets: { 'veeam-url': `http://${CANARY}.example.com`, 'veeam-password': `pw-${CANARY}` },
    });
    const error = await configErrorOf(
      loadConfig({
        env: { KEY_VAULT_URL: vault.url, VEEAM_USERNAME: '  ', CLEANUP_MAX_RUNNING_SESSIONS: '0' },
        credential,
        commandLine: { settings: { CLEANUP_CONCURRENCY: { flag: '--concurrency', value: '999' } } },
      }),
    );
    expect(error.message).toBe(
      `secret veeam-url (Key Vault ${vault.url}): must use https:// (plain http:// is allowed only for loopback hosts); ` +
        'VEEAM_USERNAME (environment): is empty; ' +
        `secret veeam-vm-ids (Key Vault ${vault.url}): was not found in the vault; ` +
        '--concurrency (command line): must be at most 256; ' +
        'CLEANUP_MAX_RUNNING_SESSIONS (environment): must be at least 1',
    );
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it('describes a policy: where it came from, then each appliance, never a secret value', async () => {
    const config = await loadConfig({
      env: {
        CLEANUP_POLICY: JSON.stringify({
          appliances: [
            {
              name: 'weu',
              url: 'https://veeam-weu.example.com/',
              usernameSecret: 'weu-user',
              passwordSecret: 'weu-password',
              targets: { discover: {} },
            },
            {
              name: 'customer-b',
              url: 'https://10.20.0.4',
              usernameSecret: 'cb-user',
              passwordSecret: 'cb-password',
              targets: { vmIds: [VM_A, VM_B, VM_A, 'bad/id'] },
            },
          ],
        }),
        WEU_USER: `user-${CANARY}`,
        WEU_PASSWORD: `pw-${CANARY}`,
        CB_USER: `user-${CANARY}`,
        CB_PASSWORD: `pw-${CANARY}`,
      },
    });
    const line = describeProvenance(config);
    expect(line).toBe(
      'policy from CLEANUP_POLICY (environment), 2 appliances: ' +
        'weu (https://veeam-weu.example.com, password from WEU_PASSWORD (environment), targets: discovery), ' +
        'customer-b (https://10.20.0.4, password from CB_PASSWORD (environment), 3 targets (1 invalid, 1 duplicate(s) merged))',
    );
    expect(line).not.toContain(CANARY);
  });
});
