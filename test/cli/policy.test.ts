/** `snapshot-cleanup run --policy <file>` as a child process against two simulators. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import type { Report } from '../../shared/report';
import { CLI_TEST_TIMEOUT_MS, runCli } from './runCli';

jest.setTimeout(CLI_TEST_TIMEOUT_MS);

const ONE = { username: 'one-svc', password: 'CANARY-ONE-PASSWORD-83b1' };
const TWO = { username: 'two-svc', password: 'CANARY-TWO-PASSWORD-c06d' };

describe('snapshot-cleanup run --policy', () => {
  let one: SimulatorHandle;
  let two: SimulatorHandle;
  let dir: string;

  beforeAll(async () => {
    one = await startSimulator({
      users: [ONE],
      vms: [
        { id: 'one-app', name: 'app-1', sessionDurationMs: 20 },
        { id: 'one-sql', name: 'sql-1', sessionDurationMs: 20 },
      ],
    });
    two = await startSimulator({ users: [TWO], vms: [{ id: 'two-1', sessionDurationMs: 20 }] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-cli-'));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await Promise.all([one.close(), two.close()]);
  });
  beforeEach(() => {
    one.resetCounters();
    two.resetCounters();
  });

  const env = {
    ONE_USER: ONE.username,
    ONE_PASS: ONE.password,
    TWO_USER: TWO.username,
    TWO_PASS: TWO.password,
  };
  function policyFile(twoUrl = two.url, extra: Record<string, unknown> = {}): string {
    const file = path.join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
    const policy = {
      appliances: [
        {
          name: 'one',
          url: one.url,
          usernameSecret: 'one-user',
          passwordSecret: 'one-pass',
          targets: { discover: {} },
          exclude: { names: ['sql-*'] },
          ...extra,
        },
        {
          name: 'two',
          url: twoUrl,
          usernameSecret: 'two-user',
          passwordSecret: 'two-pass',
          targets: { vmIds: ['two-1'] },
        },
      ],
    };
    fs.writeFileSync(file, JSON.stringify(policy));
    return file;
  }

  it('runs every appliance of the policy, narrows with --appliance and qualified --vm', async () => {
    const all = await runCli(['run', '--policy', policyFile(), '--json'], env);
    expect(all.code).toBe(0);
    const report = JSON.parse(all.stdout) as Report;
    expect(report.results.map((r) => [r.appliance, r.vmId, r.outcome])).toEqual([
      ['one', 'one-app', 'Succeeded'],
      ['one', 'one-sql', 'Excluded'],
      ['two', 'two-1', 'Succeeded'],
    ]);
    expect(all.stderr).toMatch(/policy from --policy .*\(command line\)/);
    expect(all.stdout + all.stderr).not.toMatch(/CANARY/);

    // The first run left one-app without manual snapshots, so discovery would no longer list it.
    one.addRestorePoint('one-app');
    const narrowed = await runCli(['run', '--policy', policyFile(), '--vm', 'one/one-app', '--json'], env);
    expect(narrowed.code).toBe(0);
    expect((JSON.parse(narrowed.stdout) as Report).results.map((r) => `${r.appliance}/${r.vmId}`)).toEqual([
      'one/one-app',
    ]);

    const onlyTwo = await runCli(['run', '--policy', policyFile(), '--appliance', 'two'], env);
    expect(onlyTwo.code).toBe(0);
    expect(onlyTwo.stdout).toMatch(/two-1\s+Succeeded/);
    expect(one.counters.tokensIssued.password).toBe(2);
  });

  it('exits 1 when one appliance is down and 2 for a bad policy, naming the path', async () => {
    const down = await startSimulator({ users: [TWO] });
    const downUrl = down.url;
    await down.close();
    const partial = await runCli(['run', '--policy', policyFile(downUrl)], env);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/Appliance two not usable \(unreachable\)/);

    const bad = await runCli(
      ['run', '--policy', policyFile(two.url, { password: 'CANARY-INLINE' }), '--json'],
      env,
    );
    expect(bad.code).toBe(2);
    const problem = JSON.parse(bad.stdout) as { setting: string; detail: string };
    expect(problem.setting).toBe('appliances[0].password');
    expect(bad.stdout + bad.stderr).not.toMatch(/CANARY/);
    expect(one.counters.tokensIssued.password).toBe(1);

    const ambiguous = await runCli(['run', '--policy', policyFile(), '--vm', 'nobody/x'], env);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/--vm: vmIds name appliances that are not configured: "nobody\/x"/);
  });
});
