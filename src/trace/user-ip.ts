/**
 * The user instruction pointer of a workload statement, and back: what `record` writes as a
 * fault sample's `ip` and what `report` resolves it to. A statement at line N of the workload
 * stands for the code at TEXT_BASE + N * 0x10, as if the script were the program's .text.
 */

/** The start of .text in an x86-64 executable linked at ld's default base (0x400000, text in its second page). */
export const TEXT_BASE = 0x401000;
const STRIDE = 0x10;
/** Past the last line a script can have (src/config/limits.ts: 1 MiB of source). */
const TEXT_END = TEXT_BASE + STRIDE * 0x100000;

/** The ip a statement on `line` of the workload stands for. */
export function ipOfLine(line: number): number {
  return TEXT_BASE + line * STRIDE;
}

/** The workload line an ip stands for, or undefined when it is not one of ipOfLine()'s. */
export function lineOfIp(ip: number): number | undefined {
  if (!(ip > TEXT_BASE && ip < TEXT_END)) return undefined;
  const off = ip - TEXT_BASE;
  return off % STRIDE === 0 ? off / STRIDE : undefined;
}
