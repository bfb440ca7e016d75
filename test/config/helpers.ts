import { generate } from 'selfsigned';
import { ConfigError } from '../../shared/config';

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
