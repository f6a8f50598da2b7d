// Azure Monitor log search alert rules on the alerts table (NetworkWatcherAlert_CL), one per kind
// of alert that should reach people, and the action group they notify. The queries live in
// infra/queries/*.kql; tests/infra/test_kql_columns.py checks every column they use exists.

param location string
param tags object = {}
param namePrefix string

@description('Resource id of the Log Analytics workspace holding the custom tables.')
param workspaceId string

param actionGroupName string

@description('Email addresses of the action group.')
param emailAddresses array = []

@secure()
@description('Comma-separated webhook URLs of the action group (common alert schema).')
param webhookUrls string = ''

@description('How long without a single check result before the no-results rule fires: longer than the longest target interval.')
@allowed([
  'PT15M'
  'PT30M'
  'PT45M'
  'PT1H'
  'PT2H'
  'PT3H'
  'PT6H'
  'P1D'
])
param noResultsWindow string = 'PT30M'

var webhooks = empty(webhookUrls) ? [] : split(replace(webhookUrls, ' ', ''), ',')

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'Global'
  tags: tags
  properties: {
    groupShortName: 'nwcheck'
    enabled: true
    emailReceivers: [for (address, i) in emailAddresses: {
      name: 'email-${i}'
      emailAddress: address
      useCommonAlertSchema: true
    }]
    webhookReceivers: [for (uri, i) in webhooks: {
      name: 'webhook-${i}'
      serviceUri: uri
      useCommonAlertSchema: true
    }]
  }
}

// Severity: 0 critical .. 4 verbose. Each query returns one row per new alert event, with
// TargetName as a dimension so that each target is its own alert. The no-results rule is the
// other way round (absence: it fires on zero rows) and resolves itself once results flow again.
var rules = [
  {
    name: 'security'
    displayName: 'nwcheck: security alert fired'
    description: 'A network path that must stay closed is open (nwcheck security alert).'
    severity: 1
    query: loadTextContent('../queries/fired-security.kql')
    absence: false
  }
  {
    name: 'reachability'
    displayName: 'nwcheck: reachability alert fired'
    description: 'A network path that must be open is blocked; the alert names the hop, rule or route.'
    severity: 2
    query: loadTextContent('../queries/fired-reachability.kql')
    absence: false
  }
  {
    name: 'check-health'
    displayName: 'nwcheck: checks cannot run'
    description: 'Checks of a target keep failing to run, so nwcheck cannot tell whether the path is open.'
    severity: 3
    query: loadTextContent('../queries/check-health.kql')
    absence: false
  }
  {
    name: 'no-results'
    displayName: 'nwcheck: no check results'
    description: 'No check result reached Log Analytics within the window: nwcheck is not watching the network paths.'
    severity: 2
    query: loadTextContent('../queries/no-results.kql')
    absence: true
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in rules: {
  name: '${namePrefix}-${rule.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      workspaceId
    ]
    // Every 5 minutes over the last hour: the event queries keep only the events ingested in the
    // last 5 minutes (ingestion_time), so a late row is still seen, once.
    evaluationFrequency: 'PT5M'
    windowSize: rule.absence ? noResultsWindow : 'PT1H'
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Count'
          operator: rule.absence ? 'LessThan' : 'GreaterThan'
          threshold: rule.absence ? 1 : 0
          dimensions: rule.absence ? [] : [
            {
              name: 'TargetName'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    // nwcheck resolves its own alerts (Resolved events); Azure Monitor does not guess. Only the
    // no-results alert is Azure Monitor's own to resolve, when rows arrive again.
    autoMitigate: rule.absence
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}]

output actionGroupId string = actionGroup.id
output ruleNames array = [for (rule, i) in rules: alertRules[i].name]
