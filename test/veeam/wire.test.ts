import { VeeamError, VeeamProtocolError } from '../../shared/veeam/errors';
import {
  itemsForVm,
  lastEntries,
  LOG_ENTRIES_KEPT,
  parseSessionLog,
  vmStatus,
} from '../../shared/veeam/sessionLog';
import { jobSessionSchema, pageSchema, parseWire, restorePointSchema } from '../../shared/veeam/wire';
import { createVeeamClient } from '../../shared/veeam/client';
import { localAppliance, type LocalServer } from './localServer';

const CANARY = 'CANARY-BODY-TEXT-91ab';

describe('the wire layer', () => {
  it('reads v1 and v8.1 sessions alike: numeric ids as strings, nulls as absent, unknown fields dropped', () => {
    expect(
      parseWire(jobSessionSchema, { id: 8, status: 'Running', usn: 0, executionStopTime: null }, 'r'),
    ).toEqual({
      id: '8',
      status: 'Running',
      usn: 0,
    });
    const v81 = { id: 'a', status: 'Success', type: 'ManualSnapshotDeletion', retentionJobInfo: { n: 1 } };
    expect(parseWire(jobSessionSchema, v81, 'r')).toEqual({
      id: 'a',
      status: 'Success',
      type: 'ManualSnapshotDeletion',
    });
  });

  it('a malformed answer is one VeeamProtocolError naming the route and the field, never a value', () => {
    const page = pageSchema(restorePointSchema);
    const body = {
      totalCount: 2,
      results: [
        { id: 'p1', backupDestination: 'ManualSnapshot' },
        { id: 7, vmName: CANARY },
      ],
    };
    const error = (() => {
      try {
        parseWire(page, body, '/api/v8.1/restorePoints/virtualMachines');
      } catch (e) {
        return e as VeeamProtocolError;
      }
    })();
    expect(error).toBeInstanceOf(VeeamProtocolError);
    expect(error).toBeInstanceOf(VeeamError);
    expect(error?.route).toBe('/api/v8.1/restorePoints/virtualMachines');
    expect(error?.field).toBe('results[1].id');
    expect(error?.message).not.toContain(CANARY);
  });

  it('session logs: v1 (no resourceHashId), v8.1, null and empty bodies', () => {
    expect(parseSessionLog(undefined, 'r')).toEqual([]);
    expect(parseSessionLog({ jobSessionId: '1', log: null }, 'r')).toEqual([]);
    const v1 = parseSessionLog(
      { jobSessionId: '8', log: [{ logTime: 't', status: 'Success', message: 'm' }] },
      'r',
    );
    expect(lastEntries(v1)).toEqual([{ time: 't', status: 'Success', message: 'm' }]);
    expect(() => parseSessionLog({ log: [{ status: 5 }] }, 'r')).toThrow(VeeamProtocolError);
  });

  it(`keeps the last ${LOG_ENTRIES_KEPT} entries and derives each VM's status from its own items`, () => {
    const items = Array.from({ length: 30 }, (_, i) => ({
      logTime: String(i),
      status: i === 29 ? 'Warning' : 'Success',
      message: `m${i}`,
      resourceHashId: i % 2 === 0 ? 'vm-a' : 'vm-b',
    }));
    const kept = lastEntries(items);
    expect(kept).toHaveLength(LOG_ENTRIES_KEPT);
    expect(kept[0].time).toBe('10');
    expect(vmStatus(itemsForVm(items, 'vm-a'), 'Warning')).toBe('Success');
    expect(vmStatus(itemsForVm(items, 'vm-b'), 'Warning')).toBe('Warning');
    expect(vmStatus(itemsForVm(items, 'vm-c'), 'Error')).toBe('Error');
  });
});

describe('the client over HTTP', () => {
  let server: LocalServer;
  afterEach(() => server?.close());

  it('a session answer without a status fails as VeeamProtocolError with the route', async () => {
    server = await localAppliance((method, path) =>
      method === 'GET' && path === '/api/v1/jobSessions/s1'
        ? { status: 200, body: { id: 's1', note: CANARY } }
        : path.startsWith('/api/v1/virtualMachines')
          ? { status: 200, body: { results: [] } }
          : undefined,
    );
    const client = createVeeamClient({
      baseUrl: server.url,
      username: 'u',
      password: 'local-password',
      apiVersion: 'v1',
    });
    try {
      const error = await client.getSession('s1').catch((e) => e);
      expect(error).toBeInstanceOf(VeeamProtocolError);
      expect(error.message).toContain('/api/v1/jobSessions/{id}');
      expect(error.message).toContain('status');
      expect(error.message).not.toContain(CANARY);
    } finally {
      client.close();
    }
  });
});
