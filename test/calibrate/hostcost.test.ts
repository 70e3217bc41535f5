/**
 * The host's measured costs (src/calibrate/hostcost.ts, host-costs-map.ts) on fixtures: the
 * output of twins/hostcost.c as it ran on the 2-vCPU PVM guest spfperf is developed on
 * (fixtures/hostcost/), parsed, its medians mapped onto the model's cost fields against the
 * model's own figures for the same operations, and the cache. Nothing here runs the
 * microbenchmarks or depends on a timing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { getArch, type ArchProfile } from '../../src/config/arch.js';
import { fsHostFiles, probeHost } from '../../src/config/host.js';
import { resolveConfig } from '../../src/config/kconfig.js';
import { HOST_PRESETS, hostInfo, type Machine } from '../../src/config/machine.js';
import { mapHostCosts, modelFigures, modelReference, type HostMeasurement } from '../../src/calibrate/host-costs-map.js';
import { costsOf, hostConfig, measurementOf, parseHostcost, readCache, useHostCosts, writeCache, type CachedMeasurement } from '../../src/calibrate/hostcost.js';
import { TwinBuildError } from '../../src/calibrate/twins.js';
import { ROOT } from '../helpers/golden.js';

const OUT = readFileSync(join(ROOT, 'fixtures', 'hostcost', 'pvm-2vcpu.out'), 'utf8');
const HOST = probeHost(fsHostFiles(join(ROOT, 'fixtures', 'host', 'pvm-2vcpu')), HOST_PRESETS);
const CONFIG = resolveConfig(hostConfig(HOST));
const X86 = getArch('x86');

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

describe("hostcost's output", () => {
  const s = parseHostcost(OUT);

  test('every figure, nine samples each; the medians are the figures', () => {
    for (const k of ['syscall_ns', 'fault_ns', 'fault2_ns', 'munmap1_touched_ns', 'munmap1_untouched_ns', 'munmap2_touched_ns', 'munmap2_untouched_ns', 'futex_rtt_ns', 'futex_wake_ns']) {
      expect(s.get(k), k).toHaveLength(9);
    }
    const m = measurementOf(s);
    expect(m.syscallNs).toBe(median(s.get('syscall_ns')!));
    expect(m.faultNs).toBe(median(s.get('fault_ns')!));
    expect(m.munmap2!.touchedNs).toBe(median(s.get('munmap2_touched_ns')!));
    expect(m.munmap2!.otherRunning).toBe(s.get('munmap_other_running')![0]);
    expect(m.futex!.woke).toBe(s.get('futex_woke')![0]);
  });

  test('one CPU: no 2-thread figures; a missing figure or a bad number is an error', () => {
    const one = new Map([...s].filter(([k]) => !k.startsWith('munmap2') && !k.startsWith('futex') && !k.startsWith('fault2') && k !== 'munmap_other_running'));
    const m = measurementOf(one);
    expect(m.fault2).toBeUndefined();
    expect(m.munmap2).toBeUndefined();
    expect(m.futex).toBeUndefined();
    expect(() => measurementOf(new Map([['syscall_ns', [1]]]))).toThrow(/no 'fault_ns'/);
    expect(() => parseHostcost('fault_ns=1,x\n')).toThrow(TwinBuildError);
  });
});

describe('mapped onto the model', () => {
  const m = measurementOf(parseHostcost(OUT));
  const ref = modelReference(HOST.machine, X86, CONFIG);
  const mapped = mapHostCosts(m, ref, true);
  const cost = (k: keyof typeof mapped.costs): number => mapped.costs[k] as number;

  test('each cost is the measurement beyond what the model charges for the same operation', () => {
    expect(cost('syscallNs')).toBe(Math.round(m.syscallNs));
    expect(cost('guestFaultNs')).toBe(Math.round(m.faultNs - ref.faultNs));
    const flushOne = m.munmap1.touchedNs - m.munmap1.untouchedNs - (ref.munmap1.touchedNs - ref.munmap1.untouchedNs);
    expect(cost('tlbFlushOneNs')).toBe(Math.round(flushOne));
    expect(cost('pvTlbFlushNs')).toBe(Math.round(m.munmap2!.touchedNs - m.munmap2!.untouchedNs - (ref.munmap2.touchedNs - ref.munmap2.untouchedNs)));
    // The untouched munmap's split and removal: two VMA allocations and frees in the model.
    expect(ref.vmaAllocsPerMunmap).toBe(2);
    expect(cost('vmaAllocNs')).toBe(Math.round((m.munmap1.untouchedNs - m.syscallNs - ref.munmap1.untouchedNs) / 2));
    // The fixture's hostcost printed no wake-to-run times: half the round trip stands for them.
    expect(m.futex!.wakeToRunNs).toBeUndefined();
    expect(cost('wakeupNs')).toBe(Math.round(m.futex!.rttNs / 2 - m.syscallNs));
    expect(cost('ttwuNs')).toBe(Math.round(m.futex!.wakeNs - m.syscallNs));
    // Nothing left out; the one note is what two vCPUs faulting at once cost each other, shown only.
    expect(mapped.notes).toHaveLength(1);
    expect(mapped.notes[0]).toMatch(/^a fault while another process faults on the other CPU: \d+ ns, [+-]\d+ % \(not in the model/);
    // The reference charges no flush and no guest overhead: a written page costs the model only
    // its zap and freeing more than an untouched one, at 1 thread as at 2.
    expect(ref.munmap1.touchedNs - ref.munmap1.untouchedNs).toBeGreaterThan(0);
    expect(ref.munmap2.touchedNs - ref.munmap2.untouchedNs).toBeCloseTo(ref.munmap1.touchedNs - ref.munmap1.untouchedNs, 6);
  });

  test("the faults' means, when hostcost prints them, show beside the medians in that note (a cache without them, as the fixture, shows the medians alone)", () => {
    const withMeans = measurementOf(parseHostcost(`${OUT}fault_mean_ns=10600,10700,10650\nfault2_mean_ns=13600,13900,12700\n`));
    expect(withMeans.faultMeanNs).toBe(10650);
    expect(withMeans.fault2!.meanNs).toBe(13600);
    const note = mapHostCosts(withMeans, ref, true).notes[0];
    expect(note).toMatch(/^a fault while another process faults on the other CPU: \d+ ns, [+-]\d+ %; their mean, tail included, 13600 ns against 10650 ns alone, \+28 % \(not in the model/);
    expect(mapped.notes[0]).not.toMatch(/their mean/);
  });

  test('the wake-up, where hostcost timed it from FUTEX_WAKE to the woken thread running, is that less a syscall', () => {
    const timed = measurementOf(parseHostcost(`${OUT}futex_wake_to_run_ns=20700,16600,28000\n`));
    expect(timed.futex!.wakeToRunNs).toBe(20_700);
    const got = mapHostCosts(timed, ref, true);
    expect(got.costs.wakeupNs).toBe(Math.round(20_700 - timed.syscallNs));
    expect(got.derivations.find((d) => d.key === 'wakeupNs')!.how).toMatch(/^FUTEX_WAKE to the woken thread running 20700 ns - a syscall$/);
  });

  test("the wake-ups' spread: their 10th-90th percentile over the median, as a uniform draw's middle 80 %, at most 0.95; none from a fixture without it", () => {
    // The fixture's hostcost had no wakeidle: no spread, nothing said about it.
    expect(m.wakeIdle).toBeUndefined();
    expect(mapped.costs.wakeupSpread).toBeUndefined();
    expect(mapped.notes.some((n) => n.startsWith('wakeupSpread'))).toBe(false);
    const lines = 'wakeidle_slept=1.000\nwakeidle_p10_ns=10000,9000,12000\nwakeidle_p50_ns=20000,19000,21000\nwakeidle_p90_ns=28000,40000,30000\n';
    const w = measurementOf(parseHostcost(OUT + lines));
    expect(w.wakeIdle).toEqual({ p10Ns: 10_000, p50Ns: 20_000, p90Ns: 30_000, slept: 1 });
    const got = mapHostCosts(w, ref, true);
    // (30000 - 10000) / (1.6 x 20000) = 0.625
    expect(got.costs.wakeupSpread).toBe(0.63);
    const d = got.derivations.find((x) => x.key === 'wakeupSpread')!;
    expect(d.unit).toBe('');
    expect(d.how).toMatch(/^wake-ups of a thread idle 1-48 us: 10th-90th percentile 10000-30000 ns about a median of 20000 ns, as a uniform draw's \+-63 %$/);
    // A spread wider than the latency itself: at most 0.95, said.
    const wide = mapHostCosts({ ...w, wakeIdle: { p10Ns: 1000, p50Ns: 10_000, p90Ns: 40_000, slept: 1 } }, ref, true);
    expect(wide.costs.wakeupSpread).toBe(0.95);
    expect(wide.derivations.find((x) => x.key === 'wakeupSpread')!.how).toMatch(/\(at most\)$/);
    // A sleeper that was rarely asleep when woken: not derived, said.
    const awake = mapHostCosts({ ...w, wakeIdle: { ...w.wakeIdle!, slept: 0.3 } }, ref, true);
    expect(awake.costs.wakeupSpread).toBeUndefined();
    expect(awake.notes).toContain('wakeupSpread: the sleeper was asleep in only 30 % of the wake-ups: not derived');
  });

  test("the second thread's loop time lost per flush is what a hypercall flush costs each vCPU it reaches", () => {
    expect(mapped.costs.pvTlbFlushTargetNs).toBe(Math.round(median(parseHostcost(OUT).get('munmap2_target_lost_ns')!)));
    // A measurement of an older hostcost, without the figure: nothing derived, nothing said.
    const { targetLostNs: _t, ...older } = m.munmap2!;
    expect(mapHostCosts({ ...m, munmap2: older }, ref, true).costs.pvTlbFlushTargetNs).toBeUndefined();
    const lost = mapHostCosts({ ...m, munmap2: { ...m.munmap2!, targetLostNs: 11_400.4 } }, ref, true);
    expect(lost.costs.pvTlbFlushTargetNs).toBe(11_400);
    const parsed = measurementOf(parseHostcost(OUT + 'munmap2_target_lost_ns=9000,12000,10000\n'));
    expect(parsed.munmap2!.targetLostNs).toBe(10_000);
  });

  test('round trip: the model with the mapped costs gives back the measured fault and munmap figures', () => {
    const machine: Machine = { ...HOST.machine, costs: { ...HOST.machine.costs, ...mapped.costs } };
    const arch: ArchProfile = { ...X86, costs: { ...X86.costs, ...machine.costs } };
    const got = modelFigures(machine, arch, CONFIG);
    // The fault's entry is jittered (+-2 %); the munmaps are not.
    expect(got.faultNs / m.faultNs).toBeGreaterThan(0.99);
    expect(got.faultNs / m.faultNs).toBeLessThan(1.01);
    expect(got.munmap1.touchedNs - got.munmap1.untouchedNs).toBeCloseTo(m.munmap1.touchedNs - m.munmap1.untouchedNs, 0);
    expect(got.munmap2.touchedNs - got.munmap2.untouchedNs).toBeCloseTo(m.munmap2!.touchedNs - m.munmap2!.untouchedNs, 0);
    // The untouched munmap itself, within the rounding of the two VMA allocations' cost.
    expect(Math.abs(got.munmap1.untouchedNs - m.munmap1.untouchedNs)).toBeLessThanOrEqual(1);
  });

  test('a machine that flushes by IPI: the 2-thread extra is the round trip, less the local flush it also does', () => {
    const ipi = mapHostCosts(m, ref, false);
    expect(ipi.costs.pvTlbFlushNs).toBeUndefined();
    const extra = m.munmap2!.touchedNs - m.munmap2!.untouchedNs - (ref.munmap2.touchedNs - ref.munmap2.untouchedNs);
    expect(ipi.costs.ipiRoundTripNs).toBe(Math.round(extra - ipi.costs.tlbFlushOneNs!));
  });

  test('figures a busy machine spoilt are left out, and said', () => {
    const busy: HostMeasurement = { ...m, fault2: { ...m.fault2!, otherFaults: 0.3 }, munmap2: { ...m.munmap2!, otherRunning: 0.1 }, futex: { ...m.futex!, woke: 0.2 } };
    const b = mapHostCosts(busy, ref, true);
    expect(b.costs.pvTlbFlushNs).toBeUndefined();
    expect(b.costs.wakeupNs).toBeUndefined();
    expect(b.costs.ttwuNs).toBeUndefined();
    expect(b.notes).toEqual([
      'a fault while another process faults on the other CPU: not measured (it faulted through only 30 % of ours)',
      'pvTlbFlushNs: the second thread ran through only 10 % of the munmaps (a busy machine): not derived',
      'wakeupNs, ttwuNs: FUTEX_WAKE found its partner asleep only 20 % of the time: not derived',
    ]);
    // A fault no dearer than the model's own: nothing to add, said.
    const cheap = mapHostCosts({ ...m, faultNs: ref.faultNs / 2 }, ref, true);
    expect(cheap.costs.guestFaultNs).toBeUndefined();
    expect(cheap.notes[0]).toMatch(/^guestFaultNs: .* is not positive/);
    // An untouched munmap no dearer than the model's: its VMA bookkeeping is not derived, and said.
    const quick = mapHostCosts({ ...m, munmap1: { ...m.munmap1, untouchedNs: ref.munmap1.untouchedNs / 2 } }, ref, true);
    expect(quick.costs.vmaAllocNs).toBeUndefined();
    expect(quick.notes.some((n) => /^vmaAllocNs: munmap of an untouched page .* is not positive/.test(n))).toBe(true);
  });

  test('costsOf() maps against the host as probed, under its own kernel config', () => {
    expect(costsOf(m, HOST)).toEqual(mapped);
  });
});

describe('the cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-hostcost-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { SPFPERF_CACHE_DIR: dir };
  const m: CachedMeasurement = { ...measurementOf(parseHostcost(OUT)), key: 'k1', measuredAt: '2026-01-01T00:00:00.000Z', load: null, samples: {} };

  test('written and read back by key; other hosts kept; a file of another version or unreadable is empty', () => {
    expect(readCache(env)).toEqual({});
    writeCache(env, m);
    writeCache(env, { ...m, key: 'k2' });
    expect(Object.keys(readCache(env)).sort()).toEqual(['k1', 'k2']);
    expect(readCache(env).k1).toEqual(m);
    writeFileSync(join(dir, 'host-costs.json'), JSON.stringify({ version: 99, hosts: { k1: m } }));
    expect(readCache(env)).toEqual({});
    writeFileSync(join(dir, 'host-costs.json'), '{ not json');
    expect(readCache(env)).toEqual({});
  });
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('on this machine, without measuring', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-hostcost-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('nothing cached: the host keeps its preset costs; no compiler: not measured, said, no error', () => {
    const cached = useHostCosts({ SPFPERF_CACHE_DIR: dir }, 'cached');
    expect(cached).toEqual({ kind: 'none', why: 'not measured here yet (spfperf calibrate measures them)' });
    expect(hostInfo().measured).toBeUndefined();
    // The probe's own costs: the preset's (an earlier test in this worker may have set measured
    // ones; useHostCosts() clears them whatever it then finds).
    expect(hostInfo().machine.costs).toEqual(probeHost(fsHostFiles(), HOST_PRESETS).machine.costs);
    const noCc = useHostCosts({ SPFPERF_CACHE_DIR: dir, CC: '/nonexistent/cc' }, 'if-missing');
    expect(noCc.kind).toBe('none');
    expect(noCc.kind === 'none' && noCc.why).toMatch(/^not measured: no C compiler: '\/nonexistent\/cc' cannot be run/);
  });
});
