// One role assignment at a resource group. Only rbac.bicep uses it, and decides the assignment's
// name (a guid), its role and its principal there, next to every other role assignment.

param assignmentName string
param roleDefinitionName string
param principalId string
param description string

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: assignmentName
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionName)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: description
  }
}
