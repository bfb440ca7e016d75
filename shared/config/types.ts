import type { TokenCredential } from '@azure/identity';
import type { Targets } from './targets';

export type ApiVersionSetting = 'v1' | 'v8.1' | 'auto';

/** `targets.discover` of a policy appliance: which VMs the appliance lists as cleanup targets. */
export interface DiscoveryFilter {
  /** One listing per subscription (SubscriptionId); absent: every subscription the appliance sees. */
  subscriptionIds?: string[];
  /** Azure region names (RegionIds), e.g. westeurope. */
  regions?: string[];
  /** Part of the VM name (SearchPattern). */
  nameContains?: string;
}

/** `exclude` of a policy appliance. A VM matching any rule is reported Excluded and gets no request. */
export interface Exclusions {
  vmIds?: string[];
  /** Globs over the VM name: `*` any run, `?` one character, case-insensitive. */
  names?: string[];
  /** Resource group names, case-insensitive. */
  resourceGroups?: string[];
}

/** Where an appliance's targets come from: a list of ids, or the appliance's own VM listing. */
export type TargetSource = { kind: 'ids'; targets: Targets } | { kind: 'discover'; filter: DiscoveryFilter };

/** One appliance of a run, fully resolved. Holds secrets: never log or serialise it whole. */
export interface ApplianceConfig {
  /** Policy name of the appliance; 'default' for the single-appliance settings. */
  name: string;
  /** Appliance base URL validated by parseApplianceUrl (https, or http for loopback), without trailing slash. */
  applianceUrl: string;
  username: string;
  password: string;
  /** PEM to trust for the appliance's TLS certificate; checked to hold parseable BEGIN CERTIFICATE blocks. */
  caCert?: string;
  /** VEEAM_API_VERSION / apiVersion, default auto. */
  apiVersion: ApiVersionSetting;
  /** CLEANUP_CONCURRENCY / concurrency: integer 1..256, default 16. */
  concurrency: number;
  /**
   * CLEANUP_MAX_RUNNING_SESSIONS / maxRunningSessions: integer 1..10000; unset means no cap. How many deletion
   * sessions this appliance keeps running at once (concurrency only bounds submissions in flight).
   */
  maxRunningSessions?: number;
  /** CLEANUP_BATCH / batch: v8.1 batch delete, default false. */
  batch: boolean;
  /** CLEANUP_MIN_AGE / retention.minAge: a manual snapshot younger than this is kept (unset = no age rule). */
  minAgeMs?: number;
  /** CLEANUP_KEEP_LATEST / retention.keepLatest: the newest N manual snapshots of each VM are kept. */
  keepLatest?: number;
  targets: TargetSource;
  exclude?: Exclusions;
  /** Where each part came from; describeProvenance turns it into the line a run starts with. */
  provenance: ConfigProvenance;
}

/** The validated configuration of one run. Holds secrets: never log or serialise it whole. */
export interface CleanupConfig {
  /** At least one; names and origins are unique. In policy order. */
  appliances: ApplianceConfig[];
  /** CLEANUP_MAX_SESSION_WAIT, default 30 min. */
  maxSessionWaitMs: number;
  /** CLEANUP_TIME_BUDGET, optional (the timer function uses it). */
  timeBudgetMs?: number;
  /** CLEANUP_DRY_RUN: true/false/1/0/yes/no (any case), default false. */
  dryRun: boolean;
  /** keyVault whenever KEY_VAULT_URL is set, even if every secret was overridden by its environment twin. */
  source: 'keyVault' | 'environment';
  /** Where the cleanup policy came from; absent when the single-appliance settings were read. */
  policy?: SettingOrigin;
}

/** Where one value came from. Printed as "<name> (<source>)", e.g. "secret veeam-vm-ids (Key Vault https://…)". */
export interface SettingOrigin {
  /** The setting, flag or secret: VEEAM_URL, --vm-file vms.txt, secret veeam-vm-ids. */
  name: string;
  /** "environment", "command line", or "Key Vault <vault origin>". */
  source: string;
}

/** The origin of each part of a configuration; never a value (the password's origin only). */
export interface ConfigProvenance {
  applianceUrl: SettingOrigin;
  username: SettingOrigin;
  password: SettingOrigin;
  targets: SettingOrigin;
  /** Absent when no CA certificate is configured (the system trust store is used). */
  caCert?: SettingOrigin;
}

/** What the CLI adds on top of the environment. */
export interface CommandLineSettings {
  /** Values given as flags, keyed by the setting they stand for (VEEAM_URL → { flag: "--appliance-url", … }). */
  settings?: Record<string, { flag: string; value: string }>;
  /**
   * Targets from --vm / --vm-file, already split per source and merged. When set, VEEAM_VM_IDS and the
   * veeam-vm-ids secret are not read at all: an explicit list never falls back to the configured one.
   */
  targets?: { entries: string[]; origin: SettingOrigin };
  /** --policy <file>: the policy document, read by the CLI; wins over CLEANUP_POLICY and the vault. */
  policy?: { text: string; origin: SettingOrigin };
}

export interface LoadConfigOptions {
  /** Settings to read (default process.env). The CLI passes its flags merged over process.env here. */
  env?: Record<string, string | undefined>;
  /** Key Vault credential (default: DefaultAzureCredential, with managedIdentityClientId = AZURE_CLIENT_ID when set). */
  credential?: TokenCredential;
  /** Secret cache lifetime (default 10 min). */
  cacheTtlMs?: number;
  /** Flags and targets given on the command line; they win over the environment and Key Vault. */
  commandLine?: CommandLineSettings;
}

/** One thing wrong with the configuration: the setting or secret at fault and what is wrong, never the value. */
export interface Problem {
  setting: string;
  problem: string;
  /** Where the value came from (see SettingOrigin.source), when the problem is about a value. */
  source?: string;
}
