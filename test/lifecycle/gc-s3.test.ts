// Garbage collection over the S3 driver on a real Ceph RGW (test/support/ceph-rgw.ts), with
// SQLite metadata: a new bucket per registry. Without an RGW this fails under CI and is
// skipped (with the reason) elsewhere.
import { s3SuiteGate } from '../support/ceph-rgw.js';
import { runGcContract } from './gc.contract.js';

if (await s3SuiteGate('garbage collection: s3')) runGcContract('sqlite', 's3');
