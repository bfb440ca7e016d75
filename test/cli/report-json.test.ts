import { Writable } from 'node:stream';
import { writeReportJson } from '../../shared/cli/output';
import type { Report, VmResult } from '../../shared/report';
import { reportWith } from '../support/report';

const reportOf = (results: VmResult[]): Report => reportWith(results, { trigger: 'cli' });

const result = (i: number): VmResult => ({
  vmId: `vm-${i}`,
  appliance: 'default',
  outcome: i % 7 === 0 ? 'Failed' : 'Succeeded',
  sessionId: `s-${i}`,
  attempts: 1,
  durationMs: i,
  // Text that looks like the layout itself must not confuse it: a newline, a quoted key, indentation.
  ...(i % 7 === 0 ? { error: 'line one\n  "results": []\n    «two» ✓' } : {}),
  log: [{ time: '2026-12-02T02:00:01.000Z', status: 'Info', message: `deleting ${i}` }],
});

/** A stream that keeps what it was given, chunk by chunk, and can be told to fail. */
function collector(options: { failAfter?: number } = {}) {
  const chunks: string[] = [];
  const stream = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      if (options.failAfter !== undefined && chunks.length >= options.failAfter) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        return;
      }
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { stream, chunks };
}

describe('writeReportJson', () => {
  it.each([0, 1, 3])('prints %i results exactly as JSON.stringify(report, null, 2)', async (n) => {
    const report = reportOf(Array.from({ length: n }, (_, i) => result(i)));
    const { stream, chunks } = collector();
    await expect(writeReportJson(stream, report)).resolves.toBeUndefined();
    expect(chunks.join('')).toBe(`${JSON.stringify(report, null, 2)}\n`);
  });

  it('writes a large report in chunks of about 64 KB, never as one string', async () => {
    const report = reportOf(Array.from({ length: 3_000 }, (_, i) => result(i)));
    const { stream, chunks } = collector();
    await writeReportJson(stream, report);
    const text = chunks.join('');
    expect(text).toBe(`${JSON.stringify(report, null, 2)}\n`);
    expect(chunks.length).toBeGreaterThan(Math.floor(text.length / (64 * 1024)) - 1);
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(64 * 1024 + 2_000);
    expect(stream.listenerCount('error')).toBeLessThanOrEqual(1);
  });

  it('stops at the first failed write and resolves with its error, without throwing', async () => {
    const report = reportOf(Array.from({ length: 3_000 }, (_, i) => result(i)));
    const { stream, chunks } = collector({ failAfter: 2 });
    const failed = await writeReportJson(stream, report);
    expect(failed).toMatchObject({ code: 'EPIPE' });
    expect(chunks).toHaveLength(2);
  });
});
