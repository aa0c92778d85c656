// The multi-replica scenarios (harness/replica-scenarios.ts) on the S3 driver and a Ceph RGW bucket.
import { describeReplicaScenarios } from './harness/replica-scenarios.js';
import { s3Backend } from './harness/replica-backends.js';

await describeReplicaScenarios(s3Backend);
