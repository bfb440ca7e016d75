'use strict';
// Telemetry as a trigger gets it: createTelemetryFromEnv(process.env), one event and one metric, a bounded flush.
// Input: argv[2] = JSON { flushTimeoutMs }. Output: one JSON line on stdout.
const path = require('node:path');
require('../../support/ts-register');

const { flushTimeoutMs } = JSON.parse(process.argv[2]);
const { createTelemetryFromEnv } = require(path.join(__dirname, '../../../shared/telemetry/fromEnv.ts'));

const telemetry = createTelemetryFromEnv(process.env, () => {
  throw new Error('APPLICATIONINSIGHTS_CONNECTION_STRING was not picked up');
});
telemetry.trackEvent('SnapshotCleanup.RunCompleted', { runId: 'run-aad' }, { targets: 1 });
telemetry.trackMetric('SnapshotCleanup.VmsSucceeded', 1, { runId: 'run-aad' });
telemetry
  .flush(flushTimeoutMs)
  .then(() => process.stdout.write(JSON.stringify({ flushReturned: true }) + '\n'));
