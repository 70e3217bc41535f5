import { describe, expect, test } from 'vitest';
import { kernelIp, ksym, ksymName } from '../../src/events/ksym.js';

/** The slot the module's hash (FNV-1a of the name, mod 0x4000 slots) gives a name. */
function slotOf(n: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n.length; i++) h = Math.imul(h ^ n.charCodeAt(i), 0x01000193) >>> 0;
  return h % 0x4000;
}

describe('the fake kernel text', () => {
  test('an address depends on the function name only, not on the order of registration', () => {
    const b = ksym('zz_test_fn_b');
    const a = ksym('zz_test_fn_a');
    expect(ksym('zz_test_fn_b')).toBe(b);
    expect(a).toBe(0x81000000 + slotOf('zz_test_fn_a') * 0x400);
    expect(b).toBe(0x81000000 + slotOf('zz_test_fn_b') * 0x400);
  });

  test('names an address as function+offset, and nothing outside registered functions', () => {
    const a = ksym('pte_map_lock');
    expect(ksymName(a + 0x4c)).toBe('pte_map_lock+0x4c');
    expect(ksymName(a)).toBe('pte_map_lock+0x0');
    expect(ksymName(0x10)).toBeUndefined();
    expect(kernelIp(a + 0x4c)).toMatch(/^ffffffff81[0-9a-f]{6}$/);
  });

  test('two names that hash to one slot are refused', () => {
    ksym('collide_base');
    const want = slotOf('collide_base');
    let other = '';
    for (let i = 0; other === ''; i++) if (slotOf(`c${i}`) === want) other = `c${i}`;
    expect(() => ksym(other)).toThrow(/hash to one text slot/);
  });
});
