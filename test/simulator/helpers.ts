/** Small HTTP helpers for the simulator tests (global fetch over 127.0.0.1). */
import https from 'node:https';
import type { SimulatorHandle } from '../../dev/simulator';

export const USER = { username: 'veeam-admin', password: 'veeam-password' };

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body (undefined when empty or not JSON); `any` keeps the assertions short. */
  json: any;
}

export async function call(
  url: string,
  init: { method?: string; token?: string; body?: string; contentType?: string; signal?: AbortSignal } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body,
    signal: init.signal,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function tokenRequest(sim: SimulatorHandle, form: Record<string, string>): Promise<Reply> {
  return call(`${sim.url}/api/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams(form).toString(),
    contentType: 'application/x-www-form-urlencoded',
  });
}

export async function login(sim: SimulatorHandle): Promise<string> {
  const reply = await tokenRequest(sim, { grant_type: 'Password', ...USER });
  if (reply.status !== 200) throw new Error(`login failed with ${reply.status}`);
  return reply.json.access_token as string;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a session until it leaves Running (bounded, so a broken simulator fails the test). */
export async function waitForEnd(url: string, token: string, attempts = 100): Promise<Reply> {
  for (let i = 0; i < attempts; i++) {
    const reply = await call(url, { token });
    if (reply.json?.status !== 'Running') return reply;
    await sleep(10);
  }
  throw new Error('session still Running');
}

/** A self-signed certificate for 127.0.0.1, made fresh for the test run. */
export async function selfSignedCert(): Promise<{ cert: string; key: string }> {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private };
}

/** GET over https trusting only `ca`. */
export function httpsGet(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = https.get(url, { ca, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}
