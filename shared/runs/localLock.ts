/**
 * One cleanup at a time in this process, for runs without storage (the CLI, local runs, tests): a second start
 * while a run is in progress gets the running runId instead of racing the first run over the same VMs. With
 * storage configured the blob lease does this across instances.
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
