import type * as ConfigModule from '../../shared/config';
import { startFakeKeyVault, type FakeKeyVault } from '../support/fake-key-vault';
import { startFakeManagedIdentity, type FakeManagedIdentity } from '../support/fake-managed-identity';
import { configErrorOf, visibleText, VM_A } from './helpers';

const CANARY = 'msi-canary-8d20aa';
const MSI_TOKEN = `msi-token-${CANARY}`;
const USER_ASSIGNED_CLIENT_ID = '6c0e8f5e-1b7a-4d3c-9e2f-0a1b2c3d4e5f';
/** Variables that steer @azure/identity; saved, cleared for each test and restored afterwards. */
const IDENTITY_VARIABLES = [
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_TOKEN_CREDENTIALS',
  'MSI_ENDPOINT',
  'MSI_SECRET',
];

/**
 * msal-node keeps managed-identity tokens in a process-wide static cache, bound to the first identity used,
 * so each test loads the config module (and with it @azure/identity and msal-node) in a fresh module registry.
 */
function freshConfigModule(): typeof ConfigModule {
  // A fresh registry, not isolateModules: the config module loads @azure/identity lazily, at first use.
  jest.resetModules();
  return require('../../shared/config') as typeof ConfigModule;
}

describe('loadConfig from Key Vault with DefaultAzureCredential and the App Service managed identity', () => {
  const saved = Object.fromEntries(IDENTITY_VARIABLES.map((name) => [name, process.env[name]]));
  let msi: FakeManagedIdentity;
  let vault: FakeKeyVault;
  let config: typeof ConfigModule;

  beforeEach(async () => {
    config = freshConfigModule();
    for (const name of IDENTITY_VARIABLES) delete process.env[name];
    msi = await startFakeManagedIdentity({ token: MSI_TOKEN });
    vault = await startFakeKeyVault({
      secrets: {
        'veeam-url': 'https://veeam.contoso.example',
        'veeam-username': 'svc-cleanup',
        'veeam-password': `pw-${CANARY}`,
        'veeam-vm-ids': VM_A,
      },
      requireToken: MSI_TOKEN,
    });
    process.env.IDENTITY_ENDPOINT = msi.url;
    process.env.IDENTITY_HEADER = msi.header;
  });

  afterEach(async () => {
    for (const name of IDENTITY_VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await Promise.all([msi.close(), vault.close()]);
  });

  it('gets the vault token from the system-assigned identity', async () => {
    const loaded = await config.loadConfig({ env: { KEY_VAULT_URL: vault.url } });
    expect(loaded).toMatchObject({ appliances: [{ password: `pw-${CANARY}` }], source: 'keyVault' });
    expect(msi.requests.length).toBeGreaterThan(0);
    expect(msi.requests[0]).toEqual({
      method: 'GET',
      resource: 'https://vault.azure.net',
      apiVersion: '2019-08-01',
      clientId: null,
      headerOk: true,
    });
    // The five single-appliance secrets and the (absent) cleanup-policy secret.
    expect(vault.requests.filter((r) => r.authorized).length).toBe(6);
  });

  it('asks for the user-assigned identity that AZURE_CLIENT_ID names', async () => {
    const loaded = await config.loadConfig({
      env: { KEY_VAULT_URL: vault.url, AZURE_CLIENT_ID: USER_ASSIGNED_CLIENT_ID },
    });
    expect(loaded.appliances[0].username).toBe('svc-cleanup');
    expect(msi.requests.map((r) => r.clientId)).toContain(USER_ASSIGNED_CLIENT_ID);
    expect(msi.requests.every((r) => r.clientId === USER_ASSIGNED_CLIENT_ID)).toBe(true);
  });

  it('fails with a clear ConfigError when the managed identity gives no token', async () => {
    // A wrong identity header makes the endpoint refuse; restricting the chain to the managed identity keeps
    // DefaultAzureCredential from going on to the developer tools (az, pwsh, azd).
    process.env.IDENTITY_HEADER = `wrong-${CANARY}`;
    process.env.AZURE_TOKEN_CREDENTIALS = 'ManagedIdentityCredential';
    const error = await configErrorOf(
      config.loadConfig({ env: { KEY_VAULT_URL: vault.url } }),
      config.ConfigError,
    );
    expect(error.setting).toBe('KEY_VAULT_URL');
    expect(error.problem).toContain('could not get an access token for the vault');
    expect(visibleText(error)).not.toContain(CANARY);
    expect(msi.requests.length).toBeGreaterThan(0);
    expect(vault.requests.every((r) => !r.authorized)).toBe(true);
  });

  it('names AZURE_TOKEN_CREDENTIALS when @azure/identity does not accept its value', async () => {
    process.env.AZURE_TOKEN_CREDENTIALS = `NoSuchCredential${CANARY}`;
    const error = await configErrorOf(
      config.loadConfig({ env: { KEY_VAULT_URL: vault.url } }),
      config.ConfigError,
    );
    expect(error.message).toBe('AZURE_TOKEN_CREDENTIALS: is not a credential name @azure/identity accepts');
  });
});
