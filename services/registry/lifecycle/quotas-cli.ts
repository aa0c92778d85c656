/**
 * `npm run admin -- quotas …`: set and list namespace quotas, and show usage of a
 * namespace or repository (computed the same way the push-time check does).
 */
import { namespaceOf, namespaceUsage, quotasWithUsage, repositoryUsage, type QuotaStore } from './quotas.js';
import { UsageError, type CommandIo } from '../cli-support.js';
import { cliActor } from './rules-cli.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** `1500`, `20GB`, `1.5GiB` → bytes. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new UsageError(`${JSON.stringify(text)} is not a size (bytes, or with KB, MB, GB, TB, KiB, MiB, GiB, TiB)`);
  return bytes;
}

function need(words: string[], index: number, label: string): string {
  const value = words[index];
  if (value === undefined) throw new UsageError(`missing ${label}`);
  return value;
}

/** Runs `quotas <verb> …` (words start after `quotas`). */
export async function runQuotasCommand(words: string[], flags: Set<string>, values: Map<string, string>, store: QuotaStore, io: CommandIo): Promise<void> {
  const verb = words[0];
  const json = flags.has('json');
  if (verb === 'set') {
    const namespace = need(words, 1, 'NAMESPACE');
    const hard = parseBytes(need(words, 2, 'BYTES'));
    const softText = values.get('soft');
    const soft = softText === undefined ? null : parseBytes(softText);
    await store.set({ namespace, hardBytes: hard, softBytes: soft }, cliActor());
    return io.out(`quota of ${namespace}: hard limit ${hard} bytes${soft === null ? '' : `, soft limit ${soft} bytes`}`);
  }
  if (verb === 'remove') {
    const namespace = need(words, 1, 'NAMESPACE');
    await store.set({ namespace, hardBytes: null, softBytes: null }, cliActor());
    return io.out(`removed the quota of ${namespace}`);
  }
  if (verb === 'list') {
    const rows = await quotasWithUsage(store);
    if (json) return io.out(JSON.stringify(rows, null, 2));
    return io.out(rows.length === 0 ? 'no quotas' : rows.map((r) => `${r.namespace}  usage ${r.usageBytes}  hard ${r.hardBytes ?? '-'}  soft ${r.softBytes ?? '-'}`).join('\n'));
  }
  if (verb === 'usage') {
    const name = need(words, 1, 'NAMESPACE or REPOSITORY');
    const isRepository = name.includes('/');
    const usage = isRepository ? await repositoryUsage(store.db, name) : await namespaceUsage(store.db, name);
    const quota = await store.get(namespaceOf(name));
    const result = { [isRepository ? 'repository' : 'namespace']: name, usageBytes: usage, hardBytes: quota?.hardBytes ?? null, softBytes: quota?.softBytes ?? null };
    return io.out(json ? JSON.stringify(result, null, 2) : `${name}: ${usage} bytes${quota?.hardBytes != null ? ` of ${quota.hardBytes} (namespace ${namespaceOf(name)})` : ''}`);
  }
  throw new UsageError('expected: quotas set NAMESPACE BYTES [--soft BYTES] | remove NAMESPACE | list | usage NAMESPACE|REPOSITORY');
}
