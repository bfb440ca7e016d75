import { displayId } from '../displayId';
import { ConfigError } from '../errors';

/** The VM ids a run works on, as parsed from VEEAM_VM_IDS, the veeam-vm-ids secret or the CLI's sources. */
export interface Targets {
  /** Valid, trimmed, de-duplicated ids in first-seen order, each in its first spelling. */
  ids: string[];
  /**
   * Rejected ids (reported as InvalidId, no call made); `id` is already the displayId form (escaped and cut),
   * so the table, the report and telemetry never carry the raw text. `reason` names the rule that failed.
   */
  invalid: Array<{ id: string; reason: string }>;
  /** How many repeated entries were merged (ids that differ only in letter case count as repeats). */
  duplicatesRemoved: number;
}

const MAX_ID_LENGTH = 128;
// Seed (v1) ids are 52 lowercase z-base-32 characters, v3+ ids can be UUIDs: both fit this alphabet.
const ID_ALPHABET = /^[A-Za-z0-9-]+$/;
const SEPARATORS = /[\s,]+/;
const TARGETS_SETTING = 'VEEAM_VM_IDS';

/** Why `id` (trimmed) cannot be a VM id, naming the rule it breaks; undefined when it can. Never quotes it. */
export function invalidIdReason(id: string): string | undefined {
  if (id === '') return 'is empty';
  if (id.length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters`;
  if (!ID_ALPHABET.test(id)) return 'contains characters outside [A-Za-z0-9-]';
  return undefined;
}

/**
 * Splits one source of ids into its entries: a JSON array of strings, or ids separated by commas, whitespace
 * or newlines (runs of separators count as one, so a trailing comma adds nothing; an empty entry can only
 * come from a JSON array). A malformed JSON array throws a ConfigError naming `setting`.
 */
export function splitTargetEntries(raw: string, setting = TARGETS_SETTING): string[] {
  const text = raw.trim();
  if (!text.startsWith('[')) return text.split(SEPARATORS).filter((entry) => entry !== '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(setting, 'starts with "[" but is not a valid JSON array');
  }
  if (!Array.isArray(parsed)) throw new ConfigError(setting, 'is not a JSON array');
  const nonString = parsed.findIndex((entry) => typeof entry !== 'string');
  if (nonString >= 0) {
    throw new ConfigError(setting, `JSON array entry ${nonString} is not a string (ids must be strings)`);
  }
  return parsed as string[];
}

/**
 * Turns entries (from one source or several merged) into targets. Entries are trimmed and de-duplicated
 * without regard to letter case (Azure and the appliance treat VM ids case-insensitively, so "VM-A" and
 * "vm-a" are one VM and must never get two deletes), keeping the first spelling. Invalid ids are returned
 * with the rule they broke rather than thrown, so the report can list them as InvalidId; invalid ids that
 * display the same (a cut multi-megabyte id) are reported once.
 */
export function collectTargets(entries: Iterable<string>): Targets {
  const seen = new Set<string>();
  const targets: Targets = { ids: [], invalid: [], duplicatesRemoved: 0 };
  for (const entry of entries) {
    const id = entry.trim();
    const reason = invalidIdReason(id);
    const shown = reason ? displayId(id) : id;
    const key = shown.toLowerCase();
    if (seen.has(key)) {
      targets.duplicatesRemoved += 1;
      continue;
    }
    seen.add(key);
    if (reason) targets.invalid.push({ id: shown, reason });
    else targets.ids.push(id);
  }
  return targets;
}

/** Parses one setting's worth of target ids (see splitTargetEntries and collectTargets). */
export function parseTargets(raw: string, setting = TARGETS_SETTING): Targets {
  return collectTargets(splitTargetEntries(raw, setting));
}
