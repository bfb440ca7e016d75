import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

/** One App Insights envelope as the exporter sends it. */
export interface Envelope {
  name: string;
  iKey?: string;
  time?: string;
  tags?: Record<string, string>;
  data: { baseType: string; baseData: Record<string, any> };
}

export interface FakeIngestion {
  /** https://127.0.0.1:<port>/ — use as IngestionEndpoint. */
  url: string;
  /** The self-signed certificate, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  caPem: string;
  /** Every envelope received on POST /v2.1/track, in arrival order. */
  envelopes: Envelope[];
  /** Raw (decompressed) request bodies, for "this string never left the process" assertions. */
  bodies: string[];
  /** Requests seen, whatever the path, with their Authorization header (Entra ID bearer token, if any). */
  requests: Array<{ method: string; path: string; authorization?: string }>;
  close(): Promise<void>;
}

export interface FakeIngestionOptions {
  /** 'accept' answers like Breeze; 'hang' accepts the request and never answers. Default: 'accept'. */
  mode?: 'accept' | 'hang';
}

/** An App Insights ingestion endpoint on 127.0.0.1 over HTTPS with a certificate generated here. */
export async function startFakeIngestion(options: FakeIngestionOptions = {}): Promise<FakeIngestion> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-ingestion-'));
  const keyFile = path.join(dir, 'key.pem');
  const caFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      caFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const caPem = fs.readFileSync(caFile, 'utf8');
  const envelopes: Envelope[] = [];
  const bodies: string[] = [];
  const requests: FakeIngestion['requests'] = [];

  const server = https.createServer({ key: fs.readFileSync(keyFile), cert: caPem }, (req, res) => {
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
    });
    if (options.mode === 'hang') return;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || !(req.url ?? '').startsWith('/v2.1/track')) {
        res.writeHead(404).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const body = (req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8');
      bodies.push(body);
      const received = parseEnvelopes(body);
      envelopes.push(...received);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ itemsReceived: received.length, itemsAccepted: received.length, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}/`,
    caFile,
    caPem,
    envelopes,
    bodies,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON array of envelopes, or NDJSON (one envelope per line), as Microsoft's own fake accepts. */
function parseEnvelopes(body: string): Envelope[] {
  const trimmed = body.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as Envelope[];
  return trimmed
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Envelope);
}
