/**
 * npm run bench:appliances: the cleanup-policy scenarios (discovery over 3,000 VMs on one appliance, and one
 * run over 3 appliances × 1,000 VMs); prints their table. `--help` lists the flags.
 */
import { parseArgs } from 'node:util';
import { formatApplianceResults, runAppliancesScenario, runDiscoveryScenario } from './appliances';
import { runCommand } from './args';

const USAGE = `Usage: npm run bench:appliances -- [--only discovery|appliances] [--vms N]

  --only <name>   run one scenario: discovery (one appliance, targets found by discovery) or
                  appliances (several appliances, one run)
  --vms <n>       VMs in all (default 3000; the appliances scenario splits them over 3 appliances)
  -h, --help      show this help
`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { only: { type: 'string' }, vms: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    process.stderr.write(`bench:appliances: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const vms = values.vms === undefined ? 3000 : Number(values.vms);
  if (!Number.isInteger(vms) || vms < 3 || vms > 30_000) {
    process.stderr.write(`bench:appliances: --vms must be a whole number from 3 to 30000\n`);
    return 2;
  }
  if (values.only !== undefined && !['discovery', 'appliances'].includes(values.only)) {
    process.stderr.write(`bench:appliances: --only must be discovery or appliances\n`);
    return 2;
  }
  const results = [];
  if (values.only !== 'appliances') results.push(await runDiscoveryScenario(vms));
  if (values.only !== 'discovery') results.push(await runAppliancesScenario(3, Math.floor(vms / 3)));
  process.stdout.write(`${formatApplianceResults(results)}\n`);
  return results.every((r) => r.correct) ? 0 : 1;
}

runCommand(main);
