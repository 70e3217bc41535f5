/**
 * Tables that are spfperf's own (not one of perf's layouts): list --configs, --machines,
 * --workloads, and the validate script's comparison. Laid out by cli-table3, with no colours, so
 * the text is the same on a terminal, a pipe and a golden file. Pure: rows in, text out.
 */
import Table from 'cli-table3';

export type Cell = string | number | { readonly content: string | number; readonly colSpan?: number; readonly hAlign?: 'left' | 'center' | 'right' };

export interface TableSpec {
  readonly head: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  /** Column widths (borders' padding included); null lets the column fit its widest cell. */
  readonly widths?: readonly (number | null)[];
  /** Per column; default left. */
  readonly align?: readonly ('left' | 'center' | 'right')[];
}

/** The table's text, ending with a newline; long cells wrap at word boundaries within their width. */
export function formatTable(spec: TableSpec): string {
  const t = new Table({
    head: [...spec.head],
    colWidths: spec.widths ? [...spec.widths] : [],
    colAligns: spec.align ? [...spec.align] : [],
    wordWrap: true,
    wrapOnWordBoundary: true,
    style: { head: [], border: [], compact: true, 'padding-left': 1, 'padding-right': 1 },
  });
  for (const r of spec.rows) t.push(r.map((c) => (typeof c === 'object' ? { ...c } : c)) as Table.Cell[]);
  return t.toString() + '\n';
}
