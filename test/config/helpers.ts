import { generate } from 'selfsigned';
import {
  ConfigError,
  type ApplianceConfig,
  type CleanupConfig,
  type CleanupPolicyDocument,
  type Targets,
} from '../../shared/config';

/**
 * Awaits `attempt` and returns the ConfigError it must reject with. Pass `errorClass` when the code under test
 * was loaded in an isolated module registry (its ConfigError is another class object).
 */
export async function configErrorOf(
  attempt: Promise<unknown>,
  errorClass = ConfigError,
): Promise<ConfigError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof errorClass)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error;
}

/** Everything a caller could see of an error: message, stack and own enumerable fields. */
export function visibleText(error: Error): string {
  return [error.message, error.stack ?? '', JSON.stringify(error)].join('\n');
}

/** A self-signed certificate, PEM encoded. */
export async function selfSignedPem(): Promise<string> {
  return (await generate([{ name: 'commonName', value: 'appliance.test' }], { keySize: 2048 })).cert;
}

export const VM_A = 'ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1u';
export const VM_B = '3f2b8c1e-9d4a-4e7b-8c21-5a6f0e9d1b2c';

/** The one appliance of a configuration read without a policy. */
export function onlyAppliance(config: CleanupConfig): ApplianceConfig {
  expect(config.appliances).toHaveLength(1);
  return config.appliances[0];
}

/** The ids of an appliance that has a list of targets (not discovery). */
export function idsOf(appliance: ApplianceConfig): Targets {
  if (appliance.targets.kind !== 'ids') throw new Error(`appliance ${appliance.name} discovers its targets`);
  return appliance.targets.targets;
}

export const SUBSCRIPTION = '6f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f';

/** The example policy, with real-looking ids; a fresh copy each call. */
export function examplePolicy(): CleanupPolicyDocument {
  return {
    defaults: { minAge: 'P7D', keepLatest: 1, concurrency: 16 },
    appliances: [
      {
        name: 'weu',
        url: 'https://veeam-weu.example.com',
        usernameSecret: 'veeam-weu-username',
        passwordSecret: 'veeam-weu-password',
        caCertSecret: 'veeam-weu-ca-cert',
        apiVersion: 'auto',
        targets: {
          discover: { subscriptionIds: [SUBSCRIPTION], regions: ['westeurope'], nameContains: 'app-' },
        },
        exclude: { vmIds: [VM_B], names: ['sql-*', 'dc??'], resourceGroups: ['rg-legal-hold'] },
      },
      {
        name: 'customer-b',
        url: 'https://10.20.0.4',
        usernameSecret: 'cb-username',
        passwordSecret: 'cb-password',
        targets: { vmIds: [VM_A, VM_B] },
        retention: { minAge: 'P30D' },
      },
    ],
  };
}
