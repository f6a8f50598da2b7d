// Every role assignment of the deployment, in one place. Each has a deterministic guid() name
// (so a redeployment finds it again) and says which role it grants, to whom, where and why.
// Management roles (Owner, Contributor, Network Contributor) are never granted: the app's
// identity gets data roles on its own resources and one custom role on the monitored scopes.

@description('Principal (object) id of the app\'s user-assigned identity.')
param principalId string

param storageAccountName string
param targetsContainerName string
param appInsightsName string
param dataCollectionRuleName string

@description('Name (GUID) of the custom Network Watcher role (watcher-role.bicep).')
param watcherRoleDefinitionName string

@description('ARM ids of the subscriptions (/subscriptions/{id}) and resource groups (/subscriptions/{id}/resourceGroups/{name}) the app checks.')
param monitoredScopes array

@description('Principal id of the person or pipeline deploying (azd sets it); empty: none.')
param deployerPrincipalId string = ''

// Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource targetsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: targetsContainerName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource dataCollectionRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' existing = {
  name: dataCollectionRuleName
}

// ---- the app's identity on its own storage account ------------------------------------------
// The account serves both connections, AzureWebJobsStorage (the host) and NwcheckStorage (the
// app), and holds the Flex Consumption deployment package; it holds nothing else.

// Storage Blob Data Owner on the account: the Functions host documents it as the role its
// storage connection needs (timer schedule monitor, singleton leases, host secrets and keys).
// Storage Blob Data Contributor would do for what the app itself does with blobs (target list,
// check claims, topology state) and for the deployment package, but Owner includes all of it,
// so no second blob role is granted.
resource appBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'nwcheck host storage (AzureWebJobsStorage) and deployment package'
  }
}

// Storage Queue Data Contributor on the account: queue triggers read, update and delete
// messages; the app sends to its queues; the host and the app move failed messages to the
// -poison queues. Reader + Message Processor + Message Sender would cover messages but not the
// host's create-if-missing on poison queues. Every queue in the account is the app's own.
resource appQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'nwcheck queues: triggers, sends, poison queues'
  }
}

// Storage Table Data Contributor on the account: alert state and investigations (the app
// creates them if missing), and the host's diagnostic events.
resource appTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'nwcheck alert state and investigations tables'
  }
}

// ---- the app's identity on Azure Monitor ------------------------------------------------------

// Monitoring Metrics Publisher on the data collection rule: the Logs Ingestion API accepts rows
// for this rule only (results, alert events, investigations).
resource appIngestion 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataCollectionRule.id, principalId, monitoringMetricsPublisher)
  scope: dataCollectionRule
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'nwcheck rows into Log Analytics through the data collection rule'
  }
}

// Monitoring Metrics Publisher on Application Insights: local authentication is disabled, so
// the host sends telemetry with the identity's token.
resource appTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'nwcheck telemetry with Entra ID authentication'
  }
}

// ---- the person deploying -------------------------------------------------------------------

// Storage Blob Data Contributor on the target list container only: shared keys are disabled,
// so uploading the target list (az storage blob upload --auth-mode login) needs a data role.
resource deployerTargetList 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(targetsContainer.id, deployerPrincipalId, storageBlobDataContributor)
  scope: targetsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: deployerPrincipalId
    description: 'Upload the nwcheck target list'
  }
}

// ---- the app's identity on the monitored networks -------------------------------------------
// The custom Network Watcher role (watcher-role.bicep) at each monitored scope. A role
// assignment in another subscription or resource group is deployed there, through a module that
// holds only the assignment resource; its name and role are decided here.

// Custom role "nwcheck Network Watcher checks" on each monitored subscription.
module watcherOnSubscriptions 'role-assignment-subscription.bicep' = [for monitored in monitoredScopes: if (length(split(monitored, '/')) == 3) {
  name: take('nwcheck-watcher-${uniqueString(monitored, principalId)}', 64)
  scope: subscription(split(monitored, '/')[2])
  params: {
    assignmentName: guid(monitored, principalId, watcherRoleDefinitionName)
    roleDefinitionName: watcherRoleDefinitionName
    principalId: principalId
    description: 'nwcheck Network Watcher checks on this subscription'
  }
}]

// Custom role "nwcheck Network Watcher checks" on each monitored resource group.
module watcherOnResourceGroups 'role-assignment-resource-group.bicep' = [for monitored in monitoredScopes: if (length(split(monitored, '/')) == 5) {
  name: take('nwcheck-watcher-${uniqueString(monitored, principalId)}', 64)
  scope: resourceGroup(split(monitored, '/')[2], split(monitored, '/')[4])
  params: {
    assignmentName: guid(monitored, principalId, watcherRoleDefinitionName)
    roleDefinitionName: watcherRoleDefinitionName
    principalId: principalId
    description: 'nwcheck Network Watcher checks on this resource group'
  }
}]
