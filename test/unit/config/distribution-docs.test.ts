// docs/configuration.md has one row per rule for distribution's config.yml keys, saying what
// the rule does, and no row for a key no rule covers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RULES } from '../../../shared/config/distribution/index.js';

const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
// The table only: sections appended after it have tables of their own.
const tableStart = docs.slice(docs.indexOf('| Distribution key | What Dockyard does |'));
const section = tableStart.slice(0, tableStart.search(/\n(?!\|)/));

function rows(): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = /^\| `([^`]+)` \| (.+) \|$/.exec(line);
    if (cells) found.set(cells[1], cells[2].replace(/\\\|/g, '|'));
  }
  return found;
}

describe('docs/configuration.md: distribution keys', () => {
  it('documents every rule with its own text', () => {
    const documented = rows();
    for (const rule of RULES) assert.equal(documented.get(rule.key), rule.doc, `row for ${rule.key}`);
    assert.equal(documented.size, RULES.length, 'a documented key without a rule');
  });
});
