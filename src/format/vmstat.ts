import { EV, EVENTS, type EventDef } from '../events/catalog.js';
import type { KernelConfig } from '../config/kconfig.js';

/**
 * /proc/vmstat: "name value" lines, in the kernel's order (vmstat_text), only the counters the
 * kernel config has. Pure.
 */

const TLB = new Set<number>([EV.NR_TLB_REMOTE_FLUSH, EV.NR_TLB_REMOTE_FLUSH_RECEIVED, EV.NR_TLB_LOCAL_FLUSH_ALL, EV.NR_TLB_LOCAL_FLUSH_ONE]);

/** Does a kernel built with `c` have this /proc/vmstat line? */
export function configHasVmstat(c: KernelConfig, e: EventDef): boolean {
  if (e.kind !== 'vmstat') return false;
  if (TLB.has(e.id)) return c.tlbStats;
  if (e.name.startsWith('thp_')) return c.settings.CONFIG_TRANSPARENT_HUGEPAGE === 'y';
  // A line a design defines exists only under that design (and the symbols it needs).
  if (c.designVmstat.all.has(e.name)) return c.designVmstat.present.has(e.name);
  return true;
}

/** The vmstat lines of a config, with their values. */
export function vmstatLines(c: KernelConfig, value: (id: number) => number): { name: string; value: number }[] {
  return EVENTS.filter((e) => configHasVmstat(c, e)).map((e) => ({ name: e.name, value: value(e.id) }));
}

export function formatVmstat(lines: readonly { name: string; value: number }[]): string {
  return lines.map((l) => `${l.name} ${l.value}\n`).join('');
}
