import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimulatorHandle } from '../../dev/simulator';
import type { Report } from '../../shared/report';
import { startFakeKeyVault, type FakeKeyVault } from '../support/fake-key-vault';
import { startFakeManagedIdentity, type FakeManagedIdentity } from '../support/fake-managed-identity';
import { startAppliance, USER, vms } from '../support/engine';
import { CLI_TEST_TIMEOUT_MS, runCli } from './runCli';

jest.setTimeout(CLI_TEST_TIMEOUT_MS);

const CANARY = 'file-canary-9d2e';

function tempFile(name: string, content: string | Buffer): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-targets-')), name);
  fs.writeFileSync(file, content);
  return file;
}

/** The first line of stderr: the error itself, without the help text that follows it. */
const firstLine = (stderr: string): string => stderr.split('\n')[0];

describe('CLI targets: explicit sources never fall back to the configured list', () => {
  let appliance: SimulatorHandle;
  let vault: FakeKeyVault;
  let msi: FakeManagedIdentity;
  beforeAll(async () => {
    appliance = await startAppliance({ vms: vms(3) });
    msi = await startFakeManagedIdentity({ token: 'msi-token-cli' });
    vault = await startFakeKeyVault({
      secrets: {
        'veeam-url': appliance.url,
        'veeam-username': USER.username,
        'veeam-password': USER.password,
        'veeam-vm-ids': JSON.stringify(['vm-001', 'vm-002', 'vm-003']),
      },
      requireToken: 'msi-token-cli',
    });
  });
  afterAll(async () => {
    await Promise.all([appliance.close(), vault.close(), msi.close()]);
  });
  beforeEach(() => {
    appliance.resetCounters();
    vault.requests.length = 0;
  });

  const withVault = (): Record<string, string> => ({
    KEY_VAULT_URL: vault.url,
    IDENTITY_ENDPOINT: msi.url,
    IDENTITY_HEADER: msi.header,
  });

  it.each([
    [
      'an empty --vm-file',
      () => ['--vm-file', tempFile('empty.txt', '')],
      /^snapshot-cleanup: --vm-file \S+empty\.txt: lists no VM ids/,
    ],
    [
      'a --vm-file of comments only',
      () => ['--vm-file', tempFile('c.txt', '# none yet\n  # really\n')],
      /--vm-file \S+c\.txt: lists no VM ids/,
    ],
    ['an empty --vm', () => ['--vm', ''], /^snapshot-cleanup: --vm: is empty/],
    ['a --vm of separators', () => ['--vm', ' , '], /^snapshot-cleanup: --vm: lists no VM ids/],
    ['an empty --vm next to a good one', () => ['--vm', 'vm-001', '--vm', ','], /--vm: lists no VM ids/],
  ])('with Key Vault, %s exits 2 naming the flag and deletes nothing', async (_label, args, message) => {
    const run = await runCli(['run', ...args(), '--json'], withVault());
    expect(run.code).toBe(2);
    expect(firstLine(run.stderr)).toMatch(message);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 400, flag: expect.stringMatching(/^--vm/) });
    expect(appliance.counters.deleteCallsByVm).toEqual({});
    expect(appliance.counters.requestsByRoute).toEqual({});
    expect(vault.requests).toEqual([]);
  });

  it('without Key Vault, an empty --vm-file exits 2 without pointing at VEEAM_VM_IDS, which is not used', async () => {
    const file = tempFile('empty.txt', '\n\n');
    const run = await runCli(['run', '--vm-file', file], {
      VEEAM_URL: appliance.url,
      VEEAM_USERNAME: USER.username,
      VEEAM_PASSWORD: USER.password,
      VEEAM_VM_IDS: 'vm-001',
    });
    expect(run.code).toBe(2);
    expect(firstLine(run.stderr)).toContain(`--vm-file ${file}: lists no VM ids`);
    expect(firstLine(run.stderr)).not.toContain('VEEAM_VM_IDS');
    expect(appliance.counters.requestsByRoute).toEqual({});
  });

  it('refuses a --vm-file with NUL or other control bytes, naming the file and not its content', async () => {
    const binary = tempFile('vms.bin', Buffer.from(`vm-001\n${CANARY}\u0000\u0001\n`, 'utf8'));
    const escape = tempFile('vms.txt', `vm-001 ${CANARY}\u001b[2J\n`);
    for (const file of [binary, escape]) {
      const run = await runCli(['run', '--vm-file', file, '--json'], {
        VEEAM_URL: appliance.url,
        VEEAM_USERNAME: USER.username,
        VEEAM_PASSWORD: USER.password,
      });
      expect(run.code).toBe(2);
      expect(firstLine(run.stderr)).toBe(
        `snapshot-cleanup: --vm-file ${file}: contains NUL or other control characters; expected a text file of VM ids`,
      );
      expect(run.stdout + run.stderr).not.toContain(CANARY);
    }
    expect(appliance.counters.requestsByRoute).toEqual({});
  });

  it('merges --vm, a JSON-array --vm-file, a commented file given twice and stdin, each id once', async () => {
    const array = tempFile('vms.json', JSON.stringify(['vm-002', 'VM-001']));
    const listed = tempFile('vms.txt', '# nightly list\nvm-003 # the big one\n\nvm-002,\n');
    const run = await runCli(
      [
        'run',
        '--vm',
        'vm-001',
        '--vm-file',
        array,
        '--vm-file',
        listed,
        '--vm-file',
        listed,
        '--vm-file',
        '-',
        '--json',
      ],
      { VEEAM_URL: appliance.url, VEEAM_USERNAME: USER.username, VEEAM_PASSWORD: USER.password },
      { stdin: '# from a pipe\nvm-003\n' },
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.results.map((r) => [r.vmId, r.outcome])).toEqual([
      ['vm-001', 'Succeeded'],
      ['vm-002', 'Succeeded'],
      ['vm-003', 'Succeeded'],
    ]);
    // VM-001 (case), vm-002 from the text file, the second copy of the file (2) and stdin's vm-003.
    expect(report.duplicatesRemoved).toBe(5);
    expect(appliance.counters.deleteCallsByVm).toEqual({ 'vm-001': 1, 'vm-002': 1, 'vm-003': 1 });
  });

  it('with Key Vault, --vm replaces the vault list and the run starts with the provenance line', async () => {
    const run = await runCli(['run', '--vm', 'vm-002', '--json'], withVault());
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Report).results.map((r) => r.vmId)).toEqual(['vm-002']);
    expect(appliance.counters.deleteCallsByVm).toEqual({ 'vm-002': 1 });
    expect(vault.requests.map((r) => r.path)).not.toContainEqual(expect.stringContaining('veeam-vm-ids'));
    const kv = `Key Vault ${vault.url}`;
    expect(run.stderr).toContain(
      `Configuration: appliance URL from secret veeam-url (${kv}), username from secret veeam-username (${kv}), ` +
        `password from secret veeam-password (${kv}), targets from --vm (command line), ` +
        'no CA certificate (system trust), 1 target\n',
    );
    expect(run.stdout + run.stderr).not.toContain(USER.password);
  });
});
