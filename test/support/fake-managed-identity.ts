import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface FakeManagedIdentityOptions {
  /** The access token handed out for every resource. */
  token: string;
}

export interface FakeManagedIdentityRequest {
  method: string;
  /** Query `resource`, e.g. https://vault.azure.net. */
  resource: string | null;
  /** Query `api-version` (2019-08-01 from @azure/identity 4.13 / msal-node 5). */
  apiVersion: string | null;
  /** Query `client_id`: the user-assigned identity asked for, null for the system-assigned one. */
  clientId: string | null;
  /** Whether X-IDENTITY-HEADER matched `header`. */
  headerOk: boolean;
}

export interface FakeManagedIdentity {
  /** Value for IDENTITY_ENDPOINT. */
  url: string;
  /** Value for IDENTITY_HEADER (the secret the endpoint checks). */
  header: string;
  requests: FakeManagedIdentityRequest[];
  close(): Promise<void>;
}

const TOKEN_LIFETIME_SECONDS = 3600;

/**
 * The App Service / Functions managed-identity endpoint that @azure/identity's ManagedIdentityCredential
 * (through msal-node's AppService source) calls when IDENTITY_ENDPOINT and IDENTITY_HEADER are set:
 * `GET <endpoint>?api-version=2019-08-01&resource=<resource>[&client_id=<id>]` with header X-IDENTITY-HEADER,
 * answered with `{ access_token, expires_on, resource, token_type }`. A wrong or missing header gets 400.
 */
export async function startFakeManagedIdentity(
  options: FakeManagedIdentityOptions,
): Promise<FakeManagedIdentity> {
  const header = randomUUID();
  const requests: FakeManagedIdentityRequest[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: FakeManagedIdentityRequest = {
      method: req.method ?? '',
      resource: url.searchParams.get('resource'),
      apiVersion: url.searchParams.get('api-version'),
      clientId: url.searchParams.get('client_id'),
      headerOk: req.headers['x-identity-header'] === header,
    };
    requests.push(record);
    req.resume();
    res.setHeader('content-type', 'application/json');
    if (!record.headerOk || !record.resource) {
      res.writeHead(400);
      res.end(
        JSON.stringify({
          error: 'invalid_request',
          error_description: 'missing identity header or resource',
        }),
      );
      return;
    }
    res.writeHead(200);
    res.end(
      JSON.stringify({
        access_token: options.token,
        expires_on: String(Math.floor(Date.now() / 1000) + TOKEN_LIFETIME_SECONDS),
        resource: record.resource,
        token_type: 'Bearer',
        client_id: record.clientId ?? randomUUID(),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`,
    header,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
