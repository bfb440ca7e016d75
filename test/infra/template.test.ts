import fs from 'node:fs';
import path from 'node:path';
import {
  bicepFiles,
  bodyOf,
  declarations,
  descendants,
  exprText,
  INFRA,
  isExpr,
  named,
  parseBicep,
  parseInfra,
  propertyKey,
  REPO,
  resources,
  syntaxProblems,
  toValue,
  type BicepFile,
  type Resource,
  type Value,
} from './bicep';

type Obj = Record<string, Value>;

let files: BicepFile[];
let all: Resource[];
let source: string;

const ofType = (type: string): Resource[] => all.filter((r) => r.type === type);
const one = (type: string): Resource => {
  const found = ofType(type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
};
const at = (value: Value | undefined, ...keys: string[]): Value | undefined =>
  keys.reduce<Value | undefined>(
    (v, k) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj)[k] : undefined),
    value,
  );
const expr = (value: Value | undefined): string => (isExpr(value) ? value.expr.replace(/\s+/g, ' ') : '');

beforeAll(async () => {
  files = await parseInfra();
  all = resources(files);
  source = files.map((f) => f.source).join('\n');
});

describe('every .bicep file parses with tree-sitter-bicep (wasm)', () => {
  it('finds the templates', () => {
    expect(bicepFiles().map((f) => path.relative(INFRA, f))).toContain('main.bicep');
  });

  it('has no ERROR or MISSING node in any file', () => {
    expect(files.flatMap(syntaxProblems)).toEqual([]);
  });

  it('reports a broken template (the gate can fail)', async () => {
    const broken = await parseBicep(files[0].source.replace("kind: 'StorageV2'", "kind: 'StorageV2',,,"));
    expect(syntaxProblems(broken).length).toBeGreaterThan(0);
  });
});

describe('resources', () => {
  it('declares the whole deployment with plain resources (no registry modules)', () => {
    const types = new Set(all.map((r) => r.type));
    for (const type of [
      'Microsoft.ManagedIdentity/userAssignedIdentities',
      'Microsoft.Web/serverfarms',
      'Microsoft.Web/sites',
      'Microsoft.Web/sites/config',
      'Microsoft.Storage/storageAccounts',
      'Microsoft.Storage/storageAccounts/blobServices/containers',
      'Microsoft.KeyVault/vaults',
      'Microsoft.OperationalInsights/workspaces',
      'Microsoft.Insights/components',
      'Microsoft.Insights/actionGroups',
      'Microsoft.Insights/scheduledQueryRules',
      'Microsoft.Authorization/roleAssignments',
      'Microsoft.Network/virtualNetworks',
      'Microsoft.Network/privateEndpoints',
      'Microsoft.Network/privateDnsZones',
      'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
      'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
    ]) {
      expect(types).toContain(type);
    }
    expect(source).not.toMatch(/br\/public:|br:/);
  });

  it('runs on a Flex Consumption FC1 plan', () => {
    const plan = bodyOf(one('Microsoft.Web/serverfarms'));
    expect(plan.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect(at(plan, 'properties', 'reserved')).toBe(true);
  });

  it('is a functionapp,linux site with the Flex functionAppConfig (node 22, memory, scale, blob deployment via the UAMI)', () => {
    const site = bodyOf(one('Microsoft.Web/sites'));
    const identity = one('Microsoft.ManagedIdentity/userAssignedIdentities').symbol;
    expect(site.kind).toBe('functionapp,linux');
    expect(at(site, 'identity', 'type')).toBe('UserAssigned');
    expect(Object.keys(at(site, 'identity', 'userAssignedIdentities') as Obj)).toEqual([
      `\${${identity}.id}`,
    ]);
    const config = at(site, 'properties', 'functionAppConfig') as Obj;
    expect(config.runtime).toEqual({ name: 'node', version: '22' });
    expect(expr(at(config, 'scaleAndConcurrency', 'instanceMemoryMB'))).toBe('instanceMemoryMB');
    expect(expr(at(config, 'scaleAndConcurrency', 'maximumInstanceCount'))).toBe('maximumInstanceCount');
    const storage = at(config, 'deployment', 'storage') as Obj;
    expect(storage.type).toBe('blobContainer');
    expect(expr(storage.value)).toMatch(/primaryEndpoints\.blob\}\$\{deploymentContainerName\}/);
    expect(storage.authentication).toEqual({
      type: 'UserAssignedIdentity',
      userAssignedIdentityResourceId: { expr: `${identity}.id` },
    });
    expect(expr(at(site, 'properties', 'serverFarmId'))).toBe(
      `${one('Microsoft.Web/serverfarms').symbol}.id`,
    );
    expect(at(site, 'properties', 'httpsOnly')).toBe(true);
  });

  it('takes instanceMemoryMB as a parameter (default 2048, 512 allowed) and maximumInstanceCount', () => {
    const params = declarations(files, 'parameter_declaration');
    const memory = params.get('instanceMemoryMB');
    expect(memory?.node.text).toMatch(/int = 2048$/);
    expect(memory?.decorators).toMatch(/@allowed\(\[[^\]]*\b512\b[^\]]*\]\)/);
    expect(params.get('maximumInstanceCount')?.node.text).toMatch(/^param maximumInstanceCount int/);
  });

  it('has a storage account with shared keys and public blobs off, TLS 1.2, and the deployment container', () => {
    const storage = bodyOf(one('Microsoft.Storage/storageAccounts'));
    expect(storage.properties).toMatchObject({
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      minimumTlsVersion: 'TLS1_2',
      supportsHttpsTrafficOnly: true,
    });
    const container = bodyOf(one('Microsoft.Storage/storageAccounts/blobServices/containers'));
    expect(expr(container.name)).toBe('deploymentContainerName');
    expect(container.properties).toEqual({ publicAccess: 'None' });
  });

  it('has an RBAC Key Vault with soft delete and purge protection', () => {
    const vault = bodyOf(one('Microsoft.KeyVault/vaults'));
    expect(vault.properties).toMatchObject({
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      enablePurgeProtection: true,
    });
  });

  it('has Log Analytics and a workspace-based App Insights with local auth disabled', () => {
    const workspace = one('Microsoft.OperationalInsights/workspaces').symbol;
    const insights = bodyOf(one('Microsoft.Insights/components'));
    expect(at(insights, 'properties', 'DisableLocalAuth')).toBe(true);
    expect(expr(at(insights, 'properties', 'WorkspaceResourceId'))).toBe(`${workspace}.id`);
  });

  it('turns both alert rules of docs/alert-rules.json into scheduledQueryRules with an email action group', () => {
    const docs = JSON.parse(fs.readFileSync(path.join(REPO, 'docs/alert-rules.json'), 'utf8')) as {
      resources: Array<{ type: string; name: string }>;
    };
    expect(docs.resources.map((r) => `${r.type}:${r.name}`)).toEqual([
      'Microsoft.Insights/scheduledQueryRules:snapshot-cleanup-vm-failed',
      'Microsoft.Insights/scheduledQueryRules:snapshot-cleanup-no-run-26h',
    ]);
    const rules = one('Microsoft.Insights/scheduledQueryRules');
    expect(rules.loop).toBe(true);
    const loopSource = descendants(files[0].root, 'for_statement')
      .map((n) => n.text)
      .find((text) => text.includes('scopes'));
    const docsVar = declarations(files, 'variable_declaration').get('alertDocs')?.node.text;
    expect(docsVar).toBe("var alertDocs = loadJsonContent('../docs/alert-rules.json')");
    expect(loopSource).toMatch(/^\[\s*for rule in alertDocs\.resources:/);
    const body = bodyOf(rules);
    const insights = one('Microsoft.Insights/components').symbol;
    const group = one('Microsoft.Insights/actionGroups');
    expect(body.properties).toMatchObject({
      scopes: [{ expr: `${insights}.id` }],
      criteria: { expr: 'rule.properties.criteria' },
      actions: { actionGroups: [{ expr: `${group.symbol}.id` }] },
    });
    expect(expr(at(bodyOf(group), 'properties', 'emailReceivers'))).toMatch(/emailAddress: alertEmail/);
    expect(declarations(files, 'parameter_declaration').has('alertEmail')).toBe(true);
  });
});

describe('role assignments', () => {
  const EXPECTED: Array<{ role: string; guid: string; scope: string }> = [
    {
      role: 'storageBlobDataOwner',
      guid: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      scope: 'Microsoft.Storage/storageAccounts',
    },
    {
      role: 'storageQueueDataContributor',
      guid: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      scope: 'Microsoft.Storage/storageAccounts',
    },
    {
      role: 'storageTableDataContributor',
      guid: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      scope: 'Microsoft.Storage/storageAccounts',
    },
    {
      role: 'monitoringMetricsPublisher',
      guid: '3913510d-42f4-4e42-8a64-420c390055eb',
      scope: 'Microsoft.Insights/components',
    },
    {
      role: 'keyVaultSecretsUser',
      guid: '4633458b-17de-408a-b874-0445c86b69e6',
      scope: 'Microsoft.KeyVault/vaults',
    },
  ];
  const roleVar = () =>
    toValue(declarations(files, 'variable_declaration').get('roles')!.node.namedChildren[1]!) as Obj;
  const assignments = () => ofType('Microsoft.Authorization/roleAssignments').map(bodyOf);

  it.each(EXPECTED)(
    '$role ($guid) for the identity on its $scope, named guid(scope, principal, role)',
    ({ role, guid, scope }) => {
      expect(roleVar()[role]).toBe(guid);
      const scopeSymbol = one(scope).symbol;
      const identity = one('Microsoft.ManagedIdentity/userAssignedIdentities').symbol;
      const matches = assignments().filter((a) =>
        expr(at(a, 'properties', 'roleDefinitionId')).includes(`roles.${role})`),
      );
      expect(matches).toHaveLength(1);
      const [assignment] = matches;
      expect(expr(assignment.scope)).toBe(scopeSymbol);
      expect(expr(assignment.name)).toBe(`guid(${scopeSymbol}.id, ${identity}.id, roles.${role})`);
      expect(at(assignment, 'properties')).toMatchObject({
        principalId: { expr: `${identity}.properties.principalId` },
        principalType: 'ServicePrincipal',
        roleDefinitionId: {
          expr: `subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.${role})`,
        },
      });
    },
  );

  it('gives the deployer principal Key Vault Secrets Officer on the vault', () => {
    expect(roleVar().keyVaultSecretsOfficer).toBe('b86a8fe4-44ce-4948-aee5-eccb2c155cd7');
    const officer = ofType('Microsoft.Authorization/roleAssignments').find((r) =>
      expr(at(bodyOf(r), 'properties', 'roleDefinitionId')).includes('roles.keyVaultSecretsOfficer'),
    )!;
    const vault = one('Microsoft.KeyVault/vaults').symbol;
    expect(officer.condition).toBe('(!empty(principalId))');
    expect(expr(bodyOf(officer).scope)).toBe(vault);
    expect(expr(bodyOf(officer).name)).toBe(`guid(${vault}.id, principalId, roles.keyVaultSecretsOfficer)`);
    expect(expr(at(bodyOf(officer), 'properties', 'principalId'))).toBe('principalId');
  });

  it('names every assignment guid(<scope>.id, <principal>, roles.<role>) and writes no GUID outside the roles table', () => {
    for (const a of assignments()) expect(expr(a.name)).toMatch(/^guid\(\w+\.id, [\w.]+, roles\.\w+\)$/);
    const guids = source.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? [];
    expect(guids.sort()).toEqual(Object.values(roleVar()).sort());
  });
});

describe('app settings', () => {
  const settings = (): Obj => bodyOf(one('Microsoft.Web/sites/config')).properties as Obj;

  it('is the appsettings of the site', () => {
    const config = bodyOf(one('Microsoft.Web/sites/config'));
    expect(config.name).toBe('appsettings');
    expect(expr(config.parent)).toBe(one('Microsoft.Web/sites').symbol);
  });

  it('reaches storage by identity only', () => {
    const s = settings();
    const identity = one('Microsoft.ManagedIdentity/userAssignedIdentities').symbol;
    const storage = one('Microsoft.Storage/storageAccounts').symbol;
    for (const service of ['blob', 'queue', 'table']) {
      expect(expr(s[`AzureWebJobsStorage__${service}ServiceUri`])).toBe(
        `${storage}.properties.primaryEndpoints.${service}`,
      );
    }
    expect(s.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(expr(s.AzureWebJobsStorage__clientId)).toBe(`${identity}.properties.clientId`);
    expect(expr(s.AZURE_CLIENT_ID)).toBe(`${identity}.properties.clientId`);
    expect(Object.keys(s)).not.toContain('AzureWebJobsStorage');
  });

  it('sends telemetry with Entra ID auth and names the vault', () => {
    const s = settings();
    const identity = one('Microsoft.ManagedIdentity/userAssignedIdentities').symbol;
    expect(expr(s.APPLICATIONINSIGHTS_CONNECTION_STRING)).toBe(
      `${one('Microsoft.Insights/components').symbol}.properties.ConnectionString`,
    );
    expect(expr(s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING)).toBe(
      `'ClientId=\${${identity}.properties.clientId};Authorization=AAD'`,
    );
    expect(expr(s.KEY_VAULT_URL)).toBe(`${one('Microsoft.KeyVault/vaults').symbol}.properties.vaultUri`);
  });

  it('sets the schedule, API version, retention and the time budget from parameters', () => {
    const s = settings();
    expect(expr(s.CLEANUP_SCHEDULE)).toBe('cleanupSchedule');
    expect(expr(s.VEEAM_API_VERSION)).toBe('veeamApiVersion');
    expect(expr(s.CLEANUP_MIN_AGE)).toBe('cleanupMinAge');
    expect(expr(s.CLEANUP_KEEP_LATEST)).toBe('cleanupKeepLatest');
    expect(expr(s.CLEANUP_TIME_BUDGET)).toBe("'PT${timeBudgetMinutes}M'");
    expect(expr(s.AzureFunctionsJobHost__functionTimeout)).toMatch(/timeBudgetHours.*timeBudgetRest/);
    const schedule = declarations(files, 'parameter_declaration').get('cleanupSchedule');
    expect(schedule?.node.text).toBe("param cleanupSchedule string = '0 0 2 * * *'");
    expect(schedule?.decorators).toMatch(/UTC/);
  });

  it('waits for the role assignments before the host starts with these settings', () => {
    const dependsOn = bodyOf(one('Microsoft.Web/sites/config')).dependsOn as Value[];
    const symbols = dependsOn.map(exprText);
    for (const r of ofType('Microsoft.Authorization/roleAssignments').filter((r) => !r.condition)) {
      expect(symbols).toContain(r.symbol);
    }
  });
});

describe('nothing Flex deprecates, no key, no secret', () => {
  const DEPRECATED = [
    'FUNCTIONS_WORKER_RUNTIME',
    'FUNCTIONS_WORKER_RUNTIME_VERSION',
    'FUNCTIONS_EXTENSION_VERSION',
    'WEBSITE_RUN_FROM_PACKAGE',
    'WEBSITE_CONTENTSHARE',
    'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
    'WEBSITE_SKIP_CONTENTSHARE_VALIDATION',
    'SCM_DO_BUILD_DURING_DEPLOYMENT',
    'ENABLE_ORYX_BUILD',
    'WEBSITE_NODE_DEFAULT_VERSION',
    'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
    'FUNCTIONS_MAX_HTTP_CONCURRENCY',
    'WEBSITE_VNET_ROUTE_ALL',
    'WEBSITE_CONTENTOVERVNET',
    'WEBSITE_DNS_SERVER',
    'WEBSITE_TIME_ZONE',
    'TZ',
    'alwaysOn',
    'linuxFxVersion',
    'functionAppScaleLimit',
    'preWarmedInstanceCount',
    'vnetRouteAllEnabled',
    'use32BitWorkerProcess',
    'ftpsState',
    'containerSize',
    'isReserved',
  ];

  it('uses none of the deprecated settings or properties as a key anywhere', () => {
    const keys = files.flatMap((f) =>
      descendants(f.root, 'object_property').map((p) => propertyKey(p.namedChildren[0]!)),
    );
    expect(keys.filter((k) => DEPRECATED.includes(k))).toEqual([]);
    for (const name of DEPRECATED) expect(source).not.toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('reads no key and writes no connection-string secret', () => {
    expect(source).not.toMatch(
      /listKeys\(|listkeys|AccountKey=|SharedAccessKey|InstrumentationKey|listSecrets|\.keys\b/i,
    );
    expect(source).not.toMatch(/DEPLOYMENT_STORAGE_CONNECTION_STRING|StorageAccountConnectionString/);
  });

  const SAFE_OUTPUT =
    /^(\w+\.name|resourceGroup\(\)\.name|'https:\/\/\$\{site\.properties\.defaultHostName\}\/api'|vault\.properties\.vaultUri)$/;

  it('outputs the app name, the function base URL and the vault name, and nothing secret', () => {
    const outputs = declarations(files, 'output_declaration');
    expect([...outputs.keys()]).toEqual(
      expect.arrayContaining(['AZURE_FUNCTION_APP_NAME', 'FUNCTION_BASE_URL', 'AZURE_KEY_VAULT_NAME']),
    );
    expect(outputs.get('FUNCTION_BASE_URL')!.node.text).toMatch(
      /'https:\/\/\$\{site\.properties\.defaultHostName\}\/api'$/,
    );
    for (const [name, { node, decorators }] of outputs) {
      expect(name).not.toMatch(/secret|password|connection|token/i);
      // Values may only be names, the host name and the vault URI: nothing else of a resource is read out.
      const value = node.namedChildren[2]!.text;
      expect(value).toMatch(SAFE_OUTPUT);
      expect(decorators).not.toMatch(/@secure/);
    }
  });
});

describe('optional VNet', () => {
  it('is switched by vnetEnabled (default false) and can use an existing VNet subnet', () => {
    const params = declarations(files, 'parameter_declaration');
    expect(params.get('vnetEnabled')?.node.text).toBe('param vnetEnabled bool = false');
    expect(params.get('existingAppSubnetId')?.node.text).toBe("param existingAppSubnetId string = ''");
    expect(params.get('existingPrivateEndpointSubnetId')?.node.text).toBe(
      "param existingPrivateEndpointSubnetId string = ''",
    );
    const vnet = one('Microsoft.Network/virtualNetworks');
    expect(vnet.condition).toBe('(createVnet)');
    expect(declarations(files, 'variable_declaration').get('createVnet')?.node.text).toBe(
      'var createVnet = vnetEnabled && empty(existingAppSubnetId)',
    );
    expect(expr(at(bodyOf(one('Microsoft.Web/sites')), 'properties', 'virtualNetworkSubnetId'))).toBe(
      'vnetEnabled ? appSubnetId : null',
    );
  });

  it('delegates the app subnet to Microsoft.App/environments', () => {
    const subnets = at(bodyOf(one('Microsoft.Network/virtualNetworks')), 'properties', 'subnets') as Obj[];
    const app = subnets.find((s) => s.name === 'app')!;
    expect(at(app, 'properties', 'delegations')).toEqual([
      { name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } },
    ]);
    expect(subnets.some((s) => s.name === 'private-endpoints')).toBe(true);
  });

  it('has private endpoints and private DNS zones for blob, queue, table and the vault, only with vnetEnabled', () => {
    const links = toValue(
      declarations(files, 'variable_declaration').get('privateLinks')!.node.namedChildren[1]!,
    ) as Obj[];
    expect(links.map((l) => [l.groupId, exprText(l.target)])).toEqual([
      ['blob', 'storage.id'],
      ['queue', 'storage.id'],
      ['table', 'storage.id'],
      ['vault', 'vault.id'],
    ]);
    expect(links[3].zone).toBe('privatelink.vaultcore.azure.net');
    for (const type of [
      'Microsoft.Network/privateEndpoints',
      'Microsoft.Network/privateDnsZones',
      'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
      'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
    ]) {
      const r = one(type);
      expect([r.type, r.loop, r.condition]).toEqual([type, true, '(vnetEnabled)']);
    }
    const endpoint = bodyOf(one('Microsoft.Network/privateEndpoints'));
    expect(at(endpoint, 'properties', 'privateLinkServiceConnections')).toEqual([
      {
        name: { expr: 'link.name' },
        properties: { privateLinkServiceId: { expr: 'link.target' }, groupIds: [{ expr: 'link.groupId' }] },
      },
    ]);
    expect(named(files[0].root, 'resource_declaration').length).toBe(all.length);
  });

  it('closes storage and the vault to the public network when the VNet is on', () => {
    for (const type of ['Microsoft.Storage/storageAccounts', 'Microsoft.KeyVault/vaults']) {
      expect(expr(at(bodyOf(one(type)), 'properties', 'publicNetworkAccess'))).toBe(
        "vnetEnabled ? 'Disabled' : 'Enabled'",
      );
    }
  });
});

describe('azd wiring', () => {
  it('maps every parameter file entry to a template parameter and covers the required ones', () => {
    const file = JSON.parse(fs.readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    const params = declarations(files, 'parameter_declaration');
    for (const name of Object.keys(file.parameters)) expect(params.has(name)).toBe(true);
    const required = [...params].filter(([, p]) => !/ = /.test(p.node.text)).map(([name]) => name);
    for (const name of required) expect(Object.keys(file.parameters)).toContain(name);
    expect(file.parameters.environmentName.value).toBe('${AZURE_ENV_NAME}');
    expect(file.parameters.principalId.value).toBe('${AZURE_PRINCIPAL_ID}');
  });

  it('deploys the staged bundle as a ts function service without a remote build', () => {
    const yaml = fs.readFileSync(path.join(REPO, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(
      /^services:\n {2}app:\n {4}project: \.\/dist\/deploy\/app\n {4}language: ts\n {4}host: function\n {4}remoteBuild: false$/m,
    );
    expect(yaml).toMatch(/prepackage:[\s\S]*run: .*npm run package/);
    const site = bodyOf(one('Microsoft.Web/sites'));
    expect(expr(site.tags)).toBe("union(tags, { 'azd-service-name': 'app' })");
  });

  it('keeps host.json consistent with Flex and with the template', () => {
    const host = JSON.parse(fs.readFileSync(path.join(REPO, 'host.json'), 'utf8')) as Record<string, unknown>;
    expect(host.version).toBe('2.0');
    expect(host.functionTimeout).toBe('01:00:00');
    const defaultMinutes = declarations(files, 'parameter_declaration').get('timeBudgetMinutes')!.node.text;
    expect(defaultMinutes).toBe('param timeBudgetMinutes int = 60');
  });
});
