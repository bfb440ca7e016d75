import type { Timer } from '@azure/functions';
import type { SimulatorHandle } from '../../dev/simulator';
import { nightlySnapshotCleanup } from '../../functions/nightlySnapshotCleanup';
import { startFakeKeyVault, type FakeKeyVault } from '../support/fake-key-vault';
import { startFakeManagedIdentity, type FakeManagedIdentity } from '../support/fake-managed-identity';
import { startAppliance, USER, vms } from '../support/engine';
import { invocation, setEnv } from '../support/functions';

const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

// As deployed: the settings name only the vault; the managed identity (IDENTITY_ENDPOINT/IDENTITY_HEADER,
// as App Service sets them) gets the token, and the secrets come from the vault.
describe('nightlySnapshotCleanup with Key Vault and a managed identity', () => {
  let appliance: SimulatorHandle;
  let vault: FakeKeyVault;
  let msi: FakeManagedIdentity;
  let restoreEnv: () => void;

  beforeAll(async () => {
    appliance = await startAppliance({ vms: vms(3) });
    msi = await startFakeManagedIdentity({ token: 'msi-token-for-the-timer' });
    vault = await startFakeKeyVault({
      secrets: {
        'veeam-url': appliance.url,
        'veeam-username': USER.username,
        'veeam-password': USER.password,
        'veeam-vm-ids': JSON.stringify(['vm-001', 'vm-002', 'vm-003']),
      },
      requireToken: 'msi-token-for-the-timer',
    });
    restoreEnv = setEnv({
      KEY_VAULT_URL: vault.url,
      IDENTITY_ENDPOINT: msi.url,
      IDENTITY_HEADER: msi.header,
      VEEAM_URL: undefined,
      VEEAM_USERNAME: undefined,
      VEEAM_PASSWORD: undefined,
      VEEAM_VM_IDS: undefined,
      CLEANUP_TIME_BUDGET: 'PT2M',
    });
  });
  afterAll(async () => {
    restoreEnv();
    await Promise.all([appliance.close(), vault.close(), msi.close()]);
  });

  it('reads the targets and credentials from the vault and cleans every VM', async () => {
    const { context, logs } = invocation('nightlySnapshotCleanup');
    await nightlySnapshotCleanup(timer, context);
    expect(logs.map((l) => l.message).join('\n')).toMatch(/3 succeeded, 0 warning, 0 failed/);
    expect(appliance.counters.deleteCallsByVm).toEqual({ 'vm-001': 1, 'vm-002': 1, 'vm-003': 1 });
    expect(msi.requests.length).toBeGreaterThan(0);
    expect(vault.requests.some((r) => r.path.startsWith('/secrets/veeam-password') && r.authorized)).toBe(
      true,
    );
    expect(logs.map((l) => l.message).join('\n')).not.toContain(USER.password);
  });
});
