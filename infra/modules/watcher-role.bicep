// The custom role of the app's identity in the monitored subscriptions and resource groups:
// exactly the Azure Resource Manager actions the app's code calls, and the few reads Network
// Watcher documents as needed around them. No wildcard, no write, no data action.
//
// tests/infra/test_custom_role.py runs the app against the local ARM emulator, maps every
// request it sends to its action, and asserts this list equals that set plus the documented
// reads below. Assigned in rbac.bicep.
targetScope = 'subscription'

@description('Name of the role, unique in the tenant.')
param roleName string

@description('Subscriptions and resource groups the role may be assigned at (ARM ids).')
param assignableScopes array

var actions = [
  // POST .../networkWatchers/{name}/connectivityCheck (shared/checks/connectivity.py)
  'Microsoft.Network/networkWatchers/connectivityCheck/action'
  // POST .../networkWatchers/{name}/ipFlowVerify (shared/checks/ip_flow.py)
  'Microsoft.Network/networkWatchers/ipFlowVerify/action'
  // POST .../networkWatchers/{name}/nextHop (shared/checks/next_hop.py)
  'Microsoft.Network/networkWatchers/nextHop/action'
  // GET .../providers/Microsoft.Network/locations/{region}/operationResults/{id}: the Location
  // of every started operation, polled until its result (shared/arm.py, poll)
  'Microsoft.Network/locations/operationResults/read'
  // GET .../virtualMachines/{name}: the source VM's region picks the regional watcher
  'Microsoft.Compute/virtualMachines/read'
  // GET .../providers/Microsoft.Network/networkInterfaces and .../virtualNetworks: the topology
  // inventory that links an alerted resource to its targets (shared/topology.py)
  'Microsoft.Network/networkInterfaces/read'
  'Microsoft.Network/virtualNetworks/read'
  // Not requests the app sends, but documented for the three operations: the watcher itself
  // ("Get a network watcher", the base action of every Network Watcher capability) and the VM
  // extension read Network Watcher uses to check that the source VM has its agent.
  // (learn.microsoft.com/azure/network-watcher/required-rbac-permissions)
  'Microsoft.Network/networkWatchers/read'
  'Microsoft.Compute/virtualMachines/extensions/read'
]

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, roleName)
  properties: {
    roleName: roleName
    description: 'nwcheck: run Network Watcher connectivity checks, IP flow verify and next hop, read their results and the network inventory. No write.'
    type: 'customRole'
    permissions: [
      {
        actions: actions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

@description('The role definition\'s name (a GUID), for role assignments in any of its scopes.')
output name string = role.name
output actions array = actions
