/**
 * spfperf list: every event spfperf knows, in perf list's layout; with --configs, --machines or
 * --workloads, spfperf's own tables of those instead (src/format/table.ts). --machines ends
 * with `host`, what the probe of this machine found (src/config/host.ts).
 *
 *   $ spfperf list
 *
 *   List of pre-defined events (to be used in -e or -M):
 *
 *     context-switches OR cs                             [Software event]
 *     ...
 *
 * perf list's filters narrow the event list: `spfperf list sw`, `list tracepoint`,
 * `list 'pagefault:*'`, `list faults` (src/format/list.ts). The heading and blank lines are
 * printed on a terminal only, as perf prints them only when its pager runs.
 *
 * The plain event list is the common call and must start fast: the event catalog and its
 * formatter are all it loads. The tables' modules (the design registry, which loads the whole mm
 * model; cli-table3; the workload parser) are imported only by the listing that prints them.
 */
import { EVENTS } from '../events/catalog.js';
import { allSections, filterSection, formatEventList, formatEventListJson } from '../format/list.js';
import type { HostInfo } from '../config/host.js';
import { ConfigError, UsageError } from '../errors.js';
import { type CliIo } from '../io.js';
import type { Cell } from '../format/table.js';

export interface ListOptions {
  readonly json?: boolean;
  readonly configs?: boolean;
  readonly machines?: boolean;
  readonly workloads?: boolean;
  /** perf list's filters (`sw`, `tracepoint`, `sys:event` globs, words); with --machines, machine names. */
  readonly filters?: readonly string[];
  /** With --machines NAME: the CPUs and topology flags a run would be given (src/sim/setup.ts). */
  readonly cpus?: string;
  readonly sockets?: string;
  readonly coresPerSocket?: string;
  readonly threadsPerCore?: string;
}

/** `list --machines NAME...`: each machine as a run with these flags would build it. */
async function describeMachines(names: readonly string[], o: ListOptions, io: CliIo): Promise<void> {
  const [{ machineArg }, { machineWithCpus }, { getArch }, { formatMachine }, { useHostCosts }] = await Promise.all([
    import('../config/machine.js'),
    import('../sim/setup.js'),
    import('../config/arch.js'),
    import('../format/machine.js'),
    import('../calibrate/hostcost.js'),
  ]);
  const flags: [string, string | undefined][] = [['--sockets', o.sockets], ['--cores-per-socket', o.coresPerSocket], ['--threads-per-core', o.threadsPerCore], ['--cpus', o.cpus]];
  const how = flags.filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join(' ');
  const texts = names.map((name) => {
    if (name === 'host') useHostCosts(io.env, 'cached');
    const { machine, ncpus } = machineWithCpus(machineArg(name, 'list --machines'), o);
    return formatMachine(machine, ncpus, { ...getArch(machine.profile).lineLatencies, ...machine.lineLatencies }, how);
  });
  io.stdout.write(texts.join('\n'));
}

/** Width of a description column (text wraps inside it), so a table fits in ~120 columns. */
const DOC_WIDTH = 64;

/** The host row: what the probe found, or why there is none (not Linux, a file it cannot read). */
function hostRow(probe: () => HostInfo, describeHost: (h: HostInfo) => string): Cell[] {
  let h: HostInfo;
  try {
    h = probe();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return ['host', '-', '-', '-', `not available: ${e.message.replace(/^--machine host: /, '')}`];
  }
  return ['host', h.machine.profile, h.ncpus, h.machine.guest ? 'guest' : 'bare metal', describeHost(h)];
}

/**
 * `probe` gives the host row (default: hostInfo, this machine, with the costs measured on it when
 * calibrate's cache has them; tests pass a probe of a fixture tree, so the golden holds anywhere).
 */
export async function run(o: ListOptions, io: CliIo, probe?: () => HostInfo): Promise<number> {
  const out = (s: string): void => void io.stdout.write(s);
  const filters = o.filters ?? [];
  const shaping = (['cpus', 'sockets', 'coresPerSocket', 'threadsPerCore'] as const).find((k) => o[k] !== undefined);
  if (shaping !== undefined && !(o.machines && filters.length > 0 && !o.configs && !o.workloads)) {
    throw new UsageError(`list: --${shaping.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} says what a machine's topology becomes; give it with --machines NAME`);
  }
  if (o.machines && filters.length > 0 && !o.configs && !o.workloads) {
    await describeMachines(filters, o, io);
    return 0;
  }
  if (filters.length > 0 && (o.configs || o.machines || o.workloads)) {
    throw new UsageError(`list: '${filters[0]}' filters events; it cannot be combined with --${o.configs ? 'configs' : o.machines ? 'machines' : 'workloads'}`);
  }
  if (o.configs) {
    const [{ CONFIG_KEYS, listConfigPresets }, { ERA_CHANGES }, { formatTable }] = await Promise.all([
      import('../config/kconfig.js'),
      import('../config/era.js'),
      import('../format/table.js'),
    ]);
    out('Presets (--config NAME):\n');
    out(
      formatTable({
        head: ['Preset', 'Aliases', 'What it is'],
        rows: listConfigPresets().map((p) => [p.name, p.aliases.join(', '), p.description]),
        widths: [null, null, DOC_WIDTH],
      }),
    );
    out('\nKeys (--config KEY=VALUE, or KEY=VALUE lines in a .config file):\n');
    out(
      formatTable({
        head: ['Key', 'Values (default first)', 'What it does'],
        rows: Object.entries(CONFIG_KEYS).map(([key, d]) => [
          key,
          d.values.length > 0 ? [d.def, ...d.values.filter((v) => v !== d.def), ...(d.form ? [d.form.text] : [])].join(', ') : `N (${d.def})`,
          d.doc,
        ]),
        widths: [null, 24, DOC_WIDTH],
      }),
    );
    out('\nKernel eras (kernel=X.Y sets each key to its value in release X.Y; docs/designs.md):\n');
    out(
      formatTable({
        head: ['Key', 'From', 'Before', 'After', 'What changes'],
        rows: ERA_CHANGES.map((c) => [c.key, c.at, c.before, c.after, c.what]),
        widths: [null, null, null, null, DOC_WIDTH],
      }),
    );
    return 0;
  }
  if (o.machines) {
    const [{ hostInfo, MACHINES, machineCpus }, { describeHost }, { formatTable }, { useHostCosts }] = await Promise.all([
      import('../config/machine.js'),
      import('../config/host.js'),
      import('../format/table.js'),
      import('../calibrate/hostcost.js'),
    ]);
    out(
      formatTable({
        head: ['Machine', 'Arch profile', 'CPUs', 'Kind', 'What it is'],
        rows: [...Object.values(MACHINES).map((m): Cell[] => [m.name, m.profile, machineCpus(m), m.guest ? 'guest' : 'bare metal', m.description]), hostRow(probe ?? (() => (useHostCosts(io.env, 'cached'), hostInfo())), describeHost)],
        widths: [null, null, null, null, DOC_WIDTH],
        align: ['left', 'left', 'right', 'left', 'left'],
      }),
    );
    return 0;
  }
  if (o.workloads) {
    const [{ listShippedWorkloads }, { formatTable }] = await Promise.all([import('../workload/load.js'), import('../format/table.js')]);
    const rows: Cell[][] = [];
    for (const w of listShippedWorkloads()) {
      rows.push([w.name, { content: w.description.split('\n')[0] ?? '', colSpan: 2 }]);
      for (const p of w.params) rows.push(['', `${p.name}=${p.defaultText}`, p.doc ?? '']);
    }
    out(formatTable({ head: ['Workload', 'Parameter=default', 'What it is'], rows, widths: [null, 28, DOC_WIDTH] }));
    return 0;
  }
  const sections = filters.length > 0 ? filters.map((f) => filterSection(EVENTS, f)) : allSections(EVENTS);
  out(o.json ? formatEventListJson(sections.flatMap((s) => s.events)) : formatEventList(sections, io.isTTY.stdout));
  return 0;
}
