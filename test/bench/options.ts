/** Command-line flags of `npm run bench`. */
import type { TargetName } from './scenarios/types.js';

/** Parsed flags. */
export interface BenchOptions {
  quick: boolean;
  only?: RegExp;
  out?: string;
  auth: 'none' | 'token';
  targets: TargetName[];
  /** How the scaling population reaches Dockyard: its MetadataStore (fast) or the API. */
  seed: 'db' | 'api';
  /** distribution's log level: info (its default, a line per request plus an access log) or warn (neither). */
  distributionLog: 'info' | 'warn';
  /** Wait while the 1-minute load average is above this before the run and each scenario (not in --quick unless given). */
  maxLoad?: number;
  /** Longest wait for the load to drop, seconds, each time. */
  loadWait: number;
  /** DOCKYARD_WORKERS for Dockyard's services; unset leaves their default. */
  workers?: number;
  /** Where the registries keep blobs (and Dockyard its metadata): a name of test/bench/storage.ts. */
  storage: string;
  keep: boolean;
  list: boolean;
  help: boolean;
}

/** The load-guard threshold of a full run on this 2-core machine when --max-load is not given. */
export const DEFAULT_MAX_LOAD = 1.5;

/** Usage text for --help and for bad flags. */
export const USAGE = `usage: npm run bench -- [options]
  --quick            small sizes and short rounds (a smoke run of every scenario)
  --only PATTERN     run only scenarios whose id matches PATTERN (case-insensitive regex)
  --out PATH         write the markdown table to PATH (.md) and details next to it (.json);
                     default .tmp/bench/bench-<profile>-<auth>-<time>.md
  --auth token       start Dockyard's auth service, make both registries trust it, run the
                     manifest GET/HEAD scenarios with tokens plus token endpoint throughput
  --targets LIST     comma-separated subset of dockyard,distribution (default both)
  --seed api         seed Dockyard's scaling population through the API like distribution's
                     (default db: through Dockyard's MetadataStore, see docs/performance.md)
  --distribution-log warn
                     run distribution at log level warn with the access log off (no per-request
                     lines); default info, its own default
  --max-load L       before the run and each scenario, wait while the 1-minute load average
                     is above L (default ${DEFAULT_MAX_LOAD}; off in --quick unless given; 0 = off)
  --load-wait S      wait at most S seconds each time (default 60), then go on with a warning
                     that the report header repeats
  --workers N        start Dockyard's services with DOCKYARD_WORKERS=N
  --storage NAME     where both registries keep blobs: filesystem (default) or s3 (one Ceph
                     RGW, a bucket each; Dockyard's metadata in PostgreSQL); azure (Azurite)
                     or swift (the RGW's Swift API) with --targets dockyard; test/bench/storage.ts
  --keep             keep the temp dir (data, server logs) instead of deleting it
  --list             print the scenario ids and exit`;

/** Parses argv (without node and script); throws with a clear message on a bad flag. */
export function parseOptions(argv: string[]): BenchOptions {
  const options: BenchOptions = { quick: false, auth: 'none', targets: ['dockyard', 'distribution'], seed: 'db', distributionLog: 'info', loadWait: 60, storage: 'filesystem', keep: false, list: false, help: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case '--quick':
        options.quick = true;
        break;
      case '--keep':
        options.keep = true;
        break;
      case '--list':
        options.list = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      case '--only':
        try {
          options.only = new RegExp(value(i, flag), 'i');
        } catch (err) {
          throw new Error(`--only: ${(err as Error).message}`);
        }
        i++;
        break;
      case '--out':
        options.out = value(i, flag);
        i++;
        break;
      case '--auth': {
        const mode = value(i, flag);
        if (mode !== 'none' && mode !== 'token') throw new Error(`--auth must be none or token, not ${mode}`);
        options.auth = mode;
        i++;
        break;
      }
      case '--seed': {
        const seed = value(i, flag);
        if (seed !== 'db' && seed !== 'api') throw new Error(`--seed must be db or api, not ${seed}`);
        options.seed = seed;
        i++;
        break;
      }
      case '--distribution-log': {
        const level = value(i, flag);
        if (level !== 'info' && level !== 'warn') throw new Error(`--distribution-log must be info or warn, not ${level}`);
        options.distributionLog = level;
        i++;
        break;
      }
      case '--max-load':
        options.maxLoad = number(value(i, flag), flag, 0);
        i++;
        break;
      case '--load-wait':
        options.loadWait = number(value(i, flag), flag, 0);
        i++;
        break;
      case '--workers': {
        const workers = number(value(i, flag), flag, 1);
        if (!Number.isInteger(workers)) throw new Error(`--workers takes a whole number, not ${workers}`);
        options.workers = workers;
        i++;
        break;
      }
      case '--storage':
        options.storage = value(i, flag);
        i++;
        break;
      case '--targets': {
        const names = value(i, flag).split(',').map((n) => n.trim());
        const bad = names.filter((n) => n !== 'dockyard' && n !== 'distribution');
        if (bad.length > 0 || names.length === 0) throw new Error(`--targets takes dockyard and/or distribution, not ${bad.join(',')}`);
        options.targets = [...new Set(names)] as TargetName[];
        i++;
        break;
      }
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  if (options.maxLoad === undefined && !options.quick) options.maxLoad = DEFAULT_MAX_LOAD;
  if (options.maxLoad === 0) options.maxLoad = undefined;
  return options;
}

function number(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) throw new Error(`${flag} takes a number >= ${min}, not ${text}`);
  return n;
}
