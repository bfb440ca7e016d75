import { setTimeout as realSleep } from 'node:timers/promises';
import { runCleanup } from '../../shared/cleanup/runCleanup';
import { windDownAllowanceMs } from '../../shared/cleanup/types';
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
    const handle = appliance;
    // Interrupt once the appliance accepted every delete (and the answers had time to arrive).
    const watch = setInterval(() => {
      if (Object.keys(handle.counters.deleteCallsByVm).length === ids.length) {
        clearInterval(watch);
        setTimeout(() => abort.abort(), 100);
      }
    }, 5);
    const first = await runCleanup({
      config,
      trigger: 'cli',
      client: FAST_CLIENT,
      abortSignal: abort.signal,
    });
    clearInterval(watch);
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
    // Every request arms its timeout on the run's clock: a timer of REQUEST_TIMEOUT is a request starting.
    const REQUEST_TIMEOUT = 600_000;
    const requestStarts: number[] = [];
    const setTimer = clock.setTimer.bind(clock);
    clock.setTimer = (fn, ms) => {
      if (ms === REQUEST_TIMEOUT) requestStarts.push(clock.now());
      return setTimer(fn, ms);
    };
    const deadline = clock.now() + 20_000;
    // The stated wind-down allowance: 5 % of the 20 s window, at most 2 s.
    const bound = deadline + windDownAllowanceMs(20_000);
    let done = false;
    const running = runCleanup({
      config: await configFor(appliance, ids),
      trigger: 'timer',
      clock,
      deadline,
      submitMarginMs: 2_000,
      client: { ...FAST_CLIENT, requestTimeoutMs: REQUEST_TIMEOUT },
    }).finally(() => {
      done = true;
    });
    while (!done) {
      await realSleep(2);
      await clock.advance(clock.now() >= deadline ? 50 : 500);
      expect(clock.now()).toBeLessThanOrEqual(bound + 50);
    }
    const report = await running;
    expectEachOnce(report, ids);
    for (const r of report.results) {
      expect(r.outcome).toBe('TimedOut');
      expect(r.sessionId).toBeTruthy();
      expect(r.log).toBeUndefined();
    }
    expect(requestStarts.length).toBeGreaterThan(ids.length);
    // Polls already under way may still land and the logout goes out, but nothing starts after the bound.
    expect(requestStarts.filter((at) => at >= bound)).toEqual([]);
    expect(appliance.counters.requestsByRoute['v8.1.getSessionLog'] ?? 0).toBe(0);
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
    let submitted = 0;
    const report = await runCleanup({
      config: await configFor(appliance, ids, { CLEANUP_CONCURRENCY: '1' }),
      trigger: 'cli',
      client: FAST_CLIENT,
      onProgress: (p) => {
        // On the third accepted delete, not on a settlement: submissions outpace 20 ms sessions, so by the
        // second settlement most deletes could already be in.
        if (p.phase === 'submitted' && ++submitted === 3 && !closing) closing = handle.close();
      },
    });
    await closing;
    appliance = undefined;
    expectEachOnce(report, ids);
    const skipped = report.results.filter((r) => r.outcome === 'Skipped');
    expect(skipped.length).toBeGreaterThan(0);
    for (const r of report.results) {
      // Refused requests never reached the appliance: Skipped. Only a delete cut off in flight is Failed
      // (unknown whether it was accepted), and a session lost with the appliance is TimedOut.
      if (r.outcome === 'Skipped') expect(r.skipReason).toBe('appliance unavailable');
      else if (r.outcome === 'Failed') expect(r.error).toMatch(/unknown whether/);
      else if (r.outcome === 'TimedOut') expect(r.error).toMatch(/lost track of session/);
      else expect(r.outcome).toBe('Succeeded');
    }
  });

  it('CLEANUP_MAX_RUNNING_SESSIONS bounds the sessions kept running at once', async () => {
    const fleet = vms(8, { sessionDurationMs: 80 });
    appliance = await startAppliance({ vms: fleet });
    const ids = fleet.map((vm) => vm.id);
    let inFlight = 0;
    let peak = 0;
    const report = await runCleanup({
      config: await configFor(appliance, ids, {
        CLEANUP_CONCURRENCY: '8',
        CLEANUP_MAX_RUNNING_SESSIONS: '2',
      }),
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

  it('CLEANUP_CONCURRENCY bounds the deletes in flight: no further delete leaves before an answer', async () => {
    const fleet = vms(12, { sessionDurationMs: 40 });
    appliance = await startAppliance({ vms: fleet });
    // Deletes are processed at once but answered only after 10 s, so exactly the workers' deletes arrive.
    appliance.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'slow', delayMs: 10_000 });
    const ids = fleet.map((vm) => vm.id);
    const abort = new AbortController();
    const handle = appliance;
    let seenAtAbort = -1;
    const watch = setInterval(() => {
      if (total(handle.counters.deleteCallsByVm) >= 3) {
        clearInterval(watch);
        // Give a fourth delete every chance to leave before looking again.
        setTimeout(() => {
          seenAtAbort = total(handle.counters.deleteCallsByVm);
          abort.abort();
        }, 150);
      }
    }, 5);
    const report = await runCleanup({
      config: await configFor(appliance, ids, { CLEANUP_CONCURRENCY: '3' }),
      trigger: 'cli',
      client: FAST_CLIENT,
      abortSignal: abort.signal,
    });
    clearInterval(watch);
    expect(seenAtAbort).toBe(3);
    expectEachOnce(report, ids);
    expect(report.results.filter((r) => r.outcome === 'Failed')).toHaveLength(3);
    expect(report.results.filter((r) => r.outcome === 'Skipped').map((r) => r.skipReason)).toEqual(
      Array(9).fill('aborted'),
    );
  });
});
