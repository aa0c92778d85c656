/** `registry.storage.swift` from a ConfigSource (settings in swift-settings.ts). */
import { SETTINGS } from './settings.js';
import type { ConfigSource } from './source.js';
import { SWIFT_MAX_SEGMENT_BYTES, SWIFT_MIN_SEGMENT_BYTES } from './swift-settings.js';
import { ConfigError, type SwiftStorageConfig } from './types.js';

export function swiftStorageOf(src: ConfigSource): SwiftStorageConfig {
  const s = SETTINGS.registry;
  const authUrl = src.url(s.swiftAuthUrl);
  if (authUrl === undefined) throw new ConfigError(src.name(s.swiftAuthUrl), 'an http(s) URL', undefined, 'missing: required for swift storage');
  const version = src.string(s.swiftAuthVersion) ?? (/\/v3\/?$/.test(new URL(authUrl).pathname) ? '3' : '1');
  if (version !== '1' && version !== '3') throw new ConfigError(src.name(s.swiftAuthVersion), '1 or 3', version);
  const endpointType = src.string(s.swiftEndpointType)!;
  if (!['public', 'internal', 'admin'].includes(endpointType)) throw new ConfigError(src.name(s.swiftEndpointType), 'public, internal or admin', endpointType);
  return {
    authUrl,
    authVersion: version === '3' ? 3 : 1,
    username: src.requiredString(s.swiftUsername, 'for swift storage'),
    password: src.requiredString(s.swiftPassword, 'for swift storage'),
    container: src.requiredString(s.swiftContainer, 'for swift storage'),
    tenant: src.string(s.swiftTenant),
    tenantId: src.string(s.swiftTenantId),
    domain: src.string(s.swiftDomain),
    domainId: src.string(s.swiftDomainId),
    region: src.string(s.swiftRegion),
    endpointType: endpointType as SwiftStorageConfig['endpointType'],
    prefix: src.string(s.swiftPrefix)!,
    insecureSkipVerify: src.bool(s.swiftInsecureSkipVerify),
    chunkSize: src.int(s.swiftChunkSize, SWIFT_MIN_SEGMENT_BYTES, SWIFT_MAX_SEGMENT_BYTES),
  };
}
