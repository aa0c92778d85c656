/**
 * The bench runs Dockyard's services as production does, from the compiled `dist/` (`npm
 * start` runs `node dist/services/main.js`), so its CPU, start-up and RSS figures carry no
 * TypeScript loader. Before starting anything it checks that dist/ matches the sources and
 * runs `npm run build` when it does not; the harness itself stays on tsx.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What `npm run build` compiles (tsconfig.build.json's include). */
const SOURCE_DIRS = ['services', 'shared', 'migrations'];
const REPO_ROOT = join(import.meta.dirname, '..', '..');
const DIST = join(REPO_ROOT, 'dist');

/** Every .ts file (not .d.ts) under a directory, relative to the repository root. */
function sources(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sources(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** Every .js file under dist/<dir>, relative to dist/. */
function outputs(dir: string): string[] {
  if (!existsSync(join(DIST, dir))) return [];
  const found: string[] = [];
  for (const entry of readdirSync(join(DIST, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...outputs(path));
    else if (entry.name.endsWith('.js')) found.push(path);
  }
  return found;
}

/**
 * Why dist/ does not match the sources, or undefined when it does: a source without its
 * compiled file, a source newer than its compiled file, or a compiled file whose source is
 * gone (a removed migration would otherwise still run).
 */
export function distStaleReason(): string | undefined {
  if (!existsSync(join(DIST, 'services', 'main.js'))) return 'dist/services/main.js does not exist';
  const compiled = new Set<string>();
  for (const source of SOURCE_DIRS.flatMap(sources)) {
    const output = source.replace(/\.ts$/, '.js');
    compiled.add(output);
    const outputPath = join(DIST, output);
    if (!existsSync(outputPath)) return `${source} has no dist/${output}`;
    if (statSync(join(REPO_ROOT, source)).mtimeMs > statSync(outputPath).mtimeMs) return `${source} is newer than dist/${output}`;
  }
  const orphan = SOURCE_DIRS.flatMap(outputs).find((output) => !compiled.has(output));
  return orphan ? `dist/${orphan} has no source any more` : undefined;
}

/** Builds dist/ when it is stale; says which it did. Throws when the build fails. */
export function ensureDist(log: (line: string) => void): string {
  const stale = distStaleReason();
  if (!stale) {
    const line = `dist/ is current (every source under ${SOURCE_DIRS.join(', ')} is older than its compiled file); Dockyard runs from dist/`;
    log(line);
    return line;
  }
  log(`dist/ is stale (${stale}): running npm run build`);
  const began = Date.now();
  const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status ?? build.signal}); the bench runs Dockyard from dist/`);
  const after = distStaleReason();
  if (after) throw new Error(`dist/ still does not match the sources after npm run build: ${after}`);
  const line = `dist/ was stale (${stale}); built it with npm run build in ${((Date.now() - began) / 1000).toFixed(0)} s; Dockyard runs from dist/`;
  log(line);
  return line;
}

/** The compiled file of a service entry point (`services/registry/main.ts` → absolute dist/services/registry/main.js). */
export function distEntry(entry: string): string {
  return join(DIST, entry.replace(/\.ts$/, '.js'));
}
