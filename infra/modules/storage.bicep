// One StorageV2 account serves three purposes:
//   1. the app's own data: the blob containers and tables listed in
//      ../storage-layout.json (the same file the Python code is tested against);
//   2. the Functions host (AzureWebJobsStorage: keys, leases, timers) and the
//      Durable Functions task hub (queues, tables, lease/large-message blobs),
//      both created at run time by the host itself;
//   3. the Flex Consumption deployment container holding the app package.
// Access is Entra-only: shared keys (and therefore SAS and connection strings)
// are disabled, public blob access is off, HTTPS only, TLS 1.2 minimum.

@description('Storage account name (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account and the Event Grid system topic.')
param tags object = {}

@description('Replication. LRS by default; GRS/GZRS/ZRS are accepted (ZRS is required for a zone-redundant Flex plan).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
  'Standard_RAGRS'
  'Standard_RAGZRS'
])
param skuName string = 'Standard_LRS'

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Name of the Event Grid system topic that publishes this account\'s blob events (used by the Event Grid based blob trigger for batch scoring).')
param eventGridSystemTopicName string

@description('Days deleted blobs and containers stay recoverable.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 7

var layout = loadJsonContent('../storage-layout.json')

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  //checkov:skip=CKV_AZURE_35: The default network rule stays Allow: a Flex Consumption app without VNet integration has no fixed outbound addresses and is not a trusted service, so a Deny rule would lock the app out. Shared keys are off, so every request needs an Entra token with a data-plane role.
  //checkov:skip=CKV_AZURE_59: Public network access stays enabled for the same reason; anonymous blob access is off (allowBlobPublicAccess false) and shared-key/SAS access is disabled.
  //checkov:skip=CKV_AZURE_206: LRS by default keeps a trial deployment cheap: Durable Functions state churns heavily and geo-replication roughly doubles its cost. For production data choose Standard_GZRS/RAGZRS/GRS/RAGRS through the storageSku parameter (DESIGNER_STORAGE_SKU).
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource dataContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for containerName in layout.containers: {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
  }
}]

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource dataTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for tableName in layout.tables: {
  parent: tableService
  name: tableName
}]

// Blob events for the Event Grid based blob trigger (Flex Consumption only
// supports the Event Grid source). The event subscription itself needs the
// function's blobs_extension system key, which exists only after the code is
// deployed, so infra/hooks/postdeploy.sh creates it.
resource blobEvents 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: eventGridSystemTopicName
  location: location
  tags: tags
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output id string = account.id
output name string = account.name
// Endpoints without the trailing slash, in the form the app settings use.
output blobEndpoint string = 'https://${account.name}.blob.${environment().suffixes.storage}'
output queueEndpoint string = 'https://${account.name}.queue.${environment().suffixes.storage}'
output tableEndpoint string = 'https://${account.name}.table.${environment().suffixes.storage}'
output deploymentContainerUrl string = 'https://${account.name}.blob.${environment().suffixes.storage}/${deploymentContainerName}'
output containers array = layout.containers
output tables array = layout.tables
output batchInputContainer string = layout.batchInputContainer
output eventGridSystemTopicName string = blobEvents.name
