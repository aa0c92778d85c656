// The registry's own admin commands (gc, rules, quotas, retention, images, import) reach the
// registry's command line through the `dockyard` entry, and `--help` on any of them prints
// that command line's usage with exit 0 (instead of refusing --help as an unknown option).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '../../../services/auth/cli.js';

async function dockyard(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dockyard-registry-help-'));
  let out = '';
  let err = '';
  const io: CliIo = { stdin: async () => '', out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) };
  try {
    return { code: await runCli(args, { ...process.env, DOCKYARD_DATA_DIR: dir }, io), out, err };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [args, expected] of [
  [['gc', 'run', '--help'], /gc run \[--dry-run\] \[--json\]/],
  [['rules', 'preset', '--help'], /preset release/],
  [['quotas', 'set', '-h'], /quotas set NAMESPACE BYTES/],
  [['retention', '--help'], /retention add/],
  [['images', 'stale', '--help'], /images stale REPO:TAG/],
  [['import', '--help'], /registry2 PATH/],
] as const) {
  test(`dockyard ${args.join(' ')} prints the command's usage and exits 0`, async () => {
    const { code, out, err } = await dockyard([...args]);
    assert.equal(code, 0, err);
    assert.match(out, /^usage: /);
    assert.match(out, expected);
  });
}
