// `npm run build` (and `prepare`, which `npm ci` runs): compiles services/, shared/ and
// migrations/ to dist/ with tsc, after removing the previous output so a renamed or
// deleted source (a migration above all) cannot live on as a stale .js file.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', new URL('../tsconfig.build.json', import.meta.url).pathname], { stdio: 'inherit' });
process.exit(result.status ?? 1);
