import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ALL_CONSTANTS, CONSTANTS, constantNamed, factorOf, perturbArch, perturbation, perturbMachine } from '../../src/config/constants.js';
import { DECLARED_SOURCE } from '../../src/config/machine-file.js';
import { constantsDoc, withConstantsDoc } from '../../src/config/constants-doc.js';
import { getArch, type ArchCosts } from '../../src/config/arch.js';
import { getMachine, KVM_X86, MACHINES } from '../../src/config/machine.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { UsageError } from '../../src/errors.js';
import { scanSrc, scanText } from '../helpers/marked-constants.js';
import { ROOT } from '../helpers/golden.js';

describe('the declared table', () => {
  test('every constant src/ calls an estimate, a derivation, calibrated or fitted has its row, with the value the code has', () => {
    const marked = scanSrc(ROOT);
    expect(marked.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const m of marked) {
      const rows = CONSTANTS.filter((c) => c.file === m.file && c.symbol === m.symbol);
      const same = (v: number | readonly number[]) => JSON.stringify(v) === JSON.stringify(m.value);
      if (rows.length === 0 || (m.value !== undefined && !rows.some((c) => c.values.some((v) => same(v.value))))) {
        missing.push(`${m.file}:${m.line} ${m.symbol} = ${JSON.stringify(m.value)}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the scan finds a marked constant in a comment block, a // run, a one-line object and a trailing comment', () => {
    const text = [
      '/** Calibrated on C1-C6. */',
      'export const A_NS = 5;',
      '',
      '// Estimate: two loads',
      '// and a compare.',
      'const B_NS = 1_000;',
      'const C_NS = 3;',
      '  costs: { trapEntryNs: 60, syscallNs: 50 }, // estimate',
      '  smt: [1, 1.2], // fitted',
      '  ttwuNs: 600,',
    ].join('\n');
    expect(scanText('f.ts', text).map((m) => `${m.symbol}=${JSON.stringify(m.value)}`)).toEqual(['A_NS=5', 'B_NS=1000', 'trapEntryNs=60', 'syscallNs=50', 'smt=[1,1.2]']);
  });

  test('a row whose constant is gone from the code fails the check the other way too', () => {
    for (const c of CONSTANTS) {
      const path = join(ROOT, c.file);
      expect(existsSync(path), c.file).toBe(true);
      expect(readFileSync(path, 'utf8'), `${c.name} in ${c.file}`).toMatch(new RegExp(`\\b${c.symbol}\\b`));
    }
    // Names are unique, and every row says how it was fitted or estimated.
    expect(new Set(CONSTANTS.map((c) => c.name)).size).toBe(CONSTANTS.length);
    for (const c of CONSTANTS) expect(c.basis.length, c.name).toBeGreaterThan(20);
  });

  test('every number a shipped machine file declares an estimate, fitted or measured has a row with its value', () => {
    const missing: string[] = [];
    let declared = 0;
    for (const m of Object.values(MACHINES)) {
      for (const [path, source] of Object.entries(m.sources ?? {})) {
        if (!DECLARED_SOURCE.test(source)) continue;
        declared++;
        const key = path.split('.')[1]!;
        const symbol = ({ readLatencyNs: 'ioLatencyNs', writeBytesPerNs: 'writebackBytesPerNs', sizeGiB: 'memoryBytes' } as Record<string, string>)[key] ?? key;
        const rows = ALL_CONSTANTS.filter((c) => c.symbol === symbol && c.values.some((v) => v.where === m.name));
        if (rows.length === 0) missing.push(`${m.file} ${path}`);
      }
    }
    expect(declared).toBeGreaterThan(40);
    expect(missing).toEqual([]);
    // A file's own row: its name, file, value and the source's text as its basis.
    const l3 = constantNamed('rome-2s256.lineLatencies.l3')!;
    expect(l3).toMatchObject({ file: 'machines/rome-2s256.json', symbol: 'l3', kind: 'estimated', values: [{ where: 'rome-2s256', value: 30 }] });
    expect(l3.basis).toMatch(/^AnandTech's core-to-core latency of Zen 2/);
    // Rows the table above already has are not repeated (KVM_X86's, the storage latencies).
    expect(constantNamed('x86-vm16.costs.ttwuNs')).toBeUndefined();
    expect(ALL_CONSTANTS.some((c) => c.name.endsWith('storage.readLatencyNs'))).toBe(false);
    for (const c of ALL_CONSTANTS) {
      expect(existsSync(join(ROOT, c.file)), c.file).toBe(true);
      expect(readFileSync(join(ROOT, c.file), 'utf8'), `${c.name} in ${c.file}`).toMatch(new RegExp(`\\b${c.symbol}\\b`));
    }
  });

  test('a machine file\'s row perturbs that machine alone', () => {
    const rome = getMachine('rome-2s256');
    const p = perturbation([['rome-2s256.lineLatencies.l3', 2]]);
    expect(perturbMachine(rome, p).lineLatencies!.l3).toBe(60);
    expect(perturbMachine(getMachine('genoa-2s384'), p)).toBe(getMachine('genoa-2s384'));
    const c = perturbation([['spr-2s224.costs.syscallNs', 2]]);
    expect(perturbMachine(getMachine('spr-2s224'), c).costs!.syscallNs).toBe(100);
    expect(perturbMachine(getMachine('rome-2s256'), c)).toBe(getMachine('rome-2s256'));
  });

  test('the fitted constants are the two the model was brought to C1-C6 with', () => {
    expect(CONSTANTS.filter((c) => c.kind === 'fitted').map((c) => c.name)).toEqual(['HANDOFF_SHARE', 'KVM_X86.ttwuNs']);
    expect(constantNamed('KVM_X86.ttwuNs')!.values).toContainEqual({ where: 'x86-vm16', value: 1200 });
  });

  test('the measured constants are the PVM guest\'s, as the x86-pvm2 preset has them', () => {
    const measured = CONSTANTS.filter((c) => c.kind === 'measured');
    expect(measured.map((c) => c.name)).toEqual(['syscallNs', 'guestFaultNs', 'tlbFlushOneNs', 'pvTlbFlushNs', 'pvTlbFlushTargetNs', 'wakeupNs', 'ttwuNs'].map((k) => `PVM_X86.${k}`));
    for (const c of measured) expect(c.values).toEqual([{ where: 'x86-pvm2', value: getMachine('x86-pvm2').costs![c.symbol as keyof ArchCosts] }]);
    expect(getMachine('x86-pvm2').remoteTlbFlush).toBe('hypercall');
  });

  test('docs/model.md holds the table as the code makes it (UPDATE_GOLDEN=1 rewrites it)', () => {
    const path = join(ROOT, 'docs', 'model.md');
    const doc = readFileSync(path, 'utf8');
    const want = withConstantsDoc(doc);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, want);
    else expect(doc).toBe(want);
    for (const c of CONSTANTS) expect(constantsDoc()).toContain(`| \`${c.name}\` |`);
  });
});

describe('perturbations', () => {
  test('names are checked: unknown names and bad factors are usage errors; every declared constant can be perturbed', () => {
    expect(() => perturbation([['NO_SUCH', 2]])).toThrow(UsageError);
    for (const c of CONSTANTS) expect(perturbation([[c.name, 2]]).get(c.name), c.name).toBe(2);
    expect(() => perturbation([['HANDOFF_SHARE', 0]])).toThrow(/not a positive number/);
    expect(factorOf(perturbation([['HANDOFF_SHARE', 2]]), 'HANDOFF_SHARE')).toBe(2);
    expect(factorOf(undefined, 'HANDOFF_SHARE')).toBe(1);
  });

  test('an arch constant is scaled on its profiles where the machine does not override it', () => {
    const vm = getMachine('x86-vm16');
    const x86 = getArch('x86');
    expect(perturbArch(x86, vm, undefined)).toBe(x86);
    expect(perturbArch(x86, vm, new Map())).toBe(x86);
    expect(perturbArch(x86, vm, perturbation([['arch.pteSetNs', 2]])).costs.pteSetNs).toBe(2 * x86.costs.pteSetNs);
    // x86-vm16 overrides ipiHandlerNs (KVM_X86): the bare-metal estimate does not reach it.
    expect(perturbArch(x86, vm, perturbation([['arch.ipiHandlerNs', 2]]))).toBe(x86);
    // A profile the constant is not declared for is left alone (x86's ttwuNs is a measurement).
    expect(perturbArch(x86, getMachine('e5-2690v3'), perturbation([['arch.ttwuNs', 2]]))).toBe(x86);
    // SMT throughput: scaled on the gain over one thread.
    expect(perturbArch(x86, vm, perturbation([['arch.smtThroughput', 0.5]])).costs.smtThroughput).toEqual([1, 1.1]);
    // Line latencies.
    const hash = getArch('powerpc-hash');
    expect(perturbArch(hash, getMachine('p8-80'), perturbation([['arch.lineLatencies.remote', 0.5]])).lineLatencies.remote).toBe(110);
    // The shipped tables are untouched.
    expect(x86.costs.pteSetNs).toBe(8);
  });

  test('a machine constant is scaled on the machines that use it', () => {
    const vm = getMachine('x86-vm16');
    const p = perturbation([['KVM_X86.ttwuNs', 0.5]]);
    expect(perturbMachine(vm, p).costs!.ttwuNs).toBe(600);
    expect(KVM_X86.ttwuNs).toBe(1200);
    expect(perturbMachine(getMachine('e5-2690v3'), p)).toBe(getMachine('e5-2690v3'));
    expect(perturbMachine(vm, perturbation([['machine.ioLatencyNs', 2]])).ioLatencyNs).toBe(200_000);
    // prepareRun merges the perturbed machine costs into the run's arch.
    expect(prepareRun('page_fault1', [], { machine: 'x86-vm16', perturb: p }).arch.costs.ttwuNs).toBe(600);
  });

  const run = (perturb?: ReturnType<typeof perturbation>, machine = 'x86-vm16'): RunResult => {
    const prep = prepareRun('page_fault1', ['threads=4', 'iterations=2', 'size=1M'], { machine, cpus: '4', ...(perturb ? { perturb } : {}) });
    return runWorkload(runOptionsOf(prep));
  };
  const fingerprint = (r: RunResult): string => JSON.stringify({ elapsed: r.elapsedNs, sys: r.sysNs, user: r.userNs, metrics: r.metrics });

  test('a run with no perturbation, or an empty one, is the run as shipped', () => {
    const shipped = fingerprint(run());
    expect(fingerprint(run(new Map()))).toBe(shipped);
    expect(runOptionsOf(prepareRun('page_fault1', [], { perturb: new Map() })).perturb).toBeUndefined();
  });

  test('a perturbed run differs: an arch cost, a machine cost, HANDOFF_SHARE and JITTER each move it', () => {
    const shipped = fingerprint(run());
    for (const name of ['arch.pteSetNs', 'HANDOFF_SHARE', 'JITTER', 'arch.zapPteNs']) {
      expect(fingerprint(run(perturbation([[name, 2]]))), name).not.toBe(shipped);
    }
    // ttwuNs is only paid by a waker: a run with no sleeping lock may not move on it, but the
    // engine is built with the perturbed figure.
    expect(runOptionsOf(prepareRun('page_fault1', [], { perturb: perturbation([['KVM_X86.ttwuNs', 2]]) })).arch.costs.ttwuNs).toBe(2400);
  });
});
