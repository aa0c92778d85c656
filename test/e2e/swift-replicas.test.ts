// The multi-replica scenarios (harness/replica-scenarios.ts) on the Swift driver and a container on the Ceph RGW's Swift API.
import { describeReplicaScenarios } from './harness/replica-scenarios.js';
import { swiftBackend } from './harness/replica-backends.js';

await describeReplicaScenarios(swiftBackend);
