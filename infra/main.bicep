// The snapshot cleanup on Flex Consumption, managed identity end to end: no key, connection-string secret or
// shared-key access anywhere. Plain resource declarations (no registry modules) so the offline tests in
// test/infra/ can see every property.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('azd environment name; part of every resource name.')
param environmentName string

@description('Region with Flex Consumption (az functionapp list-flexconsumption-locations).')
@metadata({ azd: { type: 'location' } })
param location string = resourceGroup().location

@description('Object id of the deployer (azd sets AZURE_PRINCIPAL_ID): gets Key Vault Secrets Officer so it can set the secrets.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Six-field NCRONTAB in UTC: Flex supports no time zone setting.')
param cleanupSchedule string = '0 0 2 * * *'

@allowed(['auto', 'v1', 'v8.1'])
param veeamApiVersion string = 'auto'

@description('Retention: minimum age of a manual snapshot before it is deleted (ISO-8601 such as P7D); empty = no age limit.')
param cleanupMinAge string = ''

@description('Retention: newest manual snapshots kept per VM (0 or more); empty = keep none.')
param cleanupKeepLatest string = ''

@minValue(5)
@maxValue(240)
@description('Function timeout of the host and time budget of the nightly run, in minutes.')
param timeBudgetMinutes int = 60

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Where the two alert rules send mail; empty = an action group without receivers.')
param alertEmail string = ''

@description('VNet integration with private endpoints for storage and Key Vault, for an appliance on a private address.')
param vnetEnabled bool = false

@description('With vnetEnabled: an existing subnet that reaches the appliance, delegated to Microsoft.App/environments (/27 or larger). Empty = create a VNet.')
param existingAppSubnetId string = ''

@description('With existingAppSubnetId: the existing subnet for the private endpoints (no delegation).')
param existingPrivateEndpointSubnetId string = ''

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = 'func-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

// ---- Storage: host state, the run lease and ledger, and the deployment package; identity access only.

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: vnetEnabled ? 'None' : 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource queueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Key Vault: RBAC only; the template never creates the secrets (README, Deploy, step 2).

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: vnetEnabled ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(vault.id, principalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: principalId
    principalType: principalType
  }
}

// ---- Monitoring: local (instrumentation-key) auth off, so only Entra-authenticated telemetry is accepted.

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'snapcleanup'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'cleanup-admins'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

// The alert rules are docs/alert-rules.json itself (one source for the portal import and this template);
// only their scope and action group are this deployment's.
var alertDocs = loadJsonContent('../docs/alert-rules.json')

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [
  for rule in alertDocs.resources: {
    name: '${rule.name}-${resourceToken}'
    location: location
    tags: tags
    properties: {
      displayName: rule.properties.displayName
      description: rule.properties.description
      severity: rule.properties.severity
      enabled: rule.properties.enabled
      evaluationFrequency: rule.properties.evaluationFrequency
      windowSize: rule.properties.windowSize
      scopes: [appInsights.id]
      criteria: rule.properties.criteria
      actions: { actionGroups: [actionGroup.id] }
    }
  }
]

// ---- Optional VNet: a new one, or an existing subnet that already reaches the appliance.

var createVnet = vnetEnabled && empty(existingAppSubnetId)
var vnetName = createVnet ? 'vnet-${resourceToken}' : split(existingAppSubnetId, '/')[8]
var vnetId = createVnet ? resourceId('Microsoft.Network/virtualNetworks', vnetName) : split(existingAppSubnetId, '/subnets/')[0]
var appSubnetId = createVnet ? resourceId('Microsoft.Network/virtualNetworks/subnets', vnetName, 'app') : existingAppSubnetId
var privateEndpointSubnetId = createVnet
  ? resourceId('Microsoft.Network/virtualNetworks/subnets', vnetName, 'private-endpoints')
  : existingPrivateEndpointSubnetId

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = if (createVnet) {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: ['10.0.0.0/16'] }
    subnets: [
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: '10.0.1.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
      {
        name: 'app'
        properties: {
          addressPrefix: '10.0.2.0/24'
          delegations: [
            {
              name: 'flex-consumption'
              properties: { serviceName: 'Microsoft.App/environments' }
            }
          ]
        }
      }
    ]
  }
}

var privateLinks = [
  { name: 'blob', groupId: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}', target: storage.id }
  { name: 'queue', groupId: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}', target: storage.id }
  { name: 'table', groupId: 'table', zone: 'privatelink.table.${environment().suffixes.storage}', target: storage.id }
  { name: 'vault', groupId: 'vault', zone: 'privatelink.vaultcore.azure.net', target: vault.id }
]

resource privateDnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for link in privateLinks: if (vnetEnabled) {
    name: link.zone
    location: 'global'
    tags: tags
  }
]

resource privateDnsLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (link, i) in privateLinks: if (vnetEnabled) {
    parent: privateDnsZones[i]
    name: 'link-${vnetName}'
    location: 'global'
    properties: {
      registrationEnabled: false
      virtualNetwork: { id: vnetId }
    }
    dependsOn: [vnet]
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for link in privateLinks: if (vnetEnabled) {
    name: 'pe-${link.name}-${resourceToken}'
    location: location
    tags: tags
    properties: {
      subnet: { id: privateEndpointSubnetId }
      privateLinkServiceConnections: [
        {
          name: link.name
          properties: {
            privateLinkServiceId: link.target
            groupIds: [link.groupId]
          }
        }
      ]
    }
    dependsOn: [vnet]
  }
]

resource privateDnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (link, i) in privateLinks: if (vnetEnabled) {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: link.name
          properties: { privateDnsZoneId: privateDnsZones[i].id }
        }
      ]
    }
  }
]

// ---- The Function App on Flex Consumption.

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'app' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: vnetEnabled ? appSubnetId : null
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
  dependsOn: [deploymentContainer, vnet]
}

var timeBudgetHours = timeBudgetMinutes / 60
var timeBudgetRest = timeBudgetMinutes % 60

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    AZURE_CLIENT_ID: identity.properties.clientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    KEY_VAULT_URL: vault.properties.vaultUri
    CLEANUP_SCHEDULE: cleanupSchedule
    VEEAM_API_VERSION: veeamApiVersion
    CLEANUP_MIN_AGE: cleanupMinAge
    CLEANUP_KEEP_LATEST: cleanupKeepLatest
    // The host kills the invocation at functionTimeout; the run plans against the same number.
    AzureFunctionsJobHost__functionTimeout: '${padLeft(string(timeBudgetHours), 2, '0')}:${padLeft(string(timeBudgetRest), 2, '0')}:00'
    CLEANUP_TIME_BUDGET: 'PT${timeBudgetMinutes}M'
  }
  // The host reaches storage and the vault at start: the roles must exist first.
  dependsOn: [blobDataOwner, queueDataContributor, tableDataContributor, vaultSecretsUser, metricsPublisher, privateDnsZoneGroups]
}

output AZURE_FUNCTION_APP_NAME string = site.name
output FUNCTION_BASE_URL string = 'https://${site.properties.defaultHostName}/api'
output AZURE_KEY_VAULT_NAME string = vault.name
output KEY_VAULT_URL string = vault.properties.vaultUri
output AZURE_RESOURCE_GROUP string = resourceGroup().name
