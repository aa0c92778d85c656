/**
 * Commands on a RUNNING registry, over its HTTP API (see ../registry-client.ts): list
 * repositories and tags, delete a tag or a manifest, inspect an image. They need the
 * registry's URL (--registry, DOCKYARD_REGISTRY, default http://127.0.0.1:5000) and, when it
 * asks for them, credentials of a user whose grants allow the action (catalog listing needs
 * an admin or a `registry:catalog:*` grant; deleting needs `delete`).
 */
import { isValidName, isValidTag, looksLikeDigest } from '../../../../shared/grammar/reference.js';
import type { Command, CliContext } from '../command.js';
import { UsageError, type FlagSpec } from '../args.js';
import type { RegistryClient } from '../registry-client.js';
import { inspectImage, renderInspection } from './inspect.js';

const REGISTRY_FLAGS: readonly FlagSpec[] = [
  { name: 'registry', value: 'URL', help: 'the registry (default: DOCKYARD_REGISTRY, else http://127.0.0.1:5000)' },
  { name: 'username', value: 'NAME', help: 'user for the registry (default: DOCKYARD_USERNAME)' },
  { name: 'password-stdin', help: 'read the password from stdin (default: DOCKYARD_PASSWORD)' },
];

const CREDENTIALS = 'Credentials: DOCKYARD_USERNAME and DOCKYARD_PASSWORD, or --username NAME --password-stdin; none for a registry without auth.';

/** REPO:TAG or REPO@DIGEST, validated with the registry's own grammar. */
function parseReference(text: string, want: 'tag' | 'digest' | 'either'): { repository: string; reference: string; kind: 'tag' | 'digest' } {
  const at = text.indexOf('@');
  const colon = text.lastIndexOf(':');
  let parsed: { repository: string; reference: string; kind: 'tag' | 'digest' } | null = null;
  if (at > 0) parsed = { repository: text.slice(0, at), reference: text.slice(at + 1), kind: 'digest' };
  else if (colon > text.lastIndexOf('/') && colon > 0) parsed = { repository: text.slice(0, colon), reference: text.slice(colon + 1), kind: 'tag' };
  const expected = want === 'tag' ? 'REPO:TAG' : want === 'digest' ? 'REPO@DIGEST' : 'REPO:TAG or REPO@DIGEST';
  if (!parsed || (want !== 'either' && parsed.kind !== want)) throw new UsageError(`expected ${expected}, got ${JSON.stringify(text)}`);
  if (!isValidName(parsed.repository)) throw new UsageError(`invalid repository name ${JSON.stringify(parsed.repository)}`);
  if (parsed.kind === 'tag' ? !isValidTag(parsed.reference) : !looksLikeDigest(parsed.reference)) {
    throw new UsageError(`invalid ${parsed.kind} ${JSON.stringify(parsed.reference)}`);
  }
  return parsed;
}

function repositoryArg(ctx: CliContext): string {
  const name = ctx.args.need(2, 'REPO');
  if (!isValidName(name)) throw new UsageError(`invalid repository name ${JSON.stringify(name)}`);
  return name;
}

/** Every entry of a paginated list (`/v2/_catalog`, tags/list), following the Link header. */
async function listAll(client: RegistryClient, path: string, scope: string, field: 'repositories' | 'tags'): Promise<string[]> {
  const all: string[] = [];
  let next: string | null = path;
  while (next) {
    const { body, res }: { body: Record<string, string[] | null>; res: Response } = await client.json(next, scope);
    all.push(...(body[field] ?? []));
    next = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
  }
  return all;
}

async function deleteManifest(ctx: CliContext, repository: string, reference: string): Promise<void> {
  const client = await ctx.registry();
  await client.request('DELETE', `/v2/${repository}/manifests/${reference}`, `repository:${repository}:delete`);
}

export const registryCommands: Command[] = [
  {
    name: 'repos list',
    flags: REGISTRY_FLAGS,
    summary: 'list the repositories of a running registry',
    details: CREDENTIALS,
    example: 'DOCKYARD_USERNAME=admin DOCKYARD_PASSWORD=… dockyard repos list --registry https://registry.example.com',
    async run(ctx) {
      const repositories = await listAll(await ctx.registry(), '/v2/_catalog', 'registry:catalog:*', 'repositories');
      ctx.print(repositories, () => repositories.join('\n'));
    },
  },
  {
    name: 'tags list',
    args: [{ name: 'REPO' }],
    flags: REGISTRY_FLAGS,
    summary: 'list the tags of a repository',
    details: CREDENTIALS,
    example: 'dockyard tags list team/app',
    async run(ctx) {
      const repository = repositoryArg(ctx);
      const tags = await listAll(await ctx.registry(), `/v2/${repository}/tags/list`, `repository:${repository}:pull`, 'tags');
      ctx.print(tags, () => tags.join('\n'));
    },
  },
  {
    name: 'tags delete',
    args: [{ name: 'REPO:TAG' }],
    flags: REGISTRY_FLAGS,
    summary: 'delete one tag; the manifest and its other tags stay',
    details: `DELETE /v2/REPO/manifests/TAG (OCI distribution spec 1.1). ${CREDENTIALS}`,
    example: 'dockyard tags delete team/app:old-build',
    async run(ctx) {
      const { repository, reference } = parseReference(ctx.args.need(2, 'REPO:TAG'), 'tag');
      await deleteManifest(ctx, repository, reference);
      ctx.print({ repository, tag: reference, deleted: true }, () => `deleted tag ${repository}:${reference}`);
    },
  },
  {
    name: 'manifests delete',
    args: [{ name: 'REPO@DIGEST' }],
    flags: REGISTRY_FLAGS,
    summary: 'delete a manifest and every tag pointing at it',
    details: `Blobs stay until garbage collection. ${CREDENTIALS}`,
    example: 'dockyard manifests delete team/app@sha256:4f1c…',
    async run(ctx) {
      const { repository, reference } = parseReference(ctx.args.need(2, 'REPO@DIGEST'), 'digest');
      await deleteManifest(ctx, repository, reference);
      ctx.print({ repository, digest: reference, deleted: true }, () => `deleted manifest ${repository}@${reference}`);
    },
  },
  {
    name: 'inspect',
    args: [{ name: 'REPO:TAG|REPO@DIGEST' }],
    flags: REGISTRY_FLAGS,
    summary: 'show an image: digest, platforms, layers with sizes, config labels',
    details: CREDENTIALS,
    example: 'dockyard inspect team/app:1.4 --json',
    async run(ctx) {
      const ref = parseReference(ctx.args.need(1, 'REPO:TAG|REPO@DIGEST'), 'either');
      const image = await inspectImage(await ctx.registry(), ref.repository, ref.reference);
      ctx.print(image, () => renderInspection(image));
    },
  },
];
