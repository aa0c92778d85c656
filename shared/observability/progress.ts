/**
 * Progress of long work (an import, a garbage collection) for a person watching: on a
 * terminal a bar redrawn in place at most every `redrawMs`; anywhere else (CI logs, a pipe,
 * a file) plain lines, one each time another tenth of the total is done or, without a
 * total, every `lineEveryMs`, so a log stays readable and a pipe never sees control
 * characters. Usage:
 *
 *   const progress = createProgress({ label: 'importing blobs', total: blobs.length, unit: 'bytes', out: process.stderr });
 *   for (…) progress.advance(size, name);
 *   progress.done('imported 120 blobs');
 */

/** Where progress goes: a stream, and whether it is an interactive terminal. */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** Units of work in all, when known (items or bytes); without it, a running count. */
  total?: number;
  unit?: 'items' | 'bytes';
  out: ProgressOutput;
  /** Terminal redraw interval (default 100 ms). */
  redrawMs?: number;
  /** Interval of plain lines when there is no total (default 5 s). */
  lineEveryMs?: number;
  now?: () => number;
}

export interface Progress {
  /** `n` more units done (default 1); `detail` names the current item (terminal only). */
  advance(n?: number, detail?: string): void;
  /** Ends the bar (or prints the last line) with `summary`, or the final count. */
  done(summary?: string): void;
}

const BAR_WIDTH = 24;

/** Bytes as B, KiB, MiB, GiB or TiB with one decimal. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${value.toFixed(1)} ${units[i]}`;
}

function amount(n: number, unit: 'items' | 'bytes'): string {
  return unit === 'items' ? String(n) : formatBytes(n);
}

export function createProgress(options: ProgressOptions): Progress {
  const { label, total, out } = options;
  const unit = options.unit ?? 'items';
  const now = options.now ?? Date.now;
  const tty = out.isTTY === true;
  const started = now();
  let done = 0;
  let lastDraw = -Infinity;
  let lastTenth = 0;
  let lastLine = started;
  let finished = false;

  const counts = (): string => (total === undefined ? amount(done, unit) : `${amount(done, unit)}/${amount(total, unit)}`);
  const percent = (): number => (total ? Math.min(100, Math.floor((done / total) * 100)) : 0);

  const draw = (detail: string): void => {
    let line = `${label} `;
    if (total !== undefined) {
      const filled = Math.round((percent() / 100) * BAR_WIDTH);
      line += `[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${String(percent()).padStart(3)}% `;
    }
    line += counts();
    if (detail) line += `  ${detail}`;
    const width = (out.columns ?? 80) - 1;
    // \r and clear-to-end-of-line: redraw in place, never leaving the tail of a longer line.
    out.write(`\r${line.length > width ? line.slice(0, width) : line}\x1b[K`);
  };

  return {
    advance(n = 1, detail = '') {
      if (finished) return;
      done += n;
      const t = now();
      if (tty) {
        if (t - lastDraw >= (options.redrawMs ?? 100)) {
          lastDraw = t;
          draw(detail);
        }
        return;
      }
      if (total !== undefined) {
        const tenth = Math.floor(percent() / 10);
        if (tenth > lastTenth && tenth < 10) {
          lastTenth = tenth;
          out.write(`${label}: ${counts()} (${percent()}%)\n`);
        }
      } else if (t - lastLine >= (options.lineEveryMs ?? 5000)) {
        lastLine = t;
        out.write(`${label}: ${counts()}\n`);
      }
    },
    done(summary) {
      if (finished) return;
      finished = true;
      const seconds = ((now() - started) / 1000).toFixed(1);
      const text = `${label}: ${summary ?? `${counts()} done`} in ${seconds} s`;
      out.write(tty ? `\r${text}\x1b[K\n` : `${text}\n`);
    },
  };
}
