/**
 * spfperf list: every event spfperf knows, in perf list's layout.
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
import { MACHINES, machineCpus } from '../config/machine.js';
import { listShippedWorkloads } from '../workload/load.js';
import { type CliIo } from '../io.js';

export interface ListOptions {
  readonly json?: boolean;
  readonly configs?: boolean;
  readonly machines?: boolean;
  readonly workloads?: boolean;
}

export async function run(o: ListOptions, io: CliIo): Promise<number> {
  const out = (s: string): void => void io.stdout.write(s);
  if (o.configs) {
    out('Presets (--config NAME):\n');
    for (const p of listConfigPresets()) {
      const name = p.aliases.length > 0 ? `${p.name} (${p.aliases.join(', ')})` : p.name;
      out(`  ${name.padEnd(22)} ${p.description}\n`);
    }
    out('\nKeys (--config KEY=VALUE, or KEY=VALUE lines in a .config file; the default first):\n');
    for (const [key, d] of Object.entries(CONFIG_KEYS)) {
      const values = d.values.length > 0 ? [d.def, ...d.values.filter((v) => v !== d.def)].join('|') : `N (${d.def})`;
      out(`  ${key}=${values}\n      ${d.doc}\n`);
    }
    return 0;
  }
  if (o.machines) {
    for (const m of Object.values(MACHINES)) {
      out(`  ${m.name.padEnd(12)} ${m.profile.padEnd(14)} ${String(machineCpus(m)).padStart(4)} CPUs  ${m.description}\n`);
    }
    return 0;
  }
  if (o.workloads) {
    for (const w of listShippedWorkloads()) {
      const first = w.description.split('\n')[0] ?? '';
      out(`  ${w.name.padEnd(14)} ${first}\n`);
      for (const p of w.params) out(`      ${p.name}=${p.defaultText}${p.doc ? `   ${p.doc}` : ''}\n`);
    }
    return 0;
  }
  out(o.json ? formatEventListJson(EVENTS) : formatEventList(EVENTS));
  return 0;
}
