// Where results, alerts and investigations land, and how the app gets them there:
// a Log Analytics workspace with the three custom tables, Application Insights on the same
// workspace (local authentication off: telemetry is sent with the app's identity), and a data
// collection endpoint plus rule for the Logs Ingestion API.
//
// The tables and the rule's stream declarations are built from infra/tables/*.json, the files
// the app (shared/rows.py) and the local emulator read too, so that none of them can drift.

param location string
param tags object = {}
param workspaceName string
param appInsightsName string
param dataCollectionEndpointName string
param dataCollectionRuleName string

@description('Days the workspace (and so the custom tables) keep data.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

// One file per table: {table, stream, description, columns: [{name, type, description}]}.
var checks = loadJsonContent('../tables/checks.json')
var alerts = loadJsonContent('../tables/alerts.json')
var investigations = loadJsonContent('../tables/investigations.json')

// A data collection rule declares a column as {name, type} with the types string, int, long,
// real, boolean, datetime and dynamic. A Log Analytics table spells the date type 'dateTime'
// (ColumnTypeEnum in the Tables API) and also takes a description.
var checksStreamColumns = [for c in checks.columns: {
  name: c.name
  type: c.type
}]
var alertsStreamColumns = [for c in alerts.columns: {
  name: c.name
  type: c.type
}]
var investigationsStreamColumns = [for c in investigations.columns: {
  name: c.name
  type: c.type
}]
var checksTableColumns = [for c in checks.columns: {
  name: c.name
  type: replace(c.type, 'datetime', 'dateTime')
  description: c.description
}]
var alertsTableColumns = [for c in alerts.columns: {
  name: c.name
  type: replace(c.type, 'datetime', 'dateTime')
  description: c.description
}]
var investigationsTableColumns = [for c in investigations.columns: {
  name: c.name
  type: replace(c.type, 'datetime', 'dateTime')
  description: c.description
}]

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource checksTable 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: workspace
  name: checks.table
  properties: {
    plan: 'Analytics'
    schema: {
      name: checks.table
      description: checks.description
      columns: checksTableColumns
    }
  }
}

resource alertsTable 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: workspace
  name: alerts.table
  properties: {
    plan: 'Analytics'
    schema: {
      name: alerts.table
      description: alerts.description
      columns: alertsTableColumns
    }
  }
}

resource investigationsTable 'Microsoft.OperationalInsights/workspaces/tables@2022-10-01' = {
  parent: workspace
  name: investigations.table
  properties: {
    plan: 'Analytics'
    schema: {
      name: investigations.table
      description: investigations.description
      columns: investigationsTableColumns
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry only with an Entra ID token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING): the
    // identity needs Monitoring Metrics Publisher on this component (rbac.bicep).
    DisableLocalAuth: true
  }
}

resource dataCollectionEndpoint 'Microsoft.Insights/dataCollectionEndpoints@2023-03-11' = {
  name: dataCollectionEndpointName
  location: location
  tags: tags
  properties: {
    networkAcls: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

resource dataCollectionRule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: dataCollectionRuleName
  location: location
  tags: tags
  properties: {
    dataCollectionEndpointId: dataCollectionEndpoint.id
    streamDeclarations: {
      '${checks.stream}': {
        columns: checksStreamColumns
      }
      '${alerts.stream}': {
        columns: alertsStreamColumns
      }
      '${investigations.stream}': {
        columns: investigationsStreamColumns
      }
    }
    destinations: {
      logAnalytics: [
        {
          name: 'workspace'
          workspaceResourceId: workspace.id
        }
      ]
    }
    // One flow per stream into its table, unchanged ('source').
    dataFlows: [
      {
        streams: [
          checks.stream
        ]
        destinations: [
          'workspace'
        ]
        transformKql: 'source'
        outputStream: 'Custom-${checks.table}'
      }
      {
        streams: [
          alerts.stream
        ]
        destinations: [
          'workspace'
        ]
        transformKql: 'source'
        outputStream: 'Custom-${alerts.table}'
      }
      {
        streams: [
          investigations.stream
        ]
        destinations: [
          'workspace'
        ]
        transformKql: 'source'
        outputStream: 'Custom-${investigations.table}'
      }
    ]
  }
  // The output streams must exist before the rule refers to them.
  dependsOn: [
    checksTable
    alertsTable
    investigationsTable
  ]
}

output workspaceId string = workspace.id
output workspaceName string = workspace.name
output appInsightsName string = appInsights.name
output appInsightsConnectionString string = appInsights.properties.ConnectionString
output logsIngestionEndpoint string = dataCollectionEndpoint.properties.logsIngestion.endpoint
output dataCollectionRuleName string = dataCollectionRule.name
output dataCollectionRuleImmutableId string = dataCollectionRule.properties.immutableId
output checksTableName string = checksTable.name
output alertsTableName string = alertsTable.name
output investigationsTableName string = investigationsTable.name
