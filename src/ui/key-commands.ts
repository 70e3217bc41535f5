/**
 * What the keys of the interactive report do, one command per key press.
 *
 * Ink splits what it reads from the terminal at escape sequences only: a burst of plain keys that
 * arrives in one read (a paste, `tmux send-keys j j Enter`, key repeat on a slow machine) reaches
 * the input handler as one string, `"jj\r"`, with no key flag set. So every character of such a
 * string is a key press of its own here, and none is lost.
 */

export type ViewCommand = 'up' | 'down' | 'pageUp' | 'pageDown' | 'top' | 'bottom' | 'toggle' | 'breakdown' | 'nextTable' | 'prevTable' | 'quit';

/** The key flags ink's useInput passes (the ones this view reads). */
export interface InkKey {
  readonly upArrow: boolean;
  readonly downArrow: boolean;
  readonly leftArrow: boolean;
  readonly rightArrow: boolean;
  readonly pageUp: boolean;
  readonly pageDown: boolean;
  readonly home: boolean;
  readonly end: boolean;
  readonly return: boolean;
  readonly escape: boolean;
  readonly tab: boolean;
  readonly ctrl: boolean;
}

/** Plain characters and what they do (vi-style keys as in perf's TUI; \r is Enter, \x03 Ctrl-C). */
const CHARS: Readonly<Record<string, ViewCommand>> = {
  k: 'up',
  j: 'down',
  ' ': 'pageDown',
  g: 'top',
  G: 'bottom',
  '\r': 'toggle',
  '\n': 'toggle',
  b: 'breakdown',
  l: 'nextTable',
  '\t': 'nextTable',
  h: 'prevTable',
  q: 'quit',
  '\u0003': 'quit',
};

/** The commands of one input event, in the order the keys were pressed. */
export function commandsOf(input: string, key: InkKey): ViewCommand[] {
  if (key.upArrow) return ['up'];
  if (key.downArrow) return ['down'];
  if (key.pageUp) return ['pageUp'];
  if (key.pageDown) return ['pageDown'];
  if (key.home) return ['top'];
  if (key.end) return ['bottom'];
  if (key.rightArrow) return ['nextTable'];
  if (key.leftArrow) return ['prevTable'];
  if (key.return) return ['toggle'];
  if (key.tab) return ['nextTable'];
  if (key.escape) return ['quit'];
  if (key.ctrl) return input === 'c' ? ['quit'] : [];
  const out: ViewCommand[] = [];
  for (const c of input) {
    const cmd = CHARS[c];
    if (cmd !== undefined) out.push(cmd);
  }
  return out;
}
