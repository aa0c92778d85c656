// docs/configuration.md lists every setting with its YAML key, environment name and default,
// and names no setting that does not exist.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ALL_SETTINGS } from '../../../shared/config/index.js';

const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

/** The settings table rows: YAML key, environment name, default. */
function tableRows(): Array<[string, string, string]> {
  const rows: Array<[string, string, string]> = [];
  for (const line of docs.split('\n')) {
    const cells = /^\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \|/.exec(line);
    if (cells) rows.push([cells[1], cells[2], cells[3]]);
  }
  return rows;
}

describe('docs/configuration.md', () => {
  const rows = tableRows();

  it('has one row per setting with the right environment name and default', () => {
    for (const setting of ALL_SETTINGS) {
      const row = rows.find(([yaml]) => yaml === setting.yaml);
      assert.ok(row, `no row for ${setting.yaml}`);
      assert.equal(row[1], setting.env, `environment name of ${setting.yaml}`);
      const expected = setting.defaultText ?? (setting.default === undefined ? '(none)' : String(setting.default));
      assert.equal(row[2], expected, `default of ${setting.yaml}`);
    }
  });

  it('documents no setting the loader does not know', () => {
    const known = new Set(ALL_SETTINGS.map((s) => s.yaml));
    for (const [yaml] of rows) assert.ok(known.has(yaml), `documented but unknown: ${yaml}`);
    assert.equal(rows.length, ALL_SETTINGS.length);
  });
});
