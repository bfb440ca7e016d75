// Type-only at the top: the Azure SDK is loaded on first use, so runs configured from the environment (the
// CLI, the demo, the benchmark, most tests) and the functions' cold start don't pay for it.
import type { TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { ConfigError } from '../errors';
import { isLoopbackHost } from '../veeam/url';

/** Everything that names the vault itself (reachability, access, identity) is reported against this setting. */
export const VAULT_SETTING = 'KEY_VAULT_URL';

/** Bounds every secret read, token included, so an unreachable vault fails the run within seconds. */
const VAULT_TIMEOUT_MS = 10_000;
const RETRY_OPTIONS = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 };
const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);
/** Error codes (ECONNREFUSED, SecretNotFound, …) are identifiers; anything else is left out of messages. */
const SAFE_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Reads one secret: its value, or undefined when the vault has no such secret (404 SecretNotFound). */
export type SecretReader = (secretName: string) => Promise<string | undefined>;

/**
 * The default credential: the managed identity in Azure (the user-assigned one AZURE_CLIENT_ID names, if set),
 * developer logins elsewhere. Its managed-identity retries are bounded like the vault's.
 */
export function createDefaultCredential(clientId: string | undefined): TokenCredential {
  const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
  try {
    return new DefaultAzureCredential({ managedIdentityClientId: clientId, retryOptions: RETRY_OPTIONS });
  } catch {
    // The only constructor failure is an AZURE_TOKEN_CREDENTIALS value the library does not know.
    throw new ConfigError('AZURE_TOKEN_CREDENTIALS', 'is not a credential name @azure/identity accepts');
  }
}

/** A reader for the vault at `vaultUrl` (already validated by parseApplianceUrl) using `credential`. */
export function createSecretReader(
  vaultUrl: URL,
  credential: TokenCredential,
  clientId?: string,
): SecretReader {
  const loopback = isLoopbackHost(vaultUrl.hostname);
  const options: SecretClientOptions = {
    retryOptions: RETRY_OPTIONS,
    // Tests run a fake vault on 127.0.0.1: plain http and a host that is not *.vault.azure.net. Never allowed
    // for a real vault (parseApplianceUrl already refused http:// for any other host).
    allowInsecureConnection: loopback && vaultUrl.protocol === 'http:',
    disableChallengeResourceVerification: loopback,
  };
  const { SecretClient } = require('@azure/keyvault-secrets') as typeof import('@azure/keyvault-secrets');
  const client = new SecretClient(vaultUrl.href, credential, options);
  return async (secretName) => {
    try {
      const secret = await client.getSecret(secretName, {
        abortSignal: AbortSignal.timeout(VAULT_TIMEOUT_MS),
      });
      return secret.value ?? '';
    } catch (error) {
      if (isSecretNotFound(error)) return undefined;
      throw describeVaultError(error, clientId);
    }
  };
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
}

function isSecretNotFound(error: unknown): boolean {
  const e = error as ErrorLike;
  return e?.statusCode === 404 && e.code === 'SecretNotFound';
}

/** Maps a SecretClient failure to a ConfigError naming KEY_VAULT_URL (or the identity); never the error text. */
function describeVaultError(error: unknown, clientId: string | undefined): ConfigError {
  const e = (error ?? {}) as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const code = typeof e.code === 'string' && SAFE_CODE.test(e.code) ? ` (${e.code})` : '';
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new ConfigError(VAULT_SETTING, `could not be reached within ${VAULT_TIMEOUT_MS / 1000} s`);
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    const identity = clientId
      ? 'the user-assigned managed identity named by AZURE_CLIENT_ID (check that it is assigned to the Function App)'
      : "a managed identity (enable the Function App's identity, or set AZURE_CLIENT_ID to a user-assigned one)";
    return new ConfigError(
      VAULT_SETTING,
      `could not get an access token for the vault: no token from ${identity}`,
    );
  }
  if (e.statusCode === undefined) {
    return new ConfigError(
      VAULT_SETTING,
      name === 'RestError' ? `could not be reached${code}` : `could not be read (unexpected ${name})`,
    );
  }
  switch (e.statusCode) {
    case 401:
    case 403:
      return new ConfigError(
        VAULT_SETTING,
        `denied access (${e.statusCode}): grant the Function App's identity the Key Vault Secrets User role ` +
          'on this vault, and allow it through the vault firewall',
      );
    case 429:
      return new ConfigError(VAULT_SETTING, 'is throttling requests (429); try again later');
    default:
      return new ConfigError(VAULT_SETTING, `answered HTTP ${String(e.statusCode)}${code}`);
  }
}
