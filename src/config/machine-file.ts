/**
 * Machine files (`--machine FILE`, docs/machines.md): a JSON description of a machine, read into
 * the `Machine` a preset is. The shipped presets are such files too (machines/*.json, embedded at
 * build time by scripts/gen-machines.mjs), read by the same machineFromJson().
 *
 * Every number is `{ "value": N, "source": "where it comes from" }`; a source that begins with
 * "estimate", "derivation", "fitted" or "measured" declares the number as such (the shipped
 * presets' are rows of src/config/constants.ts). A field the format does not have, a value of
 * the wrong kind or a number without its source is an error naming the field's JSON path, and,
 * for a file read from disk, its line and column.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ARCHES, ARCH_NAMES, getArch, type ArchCosts } from './arch.js';
import { MAX_CPUS, MAX_MACHINE_FILE_BYTES } from './limits.js';
import { JsonSyntaxError, memberPath, parseJsonPositioned, type Pos, type PositionedJson } from './json-pos.js';
import type { Machine } from './machine.js';
import type { LineLatencies, TopologySpec } from '../engine/topology.js';
import { ConfigError, errnoText, UsageError } from '../errors.js';

/** `--machine ARG` names a file when it has a '/' or ends in .json; a preset name otherwise. */
export function isMachineFile(arg: string): boolean {
  return arg.includes('/') || arg.endsWith('.json');
}

const GiB = 1024 ** 3;

/** The fields of each object of the format, in the order docs/machines.md gives them. */
export const FIELDS = {
  $: ['name', 'description', 'arch', 'profile', 'guest', 'topology', 'memory', 'lineLatencies', 'costs', 'remoteTlbFlush', 'storage'],
  topology: ['sockets', 'coresPerSocket', 'threadsPerCore', 'coresPerL3', 'cpuNumbering'],
  memory: ['sizeGiB', 'numaNodes'],
  lineLatencies: ['local', 'smt', 'l3', 'socket', 'remote', 'memory'],
  storage: ['readLatencyNs', 'writeBytesPerNs'],
} as const;

/** The kinds of number a source can declare, by its first word. */
export const DECLARED_SOURCE = /^(estimate|derivation|fitted|measured)\b/i;

type Json = unknown;

class Reader {
  readonly sources: Record<string, string> = {};
  constructor(
    private readonly file: string,
    private readonly pos: PositionedJson | undefined,
  ) {}

  /**
   * The error at `path`: at its member's name (`onName`: an unknown or misplaced field), else at
   * its value; a path the file does not have (a missing field) at the nearest one it has.
   */
  fail(path: string, what: string, onName = false): never {
    let p: Pos | undefined;
    if (this.pos !== undefined) {
      p = onName ? this.pos.keyAt.get(path) : undefined;
      for (let q = path; p === undefined && q !== ''; q = q.replace(/(\.[^.[]*|\[[^\]]*\])$/, '')) p = this.pos.at.get(q);
    }
    throw new ConfigError(`${this.file}${p ? `:${p.line}:${p.col}` : ''}: ${path}: ${what}`);
  }

  expected(path: string, what: string, got: Json): never {
    return this.fail(path, `expected ${what}, got ${shown(got)}`);
  }

  object(path: string, v: Json, fields: readonly string[]): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.expected(path, 'an object', v);
    const o = v as Record<string, Json>;
    for (const k of Object.keys(o)) {
      if (!fields.includes(k)) this.fail(memberPath(path, k), `unknown field (${pathOf(path)} has ${fields.join(', ')})`, true);
    }
    return o;
  }

  string(path: string, v: Json, pattern?: RegExp, what = 'a string'): string {
    if (typeof v !== 'string' || v === '' || (pattern !== undefined && !pattern.test(v))) return this.expected(path, what, v);
    return v;
  }

  oneOf<T extends string>(path: string, v: Json, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) return this.expected(path, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
    return v as T;
  }

  required(o: Record<string, Json>, path: string, key: string): Json {
    if (!Object.hasOwn(o, key)) this.fail(memberPath(path, key), 'missing');
    return o[key];
  }

  /** `{ "value": N, "source": "..." }`: the number, its source kept under the path. */
  sourced(path: string, v: Json, check: (n: number) => boolean, what: string, array = false): number | number[] {
    const shape = `{ "value": ${what}, "source": "..." } (every number carries its source)`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.expected(path, shape, v);
    const o = this.object(path, v, ['value', 'source']);
    if (!Object.hasOwn(o, 'value')) this.fail(`${path}.value`, `missing (${shape})`);
    if (!Object.hasOwn(o, 'source')) this.fail(`${path}.source`, 'missing: say where the number comes from (a document, a measurement), or "estimate: ..." and how it was estimated');
    this.sources[path.slice(2)] = this.string(`${path}.source`, o.source, /\S/, 'a non-empty string');
    const val = o.value;
    if (array) {
      if (!Array.isArray(val) || val.length === 0 || !val.every((x) => typeof x === 'number' && check(x))) return this.expected(`${path}.value`, what, val);
      return val as number[];
    }
    if (typeof val !== 'number' || !check(val)) return this.expected(`${path}.value`, what, val);
    return val;
  }

  count(path: string, v: Json, max: number): number {
    return this.sourced(path, v, (n) => Number.isInteger(n) && n >= 1 && n <= max, `a whole number in 1..${max}`) as number;
  }

  positive(path: string, v: Json): number {
    return this.sourced(path, v, (n) => Number.isFinite(n) && n > 0, 'a number above 0') as number;
  }
}

function pathOf(path: string): string {
  return path === '$' ? 'the machine' : path;
}

function shown(v: Json): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** The arch profiles of an --arch name (powerpc: radix and hash). */
function profilesOf(arch: string): string[] {
  return [...new Set(Object.values(ARCHES).filter((a) => a.name === arch).map((a) => a.profile))];
}

/**
 * The machine a parsed file describes. `file` names it in errors (and gives the default name);
 * `pos`, the positions of a file read from text, adds line and column to them.
 */
export function machineFromJson(v: Json, file: string, pos?: PositionedJson): Machine {
  const r = new Reader(file, pos);
  const top = r.object('$', v, FIELDS.$);
  const name = top.name === undefined ? basename(file).replace(/\.json$/, '') : r.string('$.name', top.name, /^[A-Za-z0-9][\w.+-]*$/, 'a name of letters, digits and . _ + -');
  const description = r.string('$.description', r.required(top, '$', 'description'));
  const arch = r.oneOf('$.arch', r.required(top, '$', 'arch'), ARCH_NAMES);
  const profiles = profilesOf(arch);
  const profile = top.profile === undefined ? getArch(arch).profile : r.oneOf('$.profile', top.profile, profiles);
  const guestV = r.required(top, '$', 'guest');
  if (typeof guestV !== 'boolean') r.expected('$.guest', 'true (a virtual machine) or false (bare metal)', guestV);
  const guest = guestV as boolean;

  const t = r.object('$.topology', r.required(top, '$', 'topology'), FIELDS.topology);
  const sockets = r.count('$.topology.sockets', r.required(t, '$.topology', 'sockets'), MAX_CPUS);
  const coresPerSocket = r.count('$.topology.coresPerSocket', r.required(t, '$.topology', 'coresPerSocket'), MAX_CPUS);
  const threadsPerCore = r.count('$.topology.threadsPerCore', r.required(t, '$.topology', 'threadsPerCore'), MAX_CPUS);
  if (sockets * coresPerSocket * threadsPerCore > MAX_CPUS) {
    r.fail('$.topology', `expected at most ${MAX_CPUS} CPUs, got ${sockets} x ${coresPerSocket} x ${threadsPerCore} = ${sockets * coresPerSocket * threadsPerCore}`);
  }
  const coresPerL3 = t.coresPerL3 === undefined ? undefined : r.count('$.topology.coresPerL3', t.coresPerL3, coresPerSocket);
  const numbering = t.cpuNumbering === undefined ? 'threads-together' : r.oneOf('$.topology.cpuNumbering', t.cpuNumbering, ['threads-together', 'siblings-last'] as const);
  const topology: TopologySpec = {
    sockets,
    coresPerSocket,
    threadsPerCore,
    ...(numbering === 'siblings-last' ? { siblingsLast: true } : {}),
    ...(coresPerL3 !== undefined && coresPerL3 < coresPerSocket ? { coresPerL3 } : {}),
  };

  const mem = r.object('$.memory', r.required(top, '$', 'memory'), FIELDS.memory);
  const memoryBytes = Math.round(r.positive('$.memory.sizeGiB', r.required(mem, '$.memory', 'sizeGiB')) * GiB);
  if (mem.numaNodes !== undefined) {
    const nodes = r.count('$.memory.numaNodes', mem.numaNodes, MAX_CPUS);
    if (nodes !== sockets) r.expected('$.memory.numaNodes.value', `${sockets}, one node per socket (the model keeps a zone and an LRU per socket; docs/machines.md)`, nodes);
  }

  let lineLatencies: Partial<LineLatencies> | undefined;
  if (top.lineLatencies !== undefined) {
    const l = r.object('$.lineLatencies', top.lineLatencies, FIELDS.lineLatencies);
    const out: Record<string, number> = {};
    for (const k of FIELDS.lineLatencies) if (l[k] !== undefined) out[k] = r.positive(`$.lineLatencies.${k}`, l[k]);
    lineLatencies = out;
  }
  const split = topology.coresPerL3 !== undefined;
  if (split && lineLatencies?.l3 === undefined) {
    r.fail('$.lineLatencies.l3', `missing: a socket of several L3s ($.topology.coresPerL3 ${coresPerL3} of ${coresPerSocket} cores) needs the latency between cores of one L3`);
  }
  if (!split && lineLatencies?.l3 !== undefined) {
    r.fail('$.lineLatencies.l3', 'the same-L3 class needs a socket of several L3s: give $.topology.coresPerL3 below $.topology.coresPerSocket (with one L3 a socket, $.lineLatencies.socket is the transfer through it)');
  }

  let costs: Partial<ArchCosts> | undefined;
  if (top.costs !== undefined) {
    const base = getArch(profile).costs;
    const keys = Object.keys(base);
    const c = r.object('$.costs', top.costs, keys);
    const out: Record<string, number | number[]> = {};
    for (const k of Object.keys(c)) {
      out[k] = k === 'smtThroughput' ? r.sourced(`$.costs.${k}`, c[k], (n) => Number.isFinite(n) && n > 0, 'an array of numbers above 0', true) : r.sourced(`$.costs.${k}`, c[k], (n) => Number.isFinite(n) && n >= 0, 'a number, 0 or more');
    }
    costs = out as unknown as Partial<ArchCosts>;
  }
  const remoteTlbFlush = top.remoteTlbFlush === undefined ? undefined : r.oneOf('$.remoteTlbFlush', top.remoteTlbFlush, ['hypercall'] as const);
  if (remoteTlbFlush !== undefined && !guest) r.fail('$.remoteTlbFlush', 'a flush by hypercall needs a hypervisor: the machine is not a guest ($.guest false)');

  const st = r.object('$.storage', r.required(top, '$', 'storage'), FIELDS.storage);
  const ioLatencyNs = r.positive('$.storage.readLatencyNs', r.required(st, '$.storage', 'readLatencyNs'));
  const writeback = st.writeBytesPerNs === undefined ? undefined : r.positive('$.storage.writeBytesPerNs', st.writeBytesPerNs);

  return {
    name,
    description,
    arch,
    profile,
    guest,
    topology,
    memoryBytes,
    ...(lineLatencies !== undefined ? { lineLatencies } : {}),
    ...(costs !== undefined ? { costs } : {}),
    ...(remoteTlbFlush !== undefined ? { remoteTlbFlush } : {}),
    ioLatencyNs,
    ...(writeback !== undefined ? { writebackBytesPerNs: writeback } : {}),
    sources: r.sources,
    file,
  };
}

/** A machine file's text, parsed and read; `file` names it in errors. */
export function machineFromText(text: string, file: string): Machine {
  let parsed;
  try {
    parsed = parseJsonPositioned(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new ConfigError(`${file}:${e.pos.line}:${e.pos.col}: not JSON: ${e.detail}`);
  }
  return machineFromJson(parsed.value, file, parsed);
}

/** `--machine FILE`: the file read from disk. */
export function readMachineFile(path: string): Machine {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_MACHINE_FILE_BYTES) throw new ConfigError(`${path}: ${size} bytes, more than a machine file's ${MAX_MACHINE_FILE_BYTES} (MAX_MACHINE_FILE_BYTES)`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // A file that is not there is a bad option value, as a missing workload file is (exit 1);
    // a file that is there but wrong is a bad config (exit 2), as a .config fragment is.
    throw new UsageError(`option '--machine': cannot read '${path}': ${errnoText(e as NodeJS.ErrnoException)}`);
  }
  return machineFromText(text, path);
}
