import { ConfigError } from '../errors';

/** The VM ids a run works on, as parsed from VEEAM_VM_IDS or the veeam-vm-ids secret. */
export interface Targets {
  /** Valid, trimmed, de-duplicated ids in first-seen order. */
  ids: string[];
  /** Rejected ids (reported as InvalidId, no call made); `reason` names the rule that failed. */
  invalid: Array<{ id: string; reason: string }>;
  /** How many repeated entries were merged. */
  duplicatesRemoved: number;
}

const MAX_ID_LENGTH = 128;
// Seed (v1) ids are 52 lowercase z-base-32 characters, v3+ ids can be UUIDs: both fit this alphabet.
const ID_ALPHABET = /^[A-Za-z0-9-]+$/;
const SEPARATORS = /[\s,]+/;
const TARGETS_SETTING = 'VEEAM_VM_IDS';

function invalidReason(id: string): string | undefined {
  if (id === '') return 'is empty';
  if (id.length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`;
  if (!ID_ALPHABET.test(id)) return 'contains characters outside [A-Za-z0-9-]';
  return undefined;
}

function splitEntries(raw: string): string[] {
  const text = raw.trim();
  if (!text.startsWith('[')) return text.split(SEPARATORS).filter((entry) => entry !== '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(TARGETS_SETTING, 'starts with "[" but is not a valid JSON array');
  }
  if (!Array.isArray(parsed)) throw new ConfigError(TARGETS_SETTING, 'is not a JSON array');
  const nonString = parsed.findIndex((entry) => typeof entry !== 'string');
  if (nonString >= 0) {
    throw new ConfigError(
      TARGETS_SETTING,
      `JSON array entry ${nonString} is not a string (ids must be strings)`,
    );
  }
  return parsed as string[];
}

/**
 * Parses target VM ids: a JSON array of strings, or ids separated by commas, whitespace or newlines
 * (runs of separators count as one, so a trailing comma adds nothing; an empty id can only come from a
 * JSON array). Ids are trimmed and de-duplicated (exact match); invalid ids are returned with the rule
 * they broke rather than thrown, so the report can list them as InvalidId. A malformed JSON array throws a
 * ConfigError naming VEEAM_VM_IDS.
 */
export function parseTargets(raw: string): Targets {
  const seen = new Set<string>();
  const targets: Targets = { ids: [], invalid: [], duplicatesRemoved: 0 };
  for (const entry of splitEntries(raw)) {
    const id = entry.trim();
    if (seen.has(id)) {
      targets.duplicatesRemoved += 1;
      continue;
    }
    seen.add(id);
    const reason = invalidReason(id);
    if (reason) targets.invalid.push({ id, reason });
    else targets.ids.push(id);
  }
  return targets;
}
