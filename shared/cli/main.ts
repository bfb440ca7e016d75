#!/usr/bin/env node
import { problem } from '../admin/problem';
import { isProblem, resolveRequestTargets } from '../admin/requestTargets';
import type { RunNarrowing } from '../cleanup/startRun';
import { describeProvenance, loadConfig, type CleanupConfig } from '../config';
import { ConfigError } from '../errors';
import { createFileTelemetry } from '../telemetry/console';
import { HELP, parseCli, UsageError, type CliInvocation } from './args';
import { EXIT_BUSY, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, exitCodeFor } from './exitCodes';
import { describeWriteError, writeAll, writeReportJson } from './output';
import { createProgressPrinter } from './progress';
import { formatRunLine, formatSummary } from './summary';

type Refusal = UsageError | ConfigError;

/** The RFC 9457 problem --json prints for a usage (400) or configuration (500) error, naming the flag or setting. */
function problemFor(error: Refusal): Record<string, unknown> {
  const extensions =
    error instanceof UsageError
      ? { ...(error.flag ? { flag: error.flag } : {}) }
      : { setting: error.setting, ...(error.source ? { source: error.source } : {}) };
  return problem(error instanceof UsageError ? 400 : 500, error.message, {
    ...extensions,
    exitCode: EXIT_USAGE,
  }).jsonBody;
}

/** Says why nothing was attempted: on stderr, and with --json also as a problem on stdout. Exit 2. */
async function refuse(error: unknown, json: boolean): Promise<number> {
  if (!(error instanceof UsageError || error instanceof ConfigError)) throw error;
  process.stderr.write(
    error instanceof UsageError
      ? `snapshot-cleanup: ${error.message}\n\n${HELP}`
      : `snapshot-cleanup: configuration error: ${error.message}\n`,
  );
  if (json) await writeAll(process.stdout, `${JSON.stringify(problemFor(error), null, 2)}\n`);
  return EXIT_USAGE;
}

/** Runs the CLI and returns its exit code; the process entry below only wires it to `process`. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let invocation: CliInvocation;
  try {
    invocation = parseCli(argv);
  } catch (error) {
    // The flags could not be parsed, so look for --json in the raw arguments.
    return refuse(error, argv.includes('--json'));
  }
  if (invocation.help) {
    const failed = await writeAll(process.stdout, HELP);
    if (!failed) return EXIT_OK;
    process.stderr.write(
      `snapshot-cleanup: could not write the help to stdout (${describeWriteError(failed)})\n`,
    );
    return EXIT_OUTPUT;
  }

  const progress = createProgressPrinter();
  let telemetry: ReturnType<typeof createFileTelemetry> | undefined;
  if (invocation.telemetryFile !== undefined) {
    try {
      telemetry = createFileTelemetry({
        path: invocation.telemetryFile,
        onError: (error) =>
          progress.info(
            `snapshot-cleanup: telemetry file: write failed (${describeWriteError(error)}); telemetry stopped`,
          ),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      return refuse(new UsageError(`cannot be opened (${code})`, '--log-telemetry'), invocation.json);
    }
  }
  try {
    let config: CleanupConfig;
    try {
      config = await loadConfig({ env, commandLine: invocation.commandLine });
    } catch (error) {
      return await refuse(error, invocation.json);
    }
    progress.info(`Configuration: ${describeProvenance(config)}`);
    let narrowing: RunNarrowing = {};
    if (invocation.narrowing) {
      const { flag, ...request } = invocation.narrowing;
      const selected = resolveRequestTargets(request, config);
      if (isProblem(selected)) {
        return await refuse(new UsageError(selected.jsonBody.detail, flag), invocation.json);
      }
      narrowing = {
        ...(selected.targets ? { targets: selected.targets } : {}),
        ...(selected.appliance !== undefined ? { appliance: selected.appliance } : {}),
      };
    }
    return await runAndPrint(invocation, config, narrowing, env, progress, telemetry);
  } finally {
    telemetry?.close();
  }
}

async function runAndPrint(
  invocation: CliInvocation,
  config: CleanupConfig,
  narrowing: RunNarrowing,
  env: NodeJS.ProcessEnv,
  progress: ReturnType<typeof createProgressPrinter>,
  telemetry: ReturnType<typeof createFileTelemetry> | undefined,
): Promise<number> {
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    progress.info(`${signal}: stopping; sessions already started are reported as they stand`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // The engine and its HTTP stack load only for a run, so --help and usage errors answer at once.
    const { startRun } = await import('../cleanup');
    const { openRunStorage } = await import('../runs/openStorage');
    const storage = await openRunStorage(env, invocation.storage);
    const started = await startRun({
      trigger: 'cli',
      env,
      config,
      ...narrowing,
      storage: storage ?? null,
      deadline: invocation.deadline,
      abortSignal: abort.signal,
      onProgress: progress.onProgress,
      logger: { info: progress.info, warn: progress.info, error: progress.info },
      ...(telemetry ? { fallbackTelemetry: () => telemetry } : {}),
    });
    progress.done();
    if (started.status === 'busy') {
      process.stderr.write(
        `snapshot-cleanup: another cleanup run (${started.holderRunId}) holds the lease\n`,
      );
      return EXIT_BUSY;
    }
    if (started.status !== 'completed') throw new Error(`unexpected start: ${started.status}`);
    const { report } = started;
    const failed = invocation.json
      ? await writeReportJson(process.stdout, report)
      : await writeAll(process.stdout, `${formatSummary(report)}\n`);
    if (failed) {
      process.stderr.write(
        `snapshot-cleanup: the report could not be written to stdout (${describeWriteError(failed)}); ` +
          `the run itself finished:\n${formatRunLine(report)}\n`,
      );
      return EXIT_OUTPUT;
    }
    return exitCodeFor(report);
  } catch (error) {
    progress.done();
    return refuse(error, invocation.json);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `snapshot-cleanup: unexpected error, please report it: ${(error as Error).message}\n`,
      );
      process.exitCode = 1;
    },
  );
}
