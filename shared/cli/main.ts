#!/usr/bin/env node
import { executeCleanup } from '../cleanup';
import { ConfigError } from '../errors';
import { createConsoleTelemetry } from '../telemetry';
import { HELP, parseCli, UsageError } from './args';
import { EXIT_USAGE, exitCodeFor } from './exitCodes';
import { createProgressPrinter } from './progress';
import { formatSummary } from './summary';

/** Runs the CLI and returns its exit code; the process entry below only wires it to `process`. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let invocation;
  try {
    invocation = parseCli(argv, env);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`snapshot-cleanup: ${error.message}\n\n${HELP}`);
      return EXIT_USAGE;
    }
    throw error;
  }
  if (invocation.help) {
    process.stdout.write(HELP);
    return 0;
  }

  const progress = createProgressPrinter();
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    progress.info(`${signal}: stopping; sessions already started are reported as they stand`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const report = await executeCleanup({
      trigger: 'cli',
      env: invocation.env,
      deadline: invocation.deadline,
      abortSignal: abort.signal,
      onProgress: progress.onProgress,
      logger: { info: progress.info, warn: progress.info, error: progress.info },
      ...(invocation.logTelemetry
        ? { fallbackTelemetry: () => createConsoleTelemetry({ stream: process.stderr }) }
        : {}),
    });
    progress.done();
    process.stdout.write(
      invocation.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatSummary(report)}\n`,
    );
    return exitCodeFor(report);
  } catch (error) {
    progress.done();
    if (error instanceof ConfigError) {
      process.stderr.write(`snapshot-cleanup: configuration error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
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
