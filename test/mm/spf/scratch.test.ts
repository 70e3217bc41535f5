import { test } from 'vitest';
import { EV } from '../../../src/events/catalog.js';
import { runDesign, runShippedDesign, SpfSink, proc, totals, PAGEFAULT_TPS, LESPINASSE_ABORTS } from './helpers.js';

const show = (label: string, r: any, ids: readonly number[]) => console.log(label, JSON.stringify(totals(r, [EV.PAGE_FAULTS, EV.SPF, EV.PGFAULT, ...ids])), 'elapsed', r.elapsedNs);

test('ebizzy', () => {
  for (const d of ['dufour-v11', 'base'] as const) {
    const t0 = Date.now();
    const s = new SpfSink();
    const r = runShippedDesign('ebizzy', d, ['threads=16', 'seconds=0.02s'], 16, 1, [s]);
    show(d, r, PAGEFAULT_TPS);
    console.log(Date.now() - t0, 'ms', JSON.stringify(s.sites()));
  }
});

test('notsup first fault', () => {
  const s = new SpfSink();
  const r = runDesign('dufour-v11', proc('threads 1 {', '  m = mmap 8M', '  touch m write', '}'), { ncpus: 2, sinks: [s] });
  show('notsup', r, PAGEFAULT_TPS);
  console.log(s.samples.map((x) => `${x.event} ${x.site} ${x.vmStart.toString(16)}-${x.vmEnd.toString(16)} ${x.address.toString(16)}`).join('\n'));
});
