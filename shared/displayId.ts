/** Longest id text echoed back to an admin; longer text is cut and marked with "…". */
export const DISPLAY_ID_MAX = 130;

/**
 * Untrusted id text as it may be shown in a table, a report, a problem body or telemetry: control and
 * non-ASCII characters escaped (so no escape sequence reaches a terminal), and cut to DISPLAY_ID_MAX
 * characters so a 30 MB "id" cannot flood a log.
 */
export function displayId(raw: string): string {
  let out = '';
  for (const ch of raw) {
    const code = ch.codePointAt(0) ?? 0;
    const piece =
      code < 0x20 || code === 0x7f || code > 0x7e
        ? code <= 0xff
          ? `\\x${code.toString(16).padStart(2, '0')}`
          : `\\u{${code.toString(16)}}`
        : ch === '\\'
          ? '\\\\'
          : ch;
    if (out.length + piece.length > DISPLAY_ID_MAX) return `${out}…`;
    out += piece;
  }
  return out;
}
