// The multi-replica scenarios (harness/replica-scenarios.ts) on the Azure driver and an Azurite container.
import { describeReplicaScenarios } from './harness/replica-scenarios.js';
import { azureBackend } from './harness/replica-backends.js';

await describeReplicaScenarios(azureBackend);
