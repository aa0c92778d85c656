// The multi-replica end-to-end scenarios (harness/replica-cluster-scenarios.ts) on the
// Azure driver (an Azurite container).
import { describeReplicaCluster } from './harness/replica-cluster-scenarios.js';
import { azureBackend } from './harness/replica-backends.js';

await describeReplicaCluster(azureBackend);
