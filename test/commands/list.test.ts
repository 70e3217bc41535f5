import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fsHostFiles, probeHost, readHost } from '../../src/config/host.js';
import { HOST_PRESETS, hostInfo } from '../../src/config/machine.js';
import { run } from '../../src/commands/list.js';
import { Capture, spfperf } from '../helpers/cli.js';
import { expectGolden, ROOT } from '../helpers/golden.js';

/** `list --machines` with the host row from `probe`, run in-process. */
async function listMachines(probe: Parameters<typeof run>[2]): Promise<string> {
  const stdout = new Capture();
  const io = { stdout, stderr: new Capture(), stdin: Readable.from([]), isTTY: { stdout: false, stderr: false, stdin: false }, env: {} };
  expect(await run({ machines: true }, io, probe)).toBe(0);
  return stdout.text;
}

/** The table's rows from the one whose first cell is `name` up to the next row or the bottom border. */
function rowOf(table: string, name: string): string {
  const lines = table.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`│ ${name} `));
  let end = at + 1;
  while (end < lines.length && lines[end]!.startsWith('│  ')) end++;
  return lines.slice(at, end).join('\n');
}

/** `list` run in-process, its stdout a terminal or not. */
async function listEvents(o: Parameters<typeof run>[0], tty: boolean): Promise<string> {
  const stdout = new Capture();
  const io = { stdout, stderr: new Capture(), stdin: Readable.from([]), isTTY: { stdout: tty, stderr: tty, stdin: false }, env: {} };
  expect(await run(o, io)).toBe(0);
  return stdout.text;
}

const names = (text: string): string[] => text.split('\n').filter((l) => l !== '').map((l) => l.trim().split(/\s+/)[0]);

describe('spfperf list: perf list\'s filters, and its heading only on a terminal', () => {
  it('on a pipe: only the event lines, no heading or blank line (as perf list | cat)', async () => {
    const r = await spfperf(['list']);
    expect(r.stdout).not.toContain('List of pre-defined events');
    expect(r.stdout).not.toMatch(/^\n|\n\n/);
    for (const l of r.stdout.trimEnd().split('\n')) expect(l).toMatch(/^ {2}\S.{49} \[(Software event|Tracepoint event|\/proc\/vmstat counter)\]$/);
  });

  it('on a terminal: perf\'s heading, and a blank line after each section', async () => {
    const text = await listEvents({}, true);
    expect(text).toMatch(/^\nList of pre-defined events \(to be used in -e or -M\):\n\n {2}context-switches OR cs +\[Software event\]\n/);
    expect(text).toContain('[Tracepoint event]\n\n/proc/vmstat counters (printed by stat --vmstat):\n\n  ');
    expect(text.endsWith(']\n\n')).toBe(true);
    // The same event lines as on a pipe.
    expect(text.split('\n').filter((l) => l.startsWith('  '))).toEqual((await listEvents({}, false)).trimEnd().split('\n'));
    expect(await listEvents({ filters: ['exceptions:*'] }, true)).toBe(
      '\nList of pre-defined events (to be used in -e or -M):\n\n' +
        '  exceptions:page_fault_kernel                       [Tracepoint event]\n' +
        '  exceptions:page_fault_user                         [Tracepoint event]\n\n',
    );
  });

  it('sw / software: the software events only', async () => {
    const sw = await listEvents({ filters: ['sw'] }, false);
    expect(names(sw)).toEqual(['context-switches', 'cpu-clock', 'cpu-migrations', 'major-faults', 'minor-faults', 'page-faults', 'speculative-faults', 'task-clock']);
    expect(await listEvents({ filters: ['software'] }, false)).toBe(sw);
  });

  it('tracepoint, \'sys:event\' globs, words (*word* over names and aliases), hw (nothing: no PMU is modelled)', async () => {
    const tp = names(await listEvents({ filters: ['tracepoint'] }, false));
    expect(tp.every((n) => /^(exceptions|pagefault|syscalls|sched):/.test(n))).toBe(true);
    expect(tp).toHaveLength(15);
    // The address-space calls (record -e 'syscalls:*,sched:*'; what import reads back).
    expect(names(await listEvents({ filters: ['syscalls:*'] }, false))).toEqual(['syscalls:sys_enter_madvise', 'syscalls:sys_enter_mmap', 'syscalls:sys_enter_mprotect', 'syscalls:sys_enter_munmap', 'syscalls:sys_exit_mmap']);
    const pf = names(await listEvents({ filters: ['pagefault:*'] }, false));
    expect(pf).toEqual(tp.filter((n) => n.startsWith('pagefault:')));
    expect(names(await listEvents({ filters: ['exceptions:*user'] }, false))).toEqual(['exceptions:page_fault_user']);
    expect(names(await listEvents({ filters: ['*:spf_vma_[ac]*'] }, false))).toEqual(['pagefault:spf_vma_access', 'pagefault:spf_vma_changed']);
    expect(names(await listEvents({ filters: ['faults'] }, false))).toEqual(['major-faults', 'minor-faults', 'page-faults', 'speculative-faults']);
    expect(names(await listEvents({ filters: ['cs'] }, false))).toEqual(['context-switches']);
    expect(await listEvents({ filters: ['hw'] }, false)).toBe('');
    expect(await listEvents({ filters: ['nomatch'] }, false)).toBe('');
    // Several filters: one section each, in the order given.
    expect(names(await listEvents({ filters: ['task-clock', 'exceptions:*kernel'] }, false))).toEqual(['task-clock', 'exceptions:page_fault_kernel']);
  });

  it('through the CLI: filters as arguments, exit 0; --json takes them too; --configs does not', async () => {
    const r = await spfperf(['list', 'pagefault:*']);
    expect(r.status).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(6);
    const j = await spfperf(['list', '--json', 'sw']);
    expect((JSON.parse(j.stdout) as { kind: string }[]).every((e) => e.kind === 'sw')).toBe(true);
    const bad = await spfperf(['list', '--configs', 'sw']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('spfperf list', () => {
  it('prints perf list\'s layout (golden)', async () => {
    const r = await spfperf(['list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  page-faults OR faults                              [Software event]\n');
    expect(r.stdout).toContain('  pagefault:spf_vma_changed                          [Tracepoint event]\n');
    expectGolden('list.txt', r.stdout);
  });

  it('--json is one parseable document with every event', async () => {
    const r = await spfperf(['list', '--json']);
    const events = JSON.parse(r.stdout) as { name: string; kind: string }[];
    expect(events.map((e) => e.name)).toEqual(expect.arrayContaining(['page-faults', 'speculative-faults', 'pgfault']));
  });

  it('--configs lists the presets, then every key with its values (the default first) and what it does', async () => {
    const r = await spfperf(['list', '--configs']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Presets \(--config NAME\):\n┌─+┬/);
    expect(r.stdout).toMatch(/^│ base +│ +│ classic page faults only/m);
    expect(r.stdout).toMatch(/^│ dufour-v11 +│ spf +│ Dufour SPF v11/m);
    expect(r.stdout).toContain('\nKeys (--config KEY=VALUE');
    expect(r.stdout).toMatch(/^│ vmacache +│ none, mm, task +│ find_vma's cache/m);
    expect(r.stdout).toMatch(/^│ lazy_tlb +│ skip, ipi +│/m);
    expect(r.stdout).toMatch(/^│ CONFIG_RWSEM_SPIN_ON_OWNER +│ y, n +│/m);
    expect(r.stdout).toMatch(/^│ khugepaged_pages +│ N \(4096\) +│/m);
  });

  it('--configs, --machines and --workloads as tables (golden)', async () => {
    // --machines' golden is in its own test: its host row is this machine's.
    for (const what of ['configs', 'workloads']) {
      const r = await spfperf(['list', `--${what}`]);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expectGolden(`list.${what}.txt`, r.stdout);
    }
  });

  it('--machines: the presets, then host as probed (golden, with the host of a fixture tree)', async () => {
    const text = await listMachines(() => probeHost(fsHostFiles(join(ROOT, 'fixtures', 'host', 'kvm-2vcpu')), HOST_PRESETS));
    expect(text).toMatch(/^│ p8-80 +│ powerpc-hash +│ +80 │ bare metal │ POWER8/m);
    expect(text).toMatch(/^│ x86-vm16 +│ x86 +│ +16 │ guest +│ 16-vCPU/m);
    expect(rowOf(text, 'host')).toMatch(/^│ host +│ x86 +│ +2 │ guest +│ probed: AMD EPYC, 1 socket x 2 cores x 1 thread, 1 NUMA node, +│/);
    expectGolden('list.machines.txt', text);
    // The Xeon's row says what differs: bare metal, 2 sockets of SMT cores, an old kernel.
    const xeon = rowOf(await listMachines(() => probeHost(fsHostFiles(join(ROOT, 'fixtures', 'host', 'xeon-2s14c')), HOST_PRESETS)), 'host').replace(/ *│\n│ +│ +│ +│ +│ */g, ' ');
    expect(xeon).toMatch(/^│ host +│ x86 +│ +56 │ bare metal │ probed: Intel\(R\) Xeon\(R\) CPU E5-2680 v4 @ 2\.40GHz, 2 sockets x 14 cores x 2 threads, 2 NUMA nodes, 252 GiB, bare metal/);
    expect(xeon).toMatch(/THP always, kernel 3\.10\.0-957\.el7\.x86_64 \(mmap lock only\)/);
  });

  it('--machines: a host that cannot be probed is a row saying why, not a failure', async () => {
    const text = await listMachines(() => readHost(HOST_PRESETS, { platform: 'darwin' }));
    expect(rowOf(text, 'host')).toMatch(/^│ host +│ - +│ +- │ - +│ not available: needs Linux \(\/proc and \/sys\); this is darwin/);
  });

  it.runIf(process.platform === 'linux')('--machines on this machine: the presets as in the golden, then what the probe found here', async () => {
    const r = await spfperf(['list', '--machines']);
    expect(r.status).toBe(0);
    const h = hostInfo();
    const golden = await listMachines(() => probeHost(fsHostFiles(join(ROOT, 'fixtures', 'host', 'kvm-2vcpu')), HOST_PRESETS));
    const presets = (t: string): string => t.slice(0, t.indexOf('│ host '));
    expect(presets(r.stdout)).toBe(presets(golden));
    const row = rowOf(r.stdout, 'host').replace(/ *│\n│ +│ +│ +│ +│ */g, ' ');
    expect(row).toMatch(new RegExp(`^│ host +│ ${h.machine.profile} +│ +${h.ncpus} │ ${h.guest ? 'guest' : 'bare metal'} +│ probed: `));
    expect(row).toContain(`THP ${h.thp}, kernel ${h.kernelRelease} `);
    expect(row).toContain(h.guest ? 'guest (' : 'bare metal (');
  });

  it('--workloads names the shipped workloads with their parameters', async () => {
    const r = await spfperf(['list', '--workloads']);
    expect(r.stdout).toMatch(/^│ ebizzy +│ ebizzy 0\.3: /m);
    expect(r.stdout).toMatch(/^│ page_fault1 +│/m);
    expect(r.stdout).toMatch(/^│ +│ threads=\$ncpus +│ worker threads/m);
  });
});

describe('list --machines NAME (issue 16)', () => {
  it('prints the topology a name builds, with --cpus and the topology flags as stat takes them', async () => {
    const r = await spfperf(['list', '--machines', 'e5-2690v3', '--threads-per-core', '1', '--cpus', '16']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('topology:       2 sockets x 12 cores x 1 thread = 24 CPUs');
    expect(r.stdout).toContain('built:          the first 16 of 24 CPUs (--threads-per-core 1 --cpus 16)');
    expect(r.stdout).toContain('socket 1:       CPUs 12-15: 4 cores x 1 thread');
    const two = await spfperf(['list', '--machines', 'msm845', 'arm64-vm']);
    expect(two.stdout.match(/^\S+: /gm)).toEqual(['msm845: ', 'arm64-vm: ']);
  });

  it('refuses what stat refuses, an unknown name, and the flags without --machines NAME', async () => {
    const over = await spfperf(['list', '--machines', 'skl-4s192', '--cpus', '200']);
    expect(over.status).toBe(1);
    expect(over.stderr).toMatch(/^spfperf: option '--cpus': 200 is more than the 192 CPUs of skl-4s192 \(4 sockets x 24 cores x 2 threads\); give --sockets, --cores-per-socket, --threads-per-core to reshape it\n$/);
    const unknown = await spfperf(['list', '--machines', 'nope']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/unknown machine 'nope'/);
    const alone = await spfperf(['list', '--sockets', '2']);
    expect(alone.status).toBe(1);
    expect(alone.stderr).toBe("spfperf: list: --sockets says what a machine's topology becomes; give it with --machines NAME\n");
  });
});
