import { setTimeout as realSleep } from 'node:timers/promises';
import { runCleanup } from '../../shared/cleanup/runCleanup';
import type { Report } from '../../shared/report';
import type { SimulatorHandle } from '../../dev/simulator';
import { createFakeClock } from '../support/fakeClock';
import { configFor, FAST_CLIENT, startAppliance, vms } from '../support/engine';

function expectEachOnce(report: Report, ids: string[]): void {
  expect(report.results.map((r) => r.vmId).sort()).toEqual([...ids].sort());
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('runCleanup across runs and at the edges', () => {
  let appliance: SimulatorHandle | undefined;
  afterEach(async () => {
    await appliance?.close();
    appliance = undefined;
  });

  it('a re-run while sessions still run follows them and sends no second delete', async () => {
    const fleet = vms(4, { sessionDurationMs: 1_500 });
    appliance = await startAppliance({ vms: fleet });
    const ids = fleet.map((vm) => vm.id);
    const config = await configFor(appliance, ids);
    const abort = new AbortController();
    let submitted = 0;
    const first = await runCleanup({
      config,
      trigger: 'cli',
      client: FAST_CLIENT,
      abortSignal: abort.signal,
      onProgress: (p) => {
        if (p.phase === 'submitted' && ++submitted === ids.length) setImmediate(() => abort.abort());
      },
    });
    expectEachOnce(first, ids);
    for (const r of first.results) {
      expect(r).toMatchObject({ outcome: 'TimedOut', attempts: 1 });
      expect(r.error).toMatch(/interrupted/);
      expect(r.error).not.toMatch(/wait ended/);
    }

    const second = await runCleanup({ config, trigger: 'cli', client: FAST_CLIENT });
    expectEachOnce(second, ids);
    for (const r of second.results) {
      const earlier = first.results.find((f) => f.vmId === r.vmId);
      expect(r).toMatchObject({ outcome: 'Succeeded', attempts: 0, sessionId: earlier?.sessionId });
      expect(r.note).toMatch(/already running/);
      expect(appliance.counters.deleteCallsByVm[r.vmId]).toBe(1);
    }
  });

  it('after the deadline it sends nothing: no final poll, no log read, and it returns within the allowance', async () => {
    const fleet = vms(20, { sessionDurationMs: 600_000 });
    appliance = await startAppliance({ vms: fleet });
    const ids = fleet.map((vm) => vm.id);
    const clock = createFakeClock(Date.now());
    const deadline = clock.now() + 20_000;
    let done = false;
    const running = runCleanup({
      config: await configFor(appliance, ids),
      trigger: 'timer',
      clock,
      deadline,
      submitMarginMs: 2_000,
      client: { ...FAST_CLIENT, requestTimeoutMs: 600_000 },
    }).finally(() => {
      done = true;
    });
    let atDeadline: Record<string, number> | undefined;
    while (!done) {
      await realSleep(2);
      if (clock.now() >= deadline && !atDeadline) atDeadline = { ...appliance.counters.requestsByRoute };
      await clock.advance(atDeadline ? 50 : 500);
      expect(clock.now()).toBeLessThanOrEqual(deadline + 2_000 + 500);
    }
    const report = await running;
    expectEachOnce(report, ids);
    for (const r of report.results) {
      expect(r.outcome).toBe('TimedOut');
      expect(r.sessionId).toBeTruthy();
      expect(r.log).toBeUndefined();
    }
    const after = { ...appliance.counters.requestsByRoute };
    for (const route of Object.keys(after)) {
      if (route === 'token.delete') continue;
      expect([route, after[route]]).toEqual([route, atDeadline?.[route] ?? 0]);
    }
    expect(after['v8.1.getSessionLog'] ?? 0).toBe(0);
  });

  it('a session lost to an appliance outage ends TimedOut with its session id, not Failed', async () => {
    const fleet = vms(2, { sessionDurationMs: 600_000 });
    appliance = await startAppliance({ vms: fleet });
    const ids = fleet.map((vm) => vm.id);
    const handle = appliance;
    let submitted = 0;
    let closing: Promise<void> | undefined;
    const report = await runCleanup({
      config: await configFor(appliance, ids),
      trigger: 'cli',
      client: FAST_CLIENT,
      onProgress: (p) => {
        if (p.phase === 'submitted' && ++submitted === ids.length) {
          setTimeout(() => (closing = handle.close()), 50);
        }
      },
    });
    await closing;
    appliance = undefined;
    expectEachOnce(report, ids);
    for (const r of report.results) {
      expect(r.outcome).toBe('TimedOut');
      expect(r.sessionId).toBeTruthy();
      expect(r.error).toMatch(/lost track of session .*result unknown/);
    }
  });

  it('refused connections mid-run count toward the breaker: the rest is Skipped, never Failed', async () => {
    const fleet = vms(12, { sessionDurationMs: 20 });
    appliance = await startAppliance({ vms: fleet });
    const ids = fleet.map((vm) => vm.id);
    const handle = appliance;
    let closing: Promise<void> | undefined;
    const report = await runCleanup({
      config: await configFor(appliance, ids, { CLEANUP_CONCURRENCY: '1' }),
      trigger: 'cli',
      client: FAST_CLIENT,
      onProgress: (p) => {
        if (p.phase === 'settled' && p.settled === 2 && !closing) closing = handle.close();
      },
    });
    await closing;
    appliance = undefined;
    expectEachOnce(report, ids);
    const skipped = report.results.filter((r) => r.outcome === 'Skipped');
    expect(skipped.length).toBeGreaterThan(5);
    for (const r of skipped) expect(r.skipReason).toBe('appliance unavailable');
    for (const r of report.results.filter((x) => x.outcome === 'Failed')) {
      expect(r.error).toMatch(/unknown whether/);
    }
  });

  it('CLEANUP_MAX_RUNNING_SESSIONS bounds the sessions kept running at once', async () => {
    const fleet = vms(8, { sessionDurationMs: 80 });
    appliance = await startAppliance({ vms: fleet });
    const ids = fleet.map((vm) => vm.id);
    let inFlight = 0;
    let peak = 0;
    const report = await runCleanup({
      config: {
        ...(await configFor(appliance, ids, { CLEANUP_CONCURRENCY: '8' })),
        maxRunningSessions: 2,
      },
      trigger: 'cli',
      client: FAST_CLIENT,
      onProgress: (p) => {
        inFlight += p.phase === 'submitted' ? 1 : -1;
        peak = Math.max(peak, inFlight);
      },
    });
    expectEachOnce(report, ids);
    expect(report.totals.succeeded).toBe(8);
    expect(peak).toBe(2);
    expect(total(appliance.counters.deleteCallsByVm)).toBe(8);
  });
});
