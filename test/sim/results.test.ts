import { describe, expect, it } from 'vitest';
import { SpinLock, WaitQueue } from '../../src/engine/locks.js';
import { RwSemaphore } from '../../src/engine/rwsem.js';
import { errnoName, SIGNAL_NAMES, stuckError } from '../../src/sim/results.js';
import { EINVAL, ENOMEM, SIGBUS, SIGKILL, SIGSEGV } from '../../src/mm/types.js';
import { setup } from '../engine/helpers.js';

describe('stuckError (the hang diagnosis)', () => {
  it('puts the task waiting for an event first and names the holder of the lock the others wait for', () => {
    const { eng, spawn } = setup({ cpus: 3 });
    const sem = new RwSemaphore(eng, 'mmap_lock(1000)');
    const never = new SpinLock(eng, 'never');
    const nobody = new WaitQueue(eng, 'an event nobody sends');
    never.holder = spawn('ghost', function* () {}); // a holder that exits without unlocking
    const h = spawn('holder', function* (t) {
      yield* sem.downWrite(t);
      t.cost(100);
      yield* never.lock(t); // spins forever, holding the mmap lock
    });
    spawn('reader', function* (t) {
      t.cost(200);
      yield* sem.downRead(t);
    });
    const b = spawn('sleeper', function* (t) {
      t.cost(300);
      yield* nobody.waitEvent(t, () => false);
    });
    eng.run();
    const msg = stuckError('w', eng.stuckTasks()).message;
    expect(msg).toMatch(/^workload 'w' cannot finish: task sleeper\/103 will never run again \(waiting on an event nobody sends\)\n/);
    expect(msg).toContain(`  holder/${h.tid} (spinning) waiting on never, held by ghost/100`);
    expect(msg).toContain(`  reader/102 (blocked) waiting on mmap_lock(1000) (read), held by holder/${h.tid}`);
    expect(msg.split('\n')[1]).toBe(`  sleeper/${b.tid} (blocked) waiting on an event nobody sends`);
  });
});

describe('signal and errno names', () => {
  it('come from the mm constants', () => {
    expect(SIGNAL_NAMES[SIGSEGV]).toBe('Segmentation fault');
    expect(SIGNAL_NAMES[SIGBUS]).toBe('Bus error');
    expect(SIGNAL_NAMES[SIGKILL]).toBe('Killed');
    expect(errnoName(ENOMEM)).toBe('ENOMEM');
    expect(errnoName(EINVAL)).toBe('EINVAL');
    expect(errnoName(5)).toBe('errno 5');
  });
});
