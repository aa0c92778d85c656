/**
 * The `registry.storage.swift` settings: OpenStack Swift, with the keys and environment
 * names of CNCF distribution's swift driver (docs/storage.md). Kept apart from settings.ts
 * so a storage backend is one additive entry there.
 */
import type { Setting } from './settings.js';

/** Swift's own limit per object written in one PUT is 5 GiB; a segment above 1 GiB is only memory. */
export const SWIFT_MIN_SEGMENT_BYTES = 1024 * 1024;
export const SWIFT_MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;

export const swiftSettings = {
  swiftAuthUrl: {
    yaml: 'registry.storage.swift.authurl',
    env: 'REGISTRY_STORAGE_SWIFT_AUTHURL',
    description: 'Identity endpoint: `https://keystone.example:5000/v3` (Keystone v3 password auth) or `http://host/auth/1.0` (auth v1, e.g. Ceph RGW); required for swift.',
  },
  swiftUsername: {
    yaml: 'registry.storage.swift.username',
    env: 'REGISTRY_STORAGE_SWIFT_USERNAME',
    description: 'User name (auth v1: `account:user`, e.g. `registry:swift` on Ceph RGW); required for swift.',
  },
  swiftPassword: {
    yaml: 'registry.storage.swift.password',
    env: 'REGISTRY_STORAGE_SWIFT_PASSWORD',
    description: 'Password (auth v1: the key); required for swift, preferably in the environment.',
  },
  swiftContainer: {
    yaml: 'registry.storage.swift.container',
    env: 'REGISTRY_STORAGE_SWIFT_CONTAINER',
    description: 'Container holding the blobs (it must exist); required for swift.',
  },
  swiftTenant: {
    yaml: 'registry.storage.swift.tenant',
    env: 'REGISTRY_STORAGE_SWIFT_TENANT',
    description: 'Keystone v3: name of the project to scope the token to (or `tenantid`).',
  },
  swiftTenantId: {
    yaml: 'registry.storage.swift.tenantid',
    env: 'REGISTRY_STORAGE_SWIFT_TENANTID',
    description: 'Keystone v3: id of the project to scope the token to.',
  },
  swiftDomain: {
    yaml: 'registry.storage.swift.domain',
    env: 'REGISTRY_STORAGE_SWIFT_DOMAIN',
    description: 'Keystone v3: name of the domain of the user and the project (`Default` on most clouds); or `domainid`.',
  },
  swiftDomainId: {
    yaml: 'registry.storage.swift.domainid',
    env: 'REGISTRY_STORAGE_SWIFT_DOMAINID',
    description: 'Keystone v3: id of the domain of the user and the project.',
  },
  swiftRegion: {
    yaml: 'registry.storage.swift.region',
    env: 'REGISTRY_STORAGE_SWIFT_REGION',
    defaultText: '(the first object-store endpoint)',
    description: 'Keystone v3: region of the object-store endpoint to use from the catalog.',
  },
  swiftEndpointType: {
    yaml: 'registry.storage.swift.endpointtype',
    env: 'REGISTRY_STORAGE_SWIFT_ENDPOINTTYPE',
    default: 'public',
    description: 'Keystone v3: interface of the object-store endpoint (`public`, `internal` or `admin`).',
  },
  swiftAuthVersion: {
    yaml: 'registry.storage.swift.authversion',
    env: 'REGISTRY_STORAGE_SWIFT_AUTHVERSION',
    defaultText: '(from authurl: 3 when it ends in /v3, else 1)',
    description: 'Auth protocol: `1` or `3` (Keystone v2 is not supported).',
  },
  swiftPrefix: {
    yaml: 'registry.storage.swift.prefix',
    env: 'REGISTRY_STORAGE_SWIFT_PREFIX',
    default: '/',
    description: 'Object name prefix every object is stored under, so several registries can share a container.',
  },
  swiftInsecureSkipVerify: {
    yaml: 'registry.storage.swift.insecureskipverify',
    env: 'REGISTRY_STORAGE_SWIFT_INSECURESKIPVERIFY',
    default: false,
    description: 'Do not verify the TLS certificates of the identity and storage endpoints (testing only).',
  },
  swiftChunkSize: {
    yaml: 'registry.storage.swift.chunksize',
    env: 'REGISTRY_STORAGE_SWIFT_CHUNKSIZE',
    default: 20 * 1024 * 1024,
    description: 'Segment size in bytes of a static large object (minimum 1048576); each upload in flight holds up to two segments in memory.',
  },
} as const satisfies Record<string, Setting>;
