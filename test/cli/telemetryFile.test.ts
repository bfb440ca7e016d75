import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFileTelemetry } from '../../shared/telemetry/console';

describe('createFileTelemetry (--log-telemetry)', () => {
  it('appends one JSON line per item to the file, after what it already held', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'telemetry-')), 'run.jsonl');
    fs.writeFileSync(file, '{"earlier":"run"}\n');
    const telemetry = createFileTelemetry({ path: file });
    telemetry.trackEvent('CleanupRunCompleted', { runId: 'r-1' }, { targets: 3 });
    telemetry.trackMetric('CleanupDurationMs', 12);
    telemetry.close();
    const lines = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { earlier: 'run' },
      expect.objectContaining({ type: 'event', name: 'CleanupRunCompleted', properties: { runId: 'r-1' } }),
      expect.objectContaining({ type: 'metric', name: 'CleanupDurationMs', value: 12 }),
    ]);
  });

  it('throws when the file cannot be opened, so the CLI can refuse the flag before the run', () => {
    expect(() =>
      createFileTelemetry({ path: path.join(os.tmpdir(), 'no-such-dir-7c1f', 'x.jsonl') }),
    ).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('reports a failed write once and then stops, without throwing into the run', () => {
    const errors: string[] = [];
    const telemetry = createFileTelemetry({ path: '/dev/full', onError: (e) => errors.push(e.code ?? '') });
    expect(() => {
      telemetry.trackEvent('A');
      telemetry.trackEvent('B');
    }).not.toThrow();
    expect(errors).toEqual(['ENOSPC']);
    telemetry.close();
  });
});
