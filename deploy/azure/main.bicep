// VlmRm on Azure: AKS with a CPU pool (environment, learner, sweep silos) and a GPU pool (reward silos),
// Azure Cache for Redis (Orleans clustering), a storage account (checkpoints, models, labelled sets,
// results, grain state), Log Analytics + managed Prometheus for the metrics, a container registry, and a
// user-assigned identity that the silos use through workload identity. No keys appear in this template.
targetScope = 'resourceGroup'

@description('Azure region for every resource.')
param location string = resourceGroup().location

@description('Short prefix for resource names (lowercase letters and digits).')
@minLength(3)
@maxLength(11)
param prefix string = 'vlmrm'

@description('CPU nodes for environment, learner and sweep silos.')
@minValue(1)
param cpuNodeCount int = 3

@description('VM size of the CPU pool.')
param cpuVmSize string = 'Standard_D8ds_v5'

@description('GPU nodes for reward silos (0 leaves reward grains on the CPU silos).')
@minValue(0)
param gpuNodeCount int = 1

@description('Upper bound for the GPU pool autoscaler (a ViT-bigG-14 sweep wants several).')
@minValue(1)
param gpuMaxNodeCount int = 4

@description('GPU VM size: NC A100 v4 for ViT-bigG-14; NCas T4 v3 is enough for RN50 to ViT-L-14.')
param gpuVmSize string = 'Standard_NC24ads_A100_v4'

@description('Kubernetes namespace and service account the silos run as (bound to the managed identity).')
param kubernetesNamespace string = 'vlmrm'
param serviceAccountName string = 'vlmrm-silo'

@description('Azure Cache for Redis SKU.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param redisSku string = 'Standard'

var suffix = uniqueString(resourceGroup().id)
var storageName = take('${prefix}${suffix}', 24)
var containerNames = [
  'checkpoints'
  'models'
  'labelled-sets'
  'results'
  'grain-state'
]
// Built-in role definition ids.
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var acrPull = '7f951dca-6a5f-4b4d-9a45-1b21e3d4fa54'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${prefix}-logs'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource prometheus 'Microsoft.Monitor/accounts@2023-04-03' = {
  name: '${prefix}-metrics'
  location: location
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${prefix}-silo'
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for name in containerNames: {
  parent: blobService
  name: name
}]

resource redis 'Microsoft.Cache/redis@2024-03-01' = {
  name: '${prefix}-${suffix}'
  location: location
  properties: {
    sku: {
      name: redisSku
      family: redisSku == 'Premium' ? 'P' : 'C'
      capacity: 1
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: take('${prefix}${suffix}acr', 50)
  location: location
  sku: {
    name: 'Standard'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource aks 'Microsoft.ContainerService/managedClusters@2024-05-01' = {
  name: '${prefix}-aks'
  location: location
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dnsPrefix: '${prefix}-${suffix}'
    enableRBAC: true
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
    }
    azureMonitorProfile: {
      metrics: {
        enabled: true
      }
    }
    addonProfiles: {
      omsagent: {
        enabled: true
        config: {
          logAnalyticsWorkspaceResourceID: logs.id
          useAADAuth: 'true'
        }
      }
    }
    agentPoolProfiles: concat([
      {
        name: 'cpu'
        mode: 'System'
        count: cpuNodeCount
        vmSize: cpuVmSize
        osType: 'Linux'
        osSKU: 'AzureLinux'
        type: 'VirtualMachineScaleSets'
        nodeLabels: {
          'vlmrm/role': 'cpu'
        }
      }
    ], gpuNodeCount > 0 ? [
      {
        name: 'gpu'
        mode: 'User'
        count: gpuNodeCount
        minCount: gpuNodeCount
        maxCount: max(gpuNodeCount, gpuMaxNodeCount)
        enableAutoScaling: true
        vmSize: gpuVmSize
        osType: 'Linux'
        osSKU: 'Ubuntu'
        type: 'VirtualMachineScaleSets'
        nodeLabels: {
          'vlmrm/role': 'gpu'
        }
        nodeTaints: [
          'sku=gpu:NoSchedule'
        ]
      }
    ] : [])
  }
}

// The silos' pods authenticate as the managed identity through this federated credential.
resource federation 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity
  name: 'aks-${serviceAccountName}'
  properties: {
    issuer: aks.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:${kubernetesNamespace}:${serviceAccountName}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

// Least privilege: the silos read and write blobs of this one account; the nodes pull images of this one registry.
resource siloBlobAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, identity.id, storageBlobDataContributor)
  scope: storage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

resource nodesPullImages 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, aks.id, acrPull)
  scope: registry
  properties: {
    principalId: aks.properties.identityProfile.kubeletidentity.objectId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

output aksName string = aks.name
output registryLoginServer string = registry.properties.loginServer
output storageBlobEndpoint string = storage.properties.primaryEndpoints.blob
output redisHostName string = redis.properties.hostName
output redisName string = redis.name
output siloIdentityClientId string = identity.properties.clientId
output logAnalyticsWorkspaceId string = logs.id
output prometheusAccountId string = prometheus.id
