// The multi-replica end-to-end scenarios (harness/replica-cluster-scenarios.ts) on the S3
// driver and a Ceph RGW bucket.
import { describeReplicaCluster } from './harness/replica-cluster-scenarios.js';
import { s3Backend } from './harness/replica-backends.js';

await describeReplicaCluster(s3Backend);
