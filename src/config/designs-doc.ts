import { CONFIG_KEYS, PRESETS } from './kconfig.js';
import { DESIGNS } from '../mm/spf/index.js';
import { mdCell, withGeneratedBlock } from '../format/doc-block.js';

/**
 * The part of docs/designs.md made from the design registry: the designs, their presets and
 * every config key. Pure; test/config/designs-doc.test.ts keeps the file in step with it
 * (`UPDATE_GOLDEN=1 npm test` rewrites the block).
 */

const code = (s: string): string => `\`${s}\``;
const cell = mdCell;

export function designsDoc(): string {
  const out: string[] = [];
  out.push('### Designs', '');
  out.push('| `design=` | since | what runs without the mmap lock | needs | own settings | counters and events it adds | source |');
  out.push('|---|---|---|---|---|---|---|');
  for (const d of DESIGNS) {
    const settings = Object.entries(d.settings ?? {}).map(([k, s]) => `${code(k)} (${s.values.join(', ')})`);
    const adds = [
      ...(d.events ?? []).map(code),
      ...(d.vmstat ?? []).map((g) => `vmstat ${g.names.map(code).join(', ')}${g.when === undefined ? '' : ` (with ${code(`${g.when}=y`)})`}`),
    ];
    out.push(`| ${code(d.name)} | ${d.since} | ${cell(d.lockless)} | ${d.needs === undefined ? '' : code(`${d.needs}=y`)} | ${settings.join('; ')} | ${adds.join('; ')} | ${cell(d.source)} |`);
  }
  out.push('', '### Presets', '');
  out.push('| preset | design | what it is |', '|---|---|---|');
  for (const [name, p] of Object.entries(PRESETS)) {
    const aliases = (p.aliases ?? []).map(code).join(', ');
    out.push(`| ${code(name)}${aliases === '' ? '' : ` (alias ${aliases})`} | ${code(p.design.name)} | ${cell(p.description)} |`);
  }
  out.push('', '### Config keys', '');
  out.push('Upper-case keys are Kconfig symbols, lower-case ones spfperf\'s own; a design\'s own settings');
  out.push('(and the symbols it introduces) are listed with it above. An unknown key or value is an error');
  out.push('that names it (and the file and line, for a file).', '');
  out.push('| key | values (default first) | what it does |', '|---|---|---|');
  for (const [k, def] of Object.entries(CONFIG_KEYS)) {
    const values = def.values.length === 0 ? `a whole number (${def.def})` : [def.def, ...def.values.filter((v) => v !== def.def), ...(def.form ? [def.form.text] : [])].join(', ');
    out.push(`| ${code(k)} | ${values} | ${cell(def.doc)} |`);
  }
  return out.join('\n') + '\n';
}

/** `doc` with the text between the registry markers replaced by designsDoc(). */
export function withDesignsDoc(doc: string): string {
  return withGeneratedBlock(doc, 'registry', 'docs/designs.md', 'from the design registry (src/mm/spf) by src/config/designs-doc.ts', designsDoc());
}
