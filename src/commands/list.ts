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
 */
import { EVENTS } from '../events/catalog.js';
import { formatEventList, formatEventListJson } from '../format/list.js';
import { CONFIG_KEYS, listConfigPresets } from '../config/kconfig.js';
import { ERA_CHANGES } from '../config/era.js';
import { hostInfo, MACHINES, machineCpus } from '../config/machine.js';
import { describeHost, type HostInfo } from '../config/host.js';
import { ConfigError } from '../errors.js';
import { listShippedWorkloads } from '../workload/load.js';
import { type CliIo } from '../io.js';
import { formatTable, type Cell } from '../format/table.js';
import { useHostCosts } from '../calibrate/hostcost.js';

export interface ListOptions {
  readonly json?: boolean;
  readonly configs?: boolean;
  readonly machines?: boolean;
  readonly workloads?: boolean;
}

/** Width of a description column (text wraps inside it), so a table fits in ~120 columns. */
const DOC_WIDTH = 64;

/** The host row: what the probe found, or why there is none (not Linux, a file it cannot read). */
function hostRow(probe: () => HostInfo): Cell[] {
  let h: HostInfo;
  try {
    h = probe();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return ['host', '-', '-', '-', `not available: ${e.message.replace(/^--machine host: /, '')}`];
  }
  return ['host', h.machine.profile, h.ncpus, h.machine.guest ? 'guest' : 'bare metal', describeHost(h)];
}

/** `probe` gives the host row (tests pass a probe of a fixture tree, so the golden holds anywhere). */
/** The host with the costs measured on it when the cache has them (none measured here otherwise). */
function hostWithCachedCosts(io: CliIo): HostInfo {
  useHostCosts(io.env, 'cached');
  return hostInfo();
}

export async function run(o: ListOptions, io: CliIo, probe: () => HostInfo = () => hostWithCachedCosts(io)): Promise<number> {
  const out = (s: string): void => void io.stdout.write(s);
  if (o.configs) {
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
    out(
      formatTable({
        head: ['Machine', 'Arch profile', 'CPUs', 'Kind', 'What it is'],
        rows: [...Object.values(MACHINES).map((m): Cell[] => [m.name, m.profile, machineCpus(m), m.guest ? 'guest' : 'bare metal', m.description]), hostRow(probe)],
        widths: [null, null, null, null, DOC_WIDTH],
        align: ['left', 'left', 'right', 'left', 'left'],
      }),
    );
    return 0;
  }
  if (o.workloads) {
    const rows: Cell[][] = [];
    for (const w of listShippedWorkloads()) {
      rows.push([w.name, { content: w.description.split('\n')[0] ?? '', colSpan: 2 }]);
      for (const p of w.params) rows.push(['', `${p.name}=${p.defaultText}`, p.doc ?? '']);
    }
    out(formatTable({ head: ['Workload', 'Parameter=default', 'What it is'], rows, widths: [null, 28, DOC_WIDTH] }));
    return 0;
  }
  out(o.json ? formatEventListJson(EVENTS) : formatEventList(EVENTS));
  return 0;
}
