import type { EventDef } from '../events/catalog.js';

/** perf list's layout: "  %-50s [%s]". Pure. */
const KIND_LABEL: Readonly<Record<EventDef['kind'], string>> = {
  sw: 'Software event',
  tp: 'Tracepoint event',
  vmstat: '/proc/vmstat counter',
};

export function formatEventList(events: readonly EventDef[]): string {
  const out: string[] = ['', 'List of pre-defined events (to be used in -e or -M):', ''];
  const sorted = (kind: EventDef['kind']): EventDef[] => events.filter((e) => e.kind === kind).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of [...sorted('sw'), ...sorted('tp')]) {
    const name = e.aliases.length > 0 ? `${e.name} OR ${e.aliases.join(' OR ')}` : e.name;
    out.push(`  ${name.padEnd(50)} [${KIND_LABEL[e.kind]}]`);
  }
  const vm = sorted('vmstat');
  if (vm.length > 0) {
    out.push('', '/proc/vmstat counters (printed by stat --vmstat):', '');
    for (const e of vm) out.push(`  ${e.name.padEnd(50)} [${KIND_LABEL.vmstat}]`);
  }
  out.push('');
  return out.join('\n') + '\n';
}

export function formatEventListJson(events: readonly EventDef[]): string {
  return JSON.stringify(
    events.map((e) => ({ name: e.name, aliases: e.aliases, kind: e.kind, fields: e.fields, description: e.desc })),
    null,
    2,
  ) + '\n';
}
