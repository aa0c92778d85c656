// The multi-replica end-to-end scenarios (harness/replica-cluster-scenarios.ts) on the
// Swift driver (the Swift API of a Ceph RGW).
import { describeReplicaCluster } from './harness/replica-cluster-scenarios.js';
import { swiftBackend } from './harness/replica-backends.js';

await describeReplicaCluster(swiftBackend);
