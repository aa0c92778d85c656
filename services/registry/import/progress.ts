/**
 * What an import has done: the durable record that lets a rerun skip finished
 * repositories, the running counts for the summary, and how progress is shown (a bar
 * redrawn in place on a terminal, one plain line per event otherwise, so logs and pipes
 * stay readable).
 */
import { createHash } from 'node:crypto';
import { PathNotFoundError, type StorageDriver } from '../storage/driver.js';
import { importProgressPath } from '../storage/paths.js';

/** The counts an import reports at the end. */
export interface ImportSummary {
  repositories: number;
  tags: number;
  manifests: number;
  blobs: { linked: number; copied: number; present: number };
  /** Bytes of the blobs linked or copied by this run. */
  bytes: number;
  /** Repositories finished by an earlier, interrupted run. */
  resumed: number;
  /** What was not imported, and why (corrupt or missing blobs, unsupported manifests, …). */
  skipped: string[];
}

export function emptySummary(): ImportSummary {
  return { repositories: 0, tags: 0, manifests: 0, blobs: { linked: 0, copied: 0, present: 0 }, bytes: 0, resumed: 0, skipped: [] };
}

/** The key of a source store in the storage layout: 16 hex of the SHA-256 of its path. */
export function sourceKey(v2: string): string {
  return createHash('sha256').update(v2).digest('hex').slice(0, 16);
}

interface ProgressFile {
  source: string;
  done: string[];
}

/** The repositories already complete, kept in the storage driver (so it follows the data). */
export class ProgressRecord {
  private constructor(
    private readonly driver: StorageDriver,
    private readonly key: string,
    private readonly record: ProgressFile,
  ) {}

  static async load(driver: StorageDriver, v2: string): Promise<ProgressRecord> {
    const key = sourceKey(v2);
    try {
      const record = JSON.parse((await driver.getContent(importProgressPath(key))).toString('utf8')) as ProgressFile;
      return new ProgressRecord(driver, key, record);
    } catch (err) {
      if (!(err instanceof PathNotFoundError)) throw err;
      return new ProgressRecord(driver, key, { source: v2, done: [] });
    }
  }

  get sourceKey(): string {
    return this.key;
  }

  isDone(repository: string): boolean {
    return this.record.done.includes(repository);
  }

  /** Records a finished repository durably (written after its last metadata commit). */
  async markDone(repository: string): Promise<void> {
    this.record.done.push(repository);
    await this.driver.putContent(importProgressPath(this.key), Buffer.from(JSON.stringify(this.record)));
  }
}

/** Shows progress: `event` for each step, `tick` when a blob is done. */
export interface ProgressView {
  start(totals: { repositories: number; blobs: number }): void;
  event(line: string): void;
  tick(summary: ImportSummary): void;
  finish(): void;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const BAR_WIDTH = 30;

/** A bar redrawn in place on a terminal; plain lines otherwise. */
export function progressView(stream: NodeJS.WritableStream & { isTTY?: boolean }): ProgressView {
  let totals = { repositories: 0, blobs: 0 };
  let blobsDone = 0;
  if (!stream.isTTY) {
    return {
      start: (t) => stream.write(`importing ${t.repositories} repositories, ${t.blobs} blobs\n`),
      event: (line) => stream.write(`${line}\n`),
      tick: () => undefined,
      finish: () => undefined,
    };
  }
  const draw = (summary: ImportSummary): void => {
    const fraction = totals.blobs === 0 ? 1 : Math.min(1, blobsDone / totals.blobs);
    const filled = Math.round(fraction * BAR_WIDTH);
    stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${blobsDone}/${totals.blobs} blobs, ${summary.repositories}/${totals.repositories} repositories, ${megabytes(summary.bytes)}\x1b[K`);
  };
  return {
    start: (t) => {
      totals = t;
    },
    // Only what needs attention interrupts the bar on a terminal.
    event: (line) => {
      if (line.startsWith('skipped')) stream.write(`\r\x1b[K${line}\n`);
    },
    tick: (summary) => {
      blobsDone += 1;
      draw(summary);
    },
    finish: () => stream.write('\n'),
  };
}

/** The summary as people read it. */
export function formatSummary(summary: ImportSummary): string {
  const { linked, copied, present } = summary.blobs;
  const lines = [
    `imported ${summary.repositories} repositories (${summary.resumed} finished by an earlier run), ${summary.tags} tags, ${summary.manifests} manifests`,
    `blobs: ${linked} hard-linked, ${copied} copied, ${present} already present; ${megabytes(summary.bytes)} brought in`,
    `skipped: ${summary.skipped.length}`,
    ...summary.skipped.map((s) => `  ${s}`),
  ];
  return lines.join('\n');
}
