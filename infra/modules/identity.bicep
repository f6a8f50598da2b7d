// The app's user-assigned managed identity. It exists before the app, so that its roles
// (rbac.bicep) are granted before the first function runs, and it keeps its principal when the
// app is recreated.

param name string
param location string
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
