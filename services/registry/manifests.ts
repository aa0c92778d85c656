/**
 * Manifest media types and validation. A pushed manifest is parsed here into the few
 * facts the registry needs (its media type, what it references, its subject); the bytes
 * themselves are stored exactly as pushed. Docker schema 2 and OCI image manifests and
 * indexes are accepted, including OCI 1.1 artifacts; schema 1 is refused.
 */
import { fail } from '../../shared/http/errors.js';
import { tryParseDigest, type Digest } from '../../shared/grammar/reference.js';
import { parseManifestJson } from './manifests/json.js';

/** Manifest media types the registry stores and serves. */
export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest]);
const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociIndex]);
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

/**
 * Layers that may be absent from the registry: non-distributable (foreign) layer types,
 * which clients fetch from their `urls` instead.
 */
const NON_DISTRIBUTABLE_LAYER_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

/** RFC 6838 type/subtype, which every descriptor mediaType and artifactType must follow. */
const MEDIA_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** A validated content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  artifactType?: string;
}

/** What the registry learns from a valid manifest. */
export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /** The config of an image manifest (absent for an index). */
  config: Descriptor | null;
  layers: Descriptor[];
  /** The children of an index. */
  manifests: Descriptor[];
  subject: Descriptor | null;
  /** The manifest's artifactType, or for an image manifest without one its config mediaType (as referrers report it). */
  artifactType: string | null;
  annotations: Record<string, string> | null;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string, detail?: unknown) {
  return fail('MANIFEST_INVALID', message, detail);
}

function mediaTypeField(value: unknown, where: string): string {
  if (typeof value !== 'string' || !MEDIA_TYPE_PATTERN.test(value)) throw invalid(`${where} must be a media type`);
  return value;
}

function optionalMediaType(value: unknown, where: string): string | undefined {
  return value === undefined ? undefined : mediaTypeField(value, where);
}

function annotationsField(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${where} must be an object of strings`);
  }
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

/** Validates one descriptor (`where` names it in errors, e.g. `layers[2]`). */
export function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const mediaType = mediaTypeField(value.mediaType, `${where}.mediaType`);
  const digest = typeof value.digest === 'string' ? tryParseDigest(value.digest) : null;
  if (!digest) throw invalid(`${where}.digest must be a sha256 or sha512 digest`, { digest: String(value.digest).slice(0, 200) });
  if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  const descriptor: Descriptor = { mediaType, digest, size: value.size };
  if (value.urls !== undefined) {
    if (!Array.isArray(value.urls) || !value.urls.every((u) => typeof u === 'string')) throw invalid(`${where}.urls must be an array of strings`);
    descriptor.urls = value.urls as string[];
  }
  const artifactType = optionalMediaType(value.artifactType, `${where}.artifactType`);
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  annotationsField(value.annotations, `${where}.annotations`);
  if (value.data !== undefined && typeof value.data !== 'string') throw invalid(`${where}.data must be a base64 string`);
  if (value.platform !== undefined && !isObject(value.platform)) throw invalid(`${where}.platform must be an object`);
  return descriptor;
}

function descriptorList(value: unknown, field: string): Descriptor[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of descriptors`);
  return value.map((item, i) => parseDescriptor(item, `${field}[${i}]`));
}

/** Lowercase type/subtype of a Content-Type header, without parameters. */
function bareContentType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Chooses the manifest's media type from its `mediaType` field and the Content-Type
 * header: they must agree when both name a type; without a field, a manifest Content-Type
 * decides, and without either the structure does (OCI index when it has `manifests`).
 */
function resolveMediaType(body: JsonObject, contentType: string): string {
  const field = body.mediaType;
  if (field !== undefined && typeof field !== 'string') throw invalid('mediaType must be a string');
  if (SCHEMA1_TYPES.has(contentType) || (field !== undefined && SCHEMA1_TYPES.has(field))) {
    throw invalid('schema 1 manifests are not supported');
  }
  // `application/json`, curl's form default and the like say nothing about the manifest type.
  const headerNamesType = contentType.startsWith('application/vnd.');
  if (field !== undefined && headerNamesType && field.toLowerCase() !== contentType) {
    throw invalid(`Content-Type ${contentType} does not match the manifest's mediaType ${field}`, {
      contentType,
      mediaType: field,
    });
  }
  if (field !== undefined) return field;
  if (headerNamesType) return contentType;
  return body.manifests !== undefined ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest;
}

/**
 * Parses and validates a pushed manifest. MANIFEST_INVALID (with a message naming the
 * offending field) for anything but a well-formed schema 2 / OCI manifest or index.
 */
export function parseManifest(bytes: Buffer, contentTypeHeader?: string): ParsedManifest {
  const body = parseManifestJson(bytes);
  if (!isObject(body)) throw invalid('manifest must be a JSON object');
  if (body.schemaVersion === 1) throw invalid('schema 1 manifests are not supported');
  const mediaType = resolveMediaType(body, bareContentType(contentTypeHeader));
  if (body.schemaVersion !== 2) throw invalid('schemaVersion must be 2', { schemaVersion: body.schemaVersion ?? null });
  const isIndex = INDEX_TYPES.has(mediaType);
  if (!isIndex && !IMAGE_MANIFEST_TYPES.has(mediaType)) throw invalid(`unsupported manifest media type ${mediaType.slice(0, 200)}`);

  const subject = body.subject === undefined ? null : parseDescriptor(body.subject, 'subject');
  const annotations = annotationsField(body.annotations, 'annotations') ?? null;
  const ownArtifactType = optionalMediaType(body.artifactType, 'artifactType') ?? null;
  if (isIndex) {
    return {
      mediaType,
      kind: 'index',
      config: null,
      layers: [],
      manifests: descriptorList(body.manifests, 'manifests'),
      subject,
      artifactType: ownArtifactType,
      annotations,
    };
  }
  const config = parseDescriptor(body.config, 'config');
  return {
    mediaType,
    kind: 'image',
    config,
    layers: descriptorList(body.layers, 'layers'),
    manifests: [],
    subject,
    artifactType: ownArtifactType ?? config.mediaType,
    annotations,
  };
}

/** True when a layer may be missing from the registry: a non-distributable type, or one with `urls`. */
export function mayBeAbsent(layer: Descriptor): boolean {
  return NON_DISTRIBUTABLE_LAYER_TYPES.has(layer.mediaType) || (layer.urls !== undefined && layer.urls.length > 0);
}
