/** Offset/Limit query parsing shared by the list routes. */
import type { ListingFaults } from '../faults';
import { badRequest, type SimResponse } from '../response';
import { page, type Page } from '../views';

const DEFAULT_LIMIT = 100;

export type PageWindow = { offset: number; limit: number };

/**
 * Reads Offset/Limit (case-sensitive, as in v8.1; `lenientCase` also accepts v1's lowercase names).
 * Limit -1 means "all", capped like any other limit at maxPageSize.
 */
export function parsePageWindow(
  query: URLSearchParams,
  maxPageSize: number,
  lenientCase: boolean,
): PageWindow | SimResponse {
  const read = (name: string): string | null =>
    query.get(name) ?? (lenientCase ? query.get(name.toLowerCase()) : null);
  const errors: Record<string, string[]> = {};
  const parse = (name: string, fallback: number, min: number): number => {
    const raw = read(name);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min) {
      errors[name] = [`The value is not valid for ${name}; expected an integer >= ${min}.`];
      return fallback;
    }
    return value;
  };
  const offset = parse('Offset', 0, 0);
  const limit = parse('Limit', DEFAULT_LIMIT, -1);
  if (Object.keys(errors).length > 0) return badRequest(errors);
  return { offset, limit: limit === -1 || limit > maxPageSize ? maxPageSize : limit };
}

export function isResponse(value: PageWindow | SimResponse): value is SimResponse {
  return 'status' in value;
}

/** One page of a VM listing, as the listing faults in effect distort it. */
export function listingPage<T>(all: readonly T[], window: PageWindow, listing: ListingFaults): Page<T> {
  const answer = page(all, listing.ignoreOffset ? 0 : window.offset, window.limit);
  return listing.inflateTotalCount ? { ...answer, totalCount: answer.totalCount + 1_000_000 } : answer;
}
