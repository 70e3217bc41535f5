import { describe, expect, it } from 'vitest';
import { EVENTS } from '../../src/events/catalog.js';
import { compareEventNames } from '../../src/format/list.js';
import { Rng } from '../../src/engine/rng.js';

const icu = new Intl.Collator('en-US');
const sign = (x: number): number => Math.sign(x);

describe('compareEventNames', () => {
  it('orders every pair of catalog names as ICU collation does', () => {
    const names = EVENTS.map((e) => e.name);
    for (const a of names) for (const b of names) expect([a, b, sign(compareEventNames(a, b))]).toEqual([a, b, sign(icu.compare(a, b))]);
  });

  it('orders random names of [A-Za-z0-9_:-] as ICU collation does: punctuation, digits, letters, prefixes, case', () => {
    const alphabet = 'aAbB_-:09zZ';
    const rng = new Rng(7);
    const word = (): string => Array.from({ length: 1 + rng.int(5) }, () => alphabet[rng.int(alphabet.length)]).join('');
    for (let i = 0; i < 5000; i++) {
      const a = word();
      const b = rng.float() < 0.3 ? a.toUpperCase() : word();
      expect([a, b, sign(compareEventNames(a, b))]).toEqual([a, b, sign(icu.compare(a, b))]);
    }
  });

  it('leaves names with other characters to localeCompare', () => {
    expect(sign(compareEventNames('é', 'f'))).toBe(sign('é'.localeCompare('f')));
    expect(sign(compareEventNames('a.b', 'a_b'))).toBe(sign('a.b'.localeCompare('a_b')));
  });
});
