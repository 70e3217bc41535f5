/**
 * A thread's faults as src/import/address-space.ts keeps them: column by column, 21 bytes each
 * (a million faults: ~21 MB, where an object each took ~110).
 */
import type { Mapping } from './address-space.js';

/** Fault flags in a TouchLog. */
export const TOUCH_WRITE = 1;
export const TOUCH_FETCH = 2;

/** A thread's faults, column by column: time, page address, mapping id (0: not known yet), flags. */
export class TouchLog {
  n = 0;
  ns = new Float64Array(64);
  addr = new Float64Array(64);
  map = new Int32Array(64);
  flags = new Uint8Array(64);

  push(ns: number, addr: number, map: number, flags: number): void {
    if (this.n === this.ns.length) {
      const grow = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.ns = grow(this.ns);
      this.addr = grow(this.addr);
      this.map = grow(this.map);
      this.flags = grow(this.flags);
    }
    const i = this.n++;
    this.ns[i] = ns;
    this.addr[i] = addr;
    this.map[i] = map;
    this.flags[i] = flags;
  }
}

/** A fault as an object (timeline(): tests and debugging; the generator reads the columns). */
export interface Touch {
  readonly k: 'touch';
  readonly ns: number;
  readonly m: Mapping | null;
  readonly addr: number;
  readonly write: boolean;
  readonly fetch: boolean;
}
