// User-assigned managed identity used by the function app for everything it
// touches: host storage, app data, the Flex deployment container, Key Vault
// references and Application Insights ingestion. Role assignments live in
// roles.bicep and keyvault.bicep, scoped to single resources.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
