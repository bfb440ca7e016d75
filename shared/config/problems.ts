import { ConfigError } from '../errors';
import type { Problem } from './types';

/**
 * One ConfigError for every problem of a load, so an admin fixes them all in one go: `setting` is the first
 * one's, and the message reads "A: what; B: what; …". Identical problems (e.g. the same 403 for every secret)
 * are listed once.
 */
export function toConfigError(problems: readonly Problem[]): ConfigError {
  const unique = [...new Map(problems.map((p) => [`${p.setting}\n${p.problem}`, p])).values()];
  const [first, ...rest] = unique;
  return new ConfigError(
    first.setting,
    [first.problem, ...rest.map((p) => `${p.setting}: ${p.problem}`)].join('; '),
  );
}
