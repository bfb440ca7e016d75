import { ConfigError } from '../errors';
import type { Problem, SettingOrigin } from './types';

const named = (p: Problem): string => (p.source ? `${p.setting} (${p.source})` : p.setting);

/** An origin as errors and the provenance line print it: "<name> (<source>)". */
export const describeOrigin = (origin: SettingOrigin): string => `${origin.name} (${origin.source})`;

/** A problem about the value from `origin`. */
export function problemAt(origin: SettingOrigin, problem: string): Problem {
  return { setting: origin.name, problem, source: origin.source };
}

/**
 * One ConfigError for every problem of a load, so an admin fixes them all in one go: `setting` and `source`
 * are the first one's, and the message reads "A (source): what; B (source): what; …". Identical problems
 * (e.g. the same 403 for every secret) are listed once.
 */
export function toConfigError(problems: readonly Problem[]): ConfigError {
  const unique = [...new Map(problems.map((p) => [`${named(p)}\n${p.problem}`, p])).values()];
  const [first, ...rest] = unique;
  return new ConfigError(
    first.setting,
    [first.problem, ...rest.map((p) => `${named(p)}: ${p.problem}`)].join('; '),
    first.source,
  );
}
