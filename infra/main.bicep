// Entry point for `azd up` / `azd provision`: creates the resource group
// rg-<environmentName> and everything the ML pipeline designer runs on.
// See infra/README.md for what is deployed and why.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds resource names.')
param environmentName string

@minLength(1)
@description('Region for all resources. It must offer Flex Consumption when hostingPlan is flex.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user or service principal (azd sets AZURE_PRINCIPAL_ID). When set, it gets Storage Blob Data Contributor on the storage account, to drop batch files into batch-input. Empty: none.')
param principalId string = ''

@description('flex: Flex Consumption (default, scales to zero). premium: Elastic Premium.')
@allowed([
  'flex'
  'premium'
])
param hostingPlan string = 'flex'

@description('Elastic Premium SKU when hostingPlan is premium.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param premiumSku string = 'EP1'

@description('Flex Consumption instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex: always-ready instances for the durable scale group (Microsoft recommends 1 for Durable Functions; 0 keeps scale-to-zero billing).')
@minValue(0)
@maxValue(10)
param durableAlwaysReadyInstances int = 0

@description('Storage replication.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param storageSku string = 'Standard_LRS'

@description('Durable Functions task hub name (DESIGNER_TASK_HUB). Letters and digits, 3-45 characters, starting with a letter.')
@minLength(3)
@maxLength(45)
param taskHubName string = 'DesignerHub'

@description('DESIGNER_ENABLE_PYTHON_SCRIPT: allow the Execute Python Script component (runs user code in the app).')
param enablePythonScript bool = false

@description('DESIGNER_ENABLE_SQL: allow the Apply SQL Transformation component.')
param enableSql bool = false

@description('DESIGNER_MINI_BATCH_ROWS: rows per scoring mini-batch.')
@minValue(1)
param miniBatchRows int = 100000

@description('HMAC key that signs model artifacts (DESIGNER_ARTIFACT_SIGNING_KEY). azd generates it on first provision and keeps it in the environment; supply your own with any other deployment tool.')
@secure()
@metadata({
  azd: {
    type: 'generate'
    config: {
      length: 64
      noSpecial: true
    }
  }
})
param artifactSigningKey string

@description('Put App Service authentication (Entra ID) in front of the app.')
param enableAppServiceAuth bool = false

@description('Client id of the Entra app registration representing the API (required when enableAppServiceAuth is true).')
param authClientId string = ''

@description('Token issuer for App Service authentication. Empty: the tenant\'s v2.0 issuer.')
param authOpenIdIssuer string = ''

@description('Paths that bypass App Service authentication. /runtime/webhooks/blobs (Event Grid delivery) still needs the blobs_extension key; /api/health is the anonymous health probe; /api/realtime serves scoring clients that hold endpoint keys, not Entra tokens (its management routes still need the function key).')
param authExcludedPaths array = [
  '/runtime/webhooks/blobs'
  '/api/health'
  '/api/realtime'
]

@description('Anonymous route the platform probes for instance health. Empty: no health check.')
param healthCheckPath string = '/api/health'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'ml-pipeline-designer'
}

var names = {
  resourceGroup: 'rg-${environmentName}'
  identity: 'id-designer-${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  appInsights: 'appi-${resourceToken}'
  storage: 'st${resourceToken}'
  keyVault: 'kv-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-designer-${resourceToken}'
  eventGridTopic: 'evgt-${resourceToken}'
  deploymentContainer: 'app-package-${resourceToken}'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.appInsights
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: storageSku
    deploymentContainerName: names.deploymentContainer
    eventGridSystemTopicName: names.eventGridTopic
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: names.keyVault
    location: location
    tags: tags
    readerPrincipalId: identity.outputs.principalId
    artifactSigningKey: artifactSigningKey
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  // The app resolves its Key Vault reference and reaches storage at start-up:
  // create it after its identity holds the roles.
  dependsOn: [
    roles
    keyVault
  ]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    serviceName: 'api'
    hostingPlan: hostingPlan
    premiumSku: premiumSku
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    durableAlwaysReadyInstances: durableAlwaysReadyInstances
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    signingKeySecretUri: keyVault.outputs.signingKeySecretUri
    taskHubName: taskHubName
    enablePythonScript: enablePythonScript
    enableSql: enableSql
    miniBatchRows: miniBatchRows
    healthCheckPath: healthCheckPath
    enableAppServiceAuth: enableAppServiceAuth
    authClientId: authClientId
    authOpenIdIssuer: authOpenIdIssuer
    authExcludedPaths: authExcludedPaths
  }
}

// Outputs become azd environment values (azd env get-values); the postdeploy
// hook and the README commands read them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.uri
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = functionApp.outputs.uri
output AZURE_HOSTING_PLAN string = hostingPlan
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output DESIGNER_BLOB_URL string = storage.outputs.blobEndpoint
output DESIGNER_TABLE_URL string = storage.outputs.tableEndpoint
output DESIGNER_TASK_HUB string = taskHubName
output BATCH_INPUT_CONTAINER string = storage.outputs.batchInputContainer
output EVENTGRID_SYSTEM_TOPIC_NAME string = storage.outputs.eventGridSystemTopicName
output APP_SERVICE_AUTH_ENABLED bool = enableAppServiceAuth
output AUTH_CLIENT_ID string = authClientId
