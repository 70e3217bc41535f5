import type { EventDef } from '../events/catalog.js';

/** perf list's layout: "  %-50s [%s]". Pure. */
const KIND_LABEL: Readonly<Record<EventDef['kind'], string>> = {
  sw: 'Software event',
  tp: 'Tracepoint event',
  vmstat: '/proc/vmstat counter',
};

/**
 * The order `localeCompare` gives event names under ICU's root (and English) collation, without
 * ICU: creating the collator costs ~8 ms, a sixth of `spfperf list`'s start-up budget, and makes
 * the order depend on the user's locale. Names of [A-Za-z0-9_:-] compare letter by letter by
 * primary weight (`_` < `-` < `:` < digits < letters, case ignored), a prefix first; only then by
 * case, lowercase first at the first difference. Any other character: localeCompare itself.
 */
const PRIMARY = new Int8Array(128).fill(-1);
[...'_-:0123456789abcdefghijklmnopqrstuvwxyz'].forEach((c, i) => {
  PRIMARY[c.charCodeAt(0)] = i;
  PRIMARY[c.toUpperCase().charCodeAt(0)] = i;
});
const PLAIN_NAME = /^[A-Za-z0-9_:-]*$/;
const isUpper = (code: number): boolean => code >= 65 && code <= 90;

export function compareEventNames(a: string, b: string): number {
  if (!PLAIN_NAME.test(a) || !PLAIN_NAME.test(b)) return a.localeCompare(b);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = PRIMARY[a.charCodeAt(i)]! - PRIMARY[b.charCodeAt(i)]!;
    if (d !== 0) return d;
  }
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < n; i++) {
    const ua = isUpper(a.charCodeAt(i));
    if (ua !== isUpper(b.charCodeAt(i))) return ua ? 1 : -1;
  }
  return 0;
}

export function formatEventList(events: readonly EventDef[]): string {
  const out: string[] = ['', 'List of pre-defined events (to be used in -e or -M):', ''];
  const sorted = (kind: EventDef['kind']): EventDef[] => events.filter((e) => e.kind === kind).sort((a, b) => compareEventNames(a.name, b.name));
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
