/**
 * `npm run admin -- retention …`: manage retention policies and run them (or see what a
 * run would remove).
 */
import type { Retention, RetentionPolicy } from './retention.js';
import { UsageError, type CommandIo } from '../cli-support.js';
import { cliActor } from './rules-cli.js';

function count(values: Map<string, string>, name: string): number | null {
  const text = values.get(name);
  if (text === undefined) return null;
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`--${name} takes a whole number`);
  return Number(text);
}

function describePolicy(p: RetentionPolicy): string {
  return `${p.repositoryPattern} ${p.tagPattern} keep-last ${p.keepLast ?? '-'} keep-days ${p.keepDays ?? '-'} by ${p.basis}`;
}

/** Runs `retention <verb> …` (words start after `retention`). */
export async function runRetentionCommand(words: string[], flags: Set<string>, values: Map<string, string>, retention: Retention, io: CommandIo): Promise<void> {
  const verb = words[0];
  const json = flags.has('json');
  if (verb === 'add') {
    const [repositoryPattern, tagPattern] = [words[1], words[2]];
    if (repositoryPattern === undefined || tagPattern === undefined) {
      throw new UsageError('expected: retention add REPOSITORY_PATTERN TAG_PATTERN [--keep-last N] [--keep-days N] [--by push|pull]');
    }
    const basis = values.get('by') ?? 'push';
    if (basis !== 'push' && basis !== 'pull') throw new UsageError('--by takes push or pull');
    const policy = await retention.add({ repositoryPattern, tagPattern, keepLast: count(values, 'keep-last'), keepDays: count(values, 'keep-days'), basis }, cliActor());
    return io.out(`retention policy ${policy.id}: ${describePolicy(policy)}`);
  }
  if (verb === 'list') {
    const policies = await retention.list();
    if (json) return io.out(JSON.stringify(policies, null, 2));
    return io.out(policies.map((p) => `${p.id}  ${describePolicy(p)}`).join('\n') || 'no retention policies');
  }
  if (verb === 'remove') {
    const id = words[1];
    if (id === undefined || !/^\d{1,9}$/.test(id)) throw new UsageError('expected: retention remove ID');
    await retention.remove(Number(id), cliActor());
    return io.out(`removed retention policy ${id}`);
  }
  if (verb === 'run') {
    const report = await retention.run({ dryRun: flags.has('dry-run'), actor: cliActor() });
    if (json) return io.out(JSON.stringify(report, null, 2));
    const verbText = report.dryRun ? 'would remove' : 'removed';
    const lines = [
      ...report.tags.map((t) => `${verbText} tag ${t.repository}:${t.tag} (${t.digest})`),
      ...report.manifests.map((m) => `${verbText} manifest ${m.repository}@${m.digest}`),
      `${report.dryRun ? 'dry run: ' : ''}${report.tags.length} tag(s), ${report.manifests.length} manifest(s) ${verbText}`,
    ];
    return io.out(lines.join('\n'));
  }
  throw new UsageError('expected: retention add | list | remove ID | run [--dry-run]');
}
