/**
 * Configuration errors name the setting or secret at fault and what is wrong with it, never its value.
 * Every entry point maps this class to "nothing attempted" (CLI exit 2, HTTP 500 problem, timer failure).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The setting or secret at fault, e.g. VEEAM_URL or the secret veeam-password. */
    readonly setting: string,
    /** What is wrong with it. Must not contain the value. */
    readonly problem: string,
    /** Where the value came from ("environment", "command line", "Key Vault https://…"), when known. */
    readonly source?: string,
  ) {
    super(`${setting}${source ? ` (${source})` : ''}: ${problem}`);
  }
}
