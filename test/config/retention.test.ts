import { loadConfig } from '../../shared/config';
import { configErrorOf, onlyAppliance, visibleText, VM_A } from './helpers';

const env = (extra: Record<string, string>) => ({
  VEEAM_URL: 'https://veeam.contoso.example/',
  VEEAM_USERNAME: 'svc-cleanup',
  VEEAM_PASSWORD: 'pw-canary-51c2',
  VEEAM_VM_IDS: VM_A,
  ...extra,
});

describe('retention settings', () => {
  it('reads CLEANUP_MIN_AGE (ISO-8601 or seconds) and CLEANUP_KEEP_LATEST', async () => {
    const load = async (extra: Record<string, string>) =>
      onlyAppliance(await loadConfig({ env: env(extra) }));
    expect(await load({ CLEANUP_MIN_AGE: 'P7D', CLEANUP_KEEP_LATEST: '2' })).toMatchObject({
      minAgeMs: 7 * 86_400_000,
      keepLatest: 2,
    });
    expect(await load({ CLEANUP_MIN_AGE: '129600' })).toMatchObject({ minAgeMs: 129_600_000 });
    expect(await load({ CLEANUP_KEEP_LATEST: '0' })).toMatchObject({ keepLatest: 0 });
    const plain = await load({});
    expect(plain.minAgeMs).toBeUndefined();
    expect(plain.keepLatest).toBeUndefined();
  });

  it.each([
    [{ CLEANUP_MIN_AGE: 'seven days' }, 'CLEANUP_MIN_AGE'],
    [{ CLEANUP_KEEP_LATEST: '-1' }, 'CLEANUP_KEEP_LATEST'],
    [{ CLEANUP_KEEP_LATEST: '1.5' }, 'CLEANUP_KEEP_LATEST'],
  ])('rejects %p naming the setting', async (extra, setting) => {
    const error = await configErrorOf(loadConfig({ env: env(extra) }));
    expect(error.setting).toBe(setting);
    expect(visibleText(error)).not.toContain('pw-canary');
  });

  it('refuses retention with a pinned v1 before anything is sent, naming both settings', async () => {
    const error = await configErrorOf(
      loadConfig({ env: env({ VEEAM_API_VERSION: 'v1', CLEANUP_KEEP_LATEST: '1' }) }),
    );
    expect(error.setting).toBe('CLEANUP_KEEP_LATEST');
    expect(error.message).toContain('VEEAM_API_VERSION');
    expect(error.message).toMatch(/v8\.1/);
  });
});
