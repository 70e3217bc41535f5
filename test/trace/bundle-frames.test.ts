/**
 * The single binary's frames (src/trace/bundle-frames.ts): a frame of the bundle is given the file
 * of the module its line came from, so that lock contention and check tell the engine's frames from
 * the model's there as they do in dist/. (test/scripts/build-binary.test.ts runs the binary.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { moduleFile, setBundleModules } from '../../src/trace/bundle-frames.js';
import { callerOf, framesOf } from '../../src/trace/lock-contention.js';
import { stepFunction } from '../../src/check/strategies.js';

const ROOT = 'file:///home/u/.cache/spfperf/binary-0.1.0-abc';
const DIR = `${ROOT}/dist/`;
const BUNDLE = `${DIR}spfperf-stat-x1y2.mjs`;
const TABLE = { starts: [1, 40, 100, 250], files: ['node_modules/commander/lib/command.js', 'dist/engine/rwsem.js', 'dist/mm/access.js', 'dist/check/strategies.js'] };

/** A V8 stack in text, every frame in the bundle. */
const stack = (...frames: [string, number][]): string => ['Error', ...frames.map(([fn, line]) => `    at ${fn} (${BUNDLE}:${line}:7)`)].join('\n');

afterEach(() => setBundleModules('file:///nowhere/', () => ({})));

describe('frames of the single binary', () => {
  it('are the files of the modules their lines came from, once the bundle has registered', () => {
    let loads = 0;
    setBundleModules(DIR, () => {
      loads++;
      return { 'spfperf.mjs': { starts: [1], files: ['dist/main.js'] }, 'spfperf-stat-x1y2.mjs': TABLE };
    });
    expect(loads).toBe(0); // read when a frame first needs it, not at start-up
    expect(moduleFile(BUNDLE, 1)).toBe(`${ROOT}/node_modules/commander/lib/command.js`);
    expect(moduleFile(BUNDLE, 39)).toBe(`${ROOT}/node_modules/commander/lib/command.js`);
    expect(moduleFile(BUNDLE, 40)).toBe(`${ROOT}/dist/engine/rwsem.js`);
    expect(moduleFile(BUNDLE, 99)).toBe(`${ROOT}/dist/engine/rwsem.js`);
    expect(moduleFile(BUNDLE, 100)).toBe(`${ROOT}/dist/mm/access.js`);
    expect(moduleFile(BUNDLE, 90000)).toBe(`${ROOT}/dist/check/strategies.js`);
    expect(moduleFile(`${DIR}spfperf.mjs`, 7)).toBe(`${ROOT}/dist/main.js`);
    expect(loads).toBe(1);
    // Another file is its own: outside the chunks' directory, or in it and no chunk.
    expect(moduleFile('node:internal/x', 50)).toBe('node:internal/x');
    expect(moduleFile(`${ROOT}/dist/pool/worker.js`, 50)).toBe(`${ROOT}/dist/pool/worker.js`);
  });

  it('let lock contention and check find the model function past the engine, as in dist/', () => {
    const s = stack(['LockContentionSink.begin', 260], ['RwSemaphore.downRead', 41], ['doUserAddrFault', 120], ['Engine.onSyncPoint', 260]);
    setBundleModules(DIR, () => ({ 'spfperf-stat-x1y2.mjs': { starts: [1, 40, 100, 250], files: ['dist/trace/lock-contention.js', 'dist/engine/rwsem.js', 'dist/mm/access.js', 'dist/engine/engine.js'] } }));
    expect(framesOf(s).map((f) => f.file)).toEqual([`${ROOT}/dist/engine/engine.js`, `${ROOT}/dist/engine/rwsem.js`, `${ROOT}/dist/mm/access.js`, `${ROOT}/dist/engine/engine.js`]);
    expect(callerOf(framesOf(s))).toBe('do_user_addr_fault');
    const sync = stack(['eng.onSyncPoint', 260], ['Engine.access', 270], ['doUserAddrFault', 120]);
    expect(stepFunction(sync)).toBe('do_user_addr_fault');
  });

  it('without a table, every frame of the bundle is the bundle, and the engine cannot be told from the model', () => {
    const sync = stack(['eng.onSyncPoint', 260], ['Engine.access', 270], ['doUserAddrFault', 120]);
    expect(stepFunction(sync)).toBe('on_sync_point');
  });

  it('refuses a table whose starts and files differ in length', () => {
    setBundleModules(DIR, () => ({ 'spfperf-stat-x1y2.mjs': { starts: [1], files: [] } }));
    expect(() => moduleFile(BUNDLE, 5)).toThrow(/of spfperf-stat-x1y2.mjs: 1 starts for 0 files/);
  });
});
