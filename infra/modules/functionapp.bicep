// The function app and its hosting plan.
//   hostingPlan = 'flex'    (default) Flex Consumption FC1, Python 3.11, package
//                           deployed to a blob container with the user-assigned identity.
//   hostingPlan = 'premium' Elastic Premium EP1/EP2/EP3 on Linux, for workloads that
//                           want pre-warmed instances; deployed with zip deploy and a
//                           remote build. No Azure Files content share is configured,
//                           because it only accepts an account-key connection string.
// Every connection is identity based: no storage connection string or account
// key is set anywhere. Optional App Service authentication (Entra ID,
// authsettingsV2) protects the management API.

@description('Function app name.')
param name string

@description('Hosting plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan; the site also gets azd-service-name.')
param tags object = {}

@description('azd service name (azure.yaml services.<name>), used to find the app at deploy time.')
param serviceName string = 'api'

@description('flex: Flex Consumption (FC1). premium: Elastic Premium.')
@allowed([
  'flex'
  'premium'
])
param hostingPlan string = 'flex'

@description('Elastic Premium SKU, used only when hostingPlan is premium.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param premiumSku string = 'EP1'

@description('Flex Consumption instance memory in MB (512 = 0.25 vCPU, 2048 = 1 vCPU, 4096 = 2 vCPU).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on instances (Flex: maximumInstanceCount; Premium: maximumElasticWorkerCount).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex only: always-ready instances for the durable (orchestrator/activity) scale group. 0 = scale to zero.')
@minValue(0)
@maxValue(10)
param durableAlwaysReadyInstances int = 0

@description('Flex only: concurrent HTTP requests one instance accepts before the platform adds another.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 8

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Storage account name (host storage, app data, deployment container).')
param storageAccountName string

@description('Blob endpoint of the storage account, without trailing slash.')
param blobEndpoint string

@description('Queue endpoint of the storage account, without trailing slash.')
param queueEndpoint string

@description('Table endpoint of the storage account, without trailing slash.')
param tableEndpoint string

@description('Full URL of the Flex deployment container.')
param deploymentContainerUrl string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Versionless URI of the Key Vault secret holding the artifact signing key.')
param signingKeySecretUri string

@description('Durable Functions task hub name (DESIGNER_TASK_HUB, referenced by host.json).')
@minLength(3)
@maxLength(45)
param taskHubName string

@description('DESIGNER_ENABLE_PYTHON_SCRIPT: allow the Execute Python Script component.')
param enablePythonScript bool = false

@description('DESIGNER_ENABLE_SQL: allow the Apply SQL Transformation component.')
param enableSql bool = false

@description('DESIGNER_MINI_BATCH_ROWS: rows per scoring mini-batch.')
@minValue(1)
param miniBatchRows int = 100000

@description('Anonymous route the platform probes for instance health. Empty: no health check.')
param healthCheckPath string = '/api/health'

@description('Turn on App Service authentication (Entra ID) in front of the app.')
param enableAppServiceAuth bool = false

@description('Client (application) id of the Entra app registration that represents the API.')
param authClientId string = ''

@description('Token issuer. Empty: the tenant\'s v2.0 issuer.')
param authOpenIdIssuer string = ''

@description('Accepted token audiences. Empty: api://<authClientId> and <authClientId>.')
param authAllowedAudiences array = []

@description('Paths that bypass App Service authentication (each still has its own key check).')
// Real-time scoring callers hold endpoint keys, not Entra tokens: '/api/realtime' stays open to
// them (its management routes still need the function key; scoring needs an endpoint key).
param authExcludedPaths array = [
  '/runtime/webhooks/blobs'
  '/api/health'
  '/api/realtime'
]

var isFlex = hostingPlan == 'flex'

// Activity concurrency per instance, matched to the vCPUs of the instance:
// Flex 512 MB = 0.25 vCPU, 2048 MB = 1 vCPU, 4096 MB = 2 vCPU; EP1/EP2/EP3 =
// 1/2/4 vCPU. Overrides host.json's baseline through an app setting.
var premiumCores = premiumSku == 'EP3' ? 4 : (premiumSku == 'EP2' ? 2 : 1)
var flexActivityConcurrency = instanceMemoryMB >= 4096 ? 4 : (instanceMemoryMB >= 2048 ? 2 : 1)
var activityConcurrency = isFlex ? flexActivityConcurrency : 2 * premiumCores

var authIssuer = empty(authOpenIdIssuer) ? '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0' : authOpenIdIssuer
var authAudiences = empty(authAllowedAudiences) ? [
  'api://${authClientId}'
  authClientId
] : authAllowedAudiences

// App settings common to both plans. Names starting with DESIGNER_ and
// AZURE_CLIENT_ID are the contract with core/settings.py (tests/infra checks it).
var commonAppSettings = {
  // Functions host storage, identity based.
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsDisableHomepage: 'true'
  // Application Insights with Entra authentication (local auth is disabled).
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // DefaultAzureCredential in the app picks the user-assigned identity.
  AZURE_CLIENT_ID: identityClientId
  // The app's own data (core.store), identity based.
  DESIGNER_BLOB_URL: blobEndpoint
  DESIGNER_TABLE_URL: tableEndpoint
  // Connection used by the batch-scoring blob trigger (connection="DESIGNER_STORAGE").
  DESIGNER_STORAGE__blobServiceUri: blobEndpoint
  DESIGNER_STORAGE__queueServiceUri: queueEndpoint
  DESIGNER_STORAGE__credential: 'managedidentity'
  DESIGNER_STORAGE__clientId: identityClientId
  // Durable Functions task hub (host.json: "hubName": "%DESIGNER_TASK_HUB%").
  DESIGNER_TASK_HUB: taskHubName
  // HMAC key for model artifacts, resolved from Key Vault with the identity.
  DESIGNER_ARTIFACT_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=${signingKeySecretUri})'
  DESIGNER_ENABLE_PYTHON_SCRIPT: enablePythonScript ? 'true' : 'false'
  DESIGNER_ENABLE_SQL: enableSql ? 'true' : 'false'
  DESIGNER_MINI_BATCH_ROWS: string(miniBatchRows)
  // Activities run side by side on few vCPUs: one native (OpenMP/BLAS) thread each keeps
  // them from fighting over cores (measured locally: boosted-tree scoring 1.5x faster).
  OMP_NUM_THREADS: '1'
  OPENBLAS_NUM_THREADS: '1'
  // Caller identity headers are trusted only when App Service authentication sets them.
  DESIGNER_TRUST_CLIENT_PRINCIPAL: enableAppServiceAuth ? 'true' : 'false'
  // Python worker tuning, see infra/README.md.
  PYTHON_THREADPOOL_THREAD_COUNT: '16'
  AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions: string(activityConcurrency)
}

// Settings Flex Consumption rejects or ignores (runtime and version come from
// functionAppConfig there), needed on Elastic Premium.
var premiumAppSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  FUNCTIONS_WORKER_PROCESS_COUNT: string(premiumCores)
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
  ENABLE_ORYX_BUILD: 'true'
}

var appSettings = union(commonAppSettings, isFlex ? {} : premiumAppSettings)

var siteAppSettings = [for setting in items(appSettings): {
  name: setting.key
  value: setting.value
}]

var flexFunctionAppConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: deploymentContainerUrl
      authentication: {
        type: 'UserAssignedIdentity'
        userAssignedIdentityResourceId: identityId
      }
    }
  }
  runtime: {
    name: 'python'
    version: '3.11'
  }
  scaleAndConcurrency: {
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReady: durableAlwaysReadyInstances > 0 ? [
      {
        name: 'durable'
        instanceCount: durableAlwaysReadyInstances
      }
    ] : []
    triggers: {
      http: {
        perInstanceConcurrency: httpPerInstanceConcurrency
      }
    }
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225: Zone redundancy is a production choice, not a default: it needs ZRS storage and, on Flex Consumption, at least two always-ready instances per scale group, which ends scale-to-zero billing.
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? {
    name: 'FC1'
    tier: 'FlexConsumption'
  } : {
    name: premiumSku
    tier: 'ElasticPremium'
  }
  properties: {
    reserved: true
    zoneRedundant: false
    maximumElasticWorkerCount: isFlex ? null : maximumInstanceCount
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_17: Client certificates are not used: callers authenticate with Entra bearer tokens (App Service auth) or function keys, and Flex Consumption does not support certificate features.
  //checkov:skip=CKV_AZURE_212: Serverless scale-to-zero: the platform adds instances on demand (maximumInstanceCount); a fixed minimum worker count does not apply to Flex Consumption.
  //checkov:skip=CKV_AZURE_222: The management and scoring APIs are public HTTPS endpoints protected by Entra ID (App Service auth) or function keys; there is no private network in this template.
  //checkov:skip=CKV_AZURE_78: FTP is off: ftpsState is Disabled on Premium, Flex Consumption has no FTP endpoint (ftpsState is not accepted there), and basic publishing credentials are disabled for ftp and scm below.
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: identityId
    functionAppConfig: isFlex ? flexFunctionAppConfig : null
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      remoteDebuggingEnabled: false
      healthCheckPath: empty(healthCheckPath) ? null : healthCheckPath
      appSettings: siteAppSettings
      // Flex Consumption rejects these: runtime comes from functionAppConfig,
      // there is no FTP endpoint, no always-on and no pre-warmed instances.
      linuxFxVersion: isFlex ? null : 'Python|3.11'
      ftpsState: isFlex ? null : 'Disabled'
      alwaysOn: isFlex ? null : false
      use32BitWorkerProcess: isFlex ? null : false
      preWarmedInstanceCount: isFlex ? null : 1
      functionAppScaleLimit: isFlex ? null : maximumInstanceCount
    }
  }
}

// No FTP or SCM basic-auth credentials; deployments authenticate with Entra.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// App Service authentication (Entra ID). Always declared, switched by
// platform.enabled, so that turning it off later also takes effect.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  //checkov:skip=CKV_AZURE_13: False positive: this check reads the v1 authsettings 'enabled' flag; this is an authsettingsV2 resource, whose switch is platform.enabled (CKV_AZURE_56 checks it and passes).
  //checkov:skip=CKV_AZURE_63: Not applicable: HTTP logging is a property of the 'web'/'logs' config, not of authsettingsV2; function logs go to Application Insights.
  //checkov:skip=CKV_AZURE_65: Not applicable: detailed error pages are a 'web' config property, not part of authsettingsV2.
  //checkov:skip=CKV_AZURE_66: Not applicable: failed request tracing is a 'web' config property, not part of authsettingsV2.
  //checkov:skip=CKV_AZURE_80: Not applicable: a Python app; netFrameworkVersion is a 'web' config property, not part of authsettingsV2.
  //checkov:skip=CKV_AZURE_88: Not applicable here, and Azure Files is avoided on purpose: its connection needs a storage account key; Flex deploys from blob storage with the managed identity.
  //checkov:skip=CKV_AZURE_222: Not applicable: public network access is a site property; the API is public HTTPS, protected by Entra ID (this resource) or function keys.
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: enableAppServiceAuth
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: enableAppServiceAuth
      unauthenticatedClientAction: 'Return401'
      excludedPaths: authExcludedPaths
    }
    identityProviders: enableAppServiceAuth ? {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: authIssuer
          clientId: authClientId
        }
        validation: {
          allowedAudiences: authAudiences
        }
      }
    } : {}
    login: {
      tokenStore: {
        enabled: false
      }
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
  }
}

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
output uri string = 'https://${site.properties.defaultHostName}'
output planId string = plan.id
output activityConcurrency int = activityConcurrency
