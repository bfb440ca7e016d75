export { runCleanup } from './runCleanup';
export type { RunCleanupOptions, CleanupProgress, CleanupLogger, RetentionOverride } from './types';
export { executeCleanup, type ExecuteCleanupOptions } from './execute';
