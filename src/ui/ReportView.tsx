import { Box, Text, useApp, useInput } from 'ink';
import { useCallback, useReducer, useRef, type JSX } from 'react';
import type { ReportViewModel } from '../format/report.js';
import { commandsOf, type InkKey, type ViewCommand } from './key-commands.js';

/**
 * The interactive `spfperf report` (stdout is a terminal, no --stdio): one event's table at a
 * time, filling the terminal (`height` rows: the help line at the bottom, as perf's TUI has its
 * status line); move with the arrows or j/k, expand a row into its breakdown by another key with
 * enter, change that key with b, change event with the left/right arrows (or tab / h / l), quit
 * with q. The text comes ready-made from src/format/report.ts; this only navigates it.
 */
export interface ReportViewProps {
  readonly model: ReportViewModel;
  /** Terminal rows: the view fills them (lines longer than the terminal is wide are cut). */
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

/** Where the user is: the table shown, the cursor's row, the expanded rows, the breakdown key. */
interface ViewState {
  readonly tableIdx: number;
  readonly cursor: number;
  readonly expanded: ReadonlySet<number>;
  readonly bd: number;
}

/**
 * One key press applied to the state. A reducer, not setters over the values of the last render:
 * keys that come together (a paste, key repeat, a burst in one read) arrive before React has drawn
 * again, and each must see what the one before it did.
 */
function press(model: ReportViewModel, listHeight: number, st: ViewState, cmd: ViewCommand): ViewState {
  const nrows = model.tables[st.tableIdx]?.rows.length ?? 0;
  const move = (to: number): ViewState => {
    const cursor = Math.max(0, Math.min(nrows - 1, to));
    return cursor === st.cursor ? st : { ...st, cursor };
  };
  const switchTable = (d: number): ViewState => {
    const n = model.tables.length;
    if (n === 0) return st;
    return { ...st, tableIdx: (st.tableIdx + d + n) % n, cursor: 0, expanded: new Set() };
  };
  switch (cmd) {
    case 'up':
      return move(st.cursor - 1);
    case 'down':
      return move(st.cursor + 1);
    case 'pageUp':
      return move(st.cursor - listHeight);
    case 'pageDown':
      return move(st.cursor + listHeight);
    case 'top':
      return move(0);
    case 'bottom':
      return move(nrows - 1);
    case 'toggle': {
      const expanded = new Set(st.expanded);
      if (expanded.has(st.cursor)) expanded.delete(st.cursor);
      else expanded.add(st.cursor);
      return { ...st, expanded };
    }
    case 'breakdown':
      return model.breakdownKeys.length > 0 ? { ...st, bd: (st.bd + 1) % model.breakdownKeys.length } : st;
    case 'nextTable':
      return switchTable(1);
    case 'prevTable':
      return switchTable(-1);
    case 'quit':
      return st;
  }
}

export function ReportView({ model, height }: ReportViewProps): JSX.Element {
  const { exit } = useApp();
  // Rows left for the list: heading, blank, title, column header, help line.
  const listHeight = Math.max(3, height - model.heading.length - 4);
  const [st, dispatch] = useReducer(
    (s: ViewState, cmd: ViewCommand) => press(model, listHeight, s, cmd),
    { tableIdx: 0, cursor: 0, expanded: new Set<number>(), bd: 0 },
  );
  const { tableIdx, cursor, expanded, bd } = st;
  // First line shown: follows the cursor (kept between renders, not a render trigger); back to
  // the top with another table.
  const top = useRef({ tableIdx: 0, first: 0 });
  if (top.current.tableIdx !== tableIdx) top.current = { tableIdx, first: 0 };

  const table = model.tables[tableIdx];
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
  const cursorLine = lines.findIndex((l) => l.row === cursor && !l.sub);
  let first = top.current.first;
  if (cursorLine < first) first = cursorLine;
  if (cursorLine >= first + listHeight) first = cursorLine - listHeight + 1;
  // Keep the expanded breakdown in view when it fits.
  const lastOfRow = lines.reduce((acc, l, i) => (l.row === cursor ? i : acc), cursorLine);
  if (lastOfRow >= first + listHeight && lastOfRow - cursorLine < listHeight) first = lastOfRow - listHeight + 1;
  first = Math.max(0, Math.min(first, Math.max(0, lines.length - listHeight)));
  top.current.first = first;

  // One handler for the life of the view (exit and dispatch never change): ink subscribes it to
  // the input once, instead of again after every redraw. Each key of a burst is one command.
  const onKey = useCallback(
    (input: string, key: InkKey) => {
      for (const cmd of commandsOf(input, key)) {
        if (cmd === 'quit') {
          exit();
          return;
        }
        dispatch(cmd);
      }
    },
    [exit],
  );
  useInput(onKey);

  const visible = lines.slice(first, first + listHeight);
  // Every line is cut at the terminal's width (a wrapped line would push the view past `height`).
  return (
    <Box flexDirection="column" height={height}>
      {model.heading.map((h, i) => (
        <Text key={`h${i}`} dimColor wrap="truncate">
          {h}
        </Text>
      ))}
      <Text> </Text>
      {table === undefined ? (
        <Text>no samples</Text>
      ) : (
        <>
          <Text bold wrap="truncate">
            {table.title}
            {model.tables.length > 1 ? `  [${tableIdx + 1}/${model.tables.length}]` : ''}
          </Text>
          <Text underline wrap="truncate">{`  ${table.columns}`}</Text>
          {visible.map((l, i) =>
            l.sub ? (
              <Text key={`l${first + i}`} color="cyan" wrap="truncate">
                {l.text}
              </Text>
            ) : (
              <Text key={`l${first + i}`} inverse={l.row === cursor} wrap="truncate">
                {`${l.row === cursor ? '>' : ' '}${expanded.has(l.row) ? '-' : '+'}${l.text}`}
              </Text>
            ),
          )}
        </>
      )}
      <Box flexGrow={1} />
      <Text dimColor wrap="truncate">{`${HELP}${bdName !== undefined ? `  b: expand by ${bdName}` : ''}`}</Text>
    </Box>
  );
}
