import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { objectList, objectSlots } from '../../src/engine/object-list.js';

const BUILT = fileURLToPath(new URL('../../dist/engine/object-list.js', import.meta.url));

describe('objectList / objectSlots', () => {
  it('an object list starts empty and keeps what is pushed, in order', () => {
    const a = objectList<{ n: number }>();
    expect(a).toEqual([]);
    a.push({ n: 1 }, { n: 2 });
    expect(a.map((x) => x.n)).toEqual([1, 2]);
  });

  it('slots are n undefined entries with no holes, so `??=` fills one in place', () => {
    const s = objectSlots<{ cpu: number }>(4);
    expect(s).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(i in s).toBe(true);
    expect(s.every((x) => x === undefined)).toBe(true);
    (s[2] ??= { cpu: 2 }).cpu++;
    expect(s[2]).toEqual({ cpu: 3 });
  });

  it("V8 makes both in the elements kind for objects, not small integers, and not holey (the build's module)", () => {
    // The point of the helpers is V8's shape of the array, which only V8's own intrinsics show.
    const script = `
      const { objectList, objectSlots } = await import(${JSON.stringify(BUILT)});
      const a = objectList(), s = objectSlots(3), lit = [];
      console.log(JSON.stringify([%HasObjectElements(a), %HasHoleyElements(a), %HasObjectElements(s), %HasHoleyElements(s), %HasSmiElements(lit)]));`;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    // The last: an empty literal starts as small integers (what the helpers avoid).
    expect(JSON.parse(r.stdout)).toEqual([true, false, true, false, true]);
  });
});
