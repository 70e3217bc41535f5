import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { designsDoc, withDesignsDoc } from '../../src/config/designs-doc.js';
import { CONFIG_KEYS, PRESETS } from '../../src/config/kconfig.js';
import { DESIGNS } from '../../src/mm/spf/index.js';
import { ROOT } from '../helpers/golden.js';

const PATH = join(ROOT, 'docs', 'designs.md');

test('docs/designs.md holds the registry block as the registry makes it (UPDATE_GOLDEN=1 rewrites it)', () => {
  const doc = readFileSync(PATH, 'utf8');
  const want = withDesignsDoc(doc);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(PATH, want);
  else expect(doc).toBe(want);
});

test('the block names every design, preset and key of the registry', () => {
  const text = designsDoc();
  for (const d of DESIGNS) expect(text).toContain(`| \`${d.name}\` | ${d.since} |`);
  for (const p of Object.keys(PRESETS)) expect(text).toContain(`| \`${p}\``);
  for (const k of Object.keys(CONFIG_KEYS)) expect(text).toContain(`| \`${k}\` |`);
});

test('a document without the markers is refused', () => {
  expect(() => withDesignsDoc('# nothing here\n')).toThrow(/markers are missing/);
});
