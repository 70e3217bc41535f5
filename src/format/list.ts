import type { EventDef } from '../events/catalog.js';

/**
 * perf list's layout: "  %-50s [%s]" (tools/perf/util/print-events.c, perf 6.1), and its filters
 * (builtin-list.c cmd_list). Pure.
 */
const KIND_LABEL: Readonly<Record<EventDef['kind'], string>> = {
  sw: 'Software event',
  tp: 'Tracepoint event',
  vmstat: '/proc/vmstat counter',
};

/** One section of the list: what perf prints for one kind of event, or one filter. */
export interface ListSection {
  /** A heading printed above the section on a terminal (perf has one for the whole list only). */
  readonly heading?: string;
  readonly events: readonly EventDef[];
}

/** shell-style glob (perf's strglobmatch: `*`, `?`, `[...]`), anchored at both ends. */
function globMatch(glob: string, s: string): boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' && glob.indexOf(']', i + 1) > i) {
      const end = glob.indexOf(']', i + 1);
      re += `[${glob.slice(i + 1, end).replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(s);
}

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

const byName = (a: EventDef, b: EventDef): number => compareEventNames(a.name, b.name);
const ofKind = (events: readonly EventDef[], kind: EventDef['kind']): EventDef[] => events.filter((e) => e.kind === kind).sort(byName);

/** The sections of `spfperf list` with no filter: software events and tracepoints, then the vmstat counters. */
export function allSections(events: readonly EventDef[]): ListSection[] {
  return [{ events: [...ofKind(events, 'sw'), ...ofKind(events, 'tp')] }, { heading: '/proc/vmstat counters (printed by stat --vmstat):', events: ofKind(events, 'vmstat') }];
}

/** perf's names of kinds that exist in perf but have no event in the model (hw: no PMU is modelled). */
const EMPTY_KINDS = new Set(['hw', 'hardware', 'cache', 'hwcache', 'pmu', 'sdt', 'metric', 'metricgroup']);

/**
 * The events one `perf list` argument selects, as perf 6.1's cmd_list reads it: `sw`/`software`,
 * `tracepoint`, (spfperf's own) `vmstat`; `subsys:event` globs over the tracepoints; any other word
 * is `*word*` over every name and alias. hw, cache, pmu, sdt and metric select nothing here (the
 * model counts no hardware event), as on a machine without those PMUs.
 */
export function filterSection(events: readonly EventDef[], arg: string): ListSection {
  if (arg === 'sw' || arg === 'software') return { events: ofKind(events, 'sw') };
  if (arg === 'tracepoint') return { events: ofKind(events, 'tp') };
  if (arg === 'vmstat') return { events: ofKind(events, 'vmstat') };
  if (EMPTY_KINDS.has(arg)) return { events: [] };
  const colon = arg.indexOf(':');
  if (colon >= 0) {
    const sys = arg.slice(0, colon);
    const ev = arg.slice(colon + 1);
    return {
      events: ofKind(events, 'tp').filter((e) => {
        const [s, n] = e.name.split(':');
        return globMatch(sys, s) && globMatch(ev, n);
      }),
    };
  }
  const glob = `*${arg}*`;
  const hit = (e: EventDef): boolean => globMatch(glob, e.name) || e.aliases.some((a) => globMatch(glob, a));
  return { events: [...ofKind(events, 'sw'), ...ofKind(events, 'tp'), ...ofKind(events, 'vmstat')].filter(hit) };
}

/**
 * The list as perf prints it. On a terminal (perf: when its pager runs) a heading comes first and
 * a blank line after each section; on a pipe or in a file only the event lines, so that
 * `spfperf list | grep ...` and scripts see what they see of perf.
 */
export function formatEventList(sections: readonly ListSection[], tty: boolean): string {
  const out: string[] = [];
  if (tty) out.push('', 'List of pre-defined events (to be used in -e or -M):', '');
  for (const s of sections) {
    if (s.events.length === 0) continue;
    if (tty && s.heading !== undefined) out.push(s.heading, '');
    for (const e of s.events) {
      const name = e.aliases.length > 0 ? `${e.name} OR ${e.aliases.join(' OR ')}` : e.name;
      out.push(`  ${name.padEnd(50)} [${KIND_LABEL[e.kind]}]`);
    }
    if (tty) out.push('');
  }
  return out.map((l) => l + '\n').join('');
}

export function formatEventListJson(events: readonly EventDef[]): string {
  return JSON.stringify(
    events.map((e) => ({ name: e.name, aliases: e.aliases, kind: e.kind, fields: e.fields, description: e.desc })),
    null,
    2,
  ) + '\n';
}
