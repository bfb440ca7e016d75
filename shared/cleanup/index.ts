export { runCleanup, type RunCleanupOptions, type CleanupProgress, type CleanupLogger } from './runCleanup';
export { executeCleanup, type ExecuteCleanupOptions } from './execute';
