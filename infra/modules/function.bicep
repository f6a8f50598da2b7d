// The function app on the Flex Consumption plan (FC1), Python 3.11, running as the user-assigned
// identity. Every storage connection is identity-based, and every app setting the code reads is
// set here (siteConfig.appSettings) from the deployed resources; tests/infra/test_app_settings.py
// checks both ways.
//
// Flex Consumption takes the runtime from functionAppConfig.runtime: FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION are not set (they are deprecated on this plan).

param name string
param planName string
param location string
param tags object = {}

@description('Resource id and client id of the app\'s user-assigned identity.')
param identityId string
param identityClientId string

param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string

@description('Queue names by kind: requests, urgent, polls, results, alerts.')
param queues object

@description('Container names: targets, checks, state.')
param containers object

@description('Table names: alerts, investigations.')
param tables object

@description('Name of the target list blob in the targets container.')
param targetsBlob string = 'targets.yaml'

param appInsightsConnectionString string
param logsIngestionEndpoint string
param dataCollectionRuleImmutableId string

@description('Comma-separated subscription ids the app may run checks in (empty: any).')
param allowedSubscriptions string = ''

@secure()
@description('Comma-separated webhook URLs that receive every alert event (empty: none).')
param alertWebhookUrls string = ''

@description('NCRONTAB (with seconds) of the sweep: which targets are due.')
param timerSchedule string = '0 * * * * *'

@description('NCRONTAB of the ingest timer: results into Log Analytics, alerts, investigations.')
param ingestSchedule string = '*/5 * * * * *'

@description('NCRONTAB of the topology refresh (NICs and virtual networks of the monitored scopes).')
param topologySchedule string = '0 */30 * * * *'

param networkApiVersion string = '2024-05-01'
param checkDeadlineSeconds int = 900
param maxPolls int = 120
param maxAttempts int = 8
param backoffBaseSeconds int = 2
param investigationMaxTargets int = 20
@description('Days a completed investigation stays in Table storage (GET /api/investigations/{id}); its summary stays in Log Analytics.')
@minValue(1)
param investigationRetentionDays int = 90

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

// environment().resourceManager ends with a slash; the app strips it.
var armEndpoint = environment().resourceManager

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  //checkov:skip=CKV_AZURE_225:Zone redundancy of a Flex Consumption plan is not offered in every region; after a zone outage the checks resume from the queues, where their state lives.
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd deploys the 'api' service of azure.yaml to the app with this tag.
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  //checkov:skip=CKV_AZURE_222:Azure Monitor action groups call the investigations webhook from the internet; HTTP functions require a function key.
  //checkov:skip=CKV_AZURE_17:Action group webhooks cannot present client certificates; HTTP functions require a function key instead.
  //checkov:skip=CKV_AZURE_212:Flex Consumption scales to zero by design; the work waits in queues, so no instance has to be kept for failover.
  //checkov:skip=CKV_AZURE_213:Health is what the app measures: stalled checks raise check-health alerts; there is no HTTP endpoint to probe for queue and timer work.
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        // Host storage (timers' schedule monitor, queue trigger leases): identity-based.
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: storageBlobEndpoint
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: storageQueueEndpoint
        }
        {
          name: 'AzureWebJobsStorage__tableServiceUri'
          value: storageTableEndpoint
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        // The app's own storage connection (queue bindings and shared/storage.py), identity-based.
        {
          name: 'NwcheckStorage__blobServiceUri'
          value: storageBlobEndpoint
        }
        {
          name: 'NwcheckStorage__queueServiceUri'
          value: storageQueueEndpoint
        }
        {
          name: 'NwcheckStorage__tableServiceUri'
          value: storageTableEndpoint
        }
        {
          name: 'NwcheckStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'NwcheckStorage__clientId'
          value: identityClientId
        }
        // DefaultAzureCredential (ARM, Logs Ingestion) picks the user-assigned identity by its client id.
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsightsConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        // Schedules.
        {
          name: 'TIMER_SCHEDULE'
          value: timerSchedule
        }
        {
          name: 'INGEST_SCHEDULE'
          value: ingestSchedule
        }
        {
          name: 'TOPOLOGY_SCHEDULE'
          value: topologySchedule
        }
        // Queues, containers and tables (created by storage.bicep).
        {
          name: 'REQUESTS_QUEUE'
          value: queues.requests
        }
        {
          name: 'URGENT_QUEUE'
          value: queues.urgent
        }
        {
          name: 'POLLS_QUEUE'
          value: queues.polls
        }
        {
          name: 'RESULTS_QUEUE'
          value: queues.results
        }
        {
          name: 'ALERTS_QUEUE'
          value: queues.alerts
        }
        {
          name: 'TARGETS_CONTAINER'
          value: containers.targets
        }
        {
          name: 'TARGETS_BLOB'
          value: targetsBlob
        }
        {
          name: 'CHECKS_CONTAINER'
          value: containers.checks
        }
        {
          name: 'STATE_CONTAINER'
          value: containers.state
        }
        {
          name: 'ALERTS_TABLE'
          value: tables.alerts
        }
        {
          name: 'INVESTIGATIONS_TABLE'
          value: tables.investigations
        }
        // ARM and Network Watcher.
        {
          name: 'ARM_ENDPOINT'
          value: armEndpoint
        }
        {
          name: 'NETWORK_API_VERSION'
          value: networkApiVersion
        }
        {
          name: 'ALLOWED_SUBSCRIPTIONS'
          value: allowedSubscriptions
        }
        // Limits of one check, and of one investigation.
        {
          name: 'CHECK_DEADLINE_S'
          value: string(checkDeadlineSeconds)
        }
        {
          name: 'MAX_POLLS'
          value: string(maxPolls)
        }
        {
          name: 'MAX_ATTEMPTS'
          value: string(maxAttempts)
        }
        {
          name: 'BACKOFF_BASE_S'
          value: string(backoffBaseSeconds)
        }
        {
          name: 'INVESTIGATION_MAX_TARGETS'
          value: string(investigationMaxTargets)
        }
        {
          name: 'INVESTIGATION_RETENTION_DAYS'
          value: string(investigationRetentionDays)
        }
        // Logs Ingestion: the data collection endpoint and rule (streams: infra/tables/*.json).
        {
          name: 'LOGS_INGESTION_ENDPOINT'
          value: logsIngestionEndpoint
        }
        {
          name: 'LOGS_DCR_IMMUTABLE_ID'
          value: dataCollectionRuleImmutableId
        }
        // Alert events to machines, besides the alerts queue and Log Analytics.
        {
          name: 'ALERT_WEBHOOK_URLS'
          value: alertWebhookUrls
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

output name string = app.name
output id string = app.id
output defaultHostName string = app.properties.defaultHostName
