/**
 * The model's fake kernel text: the `caller` of a tracepoint is a return address (_RET_IP_), and
 * the model has no kernel image, so each kernel function that fires one gets a stable place in a
 * made-up text layout. A function's address comes from its name alone (a hash picks its slot), so
 * adding or reordering functions never moves another one's address, and traces stay comparable
 * across versions. Two names in one slot are refused when the second registers.
 */

/** Low 32 bits of the text base (the top half is 0xffffffff, see kernelIp). */
const KTEXT = 0x81000000;
/** Room per function: offsets within it are the instructions after the aborting calls. */
const FN_SIZE = 0x400;
/** Slots in the text (16 MiB of text, as a distribution kernel's). */
const SLOTS = 0x4000;

const bySlot = new Map<number, string>();
const byName = new Map<string, number>();

/** FNV-1a, 32 bits: a small, well-spread hash of the function name. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Where kernel function `fn` starts (low 32 bits), without registering it: a call chain's frames
 * (src/trace/callchain.ts) are placed so, and only abort sites are registered (ksym()), so a
 * chain's frame never makes an abort site's name refused. Two frames may share a slot: a chain
 * carries its symbols, nothing resolves them back from the address.
 */
export function ksymAddr(fn: string): number {
  return KTEXT + (fnv1a(fn) % SLOTS) * FN_SIZE;
}

/**
 * The offset in `fn` of its call to `callee` (a return address: past the start), or of a sample
 * in `fn` itself when callee is '': stable, from the two names.
 */
export function callSiteOffset(fn: string, callee: string): number {
  return 0x10 + (fnv1a(`${fn}>${callee}`) % (FN_SIZE - 0x20));
}

/** The start address (low 32 bits) of kernel function `fn`, registering it on first use. */
export function ksym(fn: string): number {
  const known = byName.get(fn);
  if (known !== undefined) return known;
  const slot = fnv1a(fn) % SLOTS;
  const other = bySlot.get(slot);
  if (other !== undefined) throw new Error(`ksym: '${fn}' and '${other}' hash to one text slot; rename one`);
  bySlot.set(slot, fn);
  const addr = KTEXT + slot * FN_SIZE;
  byName.set(fn, addr);
  return addr;
}

/** `function+0xoff` for an address of the fake text, or undefined if no function is there. */
export function ksymName(ip: number): string | undefined {
  const off = ip - KTEXT;
  if (off < 0 || off >= SLOTS * FN_SIZE) return undefined;
  const fn = bySlot.get(Math.floor(off / FN_SIZE));
  return fn === undefined ? undefined : `${fn}+0x${(off % FN_SIZE).toString(16)}`;
}

/** The full 64-bit kernel address of an ip, in hex without 0x (JS numbers cannot hold it). */
export function kernelIp(ip: number): string {
  return `ffffffff${ip.toString(16).padStart(8, '0')}`;
}
