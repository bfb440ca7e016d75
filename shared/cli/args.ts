import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../config';
import { ConfigError } from '../errors';

export const HELP = `Usage: snapshot-cleanup run [options]

Deletes the manual snapshots that Veeam Backup for Microsoft Azure keeps for each target VM, follows
every deletion session to its end, and prints a report.

Options (each falls back to the environment variable in brackets):
  --appliance-url <url>      appliance base URL, https:// (http:// only for loopback)   [VEEAM_URL]
  --username <name>          appliance user (a service account without MFA)           [VEEAM_USERNAME]
                             The password is read only from VEEAM_PASSWORD or Key Vault, never from a
                             flag, because flags show in ps and in shell history.
  --api-version <v>          v1 | v8.1 | auto (default auto)                            [VEEAM_API_VERSION]
  --vm <id>                  a target VM id; repeat for more                            [VEEAM_VM_IDS]
  --vm-file <path>           file of VM ids (JSON array, or one per line/comma)
  --key-vault-url <url>      read the secrets from this Key Vault                      [KEY_VAULT_URL]
  --concurrency <n>          deletions submitted at once (default 16)                  [CLEANUP_CONCURRENCY]
  --max-session-wait <dur>   longest wait for one session (default PT30M)              [CLEANUP_MAX_SESSION_WAIT]
  --deadline <dur|time>      stop submitting in time to finish by then: a duration from
                             now (PT9M or seconds) or an ISO-8601 time
  --dry-run                  list what would be deleted, delete nothing                [CLEANUP_DRY_RUN]
  --batch                    v8.1: one batch request per 100 VMs                        [CLEANUP_BATCH]
  --ca-file <pem>            trust this PEM certificate/CA for a self-signed appliance  [VEEAM_CA_CERT]
  --json                     print only the JSON report on stdout
  --log-telemetry            write telemetry as JSON lines to stderr (App Insights is used
                             when APPLICATIONINSIGHTS_CONNECTION_STRING is set)
  -h, --help                 show this help

Durations are ISO-8601 (PT30M, PT1H) or a number of seconds.

Exit codes:
  0  every target Succeeded, Warning or WouldDelete
  1  any target Failed, TimedOut, Skipped or InvalidId
  2  usage or configuration error, nothing attempted
  3  could not reach or authenticate to the appliance (MFA accounts included), nothing deleted
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliInvocation {
  help: boolean;
  json: boolean;
  logTelemetry: boolean;
  /** Settings from flags, laid over the environment. */
  env: Record<string, string | undefined>;
  /** Epoch ms. */
  deadline?: number;
}

const FLAG_SETTINGS: Record<string, string> = {
  'appliance-url': 'VEEAM_URL',
  username: 'VEEAM_USERNAME',
  'api-version': 'VEEAM_API_VERSION',
  'key-vault-url': 'KEY_VAULT_URL',
  concurrency: 'CLEANUP_CONCURRENCY',
  'max-session-wait': 'CLEANUP_MAX_SESSION_WAIT',
};

export function parseCli(
  argv: string[],
  env: Record<string, string | undefined>,
  now = Date.now(),
): CliInvocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'appliance-url': { type: 'string' },
        username: { type: 'string' },
        'api-version': { type: 'string' },
        vm: { type: 'string', multiple: true },
        'vm-file': { type: 'string' },
        'key-vault-url': { type: 'string' },
        concurrency: { type: 'string' },
        'max-session-wait': { type: 'string' },
        deadline: { type: 'string' },
        'dry-run': { type: 'boolean' },
        batch: { type: 'boolean' },
        'ca-file': { type: 'string' },
        json: { type: 'boolean' },
        'log-telemetry': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const help = values.help === true;
  if (!help && (positionals.length !== 1 || positionals[0] !== 'run')) {
    throw new UsageError(
      positionals.length === 0 ? 'missing command: run' : `unknown command: ${positionals.join(' ')}`,
    );
  }

  const merged: Record<string, string | undefined> = { ...env };
  for (const [flag, setting] of Object.entries(FLAG_SETTINGS)) {
    const value = values[flag as keyof typeof values];
    if (typeof value === 'string') merged[setting] = value;
  }
  const ids = [...(values.vm ?? [])];
  if (values['vm-file'] !== undefined) ids.push(readText(values['vm-file'], '--vm-file'));
  if (ids.length > 0) merged.VEEAM_VM_IDS = ids.join('\n');
  if (values['ca-file'] !== undefined) merged.VEEAM_CA_CERT = readText(values['ca-file'], '--ca-file');
  if (values['dry-run']) merged.CLEANUP_DRY_RUN = 'true';
  if (values.batch) merged.CLEANUP_BATCH = 'true';

  return {
    help,
    json: values.json === true,
    logTelemetry: values['log-telemetry'] === true,
    env: merged,
    ...(values.deadline !== undefined ? { deadline: parseDeadline(values.deadline, now) } : {}),
  };
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(flag, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function parseDeadline(raw: string, now: number): number {
  if (/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
    const at = Date.parse(raw);
    if (Number.isNaN(at)) throw new ConfigError('--deadline', 'is not a valid ISO-8601 time');
    if (at <= now) throw new ConfigError('--deadline', 'is in the past');
    return at;
  }
  return now + parseDuration(raw, '--deadline');
}
