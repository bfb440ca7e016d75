import net from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { CredentialUnavailableError } from '@azure/identity';
import { invalidateSecretCache, loadConfig } from '../../shared/config';
import { startFakeKeyVault, type FakeKeyVault } from '../support/fake-key-vault';
import { configErrorOf, idsOf, onlyAppliance, selfSignedPem, visibleText, VM_A, VM_B } from './helpers';

const CANARY = 'kv-canary-51c7e2';
const TOKEN = `token-${CANARY}`;

/** A credential that hands out TOKEN and records the scopes it was asked for. */
function stubCredential(): TokenCredential & { scopes: string[][] } {
  const scopes: string[][] = [];
  return {
    scopes,
    getToken: async (requested: string | string[]): Promise<AccessToken> => {
      scopes.push([requested].flat());
      return { token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

function vaultSecrets(): Record<string, string> {
  return {
    'veeam-url': 'https://veeam.contoso.example',
    'veeam-username': 'svc-cleanup',
    'veeam-password': `pw-${CANARY}`,
    'veeam-vm-ids': JSON.stringify([VM_A, VM_B]),
  };
}

/** The secrets the vault answered (found or not), challenges left out, e.g. ["veeam-url", …]. */
function secretsRead(vault: FakeKeyVault): string[] {
  return vault.requests.filter((r) => r.status !== 401).map((r) => r.path.split('/')[2]);
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('loadConfig from Key Vault (real SecretClient against a local fake)', () => {
  let vault: FakeKeyVault | undefined;
  afterEach(async () => {
    invalidateSecretCache();
    await vault?.close();
    vault = undefined;
  });

  it('reads the four secrets through the challenge flow, with the token from the credential', async () => {
    vault = await startFakeKeyVault({ secrets: vaultSecrets(), requireToken: TOKEN });
    const credential = stubCredential();
    const config = await loadConfig({
      env: { KEY_VAULT_URL: vault.url, CLEANUP_DRY_RUN: 'true' },
      credential,
    });
    expect(config).toMatchObject({ dryRun: true, source: 'keyVault' });
    expect(config).not.toHaveProperty('policy');
    expect(onlyAppliance(config)).toMatchObject({
      name: 'default',
      applianceUrl: 'https://veeam.contoso.example',
      username: 'svc-cleanup',
      password: `pw-${CANARY}`,
      targets: { kind: 'ids', targets: { ids: [VM_A, VM_B], invalid: [], duplicatesRemoved: 0 } },
    });
    expect(onlyAppliance(config)).not.toHaveProperty('caCert');
    expect(credential.scopes[0]).toEqual(['https://vault.azure.net/.default']);
    expect(vault.requests.some((r) => !r.authorized)).toBe(true); // the challenge
    // The policy secret is looked for alongside: absent, so this is single-appliance mode.
    expect(secretsRead(vault).sort()).toEqual(
      [
        'cleanup-policy',
        'veeam-ca-cert',
        'veeam-password',
        'veeam-url',
        'veeam-username',
        'veeam-vm-ids',
      ].sort(),
    );
  });

  it('reads the optional CA certificate secret when present', async () => {
    const pem = await selfSignedPem();
    vault = await startFakeKeyVault({ secrets: { ...vaultSecrets(), 'veeam-ca-cert': pem } });
    const config = await loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential: stubCredential() });
    expect(onlyAppliance(config).caCert).toBe(pem);
  });

  it('reads renamed secrets when the *_SECRET settings are set', async () => {
    const pem = await selfSignedPem();
    vault = await startFakeKeyVault({
      secrets: {
        'prod-url': 'https://veeam.contoso.example',
        'prod-user': 'svc-prod',
        'prod-pass': `pw-${CANARY}`,
        'prod-vms': VM_B,
        'prod-ca': pem,
      },
    });
    const config = await loadConfig({
      env: {
        KEY_VAULT_URL: vault.url,
        VEEAM_URL_SECRET: 'prod-url',
        VEEAM_USERNAME_SECRET: 'prod-user',
        VEEAM_PASSWORD_SECRET: 'prod-pass',
        VEEAM_VM_IDS_SECRET: 'prod-vms',
        VEEAM_CA_CERT_SECRET: 'prod-ca',
      },
      credential: stubCredential(),
    });
    expect(onlyAppliance(config)).toMatchObject({ username: 'svc-prod', caCert: pem });
    expect(idsOf(onlyAppliance(config)).ids).toEqual([VM_B]);
    expect(secretsRead(vault).sort()).toEqual([
      'cleanup-policy',
      'prod-ca',
      'prod-pass',
      'prod-url',
      'prod-user',
      'prod-vms',
    ]);
  });

  it('lets an explicitly set environment twin win over its secret, which is then not read', async () => {
    vault = await startFakeKeyVault({ secrets: vaultSecrets() });
    const config = await loadConfig({
      env: { KEY_VAULT_URL: vault.url, VEEAM_VM_IDS: 'vm-manual', VEEAM_PASSWORD: '' },
      credential: stubCredential(),
    });
    expect(idsOf(onlyAppliance(config)).ids).toEqual(['vm-manual']);
    expect(onlyAppliance(config).password).toBe(`pw-${CANARY}`); // an empty twin counts as not set
    expect(config.source).toBe('keyVault');
    expect(secretsRead(vault)).not.toContain('veeam-vm-ids');
    expect(secretsRead(vault)).toContain('veeam-password');
  });

  it('names each missing secret (404 SecretNotFound) and the vault, never a value', async () => {
    const secrets = vaultSecrets();
    delete secrets['veeam-password'];
    delete secrets['veeam-vm-ids'];
    vault = await startFakeKeyVault({ secrets });
    const error = await configErrorOf(
      loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential: stubCredential() }),
    );
    expect(error.setting).toBe('secret veeam-password');
    expect(error.source).toBe(`Key Vault ${vault.url}`);
    expect(error.message).toBe(
      `secret veeam-password (Key Vault ${vault.url}): was not found in the vault; ` +
        `secret veeam-vm-ids (Key Vault ${vault.url}): was not found in the vault`,
    );
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it('names the secret a bad value came from', async () => {
    vault = await startFakeKeyVault({
      secrets: { ...vaultSecrets(), 'veeam-url': `http://${CANARY}.example.com`, 'veeam-ca-cert': CANARY },
    });
    const error = await configErrorOf(
      loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential: stubCredential() }),
    );
    expect(error.setting).toBe('secret veeam-url');
    expect(error.problem).toContain('must use https://');
    expect(error.message).toContain(
      `; secret veeam-ca-cert (Key Vault ${vault.url}): does not contain a PEM`,
    );
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it('fails with a clear message when the identity is denied access (403)', async () => {
    vault = await startFakeKeyVault({ secrets: vaultSecrets(), requireToken: true, forbidden: true });
    const error = await configErrorOf(
      loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential: stubCredential() }),
    );
    expect(error.setting).toBe('KEY_VAULT_URL');
    expect(error.problem).toMatch(
      /^denied access \(403\): grant the Function App's identity the Key Vault Secrets User role/,
    );
    expect(error.message).not.toContain(';'); // one problem, not one per secret
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it('fails with a clear message when the vault rejects the token (401 after the challenge)', async () => {
    vault = await startFakeKeyVault({ secrets: vaultSecrets(), requireToken: 'some-other-token' });
    const error = await configErrorOf(
      loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential: stubCredential() }),
    );
    expect(error.setting).toBe('KEY_VAULT_URL');
    expect(error.problem).toMatch(/^denied access \(401\)/);
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it('fails with a clear message when the vault cannot be reached', async () => {
    const error = await configErrorOf(
      loadConfig({
        env: { KEY_VAULT_URL: `http://127.0.0.1:${await closedPort()}`, CLEANUP_CONCURRENCY: 'x' },
        credential: stubCredential(),
      }),
    );
    expect(error.setting).toBe('KEY_VAULT_URL');
    expect(error.message).toBe(
      'KEY_VAULT_URL (environment): could not be reached (ECONNREFUSED); ' +
        'CLEANUP_CONCURRENCY (environment): must be a whole number',
    );
  });

  it('fails with a clear message when no managed identity can give a token', async () => {
    vault = await startFakeKeyVault({ secrets: vaultSecrets(), requireToken: true });
    const credential: TokenCredential = {
      getToken: async () => {
        throw new CredentialUnavailableError(`ManagedIdentityCredential: unavailable ${CANARY}`);
      },
    };
    const error = await configErrorOf(loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential }));
    expect(error.setting).toBe('KEY_VAULT_URL');
    expect(error.problem).toContain('could not get an access token for the vault');
    expect(error.problem).toContain("enable the Function App's identity, or set AZURE_CLIENT_ID");
    expect(visibleText(error)).not.toContain(CANARY);
  });

  it.each([
    [`http://${CANARY}.vault.example.net`, 'must use https://'],
    [`https://user:${CANARY}@kv.vault.azure.net`, 'must not contain credentials'],
    [`vault-${CANARY}`, 'is not an absolute URL'],
  ])('rejects KEY_VAULT_URL %j without calling anything', async (url, problem) => {
    const credential = stubCredential();
    const error = await configErrorOf(loadConfig({ env: { KEY_VAULT_URL: url }, credential }));
    expect(error.setting).toBe('KEY_VAULT_URL');
    expect(error.problem).toContain(problem);
    expect(error.message).toBe(`KEY_VAULT_URL (environment): ${error.problem}`); // the secrets are not reported missing on top
    expect(visibleText(error)).not.toContain(CANARY);
    expect(credential.scopes).toEqual([]);
  });

  it('rejects an invalid secret-name override, naming the override setting', async () => {
    vault = await startFakeKeyVault({ secrets: vaultSecrets() });
    const error = await configErrorOf(
      loadConfig({
        env: { KEY_VAULT_URL: vault.url, VEEAM_PASSWORD_SECRET: 'veeam_password' },
        credential: stubCredential(),
      }),
    );
    expect(error.message).toBe(
      'VEEAM_PASSWORD_SECRET (environment): is not a valid Key Vault secret name (1-127 letters, digits and hyphens)',
    );
  });

  describe('secret cache', () => {
    it('serves cached secrets until invalidateSecretCache(), then reads the rotated password', async () => {
      vault = await startFakeKeyVault({ secrets: vaultSecrets() });
      const options = {
        env: { KEY_VAULT_URL: vault.url },
        credential: stubCredential(),
        cacheTtlMs: 3_600_000,
      };
      const password = async () => onlyAppliance(await loadConfig(options)).password;
      expect(await password()).toBe(`pw-${CANARY}`);
      const readsAfterFirstLoad = vault.requests.length;

      vault.setSecret('veeam-password', 'rotated-password');
      expect(await password()).toBe(`pw-${CANARY}`);
      // Only the absent secrets (policy, optional CA) are asked for again: absence is not cached.
      expect(secretsRead(vault).slice(readsAfterFirstLoad).sort()).toEqual([
        'cleanup-policy',
        'veeam-ca-cert',
      ]);

      invalidateSecretCache();
      expect(await password()).toBe('rotated-password');
    });

    it('reads again once the TTL has passed', async () => {
      vault = await startFakeKeyVault({ secrets: vaultSecrets() });
      const options = { env: { KEY_VAULT_URL: vault.url }, credential: stubCredential(), cacheTtlMs: 30 };
      await loadConfig(options);
      vault.setSecret('veeam-password', 'rotated-password');
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(onlyAppliance(await loadConfig(options)).password).toBe('rotated-password');
    });

    it('shares one read between parallel loads', async () => {
      vault = await startFakeKeyVault({ secrets: vaultSecrets() });
      const options = { env: { KEY_VAULT_URL: vault.url }, credential: stubCredential() };
      await Promise.all([loadConfig(options), loadConfig(options), loadConfig(options)]);
      expect(secretsRead(vault).filter((name) => name === 'veeam-password')).toHaveLength(1);
    });

    it('does not keep a missing secret, so adding it is seen on the next load', async () => {
      const secrets = vaultSecrets();
      delete secrets['veeam-username'];
      vault = await startFakeKeyVault({ secrets });
      const options = { env: { KEY_VAULT_URL: vault.url }, credential: stubCredential() };
      await configErrorOf(loadConfig(options));
      vault.setSecret('veeam-username', 'svc-added');
      expect(onlyAppliance(await loadConfig(options)).username).toBe('svc-added');
    });

    it('is keyed by vault, so another vault with the same secret names is read separately', async () => {
      vault = await startFakeKeyVault({ secrets: vaultSecrets() });
      const other = await startFakeKeyVault({
        secrets: { ...vaultSecrets(), 'veeam-username': 'svc-other' },
      });
      try {
        await loadConfig({ env: { KEY_VAULT_URL: vault.url }, credential: stubCredential() });
        const config = await loadConfig({ env: { KEY_VAULT_URL: other.url }, credential: stubCredential() });
        expect(onlyAppliance(config).username).toBe('svc-other');
      } finally {
        await other.close();
      }
    });
  });
});
