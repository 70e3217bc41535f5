/**
 * The files a command reads and writes, checked before it runs: an output that is one of its
 * inputs (`stat -o w.spf ./w.spf`, `--save` onto the workload or a --config file) or another of
 * its outputs (`-o X --save X`) is refused, since writing it would destroy what the run reads or
 * what the other output wrote.
 *
 * Two names are the same file when they reach the same inode (symlinks followed, hard links
 * included); an output that does not exist yet is compared by its resolved path. Outputs that are
 * not regular files (/dev/null, a FIFO, a terminal) may be shared: writing both to /dev/null is
 * what a user means, and nothing there is destroyed.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { workloadFile } from '../workload/load.js';

export interface FileUse {
  /** How the user gave it, for the message: `option '-o'`, `the workload script`. */
  readonly what: string;
  readonly path: string;
}

/** An identity for a path: `ino:DEV:INO` if it exists, else its resolved absolute path. */
function identity(path: string): { key: string; regular: boolean } {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st !== undefined) return { key: `ino:${st.dev}:${st.ino}`, regular: st.isFile() };
  let dir = resolve(dirname(path));
  try {
    dir = realpathSync(dir);
  } catch {
    /* a missing directory: the write will say so */
  }
  return { key: `path:${resolve(dir, basename(path))}`, regular: true };
}

/** Throw a UsageError when an output is an input or another output (see the module comment). */
export function refuseClobbering(inputs: readonly FileUse[], outputs: readonly FileUse[]): void {
  const seen = new Map<string, FileUse>();
  for (const i of inputs) {
    const id = identity(i.path);
    if (!seen.has(id.key)) seen.set(id.key, i);
  }
  const outs = new Map<string, FileUse>();
  for (const o of outputs) {
    if (o.path === '-') continue;
    const id = identity(o.path);
    const input = seen.get(id.key);
    if (input !== undefined) {
      throw new UsageError(`${o.what}: '${o.path}' is ${input.what} ('${input.path}'); refusing to overwrite an input`);
    }
    const other = outs.get(id.key);
    if (other !== undefined && id.regular) {
      throw new UsageError(`${o.what}: '${o.path}' is also the file of ${other.what}; give each output its own file`);
    }
    outs.set(id.key, o);
  }
}

/** The --config items that name files: what a run reads besides its workload. */
export function configFiles(items: readonly string[] | undefined): FileUse[] {
  return (items ?? [])
    .filter((c) => !c.includes('=') && statSync(c, { throwIfNoEntry: false })?.isFile() === true)
    .map((path) => ({ what: `the --config file`, path }));
}

/** refuseClobbering for a run: its workload script and --config files against its outputs. */
export function refuseRunClobbering(workloadArg: string, config: readonly string[] | undefined, outputs: ReadonlyArray<{ what: string; path: string | undefined }>): void {
  const script = workloadFile(workloadArg);
  const inputs: FileUse[] = [...(script !== undefined ? [{ what: 'the workload script', path: script }] : []), ...configFiles(config)];
  refuseClobbering(inputs, outputs.filter((o): o is FileUse => o.path !== undefined));
}
