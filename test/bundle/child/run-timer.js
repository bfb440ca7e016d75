'use strict';
// Copied next to the bundle and run there: loads only ./app.js (no ts-register, no node_modules anywhere up the
// tree) and calls the timer handler the way the host would. Output: one JSON line on stdout.
const app = require('./app.js');

const logs = [];
const record =
  (level) =>
  (...args) =>
    logs.push(`${level}: ${args.map(String).join(' ')}`);
const context = {
  invocationId: 'bundle-test',
  functionName: 'nightlySnapshotCleanup',
  traceContext: { traceParent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  log: record('info'),
  info: record('info'),
  warn: record('warn'),
  error: record('error'),
  debug: record('debug'),
  trace: record('trace'),
};
const timer = { isPastDue: false, schedule: { adjustForDST: false } };

app.nightlySnapshotCleanup(timer, context).then(
  () => {
    const guard = process.env.NETWORK_GUARD_FILE;
    const loaded = Object.keys(require.cache).filter((file) => file !== __filename && file !== guard);
    process.stdout.write(JSON.stringify({ ok: true, logs, loaded }) + '\n');
  },
  (error) => process.stdout.write(JSON.stringify({ ok: false, error: String(error), logs }) + '\n'),
);
