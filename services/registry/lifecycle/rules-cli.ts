/**
 * `npm run admin -- rules …`: list, add and remove tag rules, apply a preset, read the
 * audit log. Every change is recorded with the operating-system user who made it.
 */
import { userInfo } from 'node:os';
import { UsageError, type CommandIo } from '../cli-support.js';
import { TAG_RULE_KINDS, type TagRule, type TagRuleKind } from './tag-rules.js';
import type { TagRuleStore } from './rules-store.js';

/** `cli:<os user>`, the actor of changes made from the command line. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function table(rules: TagRule[]): string {
  const rows = [['ID', 'KIND', 'REPOSITORIES', 'TAGS', 'BY'], ...rules.map((r) => [String(r.id), r.kind, r.repositoryPattern, r.tagPattern, r.createdBy])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function need(words: string[], index: number, label: string): string {
  const value = words[index];
  if (value === undefined) throw new UsageError(`missing ${label}`);
  return value;
}

/** Runs `rules <verb> …` (words start after `rules`). */
export async function runRulesCommand(words: string[], flags: Set<string>, store: TagRuleStore, io: CommandIo): Promise<void> {
  const verb = words[0];
  const json = flags.has('json');
  if (verb === 'list') {
    const rules = await store.list();
    return io.out(json ? JSON.stringify(rules, null, 2) : rules.length === 0 ? 'no tag rules' : table(rules));
  }
  if (verb === 'add') {
    const kind = need(words, 1, 'KIND');
    if (!(TAG_RULE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`KIND must be one of ${TAG_RULE_KINDS.join(', ')}`);
    const rule = await store.add({ kind: kind as TagRuleKind, repositoryPattern: need(words, 2, 'REPOSITORY_PATTERN'), tagPattern: need(words, 3, 'TAG_PATTERN') }, cliActor());
    return io.out(json ? JSON.stringify(rule, null, 2) : `rule ${rule.id}: ${rule.kind} ${rule.repositoryPattern} ${rule.tagPattern}`);
  }
  if (verb === 'remove') {
    const id = need(words, 1, 'ID');
    if (!/^\d{1,9}$/.test(id)) throw new UsageError('ID must be a rule number (see rules list)');
    const rule = await store.remove(Number(id), cliActor());
    return io.out(`removed rule ${rule.id}: ${rule.kind} ${rule.repositoryPattern} ${rule.tagPattern}`);
  }
  if (verb === 'preset') {
    const rules = await store.applyPreset(need(words, 1, 'PRESET'), cliActor());
    return io.out(json ? JSON.stringify(rules, null, 2) : `applied preset ${words[1]}:\n${table(rules)}`);
  }
  if (verb === 'audit') {
    const entries = await store.auditLog(100);
    if (json) return io.out(JSON.stringify(entries, null, 2));
    return io.out(entries.map((e) => `${e.at.toISOString()}  ${e.actor}  ${e.action}  ${e.target}  ${JSON.stringify(e.details)}`).join('\n') || 'no entries');
  }
  throw new UsageError('expected: rules list | add KIND REPOSITORY_PATTERN TAG_PATTERN | remove ID | preset release | audit');
}
