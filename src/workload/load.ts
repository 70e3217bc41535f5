/**
 * Loading workloads: a script file given by path, or a workload shipped in the package's
 * workloads/ directory given by name. The only module of src/workload that does I/O.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_SCRIPT_BYTES } from '../config/limits.js';
import { UsageError } from '../errors.js';
import { checkWorkload } from './check.js';
import type { ParamDecl, Workload } from './ir.js';
import { paramDefaultText, parseWorkload } from './parser.js';

/**
 * The package's workloads/ directory. This module is src/workload/load.ts when run from source
 * and dist/workload/load.js when compiled: both are two levels below the package root.
 */
export function shippedWorkloadsDir(): string {
  return fileURLToPath(new URL('../../workloads/', import.meta.url));
}

/** Names of the shipped workloads (file names without `.spf`), sorted. */
export function shippedWorkloadNames(): string[] {
  let entries: string[];
  try {
    entries = readdirSync(shippedWorkloadsDir());
  } catch {
    return [];
  }
  return entries
    .filter((f) => f.endsWith('.spf'))
    .map((f) => f.slice(0, -'.spf'.length))
    .sort();
}

function isFile(p: string): boolean {
  try {
    return existsSync(p) && statSync(p).isFile();
  } catch {
    return false;
  }
}

function readSource(path: string, shownAs: string): string {
  let text: string;
  try {
    // Bounded before it is read: a wrong file (a trace, a disk image) is refused, not parsed.
    const size = statSync(path).size;
    if (size > MAX_SCRIPT_BYTES) {
      throw new UsageError(`workload '${shownAs}' is ${size} bytes, over spfperf's limit of ${MAX_SCRIPT_BYTES} bytes for a script (docs/model.md#limits)`);
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read workload '${shownAs}': ${(e as Error).message}`);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** The file loadWorkload(nameOrPath) reads, or undefined when there is none. */
export function workloadFile(nameOrPath: string): string | undefined {
  if (isFile(nameOrPath)) return nameOrPath;
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(nameOrPath)) {
    const path = join(shippedWorkloadsDir(), nameOrPath.endsWith('.spf') ? nameOrPath : `${nameOrPath}.spf`);
    if (isFile(path)) return path;
  }
  return undefined;
}

/**
 * Load, parse and check a workload. `nameOrPath` is a path to an existing file, or else the name
 * of a shipped workload (`ebizzy`, or `ebizzy.spf`). Shipped workloads are reported in messages
 * as `workloads/NAME.spf`.
 */
export function loadWorkload(nameOrPath: string): Workload {
  if (isFile(nameOrPath)) {
    return parseAndCheck(readSource(nameOrPath, nameOrPath), nameOrPath);
  }
  if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(nameOrPath)) {
    const base = nameOrPath.endsWith('.spf') ? nameOrPath : `${nameOrPath}.spf`;
    const path = join(shippedWorkloadsDir(), base);
    if (isFile(path)) {
      return parseAndCheck(readSource(path, nameOrPath), `workloads/${base}`);
    }
  }
  const shipped = shippedWorkloadNames();
  throw new UsageError(
    `workload '${nameOrPath}' not found: not a file, and not a shipped workload (shipped: ${shipped.length > 0 ? shipped.join(', ') : 'none'})`,
  );
}

function parseAndCheck(source: string, file: string): Workload {
  const w = parseWorkload(source, file);
  checkWorkload(w);
  return w;
}

/** A parameter with the source text of its default, for listings. */
export type ParamInfo = ParamDecl & { readonly defaultText: string };

export interface ShippedWorkload {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamInfo[];
}

/** Every shipped workload, parsed and checked, sorted by name. */
export function listShippedWorkloads(): ShippedWorkload[] {
  return shippedWorkloadNames().map((name) => {
    const w = loadWorkload(name);
    return {
      name: w.name,
      description: w.description,
      params: w.params.map((p) => ({ ...p, defaultText: paramDefaultText(w, p) })),
    };
  });
}
