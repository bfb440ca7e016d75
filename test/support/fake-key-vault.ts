import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeKeyVaultOptions {
  /** Initial secrets, name → value (each gets one version). */
  secrets: Record<string, string>;
  /**
   * Require a bearer token: a string accepts only that token, true accepts any. Requests without an accepted
   * token get the Key Vault challenge (401 + WWW-Authenticate). Default: no auth, every request is answered.
   */
  requireToken?: string | true;
  /** Answer every authorized request with 403 Forbidden (identity lacks the role). Default false. */
  forbidden?: boolean;
}

export interface FakeKeyVaultRequest {
  /** Path without the query, e.g. /secrets/veeam-password/. */
  path: string;
  /** Whether the request carried a bearer token the fake accepted (any bearer token when none is required). */
  authorized: boolean;
  /** The status the fake answered with (401 for a challenge). */
  status: number;
}

export interface FakeKeyVault {
  /** Base URL, http://127.0.0.1:<port>. */
  url: string;
  /** Adds a new version of `name` (the latest is what a versionless GET returns). */
  setSecret(name: string, value: string): void;
  /** Removes `name` and all its versions. */
  deleteSecret(name: string): void;
  /** Every request received, in order. */
  requests: FakeKeyVaultRequest[];
  close(): Promise<void>;
}

export const FAKE_TENANT_ID = '00000000-0000-0000-0000-00000000cafe';
const CHALLENGE =
  `Bearer authorization="https://login.microsoftonline.com/${FAKE_TENANT_ID}", ` +
  'resource="https://vault.azure.net"';

interface SecretVersion {
  version: string;
  value: string;
  createdSeconds: number;
}

/**
 * A Key Vault data-plane fake over node:http on 127.0.0.1, good enough for the real SecretClient (with
 * allowInsecureConnection and disableChallengeResourceVerification): the bearer challenge flow,
 * `GET /secrets/{name}/{version?}?api-version=…`, 404 SecretNotFound and 403 Forbidden bodies.
 */
export async function startFakeKeyVault(options: FakeKeyVaultOptions): Promise<FakeKeyVault> {
  const store = new Map<string, SecretVersion[]>();
  let versionCounter = 0;
  const setSecret = (name: string, value: string) => {
    versionCounter += 1;
    const version = versionCounter.toString(16).padStart(32, '0');
    store.set(name, [
      ...(store.get(name) ?? []),
      { version, value, createdSeconds: Math.floor(Date.now() / 1000) },
    ]);
  };
  for (const [name, value] of Object.entries(options.secrets)) setSecret(name, value);

  const requests: FakeKeyVaultRequest[] = [];
  let base = '';

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const authorized =
      bearer !== undefined &&
      (options.requireToken === undefined ||
        options.requireToken === true ||
        bearer === options.requireToken);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      requests.push({ path: url.pathname, authorized, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, code: string, message: string, headers?: Record<string, string>) =>
      send(status, { error: { code, message } }, headers);

    req.resume();
    if (options.requireToken !== undefined && !authorized) {
      fail(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', {
        'www-authenticate': CHALLENGE,
      });
      return;
    }
    if (options.forbidden) {
      fail(403, 'Forbidden', 'Caller is not authorized to perform action on resource.');
      return;
    }
    if (!url.searchParams.get('api-version')) {
      fail(400, 'BadParameter', 'The api-version query parameter is required.');
      return;
    }
    const match = /^\/secrets\/([0-9A-Za-z-]+)\/?([0-9a-f]*)\/?$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) {
      fail(404, 'NotFound', 'The requested route does not exist on this fake.');
      return;
    }
    const [, name, version] = match;
    const versions = store.get(name) ?? [];
    const found = version ? versions.find((v) => v.version === version) : versions[versions.length - 1];
    if (!found) {
      fail(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault.`);
      return;
    }
    send(200, {
      value: found.value,
      id: `${base}/secrets/${name}/${found.version}`,
      attributes: {
        enabled: true,
        created: found.createdSeconds,
        updated: found.createdSeconds,
        recoveryLevel: 'Recoverable+Purgeable',
      },
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    setSecret,
    deleteSecret: (name) => void store.delete(name),
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
