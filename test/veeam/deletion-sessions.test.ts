import { clientFor, closeAll, simulator } from './helpers';
import { SESSION_CLOCK_SKEW_MS } from '../../shared/veeam/deleteGuard';

afterEach(closeAll);

describe('the run listing of deletion sessions (v8.1)', () => {
  it('knows running and recent sessions and names the VM of each running one', async () => {
    const sim = await simulator({
      vms: [{ id: 'busy', sessionDurationMs: 60_000 }, { id: 'done', sessionDurationMs: 1 }, { id: 'idle' }],
    });
    const earlier = clientFor(sim, { apiVersion: 'v8.1' });
    const running = await earlier.deleteSnapshots('busy');
    const finished = await earlier.deleteSnapshots('done');
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const listing = await client.listDeletionSessions({ sinceMs: Date.now() - SESSION_CLOCK_SKEW_MS });
    expect(running.kind === 'session' && finished.kind === 'session').toBe(true);
    if (running.kind !== 'session' || finished.kind !== 'session') return;
    expect([...listing!.knownIds].sort()).toEqual([running.session.id, finished.session.id].sort());
    expect(listing!.runningFor('busy')?.id).toBe(running.session.id);
    expect(listing!.runningFor('done')).toBeUndefined();
    expect(listing!.runningFor('idle')).toBeUndefined();
    // Paged listings plus one log read for the one running session; nothing per idle VM.
    expect(sim.counters.requestsByRoute['v8.1.getSessionLog']).toBe(1);
    expect(client.requestCounts.list).toBe(3);
  });

  it('resolves to undefined on v1, which has no such listing', async () => {
    const sim = await simulator({ vms: [{ id: 'v1vm' }] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    await expect(client.listDeletionSessions({ sinceMs: Date.now() })).resolves.toBeUndefined();
  });
});

describe('the delete guard never adopts a session it must not', () => {
  it("an earlier run's session for the same VM, seconds old, is not taken for this run's delete", async () => {
    const sim = await simulator({ vms: [{ id: 'rerun', sessionDurationMs: 60_000 }] });
    const earlierRun = clientFor(sim, { apiVersion: 'v8.1' });
    const first = await earlierRun.deleteSnapshots('rerun');
    expect(first.kind).toBe('session');

    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const listing = await client.listDeletionSessions({ sinceMs: Date.now() - SESSION_CLOCK_SKEW_MS });
    // The delete is lost before the appliance acts on it: the guard looks, must not take the earlier
    // session (the old rule did: it started within the look-back), and resends once.
    sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'drop', phase: 'before', times: 1 });
    const submission = await client.deleteSnapshots('rerun', { knownSessionIds: listing!.knownIds });

    expect(submission).toMatchObject({ kind: 'session', attempts: 2 });
    if (first.kind !== 'session' || submission.kind !== 'session') return;
    expect(submission.session.id).not.toBe(first.session.id);
    expect(listing!.knownIds.has(submission.session.id)).toBe(false);
    expect(sim.counters.deleteCallsByVm.rerun).toBe(2);
  });

  it('a session this client created for one delete is not adopted for another', async () => {
    const sim = await simulator({ vms: [{ id: 'twice', sessionDurationMs: 60_000 }] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const first = await client.deleteSnapshots('twice');
    sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'drop', phase: 'before', times: 1 });
    const second = await client.deleteSnapshots('twice');
    expect(second).toMatchObject({ kind: 'session', attempts: 2 });
    if (first.kind !== 'session' || second.kind !== 'session') return;
    expect(second.session.id).not.toBe(first.session.id);
  });

  it('the session the lost request did start is adopted, and is the reported one', async () => {
    const sim = await simulator({ vms: [{ id: 'late', sessionDurationMs: 60_000 }, { id: 'other' }] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const listing = await client.listDeletionSessions({ sinceMs: Date.now() - SESSION_CLOCK_SKEW_MS });
    sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'drop', phase: 'after', times: 1 });
    const submission = await client.deleteSnapshots('late', { knownSessionIds: listing!.knownIds });
    expect(submission.kind).toBe('session');
    if (submission.kind !== 'session') return;
    expect(sim.sessions().find((s) => s.id === submission.session.id)?.vmIds).toEqual(['late']);
    expect(sim.counters.deleteCallsByVm.late).toBe(1);
  });
});
