// nwcheck in Azure: `azd up` deploys all of it (azure.yaml, service 'api').
//
// Subscription scope, as azd templates are: the resource group, the custom Network Watcher role
// (a subscription-level resource), then everything else in the resource group:
//   modules/identity.bicep     the app's user-assigned managed identity
//   modules/storage.bicep      storage account (no shared keys), queues, tables, containers
//   modules/monitoring.bicep   Log Analytics, custom tables, Application Insights, DCE and DCR
//   modules/function.bicep     Flex Consumption plan and the function app with its settings
//   modules/rbac.bicep         every role assignment
//   modules/alerts.bicep       log search alert rules and their action group
//   modules/workbook.bicep     the workbook
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; it names the resource group and seeds resource names.')
param environmentName string

@minLength(1)
@description('Region of every resource. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Principal id of the person or pipeline running azd (AZURE_PRINCIPAL_ID): may upload the target list.')
param principalId string = ''

@description('Comma-separated ARM ids of the subscriptions (/subscriptions/{id}) and resource groups (/subscriptions/{id}/resourceGroups/{name}) to check; empty: this subscription.')
param monitoredScopes string = ''

@description('Comma-separated email addresses notified by the alert rules.')
param alertEmailAddresses string = ''

@secure()
@description('Comma-separated webhook URLs notified by the alert rules (action group, common alert schema).')
param alertWebhookUrls string = ''

@secure()
@description('Comma-separated https URLs the app posts every alert event to (ALERT_WEBHOOK_URLS).')
param appWebhookUrls string = ''

@description('How long without any check result before the no-results alert fires (ISO 8601: PT15M .. P1D); longer than the longest target interval.')
param noResultsAlertWindow string = 'PT30M'

@description('Days Log Analytics keeps results, alert events and investigations.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Name of the resource group; empty: rg-<environmentName>.')
param resourceGroupName string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'nwcheck'
}
var functionAppName = 'func-nwcheck-${resourceToken}'

// ARM ids of the monitored scopes, without blanks; this subscription when none is given.
var scopeList = empty(monitoredScopes) ? [
  subscription().id
] : split(replace(monitoredScopes, ' ', ''), ',')
// The subscriptions of those scopes: the app refuses checks anywhere else (ALLOWED_SUBSCRIPTIONS).
var scopeSubscriptions = [for monitored in scopeList: split(monitored, '/')[2]]
var monitoredSubscriptions = union(scopeSubscriptions, [])

// Names the app reads from its settings; storage.bicep creates them.
var queues = {
  requests: 'nwcheck-requests'
  urgent: 'nwcheck-urgent'
  polls: 'nwcheck-polls'
  results: 'nwcheck-results'
  alerts: 'nwcheck-alerts'
}
var containers = {
  targets: 'nwcheck'
  checks: 'nwcheck-checks'
  state: 'nwcheck-state'
  deployment: 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
}
var tables = {
  alerts: 'nwcheckalerts'
  investigations: 'nwcheckinvestigations'
}
var targetsBlob = 'targets.yaml'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module watcherRole 'modules/watcher-role.bicep' = {
  name: 'nwcheck-watcher-role'
  params: {
    roleName: 'nwcheck Network Watcher checks (${environmentName}, ${resourceToken})'
    assignableScopes: union([
      subscription().id
    ], scopeList)
  }
}

module identity 'modules/identity.bicep' = {
  name: 'nwcheck-identity'
  scope: rg
  params: {
    name: 'id-nwcheck-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'nwcheck-storage'
  scope: rg
  params: {
    name: 'stnwcheck${take(resourceToken, 15)}'
    location: location
    tags: tags
    queueNames: [
      queues.requests
      queues.urgent
      queues.polls
      queues.results
      queues.alerts
    ]
    containerNames: [
      containers.deployment
      containers.targets
      containers.checks
      containers.state
    ]
    claimsContainerName: containers.checks
    tableNames: [
      tables.alerts
      tables.investigations
    ]
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'nwcheck-monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceName: 'log-nwcheck-${resourceToken}'
    appInsightsName: 'appi-nwcheck-${resourceToken}'
    dataCollectionEndpointName: 'dce-nwcheck-${resourceToken}'
    dataCollectionRuleName: 'dcr-nwcheck-${resourceToken}'
    retentionInDays: logRetentionDays
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'nwcheck-rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    targetsContainerName: containers.targets
    appInsightsName: monitoring.outputs.appInsightsName
    dataCollectionRuleName: monitoring.outputs.dataCollectionRuleName
    watcherRoleDefinitionName: watcherRole.outputs.name
    monitoredScopes: scopeList
    deployerPrincipalId: principalId
  }
}

module app 'modules/function.bicep' = {
  name: 'nwcheck-function'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-nwcheck-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: containers.deployment
    queues: queues
    containers: containers
    tables: tables
    targetsBlob: targetsBlob
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    logsIngestionEndpoint: monitoring.outputs.logsIngestionEndpoint
    dataCollectionRuleImmutableId: monitoring.outputs.dataCollectionRuleImmutableId
    allowedSubscriptions: join(monitoredSubscriptions, ',')
    alertWebhookUrls: appWebhookUrls
  }
  // The identity has its roles before the first function runs.
  dependsOn: [
    rbac
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: 'nwcheck-alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: 'nwcheck-${resourceToken}'
    workspaceId: monitoring.outputs.workspaceId
    actionGroupName: 'ag-nwcheck-${resourceToken}'
    emailAddresses: empty(alertEmailAddresses) ? [] : split(replace(alertEmailAddresses, ' ', ''), ',')
    webhookUrls: alertWebhookUrls
    noResultsWindow: noResultsAlertWindow
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'nwcheck-workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceId: monitoring.outputs.workspaceId
  }
}

// azd keeps these in the environment (azd env get-value NAME); the README uses them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = app.outputs.name
output NWCHECK_FUNCTION_HOST string = app.outputs.defaultHostName
output NWCHECK_STORAGE_ACCOUNT string = storage.outputs.name
output NWCHECK_TARGETS_CONTAINER string = containers.targets
output NWCHECK_TARGETS_BLOB string = targetsBlob
output NWCHECK_WORKSPACE_NAME string = monitoring.outputs.workspaceName
output NWCHECK_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output NWCHECK_WATCHER_ROLE_NAME string = watcherRole.outputs.name
output NWCHECK_MONITORED_SCOPES string = join(scopeList, ',')
