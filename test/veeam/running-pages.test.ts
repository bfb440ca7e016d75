import { PROFILES } from '../../shared/veeam/api';
import { createSessionReader } from '../../shared/veeam/sessionReader';
import type { JobSession, PollIntervalContext } from '../../shared/veeam/types';
import { clientFor, closeAll, simulator } from './helpers';

afterEach(closeAll);

const unused = () => Promise.reject(new Error('no request expected'));

describe('page slots', () => {
  const at = { now: 10_234 };
  const reader = (version: 'v1' | 'v8.1') =>
    createSessionReader({
      profile: PROFILES[version],
      getJson: unused,
      runningPageMinSessions: 4,
      slotMs: 500,
      now: () => at.now,
    });

  it('v8.1: a wait of at least four slots is stretched to end on a slot; a shorter one is left alone', () => {
    const r = reader('v8.1');
    expect(r.align(3_000)).toBe(13_500 - 10_234);
    expect((at.now + r.align(7_777)) % 500).toBe(0);
    expect(r.align(7_777)).toBeGreaterThanOrEqual(7_777);
    expect(r.align(7_777)).toBeLessThan(7_777 + 500);
    expect(r.align(1_999)).toBe(1_999);
    expect(r.align(50)).toBe(50);
  });

  it('v1 (no session list) and pages turned off: waits are never stretched', () => {
    expect(reader('v1').align(3_000)).toBe(3_000);
    const off = createSessionReader({
      profile: PROFILES['v8.1'],
      getJson: unused,
      runningPageMinSessions: 0,
    });
    expect(off.align(3_000)).toBe(3_000);
  });
});

describe('running pages', () => {
  it('v8.1: more sessions running than a page holds are answered page by page, not by single GETs', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `paged-${i}`);
    // Pages of 8: the 30 running sessions take four pages.
    const sim = await simulator({ vms: ids.map((id) => ({ id, sessionDurationMs: 4_000 })), maxPageSize: 8 });
    // Each poll due on the first 100 ms tick after the session's last poll (or its start), so every tick
    // is one burst of all the sessions still followed.
    const onTicks = {
      nextDelayMs: (c: PollIntervalContext) => {
        const now = Date.now();
        const lastAt = now - c.elapsedMs + (c.lastPollElapsedMs ?? 0);
        return Math.floor(lastAt / 100) * 100 + 100 - now;
      },
    };
    const client = clientFor(sim, { apiVersion: 'v8.1', maxInFlight: 4, poll: { policy: onTicks } });
    const submitted: JobSession[] = [];
    for (const id of ids) {
      const answer = await client.deleteSnapshots(id);
      if (answer.kind !== 'session') throw new Error('expected a session');
      submitted.push(answer.session);
    }
    const singlesBefore = sim.counters.requestsByRoute['v8.1.getSession'] ?? 0;
    const results = await Promise.all(submitted.map((s) => client.createSessionPoller(s).pollUntilDone()));
    expect(results.every((r) => r.status === 'Success')).toBe(true);
    const singles = (sim.counters.requestsByRoute['v8.1.getSession'] ?? 0) - singlesBefore;
    const polls = results.reduce((a, r) => a + r.polls, 0);
    // The first burst alone takes four pages; the running sessions on them cost no GET of their own.
    expect(sim.counters.requestsByRoute['v8.1.listSessions']).toBeGreaterThanOrEqual(4);
    expect(singles).toBeLessThanOrEqual(polls - ids.length);
    // Every session still needs one GET that sees it ended (it has left the running list).
    expect(singles).toBeGreaterThanOrEqual(ids.length);
  });
});
