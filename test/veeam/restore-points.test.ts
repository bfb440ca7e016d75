import { AmbiguousDeleteError, VeeamApiVersionError } from '../../shared/veeam/errors';
import { createVeeamClient } from '../../shared/veeam/client';
import { clientFor, closeAll, simulator } from './helpers';
import { localAppliance, type LocalReply, type LocalServer } from './localServer';

afterEach(closeAll);

describe('listRestorePoints (v8.1)', () => {
  it('pages 100 at a time and returns every destination, parsed', async () => {
    const sim = await simulator({ vms: [{ id: 'rp', manualSnapshots: 150, policySnapshots: 60 }] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const points = await client.listRestorePoints('rp');
    expect(points).toHaveLength(210);
    expect(new Set(points.map((p) => p.id)).size).toBe(210);
    expect(points.filter((p) => p.backupDestination === 'ManualSnapshot')).toHaveLength(150);
    expect(points[0]).toMatchObject({ id: expect.any(String), pointInTime: expect.any(String) });
    expect(sim.counters.requestsByRoute['v8.1.restorePoints']).toBe(3);
    expect(client.requestCounts.list).toBe(3);
  });

  it('is refused on v1', async () => {
    const sim = await simulator({ vms: [{ id: 'rp1' }] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    await expect(client.listRestorePoints('rp1')).rejects.toBeInstanceOf(VeeamApiVersionError);
  });
});

// The simulator has no per-point DELETE route yet: a loopback appliance answers it here.
describe('deleteRestorePoint (v8.1)', () => {
  let server: LocalServer;
  afterEach(() => server.close());

  const session = { id: 's-point', type: 'ManualSnapshotDeletion', status: 'Running' };
  const connect = async (answer: (path: string) => { status: number; body?: unknown } | undefined) => {
    server = await localAppliance((method, path) =>
      path === '/api/v8.1/system/about'
        ? { status: 200, body: {} }
        : method === 'DELETE'
          ? answer(path)
          : undefined,
    );
    return createVeeamClient({
      baseUrl: server.url,
      username: 'u',
      password: 'local-password',
      retry: { baseDelayMs: 1 },
    });
  };

  it('202: the session to follow', async () => {
    const client = await connect(() => ({ status: 202, body: session }));
    try {
      await expect(client.deleteRestorePoint('vm', 'p-1')).resolves.toEqual({
        kind: 'session',
        session,
        attempts: 1,
      });
      expect(server.requests).toContain('DELETE /api/v8.1/restorePoints/virtualMachines/p-1');
      expect(client.requestCounts.delete).toBe(1);
    } finally {
      client.close();
    }
  });

  it('404: gone; 423: locked with the message, sent once', async () => {
    const client = await connect((path) =>
      path.endsWith('/gone')
        ? { status: 404, body: { title: 'Not Found' } }
        : { status: 423, body: { title: 'Locked', detail: 'The restore point is immutable.' } },
    );
    try {
      await expect(client.deleteRestorePoint('vm', 'gone')).resolves.toEqual({ kind: 'gone', attempts: 1 });
      await expect(client.deleteRestorePoint('vm', 'locked')).resolves.toEqual({
        kind: 'locked',
        attempts: 1,
        message: 'The restore point is immutable.',
      });
      expect(server.requests.filter((r) => r.startsWith('DELETE'))).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  /** An appliance that lists no deletion session and answers each DELETE with `onDelete`. */
  async function withoutSessions(onDelete: () => LocalReply, requestTimeoutMs?: number) {
    server = await localAppliance((method, path) => {
      if (path === '/api/v8.1/system/about') return { status: 200, body: {} };
      if (method === 'DELETE') return onDelete();
      if (path.startsWith('/api/v8.1/jobSessions?'))
        return { status: 200, body: { totalCount: 0, results: [] } };
      return undefined;
    });
    return createVeeamClient({
      baseUrl: server.url,
      username: 'u',
      password: 'local-password',
      deleteCheckSettleMs: 1,
      ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    });
  }

  it('an ambiguous 502 looks for the session before any resend', async () => {
    let deletes = 0;
    const client = await withoutSessions(() =>
      deletes++ === 0 ? { status: 502 } : { status: 202, body: session },
    );
    try {
      await expect(client.deleteRestorePoint('vm-7', 'p-2')).resolves.toMatchObject({
        kind: 'session',
        attempts: 2,
      });
      const order = server.requests.filter((r) => r.startsWith('DELETE') || r.includes('jobSessions'));
      expect(order.map((r) => r.split('?')[0])).toEqual([
        'DELETE /api/v8.1/restorePoints/virtualMachines/p-2',
        'GET /api/v8.1/jobSessions',
        'GET /api/v8.1/jobSessions',
        'DELETE /api/v8.1/restorePoints/virtualMachines/p-2',
      ]);
      expect(order[1]).toContain('ResourceId=vm-7');
    } finally {
      client.close();
    }
  });

  it.each([
    ['times out here', { status: 202, body: session, delayMs: 400 }],
    ['times out at a gateway (504)', { status: 504 }],
  ])(
    'a delete that %s may still be queued at the appliance: it looks, then ends ambiguous, never resent',
    async (_label, reply) => {
      let deletes = 0;
      const client = await withoutSessions(() => {
        deletes++;
        return reply;
      }, 100);
      try {
        const error = await client.deleteRestorePoint('vm-7', 'p-3').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AmbiguousDeleteError);
        expect((error as Error).message).toBe('unknown whether the delete was accepted');
        expect(deletes).toBe(1);
        const looks = server.requests.filter((r) => r.startsWith('GET /api/v8.1/jobSessions?'));
        expect(looks).toHaveLength(2);
      } finally {
        client.close();
      }
    },
  );
});
