/**
 * Arrays for the model's lists of objects (a lock's waiters, per-CPU sections made on first use),
 * made in the shape they keep for the whole run, so that code V8 optimised on one run's lists
 * still fits the next run's. An empty literal `[]` starts in V8's elements kind for small integers
 * and moves to the kind for objects at its first push; code optimised on the moved lists of one
 * run then meets the next run's new ones as a "wrong map" and is thrown away (a second
 * page_fault1 run on 16 CPUs in one process: 6 such deoptimisations, in down_read()'s and
 * up_read()'s fast paths, the rwsem's release and the LRU's drain, each recompiled). A host
 * detail only: the lists hold and order the same objects either way.
 */

/** An empty list for objects, already in the elements kind for objects. */
export function objectList<T>(): T[] {
  const a = [undefined as T];
  a.length = 0;
  return a;
}

/** `n` slots for objects, each undefined until set (`slots[cpu] ??= ...`): never a holey array. */
export function objectSlots<T>(n: number): (T | undefined)[] {
  return Array.from({ length: n }, () => undefined);
}
