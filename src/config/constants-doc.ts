import { ALL_CONSTANTS, type DeclaredConstant } from './constants.js';
import { mdCell, withGeneratedBlock } from '../format/doc-block.js';

/**
 * The declared-constants table of docs/model.md ("Fitted constants and what they move"), made
 * from src/config/constants.ts so that the document cannot drift from the code
 * (test/config/constants.test.ts compares them; UPDATE_GOLDEN=1 rewrites the block).
 */

const cell = mdCell;

function values(c: DeclaredConstant): string {
  // Group the places that share a value: "x86 8; arm64 15; powerpc-radix, powerpc-hash 10".
  const by = new Map<string, string[]>();
  for (const v of c.values) {
    const k = Array.isArray(v.value) ? `[${v.value.join(', ')}]` : String(v.value);
    by.set(k, [...(by.get(k) ?? []), v.where]);
  }
  if (by.size === 1 && c.values.length === 1 && c.values[0].where === c.name) return [...by.keys()][0];
  return [...by].map(([v, ws]) => `${ws.join(', ')}: ${v}`).join('; ');
}

/** The markdown table: one row per declared constant, fitted ones first (`--sensitivity` moves each). */
export function constantsDoc(): string {
  const order = { fitted: 0, measured: 1, estimated: 2 };
  const rows = [...ALL_CONSTANTS].sort((a, b) => order[a.kind] - order[b.kind]);
  const lines = [
    '| constant | lives in | value(s) | kind | fitted on / estimated from |',
    '|---|---|---|---|---|',
    ...rows.map((c) => `| \`${c.name}\` | \`${c.file}\` | ${cell(values(c))} | ${c.kind} | ${cell(c.basis)} |`),
  ];
  return lines.join('\n') + '\n';
}

/** `doc` with the block between the markers replaced by constantsDoc(). */
export function withConstantsDoc(doc: string): string {
  return withGeneratedBlock(doc, 'constants', 'docs/model.md', 'from src/config/constants.ts by src/config/constants-doc.ts', constantsDoc());
}
