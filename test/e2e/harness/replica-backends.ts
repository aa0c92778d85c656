/**
 * The object stores the multi-replica scenarios run on. Each backend gives a registry
 * process a fresh, empty store through its environment variables, and lets the test look
 * into that store directly (to see what the replicas left there). A new storage driver adds
 * one entry here and one test file that runs the scenarios with it.
 */
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { S3Driver } from '../../../services/registry/storage/drivers/s3/index.js';
import { AzureDriver } from '../../../services/registry/storage/drivers/azure/index.js';
import { azureEnvironment, azureTestConfig, azuriteSuiteGate } from '../../support/azurite.js';
import { SwiftDriver } from '../../../services/registry/storage/drivers/swift/index.js';
import { s3Environment, s3SuiteGate, s3TestConfig, swiftEnvironment, swiftSuiteGate, swiftTestConfig } from '../../support/ceph-rgw.js';
import { containerNames } from '../../support/swift-container.js';

export interface ReplicaStore {
  /** Environment variables that point a registry at this store. */
  env: Record<string, string>;
  /** How many unfinished uploads (multipart uploads, staged blocks, segments) the store holds for an upload session. */
  openUploads(sessionId: string): Promise<number>;
  close(): Promise<void>;
}

export interface ReplicaBackend {
  name: string;
  /** Registers a failing (CI) or skipped test and returns false when the store or `alsoNeeded` is unavailable. */
  gate(suite: string, alsoNeeded?: () => Promise<string | null>): Promise<boolean>;
  createStore(): Promise<ReplicaStore>;
}

export const s3Backend: ReplicaBackend = {
  name: 's3 (Ceph RGW)',
  gate: s3SuiteGate,
  async createStore() {
    const config = await s3TestConfig();
    const s3 = new S3Driver(config);
    return {
      env: s3Environment(config),
      async openUploads(sessionId) {
        const page = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: config.bucket, Prefix: `uploads/${sessionId}/` }));
        return (page.Uploads ?? []).length;
      },
      async close() {
        s3.client.destroy();
      },
    };
  },
};

/** Azure Blob Storage on this test file's Azurite; an open upload is a data blob holding staged, uncommitted blocks. */
export const azureBackend: ReplicaBackend = {
  name: 'azure (Azurite)',
  gate: azuriteSuiteGate,
  async createStore() {
    const config = await azureTestConfig();
    const azure = new AzureDriver(config);
    return {
      env: azureEnvironment(config),
      async openUploads(sessionId) {
        try {
          const list = await azure.container.getBlockBlobClient(`uploads/${sessionId}/data`).getBlockList('uncommitted');
          return (list.uncommittedBlocks ?? []).length > 0 ? 1 : 0;
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode === 404) return 0;
          throw err;
        }
      },
      async close() {},
    };
  },
};

/** Swift on the RGW's Swift API: an upload in progress is a segment set nobody owns yet under the session's path. */
export const swiftBackend: ReplicaBackend = {
  name: 'swift (Ceph RGW)',
  gate: swiftSuiteGate,
  async createStore() {
    const config = await swiftTestConfig({ chunkSize: 5 * 1024 * 1024 });
    const swift = new SwiftDriver(config);
    return {
      env: swiftEnvironment(config),
      async openUploads(sessionId) {
        const names = await containerNames(swift, `.segments/uploads/${sessionId}/`);
        const sets = new Set(names.map((name) => name.slice(0, name.lastIndexOf('/'))));
        for (const name of names) if (name.endsWith('/owner')) sets.delete(name.slice(0, name.lastIndexOf('/')));
        return sets.size;
      },
      async close() {
        await swift.close();
      },
    };
  },
};
