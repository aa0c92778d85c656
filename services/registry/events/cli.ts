/**
 * `npm run admin -- images dependents|stale|bases|history REPO:TAG [--json] [--depth N] [--limit N]`.
 * The admin CLI (services/auth/cli.ts) hands `images` commands to this module in a child
 * process, since services never import each other. It opens the registry's own metadata
 * database, named by the registry configuration (`--config FILE` / DOCKYARD_CONFIG and the
 * environment, default DATA_DIR/registry/registry.sqlite), as an admin tool on the
 * registry's host: it reads only, and sees exactly what the registry's API would.
 */
import { configFileFrom, loadRegistryConfig } from '../../../shared/config/index.js';
import { failureExitCode, registryDatabaseExists, runCommandEntry, UsageError } from '../cli-support.js';
import { KnexMetadataStore } from '../metadata/knex-store.js';
import type { MetadataStore } from '../metadata/store.js';
import { assertName } from '../../../shared/grammar/reference.js';
import { basesOf, DEFAULT_DEPTH, dependentsOf, MAX_DEPTH, resolveImage, staleFor, staleInNamespace, type DescribedImage } from './queries.js';
import { parseImageReference, referencePart } from './reference.js';

const IMAGES_USAGE = `usage: npm run admin -- [--config FILE] images COMMAND IMAGE [--json]
  images dependents REPO:TAG|REPO@DIGEST [--depth N]   images built on the image (N generations, default ${DEFAULT_DEPTH}, at most ${MAX_DEPTH})
  images stale REPO:TAG [--depth N]                     still-tagged images built on what REPO:TAG pointed at before its last move
  images stale --namespace NS [--depth N]               the same for every tag of the namespace that moved
  images bases REPO:TAG|REPO@DIGEST                     the images it is built on, nearest first (per platform for an index)
  images history REPO:TAG [--limit N]                   the tag's moves, newest first`;

interface ImagesIo {
  out: (text: string) => void;
  err: (text: string) => void;
}


const COMMANDS = new Set(['dependents', 'stale', 'bases', 'history']);

interface ImagesArgs {
  command: string;
  /** REPO:TAG or REPO@DIGEST; empty with --namespace. */
  image: string;
  namespace?: string;
  json: boolean;
  numbers: Map<string, number>;
}

/** `--depth` and `--limit` take integers; every other flag but --json and --config is refused. */
function parseImagesArgs(argv: readonly string[]): ImagesArgs {
  const positional: string[] = [];
  const numbers = new Map<string, number>();
  let json = false;
  let namespace: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--config') i++;
    else if (arg.startsWith('--config=')) continue;
    else if (arg === '--namespace') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('--namespace needs a namespace');
      namespace = value;
    } else if (arg === '--depth' || arg === '--limit') {
      const value = argv[++i] ?? '';
      if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new UsageError(`${arg} needs a positive integer`);
      numbers.set(arg.slice(2), Number(value));
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  const [area, command, image, extra] = positional;
  if (namespace !== undefined) {
    if (area !== 'images' || command !== 'stale' || image !== undefined) throw new UsageError('expected: images stale --namespace NS');
    return { command, image: '', namespace, json, numbers };
  }
  if (area !== 'images' || command === undefined || image === undefined || extra !== undefined) throw new UsageError('expected: images COMMAND IMAGE');
  if (!COMMANDS.has(command)) throw new UsageError(`unknown images command ${command}`);
  if ((numbers.get('depth') ?? 0) > MAX_DEPTH) throw new UsageError(`--depth is at most ${MAX_DEPTH}`);
  return { command, image, json, numbers };
}

/** `repo:tag` (or `repo@digest` when untagged), plus the tags of indexes containing it. */
function pullNames(image: DescribedImage): string {
  const names = [
    ...image.tags.map((tag) => `${image.repository}:${tag}`),
    ...image.indexes.flatMap((index) => index.tags.map((tag) => `${image.repository}:${tag} (index ${index.digest})`)),
  ];
  return names.length > 0 ? names.join(', ') : `${image.repository}@${image.digest} (untagged)`;
}

async function run(metadata: MetadataStore, args: ImagesArgs, io: ImagesIo): Promise<void> {
  const depth = args.numbers.get('depth') ?? DEFAULT_DEPTH;
  const print = (value: unknown, text: () => string) => io.out(args.json ? JSON.stringify(value, null, 2) : text());
  if (args.namespace !== undefined) {
    const reports = await staleInNamespace(metadata, assertName(args.namespace), depth);
    return print({ namespace: args.namespace, reports }, () =>
      reports.length === 0
        ? `nothing in ${args.namespace} is stale`
        : reports
            .flatMap((r) => [
              `${r.repository}:${r.tag} moved from ${r.previous} to ${r.current ?? '(removed)'}: ${r.stale.length} stale image(s)`,
              ...r.stale.map((s) => `  ${pullNames(s)}  ${s.digest}  generation ${s.generation} (${s.via})`),
            ])
            .join('\n'),
    );
  }
  const image = parseImageReference(args.image);
  if (args.command === 'stale' || args.command === 'history') {
    if (!('tag' in image)) throw new UsageError(`images ${args.command} takes REPO:TAG`);
    if (args.command === 'history') {
      const history = await metadata.lineage.tagHistory(image.repository, image.tag, args.numbers.get('limit') ?? 100);
      return print(history, () =>
        history.map((m) => `${m.movedAt.toISOString()}  ${m.oldDigest ?? '-'} -> ${m.newDigest ?? '-'}  ${m.actor ?? '-'}`).join('\n') || 'no moves recorded',
      );
    }
    const report = await staleFor(metadata, image.repository, image.tag, depth);
    return print(report, () => {
      if (report.previous === null) return `${args.image} has not moved since it was created: nothing is stale`;
      const head = `${args.image} moved from ${report.previous} to ${report.current ?? '(removed)'}: ${report.stale.length} stale image(s)`;
      return [head, ...report.stale.map((s) => `  ${pullNames(s)}  ${s.digest}  generation ${s.generation} (${s.via})`)].join('\n');
    });
  }
  const resolved = await resolveImage(metadata, image.repository, referencePart(image));
  if (args.command === 'dependents') {
    const dependents = await dependentsOf(metadata, resolved, depth);
    return print({ image: resolved, depth, dependents }, () =>
      [`${dependents.length} image(s) built on ${args.image} (${resolved.digest})`, ...dependents.map((d) => `  ${pullNames(d)}  ${d.digest}  generation ${d.generation} (${d.via})`)].join('\n'),
    );
  }
  const platforms = await basesOf(metadata, resolved);
  return print({ image: resolved, platforms }, () =>
    platforms
      .flatMap((p) => [
        `${p.digest}${p.annotation ? `  annotation: ${p.annotation.name ?? '-'} ${p.annotation.digest ?? '-'}` : ''}`,
        ...(p.bases.length ? p.bases.map((b) => `  ${b.direct ? 'direct  ' : 'ancestor'}  ${pullNames(b)}  ${b.digest} (${b.via})`) : ['  no base in this registry']),
      ])
      .join('\n'),
  );
}

/** Runs one `images …` invocation; returns the exit code (0 ok, 1 failed, 2 usage or configuration). */
export async function runImagesCli(argv: readonly string[], env: Record<string, string | undefined>, io: ImagesIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(IMAGES_USAGE);
    return 0;
  }
  let metadata: KnexMetadataStore | null = null;
  try {
    const args = parseImagesArgs(argv);
    const config = loadRegistryConfig({ file: configFileFrom(argv, env), env });
    if (!registryDatabaseExists(config, io)) return 1;
    metadata = await KnexMetadataStore.open(config.database);
    await run(metadata, args, io);
    return 0;
  } catch (err) {
    return failureExitCode(err, io, IMAGES_USAGE);
  } finally {
    await metadata?.close();
  }
}

runCommandEntry(import.meta.url, runImagesCli);
