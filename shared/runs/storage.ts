// Type-only at the top: the storage SDKs and @azure/identity are loaded on first use, so runs without
// storage (the CLI, the demo, most tests) and the functions' cold start don't pay for them.
import type { TokenCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import type { TableClient } from '@azure/data-tables';
import { ConfigError } from '../errors';
import { isLoopbackHost } from '../veeam/url';

/** The Functions host's own storage setting; identity-based variants are `AzureWebJobsStorage__<property>`. */
export const STORAGE_SETTING = 'AzureWebJobsStorage';
/** The CLI flag that stands in for the setting. */
export const STORAGE_FLAG = '--storage';

export const CONTAINER_NAME = 'snapshot-cleanup';
export const TABLE_NAME = 'SnapshotCleanupRuns';
export const QUEUE_NAME = 'snapshot-cleanup-runs';

/** Azurite's well-known development account (public, documented; the same for every Azurite). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const DEV_PORTS = { blob: 10000, queue: 10001, table: 10002 };

const SERVICES = ['blob', 'queue', 'table'] as const;
type Service = (typeof SERVICES)[number];

/** Bounds the start-up calls, so an unreachable account fails the run within seconds. */
const STORAGE_TIMEOUT_MS = 20_000;
const BLOB_QUEUE_RETRY = {
  maxTries: 3,
  retryDelayInMs: 200,
  maxRetryDelayInMs: 2_000,
  tryTimeoutInMs: 15_000,
};
const TABLE_RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 };
const IDENTITY_RETRY = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 };
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const SAFE_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);

/** The identity-based properties this app understands (the Functions host's names). */
const IDENTITY_PROPERTIES = [
  'blobServiceUri',
  'queueServiceUri',
  'tableServiceUri',
  'accountName',
  'credential',
  'clientId',
] as const;
type IdentityProperty = (typeof IDENTITY_PROPERTIES)[number];

type Auth =
  | { kind: 'sharedKey'; accountName: string; accountKey: string }
  | { kind: 'sas'; token: string }
  | { kind: 'managedIdentity'; clientId?: string }
  | { kind: 'defaultCredential'; clientId?: string };

/** The secret-bearing half of each StorageSettings, kept out of the object itself. */
const AUTH = new WeakMap<StorageSettings, Auth>();

/**
 * Where the run store lives and how to authenticate. The account key or SAS token, when there is one, is
 * not a property of this object: it never shows up in JSON, util.inspect or a log of it.
 */
export class StorageSettings {
  constructor(
    readonly endpoints: Readonly<Record<Service, string>>,
    /** What errors about each service name: AzureWebJobsStorage, AzureWebJobsStorage__<property> or --storage. */
    readonly settings: Readonly<Record<Service, string>>,
    auth: Auth,
  ) {
    AUTH.set(this, auth);
  }

  get authKind(): Auth['kind'] {
    return authOf(this).kind;
  }

  /** The user-assigned identity's client id (identity-based settings only). */
  get clientId(): string | undefined {
    const auth = authOf(this);
    return 'clientId' in auth ? auth.clientId : undefined;
  }
}

function authOf(settings: StorageSettings): Auth {
  const auth = AUTH.get(settings);
  if (!auth) throw new TypeError('StorageSettings must come from resolveStorageSettings');
  return auth;
}

function sameSetting(setting: string): Record<Service, string> {
  return { blob: setting, queue: setting, table: setting };
}

export interface ResolveStorageOptions {
  /** Usually process.env. */
  env: Readonly<Record<string, string | undefined>>;
  /** The CLI's `--storage <connection string>`; takes precedence over the environment. */
  connectionString?: string;
}

/**
 * Resolves the run store's settings the way the Functions host does: the connection string
 * `AzureWebJobsStorage` (`UseDevelopmentStorage=true` for Azurite), or identity-based
 * `AzureWebJobsStorage__blobServiceUri` / `__queueServiceUri` / `__tableServiceUri` (or `__accountName`) with
 * `__credential=managedidentity` and `__clientId`. Undefined when nothing is configured. Throws a ConfigError
 * naming the setting at fault (never its value) for anything half-valid.
 */
export function resolveStorageSettings(options: ResolveStorageOptions): StorageSettings | undefined {
  if (options.connectionString !== undefined) {
    return parseConnectionString(options.connectionString, STORAGE_FLAG);
  }
  const { env } = options;
  const identityKeys = Object.keys(env).filter(
    (key) => key.startsWith(`${STORAGE_SETTING}__`) && (env[key] ?? '').trim() !== '',
  );
  const connectionString = env[STORAGE_SETTING]?.trim();
  if (connectionString) {
    if (identityKeys.length > 0) {
      throw new ConfigError(
        STORAGE_SETTING,
        `is set together with ${identityKeys[0]}; set either the connection string or the identity-based settings`,
      );
    }
    return parseConnectionString(connectionString, STORAGE_SETTING);
  }
  if (identityKeys.length === 0) return undefined;
  return parseIdentitySettings(env, identityKeys);
}

function identitySetting(property: IdentityProperty): string {
  return `${STORAGE_SETTING}__${property}`;
}

function parseIdentitySettings(
  env: Readonly<Record<string, string | undefined>>,
  keys: string[],
): StorageSettings {
  for (const key of keys) {
    const property = key.slice(STORAGE_SETTING.length + 2);
    if (!(IDENTITY_PROPERTIES as readonly string[]).includes(property)) {
      throw new ConfigError(
        key,
        `is not supported (use ${IDENTITY_PROPERTIES.map((p) => `__${p}`).join(', ')})`,
      );
    }
  }
  const read = (property: IdentityProperty) => env[identitySetting(property)]?.trim() || undefined;
  const accountName = read('accountName');
  if (accountName !== undefined && !ACCOUNT_NAME.test(accountName)) {
    throw new ConfigError(
      identitySetting('accountName'),
      'must be a storage account name (3-24 lowercase letters and digits)',
    );
  }
  const endpoints = {} as Record<Service, string>;
  const names = {} as Record<Service, string>;
  for (const service of SERVICES) {
    const property = `${service}ServiceUri` as const;
    const raw = read(property);
    if (raw !== undefined) {
      endpoints[service] = parseEndpoint(raw, identitySetting(property));
      names[service] = identitySetting(property);
    } else if (accountName !== undefined) {
      endpoints[service] = `https://${accountName}.${service}.core.windows.net`;
      names[service] = identitySetting('accountName');
    } else {
      throw new ConfigError(
        identitySetting(property),
        `is required with identity-based storage settings (or set ${identitySetting('accountName')})`,
      );
    }
  }
  const clientId = read('clientId');
  if (clientId !== undefined && !GUID.test(clientId)) {
    throw new ConfigError(identitySetting('clientId'), "must be the managed identity's client id (a GUID)");
  }
  const credential = read('credential');
  if (credential !== undefined && credential.toLowerCase() !== 'managedidentity') {
    throw new ConfigError(identitySetting('credential'), 'must be managedidentity (or left unset)');
  }
  // Like the host: an explicit managed identity, or the default chain (developer logins locally).
  const auth: Auth = credential
    ? { kind: 'managedIdentity', clientId }
    : { kind: 'defaultCredential', clientId };
  return new StorageSettings(endpoints, names, auth);
}

const CONNECTION_KEYS = new Map(
  [
    'DefaultEndpointsProtocol',
    'AccountName',
    'AccountKey',
    'SharedAccessSignature',
    'EndpointSuffix',
    'BlobEndpoint',
    'QueueEndpoint',
    'TableEndpoint',
    'FileEndpoint',
    'UseDevelopmentStorage',
  ].map((key) => [key.toLowerCase(), key]),
);

/** Parses an Azure Storage connection string. Errors name `setting` and the key, never a value. */
function parseConnectionString(raw: string, setting: string): StorageSettings {
  const parts = new Map<string, string>();
  for (const segment of raw.split(';')) {
    if (segment.trim() === '') continue;
    const eq = segment.indexOf('=');
    const key = eq > 0 ? CONNECTION_KEYS.get(segment.slice(0, eq).trim().toLowerCase()) : undefined;
    if (key === undefined) {
      throw new ConfigError(
        setting,
        'is not a storage connection string (expected Key=Value pairs separated by ;)',
      );
    }
    if (parts.has(key)) throw new ConfigError(setting, `has ${key} more than once`);
    parts.set(key, segment.slice(eq + 1).trim());
  }
  if (parts.size === 0) throw new ConfigError(setting, 'is empty');

  if (parts.has('UseDevelopmentStorage')) {
    if (parts.get('UseDevelopmentStorage')?.toLowerCase() !== 'true' || parts.size > 1) {
      throw new ConfigError(
        setting,
        'supports UseDevelopmentStorage only as exactly UseDevelopmentStorage=true',
      );
    }
    const endpoints = Object.fromEntries(
      SERVICES.map((s) => [s, `http://127.0.0.1:${DEV_PORTS[s]}/${DEV_ACCOUNT}`]),
    ) as Record<Service, string>;
    return new StorageSettings(endpoints, sameSetting(setting), {
      kind: 'sharedKey',
      accountName: DEV_ACCOUNT,
      accountKey: DEV_KEY,
    });
  }

  const accountName = parts.get('AccountName');
  const protocol = parts.get('DefaultEndpointsProtocol')?.toLowerCase();
  if (protocol !== undefined && protocol !== 'https' && protocol !== 'http') {
    throw new ConfigError(setting, 'has a DefaultEndpointsProtocol other than https or http');
  }
  const suffix = parts.get('EndpointSuffix') ?? 'core.windows.net';
  const endpoints = {} as Record<Service, string>;
  for (const service of SERVICES) {
    const key = `${service[0].toUpperCase()}${service.slice(1)}Endpoint`;
    const explicit = parts.get(key);
    if (explicit !== undefined) {
      endpoints[service] = parseEndpoint(explicit, setting, key);
    } else if (accountName !== undefined) {
      endpoints[service] = parseEndpoint(
        `${protocol ?? 'https'}://${accountName}.${service}.${suffix}`,
        setting,
        key,
      );
    } else {
      throw new ConfigError(setting, `has no ${key} (and no AccountName to derive it from)`);
    }
  }

  const accountKey = parts.get('AccountKey');
  const sas = parts.get('SharedAccessSignature');
  if (accountKey !== undefined && sas !== undefined) {
    throw new ConfigError(setting, 'has both AccountKey and SharedAccessSignature; keep one');
  }
  if (accountKey !== undefined) {
    if (!accountName) throw new ConfigError(setting, 'has an AccountKey but no AccountName');
    if (accountKey === '') throw new ConfigError(setting, 'has an empty AccountKey');
    return new StorageSettings(endpoints, sameSetting(setting), {
      kind: 'sharedKey',
      accountName,
      accountKey,
    });
  }
  if (sas)
    return new StorageSettings(endpoints, sameSetting(setting), {
      kind: 'sas',
      token: sas.replace(/^\?/, ''),
    });
  throw new ConfigError(
    setting,
    'has neither AccountKey nor SharedAccessSignature (use identity-based AzureWebJobsStorage__* settings instead of a keyless connection string)',
  );
}

/** A service endpoint: https://, or http:// for loopback (Azurite) only; no credentials, query or fragment. */
function parseEndpoint(raw: string, setting: string, key?: string): string {
  const what = key ? `has a ${key} that` : 'is a URL that';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      setting,
      key ? `has a ${key} that is not an absolute URL` : 'is not an absolute URL',
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(
      setting,
      `${what} has credentials, a query or a fragment; give the bare service URL`,
    );
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigError(setting, `${what} must use https:// (plain http:// only for loopback hosts)`);
  }
  return url.href.replace(/\/+$/, '');
}

/** The three clients the run store uses; the container, table and queue exist. */
export interface RunStorage {
  /** The setting errors about each client should name. */
  settings: Readonly<Record<Service, string>>;
  container: ContainerClient;
  table: TableClient;
  queue: QueueClient;
}

/**
 * A storage failure before or during a run: unreachable, denied, throttled. It is a ConfigError, so every
 * entry point maps it to "nothing attempted"; its message names the setting and never echoes a value.
 */
export class StorageUnavailableError extends ConfigError {}

/** The credential identity-based settings use (for shared key and SAS, none). */
export function createStorageCredential(settings: StorageSettings): TokenCredential | undefined {
  const auth = authOf(settings);
  if (auth.kind !== 'managedIdentity' && auth.kind !== 'defaultCredential') return undefined;
  const identity = require('@azure/identity') as typeof import('@azure/identity');
  if (auth.kind === 'managedIdentity') {
    return auth.clientId
      ? new identity.ManagedIdentityCredential({ clientId: auth.clientId, retryOptions: IDENTITY_RETRY })
      : new identity.ManagedIdentityCredential({ retryOptions: IDENTITY_RETRY });
  }
  try {
    return new identity.DefaultAzureCredential({
      managedIdentityClientId: auth.clientId,
      retryOptions: IDENTITY_RETRY,
    });
  } catch {
    // The only constructor failure is an AZURE_TOKEN_CREDENTIALS value the library does not know.
    throw new ConfigError('AZURE_TOKEN_CREDENTIALS', 'is not a credential name @azure/identity accepts');
  }
}

/**
 * Builds the blob container, table and queue clients and creates `snapshot-cleanup`, `SnapshotCleanupRuns`
 * and `snapshot-cleanup-runs` when missing. Throws StorageUnavailableError naming the setting when the
 * account cannot be reached or refuses access.
 */
export async function createRunStorage(settings: StorageSettings): Promise<RunStorage> {
  const blob = require('@azure/storage-blob') as typeof import('@azure/storage-blob');
  const queues = require('@azure/storage-queue') as typeof import('@azure/storage-queue');
  const tables = require('@azure/data-tables') as typeof import('@azure/data-tables');
  const auth = authOf(settings);
  const { endpoints } = settings;
  const storageOptions = { retryOptions: BLOB_QUEUE_RETRY };
  // Azurite on loopback (parseEndpoint allowed http:// for nothing else).
  const tableOptions = {
    retryOptions: TABLE_RETRY,
    allowInsecureConnection: endpoints.table.startsWith('http:'),
  };

  let container: ContainerClient;
  let queue: QueueClient;
  let table: TableClient;
  if (auth.kind === 'sharedKey') {
    const blobKey = new blob.StorageSharedKeyCredential(auth.accountName, auth.accountKey);
    const queueKey = new queues.StorageSharedKeyCredential(auth.accountName, auth.accountKey);
    const tableKey = new tables.AzureNamedKeyCredential(auth.accountName, auth.accountKey);
    container = new blob.BlobServiceClient(endpoints.blob, blobKey, storageOptions).getContainerClient(
      CONTAINER_NAME,
    );
    queue = new queues.QueueServiceClient(endpoints.queue, queueKey, storageOptions).getQueueClient(
      QUEUE_NAME,
    );
    table = new tables.TableClient(endpoints.table, TABLE_NAME, tableKey, tableOptions);
  } else if (auth.kind === 'sas') {
    const query = `?${auth.token}`;
    container = new blob.BlobServiceClient(
      `${endpoints.blob}${query}`,
      undefined,
      storageOptions,
    ).getContainerClient(CONTAINER_NAME);
    queue = new queues.QueueServiceClient(
      `${endpoints.queue}${query}`,
      undefined,
      storageOptions,
    ).getQueueClient(QUEUE_NAME);
    table = new tables.TableClient(
      endpoints.table,
      TABLE_NAME,
      new tables.AzureSASCredential(auth.token),
      tableOptions,
    );
  } else {
    const credential = createStorageCredential(settings) as TokenCredential;
    container = new blob.BlobServiceClient(endpoints.blob, credential, storageOptions).getContainerClient(
      CONTAINER_NAME,
    );
    queue = new queues.QueueServiceClient(endpoints.queue, credential, storageOptions).getQueueClient(
      QUEUE_NAME,
    );
    table = new tables.TableClient(endpoints.table, TABLE_NAME, credential, tableOptions);
  }

  const abortSignal = AbortSignal.timeout(STORAGE_TIMEOUT_MS);
  const ensure = (service: Service, create: Promise<unknown>) =>
    create.catch((error: unknown) => {
      throw describeStorageError(error, settings.settings[service], settings.clientId);
    });
  await Promise.all([
    ensure('blob', container.createIfNotExists({ abortSignal })),
    ensure('queue', queue.createIfNotExists({ abortSignal })),
    ensure('table', table.createTable({ abortSignal })),
  ]);
  return { settings: settings.settings, container, table, queue };
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
}

/**
 * Maps a storage SDK failure to a StorageUnavailableError naming `setting`; only the HTTP status and an
 * identifier-shaped error code are kept, never the SDK's message (it can quote the request URL).
 */
export function describeStorageError(
  error: unknown,
  setting: string,
  clientId?: string,
): StorageUnavailableError {
  const e = (error ?? {}) as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code = typeof e.code === 'string' && SAFE_CODE.test(e.code) ? ` (${e.code})` : '';
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new StorageUnavailableError(setting, `could not be reached within ${STORAGE_TIMEOUT_MS / 1000} s`);
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    const identity = clientId
      ? `the user-assigned managed identity named by ${identitySetting('clientId')}`
      : "the Function App's managed identity";
    return new StorageUnavailableError(setting, `could not get an access token for storage from ${identity}`);
  }
  if (typeof e.statusCode !== 'number' || e.statusCode === 0) {
    return new StorageUnavailableError(setting, `could not be reached${code}`);
  }
  switch (e.statusCode) {
    case 401:
    case 403:
      return new StorageUnavailableError(
        setting,
        `denied access (${e.statusCode}${code}): grant the Function App's identity Storage Blob Data Owner, ` +
          'Storage Queue Data Contributor and Storage Table Data Contributor on the account',
      );
    default:
      return new StorageUnavailableError(setting, `answered HTTP ${e.statusCode}${code}`);
  }
}
