import type { TokenCredential } from '@azure/identity';
import type { Targets } from './targets';

export type ApiVersionSetting = 'v1' | 'v8.1' | 'auto';

/** The validated configuration of one run. Holds secrets: never log or serialise it whole. */
export interface CleanupConfig {
  /** Appliance base URL validated by parseApplianceUrl (https, or http for loopback), without trailing slash. */
  applianceUrl: string;
  username: string;
  password: string;
  /** PEM to trust for the appliance's TLS certificate; checked to hold parseable BEGIN CERTIFICATE blocks. */
  caCert?: string;
  /** VEEAM_API_VERSION, default auto. */
  apiVersion: ApiVersionSetting;
  /** CLEANUP_CONCURRENCY: integer 1..256, default 16. */
  concurrency: number;
  /** CLEANUP_MAX_SESSION_WAIT, default 30 min. */
  maxSessionWaitMs: number;
  /** CLEANUP_TIME_BUDGET, optional (the timer function uses it). */
  timeBudgetMs?: number;
  /** CLEANUP_DRY_RUN: true/false/1/0/yes/no (any case), default false. */
  dryRun: boolean;
  /** CLEANUP_MIN_AGE, optional: only manual snapshots at least this old are deleted. */
  minAgeMs?: number;
  /** CLEANUP_KEEP_LATEST, optional: the newest manual snapshots of each VM that are kept. */
  keepLatest?: number;
  /** CLEANUP_BATCH: v8.1 batch delete, same words as CLEANUP_DRY_RUN, default false. */
  batch: boolean;
  targets: Targets;
  /** keyVault whenever KEY_VAULT_URL is set, even if every secret was overridden by its environment twin. */
  source: 'keyVault' | 'environment';
}

export interface LoadConfigOptions {
  /** Settings to read (default process.env). The CLI passes its flags merged over process.env here. */
  env?: Record<string, string | undefined>;
  /** Key Vault credential (default: DefaultAzureCredential, with managedIdentityClientId = AZURE_CLIENT_ID when set). */
  credential?: TokenCredential;
  /** Secret cache lifetime (default 10 min). */
  cacheTtlMs?: number;
}

/** One thing wrong with the configuration: the setting or secret at fault and what is wrong, never the value. */
export interface Problem {
  setting: string;
  problem: string;
}
