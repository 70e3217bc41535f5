/**
 * A job's input and result as JSON, for the job queue (queue.ts, queue-worker.ts): BullMQ stores
 * job data and return values with JSON.stringify, which would lose what a structured clone keeps
 * (the worker threads of pool.ts exchange structured clones). Encoded here, decoded on the other
 * side, a value comes back as the clone would have: Maps, Sets, typed arrays (a run's counts are
 * a Float64Array), `undefined` (in an array or as a property), NaN, the infinities and -0.
 *
 * A value that needs it is written as a tagged object {"$wire": TAG, ...}; a plain object that
 * happens to have a "$wire" key is itself tagged, so decoding is exact.
 */

const TAG = '$wire';

type Typed = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | Uint8ClampedArray | BigInt64Array | BigUint64Array;
const TYPED: Readonly<Record<string, new (b: ArrayBuffer) => Typed>> = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  BigInt64Array,
  BigUint64Array,
};

/** A typed array's bytes in base64, little-endian whatever the host (every element swapped on a big-endian one). */
function bytesOf(a: Typed): string {
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return (BIG_ENDIAN ? swapped(b, a.BYTES_PER_ELEMENT) : b).toString('base64');
}

const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

function swapped(b: Buffer, size: number): Buffer {
  const c = Buffer.from(b);
  if (size === 2) c.swap16();
  else if (size === 4) c.swap32();
  else if (size === 8) c.swap64();
  return c;
}

/** `v` as a value JSON.stringify keeps exactly. Throws on what a structured clone would refuse too (functions, symbols). */
export function encodeWire(v: unknown): unknown {
  switch (typeof v) {
    case 'number':
      if (Number.isNaN(v)) return { [TAG]: 'number', v: 'NaN' };
      if (v === Infinity || v === -Infinity) return { [TAG]: 'number', v: v > 0 ? 'Infinity' : '-Infinity' };
      if (Object.is(v, -0)) return { [TAG]: 'number', v: '-0' };
      return v;
    case 'string':
    case 'boolean':
      return v;
    case 'undefined':
      return { [TAG]: 'undefined' };
    case 'bigint':
      return { [TAG]: 'bigint', v: v.toString() };
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) return v.map(encodeWire);
      if (v instanceof Map) return { [TAG]: 'Map', v: [...v].map(([k, x]) => [encodeWire(k), encodeWire(x)]) };
      if (v instanceof Set) return { [TAG]: 'Set', v: [...v].map(encodeWire) };
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        const name = v.constructor.name;
        if (TYPED[name] === undefined) throw new Error(`wire-value: cannot encode a ${name}`);
        return { [TAG]: 'typed', type: name, v: bytesOf(v as Typed) };
      }
      if (v instanceof Date) return { [TAG]: 'Date', v: v.getTime() };
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new Error(`wire-value: cannot encode an instance of ${(v as object).constructor?.name ?? 'a class'}`);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = encodeWire(x);
      return TAG in out ? { [TAG]: 'object', v: out } : out;
    }
    default:
      throw new Error(`wire-value: cannot encode a ${typeof v}`);
  }
}

/** The value encodeWire() was given, from its JSON.parse()d form. */
export function decodeWire(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(decodeWire);
  const o = v as Record<string, unknown>;
  if (!(TAG in o)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = decodeWire(x);
    return out;
  }
  switch (o[TAG]) {
    case 'number':
      return o.v === '-0' ? -0 : Number(o.v);
    case 'undefined':
      return undefined;
    case 'bigint':
      return BigInt(o.v as string);
    case 'Map':
      return new Map((o.v as [unknown, unknown][]).map(([k, x]) => [decodeWire(k), decodeWire(x)]));
    case 'Set':
      return new Set((o.v as unknown[]).map(decodeWire));
    case 'Date':
      return new Date(o.v as number);
    case 'typed': {
      const make = TYPED[o.type as string];
      if (make === undefined) throw new Error(`wire-value: unknown typed array ${String(o.type)}`);
      const raw = Buffer.from(o.v as string, 'base64');
      const b = BIG_ENDIAN ? swapped(raw, (make as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT) : raw;
      // A copy into a buffer of its own: aligned, and not a view into Node's pool.
      const ab = new ArrayBuffer(b.byteLength);
      new Uint8Array(ab).set(b);
      return new make(ab);
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o.v as Record<string, unknown>)) out[k] = decodeWire(x);
      return out;
    }
    default:
      throw new Error(`wire-value: unknown tag ${String(o[TAG])}`);
  }
}
