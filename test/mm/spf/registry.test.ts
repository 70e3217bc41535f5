/**
 * The design registry (src/mm/spf/index.ts, registry.ts): every design file is found, every
 * descriptor is consistent with the event catalog and the config keys, and the hooks a design
 * leaves out behave as the classic kernel's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CONFIG_KEYS, PRESETS, resolveConfig } from '../../../src/config/kconfig.js';
import { EV, EVENTS, findEvent } from '../../../src/events/catalog.js';
import { ksymName } from '../../../src/events/ksym.js';
import { configHasVmstat } from '../../../src/format/vmstat.js';
import { DESIGNS, designNamed } from '../../../src/mm/spf/index.js';
import { completeHooks } from '../../../src/mm/spf/registry.js';
import { runWorkload } from '../../../src/sim/run.js';
import { mmOptions } from '../helpers.js';
import { ROOT } from '../../helpers/golden.js';
import { total, W } from './helpers.js';

const SPF_DIR = join(ROOT, 'src', 'mm', 'spf');

describe('the registry', () => {
  test('finds every file of src/mm/spf that exports a design, and nothing else', () => {
    const files = readdirSync(SPF_DIR).filter((f) => f.endsWith('.ts') && f !== 'designs.gen.ts' && /^export const design\b/m.test(readFileSync(join(SPF_DIR, f), 'utf8')));
    expect(DESIGNS).toHaveLength(files.length);
    expect(new Set(DESIGNS.map((d) => d.name)).size).toBe(DESIGNS.length);
  });

  test('orders the designs by when they were posted, the classic kernel first', () => {
    const since = DESIGNS.map((d) => d.since);
    expect(since).toEqual([...since].sort());
    expect(DESIGNS[0].needs).toBeUndefined();
    for (const d of DESIGNS) expect(d.since).toMatch(/^\d{4}-\d{2}$/);
  });

  test.each(DESIGNS.map((d) => d.name))('%s: its presets resolve to it, its keys are config keys, its counters are in the catalog', (name) => {
    const d = designNamed(name)!;
    expect(Object.keys(d.presets).length).toBeGreaterThan(0);
    for (const p of Object.keys(d.presets)) expect(resolveConfig([p]).design).toBe(name);
    for (const [k, s] of Object.entries({ ...d.kconfig, ...d.settings })) {
      expect(CONFIG_KEYS[k]).toBe(s);
      if (s.values.length > 0) expect(s.values).toContain(s.def);
    }
    if (d.needs !== undefined) expect(CONFIG_KEYS[d.needs]).toBeDefined();
    for (const g of d.vmstat ?? []) {
      for (const n of g.names) expect(findEvent(n)?.kind, n).toBe('vmstat');
      if (g.when !== undefined) expect(CONFIG_KEYS[g.when], g.when).toBeDefined();
    }
    for (const e of d.events ?? []) expect(findEvent(e), e).toBeDefined();
    for (const s of d.sites ?? []) expect(ksymName(s.ip)).toBe(`${s.fn}+0x${s.off.toString(16)}`);
  });

  test('a vmstat line is the classic kernel\'s or one design\'s, never two designs\'', () => {
    const owner = new Map<string, string>();
    for (const d of DESIGNS) {
      for (const g of d.vmstat ?? []) {
        for (const n of g.names) {
          expect(owner.get(n), n).toBeUndefined();
          owner.set(n, d.name);
        }
      }
    }
    const base = resolveConfig(['base']);
    for (const e of EVENTS.filter((x) => x.kind === 'vmstat')) {
      const d = owner.get(e.name);
      if (d === undefined) continue;
      expect(configHasVmstat(base, e), e.name).toBe(false);
      // Present under a preset of its design that turns its Kconfig symbols on.
      const presets = Object.entries(PRESETS).filter(([, p]) => p.design.name === d).map(([n]) => n);
      expect(presets.some((p) => configHasVmstat(resolveConfig([p]), e)), e.name).toBe(true);
    }
  });
});

describe('optional hooks', () => {
  test('a design with no hooks at all is the classic kernel', () => {
    const s = completeHooks({});
    expect(s.faultWithoutMmapLock).toBeUndefined();
    for (const h of ['mmapWriteLocked', 'vmaWriteBegin', 'treeModify', 'anonVmaAttach', 'vmaFree'] as const) expect(typeof s[h]).toBe('function');
    // treeModify and anonVmaAttach run the change directly.
    let ran = 0;
    const g = s.treeModify(null as never, null as never, () => ran++);
    expect(g.next().done).toBe(true);
    expect(ran).toBe(1);
  });

  test('a run with an empty design is the base run, count for count', () => {
    const src = W.mprotectWriter(10);
    const base = runWorkload(mmOptions(src, { ncpus: 4, design: 'base', keep: false }));
    const empty = runWorkload({ ...mmOptions(src, { ncpus: 4, design: 'base', keep: false }), spf: () => completeHooks({}) });
    const ids = EVENTS.map((e) => e.id);
    expect(ids.map((id) => empty.counts.total(id))).toEqual(ids.map((id) => base.counts.total(id)));
    expect(empty.elapsedNs).toBe(base.elapsedNs);
    expect(total(base, EV.PAGE_FAULTS)).toBeGreaterThan(0);
  });
});
