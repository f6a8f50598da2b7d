// The app's storage account: host storage (AzureWebJobsStorage), the app's own queues, tables and
// containers (NwcheckStorage), and the Flex Consumption deployment package. Keys are disabled:
// every client (the host, the app, the deployment, the operator uploading the target list)
// authenticates with Microsoft Entra ID and is authorized by the data roles in rbac.bicep.

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags object = {}

@description('Blob containers: the deployment package, the target list, check claims, app state.')
param containerNames array

// Each queue the app triggers on or writes to gets its poison queue too, where the host (or the
// app, for a message it refuses) moves a failed message. Created here so that the app needs no
// create-queue right at run time, and so that every name is in one place.
@description('The app\'s queues (requests, urgent, polls, results, alerts); each gets a -poison queue too.')
param queueNames array

@description('Tables: alert state and investigations.')
param tableNames array

@description('The container of check claims (one empty blob per started check id, see shared/claims.py).')
param claimsContainerName string

// A claim must outlive every message that can carry its check id: 7 days on a queue (the default
// time to live the app sends with), then up to 7 more on its poison queue before a replay. After
// that nothing can ask for the check again, and the claims (millions a week at scale) go.
@description('Days after which a check claim is deleted by the lifecycle rule.')
@minValue(15)
param claimRetentionDays int = 15

var poisonQueueNames = [for queue in queueNames: '${queue}-poison']

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  //checkov:skip=CKV_AZURE_35:The app is not in a virtual network (Flex Consumption without VNet integration has no fixed outbound addresses), so a default-deny firewall would lock the app out; every request still needs Entra ID and a data role, shared keys are off.
  //checkov:skip=CKV_AZURE_59:Public network access is needed for the same reason; anonymous blob access and shared keys are disabled, so only identities with a data role get in.
  //checkov:skip=CKV_AZURE_206:Locally redundant on purpose: the account holds in-flight queue messages, check claims and a copy of the target list kept in git; a regional outage stops the checks it serves anyway.
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
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
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in containerNames: {
  parent: blobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

// Blob lifecycle management: the only thing that deletes old check claims.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-old-check-claims'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${claimsContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: claimRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    containers
  ]
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in concat(queueNames, poisonQueueNames): {
  parent: queueService
  name: queue
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [for table in tableNames: {
  parent: tableService
  name: table
}]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
