import net from 'node:net';
import util from 'node:util';
import { ConfigError } from '../../shared/errors';
import {
  CONTAINER_NAME,
  QUEUE_NAME,
  StorageUnavailableError,
  TABLE_NAME,
  createRunStorage,
  createStorageCredential,
  resolveStorageSettings,
  type StorageSettings,
} from '../../shared/runs/storage';
import { azuriteAccount } from '../support/azurite';
import { startFakeManagedIdentity } from '../support/fake-managed-identity';

const CANARY = 'storage-canary-5b1e';
const CANARY_KEY = Buffer.from(`key-${CANARY}`).toString('base64');
const CLIENT_ID = '6c0e8f5e-1b7a-4d3c-9e2f-0a1b2c3d4e5f';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const resolve = (env: Record<string, string>) => resolveStorageSettings({ env });

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

describe('resolveStorageSettings', () => {
  it('is undefined when nothing (or an empty AzureWebJobsStorage) is configured', () => {
    expect(resolve({})).toBeUndefined();
    expect(resolve({ AzureWebJobsStorage: '  ', AzureWebJobsStorage__clientId: '' })).toBeUndefined();
  });

  it('maps UseDevelopmentStorage=true to the Azurite defaults', () => {
    const settings = resolve({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }) as StorageSettings;
    expect(settings.endpoints).toEqual({
      blob: 'http://127.0.0.1:10000/devstoreaccount1',
      queue: 'http://127.0.0.1:10001/devstoreaccount1',
      table: 'http://127.0.0.1:10002/devstoreaccount1',
    });
    expect(settings.authKind).toBe('sharedKey');
    expect(settings.settings).toEqual({
      blob: 'AzureWebJobsStorage',
      queue: 'AzureWebJobsStorage',
      table: 'AzureWebJobsStorage',
    });
  });

  it('reads explicit endpoints, or derives them from the account name and suffix', () => {
    const explicit = resolve({
      AzureWebJobsStorage: `AccountName=acct;AccountKey=${CANARY_KEY};BlobEndpoint=http://127.0.0.1:1/acct;QueueEndpoint=http://localhost:2/acct;TableEndpoint=http://127.0.0.1:3/acct;`,
    });
    expect(explicit?.endpoints).toEqual({
      blob: 'http://127.0.0.1:1/acct',
      queue: 'http://localhost:2/acct',
      table: 'http://127.0.0.1:3/acct',
    });
    const derived = resolve({
      AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${CANARY_KEY};EndpointSuffix=core.chinacloudapi.cn`,
    });
    expect(derived?.endpoints.table).toBe('https://acct.table.core.chinacloudapi.cn');
    const sas = resolve({
      AzureWebJobsStorage: `BlobEndpoint=https://a.blob.core.windows.net;QueueEndpoint=https://a.queue.core.windows.net;TableEndpoint=https://a.table.core.windows.net;SharedAccessSignature=sv=2025&sig=${CANARY}`,
    });
    expect(sas?.authKind).toBe('sas');
  });

  it('never shows the account key when the settings object is logged or serialised', () => {
    const settings = resolve({ AzureWebJobsStorage: `AccountName=acct;AccountKey=${CANARY_KEY}` });
    const shown = `${JSON.stringify(settings)} ${util.inspect(settings, { depth: 10, showHidden: true })}`;
    expect(shown).toContain('acct.blob.core.windows.net');
    expect(shown).not.toContain(CANARY_KEY);
  });

  it.each([
    ['not key=value pairs', `garbage-${CANARY}`, /not a storage connection string/],
    ['an unknown key', `AccountName=a;Secret=${CANARY}`, /not a storage connection string/],
    ['no key or SAS', 'AccountName=acct', /neither AccountKey nor SharedAccessSignature/],
    [
      'both key and SAS',
      `AccountName=acct;AccountKey=${CANARY_KEY};SharedAccessSignature=sig=${CANARY}`,
      /both/,
    ],
    [
      'plain http to a remote host',
      `DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=${CANARY_KEY}`,
      /https/,
    ],
    [
      'an endpoint with a query',
      `AccountName=a;AccountKey=${CANARY_KEY};TableEndpoint=https://x/?sig=${CANARY}`,
      /query/,
    ],
    [
      'a bad protocol',
      `DefaultEndpointsProtocol=ftp;AccountName=acct;AccountKey=${CANARY_KEY}`,
      /DefaultEndpointsProtocol/,
    ],
    ['UseDevelopmentStorage with more', `UseDevelopmentStorage=true;AccountKey=${CANARY_KEY}`, /exactly/],
  ])('refuses a connection string with %s, naming the setting and never the value', (_, value, problem) => {
    const error = configError(() => resolve({ AzureWebJobsStorage: value }));
    expect(error.setting).toBe('AzureWebJobsStorage');
    expect(error.message).toMatch(problem);
    expect(error.message).not.toContain(CANARY);
    expect(error.message).not.toContain(CANARY_KEY);
  });

  it('takes --storage over the environment and names the flag in its errors', () => {
    const settings = resolveStorageSettings({
      env: { AzureWebJobsStorage: `garbage-${CANARY}` },
      connectionString: 'UseDevelopmentStorage=true',
    });
    expect(settings?.settings.blob).toBe('--storage');
    const error = configError(() => resolveStorageSettings({ env: {}, connectionString: `x-${CANARY}` }));
    expect(error.setting).toBe('--storage');
    expect(error.message).not.toContain(CANARY);
  });

  it('refuses a connection string together with identity-based settings', () => {
    const error = configError(() =>
      resolve({
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        AzureWebJobsStorage__blobServiceUri: 'https://a.blob.core.windows.net',
      }),
    );
    expect(error.setting).toBe('AzureWebJobsStorage');
    expect(error.message).toContain('AzureWebJobsStorage__blobServiceUri');
  });

  describe('identity-based', () => {
    const uris = {
      AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net/',
      AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
      AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.windows.net',
    };

    it('reads the three service URIs, the managed identity and its client id', () => {
      const settings = resolve({
        ...uris,
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: CLIENT_ID,
      }) as StorageSettings;
      expect(settings.endpoints).toEqual({
        blob: 'https://acct.blob.core.windows.net',
        queue: 'https://acct.queue.core.windows.net',
        table: 'https://acct.table.core.windows.net',
      });
      expect(settings.authKind).toBe('managedIdentity');
      expect(settings.clientId).toBe(CLIENT_ID);
      expect(settings.settings.queue).toBe('AzureWebJobsStorage__queueServiceUri');
      expect(resolve(uris)?.authKind).toBe('defaultCredential');
    });

    it('derives the URIs from __accountName', () => {
      const settings = resolve({
        AzureWebJobsStorage__accountName: 'acct',
        AzureWebJobsStorage__credential: 'ManagedIdentity',
      });
      expect(settings?.endpoints.queue).toBe('https://acct.queue.core.windows.net');
      expect(settings?.settings.table).toBe('AzureWebJobsStorage__accountName');
    });

    it.each([
      [
        { ...uris, AzureWebJobsStorage__queueServiceUri: '' },
        'AzureWebJobsStorage__queueServiceUri',
        /required/,
      ],
      [
        { ...uris, AzureWebJobsStorage__credential: `x${CANARY}` },
        'AzureWebJobsStorage__credential',
        /managedidentity/,
      ],
      [{ ...uris, AzureWebJobsStorage__clientId: CANARY }, 'AzureWebJobsStorage__clientId', /GUID/],
      [
        { ...uris, AzureWebJobsStorage__serviceUri: CANARY },
        'AzureWebJobsStorage__serviceUri',
        /not supported/,
      ],
      [
        { ...uris, AzureWebJobsStorage__blobServiceUri: `http://${CANARY}.example` },
        'AzureWebJobsStorage__blobServiceUri',
        /https/,
      ],
      [
        { AzureWebJobsStorage__accountName: `Bad_${CANARY}` },
        'AzureWebJobsStorage__accountName',
        /account name/,
      ],
    ])('refuses %o naming %s', (env, setting, problem) => {
      const error = configError(() => resolve(env));
      expect(error.setting).toBe(setting);
      expect(error.message).toMatch(problem);
      expect(error.message).not.toContain(CANARY);
    });

    it('gets its token from the managed identity endpoint, for the configured client id', async () => {
      const msi = await startFakeManagedIdentity({ token: `token-${CANARY}` });
      const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
      process.env.IDENTITY_ENDPOINT = msi.url;
      process.env.IDENTITY_HEADER = msi.header;
      try {
        const settings = resolve({
          ...uris,
          AzureWebJobsStorage__credential: 'managedidentity',
          AzureWebJobsStorage__clientId: CLIENT_ID,
        }) as StorageSettings;
        const token = await createStorageCredential(settings)?.getToken('https://storage.azure.com/.default');
        expect(token?.token).toBe(`token-${CANARY}`);
        expect(msi.requests).toEqual([
          expect.objectContaining({
            resource: 'https://storage.azure.com',
            clientId: CLIENT_ID,
            headerOk: true,
          }),
        ]);
      } finally {
        process.env.IDENTITY_ENDPOINT = saved.endpoint;
        process.env.IDENTITY_HEADER = saved.header;
        if (saved.endpoint === undefined) delete process.env.IDENTITY_ENDPOINT;
        if (saved.header === undefined) delete process.env.IDENTITY_HEADER;
        await msi.close();
      }
    });

    it('has no credential for connection strings', () => {
      expect(
        createStorageCredential(
          resolve({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }) as StorageSettings,
        ),
      ).toBeUndefined();
    });
  });
});

describe('createRunStorage', () => {
  it('creates the container, table and queue on a real Azurite, and again without error', async () => {
    const settings = resolveStorageSettings({ env: { AzureWebJobsStorage: await azuriteAccount() } });
    const storage = await createRunStorage(settings as StorageSettings);
    await createRunStorage(settings as StorageSettings);
    expect(storage.container.containerName).toBe(CONTAINER_NAME);
    expect(await storage.container.exists()).toBe(true);
    expect(await storage.queue.exists()).toBe(true);
    expect(storage.queue.name).toBe(QUEUE_NAME);
    expect(storage.table.tableName).toBe(TABLE_NAME);
    // The table answers queries only when it exists.
    await expect(storage.table.listEntities().next()).resolves.toEqual({ done: true, value: undefined });
    // Azurite may still be starting on a busy machine.
  }, 120_000);

  it('fails with StorageUnavailableError naming the setting when storage is unreachable', async () => {
    const port = await closedPort();
    const value = `DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=${CANARY_KEY};BlobEndpoint=http://127.0.0.1:${port}/acct;QueueEndpoint=http://127.0.0.1:${port}/acct;TableEndpoint=http://127.0.0.1:${port}/acct`;
    const settings = resolveStorageSettings({ env: { AzureWebJobsStorage: value } }) as StorageSettings;
    const error = await createRunStorage(settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('AzureWebJobsStorage');
    expect((error as Error).message).toMatch(/^AzureWebJobsStorage: could not be reached/);
    expect((error as Error).message).not.toContain(CANARY_KEY);
    expect((error as Error).message).not.toContain(String(port));
  });

  it('names the failing service URI setting for identity-based settings', async () => {
    const msi = await startFakeManagedIdentity({ token: `token-${CANARY}` });
    const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = msi.url;
    process.env.IDENTITY_HEADER = msi.header;
    try {
      const port = await closedPort();
      const settings = resolve({
        AzureWebJobsStorage__blobServiceUri: `https://127.0.0.1:${port}/acct`,
        AzureWebJobsStorage__queueServiceUri: `https://127.0.0.1:${port}/acct`,
        AzureWebJobsStorage__tableServiceUri: `https://127.0.0.1:${port}/acct`,
        AzureWebJobsStorage__credential: 'managedidentity',
        // msal-node caches managed identities process-wide: the same identity as the test above.
        AzureWebJobsStorage__clientId: CLIENT_ID,
      }) as StorageSettings;
      const error = (await createRunStorage(settings).catch((e: unknown) => e)) as ConfigError;
      expect(error).toBeInstanceOf(StorageUnavailableError);
      expect(error.setting).toMatch(/^AzureWebJobsStorage__(blob|queue|table)ServiceUri$/);
      expect(error.message).toContain('could not be reached');
      expect(error.message).not.toContain(CANARY);
    } finally {
      process.env.IDENTITY_ENDPOINT = saved.endpoint;
      process.env.IDENTITY_HEADER = saved.header;
      if (saved.endpoint === undefined) delete process.env.IDENTITY_ENDPOINT;
      if (saved.header === undefined) delete process.env.IDENTITY_HEADER;
      await msi.close();
    }
  });
});
