'use strict';
// Runs a real cleanup (startRun, the entry point of every trigger) against an in-process appliance simulator,
// with telemetry going to App Insights through the real SDK.
// Input: argv[2] = JSON { canary, traceParent }. Output: one JSON line on stdout with the run's report.
const path = require('node:path');
require('../../support/ts-register');

const { canary, traceParent } = JSON.parse(process.argv[2]);
const repo = path.join(__dirname, '../../..');
const { startSimulator } = require(path.join(repo, 'dev/simulator/index.ts'));
const { startRun } = require(path.join(repo, 'shared/cleanup/index.ts'));

async function main() {
  const password = `pw-${canary}`;
  const simulator = await startSimulator({
    users: [{ username: 'svc-cleanup', password }],
    vms: [
      { id: 'vm-ok', sessionDurationMs: 50 },
      { id: 'vm-warn', sessionDurationMs: 50, outcome: 'Warning' },
      { id: 'vm-err', sessionDurationMs: 50, outcome: 'Error' },
    ],
  });
  try {
    const started = await startRun({
      trigger: 'timer',
      traceParent,
      env: {
        ...process.env,
        VEEAM_URL: simulator.url,
        VEEAM_USERNAME: 'svc-cleanup',
        VEEAM_PASSWORD: password,
        VEEAM_VM_IDS: 'vm-ok, vm-warn, vm-err, vm-missing, bad/id',
      },
      client: { poll: { initialIntervalMs: 30, maxIntervalMs: 60 } },
    });
    process.stdout.write(`${JSON.stringify({ report: started.report })}\n`);
  } finally {
    await simulator.close();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
