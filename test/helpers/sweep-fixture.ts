/**
 * A sweep directory made of real runs, in the shape `spfperf sweep` writes (src/plot/sweep.ts):
 * one `spfperf stat -r N --save` document per point, run through the CLI in-process (one after
 * another: --jobs 1), and sweep.json indexing them. fixtures/sweep/ holds two, made by this helper
 * (test/plot/sweep.test.ts checks that they still are what the runs give; UPDATE_GOLDEN=1 writes
 * them again).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPFPERF_VERSION } from '../../src/stats/save.js';
import { spfperf } from './cli.js';

export interface SweepFixture {
  readonly workload: string;
  readonly args: readonly string[];
  readonly repeats: number;
  readonly machines: readonly string[];
  readonly configs: readonly string[];
  readonly cpus: readonly number[];
  /** Workload parameter axes: name and values. */
  readonly params?: Readonly<Record<string, readonly string[]>>;
}

/** The small sweep of the plot tests: page_fault1 at 1, 2, 4 and 8 CPUs under three configs. */
export const PF1: SweepFixture = {
  workload: 'page_fault1',
  args: ['seconds=0.0005s'],
  repeats: 2,
  machines: ['x86-vm16'],
  configs: ['base', 'dufour-v11', 'per-vma-lock'],
  cpus: [1, 2, 4, 8],
  params: { size: ['256K'] },
};

/** One with panels: two machines, and a parameter with two values. */
export const FACETS: SweepFixture = {
  workload: 'page_fault1',
  args: ['seconds=0.0003s'],
  repeats: 2,
  machines: ['x86-vm16', 'x86-2s8c'],
  configs: ['base', 'per-vma-lock'],
  cpus: [1, 2, 4],
  params: { size: ['128K', '256K'] },
};

type Coords = Record<string, string | number>;

function product(axes: readonly { name: string; values: readonly (string | number)[] }[]): Coords[] {
  return axes.reduce<Coords[]>((acc, a) => acc.flatMap((c) => a.values.map((v) => ({ ...c, [a.name]: v }))), [{}]);
}

/** Run every point of `f` into `dir` (created) and write dir/sweep.json; returns its path. */
export async function makeSweep(dir: string, f: SweepFixture): Promise<string> {
  const params = Object.entries(f.params ?? {});
  const axes = [
    { name: 'machine', kind: 'machine', values: [...f.machines] },
    { name: 'config', kind: 'config', values: [...f.configs] },
    { name: 'cpus', kind: 'cpus', values: [...f.cpus] },
    ...params.map(([name, values]) => ({ name, kind: 'param', values: [...values] })),
  ];
  mkdirSync(join(dir, 'points'), { recursive: true });
  const points = [];
  for (const [index, coords] of product(axes).entries()) {
    const file = `points/${String(index).padStart(4, '0')}-${axes.map((a) => coords[a.name]).join('-')}.json`;
    const paramArgs = params.map(([name]) => `${name}=${coords[name]}`);
    const args = ['stat', '-r', String(f.repeats), '--jobs', '1', '--save', join(dir, file), '--machine', String(coords.machine), '--config', String(coords.config), '--cpus', String(coords.cpus), f.workload, ...f.args, ...paramArgs];
    const r = await spfperf(args);
    if (r.status !== 0) throw new Error(`spfperf ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    points.push({ index, coords, file });
  }
  const index = { spfperf_sweep: 1, spfperf: SPFPERF_VERSION, workload: { name: f.workload, args: [...f.args] }, repeats: f.repeats, axes, points };
  const path = join(dir, 'sweep.json');
  writeFileSync(path, JSON.stringify(index, null, 2) + '\n');
  return path;
}
