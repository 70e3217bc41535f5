/**
 * What the engine keeps for the invariant checks (src/engine/debug.ts): the default that turns
 * them on, and the list of locks an exiting task must not hold.
 */
import { describe, expect, test } from 'vitest';
import { getInvariantCheckDefault, LockList, setInvariantCheckDefault } from '../../src/engine/debug.js';
import { Engine } from '../../src/engine/engine.js';
import { RwLock, SpinLock } from '../../src/engine/locks.js';
import { RwSemaphore } from '../../src/engine/rwsem.js';
import { Topology } from '../../src/engine/topology.js';
import { getArch } from '../../src/config/arch.js';

const topo = (): Topology => new Topology({ sockets: 1, coresPerSocket: 2, threadsPerCore: 1 }, getArch('x86').lineLatencies);
const COSTS = { contextSwitchNs: 0, wakeupNs: 0, timesliceNs: 1e6, jitter: 0 };

describe('engine support of the invariant checks', () => {
  test('the test suite runs with the invariant checks on by default', () => {
    expect(getInvariantCheckDefault()).toBe(true);
    setInvariantCheckDefault(false);
    expect(getInvariantCheckDefault()).toBe(false);
    setInvariantCheckDefault(true);
  });

  test('an engine that tracks locks lists every lock primitive made on it, in order; one that does not, none', () => {
    const eng = new Engine(topo(), COSTS, 1, { trackLocks: true });
    const a = new SpinLock(eng, 'a');
    const b = new RwLock(eng, 'b');
    const c = new RwSemaphore(eng, 'c');
    expect(eng.locks!.alive()).toEqual([a, b, c]);
    const plain = new Engine(topo(), COSTS, 1);
    new SpinLock(plain, 'x');
    expect(plain.locks).toBeNull();
  });

  test('LockList hands back what it was given', () => {
    const l = new LockList();
    const lock = { name: 'l', exclusiveHolder: () => null };
    l.add(lock);
    expect(l.alive()).toEqual([lock]);
  });
});
