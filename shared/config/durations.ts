import { ConfigError } from '../errors';

const SECONDS = /^\d+(?:\.\d+)?$/;
// ISO-8601 days/hours/minutes/seconds only: years, months and weeks have no fixed length in milliseconds.
const ISO_8601 =
  /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

const MS_PER = { day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1_000 };
const EXPECTED = 'must be an ISO-8601 duration (PT30M, PT1H30M, P1DT2H, PT0.5S) or a number of seconds';

/**
 * Parses a duration setting into milliseconds. Accepts ISO-8601 (`PT30M`, `PT1H30M`, `P1DT2H`, `PT0.5S`)
 * or plain seconds (`1800`). Throws a ConfigError naming `setting` (never echoing the value) otherwise,
 * and for durations that are not greater than zero.
 */
export function parseDuration(raw: string, setting: string): number {
  const text = raw.trim();
  let ms: number;
  if (SECONDS.test(text)) {
    ms = Number(text) * MS_PER.second;
  } else {
    const match = ISO_8601.exec(text);
    // "P" and "PT" match the pattern with no component at all.
    if (!match || !/\d/.test(text) || /T$/i.test(text)) throw new ConfigError(setting, EXPECTED);
    const [, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
    ms = days * MS_PER.day + hours * MS_PER.hour + minutes * MS_PER.minute + seconds * MS_PER.second;
  }
  ms = Math.round(ms);
  if (ms <= 0) throw new ConfigError(setting, 'must be greater than zero');
  if (!Number.isSafeInteger(ms)) throw new ConfigError(setting, 'is too large');
  return ms;
}
