import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError } from '../../shared/errors';
import {
  LEASE_BLOB,
  LeaseHeldError,
  LeaseLostError,
  acquireRunLease,
  parseLeaseDuration,
  type RunLease,
} from '../../shared/runs/lease';
import {
  StorageUnavailableError,
  createRunStorage,
  resolveStorageSettings,
  type RunStorage,
  type StorageSettings,
} from '../../shared/runs/storage';
import { systemClock } from '../../shared/clock';
import {
  azuriteAccount,
  endpointOf,
  startCountingProxy,
  throughProxy,
  type CountingProxy,
} from '../support/azurite';
import { createFakeClock, type FakeClock } from '../support/fakeClock';

const REPO = path.resolve(__dirname, '../..');
const HOLDER = path.join(__dirname, 'child/lease-holder.ts');
const PRELOAD = ['test/support/ts-register.js', 'test/support/network-guard.js'].map((f) =>
  path.join(REPO, f),
);

const storageFor = (connectionString: string) =>
  createRunStorage(
    resolveStorageSettings({ env: { AzureWebJobsStorage: connectionString } }) as StorageSettings,
  );

/** Polls real time until `condition` holds (for work that runs over real HTTP after a fake-clock tick). */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  for (let i = 0; i < timeoutMs / 50; i++) {
    if (condition()) return;
    await delay(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('parseLeaseDuration', () => {
  it('defaults to 60 s and accepts 15-60 whole seconds, plain or ISO-8601', () => {
    expect(parseLeaseDuration(undefined)).toBe(60);
    expect(parseLeaseDuration(' ')).toBe(60);
    expect(parseLeaseDuration('15')).toBe(15);
    expect(parseLeaseDuration('PT30S')).toBe(30);
    expect(parseLeaseDuration('PT1M')).toBe(60);
  });

  it.each(['14', '61', '15.5', 'PT2M', 'soon', '-1', '0'])(
    'refuses %s naming CLEANUP_LEASE_DURATION',
    (value) => {
      expect(() => parseLeaseDuration(value)).toThrow(ConfigError);
      try {
        parseLeaseDuration(value);
      } catch (error) {
        expect((error as ConfigError).setting).toBe('CLEANUP_LEASE_DURATION');
        expect((error as Error).message).not.toContain(value);
      }
    },
  );
});

describe('acquireRunLease on Azurite', () => {
  let connectionString: string;
  let proxy: CountingProxy;
  let storage: RunStorage;
  let clock: FakeClock;
  const leases: RunLease[] = [];

  beforeAll(async () => {
    connectionString = await azuriteAccount();
    proxy = await startCountingProxy(endpointOf(connectionString, 'Blob'));
    storage = await storageFor(throughProxy(connectionString, 'Blob', proxy.url));
    // Azurite may still be starting on a busy machine.
  }, 120_000);
  beforeEach(() => {
    clock = createFakeClock();
    proxy.requests.length = 0;
    proxy.down = false;
  });
  afterEach(async () => {
    proxy.down = false;
    await Promise.all(leases.splice(0).map((lease) => lease.release()));
    // Frees a lease a test left held on purpose (released while storage was down, or a child's).
    await blob()
      .getBlobLeaseClient()
      .breakLease(0)
      .catch(() => undefined);
  });
  afterAll(() => proxy.close());

  const acquire = async (runId: string, options: { clock?: FakeClock } = {}) => {
    const lease = await acquireRunLease({
      container: storage.container,
      setting: storage.settings.blob,
      runId,
      clock: options.clock ?? clock,
      durationSeconds: 15,
    });
    leases.push(lease);
    return lease;
  };
  const leaseActions = () =>
    proxy.requests
      .map((r) => r.headers['x-ms-lease-action'])
      .filter((a): a is string => typeof a === 'string');
  const blob = () => storage.container.getBlockBlobClient(LEASE_BLOB);

  it('creates the lock blob, writes the holder runId and renews every third of the duration', async () => {
    await blob().deleteIfExists();
    const lease = await acquire('run-a');
    const properties = await blob().getProperties();
    expect(properties.leaseState).toBe('leased');
    expect(properties.leaseDuration).toBe('fixed');
    expect(properties.metadata).toEqual({ runid: 'run-a' });
    expect(leaseActions()).toEqual(['acquire', 'acquire']);

    await clock.advance(4_999);
    expect(leaseActions().filter((a) => a === 'renew')).toHaveLength(0);
    await clock.advance(1);
    await waitFor(() => clock.active() === 1, 'the next renewal to be armed');
    await clock.advance(5_000);
    await waitFor(
      () => leaseActions().filter((a) => a === 'renew').length === 2 && clock.active() === 1,
      'renewals',
    );
    expect(lease.signal.aborted).toBe(false);
  });

  it('refuses a second acquirer with LeaseHeldError carrying the holder runId, until the holder releases', async () => {
    const first = await acquire('run-holder');
    const error = await acquire('run-second').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LeaseHeldError);
    expect((error as LeaseHeldError).holderRunId).toBe('run-holder');
    expect((error as Error).message).toBe('another cleanup run (run-holder) holds the lease');

    await first.release();
    expect((await blob().getProperties()).leaseState).toBe('available');
    const second = await acquire('run-second');
    expect((await blob().getProperties()).metadata).toEqual({ runid: 'run-second' });
    expect(second.signal.aborted).toBe(false);
    expect(first.signal.aborted).toBe(false);
    expect(clock.active()).toBe(1);
  });

  it('release is idempotent, stops renewing and never throws, even when storage is down', async () => {
    const lease = await acquire('run-release');
    await lease.release();
    await lease.release();
    expect(leaseActions().filter((a) => a === 'release')).toHaveLength(1);
    expect(clock.active()).toBe(0);

    const other = await acquire('run-release-2');
    proxy.down = true;
    await expect(other.release()).resolves.toBeUndefined();
    await expect(other.release()).resolves.toBeUndefined();
  });

  it('aborts the signal with LeaseLostError when a renewal finds the lease broken', async () => {
    const lease = await acquire('run-broken');
    await blob().getBlobLeaseClient().breakLease(0);
    await clock.advance(5_000);
    await waitFor(() => lease.signal.aborted, 'the signal to abort');
    expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
    expect((lease.signal.reason as LeaseLostError).reason).toBe('conflict');
    expect(clock.active()).toBe(0);
    await expect(lease.release()).resolves.toBeUndefined();
    // The break freed the lock for someone else.
    await acquire('run-after-break');
  });

  it('aborts when renewals keep failing, before the lease can expire', async () => {
    const lease = await acquire('run-unrenewable');
    proxy.down = true;
    await clock.advance(5_000);
    await waitFor(() => clock.active() === 1, 'the first failed renewal');
    expect(lease.signal.aborted).toBe(false);
    await clock.advance(5_000);
    await waitFor(() => lease.signal.aborted, 'the signal to abort');
    expect((lease.signal.reason as LeaseLostError).reason).toBe('unrenewable');
  });

  it('fails with StorageUnavailableError naming the setting when storage is down', async () => {
    proxy.down = true;
    const error = await acquire('run-down').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as ConfigError).setting).toBe('AzureWebJobsStorage');
  });

  describe('across processes', () => {
    interface HolderLine {
      runId: string;
      won?: boolean;
      holderRunId?: string;
      released?: boolean;
    }
    const children: ChildProcessWithoutNullStreams[] = [];
    afterEach(() => {
      for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    });

    function startHolder(runId: string): {
      child: ChildProcessWithoutNullStreams;
      lines: HolderLine[];
      stderr: () => string;
    } {
      const child = spawn(process.execPath, [...PRELOAD.flatMap((p) => ['--require', p]), HOLDER, runId], {
        cwd: REPO,
        env: { PATH: process.env.PATH ?? '', AzureWebJobsStorage: connectionString },
      });
      children.push(child);
      const lines: HolderLine[] = [];
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const parts = out.split('\n');
        out = parts.pop() ?? '';
        for (const line of parts) lines.push(JSON.parse(line) as HolderLine);
      });
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
      return { child, lines, stderr: () => err };
    }

    it('lets exactly one of two concurrent processes win; the other learns its runId; then a third proceeds', async () => {
      // No holder id left behind by the tests above: the loser may only name this test's winner.
      await blob().deleteIfExists();
      const a = startHolder('proc-a');
      const b = startHolder('proc-b');
      await waitFor(() => a.lines.length > 0 && b.lines.length > 0, 'both answers', 80_000);
      const answers = [a.lines[0], b.lines[0]];
      const winners = answers.filter((x) => x.won);
      expect(winners).toHaveLength(1);
      const loser = answers.find((x) => !x.won) as HolderLine;
      // The winner writes its runId right after taking the lease; a loser that read in between sees none.
      expect([winners[0].runId, undefined]).toContain(loser.holderRunId);

      const winner = winners[0].runId === 'proc-a' ? a : b;
      winner.child.stdin.write('release\n');
      await waitFor(() => winner.lines.some((l) => l.released), 'the winner to release');
      const third = await acquire('proc-third', { clock: createFakeClock() });
      expect(third.signal.aborted).toBe(false);
    }, 120_000);

    it('frees the lock within the lease duration after its holder is killed', async () => {
      const holder = startHolder('proc-crashed');
      await waitFor(() => holder.lines.length > 0, `the holder (${holder.stderr()})`, 80_000);
      expect(holder.lines[0].won).toBe(true);
      holder.child.kill('SIGKILL');
      const held = await acquire('proc-next').catch((e: unknown) => e);
      expect((held as LeaseHeldError).holderRunId).toBe('proc-crashed');

      // Nobody renews it any more: Azurite expires the 15 s lease on its own clock.
      let lease: RunLease | undefined;
      for (let i = 0; i < 60 && !lease; i++) {
        lease = await acquireRunLease({
          container: storage.container,
          setting: storage.settings.blob,
          runId: 'proc-next',
          clock: systemClock,
          durationSeconds: 15,
        }).catch((error: unknown) => {
          if (error instanceof LeaseHeldError) return undefined;
          throw error;
        });
        if (!lease) await delay(1_000);
      }
      expect(lease).toBeDefined();
      leases.push(lease as RunLease);
      expect((await blob().getProperties()).metadata).toEqual({ runid: 'proc-next' });
    }, 150_000);
  });
});
