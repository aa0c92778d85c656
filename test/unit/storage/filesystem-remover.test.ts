import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REMOVAL_THREADS, treeRemover } from '../../../services/registry/storage/drivers/filesystem-remover.js';
import { FilesystemDriver } from '../../../services/registry/storage/drivers/filesystem.js';
import { PathNotFoundError } from '../../../services/registry/storage/driver.js';

async function makeTree(root: string, directories: number, filesEach: number): Promise<void> {
  for (let d = 0; d < directories; d += 1) {
    const directory = join(root, `d${d}`, 'nested');
    await mkdir(directory, { recursive: true });
    for (let f = 0; f < filesEach; f += 1) await writeFile(join(directory, `f${f}`), `${d}/${f}`);
    await writeFile(join(root, `d${d}`, 'top'), 'x');
  }
}

describe('removal threads of the filesystem driver', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'dockyard-remover-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('removes whole trees, more trees at once than there are threads', async () => {
    const trees = Array.from({ length: REMOVAL_THREADS * 3 }, (_, i) => join(root, `tree${i}`));
    for (const tree of trees) await makeTree(tree, 3, 4);
    await writeFile(join(root, 'kept'), 'kept');
    await Promise.all(trees.map((tree) => treeRemover.remove(tree)));
    assert.deepEqual(await readdir(root), ['kept']);
  });

  it('unlinks a file, and does nothing for a path that is absent', async () => {
    await writeFile(join(root, 'file'), 'x');
    await treeRemover.remove(join(root, 'file'));
    await treeRemover.remove(join(root, 'never-there'));
    assert.deepEqual(await readdir(root), []);
  });

  it('reports a failure with its system error code, and the thread stays usable', async () => {
    await writeFile(join(root, 'file'), 'x');
    // A path through a file: neither listed nor unlinked (ENOTDIR), also for root.
    await assert.rejects(treeRemover.remove(join(root, 'file', 'below')), (err: NodeJS.ErrnoException) => err.code === 'ENOTDIR' && /below/.test(err.message));
    await makeTree(join(root, 'after'), 1, 1);
    await treeRemover.remove(join(root, 'after'));
    assert.deepEqual(await readdir(root), ['file']);
  });

  it('is what the driver deletes a directory tree with; a file and an absent path as before', async () => {
    const driver = new FilesystemDriver(root);
    await driver.putContent('/a/b/one', Buffer.from('1'));
    await driver.putContent('/a/two', Buffer.from('2'));
    await driver.putContent('/file', Buffer.from('3'));
    await driver.delete('/a');
    await driver.delete('/file');
    await assert.rejects(driver.delete('/a'), PathNotFoundError);
    assert.deepEqual(await readdir(root), ['.tmp']);
  });

  it('never keeps a process alive once its removals are done', () => {
    const module = fileURLToPath(new URL('../../../services/registry/storage/drivers/filesystem-remover.ts', import.meta.url));
    const script = `import { treeRemover } from ${JSON.stringify(module)};
      import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
      const dir = ${JSON.stringify(join(root, 'child'))};
      mkdirSync(dir + '/x', { recursive: true }); writeFileSync(dir + '/x/f', 'f');
      await treeRemover.remove(dir);
      console.log(existsSync(dir) ? 'still there' : 'removed');`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 8_000 });
    assert.equal(result.stdout.trim(), 'removed', result.stderr);
    // An idle thread holding the process would keep it past the timeout (10 s idle time): killed, no status 0.
    assert.equal(result.status, 0);
  });
});
