/**
 * The one check of what spfperf's readers take from a file: a trace's header and summary lines
 * (report, script, diff through src/trace/ndjson-reader.ts) and a `stat --save` document (diff,
 * src/stats/load.ts). Each field that is there must have the type the writer gives it
 * (src/stats/save.ts describeRun and runValues, src/commands/record.ts), so a hand-edited or
 * foreign file is one line naming the field, never a crash deeper in a formatter.
 *
 * Fields that are absent are not required here (older files lack some): what a reader cannot do
 * without (diff's run description, counters) it asks for itself.
 */
import { SAVE_FORMAT } from '../stats/save.js';

type Json = Record<string, unknown>;

/** A type check of one value: undefined when it fits, else what the value should be. */
type Check = (v: unknown) => string | undefined;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Check = (v) => (typeof v === 'string' ? undefined : 'a string');
const num: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'a number');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const arrayOf = (what: string, ok: (x: unknown) => boolean): Check => (v) => (Array.isArray(v) && v.every(ok) ? undefined : `an array of ${what}`);
const mapOf = (what: string, ok: (x: unknown) => boolean): Check => (v) => (isObj(v) && Object.values(v).every(ok) ? undefined : `an object of ${what}`);
const isStr = (x: unknown): boolean => typeof x === 'string';
const isNum = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
const obj = (fields: Readonly<Record<string, Check>>): Check => (v) => {
  if (!isObj(v)) return 'an object';
  for (const [k, c] of Object.entries(fields)) {
    if (v[k] === undefined) continue;
    const want = c(v[k]);
    if (want !== undefined) return `an object whose '${k}' is ${want}`;
  }
  return undefined;
};
/** The run description's version: a whole number this build reads (1..SAVE_FORMAT). */
const format: Check = (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= SAVE_FORMAT ? undefined : `a format this spfperf reads (${SAVE_FORMAT === 1 ? '1' : `1..${SAVE_FORMAT}`})`);

/** The run description (describeRun): in a trace header and a --save document alike. */
const DESCRIPTION: Readonly<Record<string, Check>> = {
  spfperf: str,
  format,
  workload: obj({ name: str, file: str, args: arrayOf('strings', isStr), params: mapOf('numbers or words', (x) => isNum(x) || isStr(x)) }),
  arch: str,
  machine: str,
  topology: str,
  cpus: num,
  config: obj({ label: str, sources: arrayOf('strings', isStr), settings: mapOf('strings', isStr) }),
  seeds: arrayOf('numbers', isNum),
};

/** The values of a run (runValues): a trace summary and a --save document alike. */
const VALUES: Readonly<Record<string, Check>> = {
  elapsed: num,
  user: num,
  sys: num,
  counters: mapOf('numbers', isNum),
  vmstat: mapOf('numbers', isNum),
  metrics: mapOf('{value, unit} objects', (m) => isObj(m) && (m.value === null || isNum(m.value)) && (m.unit === undefined || isStr(m.unit))),
  counts: mapOf('numbers', isNum),
  phases: mapOf('{elapsed, counters, vmstat, counts} objects', (ph) => isObj(ph) && isNum(ph.elapsed) && isObj(ph.counters) && isObj(ph.counts)),
};

const HEADER: Readonly<Record<string, Check>> = { ...DESCRIPTION, command: str, events: arrayOf('strings', isStr) };
const SUMMARY: Readonly<Record<string, Check>> = { ...VALUES, seed: num, samples: mapOf('numbers', isNum), stopped: bool, signals: (v) => (Array.isArray(v) ? undefined : 'an array') };
const SAVED: Readonly<Record<string, Check>> = { ...DESCRIPTION, ...VALUES, runs: (v) => (Array.isArray(v) && v.every(isObj) ? undefined : 'an array of objects') };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function problem(what: string, o: Json, fields: Readonly<Record<string, Check>>): string | null {
  for (const [k, c] of Object.entries(fields)) {
    if (o[k] === undefined) continue;
    const want = c(o[k]);
    if (want !== undefined) return `${what} field '${k}' is ${describe(o[k])}, not ${want}`;
  }
  return null;
}

/** Why a trace's header line is not one spfperf reads (its trace_format is checked apart), or null. */
export function headerProblem(h: Json): string | null {
  return problem('header', h, HEADER);
}

/** Why a trace's summary line is not usable, or null. */
export function summaryProblem(s: Json): string | null {
  return problem('summary', s, SUMMARY);
}

/** Why a `stat --save` document is not usable, or null (`format` included). */
export function savedProblem(d: Json): string | null {
  if (d.format === undefined) return "no 'format' field";
  return problem('document', d, SAVED);
}

/** Drop a UTF-8 byte-order mark at the start of a text: every reader accepts one (as a .spf does). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
