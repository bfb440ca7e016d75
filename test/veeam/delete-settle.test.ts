import { clientFor, closeAll, PASSWORD, recordingClock, simulator, until, USERNAME } from './helpers';

afterEach(closeAll);

/** What a delete request that was still queued on the appliance does once it is processed: start a session. */
async function deleteDirectly(url: string, vmId: string): Promise<string> {
  const token = await fetch(`${url}/api/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'Password', username: USERNAME, password: PASSWORD }),
  }).then((r) => r.json() as Promise<{ access_token: string }>);
  const session = await fetch(`${url}/api/v8.1/protectedItem/virtualMachines/${vmId}/deleteManualSnapshots`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.access_token}` },
  }).then((r) => r.json() as Promise<{ id: string }>);
  return session.id;
}

describe('ambiguous delete on v8.1: the session of a request processed late', () => {
  it('is found on the second look after the settle time, and the delete is not sent again', async () => {
    const sim = await simulator({ vms: [{ id: 'vm-late', sessionDurationMs: 50 }] });
    const clock = recordingClock();
    const client = clientFor(sim, { deleteCheckSettleMs: 600, clock, requestTimeoutMs: 600_000 });
    await client.connect();
    // The connection drops before the appliance answers; the request is processed a little later,
    // while the guard waits out its settle time after a first look that found nothing.
    sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'drop', phase: 'before', times: 1 });
    const submitting = client.deleteSnapshots('vm-late');
    await until(() => clock.sleeps.includes(600), 'the settle wait');
    const lateSessionId = await deleteDirectly(sim.url, 'vm-late');
    await clock.advance(600);

    const submission = await submitting;

    expect(submission).toMatchObject({ kind: 'session', session: { id: lateSessionId } });
    expect(sim.counters.deleteCallsByVm['vm-late']).toBe(1);
    expect(sim.counters.requestsByRoute['v8.1.listSessions']).toBe(2);
  });
});
