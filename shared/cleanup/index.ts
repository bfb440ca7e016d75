export { runCleanup } from './runCleanup';
export type { RunCleanupOptions, CleanupProgress, CleanupLogger, RetentionOverride } from './types';
export { startRun, type StartRunOptions, type StartRunResult } from './startRun';
