/**
 * `spfperf report -g`: the call graph under each entry, as perf report draws it in its stdio
 * layout (tools/perf/ui/stdio/hist.c, callchain__fprintf_graph() and __callchain__fprintf_graph();
 * perf's default `graph,0.5`: percentages of the total period, branches under 0.5 % of it left out),
 * as captured in shared/perf-captures/report-g.txt:
 *
 *       36.82%  mt       [kernel.kallsyms]     [k] pvm_irq_enable
 *               |
 *               ---pvm_irq_enable
 *                  __raw_callee_save_pvm_irq_enable
 *                  |
 *                  |--34.89%--exc_page_fault
 *                  |          asm_exc_page_fault
 *                  ...
 *
 * The chains of an entry's samples make a tree (perf's callchain_node): a node holds a run of
 * frames that every chain through it shares, and splits where they part or where one ends
 * (callchain.c, append_chain()). Pure.
 */

/** A node of the tree: its frames, the period of the chains that end in it, its children. */
interface Node {
  frames: string[];
  hit: number;
  readonly children: Node[];
}

/** The call chains of one report entry, merged. */
export class CallTree {
  private readonly root: Node = { frames: [], hit: 0, children: [] };

  /** Add a chain (in the order the graph shows it: its first frame at the top) of `period`. */
  add(chain: readonly string[], period: number): void {
    let node = this.root;
    let i = 0;
    for (;;) {
      if (i === chain.length) {
        node.hit += period;
        return;
      }
      const child = node.children.find((c) => c.frames[0] === chain[i]);
      if (child === undefined) {
        node.children.push({ frames: chain.slice(i), hit: period, children: [] });
        return;
      }
      // Walk the child's frames as far as the chain agrees; split it where they part.
      let j = 0;
      while (j < child.frames.length && i < chain.length && child.frames[j] === chain[i]) {
        j++;
        i++;
      }
      if (j < child.frames.length) {
        const rest: Node = { frames: child.frames.slice(j), hit: child.hit, children: child.children.splice(0) };
        child.frames = child.frames.slice(0, j);
        child.hit = 0;
        child.children.push(rest);
      }
      node = child;
    }
  }

  /**
   * The lines of the graph (without newlines). `total`: the period percentages are of; `parent`:
   * the entry's; `skipFirst`: the first frame of a single root is the entry's own symbol (perf
   * leaves it out when the report is sorted by symbol first).
   */
  lines(total: number, parent: number, skipFirst = false, minPercent = 0.5): string[] {
    const min = (total * minPercent) / 100;
    const out: string[] = [];
    let root = this.root;
    let margin = '';
    const top = sorted(root.children, min);
    // One chain root covering the whole entry: its frames in a column after `---`, no percentage.
    if (top.length === 1 && cumul(top[0]) === parent) {
      const only = top[0];
      const frames = skipFirst ? only.frames.slice(1) : only.frames;
      if (frames.length > 0) {
        out.push(`${LEFT}|`, `${LEFT}---${frames[0]}`);
        margin = '   ';
        for (const f of frames.slice(1)) out.push(`${LEFT}${margin}${f}`);
      }
      root = only;
    }
    graph(out, sorted(root.children, min), min, total, [true], LEFT + margin);
    return out;
  }
}

/** perf's callchain__fprintf_left_margin(): 12 columns. */
const LEFT = ' '.repeat(12);

function cumul(n: Node): number {
  let s = n.hit;
  for (const c of n.children) s += cumul(c);
  return s;
}

/** Children at or over `min`, the biggest first (perf's rb tree: equal ones in the order they came). */
function sorted(nodes: readonly Node[], min: number): Node[] {
  return nodes
    .map((n, i) => ({ n, c: cumul(n), i }))
    .filter((x) => x.c >= min && x.c > 0)
    .sort((a, b) => b.c - a.c || a.i - b.i)
    .map((x) => x.n);
}

/**
 * __callchain__fprintf_graph(): each child under a line of the pipes of its depth, its first frame
 * after `--PCT%--`, the rest under it; `pipes[i]`: depth i+1's pipe goes on (its last child closes it).
 */
function graph(out: string[], children: readonly Node[], min: number, total: number, pipes: boolean[], margin: string): void {
  children.forEach((child, k) => {
    const depth = pipes.length;
    const mine = [...pipes];
    if (k === children.length - 1) mine[depth - 1] = false;
    out.push(margin + pipes.map((p) => (p ? '|          ' : '           ')).join(''));
    child.frames.forEach((f, j) => {
      let line = margin;
      for (let i = 0; i < depth; i++) {
        line += mine[i] ? '|' : ' ';
        line += j === 0 && i === depth - 1 ? `--${((cumul(child) / total) * 100).toFixed(2)}%--` : '          ';
      }
      out.push(line + f);
    });
    graph(out, sorted(child.children, min), min, total, [...mine, true], margin);
  });
}
