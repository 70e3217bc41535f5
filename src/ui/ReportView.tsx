import { Box, Text, useApp, useInput } from 'ink';
import { useRef, useState, type JSX } from 'react';
import type { ReportViewModel } from '../format/report.js';

/**
 * The interactive `spfperf report` (stdout is a terminal, no --stdio): one event's table at a
 * time; move with the arrows or j/k, expand a row into its breakdown by another key with enter,
 * change that key with b, change event with the left/right arrows (or tab / h / l), quit with q.
 * The text comes ready-made from src/format/report.ts; this only navigates it.
 */
export interface ReportViewProps {
  readonly model: ReportViewModel;
  /** Terminal rows available. */
  readonly height: number;
}

const HELP = '↑↓/jk move  enter expand  ←→ event  g/G top/end  q quit';

/** One line of the scrolled list: a table row or a breakdown line under it. */
interface Line {
  readonly text: string;
  /** Index of the table row this line belongs to. */
  readonly row: number;
  readonly sub: boolean;
}

export function ReportView({ model, height }: ReportViewProps): JSX.Element {
  const { exit } = useApp();
  const [tableIdx, setTableIdx] = useState(0);
  const [cursor, setCursor] = useState(0);
  // First line shown: follows the cursor (kept between renders, not a render trigger).
  const top = useRef(0);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [bd, setBd] = useState(0);

  const table = model.tables[tableIdx];
  const nrows = table?.rows.length ?? 0;
  const bdName = model.breakdownKeys[bd];

  const lines: Line[] = [];
  if (table !== undefined) {
    table.rows.forEach((r, i) => {
      lines.push({ text: r.text, row: i, sub: false });
      if (expanded.has(i) && bdName !== undefined) {
        lines.push({ text: `        by ${bdName}:`, row: i, sub: true });
        for (const b of r.breakdowns[bd] ?? []) lines.push({ text: `      ${b}`, row: i, sub: true });
      }
    });
  }
  // Rows left for the list: heading, blank, title, column header, footer.
  const listHeight = Math.max(3, height - model.heading.length - 5);
  const cursorLine = lines.findIndex((l) => l.row === cursor && !l.sub);
  let first = top.current;
  if (cursorLine < first) first = cursorLine;
  if (cursorLine >= first + listHeight) first = cursorLine - listHeight + 1;
  // Keep the expanded breakdown in view when it fits.
  const lastOfRow = lines.reduce((acc, l, i) => (l.row === cursor ? i : acc), cursorLine);
  if (lastOfRow >= first + listHeight && lastOfRow - cursorLine < listHeight) first = lastOfRow - listHeight + 1;
  first = Math.max(0, Math.min(first, Math.max(0, lines.length - listHeight)));
  top.current = first;

  const move = (to: number): void => setCursor(Math.max(0, Math.min(nrows - 1, to)));
  const switchTable = (d: number): void => {
    const n = model.tables.length;
    if (n === 0) return;
    setTableIdx((tableIdx + d + n) % n);
    setCursor(0);
    top.current = 0;
    setExpanded(new Set());
  };

  useInput((input, key) => {
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) exit();
    else if (key.upArrow || input === 'k') move(cursor - 1);
    else if (key.downArrow || input === 'j') move(cursor + 1);
    else if (key.pageUp) move(cursor - listHeight);
    else if (key.pageDown || input === ' ') move(cursor + listHeight);
    else if (key.home || input === 'g') move(0);
    else if (key.end || input === 'G') move(nrows - 1);
    else if (key.return) {
      const next = new Set(expanded);
      if (next.has(cursor)) next.delete(cursor);
      else next.add(cursor);
      setExpanded(next);
    } else if (input === 'b' && model.breakdownKeys.length > 0) setBd((bd + 1) % model.breakdownKeys.length);
    else if (key.rightArrow || key.tab || input === 'l') switchTable(1);
    else if (key.leftArrow || input === 'h') switchTable(-1);
  });

  const visible = lines.slice(first, first + listHeight);
  return (
    <Box flexDirection="column">
      {model.heading.map((h, i) => (
        <Text key={`h${i}`} dimColor>
          {h}
        </Text>
      ))}
      <Text> </Text>
      {table === undefined ? (
        <Text>no samples</Text>
      ) : (
        <>
          <Text bold>
            {table.title}
            {model.tables.length > 1 ? `  [${tableIdx + 1}/${model.tables.length}]` : ''}
          </Text>
          <Text underline>{`  ${table.columns}`}</Text>
          {visible.map((l, i) =>
            l.sub ? (
              <Text key={`l${first + i}`} color="cyan">
                {l.text}
              </Text>
            ) : (
              <Text key={`l${first + i}`} inverse={l.row === cursor}>
                {`${l.row === cursor ? '>' : ' '}${expanded.has(l.row) ? '-' : '+'}${l.text}`}
              </Text>
            ),
          )}
        </>
      )}
      <Text dimColor wrap="truncate">{`${HELP}${bdName !== undefined ? `  b: expand by ${bdName}` : ''}`}</Text>
    </Box>
  );
}
