'use strict';
// Runs the telemetry module against the real applicationinsights SDK, the way a handler would: one run
// context, a realistic report, an exception and a Veeam dependency, then a bounded flush.
// Input: argv[2] = JSON { canary, traceParent, flushTimeoutMs }. Output: one JSON line on stdout.
const path = require('node:path');
require('../../support/ts-register');

const { canary, traceParent, flushTimeoutMs } = JSON.parse(process.argv[2]);
const telemetryModule = require(path.join(__dirname, '../../../shared/telemetry/index.ts'));
const { createAppInsightsTelemetry, withRunContext, operationFromTraceParent, reportToTelemetry } =
  telemetryModule;
const { computeTotals } = require(path.join(__dirname, '../../../shared/report.ts'));

const sdkLoaded = () =>
  Object.keys(require.cache).some((file) => file.includes(`${path.sep}applicationinsights${path.sep}`));

const base = createAppInsightsTelemetry({
  connectionString: process.env.APPLICATIONINSIGHTS_CONNECTION_STRING,
  flushTimeoutMs,
});
const sdkLoadedAtCreate = sdkLoaded();
const runId = 'run-20260101-0200';
const telemetry = withRunContext(base, { runId, trigger: 'timer', ...operationFromTraceParent(traceParent) });

const results = [
  {
    vmId: 'vm-ok',
    appliance: 'default',
    outcome: 'Succeeded',
    sessionId: 'sess-ok',
    sessionStatus: 'Success',
    attempts: 1,
    durationMs: 4200,
  },
  {
    vmId: 'vm-warn',
    appliance: 'default',
    outcome: 'Warning',
    sessionId: 'sess-warn',
    sessionStatus: 'Warning',
    attempts: 1,
    durationMs: 6100,
    log: [
      { time: '2026-01-01T02:01:00Z', status: 'Success', message: 'Snapshot 1 deleted' },
      {
        time: '2026-01-01T02:02:00Z',
        status: 'Warning',
        message: `Snapshot 2 kept; retry used password=${canary}`,
      },
    ],
  },
  {
    vmId: 'vm-failed',
    appliance: 'default',
    outcome: 'Failed',
    attempts: 3,
    durationMs: 900,
    error: `Appliance answered 500 to a request with Authorization: Bearer ${canary}`,
  },
  {
    vmId: 'vm-timeout',
    appliance: 'default',
    outcome: 'TimedOut',
    sessionId: 'sess-slow',
    sessionStatus: 'Running',
    attempts: 1,
    durationMs: 30000,
  },
];
const report = {
  runId,
  trigger: 'timer',
  apiVersion: 'v8.1',
  dryRun: false,
  startedAt: '2026-01-01T02:00:00Z',
  finishedAt: '2026-01-01T02:00:41Z',
  durationMs: 41200,
  duplicatesRemoved: 1,
  totals: computeTotals(results),
  results,
  appliances: [
    {
      name: 'default',
      origin: 'https://veeam.example.com',
      apiVersion: 'v8.1',
      totals: computeTotals(results),
    },
  ],
};

reportToTelemetry(report, telemetry);
const error = new Error(
  `request to https://admin:${canary}@appliance.example/api?access_token=${canary} failed`,
);
error.name = 'VeeamTransportError';
telemetry.trackException(error, { vmId: 'vm-failed', detail: `refresh_token=${canary}` });
telemetry.trackDependency({
  name: 'POST /api/v8.1/protectedItem/virtualMachines/{id}/deleteManualSnapshots',
  target: `https://appliance.example:8443/api/v8.1/protectedItem/virtualMachines/vm-ok/deleteManualSnapshots?access_token=${canary}`,
  resultCode: 202,
  durationMs: 120,
  success: true,
  properties: { vmId: 'vm-ok', header: `Bearer ${canary}` },
});

const sdkLoadedAfterTrack = sdkLoaded();
telemetry.flush().then(() => {
  process.stdout.write(
    JSON.stringify({ flushReturned: true, sdkLoadedAtCreate, sdkLoadedAfterTrack }) + '\n',
  );
});
