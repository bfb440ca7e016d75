/** Wire formats of the appliance: .NET-style timestamps and TimeSpans. */

/** ISO-8601 UTC with 7 fractional digits, like the appliance (2020-11-24T21:41:24.2010000Z). */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** .NET TimeSpan "[d.]hh:mm:ss.fffffff". */
export function timeSpan(durationMs: number): string {
  const ms = Math.max(0, Math.round(durationMs));
  const days = Math.floor(ms / 86_400_000);
  const pad2 = (n: number): string => String(n).padStart(2, '0');
  const hh = pad2(Math.floor(ms / 3_600_000) % 24);
  const mm = pad2(Math.floor(ms / 60_000) % 60);
  const ss = pad2(Math.floor(ms / 1000) % 60);
  const fraction = String(ms % 1000).padStart(3, '0') + '0000';
  return `${days > 0 ? `${days}.` : ''}${hh}:${mm}:${ss}.${fraction}`;
}
