/**
 * Every shipped workload: parses and checks, documents itself (description, a doc line per
 * parameter, a headline metric), resolves its defaults on every machine preset, and is listed
 * with its parameters by `spfperf list --workloads`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MACHINES, machineCpus } from '../../src/config/machine.js';
import { listShippedWorkloads, loadWorkload, shippedWorkloadNames, shippedWorkloadsDir } from '../../src/workload/load.js';
import { paramKinds, resolveParams } from '../../src/workload/params.js';
import { spfperf } from '../helpers/cli.js';

const EXPECTED = [
  'alloc-heap', 'app-launch', 'ebizzy', 'fork-cow', 'kamezawa-race', 'kernbench', 'memdb', 'multi-fault',
  'page_fault1', 'page_fault2', 'page_fault3', 'pft', 'shmem-dirty', 'split-merge',
];

describe('shipped workloads', () => {
  test('the set shipped', async () => {
    expect(shippedWorkloadNames()).toEqual(EXPECTED);
  });

  test.each(EXPECTED)('%s parses, checks, and documents itself', (name) => {
    const w = loadWorkload(name);
    expect(w.name).toBe(name);
    // The description: the real benchmark, what is mirrored, the metric.
    expect(w.description.split('\n').length).toBeGreaterThan(10);
    // The first line is what `list --workloads` shows: one whole sentence.
    const first = w.description.split('\n')[0]!;
    expect(first).toMatch(/\.$/);
    expect(first.length).toBeLessThanOrEqual(90);
    expect(w.metrics.length).toBeGreaterThan(0);
    for (const p of w.params) expect(p.doc, `${name}: parameter ${p.name} has no doc comment`).toBeTruthy();
    // No line longer than the house style allows.
    const text = readFileSync(join(shippedWorkloadsDir(), `${name}.spf`), 'utf8');
    for (const line of text.split('\n')) expect(line.length, `${name}: ${line}`).toBeLessThanOrEqual(140);
  });

  test.each(EXPECTED)('%s resolves its defaults on every machine preset', (name) => {
    const w = loadWorkload(name);
    for (const m of Object.values(MACHINES)) {
      const v = resolveParams(w, [], { ncpus: machineCpus(m), seed: 1 });
      for (const p of w.params) expect(Number.isFinite(v.get(p.name)), `${name} ${p.name} on ${m.name}`).toBe(true);
    }
  });

  test('sweeps are uniform: a thread/task count and, where a run has a length, seconds', async () => {
    for (const name of EXPECTED) {
      const names = loadWorkload(name).params.map((p) => p.name);
      expect(names.includes('threads') || names.includes('tasks') || name === 'shmem-dirty', name).toBe(true);
    }
    for (const name of ['ebizzy', 'page_fault1', 'page_fault2', 'page_fault3', 'pft', 'memdb']) {
      expect(loadWorkload(name).params.map((p) => p.name), name).toContain('seconds');
    }
    for (const name of ['page_fault1', 'page_fault2', 'page_fault3']) {
      expect(paramKinds(loadWorkload(name)).get('mode'), name).toBe('word');
    }
  });

  test('listShippedWorkloads() gives every parameter with its default text', async () => {
    const all = listShippedWorkloads();
    expect(all.map((w) => w.name)).toEqual(EXPECTED);
    const pf2 = all.find((w) => w.name === 'page_fault2')!;
    expect(pf2.params.find((p) => p.name === 'mode')).toMatchObject({ defaultText: '"threads"' });
    for (const w of all) for (const p of w.params) expect(p.defaultText, `${w.name} ${p.name}`).not.toBe('');
  });

  test('spfperf list --workloads lists each with its parameters', async () => {
    const r = await spfperf(['list', '--workloads']);
    expect(r.status).toBe(0);
    for (const name of EXPECTED) expect(r.stdout).toMatch(new RegExp(`^│ ${name} +│`, 'm'));
    expect(r.stdout).toContain('mode="threads"');
    expect(r.stdout).toMatch(/^│ +│ rounds=200 /m);
    expect(r.stdout).toMatch(/^│ +│ tasks=\$ncpus /m);
  });
});
