// An Azure Monitor workbook over the nwcheck tables: reachability over time per target, latency
// percentiles, the rules and hops that block most often, alert history and investigations.
// Each query is a file in infra/workbook/ (tests/infra/test_kql_columns.py checks its columns).

param location string
param tags object = {}

@description('Resource id of the Log Analytics workspace holding the custom tables.')
param workspaceId string

param displayName string = 'nwcheck: network paths'

var workspaceType = 'microsoft.operationalinsights/workspaces'

// Item type 1 is markdown, 9 parameters, 3 a query; every query follows the TimeRange parameter.
var sections = [
  {
    name: 'reachability'
    title: 'Reachability over time per target (% of connectivity checks that reached the destination)'
    query: loadTextContent('../workbook/reachability.kql')
    visualization: 'timechart'
  }
  {
    name: 'latency'
    title: 'Latency percentiles per target (ms)'
    query: loadTextContent('../workbook/latency.kql')
    visualization: 'table'
  }
  {
    name: 'blockers'
    title: 'Rules, routes and hops that block most often'
    query: loadTextContent('../workbook/blockers.kql')
    visualization: 'table'
  }
  {
    name: 'alert-history'
    title: 'Alert history'
    query: loadTextContent('../workbook/alert-history.kql')
    visualization: 'table'
  }
  {
    name: 'investigations'
    title: 'Investigations of Azure Monitor alerts'
    query: loadTextContent('../workbook/investigations.kql')
    visualization: 'table'
  }
]

var queryItems = [for section in sections: {
  type: 3
  name: section.name
  content: {
    version: 'KqlItem/1.0'
    query: section.query
    title: section.title
    size: 0
    timeContextFromParameter: 'TimeRange'
    queryType: 0
    resourceType: workspaceType
    crossComponentResources: [
      workspaceId
    ]
    visualization: section.visualization
  }
}]

var headerItems = [
  {
    type: 1
    name: 'title'
    content: {
      json: '## nwcheck\nContinuous Network Watcher checks: results (NetworkWatcherCheck_CL), alert events (NetworkWatcherAlert_CL) and investigations (NetworkWatcherInvestigation_CL).'
    }
  }
  {
    type: 9
    name: 'parameters'
    content: {
      version: 'KqlParameterItem/1.0'
      parameters: [
        {
          id: '6f1f7c1e-3f0a-4c59-9d5e-2f4f8a0b7c11'
          version: 'KqlParameterItem/1.0'
          name: 'TimeRange'
          label: 'Time range'
          type: 4
          isRequired: true
          value: {
            durationMs: 86400000
          }
          typeSettings: {
            selectableValues: [
              {
                durationMs: 3600000
              }
              {
                durationMs: 86400000
              }
              {
                durationMs: 604800000
              }
              {
                durationMs: 2592000000
              }
            ]
          }
        }
      ]
      style: 'pills'
      queryType: 0
      resourceType: workspaceType
    }
  }
]

var notebook = {
  version: 'Notebook/1.0'
  items: concat(headerItems, queryItems)
  fallbackResourceIds: [
    workspaceId
  ]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, workspaceId, 'nwcheck-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: workspaceId
    serializedData: string(notebook)
    version: '1.0'
  }
}

output id string = workbook.id
