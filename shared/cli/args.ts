import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration, splitTargetEntries, type CommandLineSettings, type SettingOrigin } from '../config';
import { displayId } from '../displayId';
import { ConfigError } from '../errors';
import { MIN_SUBMIT_WINDOW_MS, submitMarginFor, submitWindowMs } from '../cleanup/types';

export const HELP = `Usage: snapshot-cleanup run [options]

Deletes the manual snapshots that Veeam Backup for Microsoft Azure keeps for each target VM, follows
every deletion session to its end, and prints a report.

Options (each falls back to the environment variable in brackets):
  --appliance-url <url>      appliance base URL, https:// (http:// only for loopback)   [VEEAM_URL]
  --username <name>          appliance user (a service account without MFA)           [VEEAM_USERNAME]
                             The password is read only from VEEAM_PASSWORD or Key Vault, never from a
                             flag, because flags show in ps and in shell history.
  --api-version <v>          v1 | v8.1 | auto (default auto)                            [VEEAM_API_VERSION]
  --policy <file>            cleanup policy (JSON): several appliances, discovery, exclusions
                             (- reads stdin)                          [CLEANUP_POLICY, cleanup-policy secret]
  --appliance <name>         with a policy: run only this appliance of it
  --vm <id>                  target VM id(s), comma separated; repeat for more          [VEEAM_VM_IDS]
                             With --policy they narrow the run to those targets instead, each
                             bare or as <appliance>/<vmId>
  --vm-file <path>           file of VM ids (JSON array, or one per line/comma; # starts a comment;
                             - reads stdin); repeat for more. --vm and --vm-file are merged, and
                             replace VEEAM_VM_IDS and the veeam-vm-ids secret: a source that lists
                             no id is an error, never a reason to use the configured list
  --key-vault-url <url>      read the secrets from this Key Vault                      [KEY_VAULT_URL]
  --concurrency <n>          deletions submitted at once (default 16)                  [CLEANUP_CONCURRENCY]
  --max-running-sessions <n> deletion sessions kept running on the appliance at once,
                             1-10000 (default: no cap)                        [CLEANUP_MAX_RUNNING_SESSIONS]
  --max-session-wait <dur>   longest wait for one session (default PT30M)              [CLEANUP_MAX_SESSION_WAIT]
  --min-age <dur>            retention: keep manual snapshots younger than this (P7D, PT36H)   [CLEANUP_MIN_AGE]
  --keep-latest <n>          retention: keep the n newest manual snapshots of each VM       [CLEANUP_KEEP_LATEST]
  --storage <conn>           Azure Storage connection string for the run lease and ledger
                             (UseDevelopmentStorage=true for Azurite)                  [AzureWebJobsStorage]
  --deadline <dur|time>      stop submitting in time to finish by then: a duration from
                             now (PT9M or seconds) or an ISO-8601 time; more than 2 s
  --dry-run                  list what would be deleted, delete nothing                [CLEANUP_DRY_RUN]
  --batch                    v8.1: one batch request per 100 VMs                        [CLEANUP_BATCH]
  --ca-file <pem>            trust only this PEM certificate/CA for the appliance       [VEEAM_CA_CERT]
  --json                     print only the JSON report on stdout (usage and configuration
                             errors as a JSON problem: type, title, status, detail, flag/setting)
  --log-telemetry <file>     append telemetry as JSON lines to this file (App Insights is used
                             instead when APPLICATIONINSIGHTS_CONNECTION_STRING is set)
  -h, --help                 show this help

Durations are ISO-8601 (PT30M, PT1H) or a number of seconds.

Exit codes:
  0  every target Succeeded, Warning, WouldDelete or Excluded
  1  any target Failed, TimedOut, Skipped or InvalidId, or some (not all) appliances could not be used
  2  usage or configuration error, nothing attempted
  3  could not reach or authenticate to the appliance (MFA accounts included), or to any appliance of
     the policy; nothing deleted
  4  another cleanup run holds the lease (its runId is printed), nothing attempted
  5  the run finished but its report could not be written to stdout (closed pipe, disk full);
     the run's totals are on stderr
`;

/** A command line that cannot be run as given; `flag` names the flag at fault when there is one. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly flag?: string,
  ) {
    super(flag ? `${flag}: ${message}` : message);
  }
}

export interface CliInvocation {
  help: boolean;
  json: boolean;
  /** --log-telemetry: the file for the telemetry JSON lines. */
  telemetryFile?: string;
  /** Flags and explicit targets, for loadConfig's `commandLine` (they win over the environment). */
  commandLine: CommandLineSettings;
  /** Epoch ms. */
  deadline?: number;
  /** --storage: a connection string for the lease and the ledger (else the AzureWebJobsStorage settings). */
  storage?: string;
  /**
   * What narrows a policy run: --appliance, and with --policy the --vm / --vm-file entries (bare or
   * `<appliance>/<vmId>`), resolved against the loaded policy like the HTTP body's.
   */
  narrowing?: { appliance?: string; vmIds?: string[]; flag: string };
}

const FLAG_SETTINGS: Record<string, string> = {
  'appliance-url': 'VEEAM_URL',
  username: 'VEEAM_USERNAME',
  'api-version': 'VEEAM_API_VERSION',
  'key-vault-url': 'KEY_VAULT_URL',
  concurrency: 'CLEANUP_CONCURRENCY',
  'max-running-sessions': 'CLEANUP_MAX_RUNNING_SESSIONS',
  'max-session-wait': 'CLEANUP_MAX_SESSION_WAIT',
  'min-age': 'CLEANUP_MIN_AGE',
  'keep-latest': 'CLEANUP_KEEP_LATEST',
};

const OPTIONS = {
  'appliance-url': { type: 'string' },
  username: { type: 'string' },
  'api-version': { type: 'string' },
  policy: { type: 'string' },
  appliance: { type: 'string' },
  vm: { type: 'string', multiple: true },
  'vm-file': { type: 'string', multiple: true },
  'key-vault-url': { type: 'string' },
  concurrency: { type: 'string' },
  'max-running-sessions': { type: 'string' },
  'max-session-wait': { type: 'string' },
  'min-age': { type: 'string' },
  'keep-latest': { type: 'string' },
  storage: { type: 'string' },
  deadline: { type: 'string' },
  'dry-run': { type: 'boolean' },
  batch: { type: 'boolean' },
  'ca-file': { type: 'string' },
  json: { type: 'boolean' },
  'log-telemetry': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

// Tab, line feed and carriage return are text; any other C0/C1 control or DEL means this is not an id list.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// "#" starts a comment at the start of a line or after a separator, never inside an id ("vm#1" stays an
// invalid id rather than turning into the target "vm").
const COMMENT = /(^|[\s,])#.*$/gm;
const COMMAND_LINE = 'command line';

export function parseCli(argv: string[], now = Date.now()): CliInvocation {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, tokens: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals, tokens } = parsed;
  const help = values.help === true;
  if (!help && (positionals.length !== 1 || positionals[0] !== 'run')) {
    throw new UsageError(
      positionals.length === 0
        ? 'missing command: run'
        : `unknown command: ${displayId(positionals.join(' '))}`,
    );
  }
  for (const token of tokens) {
    if (token.kind === 'option' && token.value === '') throw new UsageError('is empty', `--${token.name}`);
  }

  const settings: NonNullable<CommandLineSettings['settings']> = {};
  for (const [flag, setting] of Object.entries(FLAG_SETTINGS)) {
    const value = values[flag as keyof typeof values];
    if (typeof value === 'string') settings[setting] = { flag: `--${flag}`, value };
  }
  if (values['ca-file'] !== undefined) {
    const flag = `--ca-file ${displayId(values['ca-file'])}`;
    settings.VEEAM_CA_CERT = { flag, value: readSource(values['ca-file'], flag) };
  }
  if (values['dry-run']) settings.CLEANUP_DRY_RUN = { flag: '--dry-run', value: 'true' };
  if (values.batch) settings.CLEANUP_BATCH = { flag: '--batch', value: 'true' };
  const targets = explicitTargets(tokens);
  const policy =
    values.policy === undefined
      ? undefined
      : {
          text: readSource(values.policy, `--policy ${displayId(values.policy)}`),
          origin: { name: `--policy ${displayId(values.policy)}`, source: COMMAND_LINE },
        };
  // With a policy file the targets are the policy's; --vm only narrows them.
  const narrowing =
    (policy && targets) || values.appliance !== undefined
      ? {
          ...(values.appliance !== undefined ? { appliance: values.appliance } : {}),
          ...(policy && targets ? { vmIds: targets.entries } : {}),
          flag: policy && targets ? targets.origin.name : '--appliance',
        }
      : undefined;

  return {
    help,
    json: values.json === true,
    ...(values['log-telemetry'] !== undefined ? { telemetryFile: values['log-telemetry'] } : {}),
    commandLine: {
      settings,
      ...(targets && !policy ? { targets } : {}),
      ...(policy ? { policy } : {}),
    },
    ...(narrowing ? { narrowing } : {}),
    ...(values.deadline !== undefined ? { deadline: parseDeadline(values.deadline, now) } : {}),
    ...(values.storage !== undefined ? { storage: values.storage } : {}),
  };
}

type Token = ReturnType<typeof parseArgs>['tokens'] extends Array<infer T> | undefined ? T : never;

/**
 * --vm and --vm-file in command-line order, each source split on its own (so a JSON-array file merges with
 * plain --vm ids) and required to list at least one id: an explicit source that yields nothing is a
 * mistake, and falling back to the configured list would delete for VMs the admin did not name.
 */
function explicitTargets(tokens: Token[]): CommandLineSettings['targets'] {
  const entries: string[] = [];
  const names: string[] = [];
  const files = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.value === undefined) continue;
    let flag: string;
    let text: string;
    if (token.name === 'vm') {
      flag = '--vm';
      text = token.value;
    } else if (token.name === 'vm-file') {
      flag = `--vm-file ${displayId(token.value)}`;
      // Read each file once, so "-" (stdin) given twice is not read empty the second time.
      text = files.get(token.value) ?? targetFileText(token.value, flag);
      files.set(token.value, text);
    } else {
      continue;
    }
    const found = splitEntries(text, flag);
    if (found.length === 0) {
      throw new UsageError(
        'lists no VM ids (an explicit target list is never replaced by the configured one)',
        flag,
      );
    }
    entries.push(...found);
    if (!names.includes(flag)) names.push(flag);
  }
  if (names.length === 0) return undefined;
  const origin: SettingOrigin = { name: names.join(', '), source: COMMAND_LINE };
  return { entries, origin };
}

function splitEntries(text: string, flag: string): string[] {
  try {
    return splitTargetEntries(text, flag);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.problem, flag);
    throw error;
  }
}

/** A --vm-file's text without its comments; control bytes mean it is not a list of ids (never echoed). */
function targetFileText(path: string, flag: string): string {
  const text = readSource(path, flag).replace(/^\uFEFF/, '');
  if (CONTROL.test(text)) {
    throw new UsageError('contains NUL or other control characters; expected a text file of VM ids', flag);
  }
  return text.replace(COMMENT, '$1');
}

/** The file's text; "-" is stdin. */
function readSource(path: string, flag: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, flag);
  }
}

function parseDeadline(raw: string, now: number): number {
  let at: number;
  if (/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
    at = Date.parse(raw);
    if (Number.isNaN(at)) throw new UsageError('is not a valid ISO-8601 time', '--deadline');
    if (at <= now) throw new UsageError('is in the past', '--deadline');
  } else {
    try {
      at = now + parseDuration(raw, '--deadline');
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.problem, '--deadline');
      throw error;
    }
  }
  const window = at - now;
  if (submitWindowMs(window) <= MIN_SUBMIT_WINDOW_MS) {
    throw new UsageError(
      `leaves ${window / 1000} s, and a run submits nothing in its last ${submitMarginFor(window) / 1000} s: ` +
        'too little to submit anything (give more than 2 s)',
      '--deadline',
    );
  }
  return at;
}
