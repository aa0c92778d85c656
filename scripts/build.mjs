// `npm run build` (and `prepare`, which `npm ci` runs): compiles services/, shared/ and
// migrations/ to dist/ (or the directory given as the first argument) with tsc, after
// removing the previous output so a renamed or deleted source (a migration above all)
// cannot live on as a stale .js file.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = resolve(process.argv[2] ?? resolve(root, 'dist'));
rmSync(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', resolve(root, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
process.exit(result.status ?? 1);
