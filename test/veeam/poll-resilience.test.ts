import { VeeamApiError } from '../../shared/veeam/errors';
import { MAX_CONSECUTIVE_POLL_FAILURES } from '../../shared/veeam/session';
import { clientFor, closeAll, simulator } from './helpers';

afterEach(closeAll);

const noRetry = { retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 5, maxRetryTimeMs: 100 } };

describe('session polling through appliance blips', () => {
  it('keeps following a session when a few polls in a row fail', async () => {
    const sim = await simulator({ vms: [{ id: 'vm-1', sessionDurationMs: 150 }] });
    const client = clientFor(sim, noRetry);
    await client.connect();
    const submission = await client.deleteSnapshots('vm-1');
    if (submission.kind !== 'session') throw new Error('expected a session');
    sim.addFault({
      route: 'v8.1.getSession',
      kind: 'status',
      status: 503,
      times: MAX_CONSECUTIVE_POLL_FAILURES - 1,
    });

    const result = await client.createSessionPoller(submission.session).pollUntilDone();

    expect(result.status).toBe('Success');
    expect(sim.counters.requestsByRoute['v8.1.getSession']).toBeGreaterThan(
      MAX_CONSECUTIVE_POLL_FAILURES - 1,
    );
  });

  it('gives up on a session once the appliance keeps failing', async () => {
    const sim = await simulator({ vms: [{ id: 'vm-1', sessionDurationMs: 60_000 }] });
    const client = clientFor(sim, noRetry);
    await client.connect();
    const submission = await client.deleteSnapshots('vm-1');
    if (submission.kind !== 'session') throw new Error('expected a session');
    sim.addFault({ route: 'v8.1.getSession', kind: 'status', status: 503 });

    await expect(client.createSessionPoller(submission.session).pollUntilDone()).rejects.toBeInstanceOf(
      VeeamApiError,
    );
    expect(sim.counters.requestsByRoute['v8.1.getSession']).toBe(MAX_CONSECUTIVE_POLL_FAILURES);
  });

  it('does not keep polling a session the appliance says does not exist', async () => {
    const sim = await simulator({ vms: [{ id: 'vm-1' }] });
    const client = clientFor(sim, noRetry);
    await client.connect();
    const poller = client.createSessionPoller({
      id: '00000000-0000-0000-0000-000000000001',
      status: 'Running',
    });
    await expect(poller.pollUntilDone()).rejects.toMatchObject({ status: 404 });
    expect(sim.counters.requestsByRoute['v8.1.getSession']).toBe(1);
  });
});
