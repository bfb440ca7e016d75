/**
 * npm run bench: every scenario in turn (a fresh simulator child and engine child each), the sequential
 * baseline, cold start and package size; prints the table and rewrites BENCHMARKS.md when the whole suite
 * ran. `--help` lists the flags (bench/args.ts); a selection only prints. The suite is loaded only after the
 * command line parsed, so --help and usage errors answer at once.
 */
import { parseBenchArgs, runCommand, USAGE, UsageError, type BenchArgs } from './args';

async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\nRun with --help for the flags.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { runSuite } = await import('./suite');
  return runSuite(args);
}

runCommand(main);
