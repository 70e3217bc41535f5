/**
 * Machine files (src/config/machine-file.ts): validation with the JSON path (and line:col) of the
 * bad field, the shipped files, reshaping a file's machine, and the example of docs/machines.md
 * run from the command line.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isMachineFile, machineFromJson, machineFromText, readMachineFile } from '../../src/config/machine-file.js';
import { getMachine, machineCpus, MACHINES } from '../../src/config/machine.js';
import { ConfigError, UsageError } from '../../src/errors.js';
import { machineWithCpus } from '../../src/sim/setup.js';
import { Topology } from '../../src/engine/topology.js';
import { getArch } from '../../src/config/arch.js';
import { spfperf } from '../helpers/cli.js';
import { ROOT } from '../helpers/golden.js';

const EXAMPLE = join(ROOT, 'docs', 'examples', 'two-socket-96.json');
const exampleText = (): string => readFileSync(EXAMPLE, 'utf8');
const example = (): Record<string, unknown> => JSON.parse(exampleText()) as Record<string, unknown>;

/** The message machineFromText gives for a text. */
function errorOf(text: string, file = 'm.json'): string {
  try {
    machineFromText(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('read without an error');
}

/** The example with one edit made by `edit` on its parsed JSON, as text. */
function edited(edit: (j: Record<string, any>) => void): string {
  const j = example();
  edit(j);
  return JSON.stringify(j, null, 2);
}

describe('--machine ARG: a file or a preset name', () => {
  test('a path with a / or a name ending in .json is a file; anything else a preset name', () => {
    expect(isMachineFile('./m.json')).toBe(true);
    expect(isMachineFile('m.json')).toBe(true);
    expect(isMachineFile('dir/machine')).toBe(true);
    expect(isMachineFile('rome-2s256')).toBe(false);
    expect(isMachineFile('host')).toBe(false);
  });
});

describe('validation: one line, the JSON path of the bad field, its line and column', () => {
  test('a bad value names its path and what was expected', () => {
    const text = edited((j) => (j.topology.sockets.value = 'two'));
    const line = text.split('\n').findIndex((l) => l.includes('"value": "two"')) + 1;
    expect(errorOf(text)).toBe(`m.json:${line}:16: $.topology.sockets.value: expected a whole number in 1..1024, got "two"`);
    expect(errorOf(edited((j) => (j.arch = 'vax')))).toMatch(/^m\.json:4:11: \$\.arch: expected one of "x86", "powerpc", "arm64", got "vax"$/);
    expect(errorOf(edited((j) => (j.profile = 'powerpc-hash')))).toMatch(/\$\.profile: expected one of "x86", got "powerpc-hash"$/);
    expect(errorOf(edited((j) => (j.guest = 'no')))).toMatch(/\$\.guest: expected true \(a virtual machine\) or false \(bare metal\), got "no"$/);
    expect(errorOf(edited((j) => (j.lineLatencies.remote.value = -3)))).toMatch(/\$\.lineLatencies\.remote\.value: expected a number above 0, got -3$/);
    expect(errorOf(edited((j) => (j.topology.cpuNumbering = 'linux')))).toMatch(/\$\.topology\.cpuNumbering: expected one of "threads-together", "siblings-last", got "linux"$/);
    expect(errorOf(edited((j) => (j.topology.coresPerL3.value = 64)))).toMatch(/\$\.topology\.coresPerL3\.value: expected a whole number in 1\.\.48, got 64$/);
    expect(errorOf(edited((j) => (j.topology = [1, 2])))).toMatch(/\$\.topology: expected an object, got an array$/);
  });

  test('an unknown field is an error naming its path (and the fields that object has)', () => {
    expect(errorOf(edited((j) => (j.topology.dies = { value: 2, source: 'x' })))).toMatch(
      /^m\.json:\d+:5: \$\.topology\.dies: unknown field \(\$\.topology has sockets, coresPerSocket, threadsPerCore, coresPerL3, cpuNumbering\)$/,
    );
    expect(errorOf(edited((j) => (j.colour = 'red')))).toMatch(/\$\.colour: unknown field \(the machine has name, description, arch,/);
    expect(errorOf(edited((j) => (j.costs.pageAllocNS = { value: 1, source: 'x' })))).toMatch(/\$\.costs\.pageAllocNS: unknown field \(\$\.costs has trapEntryNs, /);
    expect(errorOf(edited((j) => (j.lineLatencies.socket.unit = 'ns')))).toMatch(/\$\.lineLatencies\.socket\.unit: unknown field \(\$\.lineLatencies\.socket has value, source\)$/);
  });

  test('a number without its source is an error: a bare number, or a value with no source', () => {
    expect(errorOf(edited((j) => (j.memory.sizeGiB = 384)))).toMatch(
      /\$\.memory\.sizeGiB: expected \{ "value": a number above 0, "source": "\.\.\." \} \(every number carries its source\), got 384$/,
    );
    expect(errorOf(edited((j) => delete j.lineLatencies.l3.source))).toMatch(/^m\.json:\d+:\d+: \$\.lineLatencies\.l3\.source: missing: say where the number comes from/);
    expect(errorOf(edited((j) => (j.lineLatencies.l3.source = '  ')))).toMatch(/\$\.lineLatencies\.l3\.source: expected a non-empty string, got "  "$/);
  });

  test('what is missing, and what the model cannot take, are errors too', () => {
    expect(errorOf(edited((j) => delete j.storage))).toMatch(/\$\.storage: missing$/);
    expect(errorOf(edited((j) => delete j.topology.threadsPerCore))).toMatch(/\$\.topology\.threadsPerCore: missing$/);
    // Several L3s a socket need the same-L3 latency; one L3 a socket has no use for it.
    expect(errorOf(edited((j) => delete j.lineLatencies.l3))).toMatch(/\$\.lineLatencies\.l3: missing: a socket of several L3s \(\$\.topology\.coresPerL3 6 of 48 cores\)/);
    expect(errorOf(edited((j) => delete j.topology.coresPerL3))).toMatch(/\$\.lineLatencies\.l3: the same-L3 class needs a socket of several L3s/);
    // The model keeps one NUMA node a socket.
    expect(errorOf(edited((j) => (j.memory.numaNodes.value = 8)))).toMatch(/\$\.memory\.numaNodes\.value: expected 2, one node per socket .*, got 8$/);
    expect(errorOf(edited((j) => (j.remoteTlbFlush = 'hypercall')))).toMatch(/\$\.remoteTlbFlush: a flush by hypercall needs a hypervisor/);
    expect(errorOf(edited((j) => (j.topology.coresPerSocket.value = 600)))).toMatch(/\$\.topology: expected at most 1024 CPUs, got 2 x 600 x 2 = 2400$/);
  });

  test('JSON that does not parse names its line and column', () => {
    const broken = exampleText().replace('"guest": false,', '"guest": false');
    const line = broken.split('\n').findIndex((l) => l.includes('"guest": false')) + 2;
    expect(errorOf(broken)).toBe(`m.json:${line}:3: not JSON: expected ',' or '}', found '"'`);
    expect(errorOf('{"arch": "x86", "arch": "arm64"}')).toBe("m.json:1:17: not JSON: $.arch: the member 'arch' is given twice");
  });

  test('a file that cannot be read is a bad option value (exit 1); a bad file a bad config (exit 2)', async () => {
    expect(() => readMachineFile('/nonexistent/m.json')).toThrow(UsageError);
    expect(() => readMachineFile('/nonexistent/m.json')).toThrow("option '--machine': cannot read '/nonexistent/m.json': No such file or directory");
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-machine-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, edited((j) => (j.topology.sockets.value = 0)));
    const r = await spfperf(['stat', '--machine', bad, 'page_fault1', 'threads=1', 'iterations=1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^spfperf: ${bad.replace(/[.]/g, '\\.')}:\\d+:16: \\$\\.topology\\.sockets\\.value: expected a whole number in 1\\.\\.1024, got 0\\n$`));
    const missing = await spfperf(['stat', '--machine', join(dir, 'none.json'), 'page_fault1']);
    expect(missing.status).toBe(1);
    expect(missing.stderr.split('\n').length).toBe(2);
  });
});

describe('the shipped machine files', () => {
  const files = readdirSync(join(ROOT, 'machines')).filter((f) => f.endsWith('.json'));

  test('every file of machines/ is a preset of its name, read from disk as from the build', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(Object.keys(MACHINES).sort());
    for (const f of files) {
      const fromDisk = readMachineFile(join(ROOT, 'machines', f));
      const { file, ...m } = getMachine(f.replace(/\.json$/, ''));
      expect(file).toBe(`machines/${f}`);
      expect({ ...fromDisk, file: undefined }).toEqual({ ...m, file: undefined });
    }
  });

  test('every number of every file carries a source (the reader refuses one without)', () => {
    for (const m of Object.values(MACHINES)) {
      const text = readFileSync(join(ROOT, m.file!), 'utf8');
      const numbers = text.match(/"value":/g)?.length ?? 0;
      expect(Object.keys(m.sources!).length, m.name).toBe(numbers);
      expect(numbers, m.name).toBeGreaterThanOrEqual(5);
    }
  });

  test('the error of a preset read from the build names its file without a position', () => {
    expect(() => machineFromJson({ description: 'x' }, 'machines/x.json')).toThrow('machines/x.json: $.arch: missing');
  });
});

describe('a file machine runs and reshapes as a preset does', () => {
  test('the example: 2 sockets x 48 cores x 2 threads, 6 cores an L3', () => {
    const m = readMachineFile(EXAMPLE);
    expect(m.name).toBe('two-socket-96');
    expect(machineCpus(m)).toBe(192);
    expect(m.topology).toEqual({ sockets: 2, coresPerSocket: 48, threadsPerCore: 2, siblingsLast: true, coresPerL3: 6 });
    expect(m.writebackBytesPerNs).toBe(2);
    const t = new Topology(m.topology, { ...getArch('x86').lineLatencies, ...m.lineLatencies });
    expect(t.l3s).toBe(16);
    expect(t.latency(0, 5)).toBe(20);
    expect(t.latency(0, 6)).toBe(110);
    expect(t.latency(0, 96)).toBe(8);
  });

  test('the topology flags reshape it, --cpus above it is refused naming them', () => {
    const m = readMachineFile(EXAMPLE);
    const r = machineWithCpus(m, { sockets: '1', threadsPerCore: '1' });
    expect(r.ncpus).toBe(48);
    expect(r.machine.topology.coresPerL3).toBe(6);
    expect(r.reshaped).toBe('1 socket x 48 cores x 1 thread');
    expect(() => machineWithCpus(m, { cpus: '200' })).toThrow(
      "option '--cpus': 200 is more than the 192 CPUs of two-socket-96 (2 sockets x 48 cores x 2 threads); give --sockets, --cores-per-socket, --threads-per-core to reshape it",
    );
  });

  test('the example runs from the command line, and list --machines FILE prints its topology', async () => {
    const r = await spfperf(['stat', '--machine', EXAMPLE, '--cpus', '12', '-e', 'faults', 'page_fault1', 'threads=12', 'iterations=1', 'size=1M']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^ +3072 +faults/m);
    const l = await spfperf(['list', '--machines', EXAMPLE, '--cpus', '12']);
    expect(l.status).toBe(0);
    expect(l.stdout).toContain('two-socket-96: 2 x EPYC 9454 (Genoa)');
    expect(l.stdout).toContain('    its L3s:      0-5; 6-11\n');
    expect(l.stdout).toContain('same L3 20, same socket (other L3) 110, other socket 200');
    const over = await spfperf(['list', '--machines', EXAMPLE, '--cpus', '200']);
    expect(over.status).toBe(1);
    expect(over.stderr).toMatch(/^spfperf: option '--cpus': 200 is more than the 192 CPUs of two-socket-96 .*give --sockets, --cores-per-socket, --threads-per-core to reshape it\n$/);
  });
});
