import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CallTree } from '../../src/format/callgraph.js';
import { ROOT } from '../helpers/golden.js';

/**
 * perf report's call graph (fixtures/golden/perf-6.1/report-g.txt, a copy of
 * shared/perf-captures/report-g.txt: `perf report --stdio --no-children --sort comm,dso,sym`).
 */
const CAPTURE = readFileSync(join(ROOT, 'fixtures', 'golden', 'perf-6.1', 'report-g.txt'), 'utf8').split('\n');

/** The capture's graph under the entry whose line ends with `sym`: the lines up to the next entry. */
function graphOf(sym: string): string[] {
  const at = CAPTURE.findIndex((l) => /^ +\d+\.\d+%/.test(l) && l.endsWith(sym));
  const end = CAPTURE.findIndex((l, i) => i > at && /^ +\d+\.\d+%/.test(l));
  return CAPTURE.slice(at + 1, end < 0 ? CAPTURE.length : end).filter((l) => l !== '');
}

/** Chains (callee order, as --no-children draws them) with periods that give the capture's percentages of a total of 10000. */
const PVM = ['pvm_irq_enable', '__raw_callee_save_pvm_irq_enable'];
const LRU = ['_raw_spin_unlock_irqrestore', 'folio_batch_move_lru', '__folio_batch_add_and_move', 'do_anonymous_page', '__handle_mm_fault', 'handle_mm_fault', 'exc_page_fault', 'asm_exc_page_fault', 'w'];

describe('CallTree: perf report\'s graph layout', () => {
  it('a single chain: `|` then `---` and its frames in a column', () => {
    const t = new CallTree();
    t.add(['w'], 4908);
    expect(t.lines(10000, 4908)).toEqual(graphOf('[.] w'));
  });

  it('branches: pipes of each depth, `--PCT%--` of the total before a branch\'s first frame, the last branch closing its pipe; branches under 0.5 % left out', () => {
    const t = new CallTree();
    t.add([...PVM, 'exc_page_fault', 'asm_exc_page_fault', 'w'], 3488);
    t.add([...PVM, 'exc_page_fault', 'asm_exc_page_fault'], 1); // ends one frame short: the branch's own hit
    t.add([...PVM, ...LRU], 71);
    t.add([...PVM, LRU[0], 'release_pages'], 47); // 0.47 %: below perf's 0.5 %, not drawn
    t.add([...PVM, 'sysvec_apic_timer_interrupt'], 40);
    t.add([...PVM, 'irqentry_exit'], 35);
    expect(t.lines(10000, 3682)).toEqual(graphOf('[k] pvm_irq_enable'));
  });

  it('several roots: the graph starts at depth 1 without `---`; sorted by sym first, the entry\'s own frame is left out', () => {
    const t = new CallTree();
    t.add(['f', 'a'], 60);
    t.add(['f', 'b'], 40);
    expect(t.lines(100, 100)).toEqual(['            |', '            ---f', '               |          ', '               |--60.00%--a', '               |          ', '                --40.00%--b']);
    expect(t.lines(100, 100, true)).toEqual(['            |          ', '            |--60.00%--a', '            |          ', '             --40.00%--b']);
    const two = new CallTree();
    two.add(['a'], 30);
    two.add(['b'], 20);
    expect(two.lines(100, 50)).toEqual(['            |          ', '            |--30.00%--a', '            |          ', '             --20.00%--b']);
  });
});
