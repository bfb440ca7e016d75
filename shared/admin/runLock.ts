/**
 * One cleanup at a time per instance: a second admin request while a run is in progress gets 409 with the
 * running runId instead of racing the first run over the same VMs.
 */
let current: string | undefined;

export function tryAcquireRun(
  runId: string,
): { acquired: true; release: () => void } | { acquired: false; runningRunId: string } {
  if (current !== undefined) return { acquired: false, runningRunId: current };
  current = runId;
  return {
    acquired: true,
    release: () => {
      if (current === runId) current = undefined;
    },
  };
}
